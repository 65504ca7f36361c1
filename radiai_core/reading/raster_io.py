"""PNG, JPEG, TIFF and BMP files → XrayImage (grey, [0, 1]), through Pillow."""

from __future__ import annotations

import logging
import struct
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import (
    DamagedFileError,
    ImageTooLargeError,
    NotAnImageError,
    RadiAIError,
    TruncatedFileError,
    UnsupportedImageError,
)
from ..limits import MAX_PIXELS
from .image import ImageMeta, XrayImage

log = logging.getLogger(__name__)

FORMATS = ("PNG", "JPEG", "TIFF", "BMP")
#: Magic numbers of the raster formats we read.
RASTER_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
)


def format_of(path: Path) -> str:
    """The raster format a file's first bytes announce ("image" when none does)."""
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return "image"
    return next((fmt for magic, fmt in RASTER_MAGIC if head.startswith(magic)), "image")

# load_raster checks the size from the header before any decoding and refuses with a clear
# message; Pillow's own bomb check would only warn or fail earlier with a less helpful one.
Image.MAX_IMAGE_PIXELS = None


#: What Pillow's decoders raise on damaged bytes (besides the OSError family): a broken PNG
#: chunk is a SyntaxError, a short IHDR a ValueError, a bad TIFF tag a struct.error or
#: KeyError, a lying JPEG segment length an IndexError.
DECODER_ERRORS = (OSError, SyntaxError, ValueError, struct.error, EOFError, IndexError,
                  KeyError, TypeError, ZeroDivisionError, OverflowError)


def damaged(fmt: str, exc: BaseException, path: Path, stage: str) -> RadiAIError:
    """The error for a decoder's complaint: truncated when the decoder says the data ran out,
    else damaged; named by the format and the stage (``header`` or ``pixel data``)."""
    text = str(exc).split("\n")[0][:120] or type(exc).__name__
    if "truncated" in text.lower() or isinstance(exc, EOFError):
        return TruncatedFileError(f"is a truncated {fmt} file: its {stage} ends early ({text}); "
                                  "the transfer was probably interrupted.", path)
    return DamagedFileError(f"is a damaged {fmt} file: its {stage} cannot be decoded ({text}); "
                            "copy it again from the archive.", path)


def _open(path: Path) -> Image.Image:
    try:
        img = Image.open(path, formats=FORMATS)
    except UnidentifiedImageError:
        raise NotAnImageError(
            "is not a DICOM file or an image RadiAI can read (PNG, JPEG, TIFF, BMP).", path
        ) from None
    except DECODER_ERRORS as exc:
        raise damaged(format_of(path), exc, path, "header") from None
    return img


def check_size(width: int, height: int, path: str | Path) -> None:
    """Refuse an image over the pixel limit (from its header, before any decoding)."""
    if width * height > MAX_PIXELS:
        raise ImageTooLargeError(
            f"is {width} × {height} pixels, more than the {MAX_PIXELS / 1e6:.0f}"
            " megapixels RadiAI accepts; reduce it before analysis.", path)


def read_size(path: Path) -> tuple[str, int, int]:
    """(format, width, height) from the header only."""
    with _open(path) as img:
        return img.format or "?", img.width, img.height


def colourfulness(rgb: np.ndarray) -> float:
    """Mean spread between the colour channels, in [0, 1] (0 for any grey image)."""
    rgb = rgb[..., :3].astype(np.float32)
    spread = rgb.max(axis=-1) - rgb.min(axis=-1)
    top = 255.0 if rgb.max(initial=0) <= 255 else 65535.0
    return float(spread.mean() / top)


def _to_grey(img: Image.Image, path: Path) -> tuple[np.ndarray, str]:
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N"):
        return np.asarray(img, dtype=np.float32) / 65535.0, "MONOCHROME2"
    if mode == "I":
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if arr.max(initial=0) <= 65535 and arr.min(initial=0) >= 0 else None
        if top is None:
            lo, hi = float(arr.min()), float(arr.max())
            arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
            return arr.astype(np.float32), "MONOCHROME2"
        return (arr / top).astype(np.float32), "MONOCHROME2"
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        arr = (arr - lo) / (hi - lo) if hi > lo else np.zeros_like(arr)
        return np.nan_to_num(arr).astype(np.float32), "MONOCHROME2"
    if mode in ("1", "L", "LA"):
        return np.asarray(img.convert("L"), dtype=np.float32) / 255.0, "MONOCHROME2"
    if mode in ("P", "PA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
        # ITU-R 601 luma, the standard grey conversion (Pillow's convert("L")).
        rgb = img.convert("RGBA" if mode in ("P", "PA", "RGBA") else "RGB")
        return np.asarray(rgb.convert("L"), dtype=np.float32) / 255.0, "RGB"
    raise UnsupportedImageError(f"has pixel mode {mode!r}, which RadiAI cannot convert to grey.",
                                path)


def load_raster(path: str | Path) -> XrayImage:
    """Read a PNG, JPEG, TIFF or BMP file into an XrayImage (grey, [0, 1]).

    Raises
    ------
    RadiAIError
        NotAnImageError, TruncatedFileError, DamagedFileError, ImageTooLargeError or
        UnsupportedImageError, each naming the file.
    """
    path = Path(path)
    img = _open(path)
    with img:
        check_size(img.width, img.height, path)
        fmt = img.format or "?"
        n_frames = getattr(img, "n_frames", 1)
        notes: list[str] = []
        if n_frames > 1:
            notes.append(f"file holds {n_frames} frames; only the first is shown")
            log.warning("%s: %d frames, using the first", path.name, n_frames)
        try:
            img.load()
            img = ImageOps.exif_transpose(img)
            pixels, photometric = _to_grey(img, path)
            colour = (colourfulness(np.asarray(img.convert("RGB")))
                      if photometric == "RGB" else None)
        except DECODER_ERRORS as exc:
            raise damaged(fmt, exc, path, "pixel data") from None
    pixels = np.ascontiguousarray(pixels, dtype=np.float32)
    bits = 16 if img.mode.startswith("I;16") else 8
    meta = ImageMeta(path=str(path), format=fmt, rows=pixels.shape[0], columns=pixels.shape[1],
                     photometric=photometric, bits_stored=bits, number_of_frames=n_frames,
                     colourfulness=colour, notes=notes)
    return XrayImage(pixels=pixels, meta=meta, values=pixels)
