"""Training smoke runs on a tiny real subset: the loss goes down, checkpoints resume."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from radiai_core.datasets import patient_split, read_table
from radiai_core.errors import DataError, RadiAIError
from radiai_core.training.classifier import ClassifierConfig, train_classifier
from radiai_core.training.lung_mask import LungMaskConfig, train_lung_mask

from .samples import DATA, KERMANY_DIR

pytestmark = pytest.mark.slow


def test_patient_split_keeps_patients_apart() -> None:
    samples = read_table(KERMANY_DIR / "index.csv")
    train, val = patient_split(samples, 0.25, seed=1)
    assert {s.patient_id for s in train}.isdisjoint({s.patient_id for s in val})
    assert all(s.split == "val" for s in samples if s in val and s.split == "val")
    assert [s.path for s in patient_split(samples, 0.25, seed=1)[1]] == [s.path for s in val]
    # two images of one patient (person1946_bacteria) stay together
    p1946 = [s for s in samples if s.patient_id == "person1946_bacteria"]
    assert len(p1946) == 2 and (all(s in val for s in p1946) or all(s in train for s in p1946))


def test_bad_table_messages(tmp_path) -> None:
    bad = tmp_path / "t.csv"
    bad.write_text("file,diagnosis\na.png,normal\n")
    with pytest.raises(DataError, match=r"t\.csv: has no column\(s\) label, path"):
        read_table(bad)


@pytest.fixture
def no_split_table(tmp_path):
    """The 20 Kermany samples without their split column: a hash split by patient decides."""
    rows = list(csv.DictReader(open(KERMANY_DIR / "index.csv")))
    path = tmp_path / "index.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["path", "label", "patient_id"])
        w.writeheader()
        for r in rows:
            w.writerow({"path": str(KERMANY_DIR / r["path"]), "label": r["label"],
                        "patient_id": r["patient_id"]})
    return path


def test_classifier_smoke_loss_falls_and_resumes(no_split_table, tmp_path) -> None:
    cfg = ClassifierConfig(size=32, epochs=2, batch_size=4, lr=1e-3, val_fraction=0.2)
    out = tmp_path / "run"
    train_classifier(no_split_table, out, cfg)
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    assert state["epochs_done"] == 2
    model_dir = train_classifier(no_split_table, out, ClassifierConfig(epochs=4), resume=True)
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    losses = [h["train_loss"] for h in state["history"]]
    assert [h["epoch"] for h in state["history"]] == [1, 2, 3, 4]
    assert state["config"]["size"] == 32  # the run's own settings are kept on resume
    assert min(losses[2:]) < losses[0]
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["labels"] == ["normal", "bacterial", "viral"]
    assert manifest["input"]["size"] == 32
    assert (out / "curves.png").stat().st_size > 1000
    assert "epoch 4/4" in (out / "train_classifier.log").read_text()


def test_resume_without_checkpoint_is_a_clear_error(no_split_table, tmp_path) -> None:
    with pytest.raises(RadiAIError, match="no checkpoint to resume from"):
        train_classifier(no_split_table, tmp_path / "empty", ClassifierConfig(), resume=True)


def test_lung_mask_smoke_loss_falls_and_resumes(tmp_path) -> None:
    cfg = LungMaskConfig(size=64, epochs=2, batch_size=4, lr=2e-3, val_fraction=0.25)
    out = tmp_path / "unet"
    train_lung_mask(DATA / "lung_masks" / "index.csv", out, cfg)
    model_dir = train_lung_mask(DATA / "lung_masks" / "index.csv", out,
                                LungMaskConfig(epochs=3), resume=True)
    state = json.loads((out / "checkpoint" / "state.json").read_text())
    losses = [h["train_loss"] for h in state["history"]]
    assert len(losses) == 3 and losses[-1] < losses[0]
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["kind"] == "lung_mask" and manifest["input"]["size"] == 64
    assert np.isfinite(manifest["metrics"]["val_dice_mean"])
