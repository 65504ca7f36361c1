"""Who an image is across paths and exports: its content key, and keyed pseudonym codes."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from pathlib import Path

from ..errors import ExportError, FileAccessError
from ..resources import data_dir
from .image import ImageMeta

#: Crockford's base 32: digits and capitals without I, L, O, U (nothing to misread).
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 10  # 50 bits: two of 100,000 patients share a code with odds of about 1 in 250,000
SECRET_FILE = "pseudonym.key"
SECRET_BYTES = 32

_lock = threading.Lock()
_secrets: dict[str, bytes] = {}


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes (hex).

    Raises
    ------
    FileAccessError
        The file cannot be read.
    """
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise FileAccessError(f"cannot be read to identify it ({exc.strerror}).",
                              path) from None
    return h.hexdigest()


def image_key(meta: ImageMeta) -> str:
    """The identity of an image across paths: ``sop:<SOP Instance UID>``, else
    ``sha256:<file's hash>`` (byte-identical files are one image).

    Raises
    ------
    FileAccessError
        No SOP Instance UID, and the file cannot be read to hash it.
    """
    if meta.sop_uid:
        return f"sop:{meta.sop_uid}"
    return f"sha256:{file_sha256(meta.path)}"


def installation_secret(folder: Path | None = None) -> bytes:
    """This installation's secret for pseudonyms: 32 random bytes in ``pseudonym.key`` in the
    user data folder, made once (readable by the user only) and read ever after, so that a
    patient's pseudonym is the same in every export and run here and cannot be recomputed
    elsewhere.

    Parameters
    ----------
    folder
        Where the key lives (default: ``radiai_core.resources.data_dir()``).

    Returns
    -------
    bytes
        The secret.

    Raises
    ------
    ExportError
        The key file cannot be created or read, or is not a key (too short): pseudonyms made
        with another key would not match earlier exports, so none are made.
    """
    path = (folder or data_dir()) / SECRET_FILE
    with _lock:
        cached = _secrets.get(str(path))
        if cached is not None:
            return cached
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        except OSError as exc:
            raise ExportError(f"cannot be created ({exc.strerror}).", path) from None
        else:
            with open(fd, "wb") as f:
                f.write(os.urandom(SECRET_BYTES))
        try:
            secret = path.read_bytes()
        except OSError as exc:
            raise ExportError(f"cannot be read ({exc.strerror}).", path) from None
        if len(secret) < SECRET_BYTES:
            raise ExportError(
                f"is not a pseudonym key ({len(secret)} bytes, {SECRET_BYTES} expected); "
                "restore it from a backup, or move it aside to start new pseudonyms (earlier "
                "exports then no longer match).", path)
        _secrets[str(path)] = secret
        return secret


def code(secret: bytes, domain: str, value: str) -> str:
    """The keyed code of ``value`` in ``domain`` (HMAC-SHA256, base 32): ``7F3K2-QX9AB``."""
    digest = hmac.new(secret, f"{domain}\0{value}".encode(), hashlib.sha256).digest()
    n = int.from_bytes(digest[:8], "big") >> (64 - 5 * CODE_CHARS)
    chars = "".join(ALPHABET[(n >> (5 * i)) & 31] for i in reversed(range(CODE_CHARS)))
    return f"{chars[:5]}-{chars[5:]}"


def normalize_code(text: str) -> str:
    """A code as typed (any case, with or without the dash, O for 0, I or L for 1) in its
    canonical form ``XXXXX-XXXXX``; '' when ``text`` holds no such code."""
    chars = "".join(ch for ch in text.upper() if ch.isalnum())
    chars = chars.translate(str.maketrans("OIL", "011"))
    if len(chars) != CODE_CHARS or any(ch not in ALPHABET for ch in chars):
        return ""
    return f"{chars[:5]}-{chars[5:]}"
