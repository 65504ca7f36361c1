"""Convert trained Keras models to the LiteRT (.tflite) files the app runs, and check them."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from ..analysis.manifest import sha256_file
from ..errors import ModelError

log = logging.getLogger(__name__)


#: LiteRT precisions: float32 (matches TensorFlow to 1e-4); dynamic-int8 (int8 weights per
#: channel, activations quantized on the fly at each inference); int8 (int8 weights and
#: activations, their ranges measured on representative inputs). Input and output stay float32.
PRECISIONS = ("float32", "dynamic-int8", "int8")


def convert_to_litert(model, out: Path, precision: str = "float32",
                      representative: np.ndarray | None = None) -> None:
    """Write ``model`` as a LiteRT file in one of ``PRECISIONS``; ``int8`` needs
    ``representative`` inputs (n, h, w, c) to measure the activation ranges on."""
    import tensorflow as tf

    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not one of {PRECISIONS}")
    if (precision == "int8") != (representative is not None):
        raise ValueError("representative inputs are needed for int8, and only for int8")
    # Through a SavedModel: the Keras 3 converter entry point needs a concrete signature.
    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp)
        converter.optimizations = [] if precision == "float32" else [tf.lite.Optimize.DEFAULT]
        if representative is not None:
            converter.representative_dataset = lambda: (
                [x[None].astype(np.float32)] for x in representative)
        out.write_bytes(converter.convert())


def export_classifier(model_dir: str | Path, precision: str = "float32",
                      representative: np.ndarray | None = None) -> Path:
    """Write ``classifier.tflite`` (outputs: probabilities, last feature map) and
    ``head.npz`` (the dense head's weights, for class activation maps) next to the .keras
    file, and record them with their sha256 in the manifest (``precision``: see
    ``convert_to_litert``)."""
    import keras

    from .classifier import FEATURE_LAYER

    model_dir = Path(model_dir)
    manifest_path = model_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    model = keras.models.load_model(model_dir / manifest["weights"], compile=False)
    features = model.get_layer(manifest.get("feature_layer", FEATURE_LAYER)).output
    both = keras.Model(model.inputs, [model.output, features])
    tflite = model_dir / "classifier.tflite"
    convert_to_litert(both, tflite, precision, representative)
    w, b = model.get_layer("predictions").get_weights()
    np.savez(model_dir / "head.npz", weights=w.astype(np.float32), bias=b.astype(np.float32))
    manifest["runtime"] = {"litert": tflite.name, "litert_sha256": sha256_file(tflite),
                           "outputs": ["probabilities", "features"], "head": "head.npz",
                           "head_sha256": sha256_file(model_dir / "head.npz")}
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    log.info("wrote %s (%.1f MB)", tflite, tflite.stat().st_size / 1e6)
    return tflite


def export_lung_mask(model_dir: str | Path, precision: str = "float32",
                     representative: np.ndarray | None = None) -> Path:
    """Export a trained lung-mask model folder's Keras weights to LiteRT and record the file
    with its sha256 in the manifest (float32: the tests compare the two to 1e-4; other
    precisions: see ``convert_to_litert``)."""
    import keras

    from .lung_mask import segmentation_models

    segmentation_models()
    model_dir = Path(model_dir)
    manifest_path = model_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    model = keras.models.load_model(model_dir / manifest["weights"], compile=False)
    tflite = model_dir / "lung_mask.tflite"
    convert_to_litert(model, tflite, precision, representative)
    manifest["runtime"] = {"litert": tflite.name, "litert_sha256": sha256_file(tflite),
                           "outputs": ["lung_probability"]}
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return tflite


def max_difference(keras_path: Path, tflite_path: Path, x: np.ndarray) -> float:
    """Largest absolute difference between the Keras model and its LiteRT file on ``x``."""
    import keras
    from ai_edge_litert.interpreter import Interpreter

    model = keras.models.load_model(keras_path, compile=False)
    ref = model.predict(x, verbose=0)
    interp = Interpreter(model_path=str(tflite_path))
    interp.allocate_tensors()
    inp = interp.get_input_details()[0]
    outs = interp.get_output_details()
    worst = 0.0
    for i in range(len(x)):
        interp.set_tensor(inp["index"], x[i:i + 1].astype(np.float32))
        interp.invoke()
        got = [interp.get_tensor(o["index"]) for o in outs]
        match = [g for g in got if g.shape[1:] == ref.shape[1:]]
        if not match:
            raise ModelError(f"LiteRT outputs {[g.shape for g in got]} do not include the Keras "
                             f"output shape {ref.shape[1:]}.", tflite_path)
        worst = max(worst, float(np.abs(match[0] - ref[i:i + 1]).max()))
    return worst
