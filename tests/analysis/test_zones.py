"""Lung zones (radiai_core.analysis.zones) and the boxes around a heat map's peaks
(radiai_core.analysis.regions), on real lung masks: a map placed in a known lung third comes out
as that zone; a peak outside the lung contour is flagged; a diffuse map gets no box."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from radiai_core.analysis.regions import boxes_from_heatmap, is_diffuse
from radiai_core.analysis.zones import OUTSIDE, ZONES, Zone, describe, evidence_zones, zone_labels

from ..samples import DATA

MASK = DATA / "lung_masks" / "masks" / "CHNCXR_0001_0.png"  # a manual mask of both lungs


@pytest.fixture(scope="module")
def mask() -> np.ndarray:
    m = cv2.imread(str(MASK), cv2.IMREAD_GRAYSCALE)
    return cv2.resize(m, (256, 256), interpolation=cv2.INTER_NEAREST) > 127


def blob(shape: tuple[int, int], y: float, x: float, sigma: float = 6.0) -> np.ndarray:
    yy, xx = np.mgrid[:shape[0], :shape[1]]
    return np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / (2 * sigma ** 2)).astype(np.float32)


def third_centre(mask: np.ndarray, zone: str) -> tuple[float, float]:
    """The centre of a zone drawn by hand from the mask: the lung on the image's left is the
    patient's right; its rows split in thirds."""
    cols = np.nonzero(mask.any(axis=0))[0]
    mid = (cols.min() + cols.max() + 1) / 2
    side, level = zone.split()
    half = mask.copy()
    if side == "right":
        half[:, int(mid):] = False
    else:
        half[:, :int(mid)] = False
    rows = np.nonzero(half.any(axis=1))[0]
    top, height = rows.min(), rows.max() + 1 - rows.min()
    k = ("upper", "middle", "lower").index(level)
    y = top + (k + 0.5) * height / 3
    xs = np.nonzero(half[int(y)])[0]
    return float(y), float(xs.mean())


def test_the_mask_splits_into_six_zones_right_lung_on_the_image_left(mask) -> None:
    labels = zone_labels(mask)
    assert set(np.unique(labels)) == set(range(7))
    assert not labels[~mask].any() and labels[mask].all()
    right = np.isin(labels, [1, 2, 3])
    assert np.nonzero(right)[1].mean() < np.nonzero(np.isin(labels, [4, 5, 6]))[1].mean()
    # thirds by height: each zone of a lung spans about a third of its rows
    for z in range(1, 7):
        rows = np.nonzero((labels == z).any(axis=1))[0]
        lung = np.nonzero(np.isin(labels, [1, 2, 3] if z <= 3 else [4, 5, 6]).any(axis=1))[0]
        assert abs(len(rows) - len(lung) / 3) <= 2


@pytest.mark.parametrize("zone", ZONES)
def test_a_map_in_one_lung_third_is_named_for_that_zone(mask, zone) -> None:
    y, x = third_centre(mask, zone)
    zones = evidence_zones(blob(mask.shape, y, x), mask)
    assert zones[0].name == zone
    assert zones[0].share > 0.6
    assert zones[-1].name == OUTSIDE and zones[-1].share < 0.3
    assert sum(z.share for z in zones) <= 1.0 + 1e-6


def test_a_map_outside_the_lungs_is_said_to_be_outside(mask) -> None:
    cols = np.nonzero(mask.any(axis=0))[0]
    x = (cols.min() + cols.max()) / 2  # the mediastinum, between the lungs
    rows = np.nonzero(mask.any(axis=1))[0]
    y = rows.min() + 0.3 * (rows.max() - rows.min())
    assert not mask[int(y), int(x)]
    zones = evidence_zones(blob(mask.shape, y, x, 4.0), mask)
    assert zones[-1] == Zone(OUTSIDE, pytest.approx(zones[-1].share))
    assert zones[-1].share > 0.7
    assert describe(zones).endswith("% outside the lungs")
    assert evidence_zones(np.zeros(mask.shape, np.float32), mask) == []


def test_describe_reads_like_a_report_line() -> None:
    zones = [Zone("right lower", 0.52), Zone("left lower", 0.21), Zone(OUTSIDE, 0.09)]
    assert describe(zones) == "right lower zone 52 %, left lower zone 21 %; 9 % outside the lungs"
    assert describe([Zone(OUTSIDE, 0.95)]) == ("no lung zone holds 10 % of the map; "
                                               "95 % outside the lungs")
    assert Zone.from_dict(Zone("left upper", 0.123456).to_dict()) == Zone("left upper", 0.1235)


def test_boxes_sit_on_the_peaks_and_say_when_they_are_outside_the_lungs(mask) -> None:
    y, x = third_centre(mask, "right lower")
    cols = np.nonzero(mask.any(axis=0))[0]
    rows = np.nonzero(mask.any(axis=1))[0]
    my, mx = rows.min() + 0.3 * (rows.max() - rows.min()), (cols.min() + cols.max()) / 2
    heat = np.maximum(blob(mask.shape, y, x, 8.0), 0.9 * blob(mask.shape, my, mx, 7.0))
    boxes = boxes_from_heatmap(heat, mask, (1024, 1024))
    assert len(boxes) == 2
    first, second = boxes
    assert first.in_lungs and not second.in_lungs
    # in image pixels (4x the grid): the first box holds the right-lower peak
    assert first.x <= 4 * x <= first.x + first.w and first.y <= 4 * y <= first.y + first.h
    assert second.x <= 4 * mx <= second.x + second.w
    assert first.score > second.score
    assert first.to_dict()["in_lungs"] is True and second.to_dict()["in_lungs"] is False


def test_a_diffuse_map_gets_no_box(mask) -> None:
    flat = np.full(mask.shape, 0.9, np.float32)
    flat[0, 0] = 1.0
    assert is_diffuse(flat)
    assert boxes_from_heatmap(flat, mask, (512, 512)) == []
    assert is_diffuse(np.zeros(mask.shape, np.float32))
    y, x = third_centre(mask, "left middle")
    assert not is_diffuse(blob(mask.shape, y, x))
