"""Window/level for the viewer: defaults reproduce the loader's pixels, presets and invert."""

from __future__ import annotations

import numpy as np
import pytest

from radiai_core.reading.display import apply_window, default_window, preset_window
from radiai_core.reading.io import load_image

from ..samples import DICOM, KERMANY_NORMAL


@pytest.mark.parametrize("key", ["nometa_mono1", "nih_cardiomegaly"])
def test_default_window_reproduces_loader_pixels(key: str) -> None:
    img = load_image(DICOM[key])
    shown = apply_window(img, default_window(img))
    # LINEAR windowing in the loader uses (c − 0.5, w − 1); the viewer's plain linear window
    # differs from it by at most one grey level in a thousand.
    assert np.abs(shown - img.pixels).max() < 2e-3


def test_plain_image_default_is_identity() -> None:
    img = load_image(KERMANY_NORMAL)
    lo, hi = img.pixels.min(), img.pixels.max()
    np.testing.assert_allclose(apply_window(img, default_window(img)),
                               (img.pixels - lo) / (hi - lo), atol=1e-6)


def test_presets_change_what_is_shown() -> None:
    img = load_image(DICOM["jpeg_baseline"])
    lung = apply_window(img, preset_window(img, "lung"))
    bone = apply_window(img, preset_window(img, "bone"))
    assert lung.mean() > bone.mean()  # lung window brightens, bone window darkens the image
    assert not np.allclose(lung, bone)
    with pytest.raises(ValueError, match="unknown preset"):
        preset_window(img, "brain")


def test_invert_and_width_guard() -> None:
    img = load_image(KERMANY_NORMAL)
    w = default_window(img)
    np.testing.assert_allclose(apply_window(img, w, invert=True), 1 - apply_window(img, w))
    narrow = w.moved(0, -10 * w.width)
    out = apply_window(img, narrow)
    assert np.isfinite(out).all() and set(np.unique(out)) <= {0.0, 1.0}


def test_heat_colours_and_alpha() -> None:
    from radiai_core.reading.display import heat_rgba

    heat = np.array([[0.0, 0.5, 1.0]], np.float32)
    rgba = heat_rgba(heat, opacity=0.4)
    assert rgba.shape == (1, 3, 4) and rgba.dtype == np.uint8
    assert rgba[0, 0, 2] > rgba[0, 0, 0]  # cold is blue
    assert rgba[0, 2, 0] > rgba[0, 2, 2]  # hot is red
    assert list(rgba[0, :, 3]) == [0, 51, 102]  # alpha = heat × opacity
