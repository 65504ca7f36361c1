"""User-facing errors: one family, each message names the file and says what to do."""

from __future__ import annotations

from pathlib import Path


class RadiAIError(Exception):
    """A problem with the user's input or set-up, explained in plain words.

    Anything raised by RadiAI that is *not* a ``RadiAIError`` is a bug.
    """

    #: Short tag used in JSON output and the GUI's skipped-files list.
    kind = "error"

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class FileAccessError(RadiAIError):
    """The file is missing, a folder, or cannot be read (permissions)."""

    kind = "unreadable"


class EmptyFileError(RadiAIError):
    """The file has no bytes at all."""
    kind = "empty"


class NotAnImageError(RadiAIError):
    """Neither DICOM nor a supported raster image format."""

    kind = "not-an-image"


class IgnoredFileError(NotAnImageError):
    """Plainly not an image (a CSV, text, JSON or PDF file, a DICOMDIR index): listed as
    ignored, not as a failure."""

    kind = "ignored"


class TruncatedFileError(RadiAIError):
    """The file ends before its data do (an interrupted transfer)."""
    kind = "truncated"


class DamagedFileError(RadiAIError):
    """The file is of a known format, but its bytes are damaged (flipped, zeroed, moved)."""

    kind = "damaged"


class NoPixelDataError(RadiAIError):
    """A DICOM without pixel data (a report, a presentation state…)."""
    kind = "no-pixel-data"


class UnsupportedTransferSyntaxError(RadiAIError):
    """A DICOM encoding RadiAI cannot decode, or whose decoder is not installed."""
    kind = "unsupported-transfer-syntax"


class UnsupportedImageError(RadiAIError):
    """A readable file whose pixel layout RadiAI does not handle."""

    kind = "unsupported-image"


class NotARadiographError(RadiAIError):
    """A DICOM modality that is not a projection radiograph (CT, MR, ...)."""

    kind = "not-a-radiograph"


class ImageTooLargeError(RadiAIError):
    """More pixels than RadiAI accepts (checked from the header, before decoding)."""
    kind = "too-large"


class ModelError(RadiAIError):
    """A model folder is missing, incomplete or does not match its manifest."""

    kind = "model"


class DataError(RadiAIError):
    """A training or evaluation table (CSV) is malformed."""

    kind = "data"


class PixelDecodeError(RadiAIError):
    """The pixel data is present but cannot be decoded (damaged or inconsistent)."""

    kind = "decode-failed"


class HistoryError(RadiAIError):
    """The history database cannot be opened, read or written."""

    kind = "history"


class ExportError(RadiAIError):
    """An export (PDF, PNG, CSV) could not be written."""

    kind = "export"


class NodeError(RadiAIError):
    """The DICOM node cannot start, reach its peer, or keep what it received (bad address,
    port in use, TLS files unreadable, data folder full)."""

    kind = "node"
