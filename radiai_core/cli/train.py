"""`radiai train`: the training recipes (classifier, lung mask, gate), comparisons, finalize."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..errors import RadiAIError


def _display_names(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise RadiAIError(f"--display-name expects LABEL=NAME, got {pair!r}.")
        out[key] = value
    return out


def cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    """``radiai train``: the training recipes (classifier, lung mask, gate), comparisons and
    finalize."""
    if args.what == "classifier":
        from ..training.classifier import ClassifierConfig, train_classifier

        cfg = ClassifierConfig(size=args.size, epochs=args.epochs, batch_size=args.batch_size,
                               lr=args.lr, val_fraction=args.val_fraction, seed=args.seed,
                               limit=args.limit, lung_input=args.lung_input,
                               lung_model=str(args.lung_model) if args.lung_model else None,
                               init_weights=str(args.init_weights) if args.init_weights else None,
                               fine_map=args.fine_map, framing=args.framing,
                               photometric=args.photometric, label_smoothing=args.label_smoothing,
                               mixup=args.mixup, multi_label=args.multi_label)
        model_dir = train_classifier(args.csv, args.out, cfg, resume=args.resume,
                                     display_names=_display_names(args.display_name),
                                     title=args.title, name=args.name)
    elif args.what == "gate":
        from ..training.gate import fit_gate

        model_dir = fit_gate(args.models, args.data, args.out, limit=args.limit,
                             cache=args.cache, holdout_sources=args.holdout_sources)
    elif args.what == "threshold":
        from ..training.threshold import choose_threshold

        p = choose_threshold(args.models, args.csv, args.rule)
        out.write(f"threshold {p['threshold']:.3f} by the {p['rule']} rule on "
                  f"{p['chosen_on']['n_images']} validation images; "
                  + ", ".join(f"{k} {v:.3f}" for k, v in p["figures_there"].items())
                  + f" ({p['figures_note']})\n")
        return 0
    elif args.what == "calibrate":
        from ..training.calibrate import fit_calibration

        r = fit_calibration(args.models, args.csv, args.holdout)
        b = r["band"]
        out.write(f"band [{b['low']:.3f}, {b['high']:.3f}) on {r['fitted_on']['pooled_images']} "
                  "cohort-held-out predictions: "
                  + ", ".join(f"{k} {v:.3f}" for k, v in b["figures"].items())
                  + ("" if b["targets_met"] else " (targets not all met)") + "\n")
        return 0
    elif args.what == "compare":
        from ..training.ablation import compare_runs, format_table

        dirs = {}
        for pair in args.models:
            name, sep, folder = pair.partition("=")
            if not sep:
                raise RadiAIError(f"compare expects NAME=MODEL_FOLDER, got {pair!r}.")
            dirs[name] = Path(folder)
        result = compare_runs(dirs, args.csv, args.reference or next(iter(dirs)),
                              n_boot=args.n_boot, ensembles=args.ensembles)
        out.write(format_table(result) + "\n")
        if args.json_out is not None:
            args.json_out.write_text(json.dumps(result, indent=2), encoding="utf-8")
            out.write(f"written to {args.json_out}\n")
        return 0
    elif args.what == "finalize":
        from ..training.finalize import finalize_classifier, finalize_lung_mask

        if args.kind == "classifier":
            if args.csv is None:
                raise RadiAIError("finalize classifier needs --csv (the training table).")
            finalize_classifier(args.run / "model", args.csv, args.dest,
                                positive_call=args.positive_call,
                                negative_label=args.negative_label)
        else:
            if args.csv is None:
                raise RadiAIError("finalize lung-mask needs --csv (the mask pairs table).")
            finalize_lung_mask(args.run / "model", args.csv, args.dest)
        model_dir = args.dest
    elif args.what == "quantize":
        from ..training.quantize import quantize_model

        record = quantize_model(args.model, args.csv, args.precision, args.images)
        out.write(json.dumps(record["agreement"], indent=2) + "\n")
        out.write(f"{args.model}: {args.precision} runtime written; recalibrate the primary "
                  "classifier (radiai train calibrate) and refit the gate (radiai train gate) "
                  "on it.\n")
        return 0
    else:
        from ..training.lung_mask import LungMaskConfig, train_lung_mask

        mcfg = LungMaskConfig(size=args.size, epochs=args.epochs, batch_size=args.batch_size,
                              lr=args.lr, val_fraction=args.val_fraction, seed=args.seed,
                              limit=args.limit)
        model_dir = train_lung_mask(args.csv, args.out, mcfg, resume=args.resume)
    out.write(f"model written to {model_dir}\n")
    return 0
