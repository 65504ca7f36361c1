"""The ``radiai`` command: headless subcommands over radiai_core (the GUI comes later)."""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .errors import RadiAIError
from .findings import Findings
from .io import load_image
from .privacy import protect
from .studies import list_files

log = logging.getLogger(__name__)


def _error_record(path: str, kind: str, message: str) -> dict[str, Any]:
    status = "ignored" if kind == "ignored" else "error"
    return {"path": path, "status": status, "kind": kind, "message": message,
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
    if rec["status"] == "ignored":
        out.write(f"IGNORED {rec['path']}: {rec['message']}\n")
        return
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
    """``radiai inspect``: metadata and pixel statistics, or the error, per file; exit 1 if any
    failed."""
    skipped: list = []
    files = list_files(args.paths, skipped)
    failed = 0
    ignored = 0
    for s in skipped:  # paths that do not exist, folders that cannot be read
        failed += 1
        rec = _error_record(s.path, s.kind, s.reason)
        out.write(json.dumps(rec) + "\n" if args.json else f"ERROR  {s.path}: {s.reason}\n")
    for path in files:
        rec = _inspect_record(path)
        failed += rec["status"] == "error"
        ignored += rec["status"] == "ignored"
        if args.json:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
        else:
            _print_text(rec, out)
        out.flush()
    if not args.json:
        read = len(files) + len(skipped) - failed - ignored
        out.write(f"{read} read, {failed} failed, {ignored} ignored (not images)\n")
    return 1 if failed else 0


def _print_analysis(d: dict[str, Any], out: TextIO) -> None:
    if d["status"] == "ignored":
        out.write(f"IGNORED {d['path']}: {d['message']}\n")
        return
    if d["status"] == "error":
        out.write(f"ERROR  {d['path']}: {d['message']}\n")
        return
    age = d.get("age")
    if d["status"] == "rejected":
        out.write(f"REFUSED {d['path']}: {d['message']}\n")
        if age is not None:
            out.write(f"       age: {age['text']}\n")
        return
    out.write(f"OK     {d['path']}\n")
    if age is not None:
        out.write(f"       age: {age['text']}\n")
    several = len(d["findings"]) > 1
    for f in d["findings"]:
        _print_findings(Findings.from_dict(f), out, several)
    t = d["timings_ms"]
    out.write("       time " + "  ".join(f"{k} {v:.0f} ms" for k, v in t.items()) + "\n")


def _print_findings(f: Findings, out: TextIO, titled: bool) -> None:
    """One model's findings, as every face shows them: its title (when the set has several),
    the labels (all of a multi-label model, marked when over threshold; else the top three),
    its call, the explained label and its regions."""
    pad = "       "
    if titled:
        out.write(f"{pad}[{f.title}]\n")
    for label, p in (f.ranked() if f.multi_label else f.top(3)):
        mark = "  *" if f.multi_label and f.is_positive(label) else ""
        out.write(f"{pad}{f.name(label):<24} {p:6.1%}{mark}\n")
    if f.call is not None or f.multi_label:
        out.write(f"{pad}call: {f.summary()}\n")
    if f.cam_label is not None:
        out.write(f"{pad}heat map: {f.name(f.cam_label)}\n")
    for b in f.boxes:
        out.write(f"{pad}region x={b.x} y={b.y} w={b.w} h={b.h} "
                  f"({b.score:.0%} of the heat map)\n")


class _Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.stream = total, stream or sys.stderr
        self.enabled = total > 0 and self.stream.isatty()

    def update(self, done: int, name: str = "") -> None:
        """Redraw the bar at ``done`` of the total, with the current file's name."""
        if self.enabled:
            filled = round(30 * done / self.total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} "
                              f"{name[-40:]:<40}")
            self.stream.flush()

    def close(self) -> None:
        """End the bar's line."""
        if self.enabled:
            self.stream.write("\n")


def _unique(folder: Path, stem: str, suffix: str) -> Path:
    path = folder / f"{stem}{suffix}"
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


def _anonymised_record(d: dict[str, Any], item, pseudonyms) -> dict[str, Any]:
    if item.analysis is None:
        return {**d, "path": pseudonyms.file_reference(item.path)}
    details = pseudonyms.details(item.analysis.image.meta)
    return {**d, "path": details.reference, "patient_id": details.patient_id,
            "study_uid": None, "sop_uid": None}


def cmd_analyze(args: argparse.Namespace, out: TextIO) -> int:
    """``radiai analyze``: every file through the Runner (analysed, refused or its error), into the
    history, CSV and PDFs as asked; exit 1 if a file was unreadable or an analysis not stored."""
    from .anonymize import Pseudonymizer
    from .batch import BatchItem, CsvTable, Runner
    from .pipeline import NOTICE, default_analyzer

    analyzer = default_analyzer()  # model problems stop here, before any file is read
    pseudonyms = Pseudonymizer(enabled=args.anonymize)
    if args.pdf_dir is not None:
        args.pdf_dir.mkdir(parents=True, exist_ok=True)
    skipped: list = []
    files = list_files(args.paths, skipped)
    table = CsvTable(args.csv, analyzer.outputs, pseudonyms) if args.csv else None
    progress = _Progress(len(files) + len(skipped)) if table is not None else None
    items = [BatchItem(s.path, error=s.reason, kind=s.kind) for s in skipped]
    counts = {"ok": 0, "rejected": 0, "error": 0, "ignored": 0}
    failed = 0  # analyses that could not be stored or written out
    runner = Runner(analyzer.analyze, record=not args.no_history, cam_label=args.cam)
    told: set[str] = set()

    def tell_once(text: str) -> None:
        if text not in told:
            told.add(text)
            sys.stderr.write(f"radiai: {text}\n")

    try:
        for i, item in enumerate(itertools.chain(items, runner.run(files))):
            a = item.analysis
            counts[item.status] = counts.get(item.status, 0) + 1
            if runner.moved_aside is not None:
                tell_once(f"the history database was damaged and was moved to "
                          f"{runner.moved_aside}; a new one was started.")
            if a is None:
                d = {"path": item.path, "status": item.status, "kind": item.kind,
                     "message": item.error}
            else:
                d = a.to_dict()
                if item.history_id is None and runner.history_problem:
                    failed += 1
                    tell_once(f"{runner.history_problem}; analyses are not stored in the "
                              "history this time.")
                if args.pdf_dir is not None:
                    from .report import write_pdf

                    ref = pseudonyms.details(a.image.meta).reference
                    try:
                        write_pdf([a], _unique(args.pdf_dir, ref, ".pdf"), pseudonyms)
                    except RadiAIError as exc:  # the analysis itself is still printed below
                        failed += 1
                        sys.stderr.write(f"radiai: {exc}\n")
            if table is not None:
                table.add(item)
            if args.anonymize:
                d = _anonymised_record(d, item, pseudonyms)
            if progress is not None:
                progress.update(i + 1, Path(item.path).name if not args.anonymize else "")
            if args.json:
                out.write(json.dumps(d, ensure_ascii=False) + "\n")
            elif progress is None or not progress.enabled:
                _print_analysis(d, out)
            out.flush()
    finally:
        if progress is not None:
            progress.close()
        if table is not None:
            table.close()
        runner.close()
    if not args.json:
        stored = f", {failed} not stored" if failed else ""
        out.write(f"{counts['ok']} analysed, {counts['rejected']} refused, {counts['error']} "
                  f"unreadable, {counts['ignored']} ignored (not images){stored}. {NOTICE}\n")
        if table is not None:
            out.write(f"table: {table.path} ({table.rows} rows)\n")
    return 1 if counts["error"] or failed else 0


def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    """``radiai evaluate``: the shipped pipeline's metrics on a labelled table, and with
    ``--protocol`` the model-selection protocol."""
    from .evaluate import metrics, plot_roc_and_confusion, predict_table, select_rows
    from .pipeline import default_analyzer

    analyzer = default_analyzer()
    clf = analyzer.models.classifier
    if args.holdout:
        from .training.finalize import holdout_samples

        samples = holdout_samples(args.csv, clf.manifest)
    else:
        samples = select_rows(args.csv, args.split)
    pred = predict_table(analyzer.analyze, clf.labels, samples, args.csv)
    m = metrics(pred, clf.threshold, clf.negative_label)
    m["errors"] = [{"path": p, "message": msg} for p, msg in pred.errors]
    m["rejected"] = [{"path": p, "message": msg} for p, msg in pred.rejected]
    if args.out:
        m["plots"] = [str(p) for p in plot_roc_and_confusion(pred, m, args.out,
                                                             clf.negative_label or "normal")]
    if not args.json:
        out.write(f"n = {m['n']} images ({len(pred.errors)} unreadable, {len(pred.rejected)} "
                  "refused by the gate)\n")
        out.write(f"{'label':<12}{'precision':>10}{'recall':>8}{'F1':>8}{'n':>6}\n")
        for lab, v in m["per_class"].items():
            out.write(f"{lab:<12}{v['precision']:>10.3f}{v['recall']:>8.3f}{v['f1']:>8.3f}"
                      f"{v['support']:>6}\n")
        out.write("confusion matrix (rows true, columns predicted): "
                  f"{m['confusion_matrix']}\n")
        out.write(f"top-1 accuracy {m['accuracy_top1']:.3f}\n")
        if "auc" in m:
            out.write(f"abnormal vs {clf.negative_label}: AUC {m['auc']:.4f}; at threshold "
                      f"{m['threshold']:.3f}: accuracy {m['accuracy']:.3f}, sensitivity "
                      f"{m['sensitivity']:.3f}, specificity {m['specificity']:.3f}\n")
        for key in [k for k in m if k.startswith("auc_")]:
            out.write(f"{key[4:].replace('_', ' ')}: AUC {m[key]:.4f}\n")
        for e in m["errors"]:
            out.write(f"ERROR  {e['path']}: {e['message']}\n")
        for e in m["rejected"]:
            out.write(f"REFUSED {e['path']}: {e['message']}\n")
    if args.protocol:
        m["protocol"] = _protocol(args, analyzer, samples, out)
    if args.json:
        out.write(json.dumps(m) + "\n")
    return 0


def _protocol(args: argparse.Namespace, analyzer: Any, samples: list, out: TextIO
              ) -> dict[str, Any]:
    """The protocol's figures (radiai_core.protocol), printed unless --json."""
    from .models import ModelSet
    from .pipeline import Analyzer
    from .protocol import (
        cohort_figures,
        lung_concentration,
        pointing_game,
        read_boxes,
        rule_threshold,
        stress_suite,
    )

    scores: dict = {}
    result: dict[str, Any] = {"stress": stress_suite(analyzer, samples, scores=scores),
                              "rule_threshold": rule_threshold(scores),
                              "cohorts": cohort_figures(analyzer, samples),
                              "heat_map_on_lungs": lung_concentration(analyzer, samples)}
    if args.boxes is not None:
        models = analyzer.models
        ungated = Analyzer(ModelSet([models.classifier], models.lung_mask, gate=None))
        result["pointing_game"] = pointing_game(ungated, read_boxes(args.boxes))
    if not args.json:
        out.write("\nstress suite (pneumonia vs normal; at the shipped threshold)\n")
        out.write(f"{'stress':<36}{'n':>5}{'AUC':>8}{'sens':>7}{'spec':>7}{'refused':>9}\n")
        for name, v in result["stress"].items():
            auc = f"{v['auc']:.4f}" if v.get("auc") is not None else "  —"
            out.write(f"{name:<36}{v['n']:>5}{auc:>8}{v['sensitivity']:>7.3f}"
                      f"{v['specificity']:>7.3f}{v['refused']:>9}\n")
        r = result["rule_threshold"]
        out.write(f"threshold by the card's rule (median sensitivity over the stresses >= "
                  f"{r['min_sensitivity']}): {r['threshold']:.3f} (median sensitivity "
                  f"{r['median_sensitivity']:.3f}, specificity {r['median_specificity']:.3f}); "
                  f"shipped {analyzer.models.classifier.threshold:.3f}\n")
        out.write("\ncohorts\n")
        for name, v in result["cohorts"].items():
            out.write(f"  {name:<28} " + ", ".join(f"{k} {x:.3f}" if isinstance(x, float)
                                                   else f"{k} {x}" for k, x in v.items()) + "\n")
        h = result["heat_map_on_lungs"]
        if h.get("n"):
            out.write(f"\nheat maps of {h['n']} pneumonia images: mass on the lungs "
                      f"{h['median_mass_in_lungs']:.2f} (median) for a lung share of "
                      f"{h['median_lung_share']:.2f}: {h['median_concentration']:.2f}x chance; "
                      f"peak inside the lungs {h['peak_in_lungs']:.0%}\n")
        g = result.get("pointing_game")
        if g:
            out.write(f"pointing game (gate bypassed): peak inside the box for {g['hits']} of "
                      f"{g['n']}; mass in the box {g['median_mass_in_box']:.2f} (median) for a "
                      f"box share of {g['median_box_share']:.2f}\n")
    return result


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
        from .training.classifier import ClassifierConfig, train_classifier

        cfg = ClassifierConfig(size=args.size, epochs=args.epochs, batch_size=args.batch_size,
                               lr=args.lr, val_fraction=args.val_fraction, seed=args.seed,
                               limit=args.limit, lung_input=args.lung_input,
                               lung_model=str(args.lung_model) if args.lung_model else None,
                               init_weights=str(args.init_weights) if args.init_weights else None,
                               fine_map=args.fine_map, framing=args.framing,
                               label_smoothing=args.label_smoothing,
                               multi_label=args.multi_label)
        model_dir = train_classifier(args.csv, args.out, cfg, resume=args.resume,
                                     display_names=_display_names(args.display_name),
                                     title=args.title, name=args.name)
    elif args.what == "gate":
        from .training.gate import fit_gate

        model_dir = fit_gate(args.models, args.data, args.out, limit=args.limit,
                             cache=args.cache)
    elif args.what == "compare":
        from .training.ablation import compare_runs, format_table

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
        from .training.finalize import finalize_classifier, finalize_lung_mask

        if args.kind == "classifier":
            if args.csv is None:
                raise RadiAIError("finalize classifier needs --csv (the training table).")
            finalize_classifier(args.run / "model", args.csv, args.dest,
                                positive_call=args.positive_call)
        else:
            if args.csv is None:
                raise RadiAIError("finalize lung-mask needs --csv (the mask pairs table).")
            finalize_lung_mask(args.run / "model", args.csv, args.dest)
        model_dir = args.dest
    else:
        from .training.lung_mask import LungMaskConfig, train_lung_mask

        mcfg = LungMaskConfig(size=args.size, epochs=args.epochs, batch_size=args.batch_size,
                              lr=args.lr, val_fraction=args.val_fraction, seed=args.seed,
                              limit=args.limit)
        model_dir = train_lung_mask(args.csv, args.out, mcfg, resume=args.resume)
    out.write(f"model written to {model_dir}\n")
    return 0


def _run_arguments(p: argparse.ArgumentParser, size: int, epochs: int, batch: int, lr: float,
                   val: float) -> None:
    """Options every training run has, with that model's defaults."""
    p.add_argument("--out", required=True, type=Path, help="run folder (checkpoints, log, model)")
    p.add_argument("--size", type=int, default=size, help="network input size in pixels")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--val-fraction", type=float, default=val,
                   help="share of patients held out for validation")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--limit", type=int, help="train on this many items only (smoke runs)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")


def build_parser() -> argparse.ArgumentParser:
    """The ``radiai`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="radiai", description="RadiAI chest radiograph "
                                     "reading assistant (decision support, not a diagnosis).")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("inspect", help="print metadata and pixel statistics of files/folders")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("analyze", help="analyse radiographs with the shipped models")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--cam", metavar="LABEL", help="heat map for this label (default: the top "
                   "positive finding); MODEL/LABEL for a label of another model of the set")
    p.add_argument("--csv", type=Path, metavar="OUT.csv",
                   help="write one row per file found (errors included); progress on stderr")
    p.add_argument("--pdf-dir", type=Path, metavar="DIR",
                   help="write a PDF snapshot per analysed image into DIR")
    p.add_argument("--anonymize", action="store_true",
                   help="leave patient name, id, birth date, institution, UIDs and source paths "
                        "out of everything written (pseudonyms stable within this run)")
    p.add_argument("--no-history", action="store_true",
                   help="do not store the analyses in the local history database")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("evaluate", help="metrics of the shipped pipeline on a labelled CSV")
    p.add_argument("--csv", required=True, type=Path,
                   help="table with path (relative to the CSV) and label, optionally "
                        "patient_id and split")
    p.add_argument("--split", help="use only rows with this split value (e.g. val)")
    p.add_argument("--holdout", action="store_true",
                   help="use only the patient-grouped validation split the shipped classifier "
                        "was tuned on (re-carved with the seed in its manifest)")
    p.add_argument("--json", action="store_true", help="end with one JSON object of metrics")
    p.add_argument("--out", type=Path, help="folder for roc.png and confusion.png")
    p.add_argument("--protocol", action="store_true",
                   help="also the model-selection protocol: the stress suite, the cohorts and "
                        "where the heat maps point (concentration on the lungs)")
    p.add_argument("--boxes", type=Path,
                   help="with --protocol: radiologists' boxes (path, finding, x, y, w, h) for "
                        "the pointing game, e.g. adult_cxr/nih_boxes.csv (the gate is "
                        "bypassed for that figure only)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="train a model from a labelled CSV")
    tsub = p.add_subparsers(dest="what", required=True)
    c = tsub.add_parser("classifier", help="DenseNet121 radiograph classifier")
    c.add_argument("--csv", required=True, type=Path,
                   help="table with path (relative to the CSV) and label, optionally "
                        "patient_id and split; with --multi-label, one 0/1 column per label "
                        "instead of label (see docs/train-your-own.md)")
    c.add_argument("--multi-label", action="store_true",
                   help="one sigmoid per label column (findings that co-occur) instead of "
                        "one softmax over the label column's values")
    c.add_argument("--title", help="how the viewer, PDF and CSV name this model "
                                   "(e.g. 'Pediatric findings, 7 classes')")
    c.add_argument("--name", default="radiai-densenet121-cxr",
                   help="the model's name in its manifest, the history and the PDF's model list")
    _run_arguments(c, size=160, epochs=8, batch=32, lr=1e-3, val=0.1)
    c.add_argument("--display-name", action="append", default=[], metavar="LABEL=NAME",
                   help="how a label is shown, e.g. bacterial='bacterial pneumonia'")
    c.add_argument("--lung-input", choices=["plain", "masked", "crop"], default="plain",
                   help="what the classifier sees: the plain image, the lungs masked, or a "
                        "crop to the lung box (masks from the lung-mask model)")
    c.add_argument("--lung-model", type=Path,
                   help="lung-mask model folder for --lung-input masked/crop (default: shipped)")
    c.add_argument("--init-weights", type=Path, metavar="MODEL.keras",
                   help="start from a trained classifier's weights (same labels; the size may "
                        "differ) with a fresh warm-up and cosine schedule: a second stage")
    c.add_argument("--fine-map", action="store_true",
                   help="drop the last transition's pooling: a feature map (and heat map) twice "
                        "as fine, 10x10 at 160 px; --init-weights may come from either kind")
    c.add_argument("--framing", action="store_true",
                   help="augment framing: black or white borders, crops, contrast")
    c.add_argument("--label-smoothing", type=float, default=0.0, metavar="EPS",
                   help="label smoothing of the cross-entropy (e.g. 0.1)")
    c.set_defaults(func=cmd_train)
    u = tsub.add_parser("lung-mask", help="U-Net lung mask (encoder trained from scratch)")
    u.add_argument("--csv", required=True, type=Path,
                   help="table with image_path and mask_path (relative to the CSV), "
                        "optionally patient_id and dataset")
    _run_arguments(u, size=192, epochs=40, batch=16, lr=2e-3, val=0.15)
    u.set_defaults(func=cmd_train)
    g = tsub.add_parser("gate", help="fit the scope gate (chest radiograph? frontal? a "
                        "child?) and measure it per category on held-out images")
    g.add_argument("--models", required=True, type=Path,
                   help="folder with classifier/ and lung_mask/ (finalized)")
    g.add_argument("--data", required=True, type=Path,
                   help="the shared data folder (kermany/, lung_masks/, adult_cxr/, nonchest/)")
    g.add_argument("--out", required=True, type=Path, help="gate folder to write")
    g.add_argument("--limit", type=int, help="cap each category and side (smoke runs)")
    g.add_argument("--cache", type=Path, help="keep the measured features here for refits")
    g.set_defaults(func=cmd_train)
    k = tsub.add_parser("compare", help="compare finalized classifiers on their shared "
                        "validation split (paired patient bootstrap), e.g. an ablation")
    k.add_argument("models", nargs="+", metavar="NAME=MODEL_FOLDER")
    k.add_argument("--csv", required=True, type=Path, help="the training table of the runs")
    k.add_argument("--reference", help="the model the others are compared to (default: first)")
    k.add_argument("--n-boot", type=int, default=1000)
    k.add_argument("--json-out", type=Path, help="write the comparison as JSON")
    k.add_argument("--ensembles", action="store_true",
                   help="also evaluate the mean probabilities of every combination of models")
    k.set_defaults(func=cmd_train)
    f = tsub.add_parser("finalize", help="export a training run as a shipped model folder")
    f.add_argument("kind", choices=["classifier", "lung-mask"])
    f.add_argument("--run", required=True, type=Path, help="the training run folder")
    f.add_argument("--dest", required=True, type=Path, help="model folder to write")
    f.add_argument("--csv", type=Path, required=True,
                   help="the training table the run used (to re-carve its validation split)")
    f.add_argument("--positive-call", default="pneumonia",
                   help="the call a classifier with a negative label makes when its score "
                        "reaches the threshold (default: pneumonia; e.g. abnormal)")
    f.set_defaults(func=cmd_train)
    return parser


def _utf8_when_redirected() -> None:
    """Write UTF-8 into pipes and files. On Windows, Python encodes redirected output in the
    ANSI code page (cp1252, cp949), where a Korean name or a dash cannot always be written;
    a console gets Unicode from Python either way."""
    for stream in (sys.stdout, sys.stderr):
        if (stream is not None and hasattr(stream, "reconfigure") and not stream.isatty()
                and (stream.encoding or "").lower().replace("-", "") != "utf8"):
            stream.reconfigure(encoding="utf-8", errors="replace")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one ``radiai`` command; RadiAIErrors become one line on stderr and exit code 1."""
    _utf8_when_redirected()
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # Libraries' warnings about a damaged file (pydicom's "invalid value for VR", ...) are
    # chatter next to RadiAI's own line naming the file and the problem: logged with -v only.
    # pydicom logs each decoder failure at ERROR with a traceback; RadiAI names the file and
    # the problem itself, so those records are for -v.
    logging.captureWarnings(True)
    if not args.verbose:
        logging.getLogger("py.warnings").setLevel(logging.ERROR)
        logging.getLogger("pydicom").setLevel(logging.CRITICAL)
    for handler in logging.getLogger().handlers:
        protect(handler)
    if args.command is None:
        parser.print_help(out)
        return 2
    try:
        return args.func(args, out)
    except RadiAIError as exc:
        sys.stderr.write(f"radiai: {exc}\n")
        return 1
    except ModuleNotFoundError as exc:
        if args.command not in ("evaluate", "train"):
            raise
        sys.stderr.write(f"radiai: {args.command} needs the model-building tools ({exc.name} is "
                         "missing), which the installed app leaves out; run it from a source "
                         "checkout with them: pip install -e '.[train]'.\n")
        return 1
    except BrokenPipeError:  # output closed early (e.g. piped into head)
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("radiai: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
