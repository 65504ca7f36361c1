"""The shipped threshold, chosen by code: the card's rule applied to the model's own validation
split through the shipped pipeline, written into its manifest with where it came from."""

from __future__ import annotations

import json
import logging
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.models import load_models
from ..analysis.pipeline import Analyzer
from ..errors import RadiAIError
from .evaluate import RULES, metrics, predict_table, threshold_provenance, youden_threshold
from .finalize import holdout_samples
from .protocol import rule_threshold, stress_suite

log = logging.getLogger(__name__)

def choose_threshold(models_root: Path, csv_path: Path, rule: str = "stress",
                     stresses: list[str] | None = None) -> dict[str, Any]:
    """Apply ``rule`` to the primary classifier of ``models_root`` on its validation split
    (re-carved from ``csv_path`` with the seed and fraction its manifest records), through the
    whole shipped pipeline (``Analyzer``: gate, lung mask, LiteRT), and write the threshold
    and its provenance into the classifier's manifest.

    Parameters
    ----------
    models_root
        A models folder (the primary classifier's manifest is rewritten).
    csv_path
        The training table the classifier was trained from.
    rule
        A key of ``RULES``.
    stresses
        The stresses of the "stress" rule (default: all of them).

    Returns
    -------
    dict
        The provenance written: rule, threshold, split, figures there and when.

    Raises
    ------
    RadiAIError
        An unknown rule, a model without a negative label, or unreadable models or table.
    """
    if rule not in RULES:
        raise RadiAIError(f"unknown threshold rule {rule!r}; use one of {', '.join(RULES)}.")
    analyzer = Analyzer(load_models(models_root))
    clf = analyzer.models.classifier
    if clf.negative_label is None or clf.multi_label:
        raise RadiAIError("chooses one threshold for a model with a negative label; a "
                          "multi-label model's thresholds are chosen by finalize.", clf.folder)
    cfg = clf.manifest["training"]["config"]
    val = holdout_samples(csv_path, clf.manifest)
    if rule == "stress":
        scores: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        stress_suite(analyzer, val, stresses, scores=scores)
        r = rule_threshold(scores)
        threshold = r["threshold"]
        figures = {"median_sensitivity": r["median_sensitivity"],
                   "median_specificity": r["median_specificity"]}
        n = len(scores["none"][0]) if "none" in scores else len(val)
    else:
        pred = predict_table(partial(analyzer.analyze, explain=False), clf.labels, val,
                             csv_path)
        threshold = round(youden_threshold(pred, clf.negative_label), 3)
        m = metrics(pred, threshold, clf.negative_label)
        figures = {k: m[k] for k in ("sensitivity", "specificity") if m.get(k) is not None}
        n = len(pred.samples)
    provenance = threshold_provenance(rule, threshold, cfg, csv_path, n, figures)
    path = clf.folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    provenance["previous"] = {"threshold": manifest.get("threshold"),
                              "record": manifest.get("threshold_provenance")
                              or manifest.get("threshold_rule")}
    # A band chosen around another threshold does not hold this one: it goes, and the
    # provenance keeps it (``radiai train calibrate`` chooses a band and threshold together).
    band = manifest.pop("indeterminate", None)
    if band is not None:
        provenance["previous"]["indeterminate"] = band
        log.warning("the indeterminate band %s was removed: it was chosen around the previous "
                    "threshold", band)
    manifest["threshold"] = threshold
    manifest["threshold_provenance"] = provenance
    manifest.pop("threshold_rule", None)  # the hand-written record this replaces
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    log.info("threshold %.3f by the %s rule on %d validation images", threshold, rule, n)
    return provenance
