"""Shared training plumbing: seeds, thread settings, logging to a file, checkpoint state."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..reading.privacy import protect


def setup_tensorflow(seed: int) -> None:
    """Fixed seeds everywhere; use every core of this machine for one graph."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    n = os.cpu_count() or 2
    try:
        tf.config.threading.set_intra_op_parallelism_threads(n)
        tf.config.threading.set_inter_op_parallelism_threads(2)
    except RuntimeError:  # already initialised in this process (tests)
        pass


#: A run of at most this many training steps in all runs its training step eagerly. Tracing
#: and optimising DenseNet121's training graph took 80 s on this 2-core CPU with nothing else
#: running (over 200 s under load), about as long as 45 eager steps: the graph pays off only
#: for longer runs; a smoke run or a tiny table starts training at once.
EAGER_MAX_STEPS = 24


def run_eagerly(steps_per_epoch: int, epochs: int) -> bool:
    """Whether a run of ``epochs`` epochs of ``steps_per_epoch`` steps is too short for its
    training graph to pay for its tracing (``EAGER_MAX_STEPS``). The same operations run in
    either mode; only their dispatch differs.

    Parameters
    ----------
    steps_per_epoch
        Training batches per epoch.
    epochs
        Epochs of the whole run (a resumed run: all of them, done or not).

    Returns
    -------
    bool
        True to run the training step eagerly, False to compile it into a graph.
    """
    return steps_per_epoch * epochs <= EAGER_MAX_STEPS


def file_logger(out: Path, name: str) -> logging.Handler:
    """Attach a log file in ``out`` to the radiai_core logger; returns the handler."""
    out.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(out / f"{name}.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    protect(handler)
    logger = logging.getLogger("radiai_core")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def load_state(path: Path) -> dict[str, Any] | None:
    """A training run's saved state (epoch, history), or None when it has none yet."""
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write a training run's state (for --resume)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    tmp.replace(path)


def plot_curves(history: list[dict[str, float]], keys: list[str], out_png: Path,
                title: str) -> None:
    """Draw the training curves of a run's history into a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [h["epoch"] for h in history]
    fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.2))
    for ax, key in zip(axes if len(keys) > 1 else [axes], keys, strict=True):
        for prefix, style in (("train_", "-o"), ("val_", "-s")):
            vals = [h.get(prefix + key) for h in history]
            if any(v is not None for v in vals):
                ax.plot(epochs, vals, style, label=prefix.rstrip("_"), markersize=3)
        ax.set_xlabel("epoch")
        ax.set_title(key)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)


def recalibrate_batchnorm(model, x: np.ndarray, batch_size: int = 32) -> None:
    """Replace every BatchNorm layer's moving statistics with their average over ``x`` (weights
    unchanged). With few steps per epoch the exponential moving averages lag behind weights
    that are still moving, and inference-mode outputs suffer; this is the usual remedy."""
    import keras
    import tensorflow as tf

    bns = [layer for layer in model._flatten_layers() if isinstance(
        layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in bns]
    try:
        for i, start in enumerate(range(0, len(x) - batch_size + 1, batch_size)):
            for layer in bns:
                layer.momentum = i / (i + 1)  # running mean of the batch statistics
            model(standardise(tf.constant(x[start:start + batch_size])), training=True)
    finally:
        for layer, m in zip(bns, saved, strict=True):
            layer.momentum = m


def standardise(x):  # noqa: ANN001, ANN201 - a TensorFlow tensor in and out
    """Per-image standardisation of a (batch, h, w, 1) tensor, as ``preprocess.Normalize``
    does at inference: zero mean and unit deviation; a constant image becomes zeros."""
    import tensorflow as tf

    mean = tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True)
    std = tf.math.reduce_std(x, axis=[1, 2, 3], keepdims=True)
    return tf.where(std < 1e-6, tf.zeros_like(x), (x - mean) / tf.maximum(std, 1e-6))
