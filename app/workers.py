"""Workers moved to QThreads (scans, analyses, exports), with one signal vocabulary."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, QThread, pyqtSignal, pyqtSlot

from radiai_core.errors import RadiAIError
from radiai_core.reading.io import load_image
from radiai_core.reading.studies import scan

from .i18n import t  # QCoreApplication.translate is thread-safe: workers speak the language

log = logging.getLogger(__name__)

#: Every thread started by ``start`` (tests check that none is left running).
THREADS: weakref.WeakSet[QThread] = weakref.WeakSet()


class Worker(QObject):
    """Work for a QThread, speaking the one signal vocabulary of every worker:

    - ``progress(done, total)`` and ``status(text)`` while it runs;
    - ``result(object)`` for each thing it produced;
    - ``failed(path, message)`` for what could not be done (``path`` is "" when the failure is
      not about one file): a RadiAIError's message, or a bug report that is also logged;
    - ``finished(cancelled)`` exactly once, at the end, whatever happened.

    ``cancel()`` asks it to stop after the current item. Subclasses implement ``work``.
    """

    progress = pyqtSignal(int, int)
    status = pyqtSignal(str)
    result = pyqtSignal(object)
    failed = pyqtSignal(str, str)
    finished = pyqtSignal(bool)

    #: What the worker does, for the bug report ("the folder scan").
    what = "the task"

    def __init__(self) -> None:
        super().__init__()
        self.cancel_event = threading.Event()

    def cancel(self) -> None:
        """Ask the worker to stop after the current item."""
        self.cancel_event.set()

    @pyqtSlot()
    def run(self) -> None:
        """``work()``; a RadiAIError or a bug becomes ``failed``; then ``finished``."""
        try:
            self.work()
        except RadiAIError as exc:
            self.failed.emit("", str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug: log it, tell the GUI, keep running
            log.exception("%s failed", self.what)
            self.failed.emit("", f"{self.what[:1].upper()}{self.what[1:]} failed unexpectedly "
                             f"({type(exc).__name__}: {exc}). This is a bug; the log has the "
                             "details.")
        finally:
            self.finished.emit(self.cancel_event.is_set())

    def work(self) -> None:
        """The work itself, run in the worker's thread."""
        raise NotImplementedError


class ScanWorker(Worker):
    """Scan files/folders (headers only): ``result((token, ScanResult))``, so that the GUI can
    tell the latest scan's result from a superseded one's."""

    what = "the folder scan"

    def __init__(self, paths: Sequence[str | Path], token: int = 0) -> None:
        super().__init__()
        self.paths = [Path(p) for p in paths]
        self.token = token

    def work(self) -> None:
        """Scan the paths and emit the tree."""
        result = scan(self.paths, progress=self.progress.emit, cancel=self.cancel_event)
        self.result.emit((self.token, result))


class AnalysisWorker(Worker):
    """Analyse images one after another through the core's Runner (``result(Analysis)``, or
    ``failed(path, message)`` per image); honours ``cancel()`` between images.

    ``make_analyzer`` is called in the worker thread (loading models there keeps the window
    responsive); it returns an object with ``analyze(path) -> Analysis``. Besides the common
    signals: ``started_image(path)``, ``image_loaded(XrayImage)`` before its analysis, and
    ``recorded(path, history id)``.
    """

    started_image = pyqtSignal(str)
    image_loaded = pyqtSignal(object)
    recorded = pyqtSignal(str, int)
    what = "the analysis"

    def __init__(self, paths: Sequence[str | Path], make_analyzer: Callable[[], Any],
                 history_path: Path | None = None, record: bool = True,
                 cam_label: str | None = None) -> None:
        super().__init__()
        self.paths = [str(p) for p in paths]
        self.make_analyzer = make_analyzer
        self.history_path, self.record = history_path, record
        self.cam_label = cam_label  # a finding the reader asked to see explained

    def work(self) -> None:
        """Load the models, then analyse and record each image through the Runner."""
        from radiai_core.results.batch import Runner

        self.status.emit(t("Loading models…"))
        analyzer = self.make_analyzer()  # its RadiAIError is reported by run()
        total = len(self.paths)
        self.status.emit(t("Analysing {n} image(s)…").format(n=total) if total > 1
                         else t("Analysing…"))
        with Runner(analyzer.analyze, self.history_path, record=self.record,
                    cam_label=self.cam_label) as runner:
            for i, path in enumerate(self.paths):
                if self.cancel_event.is_set():
                    break
                self.started_image.emit(path)
                item = runner.one(path, on_loaded=self.image_loaded.emit)
                if item.analysis is None:
                    self.failed.emit(path, item.error)
                else:
                    self.result.emit(item.analysis)
                    if item.history_id is not None:
                        self.recorded.emit(item.analysis.path, item.history_id)
                    elif runner.history_problem and self.record:
                        self.record = False  # said once per batch
                        self.status.emit(t("Not stored in the history: {problem}").format(
                            problem=runner.history_problem))
                self.progress.emit(i + 1, total)


class ModelLoader(Worker):
    """Build the analyzer and warm it up in a worker, so that neither happens in the GUI
    thread nor in the middle of the first analysis (``result(analyzer)``)."""

    what = "loading the models"

    def __init__(self, make_analyzer: Callable[[], Any]) -> None:
        super().__init__()
        self.make_analyzer = make_analyzer

    def work(self) -> None:
        """Build and warm up the analyzer."""
        self.status.emit(t("Loading models…"))
        analyzer = self.make_analyzer()
        analyzer.warm_up()
        self.result.emit(analyzer)


class ThumbnailWorker(Worker):
    """Decode images one by one into small previews (``result((path, uint8 array))``);
    unreadable ones are left without a thumbnail (their error shows when they are opened)."""

    what = "making thumbnails"

    def __init__(self, paths: Sequence[str], size: int = 64) -> None:
        super().__init__()
        self.paths, self.size = list(paths), size

    def work(self) -> None:
        """Emit a preview for each image that can be read."""
        from radiai_core.reading.display import thumbnail

        for path in self.paths:
            if self.cancel_event.is_set():
                break
            try:
                self.result.emit((path, thumbnail(load_image(path), self.size)))
            except RadiAIError:
                continue
            except Exception:  # noqa: BLE001 - one bad preview must not stop the others
                log.exception("thumbnail of %s failed", path)


class TaskWorker(Worker):
    """Run one function in a worker thread: ``result(its return value)``."""

    def __init__(self, fn: Callable[..., Any], *args: Any, what: str = "the task") -> None:
        super().__init__()
        self.fn, self.args, self.what = fn, args, what

    def work(self) -> None:
        """Run the function and emit its result."""
        self.result.emit(self.fn(*self.args))


class CsvWorker(Worker):
    """Analyse files into the batch CSV table (one row per file found, errors included) and
    the history. ``errors`` are files the scan already found unusable: (path, message, kind).
    If the history cannot store an analysis, the table goes on without it; the result,
    ``(rows written, cancelled, history problem or "", counts by status)``, says why (the
    counts: "ok" analysed, "rejected" refused, "error" unreadable, "ignored" not images)."""

    what = "the CSV export"

    def __init__(self, paths: Sequence[str], errors: Sequence[tuple[str, str, str]],
                 make_analyzer: Callable[[], Any], csv_path: Path, anonymize: bool,
                 history_path: Path | None = None) -> None:
        super().__init__()
        self.paths, self.errors = list(paths), list(errors)
        self.make_analyzer, self.csv_path = make_analyzer, Path(csv_path)
        self.anonymize, self.history_path = anonymize, history_path

    def work(self) -> None:
        """Analyse the files into the CSV table (one row per file) and the history."""
        from radiai_core.reading.anonymize import Pseudonymizer
        from radiai_core.results.batch import BatchItem, CsvTable, Runner

        analyzer = self.make_analyzer()
        table = CsvTable(self.csv_path, analyzer.outputs, Pseudonymizer(self.anonymize))
        total = len(self.paths) + len(self.errors)
        told = False
        counts = {"ok": 0, "rejected": 0, "error": 0, "ignored": 0}  # as the CLI counts
        with table, Runner(analyzer.analyze, self.history_path) as runner:
            for path, message, kind in self.errors:
                item = BatchItem(path, error=message, kind=kind)
                table.add(item)
                counts[item.status] = counts.get(item.status, 0) + 1
            done = len(self.errors)
            for item in runner.run(self.paths, cancel=self.cancel_event):
                table.add(item)  # the table matters more than the history: it goes on
                counts[item.status] = counts.get(item.status, 0) + 1
                if runner.history_problem and not told:
                    told = True
                    self.status.emit(t("Not stored in the history: {problem}").format(
                        problem=runner.history_problem))
                done += 1
                self.progress.emit(done, total)
        self.result.emit((table.rows, self.cancel_event.is_set(), runner.history_problem,
                          counts))


def start(worker: Worker, parent: QObject) -> QThread:
    """Move ``worker`` to a new QThread and run it; the thread ends with ``finished``."""
    thread = QThread(parent)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.finished.connect(thread.quit)
    # No deleteLater: it could destroy the worker before its queued results reach the GUI.
    # The thread keeps the worker referenced, and the Jobs that started it keeps the thread.
    thread.worker = worker
    thread.start()
    THREADS.add(thread)
    return thread


class Jobs:
    """A window's workers: each started with its handlers connected to the common signals,
    kept referenced while its thread runs, and all cancelled and waited for at shutdown."""

    def __init__(self, parent: QObject) -> None:
        self.parent = parent
        self.threads: list[QThread] = []

    def start(self, worker: Worker, *, result: Callable[..., Any] | None = None,
              failed: Callable[[str, str], Any] | None = None,
              progress: Callable[[int, int], Any] | None = None,
              status: Callable[[str], Any] | None = None,
              finished: Callable[[bool], Any] | None = None) -> Worker:
        """Connect the given handlers, then run ``worker`` in a thread of its own."""
        for signal, slot in ((worker.result, result), (worker.failed, failed),
                             (worker.progress, progress), (worker.status, status),
                             (worker.finished, finished)):
            if slot is not None:
                signal.connect(slot)
        self.threads = [t for t in self.threads if t.isRunning()] + [start(worker, self.parent)]
        return worker

    def shutdown(self, timeout_ms: int = 10000) -> None:
        """Cancel every running worker and wait for its thread to end."""
        for thread in self.threads:
            if thread.isRunning():
                thread.worker.cancel()
        for thread in self.threads:
            thread.quit()
            thread.wait(timeout_ms)
        self.threads = [t for t in self.threads if t.isRunning()]
