"""Files only their owner can read: created, or truncated and made so again, before any byte."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any


def open_private(path: str | Path, binary: bool = False, **kwargs: Any) -> IO[Any]:
    """Open ``path`` for writing (created or truncated), readable and writable by the user only
    before anything is written, also when it existed with a wider mode.

    Parameters
    ----------
    path
        The file to write.
    binary
        Open in binary mode; else text (``kwargs`` such as ``encoding`` and ``newline`` go to
        ``open``).

    Returns
    -------
    IO
        The open file object.

    Raises
    ------
    OSError
        The file cannot be created or written (the caller says so in its own words).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if hasattr(os, "fchmod"):  # an existing file keeps its mode through O_CREAT
            os.fchmod(fd, 0o600)
        else:  # Windows: only the read-only bit exists
            os.chmod(path, 0o600)
    except OSError:
        os.close(fd)
        raise
    return open(fd, "wb" if binary else "w", **kwargs)
