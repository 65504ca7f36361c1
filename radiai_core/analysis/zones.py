"""Lung zones: each lung of the lung mask in upper, middle and lower thirds, and the share of a
heat map's mass that falls in each."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

#: Zone names in the order of the label image ``zone_labels`` makes (1..6); the patient's right
#: lung is on the image's left (radiological convention: the patient faces the reader).
ZONES = ("right upper", "right middle", "right lower", "left upper", "left middle", "left lower")
OUTSIDE = "outside the lungs"

#: A zone is reported when it holds at least this share of the map's mass.
MIN_SHARE = 0.10


@dataclass(frozen=True)
class Zone:
    """A region of the image and the share of the heat map's mass in it.

    ``name`` is one of ``ZONES`` (e.g. "right lower": the lower third of the patient's right
    lung) or ``OUTSIDE``; ``share`` is a fraction of the map's whole mass, in [0, 1].
    """

    name: str
    share: float

    def to_dict(self) -> dict[str, Any]:
        """The zone for JSON (share to 4 decimals)."""
        return {"name": self.name, "share": round(self.share, 4)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Zone:
        """The zone ``to_dict`` wrote."""
        return cls(name=str(d["name"]), share=float(d["share"]))


def zone_labels(mask: np.ndarray) -> np.ndarray:
    """Label every lung pixel of ``mask`` with its zone (1..6 in the order of ``ZONES``; 0
    outside the lungs).

    The two lungs are the mask's two largest connected regions: the one on the image's left is
    the patient's right lung. When the lungs touch (one region) or one is missing, the mask's
    horizontal middle splits them. Each lung is cut into thirds of its own height.

    Parameters
    ----------
    mask : ndarray of bool, shape (h, w)
        The lung mask.

    Returns
    -------
    ndarray of int8, shape (h, w)
    """
    m = mask.astype(np.uint8)
    out = np.zeros(m.shape, np.int8)
    if not m.any():
        return out
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(m, connectivity=8)
    order = np.argsort(stats[1:, cv2.CC_STAT_AREA])[::-1][:2] + 1
    ys, xs = np.nonzero(m)
    mid = (int(xs.min()) + int(xs.max()) + 1) / 2.0
    if len(order) == 2 and (centroids[order[0], 0] < mid) != (centroids[order[1], 0] < mid):
        right = labels == min(order, key=lambda i: centroids[i, 0])
        lungs = (right, (m > 0) & ~right)
    else:
        cols = np.arange(m.shape[1])[None, :]
        lungs = ((m > 0) & (cols < mid), (m > 0) & (cols >= mid))
    for side, lung in enumerate(lungs):
        if not lung.any():
            continue
        rows = np.nonzero(lung.any(axis=1))[0]
        top, height = int(rows.min()), int(rows.max()) + 1 - int(rows.min())
        third = np.clip((np.arange(m.shape[0]) - top) * 3 // height, 0, 2)
        out[lung] = (1 + 3 * side + third[:, None].repeat(m.shape[1], axis=1))[lung]
    return out


def evidence_zones(heat: np.ndarray, mask: np.ndarray,
                   min_share: float = MIN_SHARE) -> list[Zone]:
    """The lung zones that hold the heat map's evidence, and the share outside the lungs.

    Parameters
    ----------
    heat : ndarray, shape (h, w)
        A heat map (non-negative), on the same grid as ``mask``.
    mask : ndarray of bool, shape (h, w)
        The lung mask.
    min_share : float
        Zones holding less than this share of the map's mass are left out.

    Returns
    -------
    list of Zone
        The zones at or above ``min_share``, largest share first, then always the share
        outside the lungs (``OUTSIDE``). Empty when the map has no mass or there is no mask.

    Raises
    ------
    ValueError
        ``heat`` and ``mask`` differ in shape.
    """
    if heat.shape != mask.shape:
        raise ValueError(f"heat map {heat.shape} and mask {mask.shape} differ in shape")
    h = np.maximum(heat.astype(np.float64), 0.0)
    total = float(h.sum())
    if total <= 0 or not mask.any():
        return []
    labels = zone_labels(mask)
    mass = np.bincount(labels.ravel(), weights=h.ravel(), minlength=len(ZONES) + 1) / total
    zones = [Zone(name, float(mass[i + 1])) for i, name in enumerate(ZONES)
             if mass[i + 1] >= min_share]
    zones.sort(key=lambda z: z.share, reverse=True)
    return [*zones, Zone(OUTSIDE, float(mass[0]))]


def describe(zones: Sequence[Zone], tr: Callable[[str], str] | None = None) -> str:
    """The zones holding the evidence in one line: "right lower zone 52 %, left lower zone
    21 %; 9 % outside the lungs".

    Parameters
    ----------
    zones : sequence of Zone
        As ``evidence_zones`` gives them.
    tr : callable, optional
        Translates each phrase and zone name (a face's translator); English without it.

    Returns
    -------
    str
    """
    t = tr or (lambda text: text)
    inside = [t("{zone} zone {share}").format(zone=t(z.name), share=f"{round(z.share * 100)} %")
              for z in zones if z.name != OUTSIDE]
    text = ", ".join(inside) if inside else t("no lung zone holds 10 % of the map")
    outside = [t("{share} outside the lungs").format(share=f"{round(z.share * 100)} %")
               for z in zones if z.name == OUTSIDE]
    return "; ".join([text, *outside])
