"""The main window: study browser, viewer, findings, status bar; all work in workers."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PyQt5 import sip
from PyQt5.QtCore import QCoreApplication, QRect, QSettings, Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QAction,
    QActionGroup,
    QApplication,
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from radiai_core.analysis.manifest import ModelInfo
from radiai_core.analysis.pipeline import Analysis, default_analyzer
from radiai_core.errors import HistoryError, RadiAIError
from radiai_core.i18n import localized
from radiai_core.reading.dicom_io import tag_listing
from radiai_core.reading.display import Window, window_text
from radiai_core.reading.image import XrayImage
from radiai_core.reading.studies import ScanResult
from radiai_core.results.history import History

from .about import AboutDialog, loaded_model_infos
from .browser import SkippedList, StudyBrowser
from .exports import CsvSources, ExportContext, Exports
from .findings import FindingsPanel, compact_calls
from .history_view import HistoryPanel
from .i18n import LANGUAGES, N_, chosen_language, install, install_fonts, t
from .viewer import ImageViewer
from .workers import AnalysisWorker, Jobs, ModelLoader, ScanWorker, TaskWorker, ThumbnailWorker

log = logging.getLogger(__name__)

MAX_RECENT = 8
#: Opening a folder, the view starts on an image RadiAI analyses: images whose header gives an
#: adult's age (the shipped gate refuses 18 and over) are passed over, and an image the gate
#: refuses anyway moves the selection on, at most this many times.
ADULT_YEARS = 18.0
MAX_SKIPPED_AT_OPEN = 10

SHORTCUTS = [
    ("Open files", "Ctrl+O"), ("Open folder", "Ctrl+Shift+O"), ("Analyse all", "Ctrl+Shift+A"),
    ("Cancel work", "Esc"), ("Fit to window", "F"), ("Actual size (1:1)", "1"),
    ("Zoom in", "+"), ("Zoom out", "-"), ("Invert", "I"), ("Reset view", "R"),
    ("Window: from file", "D"), ("Window: lung", "L"), ("Window: bone", "B"),
    ("Window: soft tissue", "T"), ("Heat map on/off", "H"), ("Lung contour on/off", "M"),
    ("Boxes on/off", "X"), ("DICOM tags", "Ctrl+T"), ("History", "Ctrl+H"),
    ("Export PDF…", "Ctrl+E"), ("Export PNG snapshot…", "Ctrl+Shift+S"),
    ("Export CSV…", "Ctrl+Shift+E"), ("Keyboard shortcuts", "F1"), ("Quit", "Ctrl+Q"),
]
KEYS = dict(SHORTCUTS)


def opened_note(refused: int, adults: int) -> str:
    """The status line when a folder opened on a film below others: ``refused`` films above it
    were tried and refused (or could not be read; their rows say why), ``adults`` were not
    tried, their header giving an adult's age (their rows are blank until opened). Empty when
    it opened on the first film."""
    if refused and adults:
        return t("Opened on the first image RadiAI analyses. Above it: {r} refused (their rows "
                 "say why), {a} not analysed as their header gives an adult's age (each says "
                 "so when opened).").format(r=refused, a=adults)
    if refused:
        return t("Opened on the first image RadiAI analyses. Above it: {n} refused (their rows "
                 "say why).").format(n=refused)
    if adults:
        return t("Opened on the first image RadiAI analyses. Above it: {n} not analysed as "
                 "their header gives an adult's age (each says so when opened).").format(
            n=adults)
    return ""


class MainWindow(QMainWindow):
    """``make_analyzer`` returns an object with ``analyze(path | XrayImage) -> Analysis``; it is
    called in a worker thread (the default loads the bundled models once)."""

    #: A finished analysis reached the viewer (path); used by the start-up benchmark.
    analysis_shown = pyqtSignal(str)
    #: The models finished loading in the background.
    models_loaded = pyqtSignal()

    def __init__(self, make_analyzer: Callable[[], Any] = default_analyzer,
                 settings: QSettings | None = None, history_path: Path | None = None) -> None:
        super().__init__()
        install_fonts(QApplication.instance())  # Korean readable without a Hangul system font
        # Every fixed text as (setter, English source): set again when the language changes.
        self._texts: list[tuple[Callable[[str], Any], str]] = []
        # What each row of the study tree says, made again in a new language.
        self._rows: dict[str, Callable[[], tuple[str, str]]] = {}
        self.history_path = history_path  # None: the user's data folder
        self._tr(self.setWindowTitle, "RadiAI — chest radiograph reading assistant")
        self.setAcceptDrops(True)
        self.make_analyzer = make_analyzer
        self.settings = settings or QSettings("RadiAI", "RadiAI")
        self.jobs = Jobs(self)
        self.scan_worker: ScanWorker | None = None
        self.batch_worker: AnalysisWorker | None = None
        self.view_worker: AnalysisWorker | None = None
        self.thumb_worker: ThumbnailWorker | None = None
        self.preload_worker: ModelLoader | None = None
        self.models_ready = False
        self.model_infos: list[ModelInfo] = []  # the loaded models' identities (Help → About)
        self.about_dialog: AboutDialog | None = None
        self.current_path: str | None = None
        self.scan_token = 0
        self.summaries: dict[str, dict] = {}  # path → Analysis.to_dict() (no pixel arrays)
        self.current_analysis: Analysis | None = None
        self.reopened_id: int | None = None  # the history's id of the analysis on screen
        # Opening a folder: the images still to try for a first analysable one (None once the
        # reader picks an image or one is found), and how many were refused on the way.
        self.opening: list[str] | None = None
        self.refused_at_open = 0
        self.first_at_open: str | None = None
        self.open_note: tuple[str, str] | None = None
        self._auto_selecting = False
        self.last_scan: ScanResult | None = None
        self._build_widgets()
        self.exports = Exports(ExportContext(
            parent=self, jobs=self.jobs, analysis=lambda: self.current_analysis,
            view=self.viewer.view_state, anonymize=lambda: self.anonymize_action.isChecked(),
            csv_sources=self._csv_sources,
            last_folder=lambda: str(self.settings.value("last_folder", "") or ""),
            status=self.status_text.setText,
            busy=lambda on: self.show_busy(on or self.scan_worker is not None
                                           or self.batch_worker is not None),
            progress=self.show_progress,
            history_changed=lambda: self.history_panel.request_refresh(),
            make_analyzer=lambda: self.make_analyzer(), history_path=self.history_path))
        self._build_actions()
        self._restore()
        h = self.history_panel
        if h.history is None:
            self.status_text.setText(t("History unavailable: {error}").format(error=h.error))
        elif h.history.moved_aside is not None:
            self.status_text.setText(t(
                "The history database was damaged; it was moved to {path} and a new one was "
                "started.").format(path=h.history.moved_aside))

    # --- construction -----------------------------------------------------------------------
    def _build_widgets(self) -> None:
        self.viewer = ImageViewer(self)
        self.setCentralWidget(self.viewer)
        self.browser = StudyBrowser(self)
        self.browser.image_selected.connect(self.show_path)
        self.findings = FindingsPanel(self)
        self.findings.heat_requested.connect(self.explain)
        self.skipped = SkippedList(self)
        self.tags = QPlainTextEdit(self)
        self.tags.setReadOnly(True)

        overlay = QWidget(self)
        ol = QVBoxLayout(overlay)
        self.heat_box, self.mask_box, self.boxes_box = QCheckBox(), QCheckBox(), QCheckBox()
        for box, text in ((self.heat_box, N_("Heat map")), (self.mask_box, N_("Lung contour")),
                          (self.boxes_box, N_("Boxes"))):
            self._tr(box.setText, text)
            box.setChecked(True)
            box.toggled.connect(self._overlay_changed)
            ol.addWidget(box)
        self.opacity = QSlider(Qt.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(45)
        self.opacity.valueChanged.connect(self._overlay_changed)
        self.opacity_label = QLabel()
        self._tr(self.opacity_label.setText, "Heat map opacity")
        ol.addWidget(self.opacity_label)
        ol.addWidget(self.opacity)
        # A switch for a heat map or boxes the image on screen does not have is greyed out.
        self.viewer.overlays_changed.connect(self._update_overlay_switches)
        self._update_overlay_switches()
        # A model set of any size: the findings scroll instead of being squeezed.
        scroll = QScrollArea(self)
        scroll.setWidget(self.findings)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        side = QWidget(self)
        sl = QVBoxLayout(side)
        sl.addWidget(scroll, 1)
        sl.addWidget(overlay)

        self.history_panel = HistoryPanel(self.history_path, self)
        self._history_refresh = QTimer(self)  # at most one refresh a second during a batch
        self._history_refresh.setSingleShot(True)
        self._history_refresh.setInterval(1000)
        self._history_refresh.timeout.connect(lambda: self.history_panel.request_refresh())
        self._connect_history(self.history_panel)

        for title, widget, area, name in (
                (N_("Studies"), self.browser, Qt.LeftDockWidgetArea, "studies"),
                (N_("History"), self.history_panel, Qt.LeftDockWidgetArea, "history"),
                (N_("Findings"), side, Qt.RightDockWidgetArea, "findings"),
                (N_("Skipped files"), self.skipped, Qt.BottomDockWidgetArea, "skipped"),
                (N_("DICOM tags"), self.tags, Qt.RightDockWidgetArea, "tags")):
            dock = QDockWidget(self)
            self._tr(dock.setWindowTitle, title)
            dock.setObjectName(name)
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            setattr(self, f"{name}_dock", dock)
        self.tabifyDockWidget(self.findings_dock, self.tags_dock)
        self.tabifyDockWidget(self.studies_dock, self.history_dock)
        self.history_dock.visibilityChanged.connect(
            lambda visible: visible and self.history_panel.on_shown())
        self.findings_dock.raise_()
        self.studies_dock.raise_()
        self.resizeDocks([self.skipped_dock], [110], Qt.Vertical)  # the image gets the room

        self.status_text = QLabel()
        self._tr(self.status_text.setText, "Drop a study folder or radiographs here, or use File → "
                                           "Open.")
        self.cursor_text = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        self.cancel_button = QPushButton()
        self._tr(self.cancel_button.setText, "Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_work)
        sb = self.statusBar()
        sb.addWidget(self.status_text, 1)
        self.window_text = QLabel()
        self._tr(self.window_text.setToolTip, "Window width and level, in the file's units")
        sb.addPermanentWidget(self.window_text)
        sb.addPermanentWidget(self.cursor_text)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.cancel_button)
        self.viewer.cursor_info.connect(self.cursor_text.setText)
        self.viewer.window_changed.connect(self._show_window)

    def _tr(self, setter: Callable[[str], Any], source: str) -> None:
        """Give a widget the text ``source`` in the language in force, and again whenever the
        language changes."""
        setter(t(source))
        self._texts.append((setter, source))

    def _menu(self, parent, title: str):
        """A menu titled ``title`` (translated, and again when the language changes)."""
        menu = parent.addMenu("")
        self._tr(menu.setTitle, title)
        return menu

    def _connect_history(self, panel: HistoryPanel) -> None:
        panel.reopen_requested.connect(self.reopen_analysis)
        panel.deleted.connect(self._on_history_deleted)
        panel.message.connect(lambda text: self.status_text.setText(text))

    def _action(self, menu, text: str, slot, checkable: bool = False) -> QAction:
        act = QAction(self)
        self._tr(act.setText, text)  # the English text is the key of its shortcut
        if text in KEYS:
            act.setShortcut(KEYS[text])
        act.setCheckable(checkable)
        act.triggered.connect(slot)
        menu.addAction(act)
        self.addAction(act)  # shortcuts work even with the menu bar hidden
        return act

    def _build_actions(self) -> None:
        m = self._menu(self.menuBar(), "&File")
        self._action(m, "Open files", self.choose_files)
        self._action(m, "Open folder", self.choose_folder)
        self._action(m, "PACS…", lambda: self.pacs())
        if self.settings.value("node/enabled", False, type=bool):
            self.pacs(show=False)  # the DICOM node setting: listening from the start
        self.recent_menu = self._menu(m, "Recent")
        m.addSeparator()
        self._action(m, "Export PDF…", self.exports.choose_pdf)
        self._action(m, "Export PNG snapshot…", self.exports.choose_png)
        self._action(m, "Export CSV…", self.exports.choose_csv)
        self.anonymize_action = self._action(m, "Anonymise exports", self._anonymize_changed,
                                             checkable=True)
        self.anonymize_action.setChecked(self.settings.value("anonymize", False, type=bool))
        m.addSeparator()
        self._action(m, "Quit", self.close)
        v = self._menu(self.menuBar(), "&View")
        self._action(v, "Fit to window", self.viewer.fit)
        self._action(v, "Actual size (1:1)", self.viewer.one_to_one)
        self._action(v, "Zoom in", lambda: self.viewer.zoom(ImageViewer.ZOOM_STEP))
        self._action(v, "Zoom out", lambda: self.viewer.zoom(1 / ImageViewer.ZOOM_STEP))
        self.invert_action = self._action(v, "Invert", self.viewer.set_inverted, checkable=True)
        self._action(v, "Reset view", self._reset_view)
        v.addSeparator()
        group = QActionGroup(self)
        self.window_actions: dict[str, QAction] = {}
        for text, name in ((N_("Window: from file"), "default"), (N_("Window: lung"), "lung"),
                           (N_("Window: bone"), "bone"),
                           (N_("Window: soft tissue"), "soft tissue")):
            act = self._action(v, text, lambda _=False, n=name: self.viewer.set_preset(n),
                               checkable=True)
            group.addAction(act)
            self.window_actions[name] = act
        self.window_actions["default"].setChecked(True)
        # A new image comes in its own window: the menu says so, not the last image's preset.
        self.viewer.image_changed.connect(lambda: self.window_actions["default"].setChecked(True))
        v.addSeparator()
        self._action(v, "Heat map on/off", lambda: self._flip(self.heat_box))
        self._action(v, "Lung contour on/off", self.mask_box.toggle)
        self._action(v, "Boxes on/off", lambda: self._flip(self.boxes_box))
        self._action(v, "DICOM tags", lambda: (self.tags_dock.show(), self.tags_dock.raise_()))
        self._action(v, "History", self.show_history)
        a = self._menu(self.menuBar(), "&Analysis")
        self._action(a, "Analyse all", self.analyse_all)
        self._action(a, "Cancel work", self.cancel_work)
        h = self._menu(self.menuBar(), "&Help")
        self._action(h, "Keyboard shortcuts", self.show_shortcuts)
        self._action(h, "About RadiAI", self.show_about)
        lang = self._menu(h, "Language")
        chosen = chosen_language(self.settings)
        self.language_actions: list[QAction] = []
        group = QActionGroup(self)
        for code, name in LANGUAGES.items():
            act = lang.addAction(name)  # each language in its own words
            act.setCheckable(True)
            act.setData(code)
            act.setChecked(code == chosen)
            self.language_actions.append(act)
            act.triggered.connect(lambda _=False, c=code: self.set_language(c))
            group.addAction(act)

    def set_language(self, code: str) -> None:
        """Remember the reader's language and change to it now, without a restart."""
        self.settings.setValue("language", code)
        for act in self.language_actions:
            act.setChecked(act.data() == code)
        language = install(QCoreApplication.instance(), self.settings)
        self.retranslate()
        self.status_text.setText(t("Language: {name}").format(name=LANGUAGES[language]))

    def retranslate(self) -> None:
        """Every text of the window again, in the language now installed: menus, docks,
        buttons, the study tree, the findings, the view's banner, the History panel."""
        for setter, source in self._texts:
            setter(t(source))
        self._update_overlay_switches()
        self.browser.retranslate()
        if self.last_scan is not None:
            self.browser.populate(self.last_scan)
            for path, row in self._rows.items():
                self.browser.set_result(path, *row())
            if self.current_path is not None:
                self.browser.show_path(self.current_path)
        self.findings.retranslate()
        if self.current_analysis is not None:
            self.findings.show_analysis(self.current_analysis)
        elif self.viewer.image is not None:
            self.findings.show_patient(self.viewer.image.meta)
        if self.reopened_id is not None:
            self.viewer.set_note(t("Stored analysis, reopened from the history"))
        self.viewer.retranslate()
        self._rebuild_history_panel()

    def _rebuild_history_panel(self) -> None:
        """The History panel made again in the language in force (it keeps no texts to
        change): a new panel on the same history, in the same dock."""
        old = self.history_panel
        panel = HistoryPanel(self.history_path, self)
        self._connect_history(panel)
        self.history_panel = panel
        self.history_dock.setWidget(panel)
        old.close_history()
        old.deleteLater()

    def _set_row(self, path: str, row: Callable[[], tuple[str, str]]) -> None:
        """Show what an image's row says (``row()``: text and tooltip, made again when the
        language changes)."""
        self._rows[path] = row
        self.browser.set_result(path, *row())

    # --- settings ---------------------------------------------------------------------------
    def _show_window(self, centre: float, width: float) -> None:
        image = self.viewer.image
        self.window_text.setText(window_text(image, Window(centre, width))
                                 if image is not None else "")

    def _restore(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self._first_layout()
        state = self.settings.value("state")
        if state is not None:
            self.restoreState(state)
        self._refresh_recent()

    def _first_layout(self, area: QRect | None = None) -> None:
        """A first start: most of the screen (``area``, else the primary screen's), the image
        in the middle with most of the room (the docks open narrow beside it)."""
        if area is None:
            screen = QApplication.primaryScreen()
            if screen is None:
                return
            area = screen.availableGeometry()
        w, h = int(area.width() * 0.9), int(area.height() * 0.9)
        self.resize(w, h)
        self.move(area.x() + (area.width() - w) // 2, area.y() + (area.height() - h) // 2)
        side = max(260, min(340, w // 6))
        # The study tree wider: a name, its result and its details side by side (a film is
        # higher than wide or square: the image is bound by the height, not by this); at
        # 1680 × 1050 a Kermany name ("NORMAL2-IM-1437-0001.jpeg") shows whole or nearly.
        tree = max(side, min(540, w // 3))
        self.resizeDocks([self.studies_dock, self.findings_dock], [tree, side], Qt.Horizontal)

    def recent_files(self) -> list[str]:
        """The recently opened files and folders, newest first."""
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
        """Save the layout and stop every worker before closing; while "Analyse all" or a CSV
        export runs, ask first."""
        if not self.confirm_quit():
            event.ignore()
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState())
        self.shutdown()
        super().closeEvent(event)

    def confirm_quit(self) -> bool:
        """True when the window may close: nothing long runs, or the reader agrees to stop it."""
        if self.batch_worker is None and self.exports.csv_worker is None:
            return True
        what = (t("Analyse all is running ({done} of {total} done).").format(
                    done=self.progress.value(), total=self.progress.maximum())
                if self.batch_worker is not None else t("The CSV export is running."))
        answer = QMessageBox.question(
            self, t("Quit RadiAI?"),
            what + " " + t("Quit and stop it? What is done is kept in the history."),
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel all work and wait for the worker threads to end."""
        self.jobs.shutdown(timeout_ms)
        # Their threads have ended: nothing runs any more, whatever signals are still queued
        # (closing afterwards has nothing to ask about).
        self.scan_worker = self.batch_worker = None
        self.exports.csv_worker = None
        self.opening = None  # no search for a first analysable image outlives the window
        if not sip.isdeleted(self._history_refresh):  # a second shutdown, after the close
            self._history_refresh.stop()
        self.history_panel.close_history()
        # Signals the ended workers queued before they ended are delivered now, while every
        # widget their handlers touch still exists (never later, to a window being deleted).
        QCoreApplication.sendPostedEvents()

    # --- opening ----------------------------------------------------------------------------
    def choose_files(self) -> None:
        """File → Open files."""
        files, _ = QFileDialog.getOpenFileNames(
            self, t("Open radiographs"), self.settings.value("last_folder", ""),
            t("Radiographs") + " (*.dcm *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;"
            + t("All files") + " (*)")
        if files:
            self.open_paths(files)

    def choose_folder(self) -> None:
        """File → Open folder."""
        folder = QFileDialog.getExistingDirectory(self, t("Open study folder"),
                                                  self.settings.value("last_folder", ""))
        if folder:
            self.open_paths([folder])

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        """Accept dragged files and folders."""
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        """Open what was dropped."""
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.open_paths(paths)

    def pacs(self, show: bool = True) -> Any:
        """The window's PACS side (``app.pacs.Pacs``, loaded on first use): search, retrieve
        and the DICOM node setting; ``show`` its dialog."""
        from .pacs import Pacs

        if getattr(self, "_pacs", None) is None:
            self._pacs = Pacs(self, self.settings, self.jobs, self.open_paths)
            self._pacs.status.connect(self.status_text.setText)
        if show:
            self._pacs.show()
        return self._pacs

    def open_paths(self, paths: Sequence[str | Path]) -> None:
        """Scan files and folders in a worker; the browser fills when it is done."""
        paths = [str(p) for p in paths]
        if self.scan_worker is not None:
            self.scan_worker.cancel()
        self._remember(paths)
        self.status_text.setText(t("Scanning {n} item(s)…").format(n=len(paths)))
        self.scan_token += 1
        worker = ScanWorker(paths, self.scan_token)
        self.scan_worker = worker
        self.show_busy(True)
        self.jobs.start(worker, progress=self.show_progress, result=self._on_scanned,
                        failed=self._on_scan_failed,
                        finished=lambda _c, token=self.scan_token: self._on_scan_end(token))

    def _on_scan_end(self, token: int) -> None:
        if token == self.scan_token:  # not a superseded scan
            self.scan_worker = None
            self.show_busy(self.batch_worker is not None or self.exports.csv_worker is not None)

    def _on_scanned(self, payload: tuple[int, ScanResult]) -> None:
        token, result = payload
        if token != self.scan_token:
            return  # a superseded scan
        self.last_scan = result
        self.browser.populate(result)
        self.skipped.clear()
        self.skipped.add_many([(s.path, s.reason) for s in result.skipped])
        if result.skipped:
            self.skipped_dock.show()
        n = len(result.images())
        text = (t("Scan cancelled: {n} image(s) in {patients} patient(s); {skipped} file(s) "
                  "skipped.") if result.cancelled else
                t("{n} image(s) in {patients} patient(s); {skipped} file(s) skipped."))
        self.status_text.setText(text.format(n=n, patients=len(result.patients),
                                             skipped=len(result.skipped)))
        paths = self.browser.image_paths()
        if paths:
            # Start on an image RadiAI analyses: not one whose header gives an adult's age
            # (the first image when all do).
            ages = {im.path: im.age_years for im in result.images()}
            self.opening = [p for p in paths if (ages.get(p) or 0.0) < ADULT_YEARS][
                :MAX_SKIPPED_AT_OPEN + 1] or paths[:1]
            self.refused_at_open = 0
            self.first_at_open = self.opening[0]
            self._open_next()
            if self.thumb_worker is not None:
                self.thumb_worker.cancel()
            self.thumb_worker = ThumbnailWorker(paths)
            self.jobs.start(self.thumb_worker,
                            result=lambda pair: self.browser.set_thumbnail(*pair))

    def _open_next(self) -> None:
        """Select the next image to try at opening (the selection scrolls into view)."""
        if not self.opening:
            self.opening = None
            return
        path = self.opening.pop(0)
        self._auto_selecting = True
        try:
            self.browser.select_path(path)
        finally:
            self._auto_selecting = False

    def _opened(self, a: Analysis | None, path: str) -> None:
        """An image tried at opening was analysed (``a``) or could not be read: keep it when
        RadiAI analysed it, else try the next one."""
        if self.opening is None or path != self.current_path:
            return
        if a is not None and a.status == "ok":
            self.opening = None
            paths = self.browser.image_paths()
            above = paths.index(path) if path in paths else 0
            note = opened_note(self.refused_at_open, above - self.refused_at_open)
            if note:
                self.status_text.setText(note)
            return
        self.refused_at_open += 1
        if self.opening:
            self._open_next()
            return
        # None of the images tried is analysed: back to the first, and say why it is there
        # (once its result is in, so that its own status line does not hide the reason).
        self.opening = None
        if self.refused_at_open < 2:  # one image tried: its own refusal says it all
            return
        note = t("None of the first {n} images could be analysed (refused or unreadable, see "
                 "their rows); showing the first. Analysis → Analyse all gives every image's "
                 "result.").format(n=self.refused_at_open)
        first = self.first_at_open
        if first is None or first == path:
            self.status_text.setText(note)
            return
        self.open_note = (first, note)
        self._auto_selecting = True
        try:
            self.browser.select_path(first)
        finally:
            self._auto_selecting = False

    def _show_open_note(self, path: str) -> None:
        """The reason the view went back to the first image at opening, once it is shown."""
        if self.open_note is not None and self.open_note[0] == path:
            self.status_text.setText(self.open_note[1])
            self.open_note = None

    def _csv_sources(self) -> CsvSources:
        """What a CSV export covers: the selected study, or everything open with the files
        the scan found unusable."""
        selected = self.browser.selected_study_paths()
        if selected:
            return selected, []
        scan = self.last_scan
        return self.browser.image_paths(), [(s.path, s.reason, s.kind)
                                            for s in (scan.skipped if scan else [])]

    def _on_scan_failed(self, _path: str, message: str) -> None:
        QMessageBox.warning(self, "RadiAI", message)

    # --- analysis ---------------------------------------------------------------------------
    def preload_models(self) -> None:
        """Load the models in a worker right after the window appears (status bar says so)."""
        worker = ModelLoader(self.make_analyzer)
        self.models_ready = False
        self.preload_worker = worker
        self.jobs.start(worker, result=self._on_models_built, status=self.status_text.setText,
                        failed=lambda _p, message: self.status_text.setText(message),
                        finished=self._on_models_ready)

    def _on_models_built(self, analyzer: Any) -> None:
        """The loaded models' identities, for Help → About."""
        self.model_infos = loaded_model_infos(analyzer)

    def _on_models_ready(self, _cancelled: bool) -> None:
        self.models_ready = True
        self.models_loaded.emit()
        if self.status_text.text() == t("Loading models…"):
            self.status_text.setText(t("Models loaded. Drop a study folder or radiographs here, "
                                       "or use File → Open."))

    def show_path(self, path: str) -> None:
        """Load, show and analyse one image (in a worker)."""
        self.current_path = path
        self.current_analysis = None
        self.reopened_id = None
        if not self._auto_selecting:
            self.opening = None  # the reader chose: the view stays on their choice
            self.open_note = None
        if self.viewer.image is None or self.viewer.image.meta.path != path:
            self.viewer.set_image(None)  # never the previous patient's image while it loads
        self.findings.show_pending(path)
        if self.view_worker is not None:
            self.view_worker.cancel()
        worker = AnalysisWorker([path], self.make_analyzer, self.history_path)
        worker.recorded.connect(self._on_recorded)
        worker.image_loaded.connect(self._on_view_image)
        self.view_worker = worker
        self.jobs.start(worker, result=self._on_view_result, failed=self._on_view_error,
                        status=self.status_text.setText)
        self.tags.setPlainText("")

    def explain(self, label: str) -> None:
        """Show the heat map and regions of the finding ``label`` for the image on screen (the
        reader's pick; not stored in the history, which keeps the analysis as made)."""
        if self.current_path is None or self.current_analysis is None:
            return
        if self.view_worker is not None:
            self.view_worker.cancel()
        worker = AnalysisWorker([self.current_path], self.make_analyzer, self.history_path,
                                record=False, cam_label=label)
        self.view_worker = worker
        self.jobs.start(worker, result=self._on_explained, failed=self._on_view_error)

    def _on_explained(self, a: Analysis) -> None:
        if a.path != self.current_path:
            return
        if self.viewer.image is not None and self.viewer.image.shape == a.image.shape:
            a.image = self.viewer.image  # the same pixels: keep the reader's zoom and window
        self.current_analysis = a
        self.viewer.set_analysis(a)
        self.findings.show_analysis(a)

    def _show_tags(self, image) -> None:
        """The DICOM tags of an image that was read (a file that could not be read has none:
        its bytes are not shown as tags)."""
        if image.meta.format != "DICOM":
            self.tags.setPlainText(t("(not a DICOM file: no tags)"))
            return
        try:
            self.tags.setPlainText(readable_tags(tag_listing(image.meta.path)))
        except RadiAIError as exc:
            self.tags.setPlainText(t("(the tags cannot be read: {message})").format(
                message=exc.message))

    def _on_view_image(self, image) -> None:
        if image.meta.path == self.current_path:
            self.viewer.set_image(image)
            self.findings.show_patient(image.meta)
            self.invert_action.setChecked(False)
            self._show_tags(image)

    def _on_view_result(self, a: Analysis) -> None:
        self.summaries[a.path] = a.to_dict()
        self._set_row(a.path, _row_of(a))
        if a.path == self.current_path:
            self.current_analysis = a
            self.viewer.set_analysis(a)
            self.findings.show_analysis(a)
            total = a.timings_ms.get("total", 0)
            self.status_text.setText(
                t("Analysed {name} in {ms} ms.").format(name=Path(a.path).name, ms=f"{total:.0f}")
                if a.status == "ok" else f"{Path(a.path).name}: {localized(a.refused_text)}.")
            self.analysis_shown.emit(a.path)
            self._opened(a, a.path)
            self._show_open_note(a.path)

    def _on_view_error(self, path: str, message: str) -> None:
        """The image on screen could not be read or analysed: the message names the file, in
        the findings panel, the view, the status bar and the file's row."""
        named = f"{Path(path).name}: {localized(message)}" if path else localized(message)
        if not path or path == self.current_path:
            self.findings.show_error(named)
            if path:
                self.viewer.set_image(None)
                self.viewer.set_note(t("Cannot show {name}").format(name=named))
                self.findings.show_patient(None)
                self.tags.setPlainText(t("(the file cannot be read: no tags)"))
            self.status_text.setText(named)
        if path:
            self._set_row(path, lambda: (t("unreadable"), named))
            self._opened(None, path)
            self._show_open_note(path)

    def analyse_all(self) -> None:
        """Analyse every image open, in a worker (progress, cancel, history)."""
        paths = self.browser.image_paths()
        if not paths:
            self.status_text.setText(t("Nothing to analyse: open radiographs or a folder first."))
            return
        if self.batch_worker is not None:
            return
        worker = AnalysisWorker(paths, self.make_analyzer, self.history_path)
        worker.recorded.connect(self._on_recorded)
        self.batch_worker = worker
        self.batch_errors = 0
        self.batch_counts = {"ok": 0, "rejected": 0}  # analysed, refused
        self.show_busy(True)
        self.jobs.start(worker, result=self._on_batch_result, failed=self._on_batch_error,
                        progress=self.show_progress, status=self.status_text.setText,
                        finished=self._on_batch_done)

    def _on_batch_result(self, a: Analysis) -> None:
        self.batch_counts["ok" if a.status == "ok" else "rejected"] += 1
        self.summaries[a.path] = a.to_dict()  # arrays are dropped: memory stays flat
        self._set_row(a.path, _row_of(a))

    def _on_batch_error(self, path: str, message: str) -> None:
        self.batch_errors += 1
        self.skipped.add(path or "(models)", message)
        if path:
            self._set_row(path, lambda: (t("unreadable"), f"{Path(path).name}: {message}"))

    def _on_batch_done(self, cancelled: bool) -> None:
        self.batch_worker = None
        self.show_busy(self.scan_worker is not None or self.exports.csv_worker is not None)
        # The files the scan already found unusable count too: the message agrees with the
        # Skipped files list.
        scan_skipped = self.last_scan.skipped if self.last_scan is not None else []
        ignored = sum(s.kind == "ignored" for s in scan_skipped)
        unreadable = self.batch_errors + len(scan_skipped) - ignored
        # Analysed, refused and unreadable apart, as the command line counts them.
        text = (t("Cancelled: {analysed} analysed, {refused} refused, {unreadable} could not "
                  "be read, {ignored} ignored (not images).") if cancelled else
                t("Done: {analysed} analysed, {refused} refused, {unreadable} could not be "
                  "read, {ignored} ignored (not images)."))
        text = text.format(analysed=self.batch_counts["ok"],
                           refused=self.batch_counts["rejected"], unreadable=unreadable,
                           ignored=ignored)
        if unreadable or ignored:
            text += " " + t("See Skipped files.")
        self.status_text.setText(text)

    def cancel_work(self) -> None:
        """Cancel scanning, Analyse all and the CSV export (when none runs, say so)."""
        running = [w for w in (self.scan_worker, self.batch_worker) if w is not None]
        for w in running:
            w.cancel()
        if self.exports.cancel() or running:
            self.status_text.setText(t("Cancelling…"))
        else:
            self.status_text.setText(t("Nothing to cancel."))

    # --- history ----------------------------------------------------------------------------
    def _on_recorded(self, _path: str, _analysis_id: int) -> None:
        if not self._history_refresh.isActive():
            self._history_refresh.start()

    def show_history(self) -> None:
        """Show the History dock."""
        self.history_dock.show()
        self.history_dock.raise_()
        self.history_panel.refresh()

    def reopen_analysis(self, analysis_id: int) -> None:
        """Show a stored analysis: its image read again, its stored overlays and findings."""
        self.status_text.setText(t("Reopening…"))
        self.jobs.start(TaskWorker(_reopen, self.history_path, analysis_id, what="reopening"),
                        result=lambda a, i=analysis_id: self._on_reopened(a, i),
                        failed=self._on_reopen_failed)

    def _on_reopen_failed(self, _path: str, message: str) -> None:
        self.status_text.setText(message)
        QMessageBox.warning(self, "RadiAI", message)

    def _on_history_deleted(self) -> None:
        """Analyses were deleted from the history: if the one on screen was reopened from it
        and is gone, the view no longer says that it comes from the history."""
        if self.reopened_id is None:
            return
        self.jobs.start(TaskWorker(_stored, self.history_path, self.reopened_id,
                                   what="checking the history"),
                        result=self._on_stored_checked)

    def _on_stored_checked(self, found: tuple[int, bool]) -> None:
        analysis_id, stored = found
        if analysis_id == self.reopened_id and not stored:
            self.reopened_id = None
            self.viewer.set_note(t("Deleted from the history (shown as it was stored)"))

    def _on_reopened(self, a: Analysis, analysis_id: int | None = None) -> None:
        self.current_path = a.path
        self.reopened_id = analysis_id
        self.current_analysis = a
        self.viewer.set_image(a.image)
        self.viewer.set_analysis(a)
        # Selection and view agree: the image's row when it is open, else no row at all; the
        # view says that it shows a stored analysis.
        self.browser.show_path(a.path)
        self.viewer.set_note(t("Stored analysis, reopened from the history"))
        self.findings.show_patient(a.image.meta)
        self.invert_action.setChecked(False)
        self.findings.show_analysis(a)
        self._show_tags(a.image)
        self.status_text.setText(t("Reopened {name} from the history.").format(
            name=Path(a.path).name))

    def _anonymize_changed(self, on: bool) -> None:
        self.settings.setValue("anonymize", bool(on))

    # --- helpers ----------------------------------------------------------------------------
    def show_progress(self, done: int, total: int) -> None:
        """The progress bar at ``done`` of ``total``."""
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def show_busy(self, busy: bool) -> None:
        """Show or hide the progress bar and the Cancel button."""
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.setValue(0)

    @staticmethod
    def _flip(box: QCheckBox) -> None:
        """A shortcut's switch: flipped when it can be (a greyed one has nothing to show)."""
        if box.isEnabled():
            box.toggle()

    def _overlay_changed(self) -> None:
        """The reader's choices to the viewer; a greyed switch (unticked: nothing to show)
        leaves the reader's choice, which the viewer keeps, as it was."""
        self.viewer.set_overlay(
            heat=self.heat_box.isChecked() if self.heat_box.isEnabled() else None,
            mask=self.mask_box.isChecked(),
            boxes=self.boxes_box.isChecked() if self.boxes_box.isEnabled() else None,
            opacity=self.opacity.value() / 100)

    def _update_overlay_switches(self) -> None:
        """Heat map (and its opacity) and Boxes enabled only when the analysis on screen has
        them; greyed and unticked for a negative, indeterminate or refused film, or while one
        loads (a tick would say a map is drawn). The reader's own choice, which the viewer
        keeps (``show_heat``, ``show_boxes``), comes back on the next image that has them."""
        heat, boxes = self.viewer.has_heat_map(), self.viewer.has_boxes()
        for w in (self.heat_box, self.opacity, self.opacity_label):
            w.setEnabled(heat)
        self.boxes_box.setEnabled(boxes)
        for box, shown in ((self.heat_box, heat and self.viewer.show_heat),
                           (self.boxes_box, boxes and self.viewer.show_boxes)):
            blocked = box.blockSignals(True)  # a tick shown is no choice of the reader's
            box.setChecked(shown)
            box.blockSignals(blocked)
        self.heat_box.setToolTip("" if heat else t("This image has no heat map"))
        self.boxes_box.setToolTip("" if boxes else t("This image has no boxes"))

    def _reset_view(self) -> None:
        self.invert_action.setChecked(False)
        self.viewer.reset()

    def show_about(self) -> AboutDialog:
        """Help → About RadiAI: the version, the models loaded, the intended use (not modal:
        the reader may keep it beside the image)."""
        if self.about_dialog is not None:
            self.about_dialog.close()
        self.about_dialog = AboutDialog(self.model_infos, self)
        self.about_dialog.setAttribute(Qt.WA_DeleteOnClose)
        self.about_dialog.destroyed.connect(lambda: setattr(self, "about_dialog", None))
        self.about_dialog.show()
        return self.about_dialog

    def show_shortcuts(self) -> None:
        """Help → Keyboard shortcuts."""
        rows = "".join(f"<tr><td>{t(name)}</td><td><b>{key}</b></td></tr>"
                       for name, key in SHORTCUTS)
        QMessageBox.information(self, t("Keyboard shortcuts"), f"<table>{rows}</table><p>"
                                + t("Mouse: wheel zooms around the cursor, left-drag pans, "
                                    "right-drag sets window (left/right) and level (up/down).")
                                + "</p>")


def result_text(a: Analysis) -> tuple[str, str]:
    """(short text, tooltip) of an image's answer for its row in the study tree: every model's
    call in a few words (a site's model is seen in the list too); the tooltip has each one's
    summary."""
    if a.status != "ok":  # what the image is ("refused: CT slice"), in the reader's language
        return localized(a.refused_text), t("Refused: this image {message}.").format(
            message=localized(a.message))
    short = compact_calls(a.findings)  # every model's call, the primary model's first
    tip = "\n".join((f"{g.title}: " if len(a.findings) > 1 else "") + g.summary()
                     for g in a.findings)
    return short, tip


def _row_of(a: Analysis) -> Callable[[], tuple[str, str]]:
    """What an image's row says, made in the language in force when called (it keeps the
    findings and the refusal, not the pixels)."""
    light = replace(a, image=XrayImage(np.zeros((1, 1), np.float32), a.image.meta), mask=None,
                    findings=[replace(f, heatmap=None) for f in a.findings])
    return lambda: result_text(light)


def readable_tags(listing: str) -> str:
    """A DICOM tag listing with values that are not text (raw bytes, or bytes of a damaged
    header read as characters) replaced by words: random bytes are never shown as a tag's
    value."""
    out = []
    for line in listing.splitlines():
        head, sep, value = line.partition(": ")
        if sep and re.match(r"""^[bB]['"]""", value):
            line = f"{head}: " + t("(binary data, not shown)")
        elif sep and (re.search(r"\\x[0-9a-fA-F]{2}", value)
                      or any(unicodedata.category(c) in ("Cc", "Co", "Cn", "Cs")
                             or c == "\ufffd" for c in value)):
            line = f"{head}: " + t("(unreadable bytes, not text: damaged header?)")
        out.append(line)
    return "\n".join(out)


def _stored(history_path: Path | None, analysis_id: int) -> tuple[int, bool]:
    """Runs in a worker: whether the history still holds analysis ``analysis_id``."""
    with History(history_path) as h:
        try:
            h.entry(analysis_id)
        except HistoryError:
            return analysis_id, False
    return analysis_id, True


def _reopen(history_path: Path | None, analysis_id: int) -> Analysis:
    """Runs in a worker: its own connection to the history."""
    with History(history_path) as h:
        return h.reopen(analysis_id)
