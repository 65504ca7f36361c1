"""The Heat map switch (and its opacity, and Boxes) is enabled only when the film on screen
has a heat map: greyed for a negative, indeterminate or refused film and while a film loads,
enabled again when the reader switches to a positive film or asks for a finding's map."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PyQt5.QtCore import QPoint, Qt
from PyQt5.QtWidgets import QGraphicsRectItem

from radiai_core.analysis.findings import Decision
from radiai_core.analysis.pipeline import default_analyzer

from ..samples import DICOM, KERMANY_BACTERIAL, KERMANY_DIR, KERMANY_NORMAL, KERMANY_UNSURE
from .conftest import FakeAnalyzer

pytestmark = pytest.mark.slow


def switches(w) -> tuple[bool, bool, bool]:
    return w.heat_box.isEnabled(), w.opacity.isEnabled(), w.boxes_box.isEnabled()


def test_heat_map_switch_follows_the_film_on_screen(qtbot, make_window) -> None:
    w = make_window(make_analyzer=default_analyzer)
    assert switches(w) == (False, False, False)  # nothing on screen yet
    films = [KERMANY_BACTERIAL, KERMANY_UNSURE, KERMANY_NORMAL, DICOM["nometa_mono1"]]
    w.open_paths([str(f) for f in films])
    qtbot.waitUntil(lambda: set(w.browser.image_paths()) == {str(f) for f in films},
                    timeout=60000)

    def show(film: Path):
        w.browser.select_path(str(film))
        assert switches(w) == (False, False, False)  # loading: never the last film's map
        qtbot.waitUntil(lambda: w.current_analysis is not None
                        and Path(w.current_analysis.path) == film, timeout=120000)
        return w.current_analysis

    expected = {KERMANY_BACTERIAL: (Decision.POSITIVE, (True, True, True)),
                KERMANY_UNSURE: (Decision.INDETERMINATE, (False, False, False)),
                KERMANY_NORMAL: (Decision.NEGATIVE, (False, False, False))}
    for film in [KERMANY_UNSURE, KERMANY_BACTERIAL, KERMANY_NORMAL, KERMANY_BACTERIAL]:
        a = show(film)
        decision, wanted = expected[film]
        assert a.status == "ok" and a.decision is decision
        assert switches(w) == wanted, film.name
        assert (a.heatmap is not None) == wanted[0]
        # Ticked only where a map is drawn; the reader's choice is kept for the next one.
        assert w.heat_box.isChecked() == wanted[0] and w.viewer.show_heat
    refused = show(DICOM["nometa_mono1"])
    assert refused.status != "ok"
    assert switches(w) == (False, False, False)
    assert w.heat_box.toolTip() == "This image has no heat map"
    # The reader asks for a finding's map on an indeterminate film: the switch comes alive.
    unsure = show(KERMANY_UNSURE)
    assert not w.heat_box.isEnabled()
    w.explain("viral")
    qtbot.waitUntil(lambda: w.viewer.analysis is not unsure
                    and w.viewer.analysis.cam_label == "viral", timeout=60000)
    assert w.heat_box.isEnabled() and w.opacity.isEnabled()
    assert not w.viewer._heat.pixmap().isNull()
    w.heat_box.setChecked(False)  # and it works: the map goes
    assert w.viewer._heat.pixmap().isNull()


class NoMapForNormals(FakeAnalyzer):
    """The fake analyzer, with no heat map and no boxes for a film named NORMAL…"""

    def analyze(self, source):
        a = super().analyze(source)
        if Path(a.path).name.startswith("NORMAL"):
            a.findings = [replace(f, heatmap=None, boxes=[], cam_label=None, call="no pneumonia")
                          for f in a.findings]
        return a


def test_a_greyed_switch_is_unticked_and_the_readers_choice_comes_back(qtbot,
                                                                       make_window) -> None:
    """Walkthrough: greyed Heat map / Boxes switches kept their tick on a film without a map,
    as if a map were drawn. Now a greyed switch shows unticked, its shortcut does nothing, and
    the next film with a map shows the reader's own choice again, ticked or not."""
    w = make_window(analyzer=NoMapForNormals())
    w.open_paths([str(KERMANY_BACTERIAL), str(KERMANY_NORMAL)])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 2, timeout=10000)
    heat_key = next(a for a in w.actions() if a.text() == "Heat map on/off")

    def show(film: Path) -> None:
        w.browser.select_path(str(film))
        qtbot.waitUntil(lambda: w.current_analysis is not None
                        and Path(w.current_analysis.path) == film, timeout=20000)

    def boxes_drawn() -> int:
        return sum(isinstance(i, QGraphicsRectItem) for i in w.viewer._overlay_items)

    def ticks() -> tuple[bool, bool, bool, bool]:
        return (w.heat_box.isEnabled(), w.heat_box.isChecked(), w.boxes_box.isEnabled(),
                w.boxes_box.isChecked())

    show(KERMANY_BACTERIAL)
    assert ticks() == (True, True, True, True) and boxes_drawn() == 1
    # the reader hides the boxes (a click on the tick box itself)
    qtbot.mouseClick(w.boxes_box, Qt.LeftButton, pos=QPoint(8, w.boxes_box.height() // 2))
    assert ticks() == (True, True, True, False) and boxes_drawn() == 0
    show(KERMANY_NORMAL)
    assert ticks() == (False, False, False, False)
    assert w.heat_box.toolTip() == "This image has no heat map"
    heat_key.trigger()  # H on a film without a map: nothing to switch
    assert ticks() == (False, False, False, False)
    show(KERMANY_BACTERIAL)
    assert ticks() == (True, True, True, False)  # the reader's own choice, both ways
    assert not w.viewer._heat.pixmap().isNull() and boxes_drawn() == 0
    heat_key.trigger()
    assert ticks() == (True, False, True, False) and w.viewer._heat.pixmap().isNull()


def test_box_labels_stay_over_the_image(qtbot, make_window) -> None:
    """A positive film with a box near its right edge (x 178-216 of 224): every label's plate,
    as drawn on screen, lies inside the image, at the fitted zoom and zoomed in."""
    from PyQt5.QtWidgets import QGraphicsSimpleTextItem

    w = make_window(make_analyzer=default_analyzer)
    w.resize(1200, 800)
    film = KERMANY_DIR / "images" / "person1003_virus_1685.jpeg"
    w.open_paths([str(film)])
    qtbot.waitUntil(lambda: w.current_analysis is not None
                    and w.current_analysis.status == "ok", timeout=120000)
    a = w.current_analysis
    assert a.boxes and any(b.x + b.w / 2 > a.image.shape[1] / 2 for b in a.boxes)
    view = w.viewer
    for zoom in (1.0, 2.0):
        view.scale(zoom, zoom)
        qtbot.wait(50)
        labels = [i for i in view._overlay_items if isinstance(i, QGraphicsSimpleTextItem)]
        assert len(labels) == len(a.boxes)
        h, wd = a.image.shape
        image = view.mapFromScene(0, 0, wd, h).boundingRect()
        for label in labels:
            drawn = label.deviceTransform(view.viewportTransform()).mapRect(
                label.boundingRect()).toAlignedRect()
            assert image.left() - 1 <= drawn.left() and drawn.right() <= image.right() + 1, \
                (label.text(), drawn, image)
