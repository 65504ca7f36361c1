"""Calibrated probabilities (radiai_core.analysis.calibration): the rank map read from a
manifest, what a calibrated model shows and decides, and the order a face lists labels in."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from radiai_core.analysis import Analyzer, Decision, load_models
from radiai_core.analysis.calibration import METHOD, RankLogistic, calibrated_probabilities
from radiai_core.analysis.findings import Findings
from radiai_core.errors import ModelError
from radiai_core.reading.io import load_image
from radiai_core.resources import models_dir
from radiai_core.training.calibrate import rank_knots

from ..samples import KERMANY_BACTERIAL, KERMANY_DIR, KERMANY_NORMAL, KERMANY_UNSURE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def raw_scores() -> dict[str, float]:
    """The model's own (uncalibrated) pneumonia score of every bundled Kermany sample."""
    analyzer = Analyzer(load_models())
    clf = analyzer.models.classifier
    out = {}
    for path in sorted((KERMANY_DIR / "images").iterdir()):
        probs = analyzer.measure(load_image(path)).probs
        out[path.name] = float(clf.abnormal_score(probs))
    return out


def _curve_entry(raw_scores: dict[str, float]) -> dict[str, Any]:
    positives = np.array([v for k, v in raw_scores.items() if k.startswith("person")])
    s, r = rank_knots(positives)
    return {"method": METHOD, "score_knots": s, "rank_knots": r, "slope": 0.8,
            "intercept": -0.5}


def _models(tmp_path: Path, edit: dict[str, Any]) -> Path:
    root = tmp_path / "models"
    shutil.copytree(models_dir(), root, ignore=shutil.ignore_patterns("*.keras", "*.png",
                                                                      "*.csv"))
    path = root / "classifier" / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    m.pop("calibration", None)
    m.pop("indeterminate", None)
    m.update(edit)
    path.write_text(json.dumps(m, indent=2), encoding="utf-8")
    return root


def test_the_rank_map_keeps_the_ranking_of_real_scores(raw_scores: dict[str, float]) -> None:
    curve = RankLogistic.from_manifest(_curve_entry(raw_scores), Path("manifest.json"))
    raw = np.array(sorted(set(raw_scores.values())))
    p = curve(raw)
    assert np.all((p > 0) & (p < 1))
    assert np.all(np.diff(p) > 0)  # distinct scores stay distinct: the AUC is the model's
    # Scores outside the knots still order (linear tails to 0 and 1).
    assert curve(0.0) < curve(curve.score_knots[0] / 2) < curve(curve.score_knots[0])
    assert curve(curve.score_knots[-1]) < curve(0.999) < curve(1.0)


@pytest.mark.parametrize("change, message", [
    ({"method": "isotonic"}, "not supported"),
    ({"slope": -1.0}, "slope positive"),
    ({"score_knots": [0.5, 0.4, 0.6]}, "strictly increasing"),
    ({"rank_knots": None}, "needs 'score_knots'"),
])
def test_a_malformed_calibration_is_refused(raw_scores: dict[str, float], tmp_path: Path,
                                            change: dict[str, Any], message: str) -> None:
    entry = _curve_entry(raw_scores)
    entry.update(change)
    if "score_knots" in change:
        entry["rank_knots"] = [0.1, 0.5, 0.9]
    with pytest.raises(ModelError, match=message):
        load_models(_models(tmp_path, {"calibration": entry}))


def test_a_calibrated_model_shows_and_decides_on_the_calibrated_probability(
        raw_scores: dict[str, float], tmp_path: Path) -> None:
    entry = _curve_entry(raw_scores)
    curve = RankLogistic.from_manifest(entry, Path("manifest.json"))
    plain = Analyzer(load_models()).analyze(KERMANY_BACTERIAL)
    p = float(curve(raw_scores[KERMANY_BACTERIAL.name]))
    root = _models(tmp_path, {"calibration": entry, "threshold": round(p - 0.05, 4),
                              "indeterminate": {"low": round(p - 0.1, 4),
                                                "high": round(p - 0.05, 4)}})
    a = Analyzer(load_models(root)).analyze(KERMANY_BACTERIAL)
    f = a.primary
    assert f.abnormal_score == pytest.approx(p, abs=1e-6)
    assert f.uncalibrated_score == pytest.approx(raw_scores[KERMANY_BACTERIAL.name], abs=1e-6)
    assert sum(f.probabilities.values()) == pytest.approx(1.0)
    assert f.probabilities["normal"] == pytest.approx(1 - p, abs=1e-6)
    # The split between the pneumonia labels is the model's own.
    ratio = plain.probabilities["bacterial"] / plain.probabilities["viral"]
    assert f.probabilities["bacterial"] / f.probabilities["viral"] == pytest.approx(ratio)
    assert a.decision is Decision.POSITIVE and f.shown()[0][0] != "normal"
    d = a.to_dict()["findings"][0]
    assert d["uncalibrated_score"] == pytest.approx(f.uncalibrated_score, abs=1e-6)
    assert d["abnormal_score"] == pytest.approx(p, abs=1e-6)
    # A band around the calibrated probability makes it indeterminate, with no heat map.
    root2 = _models(tmp_path / "b", {"calibration": entry, "threshold": round(p + 0.01, 4),
                                     "indeterminate": {"low": round(p - 0.01, 4),
                                                       "high": round(p + 0.01, 4)}})
    b = Analyzer(load_models(root2)).analyze(KERMANY_BACTERIAL)
    assert b.decision is Decision.INDETERMINATE and b.heatmap is None


def test_the_first_label_shown_never_contradicts_the_call() -> None:
    """The mixed signal a radiologist met: "viral pneumonia 44.8 %" listed first beside a green
    "no pneumonia". A negative call lists the negative label first, a positive one its
    finding's labels first."""
    f = Findings(key="classifier", title="t", labels=["normal", "bacterial", "viral"],
                 display_names={}, probabilities={"normal": 0.442, "bacterial": 0.11,
                                                  "viral": 0.448},
                 negative_label="normal", abnormal_score=0.558, threshold=0.749,
                 decision=Decision.NEGATIVE, call="no pneumonia", positive_call="pneumonia")
    assert f.ranked()[0][0] == "viral" and f.shown()[0][0] == "normal"
    assert [k for k, _ in f.shown()] == ["normal", "viral", "bacterial"]
    f.decision = Decision.POSITIVE
    f.probabilities = {"normal": 0.40, "bacterial": 0.35, "viral": 0.25}
    assert [k for k, _ in f.shown()] == ["bacterial", "viral", "normal"]
    f.decision = Decision.INDETERMINATE
    assert f.shown() == f.ranked()


def test_calibrated_probabilities_of_a_softmax_vector() -> None:
    curve = RankLogistic((0.2, 0.5, 0.8), (0.1, 0.5, 0.9), 1.0, 0.0)
    probs = np.array([0.5, 0.3, 0.2])
    out = calibrated_probabilities(probs, 0, curve)
    assert out.sum() == pytest.approx(1.0)
    assert out[0] == pytest.approx(0.5)  # rank 0.5 at score 0.5, logit 0 → 0.5
    assert out[1] / out[2] == pytest.approx(1.5)


def test_the_shipped_normal_sample_is_not_called() -> None:
    a = Analyzer(load_models()).analyze(KERMANY_NORMAL)
    assert a.decision is not Decision.POSITIVE
    assert a.primary.shown()[0][0] == "normal" or a.decision is Decision.INDETERMINATE


def test_the_shipped_band_leaves_an_unsure_film_to_the_reader() -> None:
    """The shipped model is calibrated with a band: a normal film inside it is indeterminate,
    with no heat map, in every export of the analysis."""
    analyzer = Analyzer(load_models())
    clf = analyzer.models.classifier
    assert clf.calibration is not None and clf.indeterminate is not None
    low, high = clf.indeterminate
    a = analyzer.analyze(KERMANY_UNSURE)
    assert a.decision is Decision.INDETERMINATE and low <= a.abnormal_score < high
    assert a.heatmap is None and a.boxes == [] and a.call == "indeterminate"
    d = a.to_dict()
    assert d["findings"][0]["decision"] == "indeterminate"
    assert d["findings"][0]["uncalibrated_score"] != d["findings"][0]["abnormal_score"]
    assert analyzer.analyze(KERMANY_NORMAL).decision is Decision.NEGATIVE
