"""Lung-mask clean-up and suspected-region boxes from a class activation map."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class Box:
    """A suspected region in original image pixels. ``score`` is the share of the heat map's
    mass (inside the lungs) that falls in this region, in (0, 1]."""

    x: int
    y: int
    w: int
    h: int
    score: float

    def to_dict(self) -> dict[str, float | int]:
        """The box for JSON."""
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h, "score": round(self.score, 4)}


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


def boxes_from_heatmap(heat: np.ndarray, mask: np.ndarray, out_shape: tuple[int, int],
                       level: float = 0.5, max_boxes: int = 3,
                       min_fraction: float = 0.002) -> list[Box]:
    """Boxes around the regions where ``heat`` (in [0, 1]) is at least ``level`` inside
    ``mask`` (same grid as ``heat``), scaled to ``out_shape`` (rows, columns) of the original
    image and clipped to the mask's bounding box. Sorted by score, at most ``max_boxes``."""
    if heat.shape != mask.shape:
        raise ValueError(f"heat map {heat.shape} and mask {mask.shape} differ in shape")
    inside = np.where(mask, heat, 0.0).astype(np.float32)
    total = float(inside.sum())
    if total <= 0 or not mask.any():
        return []
    binary = (inside >= level).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    ys, xs = np.nonzero(mask)
    mx0, mx1, my0, my1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    sy, sx = out_shape[0] / heat.shape[0], out_shape[1] / heat.shape[1]
    boxes = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if area < min_fraction * heat.size:
            continue
        score = float(inside[labels == i].sum() / total)
        x0, y0 = max(x, mx0), max(y, my0)
        x1, y1 = min(x + w, mx1), min(y + h, my1)
        if x1 <= x0 or y1 <= y0:
            continue
        bx, by = int(round(x0 * sx)), int(round(y0 * sy))
        bw = max(1, min(int(round(x1 * sx)), out_shape[1]) - bx)
        bh = max(1, min(int(round(y1 * sy)), out_shape[0]) - by)
        boxes.append(Box(bx, by, bw, bh, score))
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
