"""The study list tells two films of one study apart: a long file name is cut in its middle,
keeping its distinguishing end in view, and its row's tooltip has the full path."""

from __future__ import annotations

import shutil

from PyQt5.QtGui import QFontMetrics

from app.browser import StudyBrowser, elide_keeping_end
from radiai_core.reading.studies import scan

from ..samples import KERMANY_NORMAL

STEM = "1.2.840.113619.2.55.3.604688119.969.1268071029.320.1_frontal_"


def test_two_films_of_one_study_look_different_in_a_narrow_list(qtbot, tmp_path) -> None:
    films = [tmp_path / f"{STEM}000{i}.jpeg" for i in (1, 2)]
    for f in films:
        shutil.copy(KERMANY_NORMAL, f)
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.resize(320, 400)  # a dock's width: the name column cannot hold the whole name
    browser.show()
    qtbot.waitExposed(browser)
    browser.populate(scan(tmp_path))
    rows = [browser._items[str(f)] for f in films]
    assert [r.text(0) for r in rows] == [f.name for f in films]  # the data keep the names
    assert [r.toolTip(0) for r in rows] == [str(f) for f in films]  # the full path
    pictures = []
    for row in rows:
        rect = browser.visualItemRect(row)
        rect.setWidth(browser.columnWidth(0) - rect.x())  # the name column only
        pictures.append(browser.viewport().grab(rect).toImage())
    # Same thumbnail, same start, same length: only the end tells them apart, and it shows.
    assert pictures[0] != pictures[1]


def test_the_cut_keeps_the_end_and_the_start() -> None:
    metrics = QFontMetrics(StudyBrowser().font())
    name = f"{STEM}0002.jpeg"
    for chars in (14, 20, 30):
        width = chars * metrics.averageCharWidth()
        shown = elide_keeping_end(name, metrics, width)
        assert metrics.horizontalAdvance(shown) <= width
        head, tail = shown.split("…")
        assert head and name.startswith(head) and name.endswith(tail)
        # Most of the room for the end.
        assert metrics.horizontalAdvance(tail) >= 2 * metrics.horizontalAdvance(head)
        assert tail.endswith("2.jpeg")  # the instance number's last digit at least
    assert elide_keeping_end("short.png", metrics, 200) == "short.png"
