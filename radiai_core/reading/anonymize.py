"""Pseudonyms for exports: patient name, id, birth date and institution never leave anonymised."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .age import describe_years, header_age
from .image import ImageMeta, iso_date


def person_name(dicom_name: str | None) -> str:
    """DICOM PN (``FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX``) → 'Given Middle Family' for display."""
    if not dicom_name:
        return ""
    parts = [p.strip() for p in str(dicom_name).split("=")[0].split("^")]
    parts += [""] * (5 - len(parts))
    family, given, middle, prefix, suffix = parts[:5]
    return " ".join(p for p in (prefix, given, middle, family, suffix) if p)


def patient_line(meta: ImageMeta) -> str:
    """Who and when, in one line for the findings panel and the image's corner (the patient
    always in view): 'Jürgen Anton Müller · ID PID-7 · 3 years · M · study 2022-05-10'. A file
    without patient data says so, with its name, so that it is never taken for someone's."""
    parts = [person_name(meta.patient_name)]
    if meta.patient_id:
        parts.append(f"ID {meta.patient_id}")
    years = header_age(meta)
    parts.append(describe_years(years) if years is not None else "age unknown")
    if meta.patient_sex:
        parts.append(meta.patient_sex)
    if meta.study_date:
        parts.append(f"study {iso_date(meta.study_date)}")
    if not meta.patient_name and not meta.patient_id:
        parts[0] = f"No patient data in the file ({Path(meta.path).name})"
    return " · ".join(p for p in parts if p)


@dataclass
class Details:
    """What an export may say about an image's patient and study."""

    patient: str  # the display name, or the pseudonym when anonymised
    patient_id: str
    birth_date: str
    sex: str
    institution: str
    study_date: str
    study_description: str
    study_uid: str
    reference: str  # a name for the image in file names and tables


@dataclass
class Pseudonymizer:
    """Details of images for one export. With ``enabled`` every patient gets a pseudonym
    ('Patient 001', …) that is stable within this export (the same patient id or name gets the
    same pseudonym); name, id, birth date, institution, UIDs and source paths are left out."""

    enabled: bool = False
    _patients: dict[str, str] = field(default_factory=dict)
    _images: dict[str, int] = field(default_factory=dict)

    def pseudonym(self, meta: ImageMeta) -> str:
        """'Patient 001', … for this image's patient: stable within this export, by patient id or
        name."""
        key = meta.patient_id or meta.patient_name or ""
        if not key:
            return "Unidentified"
        if key not in self._patients:
            self._patients[key] = f"Patient {len(self._patients) + 1:03d}"
        return self._patients[key]

    def details(self, meta: ImageMeta) -> Details:
        """What the export may say about ``meta``'s patient and study (pseudonymised when enabled).
        """
        if not self.enabled:
            return Details(
                patient=person_name(meta.patient_name), patient_id=meta.patient_id or "",
                birth_date=iso_date(meta.patient_birth_date), sex=meta.patient_sex or "",
                institution=meta.institution or "", study_date=iso_date(meta.study_date),
                study_description=meta.study_description or "", study_uid=meta.study_uid or "",
                reference=Path(meta.path).stem)
        pseudonym = self.pseudonym(meta)
        n = self._images.setdefault(meta.path, len(self._images) + 1)
        return Details(
            patient=pseudonym, patient_id=pseudonym, birth_date="", sex=meta.patient_sex or "",
            institution="", study_date=iso_date(meta.study_date),
            study_description=meta.study_description or "", study_uid="",
            reference=f"{pseudonym.replace(' ', '-')}_image-{n:04d}")

    def file_reference(self, path: str | Path) -> str:
        """How a file without readable metadata is named: its path, or ``file-0007``."""
        if not self.enabled:
            return str(path)
        n = self._images.setdefault(str(path), len(self._images) + 1)
        return f"file-{n:04d}"

    def phi_strings(self, meta: ImageMeta) -> list[str]:
        """The identifying strings of ``meta`` that an anonymised export must not contain."""
        values = [meta.patient_id, meta.patient_birth_date, meta.institution, meta.study_uid,
                  meta.sop_uid, meta.patient_name, person_name(meta.patient_name)]
        values += [p for p in str(meta.patient_name or "").replace("^", " ").split() if len(p) > 2]
        return [v for v in values if v]
