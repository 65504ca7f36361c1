"""Calibration: a classifier's abnormality score mapped to a calibrated probability."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError

#: The method name a manifest's ``calibration`` entry must carry.
METHOD = "pneumonia-rank logistic"


@dataclass(frozen=True)
class RankLogistic:
    """Score → probability through the score's rank among the model's own validation
    positives, then a logistic curve fitted on cohort-held-out predictions.

    ``u(s)`` is the share of the model's validation positives scoring below ``s``
    (interpolated between ``score_knots``/``rank_knots``; below the first knot and above the
    last it runs linearly to 0 and 1, so the map stays strictly increasing and keeps the
    score's ranking); ``p = sigmoid(slope · logit(u) + intercept)``. The rank is what carries
    over between models of one recipe: a cohort-held-out model's unseen normals and the
    shipped model's new normals fall at similar ranks among the positives (the cohort
    holdout predicted the withheld specificity at a fixed sensitivity), while raw scores of
    two models do not compare.
    """

    score_knots: tuple[float, ...]
    rank_knots: tuple[float, ...]
    slope: float
    intercept: float

    @classmethod
    def from_manifest(cls, entry: dict[str, Any], folder: Path) -> RankLogistic:
        """The map a manifest's ``calibration`` entry describes.

        Raises
        ------
        ModelError
            For another method, knots that are not increasing, or a non-positive slope.
        """
        if entry.get("method") != METHOD:
            raise ModelError(f"manifest.json's calibration method {entry.get('method')!r} is "
                             f"not supported (only {METHOD!r}).", folder)
        try:
            s = tuple(float(v) for v in entry["score_knots"])
            r = tuple(float(v) for v in entry["rank_knots"])
            slope, intercept = float(entry["slope"]), float(entry["intercept"])
        except (KeyError, TypeError, ValueError):
            raise ModelError("manifest.json's calibration entry needs 'score_knots', "
                             "'rank_knots', 'slope' and 'intercept'.", folder) from None
        if (len(s) < 2 or len(s) != len(r) or np.any(np.diff(s) <= 0)
                or np.any(np.diff(r) <= 0) or not (0.0 < s[0] and s[-1] < 1.0)
                or not (0.0 < r[0] and r[-1] < 1.0) or slope <= 0):
            raise ModelError("manifest.json's calibration knots must be strictly increasing "
                             "inside (0, 1) and its slope positive.", folder)
        return cls(s, r, slope, intercept)

    def rank(self, score: np.ndarray | float) -> np.ndarray:
        """``u(s)``: the score's rank among the validation positives, strictly increasing."""
        s = np.clip(np.asarray(score, dtype=np.float64), 0.0, 1.0)
        xs, ys = np.asarray(self.score_knots), np.asarray(self.rank_knots)
        u = np.interp(s, xs, ys)
        below, above = s < xs[0], s > xs[-1]
        u = np.where(below, ys[0] * s / xs[0], u)
        u = np.where(above, ys[-1] + (1.0 - ys[-1]) * (s - xs[-1]) / (1.0 - xs[-1]), u)
        return np.clip(u, 1e-12, 1.0 - 1e-12)

    def __call__(self, score: np.ndarray | float) -> np.ndarray:
        """The calibrated probability of the positive call for raw scores."""
        u = self.rank(score)
        z = self.slope * np.log(u / (1.0 - u)) + self.intercept
        return 1.0 / (1.0 + np.exp(-z))


def calibrated_probabilities(probs: np.ndarray, negative: int,
                             curve: RankLogistic) -> np.ndarray:
    """A softmax vector with its abnormality (1 − p[negative]) replaced by the calibrated
    probability: the negative label gets 1 − p, the positive labels share p in their own
    proportions (the split between them is the model's, uncalibrated)."""
    probs = np.asarray(probs, dtype=np.float64)
    raw = 1.0 - probs[negative]
    p = float(curve(raw))
    out = np.empty_like(probs)
    rest = np.delete(np.arange(len(probs)), negative)
    share = probs[rest] / raw if raw > 0 else np.full(len(rest), 1.0 / len(rest))
    out[rest] = p * share
    out[negative] = 1.0 - p
    return out
