"""The image type every loader returns: float32 pixels in [0, 1] plus metadata."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np


@dataclass
class ImageMeta:
    """What is known about where an image came from. ``None`` means not recorded."""

    path: str
    format: str  # "DICOM", "PNG", "JPEG", "TIFF", "BMP"
    rows: int
    columns: int
    photometric: str | None = None  # DICOM Photometric Interpretation, or "MONOCHROME2"/"RGB" etc.
    bits_stored: int | None = None
    transfer_syntax: str | None = None
    modality: str | None = None
    patient_name: str | None = None
    patient_id: str | None = None
    patient_sex: str | None = None
    patient_birth_date: str | None = None
    patient_age: str | None = None
    study_date: str | None = None
    acquisition_date: str | None = None
    study_description: str | None = None
    study_uid: str | None = None
    series_uid: str | None = None
    series_description: str | None = None
    sop_uid: str | None = None
    instance_number: int | None = None
    view_position: str | None = None
    pixel_spacing: tuple[float, float] | None = None  # (row, column) in mm
    institution: str | None = None
    manufacturer: str | None = None
    number_of_frames: int = 1
    #: Default display window (centre, width) in modality units, when the file has one.
    window: tuple[float, float] | None = None
    #: Mean colour saturation of a colour source before grey conversion (0 = grey), else None.
    colourfulness: float | None = None
    #: Things the reader should know about how the pixels were obtained.
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The metadata for JSON (tuples as lists)."""
        d = asdict(self)
        if self.pixel_spacing is not None:
            d["pixel_spacing"] = list(self.pixel_spacing)
        if self.window is not None:
            d["window"] = list(self.window)
        return d


@dataclass
class XrayImage:
    """A radiograph ready for display and analysis.

    ``pixels`` is a 2-D float32 array in [0, 1] where dark means low attenuation
    (air, lungs), i.e. MONOCHROME2 polarity, after the file's modality and VOI LUTs.
    ``values`` holds the modality-LUT output (e.g. rescaled DICOM values) before
    windowing, for re-windowing in a viewer; for plain images it equals ``pixels``.
    """

    pixels: np.ndarray
    meta: ImageMeta
    values: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.pixels.ndim != 2 or self.pixels.dtype != np.float32:
            raise ValueError("XrayImage.pixels must be a 2-D float32 array")

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns) of the pixels."""
        rows, columns = self.pixels.shape[:2]
        return int(rows), int(columns)


def iso_date(dicom_date: str | None) -> str:
    """DICOM DA (YYYYMMDD) → YYYY-MM-DD; anything else is returned as is ('' for None)."""
    d = (dicom_date or "").strip()
    if len(d) == 8 and d.isdigit():
        return f"{d[:4]}-{d[4:6]}-{d[6:]}"
    return d
