"""The ``radiai`` command: headless subcommands over radiai_core (the GUI comes later)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .errors import RadiAIError
from .io import load_image
from .studies import list_files

log = logging.getLogger(__name__)


def _error_record(path: str, kind: str, message: str) -> dict[str, Any]:
    return {"path": path, "status": "error", "kind": kind, "message": message,
            "modality": None, "rows": None, "columns": None, "photometric": None,
            "patient_id": None, "study_uid": None}


def _inspect_record(path: Path) -> dict[str, Any]:
    rec: dict[str, Any] = {"path": str(path)}
    try:
        img = load_image(path)
    except RadiAIError as exc:
        return _error_record(str(path), exc.kind, exc.message)
    except Exception as exc:  # a bug: keep going with the other files, but log it fully
        log.exception("unexpected error reading %s", path)
        return _error_record(str(path), "bug", f"unexpected error ({type(exc).__name__}: {exc}); "
                             "this is a bug in RadiAI, please report it with the log")
    m = img.meta
    p = img.pixels
    return {**rec, "status": "ok", "message": "; ".join(m.notes), **m.to_dict(),
            "pixels": {"min": float(p.min()), "max": float(p.max()), "mean": float(p.mean()),
                       "std": float(p.std()),
                       "p01": float(np.percentile(p, 1)), "p99": float(np.percentile(p, 99))}}


def _print_text(rec: dict[str, Any], out: TextIO) -> None:
    if rec["status"] != "ok":
        out.write(f"ERROR  {rec['path']}: {rec['message']}\n")
        return
    px = rec["pixels"]
    out.write(f"OK     {rec['path']}\n")
    fields = [("format", rec["format"]), ("modality", rec["modality"]),
              ("size", f"{rec['columns']} × {rec['rows']}"),
              ("photometric", rec["photometric"]), ("bits stored", rec["bits_stored"]),
              ("transfer syntax", rec["transfer_syntax"]),
              ("patient", " / ".join(str(v) for v in (rec["patient_name"], rec["patient_id"],
                                                       rec["patient_sex"], rec["patient_age"])
                                     if v)),
              ("birth date", rec["patient_birth_date"]), ("study date", rec["study_date"]),
              ("study", rec["study_description"]), ("study UID", rec["study_uid"]),
              ("series UID", rec["series_uid"]), ("SOP instance UID", rec["sop_uid"]),
              ("view", rec["view_position"]), ("pixel spacing (mm)", rec["pixel_spacing"]),
              ("institution", rec["institution"]), ("manufacturer", rec["manufacturer"]),
              ("frames", rec["number_of_frames"] if rec["number_of_frames"] > 1 else None),
              ("pixels", f"min {px['min']:.3f}  mean {px['mean']:.3f}  max {px['max']:.3f}  "
                         f"std {px['std']:.3f}")]
    for name, value in fields:
        if value not in (None, "", []):
            out.write(f"       {name:<18} {value}\n")
    for note in rec["notes"]:
        out.write(f"       note               {note}\n")


def cmd_inspect(args: argparse.Namespace, out: TextIO) -> int:
    skipped: list = []
    files = list_files(args.paths, skipped)
    failed = 0
    for s in skipped:  # paths that do not exist, folders that cannot be read
        failed += 1
        rec = _error_record(s.path, s.kind, s.reason)
        out.write(json.dumps(rec) + "\n" if args.json else f"ERROR  {s.path}: {s.reason}\n")
    for path in files:
        rec = _inspect_record(path)
        failed += rec["status"] != "ok"
        if args.json:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        else:
            _print_text(rec, out)
        out.flush()
    if not args.json:
        out.write(f"{len(files) + len(skipped) - failed} read, {failed} failed\n")
    return 1 if failed else 0


def _display_names(pairs: Sequence[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise RadiAIError(f"--display-name expects LABEL=NAME, got {pair!r}.")
        out[key] = value
    return out


def cmd_train(args: argparse.Namespace, out: TextIO) -> int:
    if args.what == "classifier":
        from .training.classifier import ClassifierConfig, train_classifier

        cfg = ClassifierConfig(size=args.size, epochs=args.epochs, batch_size=args.batch_size,
                               lr=args.lr, val_fraction=args.val_fraction, seed=args.seed,
                               limit=args.limit)
        model_dir = train_classifier(args.csv, args.out, cfg, resume=args.resume,
                                     display_names=_display_names(args.display_name))
    out.write(f"model written to {model_dir}\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="radiai", description="RadiAI chest radiograph "
                                     "reading assistant (decision support, not a diagnosis).")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("inspect", help="print metadata and pixel statistics of files/folders")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("train", help="train a model from a labelled CSV")
    tsub = p.add_subparsers(dest="what", required=True)
    c = tsub.add_parser("classifier", help="DenseNet121 radiograph classifier")
    c.add_argument("--csv", required=True, type=Path,
                   help="table with path (relative to the CSV) and label, optionally "
                        "patient_id and split")
    c.add_argument("--out", required=True, type=Path, help="run folder (checkpoints, log, model)")
    c.add_argument("--size", type=int, default=160, help="network input size in pixels")
    c.add_argument("--epochs", type=int, default=8)
    c.add_argument("--batch-size", type=int, default=32)
    c.add_argument("--lr", type=float, default=1e-3)
    c.add_argument("--val-fraction", type=float, default=0.1)
    c.add_argument("--seed", type=int, default=20261123)
    c.add_argument("--limit", type=int, help="train on this many images only (smoke runs)")
    c.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    c.add_argument("--display-name", action="append", default=[], metavar="LABEL=NAME",
                   help="how a label is shown, e.g. bacterial='bacterial pneumonia'")
    c.set_defaults(func=cmd_train)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        parser.print_help(out)
        return 2
    try:
        return args.func(args, out)
    except RadiAIError as exc:
        sys.stderr.write(f"radiai: {exc}\n")
        return 1
    except BrokenPipeError:  # output closed early (e.g. piped into head)
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("radiai: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
