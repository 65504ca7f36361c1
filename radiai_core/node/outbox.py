"""Results waiting for the PACS: an on-disk queue sent by C-STORE, retried with backoff.

Each object is one file ``outbox/<SOP Instance UID>.dcm``, written atomically before the
received image stops being pending, and deleted only after the PACS answered its C-STORE
with success (or a warning). A PACS that is down, refuses the association or fails a store
leaves the files where they are; the sender tries again after 2, 4, 8 … seconds (at most
``retry_max_s``), and a node that starts finds them again. Nothing is dropped.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.filewriter import dcmwrite
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AE

from ..errors import NodeError
from .peer import Peer, TlsFiles
from .store import short, write_atomic

__all__ = ["Delivery", "Outbox", "Sender", "send_datasets"]

log = logging.getLogger(__name__)

#: C-STORE statuses that mean "kept" (PS3.4 B.2.3: success, and the warnings B000, B007, B006).
_KEPT = {0x0000, 0xB000, 0xB006, 0xB007}


@dataclass
class Delivery:
    """One object the sender delivered (or gave a try): its file, when, after how many
    tries."""

    sop_uid: str
    kind: str
    sent_at: float
    attempts: int
    error: str = ""


class Outbox:
    """The queue folder: ``put`` adds an object, ``files`` lists what waits."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise NodeError(f"cannot be created for results ({exc.strerror}).",
                            self.folder) from None

    def put(self, ds: Dataset) -> Path:
        """Write ``ds`` (a complete instance) into the queue; returns its file.

        Raises
        ------
        OSError
            The folder cannot be written.
        """
        buf = io.BytesIO()
        dcmwrite(buf, ds, enforce_file_format=True)
        path = self.folder / f"{ds.SOPInstanceUID}.dcm"
        write_atomic(path, buf.getvalue())
        return path

    def files(self) -> list[Path]:
        """The objects waiting, oldest first."""
        found = []
        for p in self.folder.glob("*.dcm"):
            try:
                found.append((p.stat().st_mtime, p))
            except OSError:  # sent and deleted meanwhile
                continue
        return [p for _, p in sorted(found)]


def send_datasets(peer: Peer, calling_aet: str, datasets: Sequence[Dataset],
                  tls: TlsFiles | None = None, timeout_s: float = 30.0) -> list[int | None]:
    """C-STORE ``datasets`` to ``peer`` in one association; the status of each (None when the
    association ended before it was answered).

    Raises
    ------
    NodeError
        The association could not be made (peer down, refused, TLS failed).
    """
    ae = AE(ae_title=calling_aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout_s
    for sop_class in sorted({str(ds.SOPClassUID) for ds in datasets}):
        ae.add_requested_context(sop_class, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    tls_args = (tls.client_context(), peer.host) if tls is not None else None
    assoc = ae.associate(peer.host, peer.port, ae_title=peer.aet, tls_args=tls_args)
    if not assoc.is_established:
        why = "rejected" if assoc.is_rejected else "could not be reached"
        raise NodeError(f"{peer} {why}.")
    statuses: list[int | None] = []
    try:
        for ds in datasets:
            if not assoc.is_established:
                statuses.append(None)
                continue
            status = assoc.send_c_store(ds)
            statuses.append(int(status.Status) if "Status" in status else None)
    finally:
        if assoc.is_established:
            assoc.release()
    return statuses


@dataclass
class Sender:
    """A thread that sends the outbox to ``peer`` as long as it runs.

    ``on_sent`` is called (in the sender's thread) for every object the PACS kept;
    ``on_failed`` for every failed try of a batch (with why).
    """

    outbox: Outbox
    peer: Peer
    calling_aet: str
    tls: TlsFiles | None = None
    retry_initial_s: float = 2.0
    retry_max_s: float = 60.0
    batch: int = 32
    on_sent: Callable[[Delivery], None] | None = None
    on_failed: Callable[[str], None] | None = None
    attempts: dict[str, int] = field(default_factory=dict)
    _wake: threading.Event = field(default_factory=threading.Event)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _idle: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        """Start sending (what waits in the outbox first)."""
        self._thread = threading.Thread(target=self._loop, name="radiai-sender", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """New objects are in the outbox: send them now (a backoff wait is not cut short)."""
        self._idle.clear()
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop after the current store; what is unsent stays in the outbox."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the outbox is empty (True) or ``timeout`` seconds passed (False)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._idle.wait(0.1) and not self.outbox.files():
                return True
        return not self.outbox.files()

    def _loop(self) -> None:
        delay = self.retry_initial_s
        while not self._stop.is_set():
            files = self.outbox.files()
            if not files:
                self._idle.set()
                self._wake.wait(1.0)
                self._wake.clear()
                continue
            self._idle.clear()
            try:
                self._send(files[:self.batch])
                delay = self.retry_initial_s
            except NodeError as exc:
                log.warning("results not delivered (%s); %d waiting, next try in %.0f s",
                            exc, len(files), delay)
                if self.on_failed is not None:
                    self.on_failed(str(exc))
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, self.retry_max_s)
            except Exception:  # noqa: BLE001 - a bug: logged, retried later, never dropped
                log.exception("unexpected error sending results; retrying later")
                if self._stop.wait(delay):
                    return
                delay = min(delay * 2, self.retry_max_s)

    def _send(self, files: list[Path]) -> None:
        datasets, kept = [], []
        for path in files:
            try:
                datasets.append(dcmread(path))
                kept.append(path)
            except FileNotFoundError:
                continue
        if not datasets:
            return
        for path in kept:
            self.attempts[path.stem] = self.attempts.get(path.stem, 0) + 1
        statuses = send_datasets(self.peer, self.calling_aet, datasets, self.tls)
        failed = 0
        for path, ds, status in zip(kept, datasets, statuses, strict=True):
            if status in _KEPT:
                log.info("result %s delivered to %s", short(path.stem), self.peer.aet)
                if self.on_sent is not None:  # noted first: a crash in between resends it,
                    # and the same UIDs make a resend harmless
                    self.on_sent(Delivery(path.stem, _kind(ds), time.time(),
                                          self.attempts.pop(path.stem, 1)))
                path.unlink(missing_ok=True)
            else:
                failed += 1
        if failed:
            raise NodeError(f"{self.peer} did not keep {failed} of {len(kept)} results "
                            f"(status {next(s for s in statuses if s not in _KEPT)}).")


def _kind(ds: Dataset) -> str:
    return "sr" if str(ds.get("Modality", "")) == "SR" else "capture"
