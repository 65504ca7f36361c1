"""Occlusion maps: how far a classifier's log-odds fall when regions of its own input are blurred.

The map is the model's sensitivity to blurring a region, measured with the model itself (every
perturbed input goes through the shipped LiteRT runtime, batched in one invocation). It is not
a lesion outline and it is never masked or clipped to the lungs. How it was chosen (a deletion
test against random regions, on validation images) is in the classifier's MODEL_CARD.md and
``bench/explain_compare.py``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import ModelError
from .models import runtime_chatter_silenced

log = logging.getLogger(__name__)

#: The blur that stands for "this region removed": a Gaussian of this fraction of the image side
#: (8 px at 160 px). Strong enough to erase consolidation texture, weak enough to keep the
#: image's layout (the model still sees a chest).
BLUR_SIGMA = 0.05

_P_EPS = 1e-6


def log_odds(probs: np.ndarray, targets: Sequence[int]) -> np.ndarray:
    """Log-odds of the finding made of the labels ``targets`` (their probabilities summed).

    Parameters
    ----------
    probs : ndarray, shape (n, classes)
        Probabilities, one row per input.
    targets : sequence of int
        Label indices whose probabilities make the finding (e.g. every label but "normal" for
        the pneumonia call, or one label).

    Returns
    -------
    ndarray, shape (n,)
        ``log(P / (1 - P))`` with ``P`` clipped to [1e-6, 1 - 1e-6].
    """
    p = np.clip(np.asarray(probs, np.float64)[:, list(targets)].sum(axis=1), _P_EPS, 1 - _P_EPS)
    return np.log(p) - np.log1p(-p)


def blurred(x: np.ndarray, sigma: float = BLUR_SIGMA) -> np.ndarray:
    """``x`` blurred by a Gaussian of ``sigma`` times its longer side (reflected borders).

    Parameters
    ----------
    x : ndarray, shape (h, w)
        An image.
    sigma : float
        The Gaussian's standard deviation as a fraction of the longer side.

    Returns
    -------
    ndarray, shape (h, w), float32
    """
    s = max(0.5, sigma * max(x.shape))
    return cv2.GaussianBlur(x.astype(np.float32, copy=False), (0, 0), s,
                            borderType=cv2.BORDER_REFLECT)


def standardise(batch: np.ndarray) -> np.ndarray:
    """Per-image standardisation of a batch (n, h, w), as ``preprocess.Normalize`` does to one
    image (a constant image becomes zeros)."""
    x = batch.astype(np.float32, copy=False)
    mean = x.mean(axis=(1, 2), keepdims=True)
    std = x.std(axis=(1, 2), keepdims=True)
    return np.where(std < 1e-6, 0.0, (x - mean) / np.maximum(std, 1e-6)).astype(np.float32)


class BatchRunner:
    """A classifier's LiteRT model in an interpreter of its own, for batches of inputs.

    The analysis keeps its batch-1 interpreter (``models.LiteModel``) for the plain path; this
    one is resized to the batch it is given (at most ``max_batch`` per invocation) and stays
    allocated at the last size, so a fixed explanation pays the allocation once.

    Parameters
    ----------
    path : Path
        The classifier's ``.tflite`` file.
    max_batch : int
        The most inputs per invocation (bounds the interpreter's memory).
    expected_sha256 : str, optional
        The sha256 the model set recorded for that file when it loaded it: the bytes read here
        are checked against it, so the explanation runs exactly the model the identity names.

    Raises
    ------
    ModelError
        The file no longer matches ``expected_sha256`` (replaced since the models loaded).
    """

    def __init__(self, path: str | Path, max_batch: int = 32,
                 expected_sha256: str | None = None) -> None:
        from ai_edge_litert.interpreter import Interpreter

        content = Path(path).read_bytes()
        if expected_sha256 is not None and hashlib.sha256(content).hexdigest() != expected_sha256:
            raise ModelError("changed since the models were loaded (its sha256 no longer "
                             "matches); restart RadiAI or reinstall the models.", Path(path))
        with runtime_chatter_silenced():
            self._interp = Interpreter(model_content=content, num_threads=os.cpu_count() or 2)
        self._input = self._interp.get_input_details()[0]
        self._shape = tuple(int(v) for v in self._input["shape"][1:])
        self._batch = 0
        self.max_batch = max_batch
        self._lock = threading.Lock()

    @property
    def size(self) -> tuple[int, int]:
        """The model's input (height, width)."""
        return self._shape[0], self._shape[1]

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        """The model's probabilities for a batch of standardised inputs.

        Parameters
        ----------
        x : ndarray, shape (n, h, w)
            Inputs as the model takes them (after ``Classifier.back``).

        Returns
        -------
        ndarray, shape (n, classes)
        """
        out = []
        with self._lock:
            for i in range(0, len(x), self.max_batch):
                chunk = x[i:i + self.max_batch]
                if len(chunk) != self._batch:
                    self._interp.resize_tensor_input(self._input["index"],
                                                     [len(chunk), *self._shape])
                    self._interp.allocate_tensors()
                    self._batch = len(chunk)
                self._interp.set_tensor(self._input["index"],
                                        chunk[..., None].astype(np.float32, copy=False))
                self._interp.invoke()
                probs = next(self._interp.get_tensor(o["index"])
                             for o in self._interp.get_output_details()
                             if len(o["shape"]) == 2)
                out.append(probs.astype(np.float64))
        return np.concatenate(out, axis=0)


def grid_masks(size: tuple[int, int], patch: float | tuple[float, float],
               stride: float | tuple[float, float]) -> np.ndarray:
    """Rectangular occlusion patches on a regular grid that covers the whole image.

    Parameters
    ----------
    size : (int, int)
        The image's (height, width).
    patch, stride : float or (float, float)
        Patch side and step as fractions of the image side, or (height, width) fractions;
        the last patch of a row or column is moved in to end at the border, so every pixel
        is covered.

    Returns
    -------
    ndarray, shape (n, h, w), float32
        One mask per patch, 1 inside it, row by row.
    """
    (ph_f, pw_f), (sh_f, sw_f) = _pair(patch), _pair(stride)

    def starts(n: int, p: int, s_f: float) -> list[int]:
        s = max(1, round(s_f * n))
        out = list(range(0, max(1, n - p + 1), s))
        if out[-1] + p < n:
            out.append(n - p)
        return out

    h, w = size
    ph, pw = max(1, round(ph_f * h)), max(1, round(pw_f * w))
    masks = []
    for y in starts(h, ph, sh_f):
        for x in starts(w, pw, sw_f):
            m = np.zeros((h, w), np.float32)
            m[y:y + ph, x:x + pw] = 1.0
            masks.append(m)
    return np.stack(masks)


def _pair(v: float | tuple[float, float]) -> tuple[float, float]:
    return (float(v), float(v)) if isinstance(v, (int, float)) else (float(v[0]), float(v[1]))


def perturbed(x: np.ndarray, masks: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """``x`` with each mask's region replaced by ``fill`` (soft masks blend): (n, h, w)."""
    return x[None] + masks * (fill - x)[None]


def drops_to_map(drops: np.ndarray, masks: np.ndarray, smooth: float) -> np.ndarray:
    """A map from the score drops of perturbed regions: at each pixel the mean drop of the
    regions that cover it, smoothed by a Gaussian of ``smooth`` pixels, negative values (regions
    whose removal raised the score) set to 0, scaled so that its maximum is 1 (all zero when no
    region lowered the score).

    Parameters
    ----------
    drops : ndarray, shape (n,)
        Score of the image minus score with region i perturbed.
    masks : ndarray, shape (n, h, w)
        The regions (1 = perturbed).
    smooth : float
        Gaussian smoothing in pixels (0: none).

    Returns
    -------
    ndarray, shape (h, w), float32, in [0, 1]
    """
    cover = masks.sum(axis=0)
    heat = np.tensordot(drops.astype(np.float32), masks, axes=(0, 0)) / np.maximum(cover, 1e-6)
    if smooth > 0:
        heat = cv2.GaussianBlur(heat.astype(np.float32), (0, 0), smooth,
                                borderType=cv2.BORDER_REPLICATE)
    heat = np.maximum(heat, 0.0)
    top = float(heat.max())
    return (heat / top).astype(np.float32) if top > 1e-9 else np.zeros_like(heat, np.float32)


class Occlusion:
    """Occlusion sensitivity: blur one patch of the model's input at a time (all patches in one
    batched invocation) and map how far the finding's log-odds fall.

    Parameters
    ----------
    runner : BatchRunner
        The classifier's batched runtime.
    patch, stride : float or (float, float)
        Patch side and step as fractions of the input side, or (height, width) fractions
        (0.25 and 0.25: a 4 × 4 grid of 40 px patches at 160 px, 16 passes).
    fill : {"blur", "mean"}
        What replaces a patch: the image blurred (``BLUR_SIGMA``) or its mean grey.
    smooth : float
        Gaussian smoothing of the map as a fraction of the side (default: half the smaller
        stride).
    """

    def __init__(self, runner: BatchRunner, patch: float | tuple[float, float] = 0.25,
                 stride: float | tuple[float, float] = 0.25, fill: str = "blur",
                 smooth: float | None = None) -> None:
        if fill not in ("blur", "mean"):
            raise ValueError(f"unknown fill {fill!r}; expected 'blur' or 'mean'")
        self.runner = runner
        self.patch, self.stride, self.fill = patch, stride, fill
        self.smooth = min(_pair(stride)) / 2 if smooth is None else smooth
        self._masks: dict[tuple[int, int], np.ndarray] = {}

    def masks_for(self, shape: tuple[int, int]) -> np.ndarray:
        """The patches on an image of ``shape`` (made once per shape)."""
        if shape not in self._masks:
            self._masks[shape] = grid_masks(shape, self.patch, self.stride)
        return self._masks[shape]

    @property
    def masks(self) -> np.ndarray:
        """The patches at the model's input size."""
        return self.masks_for(self.runner.size)

    @property
    def passes(self) -> int:
        """Forward passes per map."""
        return len(self.masks)

    def describe(self) -> str:
        """One line for cards and reports."""
        h, w = self.runner.size
        (ph, pw), (sh, sw) = _pair(self.patch), _pair(self.stride)
        return (f"occlusion, {self.fill} fill, {round(ph * h)}×{round(pw * w)} px patches "
                f"every {round(sh * h)}×{round(sw * w)} px at {h}×{w} px ({self.passes} "
                "passes, one batch), drop in log-odds")

    def __call__(self, x: np.ndarray, targets: Sequence[int], base: float,
                 back: Callable[[np.ndarray], np.ndarray] | None = None,
                 lungs: np.ndarray | None = None) -> np.ndarray:
        """The map of one image.

        Parameters
        ----------
        x : ndarray, shape (h, w)
            The image the model's input is made from (the lung view, values in [0, 1]);
            patches and blur are laid on it.
        targets : sequence of int
            The finding's label indices (``log_odds``).
        base : float
            The finding's log-odds on ``x`` itself (from the analysis' own pass).
        back : callable, optional
            The classifier's last preprocessing steps (``Classifier.back``: resize to its input
            and standardise), applied to every perturbed image. Without it ``x`` must already
            be at the input size and is only standardised.
        lungs : ndarray of bool, optional
            The lung mask on ``x``'s grid (a regular grid does not use it).

        Returns
        -------
        ndarray, shape (h, w), float32, in [0, 1]
            The map on ``x``'s grid.
        """
        masks = self.masks_for(x.shape)
        fill = blurred(x) if self.fill == "blur" else np.full_like(x, float(x.mean()))
        batch = perturbed(x, masks, fill)
        inputs = (standardise(batch) if back is None
                  else np.stack([back(b) for b in batch]).astype(np.float32))
        scores = log_odds(self.runner.probabilities(inputs), targets)
        return drops_to_map(base - scores, masks, self.smooth * max(x.shape))


class LungLayout:
    """Occlusion over regions laid out on the lungs, every one measured with the model (the
    map is not masked: the image outside the lungs is measured too, in coarser regions).

    The regions: a ``rows`` × ``cols`` grid over the lung mask's bounding box grown by 6 % of
    the side, or with ``zones`` the six lung zones (``zones.zone_labels``) and the rest of
    that box (mediastinum, hila, heart borders); then the four bands of the image outside the
    box (above, below, left, right). Each is blurred in turn (one batched invocation) and the
    map is its log-odds drop per pixel, since the regions differ in size, lightly smoothed.

    Parameters
    ----------
    runner : BatchRunner
        The classifier's batched runtime.
    rows, cols : int
        The grid over the lung box (ignored with ``zones``).
    zones : bool
        Regions by lung zone instead of a grid.
    smooth : float
        Gaussian smoothing of the map as a fraction of the side.
    bands : {4, 2}
        The image outside the box as four bands, or as two regions (above and below the box
        together, left and right of it together: two passes fewer).
    """

    def __init__(self, runner: BatchRunner, rows: int = 4, cols: int = 3, zones: bool = False,
                 smooth: float = 0.03, bands: int = 4) -> None:
        if bands not in (2, 4):
            raise ValueError(f"bands must be 2 or 4, not {bands}")
        self.runner, self.rows, self.cols, self.zones = runner, rows, cols, zones
        self.bands = bands
        self.smooth = smooth
        self._fallback = Occlusion(runner, 0.25, 0.25, smooth=0.0625)

    @property
    def passes(self) -> int:
        """Forward passes per map (always the same, so the batch keeps its size)."""
        return (7 if self.zones else self.rows * self.cols) + self.bands

    def describe(self) -> str:
        """One line for cards and reports."""
        inner = ("the six lung zones and the rest of the lung box" if self.zones
                 else f"a {self.rows} × {self.cols} grid over the lung box")
        return (f"occlusion over {inner} and four bands outside it, blur fill, log-odds drop "
                f"per pixel ({self.passes} passes, one batch)")

    def regions(self, lungs: np.ndarray) -> np.ndarray:
        """The regions (n, h, w) on the grid of ``lungs`` (a lung mask), disjoint and covering
        the whole image; always ``passes`` of them (one may be empty, e.g. a band when the lung
        box touches the border: the batch keeps its size)."""
        from .zones import zone_labels

        h, w = lungs.shape
        ys, xs = np.nonzero(lungs)
        dy, dx = round(0.06 * h), round(0.06 * w)
        y0, y1 = max(0, int(ys.min()) - dy), min(h, int(ys.max()) + 1 + dy)
        x0, x1 = max(0, int(xs.min()) - dx), min(w, int(xs.max()) + 1 + dx)
        out = []
        if self.zones:
            labels = zone_labels(lungs)
            box = np.zeros((h, w), bool)
            box[y0:y1, x0:x1] = True
            out += [labels == z for z in range(1, 7)]
            out.append(box & (labels == 0))
        else:
            ry = np.linspace(y0, y1, self.rows + 1).round().astype(int)
            rx = np.linspace(x0, x1, self.cols + 1).round().astype(int)
            for i in range(self.rows):
                for j in range(self.cols):
                    m = np.zeros((h, w), bool)
                    m[ry[i]:ry[i + 1], rx[j]:rx[j + 1]] = True
                    out.append(m)
        bands = []
        for band in ((slice(0, y0), slice(0, w)), (slice(y1, h), slice(0, w)),
                     (slice(y0, y1), slice(0, x0)), (slice(y0, y1), slice(x1, w))):
            m = np.zeros((h, w), bool)
            m[band] = True
            bands.append(m)
        if self.bands == 2:
            bands = [bands[0] | bands[1], bands[2] | bands[3]]
        return np.stack(out + bands).astype(np.float32)

    def __call__(self, x: np.ndarray, targets: Sequence[int], base: float,
                 back: Callable[[np.ndarray], np.ndarray] | None = None,
                 lungs: np.ndarray | None = None) -> np.ndarray:
        """The map of one image (as ``Occlusion.__call__``), given its lung mask ``lungs`` on
        ``x``'s grid; without lungs, a plain 4 × 4 occlusion grid."""
        if lungs is None or not lungs.any():
            return self._fallback(x, targets, base, back)
        masks = self.regions(lungs)
        batch = perturbed(x, masks, blurred(x))
        inputs = (standardise(batch) if back is None
                  else np.stack([back(b) for b in batch]).astype(np.float32))
        drops = base - log_odds(self.runner.probabilities(inputs), targets)
        area = np.maximum(masks.sum(axis=(1, 2)), 1.0)  # an empty region adds nothing
        density = np.tensordot((drops / area).astype(np.float32), masks, axes=(0, 0))
        if self.smooth > 0:
            density = cv2.GaussianBlur(density.astype(np.float32), (0, 0),
                                       self.smooth * max(x.shape),
                                       borderType=cv2.BORDER_REPLICATE)
        density = np.maximum(density, 0.0)
        top = float(density.max())
        return (density / top).astype(np.float32) if top > 1e-9 else np.zeros_like(x, np.float32)


#: What ``shipped`` may return: a map of one image from the model's batched runtime.
Explainer = Occlusion | LungLayout

#: The explanation RadiAI ships, chosen by ``bench/explain_compare.py`` on validation images
#: (the table and the rule are in models/classifier/MODEL_CARD.md).
SHIPPED: dict[str, Any] = {"rows": 3, "cols": 4, "zones": False, "smooth": 0.03}


def shipped(runner: BatchRunner) -> Explainer:
    """The shipped explanation over a classifier's batched runtime.

    Parameters
    ----------
    runner : BatchRunner
        The classifier's batched runtime.

    Returns
    -------
    Occlusion or LungLayout
        Today a ``LungLayout``: a 3 × 4 grid over the lung box and the four bands outside
        it (16 passes), the best deletion test within the time budget.
    """
    return LungLayout(runner, **SHIPPED)


def finding_targets(labels: Sequence[str], label: str, negative_label: str | None,
                    multi_label: bool, asked: bool) -> list[int]:
    """The label indices whose summed probability the map explains.

    The default map of a softmax model with a negative label explains its call: the log-odds
    of every label but the negative one (pneumonia, bacterial or viral, against normal). A map
    asked for one label, and any map of a multi-label model or of a model without a negative
    label, explains that label's own log-odds.

    Parameters
    ----------
    labels : sequence of str
        The model's labels, in output order.
    label : str
        The explained label (``Findings.cam_label``).
    negative_label : str or None
        The model's negative label ("normal").
    multi_label : bool
        Whether the model calls each label on its own.
    asked : bool
        Whether the reader asked for ``label`` (else it is the default of a positive call).

    Returns
    -------
    list of int
    """
    if not asked and not multi_label and negative_label is not None and label != negative_label:
        return [i for i, lab in enumerate(labels) if lab != negative_label]
    return [list(labels).index(label)]
