"""The study list tells two films of one study apart: a long file name is cut in its middle,
keeping its distinguishing end in view, and its row's tooltip has the full path."""

from __future__ import annotations

import shutil

from PyQt5.QtGui import QFontMetrics

from app.browser import StudyBrowser, elide_keeping_end
from radiai_core.reading.studies import scan

from ..samples import DICOM, KERMANY_BACTERIAL, KERMANY_NORMAL

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


def test_plain_images_have_no_series_row(qtbot, tmp_path) -> None:
    """Walkthrough: a folder of JPEGs was listed under "Series (?)", a series no file declares.
    Plain images now sit under their study (their folder), which says how many it holds; a
    DICOM film keeps its series row, named by its modality."""
    folder = tmp_path / "ward 3"
    folder.mkdir()
    for f in (KERMANY_NORMAL, KERMANY_BACTERIAL):
        shutil.copy(f, folder / f.name)
    shutil.copy(DICOM["nih_cardiomegaly"], tmp_path / "adult.dcm")
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.show()
    browser.populate(scan(tmp_path))

    def rows(item, depth=0) -> list[tuple[int, str, str]]:
        out = [(depth, item.text(0), item.text(1))]
        for i in range(item.childCount()):
            out += rows(item.child(i), depth + 1)
        return out

    listed = [r for i in range(browser.topLevelItemCount())
              for r in rows(browser.topLevelItem(i))]
    assert not [r for r in listed if "?" in r[1]]
    plain = [r for r in listed if r[1] in ("ward 3", KERMANY_NORMAL.name,
                                           KERMANY_BACTERIAL.name)]
    assert plain == [(1, "ward 3", "2 image(s)"),
                     (2, KERMANY_NORMAL.name, "224×224 JPEG"),
                     (2, KERMANY_BACTERIAL.name, "224×224 JPEG")]
    adult = browser._items[str(tmp_path / "adult.dcm")]
    assert (adult.parent().text(0), adult.parent().text(1)) == ("Series (DX)", "1 image(s)")
    assert adult.parent().parent().text(0) == "Cardiomegaly"


def test_up_and_down_go_from_film_to_film(qtbot, tmp_path) -> None:
    """Walkthrough: Down stopped on every patient, study and series row between two films
    (opening nothing). Now Up and Down go from film to film, in list order, and open each."""
    from PyQt5.QtCore import Qt

    for name in ("adult.dcm", "child.dcm"):
        shutil.copy(DICOM["nih_cardiomegaly" if name == "adult.dcm" else "nometa_mono1"],
                    tmp_path / name)
    shutil.copy(KERMANY_NORMAL, tmp_path / "plain.jpeg")
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.resize(400, 600)
    browser.show()
    browser.populate(scan(tmp_path))
    films = browser.image_paths()
    assert len(films) == 3
    opened: list[str] = []
    browser.image_selected.connect(opened.append)
    browser.setFocus()
    browser.setCurrentItem(browser.topLevelItem(0))  # a patient's row: no film
    assert opened == []
    for _ in films:
        qtbot.keyClick(browser, Qt.Key_Down)
    assert opened == films
    qtbot.keyClick(browser, Qt.Key_Down)  # the last film: nowhere further to go
    assert browser.currentItem() is browser._items[films[-1]] and len(opened) == 3
    for _ in films[1:]:
        qtbot.keyClick(browser, Qt.Key_Up)
    assert opened == films + films[-2::-1]
    qtbot.keyClick(browser, Qt.Key_Up)  # the first film stays; the patient row above it
    assert browser.currentItem() is browser._items[films[0]] and len(opened) == 5


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


def test_the_name_column_takes_the_room_a_wide_list_has(qtbot, tmp_path) -> None:
    film = tmp_path / f"{STEM}0001.jpeg"
    shutil.copy(KERMANY_NORMAL, film)
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.resize(320, 400)
    browser.show()
    qtbot.waitExposed(browser)
    browser.populate(scan(tmp_path))
    narrow = browser.columnWidth(0)
    assert narrow == StudyBrowser.NAME_WIDTH  # never less
    browser.resize(900, 400)
    qtbot.waitUntil(lambda: browser.columnWidth(0) > narrow)
    details = browser.columnWidth(1)
    # The spare room went to the names, not the details; nothing scrolls sideways.
    assert browser.columnWidth(0) + browser.columnWidth(2) + details \
        <= browser.viewport().width() + 1
    assert details <= browser._details_width + 1
    assert browser.columnWidth(0) >= browser.viewport().width() - browser.columnWidth(2) \
        - browser._details_width - 1
    browser.set_result(str(film), "a much longer result text than the column had " * 2)
    assert browser.columnWidth(0) + browser.columnWidth(2) <= browser.viewport().width() + 1
