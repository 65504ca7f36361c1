"""`radiai inspect` and `radiai analyze`: files through the reader and the Runner, printed."""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from ..analysis.findings import Findings, label_ref
from ..analysis.gate import RefusedAs
from ..analysis.zones import describe
from ..errors import RadiAIError
from ..reading.io import load_image
from ..reading.studies import list_files

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
        what = RefusedAs(d["refused_as"]).label if d.get("refused_as") else "refused"
        out.write(f"REFUSED {d['path']} ({what}): {d['message']}\n")
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
    its call, the explained label, the lung zones of its evidence and its regions."""
    pad = "       "
    if titled:
        out.write(f"{pad}[{f.title}]\n")
    for label, p in f.shown()[:None if f.multi_label else 3]:
        mark = "  *" if f.multi_label and f.is_positive(label) else ""
        out.write(f"{pad}{f.name(label):<24} {p:6.1%}{mark}\n")
    if f.call is not None or f.multi_label:
        out.write(f"{pad}call: {f.summary()}\n")
    if f.cam_label is not None:
        out.write(f"{pad}heat map: {f.name(f.cam_label)}\n")
    if f.zones:
        out.write(f"{pad}evidence by lung zone: {describe(f.zones)}\n")
    if f.diffuse:
        out.write(f"{pad}evidence diffuse: no single region stands out, so no box\n")
    for b in f.boxes:
        out.write(f"{pad}region x={b.x} y={b.y} w={b.w} h={b.h} "
                  f"({b.score:.0%} of the heat map"
                  + ("" if b.in_lungs else ", mostly outside the lung contour") + ")\n")


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
        return {**d, "path": pseudonyms.file_reference(item.path),
                "message": pseudonyms.message(d.get("message") or "", item.path)}
    details = pseudonyms.details(item.analysis.image.meta)
    return {**d, "path": details.reference, "patient_id": details.patient_id,
            "study_uid": None, "sop_uid": None}


def cmd_analyze(args: argparse.Namespace, out: TextIO) -> int:
    """``radiai analyze``: every file through the Runner (analysed, refused or its error), into the
    history, CSV and PDFs as asked; exit 1 if a file was unreadable or an analysis not stored."""
    from ..analysis.pipeline import NOTICE, default_analyzer
    from ..reading.anonymize import Pseudonymizer
    from ..results.batch import BatchItem, CsvTable, Runner

    analyzer = default_analyzer()  # model problems stop here, before any file is read
    if args.cam is not None:  # a usage error, also before any file is read
        valid = [label_ref(key, label, i == 0)
                 for i, (key, labels) in enumerate(analyzer.outputs) for label in labels]
        if args.cam not in valid:
            sys.stderr.write(f"radiai analyze: --cam {args.cam!r} is not a label of the models; "
                             f"the labels are: {', '.join(valid)}\n")
            return 2
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
                    from ..results.report import write_pdf

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
