"""Post-training int8 quantization of a finalized model folder, re-measured through its runtime."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.manifest import sha256_file
from ..analysis.models import Classifier, LungSegmenter
from ..analysis.preprocess import Preprocessing, Resize
from ..errors import RadiAIError
from ..reading.io import load_image
from .datasets import patient_split, read_table
from .export import PRECISIONS, export_classifier, export_lung_mask

log = logging.getLogger(__name__)

#: How many training images set the activation ranges (seeded draw from the training split).
N_REPRESENTATIVE = 256
SEED = 20261203


def _draw(items: list[Any], n: int) -> list[Any]:
    """A seeded, order-independent draw of ``n`` items (all when there are fewer)."""
    idx = np.random.default_rng(SEED).permutation(len(items))[:n]
    return [items[i] for i in sorted(idx)]


def _float_reference(model_dir: Path, runtime_name: str) -> Path:
    """The float32 LiteRT file kept aside while its quantized successor is measured against
    it."""
    return model_dir / f".{runtime_name}.float32"


def quantize_model(model_dir: str | Path, csv_path: str | Path, precision: str = "int8",
                   n_images: int = N_REPRESENTATIVE) -> dict[str, Any]:
    """Replace a finalized classifier's or lung mask's float32 LiteRT file by a quantized one
    and measure what that changed, through the runtime, on the model's own validation split.

    ``int8``: weights (per channel) and activations in int8, the activation ranges measured
    on ``n_images`` images of the model's **training** split drawn with a fixed seed.
    ``dynamic-int8``: int8 weights, activations quantized on the fly at each inference (no
    ranges to measure; closer to float32). The Keras file (the model's weights and
    ``sha256``) is not touched; the manifest gets the new ``runtime`` entry with
    ``precision`` and a ``quantization`` record: the agreement with the float32 runtime (a
    classifier: abnormality scores and decisions; a lung mask: Dice against the float32 masks
    and against the reference masks of its validation pairs). A classifier's validation
    figures and threshold are re-measured as ``finalize`` does and its calibration removed:
    calibrate it again afterwards, and refit the gate (both read the runtime's outputs).

    Parameters
    ----------
    model_dir
        A finalized ``classifier`` or ``lung_mask`` folder with a float32 runtime.
    csv_path
        The table it was trained from (the classifier's labelled table, or the lung-mask
        pairs table), to re-carve its training and validation split.
    precision
        ``int8`` or ``dynamic-int8``.
    n_images
        Training images that set the activation ranges (``int8``).

    Returns
    -------
    dict
        The ``quantization`` record written into the manifest.

    Raises
    ------
    RadiAIError
        A folder of another kind, or a runtime that is already quantized.
    """
    if precision not in PRECISIONS[1:]:
        raise ValueError(f"precision {precision!r} is not one of {PRECISIONS[1:]}")
    model_dir, csv_path = Path(model_dir), Path(csv_path)
    manifest_path = model_dir / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    kind = manifest.get("kind")
    if kind not in ("classifier", "lung_mask"):
        raise RadiAIError(f"is a {kind!r} model; quantization is for a classifier or a "
                          "lung mask.", model_dir)
    current = manifest.get("runtime", {}).get("precision", "float32")
    if current != "float32":
        raise RadiAIError(f"already runs in {current}; quantize from its float32 export "
                          "(`radiai train finalize`).", model_dir)
    runtime_name = manifest["runtime"]["litert"]
    kept = _float_reference(model_dir, runtime_name)
    (model_dir / runtime_name).replace(kept)
    try:
        if kind == "classifier":
            record = _quantize_classifier(model_dir, csv_path, manifest, kept, precision,
                                          n_images)
        else:
            record = _quantize_lung_mask(model_dir, csv_path, manifest, kept, precision,
                                         n_images)
    except BaseException:
        kept.replace(model_dir / runtime_name)
        raise
    kept.unlink()
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["runtime"]["precision"] = precision
    manifest["runtime"]["quantization"] = record
    manifest_path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    log.info("%s quantized: %s", model_dir, json.dumps(record.get("agreement")))
    return record


def _record(precision: str, n: int, source: str) -> dict[str, Any]:
    """How the runtime was made: the conversion and, for int8, the images that set the
    activation ranges."""
    if precision == "dynamic-int8":
        return {"method": "post-training dynamic-range quantization (TFLiteConverter, "
                          "Optimize.DEFAULT, no representative dataset): int8 weights per "
                          "channel, activations quantized to int8 on the fly at each "
                          "inference; float32 input and output"}
    return {"method": "post-training int8 (TFLiteConverter, Optimize.DEFAULT with a "
                      "representative dataset): int8 weights (per channel) and activations, "
                      "float32 input and output",
            "representative_images": n, "representative_from": source, "seed": SEED}


def _representative(precision: str, prep: Preprocessing,
                    paths: list[Path]) -> np.ndarray | None:
    """The model inputs of ``paths`` that an int8 conversion measures its activation ranges
    on (None for dynamic-int8, which needs none)."""
    if precision != "int8":
        return None
    return np.stack([prep.back(prep.front(load_image(p).pixels))[..., None] for p in paths])


def _quantize_classifier(model_dir: Path, csv_path: Path, manifest: dict[str, Any],
                         float_file: Path, precision: str, n_images: int) -> dict[str, Any]:
    """Quantized export of a classifier, its agreement with ``float_file`` and its
    re-measured validation figures."""
    from ..analysis.models import LiteModel
    from .finalize import holdout_samples, measure_classifier

    cfg = manifest["training"]["config"]
    if cfg.get("multi_label") or cfg.get("lung_input", "plain") != "plain":
        raise RadiAIError("quantization is implemented for one-label-per-image classifiers "
                          "on the plain input.", model_dir)
    prep = Preprocessing.from_manifest(manifest)
    train, _ = patient_split(read_table(csv_path), cfg["val_fraction"], cfg["seed"])
    chosen = _draw(train, n_images)
    export_classifier(model_dir, precision,
                      _representative(precision, prep, [Path(s.path) for s in chosen]))
    after = Classifier(model_dir)
    val = holdout_samples(csv_path, manifest)
    ref_model = LiteModel(float_file)
    p_float, p_quant = [], []
    for s in val:
        front = after.front(load_image(s.path).pixels)
        x = after.back(front)[None, :, :, None]
        p_float.append(next(o for o in ref_model(x) if o.ndim == 2)[0].astype(np.float64))
        p_quant.append(after.predict(front)[0])

    def score(probs: np.ndarray) -> float:
        value = after.abnormal_score(probs)
        if value is None:
            raise RadiAIError("has no negative label, so no abnormality score to compare.",
                              model_dir)
        return value

    a = np.array([score(p) for p in p_float])
    b = np.array([score(p) for p in p_quant])
    # Decisions as the app makes them (calibration and band as they stand, before refitting).
    d_float = [after.decide(score(after.calibrate(p))) for p in p_float]
    d_quant = [after.decide(score(after.calibrate(p))) for p in p_quant]
    record = _record(precision, len(chosen), "training split (patients never in validation)")
    record["agreement"] = {
        "validation_images": len(val),
        "abnormality_score_abs_difference_median": float(np.median(np.abs(a - b))),
        "abnormality_score_abs_difference_max": float(np.abs(a - b).max()),
        "decisions_changed": int(sum(x != y for x, y in zip(d_float, d_quant, strict=True))),
        "decisions_compared_with": "the float32 runtime's calibration and band",
        "float32_runtime_sha256": sha256_file(float_file)}
    # As after finalize: threshold by Youden on the runtime, no calibration until
    # `radiai train calibrate` fits it again on this runtime's scores.
    fresh = json.loads((model_dir / "manifest.json").read_text(encoding="utf-8"))
    for key in ("calibration", "indeterminate"):
        fresh.pop(key, None)
    measure_classifier(model_dir, csv_path, fresh, cfg.get("lung_input", "plain"),
                       cfg.get("lung_model"))
    return record


def _quantize_lung_mask(model_dir: Path, csv_path: Path, manifest: dict[str, Any],
                        float_file: Path, precision: str, n_images: int) -> dict[str, Any]:
    """Quantized export of a lung mask, its Dice against ``float_file``'s masks and against
    the reference masks of its validation pairs."""
    from ..analysis.models import LiteModel
    from .lung_mask import dice, read_pairs, split_pairs

    cfg = manifest["training"]["config"]
    prep = Preprocessing.from_manifest(manifest)
    train, val = split_pairs(read_pairs(csv_path), cfg["val_fraction"], cfg["seed"])
    chosen = _draw(train, n_images)
    export_lung_mask(model_dir, precision,
                     _representative(precision, prep, [p.image for p in chosen]))
    after = LungSegmenter(model_dir)
    ref_model = LiteModel(float_file)
    size, thr = after.input_size, after.threshold
    vs_float, vs_truth, vs_truth_float = [], [], []
    for p in val:
        front = after.front(load_image(p.image).pixels)
        m8 = after.predict(front) >= thr
        m32 = ref_model(after.back(front)[None, :, :, None])[0][0, :, :, 0] >= thr
        truth = Resize(size, size)(load_image(p.mask).pixels) >= 0.5
        vs_float.append(float(dice(m8[None], m32[None])[0]))
        vs_truth.append(float(dice(m8[None], truth[None])[0]))
        vs_truth_float.append(float(dice(m32[None], truth[None])[0]))
    d8, d32, df = np.array(vs_truth), np.array(vs_truth_float), np.array(vs_float)
    record = _record(precision, len(chosen), "training pairs (patients never in validation)")
    record["agreement"] = {
        "validation_pairs": len(val),
        "dice_vs_float32_median": float(np.median(df)), "dice_vs_float32_min": float(df.min()),
        "val_dice_mean_quantized": float(d8.mean()), "val_dice_min_quantized": float(d8.min()),
        "val_dice_mean_float32": float(d32.mean()), "val_dice_min_float32": float(d32.min()),
        "float32_runtime_sha256": sha256_file(float_file)}
    return record

