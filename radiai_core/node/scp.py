"""The DICOM node: a Storage SCP that keeps, analyses and answers every image it receives.

Threads share nothing but files and queues: pynetdicom's association threads receive (each
instance is on disk, fsynced, before "success" goes back); one analysis thread takes the
received instances in order through the ``Runner`` (analysis + history); one answer thread
builds the SR and secondary capture of each and puts them into the outbox (the analysis of the
next image runs meanwhile); one ``Sender`` delivers the outbox to the PACS.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
    RLELossless,
)
from pynetdicom import AE, evt
from pynetdicom.presentation import StoragePresentationContexts
from pynetdicom.sop_class import Verification
from pynetdicom.transport import ThreadedAssociationServer

from ..analysis.manifest import ModelInfo
from ..errors import NodeError
from ..resources import data_dir
from ..results.batch import BatchItem, Runner
from .outbox import Delivery, Outbox, Sender
from .peer import Peer, TlsFiles, check_aet
from .sr import MANUFACTURER, secondary_capture, sr_dataset
from .store import Inbox, short

__all__ = ["ACCEPTED_TRANSFER_SYNTAXES", "Node", "NodeConfig", "node_dir"]

log = logging.getLogger(__name__)

#: What the SCP accepts (the encodings RadiAI decodes; PS3.5 §10 and Annex A).
ACCEPTED_TRANSFER_SYNTAXES = [
    ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian, JPEGBaseline8Bit, JPEGExtended12Bit, JPEGLossless, JPEGLosslessSV1,
    JPEGLSLossless, JPEGLSNearLossless, JPEG2000Lossless, JPEG2000, RLELossless,
]

#: Failure statuses of C-STORE (PS3.4 B.2.3): out of resources, cannot understand.
OUT_OF_RESOURCES = 0xA700
CANNOT_UNDERSTAND = 0xC000

#: Files the pipeline reports as plainly not images (an SR, a presentation state sent along
#: with a study): kept, not answered.
_NOT_ANSWERED = {"no-pixel-data", "ignored"}


def node_dir() -> Path:
    """The node's folder under the data folder (received images, pending marks, outbox)."""
    return data_dir() / "node"


@dataclass
class NodeConfig:
    """How the node listens and where results go. ``allowed_aets`` empty: any calling AE
    title is accepted; else only those. ``analyse`` False: a receive-only node (the viewer's,
    which analyses what arrives in its own worker)."""

    aet: str = "RADIAI"
    port: int = 11112
    bind: str = "127.0.0.1"
    allowed_aets: Sequence[str] = ()
    results_to: Peer | None = None
    tls: TlsFiles | None = None
    results_tls: bool = False
    analyse: bool = True
    retry_initial_s: float = 2.0
    retry_max_s: float = 60.0
    capture_side: int = 1024
    max_associations: int = 8


@dataclass
class NodeStats:
    """What the node did since it started."""

    received: int = 0
    duplicates: int = 0
    analysed: int = 0
    answered: int = 0
    delivered: int = 0
    failed_stores: int = 0
    first_received: float | None = None
    last_analysed: float | None = None


class Node:
    """A DICOM Storage SCP (and Verification SCP) that keeps, analyses and answers.

    Parameters
    ----------
    config
        How it listens and where results go.
    analyze
        The analysis function (``Analyzer.analyze``); default: the bundled models'.
    models
        The identities of the models (recorded in a refusal SR that has no analysis).
    root
        The node's folder (default ``node_dir()``).
    history_path
        The history database (default: the user's).
    on_received
        Called with the file of every new (not duplicate) instance, in the receiving thread.
    on_answered
        Called with the ``BatchItem`` of every analysed instance, in the analysis thread.
    """

    def __init__(self, config: NodeConfig, analyze: Callable | None = None,
                 models: Sequence[ModelInfo] | None = None, root: Path | None = None,
                 history_path: Path | None = None,
                 on_received: Callable[[Path], None] | None = None,
                 on_answered: Callable[[BatchItem], None] | None = None) -> None:
        self.config = config
        check_aet(config.aet)
        for title in config.allowed_aets:
            check_aet(title)
        self.root = Path(root) if root is not None else node_dir()
        self.inbox = Inbox(self.root)
        self.outbox = Outbox(self.root / "outbox")
        self.history_path = history_path
        self._analyze, self._models = analyze, models
        self.on_received, self.on_answered = on_received, on_answered
        self.stats = NodeStats()
        self._queue: queue.Queue[tuple[str, Path] | None] = queue.Queue()
        self._answers: queue.Queue[tuple[str, BatchItem | None, Dataset] | None] = (
            queue.Queue(maxsize=4))
        self._busy = 0
        self._busy_lock = threading.Lock()
        self._server: ThreadedAssociationServer | None = None
        self._worker: threading.Thread | None = None
        self._sender: Sender | None = None

    # --- life ---------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        """The port it listens on (the one the system chose when configured with 0)."""
        if self._server is None:
            return self.config.port
        return int(self._server.server_address[1])

    def start(self) -> None:
        """Take up what a previous run left (pending instances, unsent results), then listen.

        Raises
        ------
        NodeError
            The port cannot be bound (in use, not allowed) or the TLS files are unusable.
        """
        cfg = self.config
        if cfg.analyse:
            if self._analyze is None:
                from ..analysis.pipeline import default_analyzer

                analyzer = default_analyzer()  # model problems stop here, before listening
                analyzer.warm_up()
                self._analyze, self._models = analyzer.analyze, analyzer.models.infos
            for key, path in self.inbox.pending():
                self._enqueue(key, path)
            self._worker = threading.Thread(target=self._analysis_loop, name="radiai-analysis",
                                            daemon=True)
            self._worker.start()
        if cfg.results_to is not None:
            self._sender = Sender(self.outbox, cfg.results_to, cfg.aet,
                                  tls=cfg.tls if cfg.results_tls else None,
                                  retry_initial_s=cfg.retry_initial_s,
                                  retry_max_s=cfg.retry_max_s, on_sent=self._delivered)
            self._sender.start()
        ae = AE(ae_title=cfg.aet)
        ae.maximum_associations = cfg.max_associations
        ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = 60
        for cx in StoragePresentationContexts:
            if cx.abstract_syntax is not None:
                ae.add_supported_context(cx.abstract_syntax, ACCEPTED_TRANSFER_SYNTAXES)
        ae.add_supported_context(Verification)
        if cfg.allowed_aets:
            ae.require_calling_aet = list(cfg.allowed_aets)
        ctx = cfg.tls.server_context() if cfg.tls is not None else None
        try:
            self._server = ae.start_server((cfg.bind, cfg.port), block=False, ssl_context=ctx,
                                           evt_handlers=[(evt.EVT_C_STORE, self._on_store)])
        except OSError as exc:
            self.stop()
            raise NodeError(f"cannot listen on {cfg.bind}:{cfg.port} ({exc.strerror or exc}); "
                            "is another node using the port?") from None
        log.info("DICOM node %s listening on %s:%d%s", cfg.aet, cfg.bind, self.port,
                 " (TLS)" if ctx is not None else "")

    def stop(self) -> None:
        """Stop listening, finish the image being analysed, stop the sender. What is pending
        or unsent stays on disk for the next start."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None
        if self._worker is not None:
            self._queue.put(None)
            self._worker.join(60)
            self._worker = None
        if self._sender is not None:
            self._sender.stop()
            self._sender = None

    def __enter__(self) -> Node:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every received instance is analysed and every result delivered (True),
        or ``timeout`` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._busy_lock:
                busy = self._busy
            if busy == 0 and not self.inbox.pending():
                break
            time.sleep(0.05)
        else:
            return False
        if self._sender is None:
            return True
        return self._sender.wait_idle(max(0.0, deadline - time.monotonic()))

    # --- receiving ----------------------------------------------------------------------------
    def _on_store(self, event: evt.Event) -> int:
        """C-STORE: keep the instance as received (not decoded), then say success."""
        sop_uid = str(getattr(event.request, "AffectedSOPInstanceUID", "") or "")
        try:
            data = event.encoded_dataset(include_meta=True)
            head = dcmread(io.BytesIO(data), stop_before_pixels=True,
                           specific_tags=["StudyInstanceUID", "SOPInstanceUID"])
            study_uid = str(head.get("StudyInstanceUID", "") or "")
        except Exception:  # noqa: BLE001 - an instance pydicom cannot parse is refused
            log.warning("instance %s from %s could not be parsed; refused", short(sop_uid),
                        event.assoc.requestor.ae_title)
            self.stats.failed_stores += 1
            return CANNOT_UNDERSTAND
        try:
            path, duplicate = self.inbox.store(study_uid, sop_uid, data)
        except OSError as exc:
            log.error("instance %s could not be kept (%s); the sender was told to retry",
                      short(sop_uid), exc.strerror or exc)
            self.stats.failed_stores += 1
            return OUT_OF_RESOURCES
        with self._busy_lock:  # counted from several association threads
            if self.stats.first_received is None:
                self.stats.first_received = time.monotonic()
            if duplicate:
                self.stats.duplicates += 1
            else:
                self.stats.received += 1
        if duplicate:
            log.info("instance %s received again; already kept", short(sop_uid))
            return 0x0000
        log.info("instance %s kept (from %s)", short(sop_uid), event.assoc.requestor.ae_title)
        if self.config.analyse:
            self._enqueue(path.stem, path)
        else:
            self.inbox.done(path.stem)  # a receive-only node has nothing left to do
        if self.on_received is not None:
            self.on_received(path)
        return 0x0000

    def _enqueue(self, key: str, path: Path) -> None:
        with self._busy_lock:
            self._busy += 1
        self._queue.put((key, path))

    # --- analysing and answering --------------------------------------------------------------
    # Two threads in a pipeline: the analysis (LiteRT, which releases the GIL) of one image
    # runs while the SR and capture of the one before are built (Python).
    def _analysis_loop(self) -> None:
        answers = threading.Thread(target=self._answer_loop, name="radiai-answers",
                                   daemon=True)
        answers.start()
        analyze = self._analyze
        if analyze is None:
            raise RuntimeError("the node's analysis loop started before its models loaded")
        try:
            with Runner(analyze, self.history_path) as runner:
                while True:
                    job = self._queue.get()
                    if job is None:
                        return
                    key, path = job
                    try:
                        self._answers.put((key, *self._analyse(runner, key, path)))
                    except Exception:  # noqa: BLE001 - a bug: logged; the image stays pending
                        log.exception("unexpected error analysing instance %s; it stays "
                                      "pending and is taken up at the next start", short(key))
                        self._finished()
        finally:
            self._answers.put(None)
            answers.join(60)

    def _finished(self) -> None:
        with self._busy_lock:
            self._busy -= 1

    def _analyse(self, runner: Runner, key: str, path: Path
                 ) -> tuple[BatchItem | None, Dataset]:
        """Analyse one kept instance (None: RadiAI's own result, routed back; not analysed)."""
        head = dcmread(path, stop_before_pixels=True)
        if str(head.get("Manufacturer", "")) == MANUFACTURER:
            return None, head
        item = runner.one(path)
        self.stats.analysed += 1
        self.stats.last_analysed = time.monotonic()
        return item, head

    def _answer_loop(self) -> None:
        while True:
            job = self._answers.get()
            if job is None:
                return
            key, item, head = job
            try:
                if (item is not None and self.config.results_to is not None
                        and item.kind not in _NOT_ANSWERED):
                    self._queue_results(item, head)
                self.inbox.done(key)  # its results are in the outbox: no longer pending
                if item is not None:
                    log.info("instance %s %s", short(key), item.status)
                    if self.on_answered is not None:
                        self.on_answered(item)
            except Exception:  # noqa: BLE001 - a bug: logged; the image stays pending
                log.exception("unexpected error answering instance %s; it stays pending and "
                              "is taken up at the next start", short(key))
            finally:
                self._finished()

    def _queue_results(self, item: BatchItem, head: Dataset) -> None:
        a = item.analysis
        objects = [("sr", sr_dataset(a, head, self._models or (),
                                     refused_by=item.kind or "error", reason=item.error))]
        if a is not None:
            try:
                objects.append(("capture", secondary_capture(a, head,
                                                             self.config.capture_side)))
            except Exception:  # noqa: BLE001 - the SR still goes; the capture is a bug to fix
                log.exception("secondary capture of %s could not be made",
                              short(str(head.SOPInstanceUID)))
        for kind, ds in objects:
            self.outbox.put(ds)
            self._record_queued(item, head, kind, ds)
        self.stats.answered += 1
        if self._sender is not None:
            self._sender.wake()

    # --- the history's record of deliveries ---------------------------------------------------
    def _record_queued(self, item: BatchItem, head: Dataset, kind: str, ds: Dataset) -> None:
        from ..results.history import History

        try:
            with History(self.history_path) as h:
                h.record_delivery(str(ds.SOPInstanceUID), kind, str(self.config.results_to),
                                  source_uid=str(head.SOPInstanceUID),
                                  analysis_id=item.history_id)
        except Exception as exc:  # noqa: BLE001 - the history is a record, not the queue
            log.warning("delivery of %s not recorded in the history (%s)",
                        short(str(ds.SOPInstanceUID)), exc)

    def _delivered(self, d: Delivery) -> None:
        self.stats.delivered += 1
        from ..results.history import History

        try:
            with History(self.history_path) as h:
                h.mark_delivered(d.sop_uid, d.sent_at, d.attempts)
        except Exception as exc:  # noqa: BLE001 - the history is a record, not the queue
            log.warning("delivery of %s not recorded in the history (%s)", short(d.sop_uid),
                        exc)
