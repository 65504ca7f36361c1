"""Preprocessing as small callables (config in __init__, work in __call__) chained by Compose."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

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


#: The values of a manifest's ``preprocessing`` entries that this RadiAI implements.
RESIZE_SQUASH = "squash (aspect ratio not kept)"
NORMALIZE_STANDARDISE = "per-image standardisation"


class PreprocessingError(ValueError):
    """A manifest's preprocessing asks for something this RadiAI does not implement."""


@dataclass(frozen=True)
class Preprocessing:
    """The one definition of a model's input chain, written into its manifest by training and
    read back from it by serving (no second copy to drift apart).

    Squash to ``canonical_size`` (the shared training images' geometry), CLAHE there (tiles
    cover the same anatomy whatever the source resolution), then, per model, squash to the
    network's ``input_size`` and standardise each image. ``lung_input`` says what the
    classifier sees of the lungs (``lung_input.MODES``).
    """

    input_size: int
    canonical_size: int = 224
    clip_limit: float = 2.0
    tile_grid: tuple[int, int] = (8, 8)
    lung_input: str = "plain"

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Preprocessing:
        """The chain a manifest describes (its ``input`` and ``preprocessing`` entries).

        Raises
        ------
        PreprocessingError
            An entry asks for a resize, normalisation, channel count or lung input this
            RadiAI does not implement, or a size is not a positive integer.
        """
        from .lung_input import MODES

        prep = manifest.get("preprocessing", {})
        inp = manifest.get("input", {})
        if not isinstance(prep, dict) or not isinstance(inp, dict):
            raise PreprocessingError("'preprocessing' and 'input' must be JSON objects")
        checks = (("resize", prep.get("resize", RESIZE_SQUASH), (RESIZE_SQUASH,)),
                  ("normalize", prep.get("normalize", NORMALIZE_STANDARDISE),
                   (NORMALIZE_STANDARDISE,)),
                  ("input.channels", inp.get("channels", 1), (1,)),
                  ("lung_input", prep.get("lung_input", "plain"), MODES))
        for name, value, known in checks:
            if value not in known:
                raise PreprocessingError(
                    f"asks for {name} {value!r}; this RadiAI implements "
                    + " or ".join(repr(k) for k in known))
        try:
            grid = tuple(int(v) for v in prep.get("clahe_tile_grid", (8, 8)))
            out = cls(input_size=int(inp["size"]),
                      canonical_size=int(prep.get("canonical_size", 224)),
                      clip_limit=float(prep.get("clahe_clip_limit", 2.0)),
                      tile_grid=(grid[0], grid[1]) if len(grid) == 2 else (0, 0),
                      lung_input=str(prep.get("lung_input", "plain")))
        except (KeyError, TypeError, ValueError) as exc:
            raise PreprocessingError(f"has an unusable size or CLAHE entry ({exc})") from None
        if min(out.input_size, out.canonical_size, *out.tile_grid) < 1 or out.clip_limit <= 0:
            raise PreprocessingError("needs positive sizes, tile grid and clip limit")
        return out

    def to_manifest(self) -> dict[str, Any]:
        """The ``preprocessing`` entry of a manifest (``from_manifest`` reads it back; the
        input size goes into the manifest's ``input`` entry)."""
        return {"canonical_size": self.canonical_size, "clahe_clip_limit": self.clip_limit,
                "clahe_tile_grid": list(self.tile_grid), "resize": RESIZE_SQUASH,
                "lung_input": self.lung_input, "normalize": NORMALIZE_STANDARDISE}

    @property
    def front(self) -> Compose:
        """Shared by every model with the same front: squash to the canonical size, CLAHE."""
        return Compose([Resize(self.canonical_size, self.canonical_size),
                        Clahe(self.clip_limit, self.tile_grid)])

    @property
    def resize(self) -> Compose:
        """Squash a front image (or its lung view) to the network input, not standardised
        (training augments between this step and ``Normalize``)."""
        return Compose([Resize(self.input_size, self.input_size)])

    @property
    def back(self) -> Compose:
        """Per model: squash to the network input and standardise."""
        return Compose([Resize(self.input_size, self.input_size), Normalize()])


def classifier_chain(input_size: int, canonical_size: int = 224, clip_limit: float = 2.0,
                     tile_grid: tuple[int, int] = (8, 8)) -> Compose:
    """The whole chain of ``Preprocessing`` in one Compose (front, then back)."""
    p = Preprocessing(input_size, canonical_size, clip_limit, tile_grid)
    return Compose([*p.front.steps, *p.back.steps])
