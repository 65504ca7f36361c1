"""Preprocessing as small callables (config in __init__, work in __call__) chained by Compose."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

Step = Callable[[np.ndarray], np.ndarray]

_EPS = 1e-6


def to_uint8(pixels: np.ndarray) -> np.ndarray:
    """[0, 1] float → uint8 with rounding (values outside [0, 1] are clipped)."""
    return np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)


@dataclass(frozen=True)
class Clahe:
    """Contrast-limited adaptive histogram equalisation (OpenCV) on a [0, 1] image.

    Runs on an 8-bit copy: OpenCV scales the clip limit to the histogram size, and with the
    65,536 bins of a 16-bit image every occupied bin of a small tile is clipped to one count,
    so the clip limit stops mattering. At network resolution 8 bits lose nothing the model uses.
    """

    clip_limit: float = 2.0
    tile_grid: tuple[int, int] = (8, 8)

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        clahe = cv2.createCLAHE(clipLimit=float(self.clip_limit),
                                tileGridSize=tuple(self.tile_grid))
        return clahe.apply(to_uint8(pixels)).astype(np.float32) / 255.0


@dataclass(frozen=True)
class Resize:
    """Resize to (height, width) without keeping the aspect ratio.

    The shared Kermany training images were squashed to 224 × 224 the same way, so a model
    trained on them must see real inputs squashed too. Area interpolation when shrinking
    (no aliasing), linear when enlarging.
    """

    height: int
    width: int

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        h, w = pixels.shape[:2]
        if (h, w) == (self.height, self.width):
            return pixels.astype(np.float32, copy=False)
        shrinking = self.height * self.width < h * w
        interp = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        return cv2.resize(pixels.astype(np.float32, copy=False), (self.width, self.height),
                          interpolation=interp)


@dataclass(frozen=True)
class Normalize:
    """Per-image standardisation to zero mean and unit variance.

    A constant image (standard deviation below ``eps``) becomes all zeros instead of
    dividing by zero.
    """

    eps: float = _EPS

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        x = pixels.astype(np.float32, copy=False)
        mean = float(x.mean())
        std = float(x.std())
        if std < self.eps:
            return np.zeros_like(x, dtype=np.float32)
        return ((x - mean) / std).astype(np.float32)


class Compose:
    """Apply steps in order; ``steps`` is kept for inspection and manifests."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = list(steps)

    def __call__(self, pixels: np.ndarray) -> np.ndarray:
        for step in self.steps:
            pixels = step(pixels)
        return pixels

    def __repr__(self) -> str:
        return f"Compose({self.steps!r})"


def classifier_chain(input_size: int, canonical_size: int = 224, clip_limit: float = 2.0,
                     tile_grid: tuple[int, int] = (8, 8)) -> Compose:
    """The chain the classifier was trained with: squash to the canonical training geometry,
    CLAHE there (so tiles cover the same anatomy whatever the source resolution), resize to the
    network input, standardise."""
    return Compose([
        Resize(canonical_size, canonical_size),
        Clahe(clip_limit, tile_grid),
        Resize(input_size, input_size),
        Normalize(),
    ])
