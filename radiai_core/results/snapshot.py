"""Render an analysis as RGB pictures (radiograph, and radiograph with heat map, lungs, boxes)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ..analysis.findings import Decision, Findings
from ..analysis.pipeline import Analysis
from ..analysis.regions import mask_contours
from ..errors import ExportError
from ..reading.display import (
    BOX_RGB,
    LUNG_RGB,
    Window,
    apply_window,
    default_window,
    heat_rgba,
)
from .private_file import open_private

#: The gate's questions whose refusal means "not a frontal chest radiograph" (a CT slice, a
#: lateral view, another body part, a blank or inverted image; ``gate.QUESTIONS``): no face
#: draws a lung contour on such an image, which has no lungs to outline. An adult refused as
#: an adult is a frontal chest film and keeps its contour.
NOT_A_FRONTAL_CHEST = ("chest", "frontal")


def shows_lung_contour(a: Analysis) -> bool:
    """Whether the lung contour of ``a`` is drawn (viewer, PDF, PNG): it has a mask, and the
    image was analysed or refused for a reason other than not being a frontal chest
    radiograph."""
    return a.mask is not None and not (a.status != "ok" and a.refused_by in NOT_A_FRONTAL_CHEST)


def not_called(f: Findings, label: str) -> str | None:
    """Why the model does not call the finding ``label`` whose map is shown ("below",
    "indeterminate", "other"), or None when it does (or makes no call at all): the pictures
    of a map the reader asked for say that it is not the evidence of a call. A softmax
    model's positive decision calls its abnormal labels; a multi-label model calls the labels
    at or above their thresholds."""
    if f.multi_label:
        return None if f.is_positive(label) else "below"
    if f.decision is None:
        return None
    if label == f.negative_label:
        return None if f.decision is Decision.NEGATIVE else "other"
    if f.decision is Decision.POSITIVE:
        # The call's map is shown under its most probable finding (``positives``); another
        # abnormal label the reader clicks is not what the model called.
        return None if label in f.positives else "other"
    return "indeterminate" if f.decision is Decision.INDETERMINATE else "below"


def score_figures(score: float, cutoffs: Sequence[float], least: int = 2) -> list[str]:
    """The score and its cut-offs printed with the fewest decimals (at least ``least``, at most
    6) at which every printed comparison says what the numbers say: a score of 0.8772 under a
    cut-off of 0.8775 reads "0.8772 … ≥ 0.8775", never "0.88 … ≥ 0.88" beside an
    indeterminate call. One rule for every face that prints a score against its cut-offs.

    Parameters
    ----------
    score : float
        The model's score.
    cutoffs : sequence of float
        The cut-offs the score is compared with (a call is made at or above each).
    least : int
        The fewest decimals to print.

    Returns
    -------
    list of str
        The score, then each cut-off, as printed.
    """
    for places in range(least, 7):
        shown = [f"{v:.{places}f}" for v in (score, *cutoffs)]
        if all((float(shown[0]) >= float(c)) == (score >= cut)
               for c, cut in zip(shown[1:], cutoffs, strict=True)):
            return shown
    return shown


#: The probability bars' colours (RGB) on every face that draws them (the viewer's findings
#: panel, the PDF): the call's red for a finding the model calls, a neutral grey-blue for
#: every other label.
CALLED_RGB = (192, 57, 43)
UNCALLED_RGB = (112, 138, 166)


def bar_rgb(f: Findings, label: str) -> tuple[int, int, int]:
    """The colour of ``label``'s probability bar, one rule for every face: red only when the
    model's decision is positive and it calls this label (``Findings.positives``: the
    finding a softmax model's positive call names, or a multi-label model's labels at or
    above their thresholds); neutral for the negative label, for labels below their
    threshold and for every label of a negative, indeterminate or undecided film.

    Parameters
    ----------
    f : Findings
        One model's findings.
    label : str
        One of its labels.

    Returns
    -------
    tuple of int
        ``CALLED_RGB`` or ``UNCALLED_RGB``.
    """
    return CALLED_RGB if f.decision is Decision.POSITIVE and f.is_positive(label) \
        else UNCALLED_RGB


def _scaled(a: np.ndarray, scale: float, interp: int) -> np.ndarray:
    if scale >= 1.0:
        return a
    h, w = a.shape[:2]
    return cv2.resize(a, (max(1, round(w * scale)), max(1, round(h * scale))),
                      interpolation=interp)


def render(a: Analysis, window: Window | None = None, invert: bool = False,
           heat: bool = True, mask: bool = True, boxes: bool = True, opacity: float = 0.45,
           max_side: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """(plain, overlaid) uint8 RGB images at most ``max_side`` pixels on a side: the radiograph
    in ``window`` (default: the file's), and the same with the chosen overlays drawn."""
    shown = apply_window(a.image, window or default_window(a.image), invert)
    scale = min(1.0, max_side / max(shown.shape))
    grey = np.round(_scaled(shown, scale, cv2.INTER_AREA) * 255).astype(np.uint8)
    plain = np.repeat(grey[..., None], 3, axis=2)
    over = plain.astype(np.float32)
    if heat and a.status == "ok" and a.heatmap is not None:
        rgba = heat_rgba(_scaled(a.heatmap, scale, cv2.INTER_AREA), opacity).astype(np.float32)
        alpha = rgba[..., 3:] / 255.0
        over = over * (1 - alpha) + rgba[..., :3] * alpha
    over = np.round(over).astype(np.uint8)
    line = max(1, round(max(over.shape[:2]) / 400))
    if mask and a.mask is not None and shows_lung_contour(a):
        # The viewer's outline (regions.mask_contours, smoothed, at the image's resolution),
        # scaled to this picture: the PDF and PNG draw the contour the reader saw.
        outline = [np.round(c * scale).astype(np.int32).reshape(-1, 1, 2)
                   for c in mask_contours(a.mask, smooth=True)]
        cv2.polylines(over, outline, True, LUNG_RGB, line, lineType=cv2.LINE_AA)
    if boxes and a.status == "ok":
        for b in a.boxes:
            x0, y0 = round(b.x * scale), round(b.y * scale)
            x1, y1 = round((b.x + b.w) * scale) - 1, round((b.y + b.h) * scale) - 1
            cv2.rectangle(over, (x0, y0), (x1, y1), BOX_RGB, line + 1)
    return plain, over


def write_png(a: Analysis, path: str | Path, window: Window | None = None, invert: bool = False,
              heat: bool = True, mask: bool = True, boxes: bool = True, opacity: float = 0.45,
              max_side: int = 2048) -> Path:
    """The view of ``a`` as the PDF draws it (``render``'s overlaid picture, in ``window``,
    with the chosen overlays) as a PNG file readable by the user only; no patient text is
    drawn on it.

    Raises
    ------
    ExportError
        The file cannot be written (folder missing or read-only, disk full).
    """
    path = Path(path)
    _, over = render(a, window, invert, heat, mask, boxes, opacity, max_side)
    ok, buf = cv2.imencode(".png", cv2.cvtColor(over, cv2.COLOR_RGB2BGR))
    if not ok:
        raise ExportError("could not be encoded as PNG.", path)
    try:
        with open_private(path, binary=True) as f:
            f.write(buf.tobytes())
    except OSError as exc:
        raise ExportError(f"cannot be written ({exc.strerror or exc}).", path) from None
    return path
