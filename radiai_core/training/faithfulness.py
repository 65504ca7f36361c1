"""Is a heat map the model's own? Deletion and insertion tests against random regions.

- **deletion**: blur (``explain.blurred``, a Gaussian of 5 % of the side) the ``FRACTION`` of the
  image where the map is highest and measure the drop of the finding's log-odds; the same for
  ``RANDOM_DRAWS`` regions of the same size chosen by smooth random fields (white noise smoothed
  by a Gaussian of ``FIELD_SIGMA`` of the side, its top ``FRACTION``). A faithful map's drop is
  far larger than the random regions'.
- **insertion**: the image blurred everywhere except that region (kept sharp): the rise of the
  log-odds over the fully blurred image, against the same random regions.

``bench/explain_compare.py`` chose the shipped explanation with these tests;
``radiai evaluate --protocol`` reports them for the shipped one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from ..analysis.explain import blurred

FRACTION = 0.15
RANDOM_DRAWS = 3
FIELD_SIGMA = 0.075

DEFINITIONS = (
    f"deletion: blur (Gaussian, 5 % of the side) the {FRACTION * 100:.0f} % of the image where "
    "the map is highest; drop of the pneumonia log-odds, divided by the mean drop for "
    f"{RANDOM_DRAWS} random regions of the same size (smooth random fields: noise smoothed by "
    f"{FIELD_SIGMA * 100:.1f} % of the side); median over the images whose random drop is at "
    "least 0.05, and the share of all images whose drop beats every random draw. insertion: "
    "everything blurred but that region; rise of the "
    "log-odds over the fully blurred image, against the same random regions. mass on lungs: "
    "the map's mass inside the lung mask over the lungs' share of the image (1 = chance); "
    "peak in lungs: the map's maximum inside the lung mask."
)


def top_mask(heat: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """The ``fraction`` of pixels where ``heat`` is highest (ties broken at random), as 0/1.

    Parameters
    ----------
    heat : ndarray, shape (h, w)
        A map.
    fraction : float
        The share of pixels to take.
    rng : numpy.random.Generator
        Breaks ties (a flat map gives a random region).

    Returns
    -------
    ndarray, shape (h, w), float32
    """
    flat = (heat.astype(np.float64) + rng.random(heat.shape) * 1e-6).ravel()
    k = max(1, int(round(fraction * flat.size)))
    m = np.zeros(flat.size, np.float32)
    m[np.argpartition(-flat, k - 1)[:k]] = 1.0
    return m.reshape(heat.shape)


def random_field(shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """A smooth random field: white noise blurred by a Gaussian of ``FIELD_SIGMA`` of the side.

    Parameters
    ----------
    shape : (int, int)
        (height, width).
    rng : numpy.random.Generator
        The noise's source.

    Returns
    -------
    ndarray, shape (h, w), float32
    """
    noise = rng.standard_normal(shape).astype(np.float32)
    return cv2.GaussianBlur(noise, (0, 0), FIELD_SIGMA * max(shape),
                            borderType=cv2.BORDER_REFLECT)


@dataclass(frozen=True)
class Faithfulness:
    """One map's deletion and insertion figures on one image (log-odds units)."""

    drop: float
    random_drops: tuple[float, ...]
    gain: float
    random_gains: tuple[float, ...]

    @property
    def beats_random(self) -> bool:
        """The map's drop is larger than every random region's."""
        return bool(self.drop > max(self.random_drops))

    @property
    def gain_beats_random(self) -> bool:
        """The map's insertion gain is larger than every random region's."""
        return bool(self.gain > max(self.random_gains))


def deletion_insertion(x: np.ndarray, heats: dict[str, np.ndarray],
                       score: Callable[[np.ndarray], np.ndarray],
                       rng: np.random.Generator) -> dict[str, Faithfulness]:
    """The deletion and insertion tests of several maps of one image, in one batch.

    Parameters
    ----------
    x : ndarray, shape (h, w)
        The image the maps are on (values in [0, 1]).
    heats : dict of str to ndarray, shape (h, w)
        The maps, by name; all share the same random regions.
    score : callable
        Log-odds of the finding for a batch of images (n, h, w) → (n,).
    rng : numpy.random.Generator
        Draws the random regions.

    Returns
    -------
    dict of str to Faithfulness
    """
    fill = blurred(x)
    regions = [top_mask(random_field(x.shape, rng), FRACTION, rng) for _ in range(RANDOM_DRAWS)]
    regions += [top_mask(h, FRACTION, rng) for h in heats.values()]
    deleted = [x + r * (fill - x) for r in regions]
    inserted = [fill + r * (x - fill) for r in regions]
    s = np.asarray(score(np.stack([x, fill, *deleted, *inserted])), np.float64)
    n = len(regions)
    drops, gains = s[0] - s[2:2 + n], s[2 + n:] - s[1]
    rd = tuple(float(v) for v in drops[:RANDOM_DRAWS])
    rg = tuple(float(v) for v in gains[:RANDOM_DRAWS])
    return {name: Faithfulness(float(drops[RANDOM_DRAWS + i]), rd, float(gains[RANDOM_DRAWS + i]),
                               rg) for i, name in enumerate(heats)}


def summary(rows: list[Faithfulness]) -> dict[str, float]:
    """Figures over images: the median of drop / mean random drop (images whose random drop is
    under 0.05 log-odds left out of that ratio), the ratio of the median drops, the share of
    images beating every random draw, and the same for insertion.

    Parameters
    ----------
    rows : list of Faithfulness
        One per image.

    Returns
    -------
    dict of str to float
    """
    def ratio(num: list[float], den: list[float]) -> float:
        r = [a / b for a, b in zip(num, den, strict=True) if b > 0.05]
        return float(np.median(r)) if r else float("nan")

    drop = [r.drop for r in rows]
    rdrop = [float(np.mean(r.random_drops)) for r in rows]
    gain = [r.gain for r in rows]
    rgain = [float(np.mean(r.random_gains)) for r in rows]
    return {
        "n": len(rows),
        "deletion_ratio_median": ratio(drop, rdrop),
        "deletion_ratio_of_medians": float(np.median(drop) / np.median(rdrop))
        if rows and np.median(rdrop) != 0 else float("nan"),
        "deletion_beats_every_random": float(np.mean([r.beats_random for r in rows]))
        if rows else float("nan"),
        "median_drop": float(np.median(drop)) if rows else float("nan"),
        "median_random_drop": float(np.median(rdrop)) if rows else float("nan"),
        "insertion_ratio_median": ratio(gain, rgain),
        "insertion_beats_every_random": float(np.mean([r.gain_beats_random for r in rows]))
        if rows else float("nan"),
        "median_gain": float(np.median(gain)) if rows else float("nan"),
        "median_random_gain": float(np.median(rgain)) if rows else float("nan"),
    }
