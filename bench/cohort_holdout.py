"""Cohort holdout: the model-selection protocol. A candidate recipe is trained (reduced: 96 px,
2 epochs, random weights) once per normal cohort with that cohort's normals left out of
training, and scored on the fixed validation split (the shipped model's patient split), where
the left-out cohort's normals are a cohort the model has never seen.

    python bench/cohort_holdout.py run --csv ../shared/data/kermany/index.csv --out DIR \\
        --candidate NAME [--framing] [--photometric] [--label-smoothing 0.1] [--mixup 0.2] \\
        [--size 96] [--epochs 2] [--cohorts NORMAL2- IM-] [--reference]
    python bench/cohort_holdout.py select --out DIR
    python bench/cohort_holdout.py quantized --csv ../shared/data/kermany/index.csv --out DIR \
        --candidate NAME [--precision dynamic-int8|int8]

``quantized`` scores a candidate's two runs again with their weights quantized (the
conversion of ``radiai train quantize``) and writes ``figures_<precision>.json`` beside
``figures.json``: what the quantized runtime costs on the unseen cohort.

The two cohorts are the Kermany normal series: ``NORMAL2-IM-…`` and ``IM-…`` file names. Per
candidate and direction it writes ``DIR/NAME/without_<cohort>/figures.json`` and
``scores.csv`` (every validation image's pneumonia score: the cohort-held-out predictions that
calibration is fitted on). ``--reference`` also trains on every cohort (the in-cohort figure).

Selection rule (written before any candidate was scored, 2026-12-03): the shipped recipe is
the candidate with the highest **mean over both directions of the held-out cohort's
specificity at sensitivity 0.95**; candidates within 0.02 of that best (about one normal of
the 60-80 held out) count as tied, and among tied candidates the one with the highest mean
held-out AUC wins. ``select`` applies the rule and writes ``selection.json``.
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

COHORTS = ("NORMAL2-", "IM-")
TIE = 0.02


def cohort_of(sample: Sample) -> str:
    """The normal cohort of a validation image ('' for pneumonia)."""
    if sample.label != "normal":
        return ""
    name = Path(sample.path).name
    return next((c for c in COHORTS if name.startswith(c)), "other")


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


def figures(score: np.ndarray, val: list[Sample], held: str | None) -> dict[str, float]:
    """AUC of all pneumonia against each normal cohort, and each cohort's specificity at the
    threshold where sensitivity is 0.95 (``held``: the cohort left out of training)."""
    from sklearn.metrics import roc_auc_score

    cohort = np.array([cohort_of(s) for s in val])
    pneu = cohort == ""
    t = float(np.quantile(score[pneu], 0.05))  # 95 % of pneumonia at or above
    out: dict[str, float] = {"auc_all": float(roc_auc_score(pneu, score)),
                             "threshold_at_sens_0.95": t}
    for c in COHORTS:
        sel = cohort == c
        both = sel | pneu
        key = "held" if c == held else c
        out[f"auc_vs_{key}"] = float(roc_auc_score(pneu[both], score[both]))
        out[f"specificity_{key}_at_sens_0.95"] = float((score[sel] < t).mean())
        out[f"n_{key}"] = int(sel.sum())
    return out


def run(args: argparse.Namespace) -> None:
    from radiai_core.training.classifier import ClassifierConfig, train_classifier

    samples = read_table(args.csv)
    train, val = patient_split(samples, 0.1, 20261123)  # the shipped model's split
    cfg = ClassifierConfig(size=args.size, epochs=args.epochs, val_fraction=0.0,
                           framing=args.framing, photometric=args.photometric,
                           label_smoothing=args.label_smoothing, mixup=args.mixup)
    base = args.out / args.candidate
    base.mkdir(parents=True, exist_ok=True)
    (base / "recipe.json").write_text(json.dumps(
        {"size": args.size, "epochs": args.epochs, "framing": args.framing,
         "photometric": args.photometric, "label_smoothing": args.label_smoothing,
         "mixup": args.mixup}, indent=2))
    plans = [(f"without_{c.rstrip('-')}", c) for c in args.cohorts]
    if args.reference:
        plans.append(("all", None))
    for name, cohort in plans:
        rows = [s for s in train if cohort is None or cohort_of(s) != cohort]
        folder = base / name
        folder.mkdir(exist_ok=True)
        if not (folder / "figures.json").is_file():
            table = folder / "table.csv"
            write_table(table, rows, val)
            if not (folder / "run" / "model" / "manifest.json").is_file():
                train_classifier(table, folder / "run", replace(cfg))
            score = scores(folder / "run", rows, val)
            with open(folder / "scores.csv", "w", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                w.writerow(["path", "label", "cohort", "held_out", "score"])
                for s, v in zip(val, score, strict=True):
                    w.writerow([Path(s.path).name, s.label, cohort_of(s),
                                int(cohort is not None and cohort_of(s) == cohort), f"{v:.6f}"])
            result = {"train_images": len(rows), "validation": len(val), "held_out": cohort,
                      **figures(score, val, cohort)}
            (folder / "figures.json").write_text(json.dumps(result, indent=2))
        print(args.candidate, name, (folder / "figures.json").read_text(), flush=True)


def quantized(args: argparse.Namespace) -> None:
    """The candidate's runs again with their weights quantized as ``radiai train quantize``
    does (int8: activation ranges from 256 of the run's own training images): the held-out
    cohort's figures beside the float32 ones, written to ``figures_<precision>.json``."""
    import tempfile

    import keras

    from radiai_core.analysis.models import LiteModel
    from radiai_core.training.classifier import (
        ClassifierConfig,
        predict_probabilities,
        preprocess_samples,
    )
    from radiai_core.training.common import recalibrate_batchnorm, standardise
    from radiai_core.training.export import convert_to_litert
    from radiai_core.training.quantize import N_REPRESENTATIVE, SEED

    samples = read_table(args.csv)
    train, val = patient_split(samples, 0.1, 20261123)
    for c in COHORTS:
        folder = args.out / args.candidate / f"without_{c.rstrip('-')}"
        run_dir = folder / "run"
        manifest = json.loads((run_dir / "model" / "manifest.json").read_text(encoding="utf-8"))
        cfg = ClassifierConfig(**manifest["training"]["config"])
        rows = [s for s in train if cohort_of(s) != c]
        model = keras.models.load_model(run_dir / "model" / "classifier.keras", compile=False)
        x_train = preprocess_samples(rows, cfg)
        recalibrate_batchnorm(model, x_train)
        x_val = preprocess_samples(val, cfg)
        normal = manifest["labels"].index("normal")
        float_score = 1.0 - predict_probabilities(model, x_val)[:, normal]
        pick = np.random.default_rng(SEED).permutation(len(x_train))[:N_REPRESENTATIVE]
        # The model's inputs are standardised per image (as in predict_probabilities).
        rep = (standardise(x_train[np.sort(pick)]).numpy() if args.precision == "int8"
               else None)
        z_val = standardise(x_val).numpy()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "quantized.tflite"
            convert_to_litert(model, path, args.precision, rep)
            lite = LiteModel(path)
            q_score = np.array([1.0 - lite(z_val[i:i + 1])[0][0, normal]
                                   for i in range(len(z_val))])
        result = {"precision": args.precision, "float32": figures(float_score, val, c),
                  "quantized": figures(q_score, val, c),
                  "score_abs_change_median": float(np.median(np.abs(q_score - float_score))),
                  "score_abs_change_max": float(np.abs(q_score - float_score).max())}
        (folder / f"figures_{args.precision}.json").write_text(json.dumps(result, indent=2))
        print(args.candidate, folder.name, json.dumps(result, indent=2), flush=True)


def select(args: argparse.Namespace) -> None:
    table = {}
    for cand in sorted(p for p in args.out.iterdir() if (p / "recipe.json").is_file()):
        dirs = [cand / f"without_{c.rstrip('-')}" / "figures.json" for c in COHORTS]
        if not all(d.is_file() for d in dirs):
            print(f"{cand.name}: not every direction has run; left out", flush=True)
            continue
        fig = [json.loads(d.read_text()) for d in dirs]
        table[cand.name] = {
            "recipe": json.loads((cand / "recipe.json").read_text()),
            "directions": {c: f for c, f in zip(COHORTS, fig, strict=True)},
            "mean_held_specificity_at_sens_0.95":
                float(np.mean([f["specificity_held_at_sens_0.95"] for f in fig])),
            "mean_held_auc": float(np.mean([f["auc_vs_held"] for f in fig])),
        }
    best = max(v["mean_held_specificity_at_sens_0.95"] for v in table.values())
    tied = [k for k, v in table.items() if v["mean_held_specificity_at_sens_0.95"] >= best - TIE]
    chosen = max(tied, key=lambda k: table[k]["mean_held_auc"])
    out = {"rule": __doc__.split("Selection rule")[1].strip(), "candidates": table,
           "tied": tied, "chosen": chosen}
    (args.out / "selection.json").write_text(json.dumps(out, indent=2))
    print("| candidate | held NORMAL2- AUC / spec@0.95 | held IM- AUC / spec@0.95 | mean spec "
          "| mean AUC |\n| --- | --- | --- | --- | --- |")
    for k, v in table.items():
        d = v["directions"]
        print(f"| {k} | {d['NORMAL2-']['auc_vs_held']:.3f} / "
              f"{d['NORMAL2-']['specificity_held_at_sens_0.95']:.3f} | "
              f"{d['IM-']['auc_vs_held']:.3f} / {d['IM-']['specificity_held_at_sens_0.95']:.3f}"
              f" | {v['mean_held_specificity_at_sens_0.95']:.3f} | {v['mean_held_auc']:.3f} |")
    print("chosen:", chosen)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("run")
    r.add_argument("--csv", type=Path, required=True)
    r.add_argument("--out", type=Path, required=True)
    r.add_argument("--candidate", required=True)
    r.add_argument("--cohorts", nargs="+", default=list(COHORTS), choices=COHORTS)
    r.add_argument("--size", type=int, default=96)
    r.add_argument("--epochs", type=int, default=2)
    r.add_argument("--framing", action="store_true")
    r.add_argument("--photometric", action="store_true")
    r.add_argument("--mixup", type=float, default=0.0, metavar="ALPHA")
    r.add_argument("--label-smoothing", type=float, default=0.0)
    r.add_argument("--reference", action="store_true")
    s = sub.add_parser("select")
    s.add_argument("--out", type=Path, required=True)
    q = sub.add_parser("quantized", help="a candidate's runs again, quantized (runs kept in --out)")
    q.add_argument("--csv", type=Path, required=True)
    q.add_argument("--out", type=Path, required=True)
    q.add_argument("--candidate", required=True)
    q.add_argument("--precision", choices=["int8", "dynamic-int8"], default="dynamic-int8")
    args = p.parse_args()
    {"run": run, "select": select, "quantized": quantized}[args.mode](args)


if __name__ == "__main__":
    main()
