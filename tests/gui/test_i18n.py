"""Korean and English: every string the viewer translates has its Korean in the .ts source, the
compiled .qm agrees with it, the window speaks Korean when asked, and so does the PDF."""

from __future__ import annotations

import ast
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdf
import pytest
from PyQt5.QtCore import QCoreApplication, QSettings, QTranslator

from app import i18n
from radiai_core import i18n as core_i18n
from radiai_core.resources import models_dir, project_root

from ..samples import KERMANY_BACTERIAL

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "resources" / "i18n" / "radiai_ko.ts"


def translatable() -> set[str]:
    """The literals the viewer passes to t(), N_(), as an action's or a menu's text, or to
    the window's ``_tr`` (a text set again when the language changes)."""
    out = set()
    for path in (ROOT / "app").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
            index = {"t": 0, "N_": 0, "_action": 1, "_menu": 1, "_tr": 1}.get(name)
            if index is not None and len(node.args) > index:
                arg = node.args[index]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    out.add(arg.value)
    return out


def ts_messages() -> dict[str, str]:
    root = ET.parse(TS).getroot()
    messages = {}
    for m in root.iter("message"):
        tr = m.find("translation")
        assert tr.get("type") != "unfinished", m.findtext("source")
        messages[m.findtext("source")] = tr.text or ""
    return messages


def test_every_viewer_string_has_its_korean() -> None:
    messages = ts_messages()
    strings = translatable()
    assert len(strings) > 80
    missing = sorted(strings - set(messages))
    assert missing == [], missing
    assert all(messages[s].strip() for s in strings)
    # Placeholders survive translation ({name}, {n}…): a missing one would raise in format().
    for source, korean in messages.items():
        assert sorted(part.split("}")[0] for part in source.split("{")[1:]) == \
            sorted(part.split("}")[0] for part in korean.split("{")[1:]), source
    # The shipped labels' display names and calls are translated too.
    manifest = json.loads((models_dir() / "classifier" / "manifest.json").read_text())
    for shown in [*manifest["display_names"].values(), manifest["positive_call"],
                  "no " + manifest["positive_call"]]:
        assert messages.get(shown), shown


def test_the_compiled_translations_agree_with_their_source(qapp) -> None:
    translator = QTranslator()
    assert translator.load(str(TS.with_suffix(".qm")))
    qapp.installTranslator(translator)
    try:
        for source, korean in ts_messages().items():
            assert QCoreApplication.translate(i18n.CONTEXT, source) == korean, (
                f"{source!r}: the .qm is older than the .ts; run bash packaging/i18n.sh")
    finally:
        qapp.removeTranslator(translator)


def test_the_window_speaks_korean_when_asked(qtbot, make_window, tmp_path) -> None:
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    settings.setValue("language", "ko")
    app = QCoreApplication.instance()
    try:
        assert i18n.install(app, settings) == "ko"
        assert core_i18n.language() == "ko"
        w = make_window()
        titles = [a.text() for a in w.menuBar().actions()]
        assert titles == ["파일(&F)", "보기(&V)", "분석(&A)", "도움말(&H)"]
        assert w.findings_dock.windowTitle() == "소견"
        w.open_paths([KERMANY_BACTERIAL])
        qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=10000)
        assert w.findings.title.text().endswith("— 소견")
        # The Korean PDF: its words in Korean, in an embedded Hangul font.
        out = tmp_path / "snap.pdf"
        w.exports.export_pdf(str(out))
        qtbot.waitUntil(out.exists, timeout=10000)
        text = pypdf.PdfReader(out).pages[0].extract_text()
        assert "흉부 방사선 사진 스냅샷" in text and "진단이 아니라 판독을 돕는 정보입니다." in text
        assert b"RadiAIHangul" in out.read_bytes()
    finally:
        settings.setValue("language", "en")
        i18n.install(app, settings)
    assert core_i18n.language() == "en"
    assert i18n.t("&File") == "&File"


def test_the_language_follows_the_system_unless_set(monkeypatch, tmp_path) -> None:
    from PyQt5.QtCore import QLocale

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("ko_KR")))
    assert i18n.chosen_language(settings) == "ko"
    settings.setValue("language", "en")
    assert i18n.chosen_language(settings) == "en"
    monkeypatch.setattr(QLocale, "system", staticmethod(lambda: QLocale("de_DE")))
    settings.setValue("language", "")
    assert i18n.chosen_language(settings) == "en"


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_hangul_font_and_translations_ship(lang) -> None:
    assert (project_root() / "resources" / "fonts" / "RadiAIHangul-Regular.ttf").is_file()
    assert core_i18n.tr("Findings", lang) == {"en": "Findings", "ko": "소견"}[lang]


def test_the_cores_sentences_read_in_korean() -> None:
    """Every reason the gate can give, the age lines and the patient line have a Korean form
    (the data stay English; the reader sees Korean)."""
    import re

    from radiai_core.analysis.gate import BODY_REASONS, LATERAL_REASON, RULES, Age

    reasons = [r for _, _, r in RULES] + list(BODY_REASONS.values()) + [
        LATERAL_REASON, f"{LATERAL_REASON} (View Position LL in the DICOM header)",
        "is of a patient aged 62 years (DICOM header); RadiAI's classifier was made for "
        "children (under 18 years; trained on children aged 1–5) and gives no findings for adults",
        Age(12.0, None, None, 18.0, (1.0, 5.0)).describe(),
        Age(None, 0.03, "child", 18.0, (1.0, 5.0)).describe(),
        "No patient data in the file (x.jpeg) · age unknown",
    ]
    for text in reasons:
        korean = core_i18n.localized(text, "ko")
        assert re.search("[가-힣]", korean), text
        assert not re.search(r"\b(the|is|looks|does)\b", korean), korean
    assert core_i18n.localized(reasons[0], "en") == reasons[0]
