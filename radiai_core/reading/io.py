"""One call from a path to an XrayImage: sniffs the file and picks the DICOM or raster reader."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ..errors import EmptyFileError, FileAccessError, IgnoredFileError, NotAnImageError
from .image import XrayImage
from .raster_io import RASTER_MAGIC, load_raster

#: Files that sit next to images in study folders and are plainly not images: when their
#: first bytes are no image either, they are listed as ignored rather than as failures.
NON_IMAGE_SUFFIXES = frozenset({
    ".csv", ".tsv", ".txt", ".json", ".xml", ".md", ".html", ".htm", ".pdf", ".log", ".ini",
    ".yaml", ".yml", ".doc", ".docx", ".xls", ".xlsx", ".rtf", ".zip", ".py", ".sh", ".bat",
    ".db", ".sqlite", ".ds_store", ".lnk", ".url"})


def _head(path: Path, n: int = 132) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(n)
    except PermissionError:
        raise FileAccessError("cannot be read: permission denied. Ask for read access or copy "
                              "the file somewhere you can read it.", path) from None
    except IsADirectoryError:
        raise FileAccessError("is a folder; open it as a folder to scan it.", path) from None
    except FileNotFoundError:
        raise FileAccessError("does not exist (moved or deleted?).", path) from None
    except OSError as exc:
        raise FileAccessError(f"cannot be read ({exc.strerror or exc}).", path) from None


def sniff(path: str | Path) -> str:
    """Return ``"dicom"`` or a raster format name, or raise a RadiAIError saying what it is not.

    Looks at the first 132 bytes only: the DICOM preamble + ``DICM`` marker, a raster magic
    number, or (for DICOM files written without preamble and file meta) a plausible first
    data element of group 0x0008.
    """
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileAccessError("does not exist (moved or deleted?).", path) from None
    except OSError as exc:
        raise FileAccessError(f"cannot be read ({exc.strerror or exc}).", path) from None
    if stat.S_ISDIR(mode):
        raise FileAccessError("is a folder; open it as a folder to scan it.", path)
    if not stat.S_ISREG(mode):  # opening a pipe would wait forever for a writer
        raise FileAccessError("is not a regular file (a pipe, socket or device); RadiAI reads "
                              "image files only.", path)
    head = _head(path)
    if not head:
        raise EmptyFileError("is empty (0 bytes); the transfer was probably interrupted.", path)
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "dicom"
    for magic, fmt in RASTER_MAGIC:
        if head.startswith(magic):
            return fmt
    if _looks_like_bare_dicom(head):
        return "dicom"
    suffix = path.suffix.lower()
    if suffix in NON_IMAGE_SUFFIXES:
        raise IgnoredFileError(f"is not an image (a {suffix} file); ignored.", path)
    raise NotAnImageError("is not a DICOM file or an image RadiAI can read "
                          "(PNG, JPEG, TIFF, BMP).", path)


def _looks_like_bare_dicom(head: bytes) -> bool:
    """A dataset with no preamble starts with a group 0x0002 or 0x0008 element, little endian
    (big-endian explicit VR is retired and not accepted here)."""
    if len(head) < 8:
        return False
    group = int.from_bytes(head[0:2], "little")
    if group not in (0x0002, 0x0008):
        return False
    vr = head[4:6]
    if vr.isalpha() and vr.isupper():  # explicit VR
        return True
    length = int.from_bytes(head[4:8], "little")  # implicit VR: a sane length
    return length < 1 << 16


def load_image(path: str | Path) -> XrayImage:
    """Read a DICOM, PNG, JPEG, TIFF or BMP radiograph into an XrayImage.

    Raises
    ------
    RadiAIError
        Every problem with the file, its message naming the file: FileAccessError,
        EmptyFileError, NotAnImageError (IgnoredFileError for a plainly non-image file),
        TruncatedFileError, DamagedFileError, NotARadiographError, NoPixelDataError,
        ImageTooLargeError, UnsupportedTransferSyntaxError, PixelDecodeError,
        UnsupportedImageError.
    """
    path = Path(os.fspath(path))
    kind = sniff(path)
    if kind == "dicom":
        from .dicom_io import load_dicom

        return load_dicom(path)
    return load_raster(path)
