"""Grad-CAM from the dense head equals Grad-CAM by back-propagation, and is guarded."""

from __future__ import annotations

import numpy as np
import pytest

from radiai_core.analysis.models import Classifier
from radiai_core.reading.io import load_image
from radiai_core.resources import models_dir

from ..samples import KERMANY_BACTERIAL

pytestmark = [
    pytest.mark.slow,
    # Keras names the functional model's input "image" and warns when it is given a bare
    # tensor, as this test does on purpose (the same call as the exported graph's).
    pytest.mark.filterwarnings("ignore:The structure of `inputs` doesn't match:UserWarning"),
]


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(models_dir() / "classifier")


def test_head_cam_equals_gradient_grad_cam(clf: Classifier) -> None:
    import keras
    import tensorflow as tf

    model = keras.models.load_model(clf.folder / "classifier.keras", compile=False)
    feat_model = keras.Model(model.inputs, model.get_layer(clf.manifest["feature_layer"]).output)
    dense = model.get_layer("predictions")
    x = clf.back(clf.front(load_image(KERMANY_BACTERIAL).pixels))[None, :, :, None]
    feats = feat_model(x, training=False)
    for c in range(len(clf.labels)):
        with tf.GradientTape() as tape:
            tape.watch(feats)
            logits = tf.matmul(tf.reduce_mean(feats, axis=[1, 2]), dense.kernel) + dense.bias
            score = logits[0, c]
        grads = tape.gradient(score, feats)[0]
        alpha = tf.reduce_mean(grads, axis=[0, 1])
        ref = tf.nn.relu(tf.reduce_sum(feats[0] * alpha, axis=-1)).numpy()
        ref = ref / ref.max() if ref.max() > 0 else ref
        np.testing.assert_allclose(clf.cam(feats[0].numpy(), c), ref, atol=1e-4)
    # The head holds the same weights as the runtime model (an int8 runtime's dense layer has
    # its weights quantized: the same within its quantization).
    probs, lite_feats = clf.predict(clf.front(load_image(KERMANY_BACTERIAL).pixels))
    logits = lite_feats.mean(axis=(0, 1)) @ clf.head_weights + np.load(
        clf.folder / "head.npz")["bias"]
    soft = np.exp(logits - logits.max())
    float32 = clf.manifest["runtime"].get("precision", "float32") == "float32"
    np.testing.assert_allclose(soft / soft.sum(), probs, atol=1e-4 if float32 else 0.01)


def test_cam_on_constant_image_is_finite(clf: Classifier) -> None:
    for value in (0.0, 0.5, 1.0):
        probs, feats = clf.predict(clf.front(np.full((300, 300), value, np.float32)))
        assert np.isfinite(probs).all() and abs(probs.sum() - 1) < 1e-4
        for c in range(len(clf.labels)):
            cam = clf.cam(feats, c)
            assert np.isfinite(cam).all() and 0.0 <= cam.min() and cam.max() <= 1.0


def test_all_zero_map_stays_zero(clf: Classifier) -> None:
    zeros = np.zeros((5, 5, clf.head_weights.shape[0]), np.float32)
    cam = clf.cam(zeros, 0)
    assert cam.shape == (5, 5) and not cam.any()
