"""The window's exports: PDF snapshot, PNG of the view, CSV table; each written by the core."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PyQt5.QtWidgets import QFileDialog, QMessageBox

from radiai_core.errors import RadiAIError
from radiai_core.reading.anonymize import Pseudonymizer
from radiai_core.results.report import write_pdf
from radiai_core.results.snapshot import write_png

from .i18n import t
from .workers import CsvWorker, TaskWorker

if TYPE_CHECKING:
    from .main_window import MainWindow


class Exports:
    """File → Export PDF / PNG / CSV for a window: the dialogs (suggested names, the folder
    the reader last saved to), then the core's writers. The PDF and the PNG draw the view
    through the same renderer (``radiai_core.results.snapshot.render``); the PDF and the CSV are
    written in workers."""

    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.csv_worker: CsvWorker | None = None
        self.folder: str | None = None  # where the reader saved last, this session

    # --- dialogs ---------------------------------------------------------------------------
    def suggested_name(self, suffix: str) -> str:
        """The suggested file: in the folder the reader last saved to in this session, else
        beside the image (the study's folder). An anonymised export is never suggested beside
        its source, whose folder may name the patient: the home folder then."""
        a = self.w.current_analysis
        anonymise = self.w.anonymize_action.isChecked()
        ref = Pseudonymizer(anonymise).details(a.image.meta).reference
        folder = self.folder or str(Path.home() if anonymise else Path(a.path).parent)
        return str(Path(folder) / f"{ref}{suffix}")

    def _save_dialog(self, title: str, suggested: str, filters: str) -> str:
        """A save dialog; afterwards the window has the keyboard again (Ctrl+H did nothing
        until it was clicked)."""
        path, _ = QFileDialog.getSaveFileName(self.w, title, suggested, filters)
        self.w.activateWindow()
        self.w.raise_()
        if path:
            self.folder = str(Path(path).parent)
        return path

    def _need_analysis(self) -> bool:
        if self.w.current_analysis is None:
            QMessageBox.information(self.w, "RadiAI", t("Open and analyse an image first."))
            return False
        return True

    def choose_pdf(self) -> None:
        """File → Export PDF (the shown analysis)."""
        if not self._need_analysis():
            return
        path = self._save_dialog("Export PDF snapshot", self.suggested_name(".pdf"),
                                 "PDF (*.pdf)")
        if path:
            self.export_pdf(path)

    def choose_png(self) -> None:
        """File → Export PNG snapshot of the view."""
        if not self._need_analysis():
            return
        path = self._save_dialog("Export PNG snapshot of the view",
                                 self.suggested_name(".png"), "PNG (*.png)")
        if path:
            self.export_png(path)

    def choose_csv(self) -> None:
        """File → Export CSV (the selected study, or everything open)."""
        if not self.w.browser.image_paths() and self.w.last_scan is None:
            QMessageBox.information(self.w, "RadiAI", t("Open a folder or radiographs first."))
            return
        folder = self.folder or self.w.settings.value("last_folder", "")
        path = self._save_dialog("Analyse into a CSV table",
                                 str(Path(folder) / "radiai-batch.csv"), "CSV (*.csv)")
        if path:
            self.export_csv(path)

    # --- writing ---------------------------------------------------------------------------
    def export_pdf(self, path: str) -> None:
        """Write the current analysis as a PDF page (in a worker), in the current window."""
        a = self.w.current_analysis
        if a is None:
            return
        self.w.status_text.setText(t("Writing the PDF…"))
        worker = TaskWorker(write_pdf, [a], path,
                            Pseudonymizer(self.w.anonymize_action.isChecked()),
                            [self.w.viewer.window], what="the PDF export")
        self.w.jobs.start(worker, result=lambda p: self.w.status_text.setText(
            f"PDF written: {p}"), failed=self._warn)

    def export_png(self, path: str) -> bool:
        """The view as the PDF draws it (window, inversion and overlays as shown, the whole
        image, no patient text) as a PNG; False, with the reason shown, when it could not be
        written."""
        a, v = self.w.current_analysis, self.w.viewer
        if a is None:
            return False
        try:
            write_png(a, path, v.window, v.inverted, v.show_heat, v.show_mask, v.show_boxes,
                      v.heat_opacity)
        except RadiAIError as exc:
            self._warn("", str(exc))
            return False
        self.w.status_text.setText(f"Snapshot written: {path}")
        return True

    def export_csv(self, path: str) -> None:
        """Analyse the selected study (or everything open) into a CSV table, one row per file
        found, unreadable ones included; in a worker with progress and cancel."""
        if self.csv_worker is not None:
            return
        browser, scan = self.w.browser, self.w.last_scan
        paths = browser.selected_study_paths() or browser.image_paths()
        errors = [] if browser.selected_study_paths() else [
            (s.path, s.reason, s.kind) for s in (scan.skipped if scan else [])]
        worker = CsvWorker(paths, errors, self.w.make_analyzer, Path(path),
                           self.w.anonymize_action.isChecked(), self.w.history_path)
        self.csv_worker = worker
        self.w.show_busy(True)
        self.w.status_text.setText(f"Analysing {len(paths)} image(s) into {Path(path).name}…")
        self.w.jobs.start(worker, progress=self.w.show_progress,
                          status=self.w.status_text.setText,
                          result=lambda r, p=path: self._csv_written(p, *r),
                          failed=self._warn, finished=self._csv_finished)

    def cancel(self) -> None:
        """Stop the CSV export after the current file (what is written stays)."""
        if self.csv_worker is not None:
            self.csv_worker.cancel()

    def _csv_written(self, path: str, rows: int, cancelled: bool, history_problem: str) -> None:
        self.w.history_panel.request_refresh()
        self.w.status_text.setText(f"{'Cancelled: ' if cancelled else ''}{rows} row(s) "
                                   f"written to {path}."
                                   + (f" Not stored in the history: {history_problem}"
                                      if history_problem else ""))

    def _csv_finished(self, _cancelled: bool) -> None:
        self.csv_worker = None
        self.w.show_busy(False)

    def _warn(self, _path: str, message: str) -> None:
        self.w.status_text.setText(message)
        QMessageBox.warning(self.w, "RadiAI", message)
