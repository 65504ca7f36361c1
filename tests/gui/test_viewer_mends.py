"""The reading room's small mends, driven as a reader would: the viewer opens on an image
it analyses with the others in view; the study tree's details and the findings' percentages
are readable; the window cannot go to zero width; Esc, Ctrl+Q and a deleted analysis say the
truth; an unreadable file is named; damaged header bytes are not shown as a tag's value."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pydicom
from PyQt5.QtCore import QPoint, QPointF, QRect, Qt
from PyQt5.QtGui import QMouseEvent
from PyQt5.QtWidgets import QApplication, QMessageBox

from app.main_window import MainWindow, readable_tags
from radiai_core.reading.display import Window
from radiai_core.reading.image import XrayImage
from radiai_core.reading.io import load_image

from ..samples import DICOM, DICOM_DIR, KERMANY_BACTERIAL, KERMANY_DIR, KERMANY_NORMAL
from .conftest import FakeAnalyzer


class AdultRefusingAnalyzer(FakeAnalyzer):
    """The fake, refusing every DICOM as an adult's (as the shipped gate does the samples'),
    and remembering which files it was asked about."""

    def __init__(self, delay: float = 0.0) -> None:
        super().__init__(delay)
        self.seen: list[str] = []

    def analyze(self, source):
        a = super().analyze(source)
        self.seen.append(a.path)
        if a.image.meta.format == "DICOM":
            return replace(a, status="rejected", findings=[], refused_by="child",
                           message="looks like a radiograph of an adult")
        return a


def test_the_viewer_opens_on_an_image_it_analyses_with_it_in_view(qtbot, make_window) -> None:
    """The README's command: adults' DICOMs and children's JPEGs; the view opens on a child's
    film, not on a refused adult, and its row is in view."""
    fake = AdultRefusingAnalyzer()
    w = make_window(analyzer=fake)
    w.open_paths([DICOM_DIR, KERMANY_DIR / "images"])
    qtbot.waitUntil(lambda: w.current_analysis is not None
                    and w.current_analysis.status == "ok", timeout=20000)
    qtbot.wait(200)
    assert w.current_path.endswith(".jpeg")
    assert w.opening is None
    # Files whose header gives an adult's age were not even tried; the one without an age
    # (an adult, by the image) was, and was refused.
    tried = [p.rsplit("/", 1)[-1] for p in fake.seen]
    assert tried == ["cr_chest_pa_mono1_nometa__fodicom_CR-MONO1-10-chest.dcm",
                     w.current_path.rsplit("/", 1)[-1]]
    row = w.browser.visualItemRect(w.browser.currentItem())
    assert 0 <= row.top() and row.bottom() <= w.browser.viewport().height(), row
    # The status line says what the rows above show: the film tried was refused and its row
    # says why; the adults by their header were not analysed and their rows are blank (the
    # walkthrough's "the images above it are of adults or refused (see their rows)" sent the
    # reader to rows that said nothing).
    paths = w.browser.image_paths()
    above = paths[:paths.index(w.current_path)]
    results = {p.rsplit("/", 1)[-1]: w.browser._items[p].text(2) for p in above}
    refused = [n for n, r in results.items() if r]
    blank = [n for n, r in results.items() if not r]
    assert refused == tried[:1] and results[tried[0]].startswith("refused")
    assert len(blank) == len(above) - 1 >= 1
    assert w.status_text.text() == (
        f"Opened on the first image RadiAI analyses. Above it: 1 refused (their rows say why), "
        f"{len(blank)} not analysed as their header gives an adult's age (each says so when "
        "opened).")


def test_a_readers_choice_stops_the_search_for_an_analysable_image(qtbot, make_window) -> None:
    fake = AdultRefusingAnalyzer(delay=0.3)
    w = make_window(analyzer=fake)
    w.open_paths([DICOM_DIR, KERMANY_DIR / "images"])
    qtbot.waitUntil(lambda: w.current_path is not None, timeout=20000)
    chosen = str(DICOM["jpeg_baseline"])
    w.browser.select_path(chosen)  # as a click on the adult's row
    qtbot.waitUntil(lambda: w.current_analysis is not None
                    and w.current_analysis.path == chosen, timeout=20000)
    qtbot.wait(500)
    assert w.current_path == chosen and w.opening is None


def test_the_study_trees_details_are_not_cut(qtbot, make_window) -> None:
    w = make_window()
    w.open_paths([DICOM_DIR, KERMANY_DIR / "images"])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 25, timeout=20000)
    tree = w.browser
    metrics = tree.fontMetrics()
    items, stack = [], [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        it = stack.pop()
        items.append(it)
        stack += [it.child(i) for i in range(it.childCount())]
    widest = max(metrics.horizontalAdvance(it.text(1)) for it in items)
    assert widest > 60  # "(no patient ID)", "1024×1024 DICOM"…
    # Every film's details, study and series row whole; a patient's ID longer than any film's
    # details ("16d7f894-55d7-4d95-…") is cut in the middle, whole in its tooltip, rather
    # than leave the film names a few letters (the walkthrough at 1680 × 1050).
    cut = [it for it in items if metrics.horizontalAdvance(it.text(1))
           > tree.header().sectionSize(1)]
    assert all(it.parent() is None and it.toolTip(1) == it.text(1) for it in cut), \
        [it.text(1) for it in cut]
    assert len(cut) <= 1  # the SIIM film's UID-like patient ID
    # The result comes before the details: it stays in view in a narrow dock.
    assert tree.header().visualIndex(2) < tree.header().visualIndex(1)
    # A long answer widens its column instead of being cut.
    path = w.browser.image_paths()[0]
    tree.set_result(path, "분석 대상 아님: 흉부 방사선 사진 아님")
    assert tree.header().sectionSize(2) >= metrics.horizontalAdvance(tree._items[path].text(2))


def test_percentages_sit_beside_their_bars(qtbot, make_window) -> None:
    w = make_window()
    w.open_paths([KERMANY_BACTERIAL])
    qtbot.waitUntil(lambda: w.findings.bars != {}, timeout=20000)
    qtbot.wait(100)
    f = w.current_analysis.findings[0]
    for ref, bar in w.findings.bars.items():
        percent = w.findings.percents[ref]
        assert percent.text() == f"{f.probabilities[ref]:.1%}"
        assert not bar.isTextVisible()  # never under the fill
        if percent.isVisible():
            assert not bar.geometry().intersects(percent.geometry())
            # Whole inside the panel's visible width (not cut at the dock's edge).
            right = percent.mapTo(w.findings, QPoint(percent.width(), 0)).x()
            assert right <= w.findings.parentWidget().width()
            assert percent.width() >= percent.fontMetrics().horizontalAdvance(percent.text())


def test_the_window_width_stops_above_zero(qtbot, make_window) -> None:
    w = make_window()
    w.open_paths([DICOM["nih_cardiomegaly"]])
    qtbot.waitUntil(lambda: w.viewer.image is not None, timeout=20000)
    v = w.viewer
    floor = v.min_window_width()
    assert floor > 0.5  # 8-bit values 0…255: one screen grey step
    vp = v.viewport()
    start = QPointF(vp.rect().center())
    events = [(QMouseEvent.MouseButtonPress, start, Qt.RightButton)]
    events += [(QMouseEvent.MouseMove, start + QPointF(dx, 0), Qt.RightButton)
               for dx in range(-200, -3000, -200)]  # far to the left: narrower and narrower
    events += [(QMouseEvent.MouseButtonRelease, start + QPointF(-3000, 0), Qt.NoButton)]
    for etype, pos, buttons in events:
        QApplication.sendEvent(vp, QMouseEvent(etype, pos, Qt.RightButton, buttons,
                                               Qt.NoModifier))
    assert v.window.width == floor
    assert not w.window_text.text().startswith("W 0 ")
    v.set_window(Window(v.window.center, 0.0))
    assert v.window.width == floor
    shown = v._pix.pixmap().toImage()
    grey = np.array([shown.pixelColor(x, y).value() for x in range(0, shown.width(), 16)
                     for y in range(0, shown.height(), 16)])
    assert 0.05 < (grey > 0).mean() < 0.95  # not a black image


def test_esc_with_nothing_running_says_so(qtbot, make_window, tmp_path) -> None:
    w = make_window(analyzer=FakeAnalyzer(delay=0.2))
    w.cancel_work()
    assert w.status_text.text() == "Nothing to cancel."
    for i in range(6):
        shutil.copy(KERMANY_NORMAL, tmp_path / f"{i}.jpeg")
    w.open_paths([tmp_path])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 6, timeout=20000)
    w.analyse_all()
    w.cancel_work()
    assert w.status_text.text() == "Cancelling…"
    qtbot.waitUntil(lambda: w.batch_worker is None, timeout=20000)


def test_quitting_during_analyse_all_asks_first(qtbot, make_window, tmp_path,
                                                monkeypatch) -> None:
    asked: list[str] = []
    answer = [QMessageBox.No]
    monkeypatch.setattr(QMessageBox, "question",
                        lambda parent, title, text, *a, **k: asked.append(text) or answer[0])
    for i in range(8):
        shutil.copy(KERMANY_NORMAL, tmp_path / f"{i}.jpeg")
    w = make_window(analyzer=FakeAnalyzer(delay=0.3))
    w.open_paths([tmp_path])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 8, timeout=20000)
    w.analyse_all()
    quit_action = next(a for a in w.actions() if a.shortcut().toString() == "Ctrl+Q")
    quit_action.trigger()
    assert len(asked) == 1 and "Analyse all is running" in asked[0]
    assert w.isVisible() and w.batch_worker is not None  # still there, still working
    answer[0] = QMessageBox.Yes
    quit_action.trigger()
    assert not w.isVisible()
    # Nothing to ask when nothing runs.
    w2 = make_window()
    w2.close()
    assert len(asked) == 2 and not w2.isVisible()


def test_a_deleted_analysis_on_screen_no_longer_says_reopened(qtbot, make_window,
                                                              monkeypatch) -> None:
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    w = make_window()
    ids: list[int] = []
    w.open_paths([KERMANY_NORMAL])
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=20000)
    w.show_history()
    qtbot.waitUntil(lambda: w.history_panel.analysis_items() != [], timeout=20000)
    ids = [it.data(0, Qt.UserRole) for it in w.history_panel.analysis_items()]
    w.reopen_analysis(ids[0])
    qtbot.waitUntil(lambda: w.viewer.note == "Stored analysis, reopened from the history",
                    timeout=20000)
    assert w.history_panel.select_analysis(ids[0])
    w.history_panel.delete_current_analysis()
    qtbot.waitUntil(lambda: w.viewer.note != "Stored analysis, reopened from the history",
                    timeout=20000)
    assert w.viewer.note == "Deleted from the history (shown as it was stored)"
    assert "Deleted from the history" in " ".join(w.viewer.corner_lines())


def test_an_unreadable_file_is_named_and_its_row_says_so(qtbot, make_window, tmp_path) -> None:
    shutil.copy(KERMANY_NORMAL, tmp_path / "a_fine.jpeg")
    bad = tmp_path / "b_changed.jpeg"
    shutil.copy(KERMANY_BACTERIAL, bad)
    w = make_window()
    w.open_paths([tmp_path])
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=20000)
    bad.write_bytes(bad.read_bytes()[:400])  # changed on disk after the scan
    w.browser.select_path(str(bad))
    qtbot.waitUntil(lambda: w.browser._items[str(bad)].text(2) != "", timeout=20000)
    assert w.browser._items[str(bad)].text(2) == "unreadable"
    assert "b_changed.jpeg" in w.browser._items[str(bad)].toolTip(2)
    assert "b_changed.jpeg" in w.findings.title.text()
    assert w.status_text.text().startswith("b_changed.jpeg: ")
    assert w.viewer.image is None and "b_changed.jpeg" in w.viewer.corner_lines()[0]
    assert w.tags.toPlainText() == "(the file cannot be read: no tags)"


def test_damaged_header_bytes_are_not_shown_as_a_tag(qtbot, make_window, tmp_path) -> None:
    ds = pydicom.dcmread(DICOM["nih_cardiomegaly"])
    rng = np.random.default_rng(3)
    ds.StudyDescription = rng.bytes(24)
    ds.add_new(0x00091010, "UN", rng.bytes(40))
    path = tmp_path / "random_bytes.dcm"
    ds.save_as(path)
    w = make_window()
    w.open_paths([path])
    qtbot.waitUntil(lambda: w.tags.toPlainText().startswith("("), timeout=20000)
    text = w.tags.toPlainText()
    assert "\\x" not in text and "Study Description" in text
    line = next(x for x in text.splitlines() if "Study Description" in x)
    assert line.endswith(": (unreadable bytes, not text: damaged header?)")
    assert "(0010,0020) Patient ID" in text and "1" in text  # the readable tags stay
    assert readable_tags("(0002,0001) File Meta Information Version       OB: b'\\x00\\x01'") \
        == "(0002,0001) File Meta Information Version       OB: (binary data, not shown)"


def test_unused_names_are_kept_importable() -> None:
    """(The module's public helpers used above exist.)"""
    assert MainWindow and XrayImage and load_image and QRect


def test_a_folder_of_refused_films_opens_on_its_first_and_says_why(qtbot, make_window) -> None:
    """Real models, a folder of adults' films without an age in their header (all refused by
    the image's age estimate): after trying the first eleven, the view goes back to the
    first film, not the last one tried, and the status bar says why."""
    from radiai_core.analysis.pipeline import default_analyzer

    from ..samples import SEVEN_DIR

    w = make_window(make_analyzer=default_analyzer)
    w.open_paths([SEVEN_DIR / "images"])
    qtbot.waitUntil(lambda: "None of the first" in w.status_text.text(), timeout=120000)
    first = w.browser.image_paths()[0]
    qtbot.waitUntil(lambda: w.current_analysis is not None
                    and w.current_analysis.path == first, timeout=60000)
    assert w.current_path == first and w.opening is None
    assert w.current_analysis.status != "ok"
    assert w.status_text.text().startswith("None of the first 11 images could be analysed"), \
        w.status_text.text()
