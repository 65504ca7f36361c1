"""The shipped threshold chosen by code (radiai_core.training.threshold and finalize): the rule,
the split it was chosen on and a warning on the figures measured there, in the manifest."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from radiai_core.analysis import load_models
from radiai_core.errors import RadiAIError
from radiai_core.resources import models_dir
from radiai_core.training.datasets import patient_split, read_table

from ..samples import KERMANY_DIR

pytestmark = pytest.mark.slow


def test_the_threshold_is_written_with_its_rule_and_split(tmp_path: Path) -> None:
    from radiai_core.cli import main

    root = tmp_path / "models"
    shutil.copytree(models_dir(), root, ignore=shutil.ignore_patterns("*.keras", "*.png",
                                                                      "*.csv"))
    before = load_models(root).classifier.info.sha256
    shipped = json.loads((root / "classifier" / "manifest.json").read_text())
    shipped_threshold, shipped_band = shipped["threshold"], shipped["indeterminate"]
    # A table of the 20 samples; its validation split is re-carved with the manifest's seed.
    table = tmp_path / "index.csv"
    rows = list(csv.DictReader(open(KERMANY_DIR / "index.csv", encoding="utf-8")))
    with open(table, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["path", "label", "patient_id"])
        w.writeheader()
        for r in rows:
            w.writerow({"path": str(KERMANY_DIR / r["path"]), "label": r["label"],
                        "patient_id": r["patient_id"]})
    cfg = json.loads((root / "classifier" / "manifest.json").read_text())["training"]["config"]
    _, val = patient_split(read_table(table), cfg["val_fraction"], cfg["seed"])
    assert main(["train", "threshold", "--models", str(root), "--csv", str(table),
                 "--rule", "youden"]) == 0
    manifest = json.loads((root / "classifier" / "manifest.json").read_text())
    p = manifest["threshold_provenance"]
    assert manifest["threshold"] == p["threshold"] and 0.0 <= p["threshold"] <= 1.0
    assert p["rule"] == "youden" and "Youden" in p["rule_text"]
    assert p["chosen_on"] == {"split": "validation", "csv": "index.csv", "seed": cfg["seed"],
                              "val_fraction": cfg["val_fraction"], "grouped_by": "patient_id",
                              "n_images": len(val)}
    assert "chose the threshold" in p["figures_note"]
    assert p["previous"]["threshold"] == shipped_threshold and "threshold_rule" not in manifest
    assert load_models(root).classifier.info.sha256 != before  # a new identity
    # The shipped band was chosen around the shipped threshold: it goes, kept in the record.
    assert "indeterminate" not in manifest
    assert p["previous"]["indeterminate"] == shipped_band


def test_finalize_refuses_a_softmax_model_without_its_words(tmp_path: Path) -> None:
    from radiai_core.training.finalize import finalize_classifier

    run = tmp_path / "run" / "model"
    run.mkdir(parents=True)
    manifest = {"labels": ["clear", "consolidation"], "negative_label": None,
                "training": {"config": {"multi_label": False}}}
    (run / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RadiAIError, match="needs --positive-call .* --negative-label"):
        finalize_classifier(run, tmp_path / "t.csv", tmp_path / "out", positive_call="x")
    with pytest.raises(RadiAIError, match="has no label 'normal' to be the negative one"):
        finalize_classifier(run, tmp_path / "t.csv", tmp_path / "out", positive_call="x",
                            negative_label="normal")
    assert not (tmp_path / "out").exists()  # refused before anything was written
