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
    inversion: float  # log-odds that the image is a negative, from the classifier's features
    # Lung confidence on the negated image minus on the image itself: one more lung-model
    # pass, so measured only when the gate has a bound for it (None otherwise).
    inverse_gain: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        return {k: None if v is None else round(float(v), 5) for k, v in asdict(self).items()}


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
    """Distance of pooled classifier features from the training radiographs: per population
    of fit images (pediatric, adult), the RMS of the whitened PCA coordinates; the image's
    atypicality is its distance to the nearest population (``atypicality.npz`` holds each
    population's mean, components and scales, stacked)."""

    def __init__(self, mean: np.ndarray, components: np.ndarray, scales: np.ndarray) -> None:
        # One population is stored without the leading axis (gates fitted before v3).
        self.mean = mean if mean.ndim == 2 else mean[None]
        self.components = components if components.ndim == 3 else components[None]
        self.scales = scales if scales.ndim == 2 else scales[None]

    @classmethod
    def load(cls, path: Path) -> Atypicality:
        d = np.load(path)
        return cls(d["mean"], d["components"], d["scales"])

    @classmethod
    def fit(cls, populations: list[np.ndarray], n_components: int, seed: int) -> Atypicality:
        from sklearn.decomposition import PCA

        k = min([n_components] + [len(x) - 1 for x in populations])
        pcas = [PCA(n_components=k, random_state=seed).fit(x) for x in populations]
        return cls(np.stack([p.mean_ for p in pcas]), np.stack([p.components_ for p in pcas]),
                   np.stack([np.sqrt(p.explained_variance_) for p in pcas]))

    def save(self, path: Path) -> None:
        np.savez(path, mean=self.mean.astype(np.float32),
                 components=self.components.astype(np.float32),
                 scales=self.scales.astype(np.float32))

    def __call__(self, pooled: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(pooled)
        d = [np.sqrt(((((x - m) @ c.T) / s) ** 2).mean(axis=1))
             for m, c, s in zip(self.mean, self.components, self.scales, strict=True)]
        return np.min(d, axis=0)


class Inversion:
    """Logistic regression on the classifier's pooled features, standardised, that tells a
    radiograph from its negative (coefficients stored in ``inversion.npz``): returns the
    log-odds of "negative"."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray,
                 intercept: float) -> None:
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, float(intercept)

    @classmethod
    def load(cls, path: Path) -> Inversion:
        d = np.load(path)
        return cls(d["mean"], d["scale"], d["coef"], float(d["intercept"]))

    def save(self, path: Path) -> None:
        np.savez(path, mean=self.mean.astype(np.float32), scale=self.scale.astype(np.float32),
                 coef=self.coef.astype(np.float32), intercept=np.float32(self.intercept))

    def __call__(self, pooled: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(pooled) - self.mean) / self.scale
        return z @ self.coef + self.intercept


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
    ("inversion", "max", "does not look like a frontal chest radiograph with the usual grey "
                         "levels (dark lungs, bright bones): it may be a negative (inverted) "
                         "image, or not a radiograph"),
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
        self.inversion = Inversion.load(folder / m["inversion"]) if "inversion" in m else None

    def uses(self, feature: str) -> bool:
        """Whether any rule of this gate has a bound on ``feature``."""
        return bool(self.bounds.get(feature))

    def check(self, f: GateFeatures) -> str | None:
        """None when the image passes, else the reason it is refused."""
        values: dict[str, Any] = asdict(f)
        for feature, side, reason in RULES:
            bound = self.bounds.get(feature, {}).get(side)
            if bound is None:
                continue
            v = values[feature]
            if v is None:
                raise ValueError(f"the gate has a bound on {feature!r} but it was not measured")
            if (side == "min" and v < bound) or (side == "max" and v > bound):
                return reason
        return None
