"""What the classifier sees of the lungs: the plain image, the lungs masked, or a lung-box crop."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

MODES = ("plain", "masked", "crop")


@dataclass(frozen=True)
class LungView:
    """The classifier's input region. ``x0, y0, x1, y1`` is the part of the front image (in its
    pixels) that was resized into the classifier's input, so heat maps can be mapped back."""

    pixels: np.ndarray
    x0: int
    y0: int
    x1: int
    y1: int


def lung_view(front: np.ndarray, mask: np.ndarray | None, mode: str,
              margin: float = 0.06) -> LungView:
    """Apply ``mode`` to a front-processed image (values in [0, 1]) given a binary lung mask on
    any grid (resized to the image's).

    - ``plain``: the image unchanged; the mask only bounds the boxes later.
    - ``masked``: pixels outside the lungs, dilated by ``margin`` of the image size so that the
      costophrenic angles and pleural margins stay visible, are set to 0.
    - ``crop``: the bounding box of the lungs, grown by ``margin`` on each side, resized (squashed)
      back to the image's size.

    An empty mask gives the plain image (the gate refuses such images before any finding).
    """
    if mode not in MODES:
        raise ValueError(f"unknown lung input mode {mode!r}; expected one of {MODES}")
    h, w = front.shape
    if mode == "plain" or mask is None or not mask.any():
        return LungView(front, 0, 0, w, h)
    m = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    if mode == "masked":
        r = max(1, int(round(margin * max(h, w))))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        m = cv2.dilate(m, kernel)
        return LungView(np.where(m > 0, front, 0.0).astype(np.float32), 0, 0, w, h)
    ys, xs = np.nonzero(m)
    dy, dx = int(round(margin * h)), int(round(margin * w))
    x0, x1 = max(0, int(xs.min()) - dx), min(w, int(xs.max()) + 1 + dx)
    y0, y1 = max(0, int(ys.min()) - dy), min(h, int(ys.max()) + 1 + dy)
    crop = np.ascontiguousarray(front[y0:y1, x0:x1], dtype=np.float32)
    return LungView(cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR), x0, y0, x1, y1)
