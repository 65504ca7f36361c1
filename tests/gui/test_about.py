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


def test_about_says_what_the_gate_does_and_closes_with_esc(qtbot, make_window,
                                                           settings) -> None:
    """The walkthrough: "children aged 1–5; other images are refused" is not what the gate
    does (it refuses non-chest images, lateral views and adults; other children are read with
    a caution), and Esc left the dialog open (the keys went to the main window)."""
    from PyQt5.QtCore import Qt
    from PyQt5.QtWidgets import QApplication

    w = make_window()
    qtbot.waitExposed(w)
    for lang, words in (("en", ["lateral views", "18 years or more by the DICOM header",
                                "estimated from the image", "read with a caution"]),
                        ("ko", ["측면 영상", "18세 이상", "영상으로 추정",
                                "주의 문구와 함께 판독"])):
        settings.setValue("language", lang)
        i18n.install(QCoreApplication.instance(), settings)
        try:
            dialog, text = about(w)
            assert all(word in text for word in words), (lang, text)
            assert "aged 1–5;" not in text and "1–5세 소아의" not in text
            qtbot.waitExposed(dialog)
            qtbot.waitUntil(lambda d=dialog: QApplication.activeWindow() is d, timeout=5000)
            # Esc where the keyboard is, as a reader presses it.
            target = QApplication.focusWidget()
            assert target is not None and target.window() is dialog
            qtbot.keyClick(target, Qt.Key_Escape)
            qtbot.waitUntil(lambda: w.about_dialog is None, timeout=5000)
        finally:
            settings.setValue("language", "en")
            i18n.install(QCoreApplication.instance(), settings)
