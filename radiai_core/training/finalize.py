"""Turn training runs into shipped model folders: LiteRT export, validation metrics through
the shipped runtime, threshold chosen on validation, calibration and ROC plots."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.manifest import sha256_file
from ..analysis.models import Classifier, LungSegmenter, ModelSet
from ..analysis.pipeline import Analyzer
from ..errors import RadiAIError
from ..reading.io import load_image
from ..resources import models_dir
from .common import recalibrate_batchnorm
from .datasets import Sample, patient_split, read_multilabel_table, read_table
from .evaluate import (
    SAME_IMAGES,
    Predictions,
    bootstrap_ci,
    metrics,
    multilabel_metrics,
    per_label_metrics,
    plot_calibration,
    plot_roc_and_confusion,
    threshold_provenance,
    validation_metrics,
    youden_threshold,
)
from .export import export_classifier, export_lung_mask, max_difference

log = logging.getLogger(__name__)


def _copy_run(run_model_dir: Path, dest: Path, names: tuple[str, ...]) -> dict[str, Any]:
    """Copy a run's files and training curves into ``dest``; return its manifest."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy2(run_model_dir / name, dest / name)
    curves = run_model_dir.parent / "curves.png"
    if curves.is_file():
        shutil.copy2(curves, dest / "training_curves.png")
    return json.loads((dest / "manifest.json").read_text(encoding="utf-8"))


def holdout_samples(csv_path: Path, manifest: dict[str, Any]) -> list[Sample]:
    """The validation rows a classifier was tuned on, re-carved with its recorded split."""
    cfg = manifest["training"]["config"]
    rows = (read_multilabel_table(csv_path)[1] if cfg.get("multi_label")
            else read_table(csv_path))
    _, val = patient_split(rows, cfg["val_fraction"], cfg["seed"])
    return val


def classifier_predictions(clf: Classifier, samples: list[Sample],
                           seg: LungSegmenter | None = None) -> Predictions:
    """Probabilities of the shipped runtime through the one inference path every analysis
    takes (``Analyzer.measure``: the same front, lung mask, lung view and LiteRT pass), with
    the gate left out (validation images are all chest radiographs; a classifier being
    finalized has no gate fitted on it yet). ``seg`` defaults to the shipped lung mask."""
    seg = seg if seg is not None else LungSegmenter(models_dir() / "lung_mask")
    analyzer = Analyzer(ModelSet([clf], seg, gate=None))
    probs = [analyzer.measure(load_image(s.path)).probs for s in samples]
    return Predictions(clf.labels, samples, np.array(probs).reshape(-1, len(clf.labels)))


def finalize_classifier(run_model_dir: Path, csv_path: Path, dest: Path,
                        positive_call: str | None = None, negative_label: str | None = None,
                        n_boot: int = 1000) -> dict[str, Any]:
    """Copy the run's model, recompute its BatchNorm statistics on the training images,
    export LiteRT, then measure the shipped runtime on the validation split and choose the
    threshold there by Youden's rule (a multi-label model: one threshold per label). A
    softmax model needs its ``positive_call`` (what a positive decision is named) and a
    negative label (``negative_label``, else the run's): they are written into its manifest,
    never assumed.

    Raises
    ------
    RadiAIError
        A softmax model without a positive call or negative label, or a negative label that
        is not one of its labels.
    """
    import keras

    from .classifier import ClassifierConfig, preprocess_samples

    run_manifest = json.loads((run_model_dir / "manifest.json").read_text(encoding="utf-8"))
    if not run_manifest["training"]["config"].get("multi_label"):
        negative_label = negative_label or run_manifest.get("negative_label")
        if not positive_call or not negative_label:
            raise RadiAIError("finalizing a one-label-per-image classifier needs "
                              "--positive-call (e.g. pneumonia) and a negative label (give "
                              "--negative-label, e.g. normal).", run_model_dir)
        if negative_label not in run_manifest["labels"]:
            raise RadiAIError(f"has no label {negative_label!r} to be the negative one "
                              f"(its labels: {', '.join(run_manifest['labels'])}).",
                              run_model_dir)
    manifest = _copy_run(run_model_dir, dest, ("manifest.json", "validation_predictions.csv"))
    if negative_label:
        manifest["negative_label"] = negative_label
    cfg = ClassifierConfig(**manifest["training"]["config"])
    if cfg.multi_label:
        return _finalize_multilabel(run_model_dir, csv_path, dest, manifest, cfg,
                                    positive_call)
    model = keras.models.load_model(run_model_dir / "classifier.keras", compile=False)
    train, val = patient_split(read_table(csv_path), cfg.val_fraction, cfg.seed)
    x_va = preprocess_samples(val, cfg)
    y_va = np.array([manifest["labels"].index(s.label) for s in val])
    manifest = _recalibrated_export(
        model, train, x_va, lambda p: validation_metrics(p, y_va, manifest["labels"]), cfg,
        dest, manifest, positive_call)
    return measure_classifier(dest, csv_path, manifest, cfg.lung_input, cfg.lung_model,
                              n_boot)


def measure_classifier(dest: Path, csv_path: Path, manifest: dict[str, Any], lung_input: str,
                       lung_model: str | None, n_boot: int = 1000) -> dict[str, Any]:
    """Measure a classifier folder's LiteRT runtime on its validation split (through the one
    inference path), choose its threshold there by Youden's rule, draw its ROC, confusion and
    calibration plots and write the figures and the threshold into its manifest.

    Parameters
    ----------
    dest
        The model folder (``classifier.keras``, ``classifier.tflite``, ``manifest.json``).
    csv_path
        The training table, to re-carve the validation split the manifest records.
    manifest
        The folder's manifest as it will be written (updated in place).
    lung_input, lung_model
        The training recipe's lung input and lung model (``plain``: none needed).
    n_boot
        Patient-bootstrap resamples for the confidence intervals.

    Returns
    -------
    dict
        The validation figures written under ``metrics.validation``.
    """
    clf = Classifier(dest)
    val = holdout_samples(csv_path, manifest)
    seg = None
    if lung_input != "plain":
        seg = LungSegmenter(lung_model or models_dir() / "lung_mask")
    pred = classifier_predictions(clf, val, seg)
    negative = clf.negative_label or "normal"
    threshold = youden_threshold(pred, negative)
    m = metrics(pred, threshold, negative)
    m["threshold_rule"] = "Youden J (max sensitivity + specificity − 1) on the validation split"
    keys = tuple(k for k in ("auc", "accuracy", "sensitivity", "specificity", "accuracy_top1",
                             "auc_bacterial_vs_viral") if m.get(k) is not None)
    m["ci95_patient_bootstrap"] = bootstrap_ci(pred, threshold, keys, n_boot=n_boot,
                                               negative=negative)
    at_half = metrics(pred, 0.5, negative)
    m["at_0.5"] = {k: at_half.get(k) for k in ("accuracy", "sensitivity", "specificity")}
    m.update(plot_calibration(pred, dest / "calibration.png", negative))
    plot_roc_and_confusion(pred, m, dest, negative, "(validation)")
    x = np.stack([clf.back(clf.front(load_image(s.path).pixels))[..., None] for s in val[:16]])
    m["litert_max_abs_diff_vs_keras"] = max_difference(dest / "classifier.keras",
                                                       dest / "classifier.tflite", x)
    manifest["threshold"] = threshold
    manifest["threshold_provenance"] = threshold_provenance(
        "youden", threshold, manifest["training"]["config"], csv_path, len(val),
        {k: m[k] for k in ("sensitivity", "specificity") if m.get(k) is not None})
    m["figures_note"] = SAME_IMAGES
    manifest["metrics"] = {"validation": m}
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    log.info("classifier finalized: %s", json.dumps({k: m.get(k) for k in keys}))
    return m


def _recalibrated_export(model: Any, train: list[Sample], x_va: np.ndarray,
                         score: Callable[[np.ndarray], dict[str, float]], cfg: Any, dest: Path,
                         manifest: dict[str, Any], positive_call: str | None
                         ) -> dict[str, Any]:
    """Recompute the model's BatchNorm statistics on the training images (``score`` of the
    validation probabilities before and after goes into the manifest), save it into ``dest``
    and export it to LiteRT; returns the manifest as written."""
    from .classifier import predict_probabilities, preprocess_samples

    before = score(predict_probabilities(model, x_va))
    recalibrate_batchnorm(model, preprocess_samples(train, cfg))
    after = score(predict_probabilities(model, x_va))
    model.save(dest / "classifier.keras")
    manifest["sha256"] = sha256_file(dest / "classifier.keras")
    manifest["batchnorm"] = {"rule": "moving statistics recomputed as the average over the "
                                     "training images",
                             "validation_before": before, "validation_after": after}
    if positive_call:
        manifest["positive_call"] = positive_call
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    export_classifier(dest)
    return json.loads((dest / "manifest.json").read_text(encoding="utf-8"))


def _finalize_multilabel(run_model_dir: Path, csv_path: Path, dest: Path,
                         manifest: dict[str, Any], cfg: Any, positive_call: str | None
                         ) -> dict[str, Any]:
    """``finalize_classifier`` for a multi-label run: BatchNorm statistics recomputed, LiteRT
    export, then per label on the validation split through the shipped runtime: its AUC and a
    Youden threshold where the split has both classes, 0.5 where it has not (said so)."""
    import keras

    from .classifier import preprocess_samples

    labels = manifest["labels"]
    model = keras.models.load_model(run_model_dir / "classifier.keras", compile=False)
    train, val = patient_split(read_multilabel_table(csv_path)[1], cfg.val_fraction, cfg.seed)
    x_va = preprocess_samples(val, cfg)
    y_va = np.array([s.targets for s in val], np.float32)
    manifest = _recalibrated_export(model, train, x_va,
                                    lambda p: multilabel_metrics(p, y_va, labels), cfg, dest,
                                    manifest, positive_call)
    clf = Classifier(dest)
    seg = (LungSegmenter(cfg.lung_model or models_dir() / "lung_mask")
           if cfg.lung_input != "plain" else None)
    probs = classifier_predictions(clf, val, seg).probs
    per_label, thresholds = per_label_metrics(y_va, probs, labels)
    aucs = [r["auc"] for r in per_label.values() if "auc" in r]
    m: dict[str, Any] = {"per_label": per_label, "n": len(val),
                         "auc_macro": float(np.mean(aucs)) if aucs else None}
    x = np.stack([clf.back(clf.front(load_image(s.path).pixels))[..., None] for s in val[:16]])
    m["litert_max_abs_diff_vs_keras"] = max_difference(dest / "classifier.keras",
                                                       dest / "classifier.tflite", x)
    manifest["threshold"] = 0.5
    manifest["thresholds"] = thresholds
    manifest["metrics"] = {"validation": m}
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    log.info("multi-label classifier finalized: macro AUC %s, thresholds %s", m["auc_macro"],
             thresholds)
    return m


def finalize_lung_mask(run_model_dir: Path, csv_path: Path, dest: Path) -> dict[str, Any]:
    """Copy the run's model, recompute its BatchNorm statistics on the training pairs,
    measure Dice on the held-out pairs before and after, export LiteRT."""
    import keras

    from .lung_mask import (
        LungMaskConfig,
        dice,
        load_pairs,
        predict_masks,
        read_pairs,
        segmentation_models,
        split_pairs,
    )

    manifest = _copy_run(run_model_dir, dest, ("manifest.json",))
    cfg = LungMaskConfig(**{**manifest["training"]["config"],
                            "decoder_filters": tuple(manifest["training"]["config"][
                                "decoder_filters"])})
    segmentation_models()
    model = keras.models.load_model(run_model_dir / "lung_mask.keras", compile=False)
    train, val = split_pairs(read_pairs(csv_path), cfg.val_fraction, cfg.seed)
    x_tr, _ = load_pairs(train, cfg.size)
    x_va, y_va = load_pairs(val, cfg.size)
    before = dice(predict_masks(model, x_va) >= 0.5, y_va >= 0.5)
    recalibrate_batchnorm(model, x_tr)
    after = dice(predict_masks(model, x_va) >= 0.5, y_va >= 0.5)
    model.save(dest / "lung_mask.keras")
    with open(dest / "validation_dice.csv", "w", encoding="utf-8") as f:
        f.write("image,patient_id,dataset,dice\n")
        for p, dv in zip(val, after, strict=True):
            f.write(f"{p.image.name},{p.patient_id},{p.dataset},{dv:.5f}\n")
    manifest["sha256"] = sha256_file(dest / "lung_mask.keras")
    manifest["metrics"] = {
        "val_dice_mean": float(after.mean()), "val_dice_median": float(np.median(after)),
        "val_dice_min": float(after.min()), "val_dice_p05": float(np.percentile(after, 5)),
        "val_dice_by_dataset": {ds: float(np.mean([d for p, d in zip(val, after, strict=True)
                                                   if p.dataset == ds]))
                                for ds in sorted({p.dataset for p in val})},
        "val_dice_mean_before_bn_recalibration": float(before.mean()),
        "n_validation": len(val)}
    manifest["batchnorm"] = "moving statistics recomputed as the average over the training pairs"
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    export_lung_mask(dest)
    manifest = json.loads((dest / "manifest.json").read_text(encoding="utf-8"))
    size = manifest["input"]["size"]
    x = np.random.default_rng(0).standard_normal((4, size, size, 1)).astype(np.float32)
    manifest["metrics"]["litert_max_abs_diff_vs_keras"] = max_difference(
        dest / "lung_mask.keras", dest / "lung_mask.tflite", x)
    (dest / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return manifest["metrics"]
