"""The patient's age from the DICOM header: Patient's Age, else Birth Date and the study's date.

DICOM PS3.5 §6.2 (Value Representation AS): an Age String is ``nnnD``, ``nnnW``, ``nnnM`` or
``nnnY`` (days, weeks, months, years). PS3.3 C.7.1.1 (Patient Module) gives Patient's Birth Date
(0010,0030) and C.7.2.2 (Patient Study Module) Patient's Age (0010,1010) at the time of the
study; Study Date (0008,0020) or Acquisition Date (0008,0022) dates the image.
"""

from __future__ import annotations

import datetime as _dt
import re

from .image import ImageMeta

#: Days in one unit of an Age String.
_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12, "Y": 365.25}
_AGE_STRING = re.compile(r"^\s*(\d{1,3})\s*([DWMY]?)\s*$", re.IGNORECASE)


def parse_age_string(text: str | None) -> float | None:
    """Years from a DICOM Age String (``"004Y"``, ``"018M"``, ``"3W"``); a bare number, which
    some writers store, is read as years. None when absent or unreadable."""
    if not text:
        return None
    match = _AGE_STRING.match(str(text))
    if match is None:
        return None
    value, unit = int(match.group(1)), (match.group(2) or "Y").upper()
    return value * _UNIT_DAYS[unit] / 365.25


def _date(text: str | None) -> _dt.date | None:
    t = (text or "").strip()
    if len(t) >= 8 and t[:8].isdigit():
        try:
            return _dt.date(int(t[:4]), int(t[4:6]), int(t[6:8]))
        except ValueError:
            return None
    return None


def header_age(meta: ImageMeta) -> float | None:
    """The patient's age in years at the time of the image, from the header: Patient's Age
    when it is readable, else the Birth Date against the Acquisition or Study Date. None when
    the header does not tell (every non-DICOM image), or tells something impossible (a birth
    after the study, an age over 150)."""
    years = parse_age_string(meta.patient_age)
    if years is None:
        born = _date(meta.patient_birth_date)
        taken = _date(meta.acquisition_date) or _date(meta.study_date)
        if born is None or taken is None or born > taken or born.year < 1850:
            return None
        years = (taken - born).days / 365.25
    return years if 0.0 <= years <= 150.0 else None


def describe_years(years: float) -> str:
    """'3 years', '18 months', '6 weeks', '4 days': the unit a radiologist would use."""
    days = years * 365.25
    if years >= 2:
        return f"{int(years)} years"
    if days >= 60:
        return f"{int(days // (365.25 / 12))} months"
    if days >= 14:
        return f"{int(days // 7)} weeks"
    return f"{int(days)} days"
