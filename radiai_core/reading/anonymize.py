"""Pseudonyms for exports: patient name, id, birth date and institution never leave anonymised."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RadiAIError
from .age import describe_years, header_age
from .identity import code, image_key, installation_secret
from .image import ImageMeta, iso_date

#: An absolute path in a message (POSIX or Windows), up to the text that follows it: " (".
_ABSOLUTE_PATH = re.compile(r"(?:(?<![\w.])/|\b[A-Za-z]:[\\/])(?:(?! \().)+?(?=\s\(|$)")


def person_name(dicom_name: str | None) -> str:
    """DICOM PN (``FAMILY^GIVEN^MIDDLE^PREFIX^SUFFIX``) → 'Given Middle Family' for display."""
    if not dicom_name:
        return ""
    parts = [p.strip() for p in str(dicom_name).split("=")[0].split("^")]
    parts += [""] * (5 - len(parts))
    family, given, middle, prefix, suffix = parts[:5]
    return " ".join(p for p in (prefix, given, middle, family, suffix) if p)


def no_patient_data(path: str) -> str:
    """What a file without patient data (no name, no Patient ID) is called wherever a patient's
    name would be: 'No patient data in the file (chest.png)', so that it is never taken for
    someone's. English; ``radiai_core.i18n.localized`` gives it in the reader's language.

    Parameters
    ----------
    path : str
        The image's path (POSIX or Windows); only its name is shown.

    Returns
    -------
    str
        The sentence, naming the file.
    """
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return f"No patient data in the file ({name})"


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
        parts[0] = no_patient_data(meta.path)
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


#: Code domains: a patient (by Patient ID), a patient known only by one image (its content),
#: an image, a file that could not be read (by its path).
PATIENT, IMAGE_PATIENT, IMAGE, FILE = "patient", "image-patient", "image", "file"


@dataclass
class Pseudonymizer:
    """Details of images for exports. With ``enabled`` every patient gets a pseudonym,
    'Patient 7F3K2-QX9AB': a keyed hash (HMAC-SHA256 with this installation's secret,
    ``identity.installation_secret``) of the Patient ID, or, for a file without one, of the
    image's content (``identity.image_key``). The same patient has the same pseudonym in every
    export and run on this installation, two patients (almost surely) never share one, and no
    one without the secret can compute it from a patient id. Each image's reference
    ('Patient-7F3K2-QX9AB_image-4D2AE-9KQ1M') names it the same way; ``radiai trace`` finds the
    file and patient behind either on this machine. Name, id, birth date, institution, UIDs,
    study description and source paths are left out.

    ``secret`` overrides the installation's (for tests of a second installation).
    """

    enabled: bool = False
    secret: bytes | None = None
    _keys: dict[str, str] = field(default_factory=dict)

    def _secret(self) -> bytes:
        if self.secret is None:
            self.secret = installation_secret()
        return self.secret

    def _image_key(self, meta: ImageMeta) -> str:
        key = self._keys.get(meta.path)
        if key is None:
            try:
                key = image_key(meta)
            except RadiAIError:  # the file went since it was read: its path still names it
                key = f"path:{Path(meta.path).resolve()}"
            self._keys[meta.path] = key
        return key

    def patient_code(self, meta: ImageMeta) -> str:
        """The code of ``meta``'s patient: of the Patient ID, else of the image's content."""
        if meta.patient_id:
            return code(self._secret(), PATIENT, meta.patient_id)
        return code(self._secret(), IMAGE_PATIENT, self._image_key(meta))

    def pseudonym(self, meta: ImageMeta) -> str:
        """'Patient 7F3K2-QX9AB' for this image's patient: the same in every export on this
        installation, by Patient ID (else by the image's content)."""
        return f"Patient {self.patient_code(meta)}"

    def details(self, meta: ImageMeta) -> Details:
        """What the export may say about ``meta``'s patient and study (pseudonymised when enabled).
        """
        if not self.enabled:
            patient = person_name(meta.patient_name)
            if not patient and not meta.patient_id:  # never a blank that reads as anyone's
                patient = no_patient_data(meta.path)
            return Details(
                patient=patient, patient_id=meta.patient_id or "",
                birth_date=iso_date(meta.patient_birth_date), sex=meta.patient_sex or "",
                institution=meta.institution or "", study_date=iso_date(meta.study_date),
                study_description=meta.study_description or "", study_uid=meta.study_uid or "",
                reference=Path(meta.path).stem)
        patient = self.patient_code(meta)
        image = code(self._secret(), IMAGE, self._image_key(meta))
        return Details(
            patient=f"Patient {patient}", patient_id=patient, birth_date="",
            sex=meta.patient_sex or "", institution="", study_date=iso_date(meta.study_date),
            study_description="",  # free text: it may name the patient or the ward
            study_uid="", reference=f"Patient-{patient}_image-{image}")

    def file_reference(self, path: str | Path) -> str:
        """How a file without readable metadata is named: its path, or (anonymised)
        ``file-<code of its full path>``."""
        if not self.enabled:
            return str(path)
        return f"file-{code(self._secret(), FILE, str(Path(path).resolve()))}"

    def message(self, text: str, path: str | Path) -> str:
        """A file's message as an anonymised export may say it: the file's own path and name
        and any other absolute path in it (a duplicate's original) replaced by file
        references."""
        if not self.enabled:
            return text
        for p in (str(path), Path(path).name):
            text = text.replace(p, self.file_reference(path))
        return _ABSOLUTE_PATH.sub(lambda m: self.file_reference(m.group(0)), text)

    def phi_strings(self, meta: ImageMeta) -> list[str]:
        """The identifying strings of ``meta`` that an anonymised export must not contain."""
        values = [meta.patient_id, meta.patient_birth_date, meta.institution, meta.study_uid,
                  meta.sop_uid, meta.patient_name, person_name(meta.patient_name)]
        values += [p for p in str(meta.patient_name or "").replace("^", " ").split() if len(p) > 2]
        return [v for v in values if v]
