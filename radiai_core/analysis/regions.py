"""Lung-mask clean-up and boxes around the peaks of a heat map."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    """A region around a peak of the heat map, in original image pixels. ``score`` is the share
    of the map's whole mass that falls in the region, in (0, 1]; ``in_lungs`` is False when
    most of that mass lies outside the lung contour (the faces label such a box)."""

    x: int
    y: int
    w: int
    h: int
    score: float
    in_lungs: bool = True

    def to_dict(self) -> dict[str, float | int | bool]:
        """The box for JSON."""
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h,
                "score": round(self.score, 4), "in_lungs": self.in_lungs}


def clean_lung_mask(prob: np.ndarray, threshold: float = 0.5,
                    min_fraction: float = 0.01) -> np.ndarray:
    """Binary mask from a lung probability map: the (at most) two largest connected regions,
    each at least ``min_fraction`` of the image, with holes filled."""
    binary = (prob >= threshold).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = [i + 1 for i in np.argsort(areas)[::-1][:2] if areas[i] >= min_fraction * binary.size]
    mask = np.isin(labels, keep).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    filled = np.zeros_like(mask)
    cv2.drawContours(filled, contours, -1, 1, thickness=cv2.FILLED)
    return filled.astype(bool)


#: The map is called diffuse when the area at or above half its peak covers more than this
#: share of the image: no region stands out, so no box is drawn.
DIFFUSE_AREA = 0.25


def is_diffuse(heat: np.ndarray, level: float = 0.5, max_area: float = DIFFUSE_AREA) -> bool:
    """Whether a heat map (in [0, 1], peak 1) has no focal evidence: it is all zero, or its
    area at or above ``level`` covers more than ``max_area`` of the image.

    Parameters
    ----------
    heat : ndarray, shape (h, w)
        The heat map.
    level : float
        The share of the peak that counts as "hot".
    max_area : float
        The largest hot share of the image that still counts as focal.

    Returns
    -------
    bool
    """
    top = float(heat.max()) if heat.size else 0.0
    return top <= 0 or float((heat >= level * top).mean()) > max_area


def boxes_from_heatmap(heat: np.ndarray, mask: np.ndarray, out_shape: tuple[int, int],
                       level: float = 0.5, max_boxes: int = 3,
                       min_fraction: float = 0.002) -> list[Box]:
    """Boxes around the peaks of ``heat``: its connected regions at or above ``level`` of its
    maximum, wherever they are (the map is not clipped to the lungs), scaled to ``out_shape``.

    Parameters
    ----------
    heat : ndarray, shape (h, w)
        The heat map, in [0, 1].
    mask : ndarray of bool, shape (h, w)
        The lung mask on the same grid; a box whose region has most of its mass outside it
        gets ``in_lungs=False``.
    out_shape : (int, int)
        The original image's (rows, columns).
    level : float
        The share of the map's maximum a region must reach.
    max_boxes : int
        At most this many boxes, largest score first.
    min_fraction : float
        Regions smaller than this share of the grid are dropped.

    Returns
    -------
    list of Box
        Empty when the map is diffuse (``is_diffuse``) or all zero.

    Raises
    ------
    ValueError
        ``heat`` and ``mask`` differ in shape.
    """
    if heat.shape != mask.shape:
        raise ValueError(f"heat map {heat.shape} and mask {mask.shape} differ in shape")
    h = np.maximum(heat.astype(np.float32), 0.0)
    total = float(h.sum())
    if total <= 0 or is_diffuse(h, level):
        return []
    binary = (h >= level * float(h.max())).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    sy, sx = out_shape[0] / h.shape[0], out_shape[1] / h.shape[1]
    boxes = []
    for i in range(1, n):
        x, y, w, hh, area = stats[i]
        if area < min_fraction * h.size:
            continue
        region = labels == i
        mass = float(h[region].sum())
        in_lungs = float(h[region & mask].sum()) >= 0.5 * mass
        bx, by = int(round(x * sx)), int(round(y * sy))
        bw = max(1, min(int(round((x + w) * sx)), out_shape[1]) - bx)
        bh = max(1, min(int(round((y + hh) * sy)), out_shape[0]) - by)
        boxes.append(Box(bx, by, bw, bh, mass / total, in_lungs))
    boxes.sort(key=lambda b: b.score, reverse=True)
    return boxes[:max_boxes]


def mask_contours(mask: np.ndarray, smooth: bool = False) -> list[np.ndarray]:
    """Outer contours of a binary mask as (n, 2) arrays of (x, y) pixel coordinates.

    ``smooth``: the mask is computed on a coarser grid than the image and scaled up, so its
    edge is a staircase; a Gaussian blur (about 1/40 of the image) re-thresholded at 0.5 and a
    polygon simplification to within a pixel give the outline a reader expects, without
    moving it (the blur is symmetric).
    """
    m = mask.astype(np.uint8)
    if smooth and m.any():
        k = max(5, int(round(max(m.shape) / 40)) | 1)
        m = (cv2.GaussianBlur(m.astype(np.float32), (k, k), 0) >= 0.5).astype(np.uint8)
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        contours = tuple(cv2.approxPolyDP(c, 0.75, True) for c in contours)
    else:
        contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return [c[:, 0, :] for c in contours if len(c) >= 3]
