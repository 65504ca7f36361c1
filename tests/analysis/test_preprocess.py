"""Preprocessing steps on a real radiograph, and the constant-image guard."""

from __future__ import annotations

import numpy as np

from radiai_core.analysis.preprocess import Clahe, Compose, Normalize, Resize, classifier_chain
from radiai_core.reading.io import load_image

from ..samples import DICOM, KERMANY_NORMAL


def test_clahe_raises_local_contrast() -> None:
    x = load_image(KERMANY_NORMAL).pixels
    y = Clahe(clip_limit=2.0, tile_grid=(8, 8))(x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert 0.0 <= y.min() and y.max() <= 1.0

    def local_std(a: np.ndarray) -> float:
        return float(np.mean([a[i:i + 28, j:j + 28].std() for i in range(0, 224, 28)
                              for j in range(0, 224, 28)]))

    assert local_std(y) > local_std(x) * 1.1
    stronger = Clahe(clip_limit=4.0)(x)
    assert local_std(stronger) > local_std(y)


def test_resize_squashes_to_the_model_input() -> None:
    img = load_image(DICOM["j2k_mono1"])  # 1955 × 1841, not square
    y = Resize(224, 224)(img.pixels)
    assert y.shape == (224, 224) and y.dtype == np.float32
    # Area interpolation keeps the mean grey level.
    assert abs(float(y.mean()) - float(img.pixels.mean())) < 0.005
    assert Resize(300, 400)(np.zeros((10, 10), np.float32)).shape == (300, 400)


def test_normalize_standardises() -> None:
    y = Normalize()(load_image(KERMANY_NORMAL).pixels)
    assert abs(float(y.mean())) < 1e-5 and abs(float(y.std()) - 1.0) < 1e-4


def test_constant_images_do_not_divide_by_zero() -> None:
    for value in (0.0, 0.5, 1.0):
        blank = np.full((300, 200), value, np.float32)
        out = classifier_chain(160)(blank)
        assert out.shape == (160, 160)
        assert np.isfinite(out).all() and (out == 0).all()


def test_compose_applies_in_order() -> None:
    x = load_image(KERMANY_NORMAL).pixels
    chain = Compose([Resize(64, 64), Normalize()])
    np.testing.assert_array_equal(chain(x), Normalize()(Resize(64, 64)(x)))
    assert "Resize" in repr(chain)
