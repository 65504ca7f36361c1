"""Kermany's films tell apart in the lists at the default window (1680 × 1050): the
walkthrough saw every normal as "NO…-0001.jpeg" and every pneumonia as "per…1681.jpeg" in
the study list, and "NORMAL…" in the history. A name now keeps in view the part where it
differs from the names beside it."""

from __future__ import annotations

from PyQt5.QtCore import QRect
from PyQt5.QtGui import QFontMetrics

from app.browser import StudyBrowser, distinguishing_starts, elide_keeping_difference

from ..samples import KERMANY_NORMAL

NAMES = ["NORMAL2-IM-1437-0001.jpeg", "NORMAL2-IM-1442-0001.jpeg", "NORMAL2-IM-1436-0001.jpeg",
         "person1681_bacteria_4455.jpeg", "person1680_virus_2897.jpeg",
         "person1681_bacteria_4456.jpeg"]


def test_where_sibling_names_differ() -> None:
    starts = distinguishing_starts(NAMES)
    assert starts["NORMAL2-IM-1437-0001.jpeg"] == len("NORMAL2-IM-")  # the "1437"
    assert starts["person1680_virus_2897.jpeg"] == len("person")  # the "1680"
    assert starts["person1681_bacteria_4455.jpeg"] == len("person1681_bacteria_")
    assert distinguishing_starts(["alone.png"]) == {"alone.png": 0}


def test_a_cut_name_keeps_its_difference(qtbot) -> None:
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    metrics = QFontMetrics(browser.font())
    starts = distinguishing_starts(NAMES)
    for chars in (11, 15, 20):
        width = chars * metrics.averageCharWidth()
        shown = {n: elide_keeping_difference(n, metrics, width, starts[n]) for n in NAMES}
        assert len(set(shown.values())) == len(NAMES), shown  # no two alike
        for n, s in shown.items():
            assert metrics.horizontalAdvance(s) <= width, (n, s)
        assert "1437" in shown["NORMAL2-IM-1437-0001.jpeg"]
        assert "1680" in shown["person1680_virus_2897.jpeg"]


def cell_picture(tree, item):
    rect = tree.visualItemRect(item)
    rect.setWidth(tree.columnWidth(0) - rect.x())  # the name column only
    return tree.viewport().grab(rect).toImage()


def test_the_default_window_tells_kermany_films_apart(qtbot, make_window, tmp_path) -> None:
    for i, name in enumerate(NAMES):
        # One picture (only the names differ on screen), a byte apart: six films to the
        # history, not one film under six names.
        data = bytearray(KERMANY_NORMAL.read_bytes())
        data[-3] ^= i + 1
        (tmp_path / name).write_bytes(bytes(data))
    w = make_window(resize=False)
    w._first_layout(QRect(0, 0, 1680, 1050))  # the walkthrough's screen
    qtbot.waitExposed(w)
    w.open_paths([tmp_path])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == len(NAMES), timeout=20000)
    qtbot.waitUntil(lambda: len(w.browser._thumbnails) == len(NAMES), timeout=20000)
    w.analyse_all()  # every film to the history
    qtbot.waitUntil(lambda: w.batch_worker is None and len(w.summaries) == len(NAMES),
                    timeout=60000)
    qtbot.wait(200)
    assert w.studies_dock.width() >= 500
    browser = w.browser
    rows = {p.rsplit("/", 1)[-1]: browser._items[p] for p in browser.image_paths()}
    pictures = {n: cell_picture(browser, rows[n]) for n in NAMES}
    for a in NAMES:
        for b in NAMES:
            if a < b:
                assert pictures[a] != pictures[b], (a, b)

    # The history lists the same films (one patient each: no patient data in a JPEG).
    w.show_history()
    panel = w.history_panel
    qtbot.waitUntil(lambda: not panel.loading and len(panel.analysis_items()) == len(NAMES),
                    timeout=20000)
    qtbot.wait(200)
    items = {it.text(0): it for it in panel.analysis_items()}
    metrics = QFontMetrics(panel.tree.font())
    room = panel.tree.columnWidth(0) - panel.tree.visualItemRect(items[NAMES[0]]).x() - 8
    starts = distinguishing_starts(NAMES)
    shown = {n: elide_keeping_difference(n, metrics, room, starts[n]) for n in NAMES}
    assert len(set(shown.values())) == len(NAMES), shown
    pictures = {n: cell_picture(panel.tree, items[n]) for n in NAMES}
    assert len({bytes(p.constBits().asarray(p.byteCount())) for p in pictures.values()}) \
        == len(NAMES)


def test_a_long_patient_id_does_not_take_the_names_room(qtbot, tmp_path) -> None:
    """The walkthrough's folder: a SIIM film's patient ID ("16d7f894-55d7-4d95-…") sized the
    details column, which left the film names a few letters. The column holds the films'
    details ("1024×1024 PA"); the ID is cut there, whole in its tooltip."""
    import shutil

    from radiai_core.reading.studies import scan

    from ..samples import DICOM

    shutil.copy(DICOM["jpeg_baseline"], tmp_path / "siim.dcm")
    shutil.copy(KERMANY_NORMAL, tmp_path / NAMES[0])
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.resize(480, 500)
    browser.show()
    qtbot.waitExposed(browser)
    browser.populate(scan(tmp_path))
    metrics = browser.fontMetrics()
    films = max(metrics.horizontalAdvance(it.text(1)) for it in browser._items.values())
    siim = browser._items[str(tmp_path / "siim.dcm")]
    patient = siim.parent()
    while patient.parent() is not None:
        patient = patient.parent()
    assert metrics.horizontalAdvance(patient.text(1)) > films + 16  # longer than the films'
    assert patient.toolTip(1) == patient.text(1)  # whole in its tooltip
    assert browser.columnWidth(1) <= films + 16
    assert browser.columnWidth(0) >= browser.viewport().width() - browser.columnWidth(2) \
        - browser.columnWidth(1) - 1
