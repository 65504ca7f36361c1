"""Help → About RadiAI: the app's version, every model loaded (name, version, short sha256, from
the core's model infos) and the intended use, in English and in Korean."""

from __future__ import annotations

import json
from importlib.metadata import version

import pytest
from PyQt5.QtCore import QCoreApplication

from app import i18n
from radiai_core.analysis.pipeline import default_analyzer
from radiai_core.resources import models_dir

pytestmark = pytest.mark.slow


def about(w):
    action = next(a for a in w.actions() if a.text() in ("About RadiAI", "RadiAI 정보"))
    action.trigger()
    dialog = w.about_dialog
    assert dialog is not None and dialog.isVisible()
    return dialog, dialog.text.text()


def test_about_names_the_version_the_models_and_the_intended_use(qtbot, make_window,
                                                                 settings) -> None:
    w = make_window(make_analyzer=default_analyzer)
    dialog, text = about(w)
    assert "Not loaded yet." in text  # before the models are up, it says so
    w.preload_models()
    qtbot.waitUntil(lambda: w.models_ready, timeout=120000)
    dialog, text = about(w)
    assert dialog.windowTitle() == "About RadiAI"
    assert f"<h3>RadiAI {version('radiai')}</h3>" in text
    infos = default_analyzer().models.infos
    assert len(infos) >= 3  # the classifier, the lung mask, the scope gate
    manifest = json.loads((models_dir() / "classifier" / "manifest.json").read_text())
    assert (infos[0].name, infos[0].version) == (manifest["name"], manifest["version"])
    for m in infos:
        assert (f"<tr><td>{m.name}</td><td>&nbsp;{m.version}</td>"
                f"<td>&nbsp;<tt>{m.sha256[:12]}</tt></td></tr>") in text
    assert "Decision support, not a diagnosis." in text
    assert "The reading radiologist decides." in text and "Not loaded yet." not in text
    # What the reader sees: the dialog is drawn, with its text (not an empty box).
    qtbot.waitExposed(dialog)
    shot = dialog.grab().toImage()
    assert shot.width() >= 420 and shot.height() > 150
    try:
        w.set_language("ko")
        dialog, text = about(w)
        assert dialog.windowTitle() == "RadiAI 정보"
        assert "사용 목적" in text and "진단이 아니라 판독을 돕는 정보입니다." in text
        assert "최종 판단은 판독의가 합니다." in text and "불러온 모델" in text
        assert all(m.sha256[:12] in text for m in infos)
        assert "Intended use" not in text and "Models loaded" not in text
    finally:
        settings.setValue("language", "en")
        i18n.install(QCoreApplication.instance(), settings)
        dialog.close()
