"""The Heat map switch (and its opacity, and Boxes) is enabled only when the film on screen
has a heat map: greyed for a negative, indeterminate or refused film and while a film loads,
enabled again when the reader switches to a positive film or asks for a finding's map."""

from __future__ import annotations

from pathlib import Path

import pytest

from radiai_core.analysis.findings import Decision
from radiai_core.analysis.pipeline import default_analyzer

from ..samples import DICOM, KERMANY_BACTERIAL, KERMANY_DIR, KERMANY_NORMAL, KERMANY_UNSURE

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
        # The reader's choice is kept: the switch stays checked, greyed or not.
        assert w.heat_box.isChecked()
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
