"""The main window: study browser, viewer, findings, status bar; all work in workers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QSettings, Qt, QThread
from PyQt5.QtWidgets import (
    QAction,
    QActionGroup,
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from radiai_core.dicom_io import tag_listing
from radiai_core.errors import RadiAIError
from radiai_core.pipeline import Analysis, default_analyzer
from radiai_core.studies import ScanResult

from .browser import SkippedList, StudyBrowser
from .findings import FindingsPanel
from .viewer import ImageViewer
from .workers import AnalysisWorker, ModelLoader, ScanWorker, ThumbnailWorker, start

log = logging.getLogger(__name__)

MAX_RECENT = 8

SHORTCUTS = [
    ("Open files", "Ctrl+O"), ("Open folder", "Ctrl+Shift+O"), ("Analyse all", "Ctrl+Shift+A"),
    ("Cancel work", "Esc"), ("Fit to window", "F"), ("Actual size (1:1)", "1"),
    ("Zoom in", "+"), ("Zoom out", "-"), ("Invert", "I"), ("Reset view", "R"),
    ("Window: from file", "D"), ("Window: lung", "L"), ("Window: bone", "B"),
    ("Window: soft tissue", "T"), ("Heat map on/off", "H"), ("Lung contour on/off", "M"),
    ("Boxes on/off", "X"), ("DICOM tags", "Ctrl+T"), ("Keyboard shortcuts", "F1"),
    ("Quit", "Ctrl+Q"),
]
KEYS = dict(SHORTCUTS)


class MainWindow(QMainWindow):
    """``make_analyzer`` returns an object with ``analyze(path | XrayImage) -> Analysis``; it is
    called in a worker thread (the default loads the bundled models once)."""

    def __init__(self, make_analyzer: Callable[[], Any] = default_analyzer,
                 settings: QSettings | None = None) -> None:
        super().__init__()
        self.setWindowTitle("RadiAI — chest radiograph reading assistant")
        self.setAcceptDrops(True)
        self.make_analyzer = make_analyzer
        self.settings = settings or QSettings("RadiAI", "RadiAI")
        self.threads: list[QThread] = []
        self.scan_worker: ScanWorker | None = None
        self.batch_worker: AnalysisWorker | None = None
        self.view_worker: AnalysisWorker | None = None
        self.thumb_worker: ThumbnailWorker | None = None
        self.preload_worker: ModelLoader | None = None
        self.models_ready = False
        self.current_path: str | None = None
        self.scan_token = 0
        self.summaries: dict[str, dict] = {}  # path → Analysis.to_dict() (no pixel arrays)
        self.last_scan: ScanResult | None = None
        self._build_widgets()
        self._build_actions()
        self._restore()

    # --- construction -----------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.viewer = ImageViewer(self)
        self.setCentralWidget(self.viewer)
        self.browser = StudyBrowser(self)
        self.browser.image_selected.connect(self.show_path)
        self.findings = FindingsPanel(self)
        self.skipped = SkippedList(self)
        self.tags = QPlainTextEdit(self)
        self.tags.setReadOnly(True)

        overlay = QWidget(self)
        ol = QVBoxLayout(overlay)
        self.heat_box = QCheckBox("Heat map")
        self.mask_box = QCheckBox("Lung contour")
        self.boxes_box = QCheckBox("Boxes")
        for box in (self.heat_box, self.mask_box, self.boxes_box):
            box.setChecked(True)
            box.toggled.connect(self._overlay_changed)
            ol.addWidget(box)
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(45)
        self.opacity.valueChanged.connect(self._overlay_changed)
        ol.addWidget(QLabel("Heat map opacity"))
        ol.addWidget(self.opacity)
        side = QWidget(self)
        sl = QVBoxLayout(side)
        sl.addWidget(self.findings, 1)
        sl.addWidget(overlay)

        for title, widget, area, name in (
                ("Studies", self.browser, Qt.LeftDockWidgetArea, "studies"),
                ("Findings", side, Qt.RightDockWidgetArea, "findings"),
                ("Skipped files", self.skipped, Qt.BottomDockWidgetArea, "skipped"),
                ("DICOM tags", self.tags, Qt.RightDockWidgetArea, "tags")):
            dock = QDockWidget(title, self)
            dock.setObjectName(name)
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            setattr(self, f"{name}_dock", dock)
        self.tabifyDockWidget(self.findings_dock, self.tags_dock)
        self.findings_dock.raise_()

        self.status_text = QLabel("Drop a study folder or radiographs here, or use File → Open.")
        self.cursor_text = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_work)
        sb = self.statusBar()
        sb.addWidget(self.status_text, 1)
        sb.addPermanentWidget(self.cursor_text)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        self.viewer.cursor_info.connect(self.cursor_text.setText)

    def _action(self, menu, text: str, slot, checkable: bool = False) -> QAction:
        act = QAction(text, self)
        if text in KEYS:
            act.setShortcut(KEYS[text])
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        menu.addAction(act)
        self.addAction(act)  # shortcuts work even with the menu bar hidden
        return act

    def _build_actions(self) -> None:
        m = self.menuBar().addMenu("&File")
        self._action(m, "Open files", self.choose_files)
        self._action(m, "Open folder", self.choose_folder)
        self.recent_menu = m.addMenu("Recent")
        m.addSeparator()
        self._action(m, "Quit", self.close)
        v = self.menuBar().addMenu("&View")
        self._action(v, "Fit to window", self.viewer.fit)
        self._action(v, "Actual size (1:1)", self.viewer.one_to_one)
        self._action(v, "Zoom in", lambda: self.viewer.zoom(ImageViewer.ZOOM_STEP))
        self._action(v, "Zoom out", lambda: self.viewer.zoom(1 / ImageViewer.ZOOM_STEP))
        self.invert_action = self._action(v, "Invert", self.viewer.set_inverted, checkable=True)
        self._action(v, "Reset view", self._reset_view)
        v.addSeparator()
        group = QActionGroup(self)
        for text, name in (("Window: from file", "default"), ("Window: lung", "lung"),
                           ("Window: bone", "bone"), ("Window: soft tissue", "soft tissue")):
            act = self._action(v, text, lambda _=False, n=name: self.viewer.set_preset(n),
                               checkable=True)
            group.addAction(act)
        v.addSeparator()
        self._action(v, "Heat map on/off", self.heat_box.toggle)
        self._action(v, "Lung contour on/off", self.mask_box.toggle)
        self._action(v, "Boxes on/off", self.boxes_box.toggle)
        self._action(v, "DICOM tags", lambda: (self.tags_dock.show(), self.tags_dock.raise_()))
        a = self.menuBar().addMenu("&Analysis")
        self._action(a, "Analyse all", self.analyse_all)
        self._action(a, "Cancel work", self.cancel_work)
        h = self.menuBar().addMenu("&Help")
        self._action(h, "Keyboard shortcuts", self.show_shortcuts)

    # --- settings ---------------------------------------------------------------------------
    def _restore(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        state = self.settings.value("state")
        if state is not None:
            self.restoreState(state)
        self._refresh_recent()

    def recent_files(self) -> list[str]:
        value = self.settings.value("recent", [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember(self, paths: Sequence[str]) -> None:
        recent = [str(p) for p in paths] + [p for p in self.recent_files()
                                            if p not in map(str, paths)]
        self.settings.setValue("recent", recent[:MAX_RECENT])
        if paths:
            first = Path(paths[0])
            self.settings.setValue("last_folder", str(first if first.is_dir() else first.parent))
        self._refresh_recent()

    def _refresh_recent(self) -> None:
        self.recent_menu.clear()
        for p in self.recent_files():
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda _=False, path=p: self.open_paths([path]))

    def closeEvent(self, event) -> None:  # noqa: N802
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel all work and wait for the worker threads to end."""
        for w in (self.scan_worker, self.batch_worker, self.view_worker, self.thumb_worker):
            if w is not None:
                w.cancel()
        for t in self.threads:
            t.quit()
            t.wait(timeout_ms)
        self.threads = [t for t in self.threads if t.isRunning()]

    # --- opening ----------------------------------------------------------------------------
    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, "Open radiographs", self.settings.value("last_folder", ""),
            "Radiographs (*.dcm *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)")
        if files:
            self.open_paths(files)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open study folder",
                                                  self.settings.value("last_folder", ""))
        if folder:
            self.open_paths([folder])

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    def open_paths(self, paths: Sequence[str | Path]) -> None:
        """Scan files and folders in a worker; the browser fills when it is done."""
        paths = [str(p) for p in paths]
        if self.scan_worker is not None:
            self.scan_worker.cancel()
        self._remember(paths)
        self.status_text.setText(f"Scanning {len(paths)} item(s)…")
        self.scan_token += 1
        worker = ScanWorker(paths, self.scan_token)
        worker.progress.connect(self._on_progress)
        worker.finished.connect(self._on_scanned)
        worker.failed.connect(self._on_failed)
        self.scan_worker = worker
        self._show_busy(True)
        self._track(start(worker, self))

    def _on_scanned(self, payload: tuple[int, ScanResult]) -> None:
        token, result = payload
        if token != self.scan_token:
            return  # a superseded scan
        self.scan_worker = None
        self._show_busy(self.batch_worker is not None)
        self.last_scan = result
        self.browser.populate(result)
        self.skipped.clear()
        for s in result.skipped:
            self.skipped.add(s.path, s.reason)
        if result.skipped:
            self.skipped_dock.show()
        n = len(result.images())
        self.status_text.setText(
            f"{n} image(s) in {len(result.patients)} patient(s); {len(result.skipped)} file(s) "
            "skipped" + (" (scan cancelled)" if result.cancelled else "") + ".")
        paths = self.browser.image_paths()
        if paths:
            self.browser.select_path(paths[0])
            if self.thumb_worker is not None:
                self.thumb_worker.cancel()
            self.thumb_worker = ThumbnailWorker(paths)
            self.thumb_worker.thumbnail.connect(self.browser.set_thumbnail)
            self._track(start(self.thumb_worker, self))

    def _on_failed(self, message: str) -> None:
        self.scan_worker = None
        self._show_busy(False)
        QMessageBox.warning(self, "RadiAI", message)

    # --- analysis ---------------------------------------------------------------------------
    def preload_models(self) -> None:
        """Load the models in a worker right after the window appears (status bar says so)."""
        worker = ModelLoader(self.make_analyzer)
        worker.status.connect(self.status_text.setText)
        worker.failed.connect(self.status_text.setText)
        worker.finished.connect(self._on_models_ready)
        self.models_ready = False
        self.preload_worker = worker
        self._track(start(worker, self))

    def _on_models_ready(self, _cancelled: bool) -> None:
        self.models_ready = True
        if self.status_text.text() == "Loading models…":
            self.status_text.setText("Models loaded. Drop a study folder or radiographs here, or "
                                     "use File → Open.")

    def show_path(self, path: str) -> None:
        """Load, show and analyse one image (in a worker)."""
        self.current_path = path
        self.findings.show_pending(path)
        if self.view_worker is not None:
            self.view_worker.cancel()
        worker = AnalysisWorker([path], self.make_analyzer)
        worker.image_loaded.connect(self._on_view_image)
        worker.result.connect(self._on_view_result)
        worker.error.connect(self._on_view_error)
        worker.status.connect(self.status_text.setText)
        self.view_worker = worker
        self._track(start(worker, self))
        self._show_tags(path)

    def _show_tags(self, path: str) -> None:
        try:
            self.tags.setPlainText(tag_listing(path))
        except RadiAIError:
            self.tags.setPlainText("(not a DICOM file: no tags)")

    def _on_view_image(self, image) -> None:
        if image.meta.path == self.current_path:
            self.viewer.set_image(image)
            self.invert_action.setChecked(False)

    def _on_view_result(self, a: Analysis) -> None:
        self.summaries[a.path] = a.to_dict()
        if a.path == self.current_path:
            self.viewer.set_analysis(a)
            self.findings.show_analysis(a)
            total = a.timings_ms.get("total", 0)
            self.status_text.setText(f"Analysed {Path(a.path).name} in {total:.0f} ms."
                                     if a.status == "ok" else f"{Path(a.path).name}: refused.")

    def _on_view_error(self, path: str, message: str) -> None:
        if not path or path == self.current_path:
            self.findings.show_error(message)
            if path:
                self.viewer.set_image(None)
            self.status_text.setText(message if not path else f"{Path(path).name}: {message}")

    def analyse_all(self) -> None:
        paths = self.browser.image_paths()
        if not paths:
            self.status_text.setText("Nothing to analyse: open radiographs or a folder first.")
            return
        if self.batch_worker is not None:
            return
        worker = AnalysisWorker(paths, self.make_analyzer)
        worker.result.connect(self._on_batch_result)
        worker.error.connect(self._on_batch_error)
        worker.progress.connect(self._on_progress)
        worker.status.connect(self.status_text.setText)
        worker.finished.connect(self._on_batch_done)
        self.batch_worker = worker
        self.batch_errors = 0
        self._show_busy(True)
        self._track(start(worker, self))

    def _on_batch_result(self, a: Analysis) -> None:
        self.summaries[a.path] = a.to_dict()  # arrays are dropped: memory stays flat

    def _on_batch_error(self, path: str, message: str) -> None:
        self.batch_errors += 1
        self.skipped.add(path or "(models)", message)

    def _on_batch_done(self, cancelled: bool) -> None:
        n = self.progress.value()
        self.batch_worker = None
        self._show_busy(self.scan_worker is not None)
        self.status_text.setText(f"{'Cancelled after' if cancelled else 'Analysed'} {n} "
                                 f"image(s); {self.batch_errors} could not be read.")

    def cancel_work(self) -> None:
        for w in (self.scan_worker, self.batch_worker):
            if w is not None:
                w.cancel()
        self.status_text.setText("Cancelling…")

    # --- helpers ----------------------------------------------------------------------------
    def _track(self, thread: QThread) -> None:
        self.threads = [t for t in self.threads if t.isRunning()] + [thread]

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _show_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setValue(0)

    def _overlay_changed(self) -> None:
        self.viewer.set_overlay(heat=self.heat_box.isChecked(), mask=self.mask_box.isChecked(),
                                boxes=self.boxes_box.isChecked(),
                                opacity=self.opacity.value() / 100)

    def _reset_view(self) -> None:
        self.invert_action.setChecked(False)
        self.viewer.reset()

    def show_shortcuts(self) -> None:
        rows = "".join(f"<tr><td>{name}</td><td><b>{key}</b></td></tr>" for name, key in SHORTCUTS)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table>{rows}</table>"
                                "<p>Mouse: wheel zooms around the cursor, left-drag pans, "
                                "right-drag sets window (left/right) and level (up/down).</p>")
