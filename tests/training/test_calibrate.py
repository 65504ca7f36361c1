"""Calibration and the three-way band fitted on cohort-held-out predictions
(radiai_core.training.calibrate, `radiai train calibrate`), written into the manifest."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from radiai_core.analysis import Analyzer, Decision, load_models
from radiai_core.reading.io import load_image
from radiai_core.resources import models_dir
from radiai_core.training.calibrate import TARGETS, band_figures, choose_band

from ..samples import KERMANY_DIR

pytestmark = pytest.mark.slow


def _holdout(folder: Path, scores: dict[str, float]) -> Path:
    """Both directions' ``scores.csv`` as bench/cohort_holdout.py writes them, from real
    scores (the bundled samples hold one normal cohort, so both directions hold it out)."""
    for d in ("without_NORMAL2", "without_IM"):
        (folder / d).mkdir(parents=True)
        with open(folder / d / "scores.csv", "w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["path", "label", "cohort", "held_out", "score"])
            for name, s in scores.items():
                normal = name.startswith("NORMAL2-")
                w.writerow([name, "normal" if normal else "bacterial",
                            "NORMAL2-" if normal else "", int(normal), f"{s:.6f}"])
    return folder


def test_the_band_is_fitted_on_held_out_predictions_and_written(tmp_path: Path) -> None:
    from radiai_core.cli import main

    root = tmp_path / "models"
    shutil.copytree(models_dir(), root, ignore=shutil.ignore_patterns("*.keras", "*.png",
                                                                      "*.csv"))
    before = load_models(root).classifier.info.sha256
    analyzer = Analyzer(load_models(root))
    clf = analyzer.models.classifier
    images = sorted((KERMANY_DIR / "images").iterdir())
    raw = {p.name: float(clf.abnormal_score(analyzer.measure(load_image(p)).probs))
           for p in images}
    table = tmp_path / "index.csv"
    with open(table, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "patient_id", "split"])
        for r in csv.DictReader(open(KERMANY_DIR / "index.csv", encoding="utf-8")):
            w.writerow([KERMANY_DIR / r["path"], r["label"], r["patient_id"], "val"])
    holdout = _holdout(tmp_path / "cohort", raw)
    assert main(["train", "calibrate", "--models", str(root), "--csv", str(table),
                 "--holdout", str(holdout)]) == 0

    manifest = json.loads((root / "classifier" / "manifest.json").read_text())
    band = manifest["indeterminate"]
    assert 0 < band["low"] <= band["high"] < 1 and manifest["threshold"] == band["high"]
    assert manifest["calibration"]["fitted_on"]["pooled_images"] == 2 * len(images)
    assert manifest["threshold_provenance"]["previous"]["threshold"] is not None
    report = json.loads((root / "classifier" / "calibration.json").read_text())
    assert report["shipped_model_validation"]["n"] == len(images)
    assert set(report["cross_direction"]) == {"fit_without_NORMAL2_scored_without_IM",
                                              "fit_without_IM_scored_without_NORMAL2"}
    calibrated = Analyzer(load_models(root))
    assert calibrated.models.classifier.info.sha256 != before  # a new identity
    for p in images:
        a = calibrated.analyze(p)
        s = a.primary.abnormal_score
        assert a.primary.uncalibrated_score == pytest.approx(raw[p.name], abs=1e-6)
        want = (Decision.POSITIVE if s >= band["high"] else Decision.NEGATIVE
                if s < band["low"] else Decision.INDETERMINATE)
        assert a.decision is want


def test_the_band_rule_meets_its_targets_when_it_can() -> None:
    rng = np.random.default_rng(7)
    truth = np.r_[np.ones(300, bool), np.zeros(100, bool)]
    p = np.clip(np.r_[rng.normal(0.85, 0.1, 300), rng.normal(0.3, 0.15, 100)], 0.001, 0.999)
    w = np.ones(len(p))
    band = choose_band(p, truth, w)
    f = band_figures(p, truth, w, band["low"], band["high"])
    assert band["targets_met"] and f == band["figures"]
    assert all(f[k] >= TARGETS[k] for k in ("accuracy", "sensitivity", "specificity"))
    assert f["indeterminate"] <= TARGETS["indeterminate"]
