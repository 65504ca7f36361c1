"""The patient's age from DICOM headers: Age Strings, birth and study dates, and real files."""

from __future__ import annotations

import pytest

from radiai_core.reading.age import describe_years, header_age, parse_age_string
from radiai_core.reading.image import ImageMeta
from radiai_core.reading.io import load_image

from ..samples import DICOM, KERMANY_NORMAL


@pytest.mark.parametrize(("text", "years"), [
    ("004Y", 4.0), ("062Y", 62.0), ("018M", 1.5), ("052W", 52 * 7 / 365.25),
    ("010D", 10 / 365.25), ("62", 62.0), (" 3y ", 3.0), ("", None), (None, None),
    ("abc", None), ("12Q", None), ("1234Y", None)])
def test_age_strings(text, years) -> None:
    got = parse_age_string(text)
    assert got == (pytest.approx(years) if years is not None else None)


def _meta(**kw) -> ImageMeta:
    return ImageMeta(path="x.dcm", format="DICOM", rows=1, columns=1, **kw)


def test_birth_date_against_acquisition_then_study_date() -> None:
    assert header_age(_meta(patient_birth_date="20200301", study_date="20230301")) == \
        pytest.approx(3.0, abs=0.01)
    # The acquisition date, when present, dates the image.
    assert header_age(_meta(patient_birth_date="20200301", study_date="20230301",
                            acquisition_date="20250301")) == pytest.approx(5.0, abs=0.01)
    # Patient's Age wins over the dates.
    assert header_age(_meta(patient_age="007Y", patient_birth_date="20200301",
                            study_date="20230301")) == 7.0


@pytest.mark.parametrize("kw", [
    {}, {"patient_birth_date": "20200301"}, {"study_date": "20230301"},
    {"patient_birth_date": "20250301", "study_date": "20230301"},  # born after the study
    {"patient_birth_date": "19010101", "study_date": "19010101", "patient_age": "999Y"},
    {"patient_birth_date": "2020-03-01", "study_date": "garbage"},
    {"patient_birth_date": "20201301", "study_date": "20230301"}])  # month 13
def test_no_age_when_the_header_does_not_tell(kw) -> None:
    assert header_age(_meta(**kw)) is None


def test_real_headers() -> None:
    """The sample DICOMs: NIH files store a bare number, the WG04 file a birth date and a
    study date, the fo-dicom file nothing; a JPEG has no header."""
    assert header_age(load_image(DICOM["jpeg_baseline"]).meta) == 62.0
    assert header_age(load_image(DICOM["nih_nofinding"]).meta) == 81.0
    assert header_age(load_image(DICOM["nih_cardiomegaly"]).meta) == 58.0
    assert header_age(load_image(DICOM["j2k_mono1"]).meta) == pytest.approx(64.5, abs=0.1)
    assert header_age(load_image(DICOM["nometa_mono1"]).meta) is None
    assert header_age(load_image(KERMANY_NORMAL).meta) is None


@pytest.mark.parametrize(("years", "text"), [(62.0, "62 years"), (2.0, "2 years"),
                                             (1.5, "18 months"), (0.25, "3 months"),
                                             (21 / 365.25, "3 weeks"), (5 / 365.25, "5 days")])
def test_ages_in_the_unit_a_reader_uses(years, text) -> None:
    assert describe_years(years) == text
