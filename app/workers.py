"""Worker objects moved to QThreads: folder scans and analyses, emitting plain data only."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from radiai_core.errors import RadiAIError
from radiai_core.io import load_image
from radiai_core.studies import scan

log = logging.getLogger(__name__)

#: Every thread started by ``start`` (tests check that none is left running).
THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


class CancellableWorker(QObject):
    """A worker with a cancel flag that ``run`` checks between items."""

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        """Ask the worker to stop after the current item."""
        self.cancel_event.set()


class ScanWorker(CancellableWorker):
    """Scan files/folders (headers only). Emits ``finished((token, ScanResult))`` so that the
    GUI can tell the result of the latest scan from that of a superseded one."""

    progress = pyqtSignal(int, int)
    finished = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, paths: Sequence[str | Path], token: int = 0) -> None:
        super().__init__()
        self.paths = [Path(p) for p in paths]
        self.token = token

    @pyqtSlot()
    def run(self) -> None:
        """Scan the paths (headers only) and emit the tree, or why it failed."""
        try:
            result = scan(self.paths, progress=self.progress.emit, cancel=self.cancel_event)
        except Exception as exc:  # noqa: BLE001 - a bug: log it, tell the GUI, keep running
            log.exception("folder scan failed")
            self.failed.emit(f"Scanning failed unexpectedly ({type(exc).__name__}: {exc}). "
                             "This is a bug; the log has the details.")
            return
        self.finished.emit((self.token, result))


class AnalysisWorker(CancellableWorker):
    """Analyse images one after another; honours ``cancel()`` between images.

    ``make_analyzer`` is called in the worker thread (loading models there keeps the window
    responsive); it returns an object with ``analyze(path) -> Analysis``.
    """

    started_image = pyqtSignal(str)
    image_loaded = pyqtSignal(object)  # XrayImage, before its analysis
    result = pyqtSignal(object)  # Analysis
    error = pyqtSignal(str, str)  # path, message
    progress = pyqtSignal(int, int)
    status = pyqtSignal(str)
    finished = pyqtSignal(bool)  # True when cancelled

    recorded = pyqtSignal(str, int)  # path, history id

    def __init__(self, paths: Sequence[str | Path], make_analyzer: Callable[[], Any],
                 history_path: Path | None = None, record: bool = True,
                 cam_label: str | None = None) -> None:
        super().__init__()
        self.paths = [str(p) for p in paths]
        self.make_analyzer = make_analyzer
        self.history_path, self.record = history_path, record
        self.cam_label = cam_label  # a finding the reader asked to see explained

    @pyqtSlot()
    def run(self) -> None:
        """Load the models, then analyse and record each image through the Runner."""
        from radiai_core.batch import Runner

        try:
            self.status.emit("Loading models…")
            analyzer = self.make_analyzer()
        except RadiAIError as exc:
            self.error.emit("", str(exc))
            self.finished.emit(False)
            return
        except Exception as exc:  # noqa: BLE001
            log.exception("loading the models failed")
            self.error.emit("", f"The models could not be loaded ({type(exc).__name__}: {exc}).")
            self.finished.emit(False)
            return
        total = len(self.paths)
        self.status.emit(f"Analysing {total} image(s)…" if total > 1 else "Analysing…")
        with Runner(analyzer.analyze, self.history_path, record=self.record,
                    cam_label=self.cam_label) as runner:
            for i, path in enumerate(self.paths):
                if self.cancel_event.is_set():
                    break
                self.started_image.emit(path)
                item = runner.one(path, on_loaded=self.image_loaded.emit)
                if item.analysis is None:
                    self.error.emit(path, item.error)
                else:
                    self.result.emit(item.analysis)
                    if item.history_id is not None:
                        self.recorded.emit(item.analysis.path, item.history_id)
                    elif runner.history_problem and self.record:
                        self.record = False  # said once per batch
                        self.status.emit(f"Not stored in the history: "
                                         f"{runner.history_problem}")
                self.progress.emit(i + 1, total)
        self.finished.emit(self.cancel_event.is_set())


class ModelLoader(QObject):
    """Build the analyzer (and warm it up) in a worker, so that neither happens in the GUI
    thread nor in the middle of the first analysis."""

    status = pyqtSignal(str)
    failed = pyqtSignal(str)
    finished = pyqtSignal(bool)

    def __init__(self, make_analyzer: Callable[[], Any]) -> None:
        super().__init__()
        self.make_analyzer = make_analyzer

    def cancel(self) -> None:
        """Loading cannot be interrupted; it takes well under a second."""

    @pyqtSlot()
    def run(self) -> None:
        """Build and warm up the analyzer."""
        self.status.emit("Loading models…")
        try:
            analyzer = self.make_analyzer()
            if hasattr(analyzer, "warm_up"):
                analyzer.warm_up()
        except RadiAIError as exc:
            self.failed.emit(str(exc))
            self.finished.emit(False)
            return
        except Exception as exc:  # noqa: BLE001
            log.exception("loading the models failed")
            self.failed.emit(f"The models could not be loaded ({type(exc).__name__}: {exc}).")
            self.finished.emit(False)
            return
        self.finished.emit(False)


class ThumbnailWorker(CancellableWorker):
    """Decode images one by one into small previews; unreadable ones are simply left without
    a thumbnail (their error shows when they are opened)."""

    thumbnail = pyqtSignal(str, object)  # path, uint8 array
    finished = pyqtSignal(bool)

    def __init__(self, paths: Sequence[str], size: int = 64) -> None:
        super().__init__()
        self.paths, self.size = list(paths), size

    @pyqtSlot()
    def run(self) -> None:
        """Emit a preview for each image that can be read."""
        from radiai_core.display import thumbnail

        for path in self.paths:
            if self.cancel_event.is_set():
                break
            try:
                self.thumbnail.emit(path, thumbnail(load_image(path), self.size))
            except RadiAIError:
                continue
            except Exception:  # noqa: BLE001
                log.exception("thumbnail of %s failed", path)
        self.finished.emit(self.cancel_event.is_set())


class TaskWorker(QObject):
    """Run one function in a worker thread: ``finished(result)`` or ``failed(message)`` (a
    RadiAIError's message, or a bug report that is also logged)."""

    finished = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, fn: Callable[..., Any], *args: Any, what: str = "the task") -> None:
        super().__init__()
        self.fn, self.args, self.what = fn, args, what

    def cancel(self) -> None:
        """A single short task runs to its end."""

    @pyqtSlot()
    def run(self) -> None:
        """Run the function; emit its result, or the message of its failure."""
        try:
            result = self.fn(*self.args)
        except RadiAIError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001
            log.exception("%s failed", self.what)
            self.failed.emit(f"{self.what[:1].upper()}{self.what[1:]} failed unexpectedly "
                             f"({type(exc).__name__}: {exc}). This is a bug; the log has the "
                             "details.")
            return
        self.finished.emit(result)


class CsvWorker(CancellableWorker):
    """Analyse files into the batch CSV table (one row per file found, errors included) and
    the history. ``errors`` are files the scan already found unusable: (path, message, kind).
    If the history cannot store an analysis, the table goes on without it and ``finished``
    says why."""

    progress = pyqtSignal(int, int)
    status = pyqtSignal(str)
    finished = pyqtSignal(object)  # (rows written, cancelled, history problem or "")
    failed = pyqtSignal(str)

    def __init__(self, paths: Sequence[str], errors: Sequence[tuple[str, str, str]],
                 make_analyzer: Callable[[], Any], csv_path: Path, anonymize: bool,
                 history_path: Path | None = None) -> None:
        super().__init__()
        self.paths, self.errors = list(paths), list(errors)
        self.make_analyzer, self.csv_path = make_analyzer, Path(csv_path)
        self.anonymize, self.history_path = anonymize, history_path

    @pyqtSlot()
    def run(self) -> None:
        """Analyse the files into the CSV table (one row per file) and the history."""
        from radiai_core.anonymize import Pseudonymizer
        from radiai_core.batch import BatchItem, CsvTable, Runner

        try:
            analyzer = self.make_analyzer()
            table = CsvTable(self.csv_path, analyzer.outputs, Pseudonymizer(self.anonymize))
            total = len(self.paths) + len(self.errors)
            told = False
            with table, Runner(analyzer.analyze, self.history_path) as runner:
                for path, message, kind in self.errors:
                    table.add(BatchItem(path, error=message, kind=kind))
                done = len(self.errors)
                for item in runner.run(self.paths, cancel=self.cancel_event):
                    table.add(item)  # the table matters more than the history: it goes on
                    if runner.history_problem and not told:
                        told = True
                        self.status.emit(f"Not stored in the history: "
                                         f"{runner.history_problem}")
                    done += 1
                    self.progress.emit(done, total)
        except RadiAIError as exc:
            self.failed.emit(str(exc))
            return
        except Exception as exc:  # noqa: BLE001
            log.exception("CSV export failed")
            self.failed.emit(f"The CSV export failed unexpectedly ({type(exc).__name__}). This "
                             "is a bug; the log has the details.")
            return
        self.finished.emit((table.rows, self.cancel_event.is_set(), runner.history_problem))


def start(worker: QObject, parent: QObject) -> QThread:
    """Move ``worker`` to a new QThread, run it, and clean both up when it finishes."""
    thread = QThread(parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit)
    if hasattr(worker, "failed"):
        worker.failed.connect(thread.quit)
    # No deleteLater: it could destroy the worker before its queued results reach the GUI.
    # The caller keeps the worker referenced with its thread (see MainWindow._track).
    thread.worker = worker
    thread.start()
    THREADS.add(thread)
    return thread
