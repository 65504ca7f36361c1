"""Cohort holdout: does the classifier recipe lean on an acquisition cohort? Two runs of the
same reduced recipe on the same validation split, one trained with every cohort, one with the
``NORMAL2-IM-`` normal series left out of training; both are then scored on the validation
images, per normal cohort.

    python bench/cohort_holdout.py --csv ../shared/data/kermany/index.csv --out /tmp/cohort \\
        [--size 96] [--epochs 2] [--cohort NORMAL2-IM-]

If the model trained without the cohort separates pneumonia from that cohort's normals much
worse than from the other normals (and than the model that saw it), the recipe learns the
cohort's look rather than the finding. Prints the figures and writes ``cohort_holdout.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from radiai_core.training.datasets import Sample, patient_split, read_table  # noqa: E402


def write_table(path: Path, train: list[Sample], val: list[Sample]) -> None:
    """A table whose validation rows are fixed (split=val) and whose other rows all train."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "patient_id", "split"])
        for s, split in [(s, "") for s in train] + [(s, "val") for s in val]:
            w.writerow([str(Path(s.path).resolve()), s.label, s.patient_id, split])


def scores(run: Path, train: list[Sample], val: list[Sample]) -> np.ndarray:
    """Pneumonia scores of a run's model on ``val``, after BatchNorm recalibration on its
    training images (as finalize does: the moving averages lag after few epochs)."""
    import keras

    from radiai_core.training.classifier import (
        ClassifierConfig,
        predict_probabilities,
        preprocess_samples,
    )
    from radiai_core.training.common import recalibrate_batchnorm

    manifest = json.loads((run / "model" / "manifest.json").read_text(encoding="utf-8"))
    cfg = ClassifierConfig(**manifest["training"]["config"])
    model = keras.models.load_model(run / "model" / "classifier.keras", compile=False)
    recalibrate_batchnorm(model, preprocess_samples(train, cfg))
    probs = predict_probabilities(model, preprocess_samples(val, cfg))
    return 1.0 - probs[:, manifest["labels"].index("normal")]


def figures(score: np.ndarray, val: list[Sample], cohort: str) -> dict[str, float]:
    """AUC of all pneumonia against each normal cohort, and each cohort's specificity at the
    threshold where sensitivity is 0.95."""
    from sklearn.metrics import roc_auc_score

    pneu = np.array([s.label != "normal" for s in val])
    held = np.array([Path(s.path).name.startswith(cohort) for s in val]) & ~pneu
    other = ~pneu & ~held
    t = float(np.quantile(score[pneu], 0.05))  # 95 % of pneumonia at or above
    out = {}
    for name, sel in (("held-out cohort", held), ("other normals", other)):
        both = sel | pneu
        out[f"auc_vs_{name}"] = float(roc_auc_score(pneu[both], score[both]))
        out[f"specificity_{name}_at_sens_0.95"] = float((score[sel] < t).mean())
        out[f"n_{name}"] = int(sel.sum())
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--csv", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--cohort", default="NORMAL2-IM-", help="file-name prefix of the cohort")
    p.add_argument("--size", type=int, default=96)
    p.add_argument("--epochs", type=int, default=2)
    args = p.parse_args()
    from radiai_core.training.classifier import ClassifierConfig, train_classifier

    samples = read_table(args.csv)
    train, val = patient_split(samples, 0.1, 20261123)  # the shipped model's split
    kept = [s for s in train if not Path(s.path).name.startswith(args.cohort)]
    cfg = ClassifierConfig(size=args.size, epochs=args.epochs, val_fraction=0.0)
    result = {"recipe": {"size": args.size, "epochs": args.epochs, "cohort": args.cohort,
                         "train_all": len(train), "train_without_cohort": len(kept),
                         "validation": len(val)}}
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("with the cohort", train), ("without the cohort", kept)):
        table = args.out / f"{name.replace(' ', '_')}.csv"
        write_table(table, rows, val)
        run = args.out / name.replace(" ", "_")
        done = (run / "model" / "manifest.json").is_file()
        if not done:
            train_classifier(table, run, replace(cfg))
        result[name] = figures(scores(run, rows, val), val, args.cohort)
        print(name, json.dumps(result[name]), flush=True)
    (args.out / "cohort_holdout.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
