"""Korean in the viewer: drawn with the Hangul font RadiAI ships (no Hangul system font
needed), every part of the window in Korean (study tree, results, status lines, a file's
error), and a language change takes effect at once, without a restart."""

from __future__ import annotations

import re
import shutil

import numpy as np
from PyQt5.QtCore import QCoreApplication
from PyQt5.QtGui import QColor, QFont, QImage, QPainter
from PyQt5.QtWidgets import QApplication

from app import i18n
from radiai_core import i18n as core_i18n

from ..samples import DICOM, KERMANY_NORMAL
from .conftest import FakeAnalyzer

HANGUL = re.compile("[가-힣]")


def drawn(text: str, font: QFont) -> np.ndarray:
    """``text`` drawn in ``font``, black on white (grey values)."""
    image = QImage(80, 40, QImage.Format_RGB32)
    image.fill(QColor(255, 255, 255))
    painter = QPainter(image)
    painter.setFont(font)
    painter.setPen(QColor(0, 0, 0))
    painter.drawText(5, 28, text)
    painter.end()
    bits = image.constBits()
    bits.setsize(image.byteCount())
    return np.frombuffer(bits, np.uint8).reshape(40, 80, 4)[..., 0].copy()


def test_hangul_is_drawn_with_the_shipped_font(qtbot, make_window) -> None:
    """The "한국어" menu entry, in the window's own font: three different glyphs, none of them
    the empty box of a character the fonts lack."""
    w = make_window()
    assert i18n.install_fonts(QApplication.instance()) == "RadiAI Hangul"
    entry = next(a for a in w.language_actions if a.data() == "ko")
    assert entry.text() == "한국어"
    font = QFont(w.menuBar().font())
    font.setPixelSize(20)
    glyphs = [drawn(ch, font) for ch in entry.text()]
    missing = drawn("\U000f0000", font)  # a private-use character no font has
    for i, g in enumerate(glyphs):
        assert (g < 128).sum() > 30, "nothing drawn"
        assert (g != missing).sum() > 40, f"{entry.text()[i]} is drawn as an empty box"
        for other in glyphs[i + 1:]:
            assert (g != other).sum() > 40


def _all_texts(item) -> list[str]:
    out = [item.text(c) for c in range(3)]
    for i in range(item.childCount()):
        out += _all_texts(item.child(i))
    return out


def test_the_language_changes_at_once_and_everything_follows(qtbot, make_window, settings,
                                                             tmp_path) -> None:
    shutil.copy(KERMANY_NORMAL, tmp_path / "child.jpeg")
    shutil.copy(DICOM["nih_cardiomegaly"], tmp_path / "adult.dcm")
    w = make_window(analyzer=FakeAnalyzer())
    try:
        w.open_paths([tmp_path])
        qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=20000)
        w.analyse_all()
        qtbot.waitUntil(lambda: w.batch_worker is None and len(w.summaries) == 2,
                        timeout=20000)
        old_history = w.history_panel
        w.set_language("ko")
        assert settings.value("language") == "ko" and core_i18n.language() == "ko"
        assert [a.text() for a in w.menuBar().actions()][:4] == [
            "파일(&F)", "보기(&V)", "분석(&A)", "도움말(&H)"]
        assert w.findings_dock.windowTitle() == "소견"
        assert w.heat_box.text() == "히트맵" or HANGUL.search(w.heat_box.text())
        assert w.status_text.text() == "언어: 한국어"
        assert w.windowTitle() == "RadiAI — 흉부 방사선 사진 판독 보조"
        # The study tree: placeholders, counts and results.
        rows = [x for i in range(w.browser.topLevelItemCount())
                for x in _all_texts(w.browser.topLevelItem(i)) if x]
        assert "(환자 정보 없음)" in rows and "영상 1장" in rows
        assert "Series (?)" not in rows and "(no patient data)" not in rows
        child = str(tmp_path / "child.jpeg")
        result = w.browser._items[child].text(2)
        assert HANGUL.search(result) and "pneumonia" not in result, result
        assert w.browser.currentItem() is w.browser._items[w.current_path]
        # The findings and the view's banner.
        assert HANGUL.search(w.findings.title.text())
        assert HANGUL.search(w.viewer.corner_lines()[0])
        # The History panel, made again in Korean.
        assert w.history_panel is not old_history
        assert HANGUL.search(w.history_panel.tree.headerItem().text(0))
        # A file's error, named and in Korean; the status lines of the work too.
        adult = str(tmp_path / "adult.dcm")
        w.browser.select_path(adult)
        qtbot.waitUntil(lambda: w.current_analysis is not None
                        and w.current_analysis.path == adult, timeout=20000)
        (tmp_path / "child.jpeg").unlink()
        w.browser.select_path(child)
        qtbot.waitUntil(lambda: w.browser._items[child].text(2) == "읽을 수 없음",
                        timeout=20000)
        assert "child.jpeg: 존재하지 않습니다" in w.findings.title.text()
        w.open_paths([tmp_path])
        assert HANGUL.search(w.status_text.text())  # "항목 1개를 검색하는 중…"
        qtbot.waitUntil(lambda: w.scan_worker is None, timeout=20000)
        assert w.status_text.text().startswith("환자 1명의 영상 1장") or \
            HANGUL.search(w.status_text.text())
        # And back, at once.
        w.set_language("en")
        assert [a.text() for a in w.menuBar().actions()][:4] == [
            "&File", "&View", "&Analysis", "&Help"]
        assert w.findings_dock.windowTitle() == "Findings"
        assert w.status_text.text() == "Language: English"
    finally:
        settings.setValue("language", "en")
        i18n.install(QCoreApplication.instance(), settings)
    assert core_i18n.language() == "en"


def test_korean_translations_are_finished_and_used() -> None:
    """At least 150 finished Korean translations (in Hangul), each of a string the viewer
    shows."""
    from .test_i18n import translatable, ts_messages

    messages = ts_messages()
    used = {s for s in translatable() if HANGUL.search(messages.get(s, ""))}
    assert len(used) >= 150, len(used)


def _box_labels(viewer) -> list[str]:
    from PyQt5.QtWidgets import QGraphicsSimpleTextItem

    return [it.text() for it in viewer.scene().items() if isinstance(it, QGraphicsSimpleTextItem)]


def test_the_box_labels_of_the_film_shown_follow_the_language(qtbot, make_window, settings,
                                                              tmp_path) -> None:
    """The walkthrough: after switching to Korean the box label on the film shown still read
    "45% of map" until the next film."""
    shutil.copy(KERMANY_NORMAL, tmp_path / "child.jpeg")
    w = make_window(analyzer=FakeAnalyzer())
    try:
        w.open_paths([tmp_path])
        qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=20000)
        w.viewer.set_overlay(boxes=True)
        assert w.current_analysis.boxes
        english = _box_labels(w.viewer)
        assert english and all("of map" in x for x in english), english
        w.set_language("ko")
        korean = _box_labels(w.viewer)
        assert len(korean) == len(english)
        assert all(x.startswith("히트맵의 ") and "map" not in x for x in korean), korean
        w.set_language("en")
        assert _box_labels(w.viewer) == english
    finally:
        settings.setValue("language", "en")
        i18n.install(QCoreApplication.instance(), settings)


def test_a_share_and_its_percent_sign_stay_on_one_line(qtbot, settings) -> None:
    """The walkthrough: "폐 밖 58 %" wrapped in the findings panel with the "%" alone on the next
    line. The evidence line keeps each number with its "%" at every width of the panel."""
    from PyQt5.QtGui import QTextDocument

    from app.findings import FindingsPanel
    from radiai_core.analysis.pipeline import default_analyzer

    from ..samples import KERMANY_BACTERIAL

    f = default_analyzer().analyze(KERMANY_BACTERIAL).primary
    assert f.zones
    try:
        for lang in ("ko", "en"):
            settings.setValue("language", lang)
            i18n.install(QCoreApplication.instance(), settings)
            panel = FindingsPanel()
            qtbot.addWidget(panel)
            html = FindingsPanel.evidence_text(f)
            assert "\u00a0%" in html, html
            doc = QTextDocument()
            doc.setDefaultFont(panel.font())
            doc.setHtml(html)
            for width in range(120, 420, 4):
                doc.setTextWidth(width)
                doc.size()  # laid out at this width
                lines = []
                block = doc.begin()
                while block.isValid():
                    layout = block.layout()
                    lines += [block.text()[layout.lineAt(i).textStart():][
                        :layout.lineAt(i).textLength()] for i in range(layout.lineCount())]
                    block = block.next()
                assert not [x for x in lines if x.strip().startswith("%")], (lang, width, lines)
    finally:
        settings.setValue("language", "en")
        i18n.install(QCoreApplication.instance(), settings)
