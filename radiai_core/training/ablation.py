"""Compare finalized classifiers on their shared validation split (e.g. the lung-input ablation)."""

from __future__ import annotations

import itertools
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.models import Classifier, LungSegmenter
from ..errors import DataError
from ..resources import models_dir
from .evaluate import Predictions, metrics, youden_threshold
from .finalize import classifier_predictions, holdout_samples

log = logging.getLogger(__name__)

KEYS = ("auc", "accuracy", "sensitivity", "specificity", "auc_bacterial_vs_viral")


def _predictions(folder: Path, csv_path: Path) -> tuple[Classifier, Predictions]:
    clf = Classifier(folder)
    seg = None
    if clf.lung_input != "plain":
        cfg = clf.manifest["training"]["config"]
        seg = LungSegmenter(cfg.get("lung_model") or models_dir() / "lung_mask")
    return clf, classifier_predictions(clf, holdout_samples(csv_path, clf.manifest), seg)


def compare_runs(model_dirs: dict[str, Path], csv_path: Path, reference: str,
                 n_boot: int = 1000, seed: int = 0, ensembles: bool = False) -> dict[str, Any]:
    """Metrics of each model at its own Youden threshold (as it would ship), and 95 % intervals
    of the difference to ``reference`` from one patient bootstrap shared by all models (paired:
    the same resampled patients for every model). With ``ensembles``, also the metrics of the
    mean probabilities of every combination of two or more models (``result["ensembles"]``,
    keyed ``"a+b"``), at the ensemble's own Youden threshold."""
    if reference not in model_dirs:
        raise DataError(f"reference {reference!r} is not among {sorted(model_dirs)}.")
    preds = {name: _predictions(Path(d), csv_path) for name, d in model_dirs.items()}
    paths = {name: [s.path for s in p.samples] for name, (_, p) in preds.items()}
    if any(v != paths[reference] for v in paths.values()):
        raise DataError("the models were validated on different splits (seed or validation "
                        "fraction differ); they cannot be compared pairwise.", csv_path)
    out: dict[str, Any] = {"reference": reference, "n": len(paths[reference]), "models": {}}
    thresholds = {}
    for name, (clf, pred) in preds.items():
        thresholds[name] = youden_threshold(pred, clf.negative_label or "normal")
        m = metrics(pred, thresholds[name], clf.negative_label or "normal")
        out["models"][name] = {"lung_input": clf.lung_input, "threshold": thresholds[name],
                               **{k: m.get(k) for k in KEYS}}
    samples = preds[reference][1].samples
    by_patient: dict[str, list[int]] = {}
    for i, s in enumerate(samples):
        by_patient.setdefault(s.patient_id, []).append(i)
    groups = list(by_patient.values())
    rng = np.random.default_rng(seed)
    diffs: dict[str, dict[str, list[float]]] = {n: {k: [] for k in KEYS} for n in preds
                                                if n != reference}
    for _ in range(n_boot):
        idx = np.concatenate([groups[j] for j in rng.integers(0, len(groups), len(groups))])
        sub = {}
        for name, (clf, pred) in preds.items():
            part = Predictions(pred.labels, [pred.samples[i] for i in idx], pred.probs[idx])
            sub[name] = metrics(part, thresholds[name], clf.negative_label or "normal")
        for name in diffs:
            for k in KEYS:
                if sub[name].get(k) is not None and sub[reference].get(k) is not None:
                    diffs[name][k].append(sub[name][k] - sub[reference][k])
    for name, d in diffs.items():
        out["models"][name]["difference_ci95"] = {
            k: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]
            for k, v in d.items() if v}
    if ensembles:
        out["ensembles"] = _ensembles(preds)
    return out


def _ensembles(preds: dict[str, tuple[Classifier, Predictions]]) -> dict[str, dict[str, Any]]:
    labels = {tuple(p.labels) for _, p in preds.values()}
    if len(labels) != 1:
        raise DataError("the models have different label sets; their probabilities cannot be "
                        "averaged.")
    out = {}
    for r in range(2, len(preds) + 1):
        for names in itertools.combinations(preds, r):
            first = preds[names[0]]
            mean = Predictions(first[1].labels, first[1].samples,
                               np.mean([preds[n][1].probs for n in names], axis=0))
            negative = first[0].negative_label or "normal"
            m = metrics(mean, youden_threshold(mean, negative), negative)
            out["+".join(names)] = {k: m.get(k) for k in ("threshold", *KEYS)}
    return out


def format_table(result: dict[str, Any]) -> str:
    """The comparison as a text table (one row per model, differences with their intervals)."""
    ref = result["reference"]
    width = max(len("model"), *(len(name) for name in result["models"])) + 2
    lines = [f"{result['n']} validation images; differences to {ref!r} with 95 % paired patient "
             "bootstrap intervals",
             f"{'model':<{width}}{'input':<8}" + "".join(f"{k:>26}" for k in KEYS)]
    for name, m in result["models"].items():
        cells = []
        for k in KEYS:
            v = m.get(k)
            text = "—" if v is None else f"{v:.4f}"
            ci = m.get("difference_ci95", {}).get(k)
            if ci is not None:
                text += f" ({ci[0]:+.3f}…{ci[1]:+.3f})"
            cells.append(f"{text:>26}")
        lines.append(f"{name:<{width}}{m['lung_input']:<8}" + "".join(cells))
    if result.get("ensembles"):
        width = max(width, *(len(name) + 2 for name in result["ensembles"]))
        lines += ["", "mean probabilities of several models (each at its own Youden threshold)",
                  f"{'models':<{width}}" + "".join(f"{k:>26}" for k in KEYS)]
        for name, m in result["ensembles"].items():
            cells = ["—" if m.get(k) is None else f"{m[k]:.4f}" for k in KEYS]
            lines.append(f"{name:<{width}}" + "".join(f"{c:>26}" for c in cells))
    return "\n".join(lines)
