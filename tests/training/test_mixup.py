"""Mixup (``radiai train classifier --mixup``): every image, label and weight of a batch is
one convex blend of two of the batch's real films, with one mixing weight for all three."""

from __future__ import annotations

import numpy as np
import pytest

from radiai_core.training.classifier import ClassifierConfig, _mixup, preprocess_samples
from radiai_core.training.datasets import Sample

from ..samples import KERMANY_DIR

pytestmark = pytest.mark.slow


def test_mixup_blends_images_labels_and_weights_with_one_weight() -> None:
    paths = sorted((KERMANY_DIR / "images").glob("*.jpeg"))[:6]
    samples = [Sample(p, "normal", p.stem, "train") for p in paths]
    x = preprocess_samples(samples, ClassifierConfig(size=64))  # (n, 64, 64, 1) real films
    n = len(x)
    y = np.eye(3, dtype=np.float32)[np.arange(n) % 3]
    w = np.linspace(0.5, 2.0, n).astype(np.float32)
    xm, ym, wm = (np.asarray(t) for t in _mixup(0.4, seed=7)(x, y, w))
    assert xm.shape == x.shape and ym.shape == y.shape and wm.shape == w.shape
    assert np.allclose(ym.sum(axis=1), 1.0, atol=1e-5)  # still a distribution
    flat, mixed = x.reshape(n, -1), xm.reshape(n, -1)
    blended = 0
    for i in range(n):
        # find the partner j and the weight lam with mixed_i = lam x_i + (1 - lam) x_j
        best = None
        for j in range(n):
            d = flat[i] - flat[j]
            lam = 1.0 if j == i else float(np.dot(mixed[i] - flat[j], d) / np.dot(d, d))
            err = float(np.abs(lam * flat[i] + (1 - lam) * flat[j] - mixed[i]).max())
            if best is None or err < best[0]:
                best = (err, j, lam)
        err, j, lam = best
        assert err < 1e-4 and 0.0 <= lam <= 1.0
        assert np.allclose(ym[i], lam * y[i] + (1 - lam) * y[j], atol=1e-4)
        assert abs(wm[i] - (lam * w[i] + (1 - lam) * w[j])) < 1e-4
        blended += j != i and 0.02 < lam < 0.98
    assert blended >= 2  # Beta(0.4, 0.4) mixes, not a copy of the batch
