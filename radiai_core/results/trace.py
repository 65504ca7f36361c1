"""From a pseudonym back to the patient and files behind it, on the installation that made it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..reading.anonymize import FILE, IMAGE, IMAGE_PATIENT, PATIENT
from ..reading.identity import code, file_sha256, installation_secret, normalize_code
from ..reading.studies import NO_PATIENT_ID
from .history import History

log = logging.getLogger(__name__)

#: A code as it appears in exports ("7F3K2-QX9AB"), or typed without the dash.
_CODE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{5}-?[0-9A-Za-z]{5}(?![0-9A-Za-z])")


@dataclass
class TraceHit:
    """What a code names: a patient, an image or a file, with where it was seen."""

    code: str
    what: str  # "patient", "image" or "file"
    patient_code: str
    patient_id: str = ""  # as the history files it ('' for a file found in a folder)
    patient_name: str = ""
    paths: list[str] = field(default_factory=list)
    analysed_at: str = ""


def codes_in(text: str) -> list[str]:
    """The codes in ``text``: a pseudonym ('Patient 7F3K2-QX9AB'), an image reference
    ('Patient-7F3K2-QX9AB_image-4D2AE-9KQ1M'), a file reference, or a code alone."""
    words = re.sub(r"(?i)patient|image|file", " ", text)  # "image-4D2AE" is no code
    found = [normalize_code(m.group(0)) for m in _CODE.finditer(words)]
    return [c for c in dict.fromkeys(found) if c]


def _codes_of(secret: bytes, key: str, patient_id: str) -> tuple[str, str]:
    """(patient code, image code) of an image as the pseudonymizer makes them."""
    if patient_id and not patient_id.startswith(NO_PATIENT_ID):
        patient = code(secret, PATIENT, patient_id)
    else:
        patient = code(secret, IMAGE_PATIENT, key)
    return patient, code(secret, IMAGE, key)


def _header(path: Path) -> tuple[str, str]:
    """(image key, Patient ID) of a file found in a folder, from its header or bytes."""
    import pydicom

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True,
                             specific_tags=["SOPInstanceUID", "PatientID"])
        sop, pid = str(ds.get("SOPInstanceUID", "") or ""), str(ds.get("PatientID", "") or "")
    except Exception:  # noqa: BLE001 - not a DICOM (or a damaged one): its bytes name it
        sop, pid = "", ""
    return (f"sop:{sop}" if sop else f"sha256:{file_sha256(path)}"), pid


def trace(text: str, history_path: str | Path | None = None,
          folders: Iterable[str | Path] = (), secret: bytes | None = None) -> list[TraceHit]:
    """Who and what the codes in ``text`` name: every image of the history (and of
    ``folders``, walked) whose patient, image or file code is one of them. An image or file
    reference names its image; a pseudonym alone names all of the patient's images.

    Parameters
    ----------
    text
        A pseudonym, reference or code as an export wrote it.
    history_path
        The history database (default: the user's).
    folders
        Folders to search as well, for files an export named but the history never stored
        (unreadable files, runs with ``--no-history``).
    secret
        The installation's key (default: this installation's).

    Returns
    -------
    list of TraceHit
        Image and file matches first; empty when nothing here has one of the codes.

    Raises
    ------
    HistoryError
        The history cannot be read.
    FileAccessError
        A file in ``folders`` cannot be read to identify it.
    """
    wanted = set(codes_in(text))
    if not wanted:
        return []
    secret = secret or installation_secret()
    specific: list[TraceHit] = []
    patients: list[TraceHit] = []
    seen: set[str] = set()
    with History(history_path) as h:
        images = h.images()
    for key, pid, name, paths, when in images:
        patient, image = _codes_of(secret, key, pid)
        files = [code(secret, FILE, p) for p in paths]
        shown_id = "" if pid.startswith(NO_PATIENT_ID) else pid
        hit = TraceHit("", "", patient, shown_id, name, paths, when)
        if image in wanted or wanted & set(files):
            hit.code = image if image in wanted else next(c for c in files if c in wanted)
            hit.what = "image" if image in wanted else "file"
            specific.append(hit)
            seen.update(paths)
        elif patient in wanted:
            hit.code, hit.what = patient, "patient"
            patients.append(hit)
    for folder in folders:
        for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
            resolved = str(path.resolve())
            if resolved in seen:
                continue
            file_code = code(secret, FILE, resolved)
            if file_code in wanted:
                specific.append(TraceHit(file_code, "file", "", paths=[resolved]))
                continue
            key, pid = _header(path)
            patient, image = _codes_of(secret, key, pid)
            if image in wanted or patient in wanted:
                hit = TraceHit(image if image in wanted else patient,
                               "image" if image in wanted else "patient", patient, pid,
                               paths=[resolved])
                (specific if image in wanted else patients).append(hit)
    return specific if specific else patients
