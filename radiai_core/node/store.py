"""Received instances on disk: kept atomically before "success", pending until answered.

Layout under the node's folder (``$RADIAI_DATA_DIR/node`` by default)::

    received/<Study Instance UID>/<SOP Instance UID>.dcm   every instance kept, as received
    pending/<SOP Instance UID>                             received, not yet analysed/answered

A pending marker is written before its file and removed only when the instance has been
analysed and its results are in the outbox, so a crash at any point leaves either an instance
the sender was never told was stored (it sends it again) or a pending one that is taken up
again when the node starts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from pathlib import Path

from ..errors import NodeError

__all__ = ["Inbox", "short", "write_atomic"]

log = logging.getLogger(__name__)

_UID = re.compile(r"[0-9]+(\.[0-9]+)*")


def short(uid: str) -> str:
    """A UID as logs show it: 10 hex digits of its sha256 (no PHI, still traceable)."""
    return hashlib.sha256(uid.encode()).hexdigest()[:10]


def _safe(uid: str) -> str:
    """A UID as a file name: itself when it is a well-formed UID, else its hash."""
    uid = uid.strip().rstrip("\0")
    if len(uid) <= 64 and _UID.fullmatch(uid):
        return uid
    return "h" + hashlib.sha256(uid.encode()).hexdigest()


def _fsync_dir(folder: Path) -> None:
    if os.name == "nt":  # directories cannot be opened for fsync on Windows
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that it is either absent or complete, also after a crash
    or power loss: a temporary file in the same folder, fsync, rename, fsync of the folder.
    The file is readable by the user only.

    Raises
    ------
    OSError
        The folder cannot be written (full disk, permissions).
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


class Inbox:
    """The received instances (see the module's description); safe to use from the SCP's
    association threads at once."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.received = self.root / "received"
        self.pending_dir = self.root / "pending"
        try:
            for folder in (self.received, self.pending_dir):
                folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise NodeError(f"cannot be created for received images ({exc.strerror}).",
                            self.root) from None
        self._lock = threading.Lock()
        self._claimed: dict[str, threading.Event] = {}  # being written, by key

    def path(self, study_uid: str, sop_uid: str) -> Path:
        """Where an instance is kept."""
        return self.received / _safe(study_uid or "no-study") / f"{_safe(sop_uid)}.dcm"

    def store(self, study_uid: str, sop_uid: str, data: bytes) -> tuple[Path, bool]:
        """Keep one received instance (``data``: the DICOM file's bytes) and mark it pending.

        Returns
        -------
        (Path, bool)
            Where it is kept, and whether it was a duplicate (already kept, or kept meanwhile
            by another association, which is waited for): then nothing is written and it is
            not pending again.

        Raises
        ------
        OSError
            It could not be written (the sender must not be told "success").
        """
        path = self.path(study_uid, sop_uid)
        key = _safe(sop_uid)
        with self._lock:
            writing = self._claimed.get(key)
            mine = writing is None and not path.exists()
            if mine:
                self._claimed[key] = threading.Event()
        if writing is not None:  # another association is writing it: its outcome is ours
            writing.wait(120)
            if not path.exists():
                raise OSError(f"instance {short(sop_uid)} could not be kept")
            return path, True
        if not mine:
            return path, True
        try:
            marker = self.pending_dir / key
            write_atomic(marker, str(path.relative_to(self.root)).encode())
            write_atomic(path, data)
        finally:
            with self._lock:
                self._claimed.pop(key).set()
        return path, False

    def pending(self) -> list[tuple[str, Path]]:
        """(key, file) of every instance received but not yet answered, oldest first; a
        marker whose file never arrived (a crash between the two) is removed."""
        found = []
        for marker in self.pending_dir.iterdir():
            if marker.name.startswith("."):  # a temporary file a crash left
                marker.unlink(missing_ok=True)
                continue
            try:
                path = self.root / marker.read_text().strip()
                mtime = marker.stat().st_mtime
            except OSError:
                continue
            if path.exists():
                found.append((mtime, marker.name, path))
            else:
                marker.unlink(missing_ok=True)
        return [(key, path) for _, key, path in sorted(found)]

    def done(self, key: str) -> None:
        """The instance ``key`` is analysed and answered: no longer pending."""
        (self.pending_dir / key).unlink(missing_ok=True)
        _fsync_dir(self.pending_dir)

    def files(self) -> list[Path]:
        """Every kept instance."""
        return sorted(self.received.glob("*/*.dcm"))
