"""DICOM radiographs → XrayImage through pydicom: modality LUT, VOI LUT/window, MONOCHROME1."""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import BytesLengthException, InvalidDicomError
from pydicom.pixels import (
    apply_color_lut,
    apply_modality_lut,
    apply_voi_lut,
    apply_windowing,
    get_decoder,
)
from pydicom.uid import UID, ImplicitVRLittleEndian

from ..errors import (
    DamagedFileError,
    IgnoredFileError,
    ImageTooLargeError,
    NoPixelDataError,
    NotAnImageError,
    NotARadiographError,
    PixelDecodeError,
    TruncatedFileError,
    UnsupportedImageError,
    UnsupportedTransferSyntaxError,
)
from ..limits import MAX_PIXELS
from .image import ImageMeta, XrayImage
from .privacy import remember

log = logging.getLogger(__name__)

#: Modalities that hold projection radiographs (or may: OT/SC secondary captures).
RADIOGRAPH_MODALITIES = frozenset({"CR", "DX", "DR", "RG", "OT", "SC"})
_MODALITY_NAMES = {
    "CT": "a CT (computed tomography) image", "MR": "an MR (magnetic resonance) image",
    "US": "an ultrasound image", "NM": "a nuclear medicine image", "PT": "a PET image",
    "MG": "a mammogram", "XA": "an angiography image", "RF": "a fluoroscopy image",
    "IO": "an intra-oral dental radiograph", "PX": "a panoramic dental radiograph",
    "OP": "an ophthalmic photograph", "XC": "a camera photograph", "ES": "an endoscopy image",
    "SM": "a microscopy slide", "SR": "a structured report", "PR": "a presentation state",
    "KO": "a key-object selection", "SEG": "a segmentation", "ECG": "an ECG",
}
#: Media Storage Directory Storage (PS3.4 Annex B.5; the DICOMDIR of PS3.10 §8.6 and PS3.3 F).
DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_DECODER_HINTS = {
    "1.2.840.10008.1.2.4.50": "pylibjpeg with pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.51": "pylibjpeg with pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.57": "pylibjpeg with pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.70": "pylibjpeg with pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.80": "pylibjpeg with pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.81": "pylibjpeg with pylibjpeg-libjpeg",
    "1.2.840.10008.1.2.4.90": "pylibjpeg with pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.4.91": "pylibjpeg with pylibjpeg-openjpeg",
    "1.2.840.10008.1.2.5": "pylibjpeg (RLE) or numpy",
}


#: What pydicom raises when it converts a damaged element on first access (elements are read
#: raw and converted lazily): a length that is no multiple of the value size
#: (BytesLengthException, a ValueError), a VR that does not exist (NotImplementedError), bytes
#: that are no number or text in the declared VR.
HEADER_ERRORS = (ValueError, NotImplementedError, TypeError, KeyError, IndexError,
                 OverflowError, struct.error, UnicodeError, AttributeError, EOFError,
                 BytesLengthException)


#: The packages whose complaints are about the file: pydicom and the pixel decoders it calls.
DECODER_PACKAGES = frozenset({"pydicom", "pylibjpeg", "libjpeg", "openjpeg", "rle"})


def raised_by_decoder(exc: BaseException) -> bool:
    """Whether ``exc`` was raised by pydicom or a pixel decoder (a file it could not parse),
    rather than by RadiAI's own code (a bug).

    The traceback is read from RadiAI's deepest frame on: the error is the decoder's when a
    decoder's frame lies below it (pydicom converting a damaged element when RadiAI asked for
    its value). An error raised in RadiAI's own frame, or in a library RadiAI called directly
    (NumPy, the builtins), is RadiAI's: it should have checked the value first.
    """
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(str(tb.tb_frame.f_globals.get("__name__", "")).split(".")[0])
        tb = tb.tb_next
    ours = [i for i, name in enumerate(frames) if name in ("radiai_core", "app")]
    below = frames[ours[-1] + 1:] if ours else frames
    return any(name in DECODER_PACKAGES for name in below)


@contextmanager
def damaged_header(path: str | Path) -> Iterator[None]:
    """Turn pydicom's complaints about a damaged header element into a DamagedFileError.

    Only pydicom's and the decoders' own errors (``raised_by_decoder``) are the file's fault;
    the same exception types raised by RadiAI's code are bugs and propagate unchanged, to be
    logged with their traceback and reported as bugs, never as the user's damaged file.
    """
    try:
        yield
    except HEADER_ERRORS as exc:
        if not raised_by_decoder(exc):
            raise
        text = str(exc).split("\n")[0][:160] or type(exc).__name__
        raise DamagedFileError(f"is a damaged DICOM file: an element of its header cannot be "
                               f"read ({text}); copy it again from the archive.",
                               path) from None


def read_dataset(path: str | Path, *, headers_only: bool = False) -> Dataset:
    """Parse a DICOM file: the PS3.10 §7.1 form (128-byte preamble, "DICM", File Meta
    Information), or a bare data set as older writers leave it (``force``).

    Raises
    ------
    RadiAIError
        NotAnImageError (not DICOM), TruncatedFileError (a header that cannot be read),
        IgnoredFileError (a DICOMDIR), each naming the file.
    """
    path = Path(path)
    try:
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=headers_only)
    except InvalidDicomError as exc:
        raise NotAnImageError(f"is not a readable DICOM file ({exc}).", path) from None
    except (OSError, *HEADER_ERRORS) as exc:
        raise TruncatedFileError(f"has a DICOM header that could not be read ({exc}); the file "
                                 "is truncated or damaged.", path) from None
    if not ds.keys():
        if getattr(ds, "preamble", None) is not None:
            raise TruncatedFileError("has a DICOM marker but no data set after its header; the "
                                     "file is truncated or damaged.", path)
        raise NotAnImageError("is not a DICOM file or an image RadiAI can read "
                              "(PNG, JPEG, TIFF, BMP).", path)
    fm = getattr(ds, "file_meta", None)
    if fm is not None and str(fm.get("MediaStorageSOPClassUID", "")) == DICOMDIR_SOP_CLASS:
        raise IgnoredFileError("is a DICOMDIR (the index of a DICOM folder, not an image); "
                               "ignored. Open the folder that holds it.", path)
    return ds


def check_modality(ds: Dataset, path: str | Path) -> None:
    """Refuse a DICOM whose Modality (0008,0060; PS3.3 C.7.3.1) is not a projection radiograph.

    Raises
    ------
    NotARadiographError
        CT, MR, ultrasound and the other non-radiograph modalities, named.
    """
    modality = str(ds.get("Modality", "") or "").upper()
    if modality and modality not in RADIOGRAPH_MODALITIES:
        what = _MODALITY_NAMES.get(modality, f"a {modality} image")
        raise NotARadiographError(f"is {what} (Modality {modality}); RadiAI reads chest "
                                  "radiographs (CR or DX).", path)


def _transfer_syntax(ds: Dataset) -> UID:
    """The Transfer Syntax UID (0002,0010; PS3.5 §10, Annex A), or, without file meta, the
    little-endian encoding pydicom found while reading."""
    fm = ds.get("file_meta") or getattr(ds, "file_meta", None)
    tsyntax = fm.get("TransferSyntaxUID") if fm is not None else None
    if tsyntax:
        return UID(str(tsyntax))
    # No file meta: pydicom found the encoding while reading; only little endian is accepted.
    implicit, little = getattr(ds, "original_encoding", (True, True))
    if not little:
        return UID("1.2.840.10008.1.2.2")
    return ImplicitVRLittleEndian if implicit in (True, None) else UID("1.2.840.10008.1.2.1")


def _check_decodable(ds: Dataset, tsyntax: UID, path: Path) -> None:
    name = getattr(tsyntax, "name", str(tsyntax))
    try:
        decoder = get_decoder(tsyntax)
    except NotImplementedError:
        raise UnsupportedTransferSyntaxError(
            f"uses transfer syntax {name} ({tsyntax}), which RadiAI cannot decode; convert it "
            "to an uncompressed or JPEG/JPEG 2000 DICOM first.", path) from None
    if not decoder.is_available:
        hint = _DECODER_HINTS.get(str(tsyntax), "a pydicom pixel-data plugin")
        raise UnsupportedTransferSyntaxError(
            f"uses transfer syntax {name} ({tsyntax}), which needs {hint}; install it "
            f"(pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg).", path)


def _str(ds: Dataset, keyword: str) -> str | None:
    value = ds.get(keyword)
    if value is None or value == "":
        return None
    return str(value).strip() or None


def _spacing(ds: Dataset) -> tuple[tuple[float, float] | None, str | None]:
    """(row, column) spacing in mm: Pixel Spacing (0028,0030; PS3.3 C.7.6.3), else Imager Pixel
    Spacing (0018,1164; at the detector, PS3.3 C.8.11.4), with a note saying which."""
    for keyword in ("PixelSpacing", "ImagerPixelSpacing"):
        value = ds.get(keyword)
        try:
            if value is not None and len(value) == 2 and float(value[0]) > 0 < float(value[1]):
                note = None if keyword == "PixelSpacing" else \
                    "pixel spacing is at the detector (Imager Pixel Spacing), not the patient"
                return (float(value[0]), float(value[1])), note
        except (TypeError, ValueError):
            continue
    return None, None


def _window(ds: Dataset) -> tuple[float, float] | None:
    """The first Window Center/Width pair (0028,1050/1051; PS3.3 C.11.2.1.2), if valid."""
    try:
        c, w = ds.get("WindowCenter"), ds.get("WindowWidth")
        if c is None or w is None:
            return None
        c = c[0] if isinstance(c, pydicom.multival.MultiValue) else c
        w = w[0] if isinstance(w, pydicom.multival.MultiValue) else w
        return float(c), float(w)
    except (TypeError, ValueError, IndexError):
        return None


def _int(ds: Dataset, keyword: str, default: int | None = None) -> int | None:
    try:
        value = ds.get(keyword)
        return int(value) if value not in (None, "") else default
    except (TypeError, ValueError):
        return default


def dicom_meta(ds: Dataset, path: str | Path) -> ImageMeta:
    """Metadata from a (headers-only or full) dataset. The patient's name and id are noted for
    redaction from logs (``privacy``) as soon as they are read."""
    spacing, spacing_note = _spacing(ds)
    tsyntax = _transfer_syntax(ds)
    meta = ImageMeta(
        path=str(path), format="DICOM", rows=_int(ds, "Rows", 0) or 0,
        columns=_int(ds, "Columns", 0) or 0, photometric=_str(ds, "PhotometricInterpretation"),
        bits_stored=_int(ds, "BitsStored"), transfer_syntax=str(tsyntax),
        modality=_str(ds, "Modality"), patient_name=_str(ds, "PatientName"),
        patient_id=_str(ds, "PatientID"), patient_sex=_str(ds, "PatientSex"),
        patient_birth_date=_str(ds, "PatientBirthDate"), patient_age=_str(ds, "PatientAge"),
        study_date=_str(ds, "StudyDate"), acquisition_date=_str(ds, "AcquisitionDate"),
        study_description=_str(ds, "StudyDescription"),
        study_uid=_str(ds, "StudyInstanceUID"), series_uid=_str(ds, "SeriesInstanceUID"),
        series_description=_str(ds, "SeriesDescription"), sop_uid=_str(ds, "SOPInstanceUID"),
        instance_number=_int(ds, "InstanceNumber"), view_position=_str(ds, "ViewPosition"),
        pixel_spacing=spacing, institution=_str(ds, "InstitutionName"),
        manufacturer=_str(ds, "Manufacturer"),
        number_of_frames=_int(ds, "NumberOfFrames", 1) or 1, window=_window(ds),
        notes=[spacing_note] if spacing_note else [],
    )
    remember(meta)
    return meta


def _voi_to_unit(values: np.ndarray, ds: Dataset) -> tuple[np.ndarray, str]:
    """Apply the VOI LUT (PS3.3 C.11.2.1.1) or the window (C.11.2.1.2) from the file and scale
    its output range to [0, 1]; without either, the full range of the values."""
    if ds.get("VOILUTSequence"):
        # A LUT is indexed by integers; the modality LUT output is integral when it is identity
        # or has integer slope/intercept.
        lut_in = values.astype(np.int64) if np.array_equal(values, np.round(values)) else values
        out = apply_voi_lut(lut_in, ds, index=0, prefer_lut=True)
        # The LUT's output range, found by passing its whole input domain through it.
        n_entries, first = (int(v) for v in ds.VOILUTSequence[0].LUTDescriptor[:2])
        domain = np.arange(first, first + (n_entries or 65536), dtype=np.int64)
        lut_out = apply_voi_lut(domain, ds, index=0, prefer_lut=True)
        lo, hi = float(lut_out.min()), float(lut_out.max())
        if hi > lo:
            return (out.astype(np.float64) - lo) / (hi - lo), "VOI LUT"
    if "WindowCenter" in ds and "WindowWidth" in ds:
        try:
            out = apply_windowing(values, ds, index=0)
            # The window's output range, found by windowing two extreme values.
            with np.errstate(over="ignore"):
                lo, hi = apply_windowing(np.array([-1e30, 1e30]), ds, index=0)
            if hi > lo:
                return (out - lo) / (hi - lo), "window"
        except (ValueError, TypeError, IndexError) as exc:
            log.info("window in file ignored: %s", exc)
    lo, hi = float(values.min()), float(values.max())
    if hi > lo:
        return (values.astype(np.float64) - lo) / (hi - lo), "full range"
    return np.zeros_like(values, dtype=np.float64), "constant image"


def _rgb_to_grey(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def check_header(ds: Dataset, meta: ImageMeta, path: str | Path) -> None:
    """What the header alone can tell: too many pixels, or a transfer syntax RadiAI cannot
    decode. Used by the folder scan too, so such files are listed before anyone opens them."""
    if meta.rows * meta.columns > MAX_PIXELS:
        raise ImageTooLargeError(
            f"declares {meta.columns} × {meta.rows} pixels, more than the "
            f"{MAX_PIXELS / 1e6:.0f} megapixels RadiAI accepts.", path)
    _check_decodable(ds, _transfer_syntax(ds), Path(path))


def load_dicom(path: str | Path) -> XrayImage:
    """Read a DICOM radiograph: header checks, then the pixels through the modality LUT, the
    VOI LUT or window, and MONOCHROME1 inversion (PS3.4 N.2.1, the grayscale pipeline).

    Raises
    ------
    RadiAIError
        NotAnImageError, TruncatedFileError, DamagedFileError, NotARadiographError,
        NoPixelDataError, ImageTooLargeError, UnsupportedTransferSyntaxError,
        PixelDecodeError or UnsupportedImageError, each naming the file.
    """
    path = Path(path)
    ds = read_dataset(path)
    with damaged_header(path):
        check_modality(ds, path)
        if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
            raise NoPixelDataError("is a DICOM file without pixel data (a report, presentation "
                                   "state or header-only object); there is no image to show.",
                                   path)
        meta = dicom_meta(ds, path)
        check_header(ds, meta, path)
        tsyntax = _transfer_syntax(ds)
        if not ds.get("file_meta") and not getattr(ds, "file_meta", None):
            ds.file_meta = pydicom.dataset.FileMetaDataset()
        if "TransferSyntaxUID" not in ds.file_meta:
            ds.file_meta.TransferSyntaxUID = tsyntax
            meta.notes.append("file has no file meta header; read as "
                              f"{getattr(tsyntax, 'name', tsyntax)}")
    if meta.number_of_frames > 1:
        meta.notes.append(f"file holds {meta.number_of_frames} frames; only the first is shown")
        log.warning("%s: %d frames, using the first", path.name, meta.number_of_frames)
    pixels, values = _decode(ds, meta, path)
    return XrayImage(pixels=pixels, meta=meta, values=values)


def _decode(ds: Dataset, meta: ImageMeta, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """The first frame's pixels through pydicom's decoders, then ``_to_unit``; a decoder's
    complaint becomes a TruncatedFileError or PixelDecodeError naming the file."""
    try:
        ds.pixel_array_options(index=0 if meta.number_of_frames > 1 else None)
        arr: Any = ds.pixel_array
    except (ValueError, EOFError, RuntimeError, KeyError, AttributeError, TypeError,
            NotImplementedError, OSError, IndexError, OverflowError, struct.error,
            MemoryError) as exc:
        if not raised_by_decoder(exc):
            raise  # RadiAI's bug, not the file's
        text = str(exc).split("\n")[0]
        lowered = text.lower()
        if "less than expected" in lowered or "length" in lowered or isinstance(exc, EOFError):
            raise TruncatedFileError(f"has less pixel data than its header declares ({text}); "
                                     "the file is truncated or damaged.", path) from None
        raise PixelDecodeError(f"has pixel data that could not be decoded ({text}).",
                               path) from None
    with damaged_header(path):  # LUTs and windows come from the header
        return _to_unit(ds, meta, np.asarray(arr), path)


def _to_unit(ds: Dataset, meta: ImageMeta, arr: np.ndarray, path: Path
             ) -> tuple[np.ndarray, np.ndarray]:
    """Decoded stored values → (pixels in [0, 1], modality values) by Photometric
    Interpretation (PS3.3 C.7.6.3.1.2): grey through the Modality LUT (C.11.1) and the VOI
    stage, MONOCHROME1 inverted so that air is dark; palette colour through its LUT (C.7.6.3.1.5)
    and RGB/YBR to grey (ITU-R 601 luma)."""
    photometric = (meta.photometric or "MONOCHROME2").upper()
    if photometric in ("MONOCHROME1", "MONOCHROME2"):
        if arr.ndim != 2:
            raise UnsupportedImageError(f"has a {arr.ndim}-D grey frame; expected 2-D.", path)
        values = np.asarray(apply_modality_lut(arr, ds), dtype=np.float64)
        unit, how = _voi_to_unit(values, ds)
        if photometric == "MONOCHROME1":
            unit = 1.0 - unit
            meta.notes.append("MONOCHROME1: inverted so that air is dark")
        meta.notes.append(f"displayed with the {how}")
    elif photometric == "PALETTE COLOR":
        rgb = apply_color_lut(arr, ds).astype(np.float64)
        top = float(np.iinfo(apply_color_lut(arr[:1, :1], ds).dtype).max)
        values = unit = _rgb_to_grey(rgb) / top
        meta.colourfulness = float((rgb.max(-1) - rgb.min(-1)).mean() / top)
        meta.notes.append("palette colour image converted to grey")
    elif photometric in ("RGB", "YBR_FULL", "YBR_FULL_422", "YBR_RCT", "YBR_ICT",
                         "YBR_PARTIAL_420"):
        if arr.ndim != 3 or arr.shape[-1] != 3:
            raise UnsupportedImageError(f"is {photometric} but not 3 samples per pixel.", path)
        top = float(2 ** (meta.bits_stored or 8) - 1)
        values = unit = _rgb_to_grey(arr.astype(np.float64)) / top
        meta.colourfulness = float((arr.max(-1).astype(np.float64) - arr.min(-1)).mean() / top)
        meta.notes.append("colour image converted to grey")
    else:
        raise UnsupportedImageError(f"has photometric interpretation {photometric}, which "
                                    "RadiAI cannot display.", path)
    pixels = np.clip(unit, 0.0, 1.0).astype(np.float32)
    return np.ascontiguousarray(pixels), np.asarray(values, dtype=np.float32)


def tag_listing(path: str | Path) -> str:
    """The file's DICOM header as text, one element per line (pixel data left out)."""
    ds = read_dataset(path, headers_only=True)
    lines = []
    with damaged_header(path):
        fm = getattr(ds, "file_meta", None)
        if fm:
            lines += [str(elem) for elem in fm]
        lines += [str(elem) for elem in ds]
    return "\n".join(lines)
