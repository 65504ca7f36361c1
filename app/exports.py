"""The window's exports: PDF snapshot, PNG of the view, CSV table; each written by the core."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PyQt5.QtWidgets import QFileDialog, QMessageBox, QWidget

from radiai_core.analysis.pipeline import Analysis
from radiai_core.errors import RadiAIError
from radiai_core.reading.anonymize import Pseudonymizer
from radiai_core.reading.display import Window
from radiai_core.results.report import write_pdf
from radiai_core.results.snapshot import write_png

from .i18n import t
from .viewer import ViewState
from .workers import CsvWorker, Jobs, TaskWorker

log = logging.getLogger(__name__)


def pdf_with_verdicts(a: Analysis, path: str, pseudonyms: Pseudonymizer, window: Window | None,
                      history_path: Path | None) -> Path:
    """The PDF of ``a`` with the reader's verdicts on its calls as the history holds them (run
    in a worker: it opens its own history connection). A history that cannot be read leaves
    the verdicts out, and says so in the log; the PDF is still written."""
    from radiai_core.results.history import History

    verdicts: dict[str, tuple[str | None, str]] = {}
    try:
        with History(history_path) as h:
            verdicts = h.verdicts_of(a)
    except RadiAIError as exc:
        log.warning("PDF without the reader's verdicts: %s", exc)
    return write_pdf([a], path, pseudonyms, [window], verdicts=[verdicts])


#: The files a CSV export covers: the images to analyse, and the files the scan already found
#: unusable as (path, message, kind) (they get a row each too).
CsvSources = tuple[list[str], list[tuple[str, str, str]]]


@dataclass(frozen=True)
class ExportContext:
    """What the exports need from the window that hosts them, and nothing more: the exports
    never reach into the window (no import of it, no attribute of it).

    ``analysis()`` is the analysis on screen (None when there is none) and ``view()`` how it is
    shown; ``anonymize()`` whether exports are anonymised; ``csv_sources()`` the files a CSV
    export covers; ``last_folder()`` the folder the reader last opened. ``status`` shows a line
    in the window's status bar, ``busy`` and ``progress`` drive its progress bar and Cancel
    button, ``history_changed`` says that the CSV export stored analyses.
    """

    parent: QWidget
    jobs: Jobs
    analysis: Callable[[], Analysis | None]
    view: Callable[[], ViewState]
    anonymize: Callable[[], bool]
    csv_sources: Callable[[], CsvSources]
    last_folder: Callable[[], str]
    status: Callable[[str], None]
    busy: Callable[[bool], None]
    progress: Callable[[int, int], None]
    history_changed: Callable[[], None]
    make_analyzer: Callable[[], Any]
    history_path: Path | None = None


class Exports:
    """File → Export PDF / PNG / CSV: the dialogs (suggested names, the folder the reader last
    saved to), then the core's writers. The PDF and the PNG draw the view through the same
    renderer (``radiai_core.results.snapshot.render``); the PDF and the CSV are written in
    workers. Everything it needs from its window comes through one ``ExportContext``."""

    def __init__(self, context: ExportContext) -> None:
        self.c = context
        self.csv_worker: CsvWorker | None = None
        self.folder: str | None = None  # where the reader saved last, this session

    # --- dialogs ---------------------------------------------------------------------------
    def suggested_name(self, suffix: str) -> str:
        """The suggested file: in the folder the reader last saved to in this session, else
        beside the image (the study's folder). An anonymised export is never suggested beside
        its source, whose folder may name the patient: the home folder then."""
        a = self.c.analysis()
        if a is None:
            return ""
        anonymise = self.c.anonymize()
        ref = Pseudonymizer(anonymise).details(a.image.meta).reference
        folder = self.folder or str(Path.home() if anonymise else Path(a.path).parent)
        return str(Path(folder) / f"{ref}{suffix}")

    def _save_dialog(self, title: str, suggested: str, filters: str) -> str:
        """A save dialog; afterwards the window has the keyboard again (Ctrl+H did nothing
        until it was clicked)."""
        parent = self.c.parent
        path, _ = QFileDialog.getSaveFileName(parent, title, suggested, filters)
        parent.activateWindow()
        parent.raise_()
        if path:
            self.folder = str(Path(path).parent)
        return path

    def _need_analysis(self) -> bool:
        if self.c.analysis() is None:
            QMessageBox.information(self.c.parent, "RadiAI", t("Open and analyse an image first."))
            return False
        return True

    def choose_pdf(self) -> None:
        """File → Export PDF (the shown analysis)."""
        if not self._need_analysis():
            return
        path = self._save_dialog(t("Export PDF snapshot"), self.suggested_name(".pdf"),
                                 "PDF (*.pdf)")
        if path:
            self.export_pdf(path)

    def choose_png(self) -> None:
        """File → Export PNG snapshot of the view."""
        if not self._need_analysis():
            return
        path = self._save_dialog(t("Export PNG snapshot of the view"),
                                 self.suggested_name(".png"), "PNG (*.png)")
        if path:
            self.export_png(path)

    def choose_csv(self) -> None:
        """File → Export CSV (the selected study, or everything open)."""
        paths, errors = self.c.csv_sources()
        if not paths and not errors:
            QMessageBox.information(self.c.parent, "RadiAI",
                                    t("Open a folder or radiographs first."))
            return
        folder = self.folder or self.c.last_folder()
        path = self._save_dialog(t("Analyse into a CSV table"),
                                 str(Path(folder) / "radiai-batch.csv"), "CSV (*.csv)")
        if path:
            self.export_csv(path)

    # --- writing ---------------------------------------------------------------------------
    def export_pdf(self, path: str) -> None:
        """Write the current analysis as a PDF page (in a worker), in the current window."""
        a = self.c.analysis()
        if a is None:
            return
        self.c.status(t("Writing the PDF…"))
        worker = TaskWorker(pdf_with_verdicts, a, path, Pseudonymizer(self.c.anonymize()),
                            self.c.view().window, self.c.history_path, what="the PDF export")
        self.c.jobs.start(worker, result=lambda p: self.c.status(
            t("PDF written: {path}").format(path=p)), failed=self._warn)

    def export_png(self, path: str) -> bool:
        """The view as the PDF draws it (window, inversion and overlays as shown, the whole
        image, no patient text) as a PNG; False, with the reason shown, when it could not be
        written."""
        a = self.c.analysis()
        if a is None:
            return False
        v = self.c.view()
        try:
            write_png(a, path, v.window, v.inverted, v.heat, v.mask, v.boxes, v.opacity)
        except RadiAIError as exc:
            self._warn("", str(exc))
            return False
        self.c.status(t("Snapshot written: {path}").format(path=path))
        return True

    def export_csv(self, path: str) -> None:
        """Analyse the selected study (or everything open) into a CSV table, one row per file
        found, unreadable ones included; in a worker with progress and cancel."""
        if self.csv_worker is not None:
            return
        paths, errors = self.c.csv_sources()
        worker = CsvWorker(paths, errors, self.c.make_analyzer, Path(path), self.c.anonymize(),
                           self.c.history_path)
        self.csv_worker = worker
        self.c.busy(True)
        self.c.status(t("Analysing {n} image(s) into {name}…").format(
            n=len(paths), name=Path(path).name))
        self.c.jobs.start(worker, progress=self.c.progress, status=self.c.status,
                          result=lambda r, p=path: self._csv_written(p, *r),
                          failed=self._warn, finished=self._csv_finished)

    def cancel(self) -> bool:
        """Stop the CSV export after the current file (what is written stays); True when one
        was running."""
        if self.csv_worker is not None:
            self.csv_worker.cancel()
            return True
        return False

    def _csv_written(self, path: str, rows: int, cancelled: bool, history_problem: str,
                     counts: dict[str, int]) -> None:
        self.c.history_changed()
        # Analysed, refused and unreadable apart, as the command line counts them.
        text = (t("Cancelled: {rows} row(s) written to {path}: {analysed} analysed, {refused} "
                  "refused, {unreadable} could not be read, {ignored} ignored (not images).")
                if cancelled else
                t("{rows} row(s) written to {path}: {analysed} analysed, {refused} refused, "
                  "{unreadable} could not be read, {ignored} ignored (not images).")).format(
            rows=rows, path=path, analysed=counts.get("ok", 0),
            refused=counts.get("rejected", 0), unreadable=counts.get("error", 0),
            ignored=counts.get("ignored", 0))
        if history_problem:
            text += " " + t("Not stored in the history: {problem}").format(
                problem=history_problem)
        self.c.status(text)

    def _csv_finished(self, _cancelled: bool) -> None:
        self.csv_worker = None
        self.c.busy(False)

    def _warn(self, _path: str, message: str) -> None:
        self.c.status(message)
        QMessageBox.warning(self.c.parent, "RadiAI", message)
