"""The classifier's lung views (plain, masked, crop) on a real radiograph and its real mask."""

from __future__ import annotations

import numpy as np
import pytest

from radiai_core.analysis.lung_input import lung_view
from radiai_core.analysis.models import LungSegmenter
from radiai_core.analysis.regions import clean_lung_mask
from radiai_core.reading.io import load_image
from radiai_core.resources import models_dir

from ..samples import KERMANY_NORMAL


@pytest.fixture(scope="module")
def front_and_mask() -> tuple[np.ndarray, np.ndarray]:
    seg = LungSegmenter(models_dir() / "lung_mask")
    front = seg.front(load_image(KERMANY_NORMAL).pixels)
    return front, clean_lung_mask(seg.predict(front), seg.threshold)


def test_plain_is_the_image_itself(front_and_mask) -> None:
    front, mask = front_and_mask
    view = lung_view(front, mask, "plain")
    assert view.pixels is front
    assert (view.x0, view.y0, view.x1, view.y1) == (0, 0, 224, 224)


def test_masked_blanks_only_outside_the_dilated_lungs(front_and_mask) -> None:
    front, mask = front_and_mask
    view = lung_view(front, mask, "masked", margin=0.06)
    assert view.pixels.shape == front.shape
    import cv2

    lungs = cv2.resize(mask.astype(np.uint8), (224, 224), interpolation=cv2.INTER_NEAREST) > 0
    # Inside the lungs nothing changes; a real chest has plenty of body outside them.
    assert np.array_equal(view.pixels[lungs], front[lungs])
    blank = view.pixels == 0
    assert 0.2 < blank.mean() < 0.8
    assert not (blank & lungs).any()
    # The dilation keeps a rim of about margin × 224 ≈ 13 px around the lungs.
    ys, xs = np.nonzero(lungs)
    assert view.pixels[ys.min() - 8:ys.min(), xs.min():xs.max()].any()


def test_crop_is_the_lung_box_with_a_margin(front_and_mask) -> None:
    front, mask = front_and_mask
    view = lung_view(front, mask, "crop", margin=0.05)
    assert view.pixels.shape == front.shape
    import cv2

    lungs = cv2.resize(mask.astype(np.uint8), (224, 224), interpolation=cv2.INTER_NEAREST) > 0
    ys, xs = np.nonzero(lungs)
    assert view.x0 == max(0, xs.min() - 11) and view.x1 == min(224, xs.max() + 12)
    assert view.y0 == max(0, ys.min() - 11) and view.y1 == min(224, ys.max() + 12)
    region = front[view.y0:view.y1, view.x0:view.x1]
    back = cv2.resize(view.pixels, (region.shape[1], region.shape[0]),
                      interpolation=cv2.INTER_AREA)
    assert np.abs(back - region).mean() < 0.02


def test_empty_mask_falls_back_to_plain_and_bad_mode_is_refused(front_and_mask) -> None:
    front, _ = front_and_mask
    empty = np.zeros((160, 160), bool)
    for mode in ("masked", "crop"):
        assert lung_view(front, empty, mode).pixels is front
    with pytest.raises(ValueError, match="unknown lung input mode"):
        lung_view(front, None, "zoomed")


def test_training_inputs_follow_the_lung_input_setting() -> None:
    """The training set is prepared with the same lung view the app will apply."""
    from radiai_core.training.classifier import ClassifierConfig, preprocess_samples
    from radiai_core.training.datasets import read_table

    from ..samples import KERMANY_DIR

    samples = read_table(KERMANY_DIR / "index.csv")[:3]
    x = {mode: preprocess_samples(samples, ClassifierConfig(size=96, lung_input=mode))
         for mode in ("plain", "masked", "crop")}
    assert all(v.shape == (3, 96, 96, 1) for v in x.values())
    assert (x["plain"] == 0).mean() < 0.01
    assert 0.2 < (x["masked"] == 0).mean() < 0.8  # outside the dilated lungs
    inside = x["masked"] > 0  # the lungs are untouched (the rim blends with the zeros when resized)
    assert np.median(np.abs(x["masked"][inside] - x["plain"][inside])) < 1e-4
    assert (x["masked"][inside] <= x["plain"][inside] + 1e-4).all()
    assert not np.allclose(x["crop"], x["plain"], atol=0.05)
