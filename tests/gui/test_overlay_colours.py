"""One colour table: the viewer, the PDF and the PNG draw the lung contour and the boxes in the
core's colours."""

from __future__ import annotations

import io

import numpy as np
import pypdf
from PIL import Image
from PyQt5.QtWidgets import QGraphicsPathItem, QGraphicsRectItem

from radiai_core.reading.display import BOX_RGB, LUNG_RGB
from radiai_core.results.snapshot import render

from ..samples import KERMANY_NORMAL


def near(rgb: np.ndarray, colour: tuple[int, int, int], tol: int) -> int:
    """How many pixels of ``rgb`` lie within ``tol`` of ``colour`` on every channel."""
    return int((np.abs(rgb.astype(int) - np.array(colour)) <= tol).all(axis=-1).sum())


def test_screen_and_pdf_draw_in_the_same_colours(qtbot, make_window, tmp_path):
    w = make_window()
    w.open_paths([KERMANY_NORMAL])
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=10000)
    a = w.current_analysis
    assert a.boxes and a.mask is not None
    items = w.viewer._overlay_items
    boxes = [i.pen().color().getRgb()[:3] for i in items if isinstance(i, QGraphicsRectItem)]
    lungs = [i.pen().color().getRgb()[:3] for i in items if isinstance(i, QGraphicsPathItem)]
    assert boxes and set(boxes) == {BOX_RGB}
    assert lungs and set(lungs) == {LUNG_RGB}
    _, over = render(a, w.viewer.window)
    assert near(over, BOX_RGB, 0) > 50  # the box outline, exactly the screen's colour
    assert near(over, LUNG_RGB, 12) > 50  # the contour (anti-aliased)
    pdf = tmp_path / "colours.pdf"
    w.exports.export_pdf(str(pdf))
    qtbot.waitUntil(pdf.exists, timeout=10000)
    pictures = [np.asarray(Image.open(io.BytesIO(img.data)).convert("RGB"))
                for img in pypdf.PdfReader(pdf).pages[0].images]
    overlaid = max(pictures, key=lambda p: near(p, BOX_RGB, 40))
    assert near(overlaid, BOX_RGB, 40) > 20 and near(overlaid, LUNG_RGB, 40) > 20
