"""Chest-radiograph gate: refuse what is not a frontal chest radiograph, with the reason."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .errors import ModelError


@dataclass(frozen=True)
class GateFeatures:
    """Measurements the gate decides on (all cheap, from one pass of each model)."""

    contrast: float  # standard deviation of the [0, 1] pixels (on a ≤ 512 px subsample)
    min_side: float  # the image's shorter side in pixels
    colourfulness: float  # 0 for grey sources
    lung_fraction: float  # share of the image covered by the cleaned lung mask
    lung_balance: float  # smaller / larger lung area (0 with fewer than two lungs)
    mask_confidence: float  # mean |2p − 1| of the lung probability map
    polarity: float  # mean grey between/below the lungs minus mean grey inside them
    atypicality: float  # distance of the classifier's pooled features from training images
    inverse_gain: float  # lung confidence on the negated image minus on the image itself

    def to_dict(self) -> dict[str, float]:
        return {k: round(float(v), 5) for k, v in asdict(self).items()}


def contrast(pixels: np.ndarray) -> float:
    """Grey-level standard deviation on a regular subsample (at most ~512 px a side): the same
    figure as on all pixels for any real image, at a fraction of the cost on large ones."""
    step = max(1, max(pixels.shape) // 512)
    return float(pixels[::step, ::step].std())


def lung_confidence(lung_prob: np.ndarray) -> float:
    """How sure the lung model is of the lungs it finds: mean |2p − 1| where p > 0.5 (0 when it
    finds none). Unlike the whole-image confidence it is not swamped by a confident "no lung"
    over the background."""
    inside = lung_prob > 0.5
    return float(np.abs(2.0 * lung_prob[inside] - 1.0).mean()) if inside.any() else 0.0


def lung_features(lung_prob: np.ndarray, mask: np.ndarray, front: np.ndarray
                  ) -> tuple[float, float, float, float]:
    """(lung_fraction, lung_balance, mask_confidence, polarity) on the mask grid."""
    fraction = float(mask.mean())
    confidence = float(np.abs(2.0 * lung_prob - 1.0).mean())
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    areas = sorted(stats[1:, cv2.CC_STAT_AREA].tolist(), reverse=True)
    balance = float(areas[1] / areas[0]) if len(areas) >= 2 else 0.0
    if not mask.any():
        return fraction, balance, confidence, 0.0
    grey = cv2.resize(front, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(mask)
    box = np.zeros_like(mask)
    box[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True
    between = box & ~mask
    polarity = float(grey[between].mean() - grey[mask].mean()) if between.any() else 0.0
    return fraction, balance, confidence, polarity


class Atypicality:
    """Mahalanobis distance of pooled classifier features in a whitened PCA space fitted on
    training radiographs (mean, components, scales stored in ``atypicality.npz``)."""

    def __init__(self, mean: np.ndarray, components: np.ndarray, scales: np.ndarray) -> None:
        self.mean, self.components, self.scales = mean, components, scales

    @classmethod
    def load(cls, path: Path) -> Atypicality:
        d = np.load(path)
        return cls(d["mean"], d["components"], d["scales"])

    def save(self, path: Path) -> None:
        np.savez(path, mean=self.mean.astype(np.float32),
                 components=self.components.astype(np.float32), scales=self.scales.astype(np.float32))

    def __call__(self, pooled: np.ndarray) -> np.ndarray:
        z = ((np.atleast_2d(pooled) - self.mean) @ self.components.T) / self.scales
        return np.sqrt((z ** 2).mean(axis=1))


# Each rule: feature, bound side, and the plain-words reason shown to the reader. The first
# rule that fails gives the reason, so "inverted" comes last: it is only said of an image that
# otherwise looks like a chest radiograph.
RULES: list[tuple[str, str, str]] = [
    ("contrast", "min", "is almost uniform (blank or nearly blank); there is no radiograph to "
                        "analyse"),
    ("min_side", "min", "is too small to be a radiograph (fewer than 128 pixels on a side)"),
    ("colourfulness", "max", "is a colour image (a photograph or screenshot?), not a radiograph"),
    ("lung_fraction", "min", "shows no lung fields; it does not look like a frontal chest "
                             "radiograph"),
    ("lung_fraction", "max", "does not look like a frontal chest radiograph (implausible lung "
                             "fields)"),
    ("mask_confidence", "min", "does not look like a frontal chest radiograph (the lung fields "
                               "cannot be found with confidence)"),
    ("atypicality", "max", "is unlike the chest radiographs RadiAI was trained on; it is probably "
                           "not a frontal chest radiograph"),
    ("inverse_gain", "max", "looks like a chest radiograph only when its grey levels are "
                            "reversed; the image is probably inverted (negative)"),
    ("polarity", "min", "shows the lungs brighter than the tissue around them; the image is "
                        "probably inverted (negative)"),
]


class ChestGate:
    """Bounds per feature, learned from chest radiographs only (see ``radiai train gate``)."""

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        path = folder / "manifest.json"
        if not path.is_file():
            raise ModelError("has no manifest.json; is this a RadiAI gate folder?", folder)
        m = json.loads(path.read_text(encoding="utf-8"))
        if m.get("kind") != "gate":
            raise ModelError(f"holds a {m.get('kind')!r} model, not a gate.", folder)
        self.manifest = m
        self.bounds: dict[str, dict[str, float]] = m["bounds"]
        self.atypicality = Atypicality.load(folder / m["atypicality"])

    def check(self, f: GateFeatures) -> str | None:
        """None when the image passes, else the reason it is refused."""
        values: dict[str, Any] = asdict(f)
        for feature, side, reason in RULES:
            bound = self.bounds.get(feature, {}).get(side)
            if bound is None:
                continue
            v = values[feature]
            if (side == "min" and v < bound) or (side == "max" and v > bound):
                return reason
        return None
