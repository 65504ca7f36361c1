"""Study folders → patients → studies → series → images, from headers only, with skip reasons."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RadiAIError
from .age import header_age
from .dicom_io import check_header, check_modality, damaged_header, dicom_meta, read_dataset
from .io import sniff
from .raster_io import check_size, read_size

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

NO_PATIENT = "(no patient data)"  # plain PNG/JPEG/TIFF/BMP images
#: A patient without (0010,0020) Patient ID: the scan's group of such DICOM files, and the
#: prefix of the key the history files an image without one under (``results.history``).
NO_PATIENT_ID = "(no patient ID)"


@dataclass
class ImageRef:
    """One readable image found in a scan (pixels are not loaded); ``age_years`` is the
    patient's age at the image as its header tells it (None when it does not)."""

    path: str
    format: str
    rows: int
    columns: int
    sop_uid: str | None = None
    instance_number: int | None = None
    modality: str | None = None
    view_position: str | None = None
    age_years: float | None = None


@dataclass
class Series:
    """One series of a study, with its images."""
    uid: str
    description: str | None = None
    modality: str | None = None
    images: list[ImageRef] = field(default_factory=list)


@dataclass
class Study:
    """One study of a patient, with its series."""
    uid: str
    date: str | None = None
    description: str | None = None
    series: list[Series] = field(default_factory=list)


@dataclass
class Patient:
    """One patient of a scan, with their studies."""
    id: str
    name: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    studies: list[Study] = field(default_factory=list)


@dataclass(frozen=True)
class Skipped:
    """A file the scan did not use, with the reason and its error kind."""
    path: str
    reason: str
    kind: str


@dataclass
class ScanResult:
    """A scan's tree of patients, the files it skipped, and whether it was cancelled."""
    patients: list[Patient] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    n_files: int = 0
    cancelled: bool = False

    def images(self) -> list[ImageRef]:
        """Every image of the tree, in tree order."""
        return [im for p in self.patients for st in p.studies for se in st.series
                for im in se.images]


def list_files(paths: Iterable[str | Path], skipped: list[Skipped] | None = None) -> list[Path]:
    """Every file under the given files and folders, recursively, following symbolic links
    but visiting each real folder once (so link loops end). Sorted, without duplicates."""
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    out: list[Path] = []

    def add(p: Path) -> None:
        key = os.path.realpath(p)
        if key not in seen_files:
            seen_files.add(key)
            out.append(p)

    def on_error(err: OSError) -> None:
        if skipped is not None:
            skipped.append(Skipped(str(err.filename), f"folder cannot be read ({err.strerror})",
                                   "unreadable"))

    for root in paths:
        root = Path(root)
        if not root.is_dir():
            if root.exists() or root.is_symlink():
                add(root)
            elif skipped is not None:
                skipped.append(Skipped(str(root), "does not exist (moved or deleted?)",
                                       "unreadable"))
            continue
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True, onerror=on_error):
            try:
                st = os.stat(dirpath)
            except OSError:
                dirnames[:] = []
                continue
            if (st.st_dev, st.st_ino) in seen_dirs:
                dirnames[:] = []
                continue
            seen_dirs.add((st.st_dev, st.st_ino))
            dirnames.sort()
            for name in sorted(filenames):
                add(Path(dirpath) / name)
    return out


def _header(path: Path) -> tuple[ImageRef, dict[str, str | None]]:
    """Read one file's header into an ImageRef and its patient/study/series keys."""
    kind = sniff(path)
    if kind != "dicom":
        fmt, w, h = read_size(path)
        check_size(w, h, path)
        folder = str(path.parent)
        return (ImageRef(str(path), fmt, h, w),
                {"patient_id": NO_PATIENT, "study_uid": folder, "series_uid": folder,
                 "study_description": path.parent.name})
    ds = read_dataset(path, headers_only=True)
    with damaged_header(path):
        check_modality(ds, path)
        m = dicom_meta(ds, path)
        check_header(ds, m, path)
    ref = ImageRef(str(path), "DICOM", m.rows, m.columns, m.sop_uid, m.instance_number,
                   m.modality, m.view_position, header_age(m))
    pid = m.patient_id or (f"{NO_PATIENT_ID} {m.patient_name}" if m.patient_name
                           else NO_PATIENT_ID)
    keys = {"patient_id": pid, "patient_name": m.patient_name,
            "patient_sex": m.patient_sex, "patient_birth_date": m.patient_birth_date,
            "study_uid": m.study_uid or f"(no study UID) {path.parent}",
            "study_date": m.study_date, "study_description": m.study_description,
            "series_uid": m.series_uid or f"(no series UID) {path.parent}",
            "series_description": m.series_description, "modality": m.modality}
    return ref, keys


def scan(paths: str | Path | Iterable[str | Path], progress: Progress | None = None,
         cancel: threading.Event | None = None) -> ScanResult:
    """Scan files and folders (headers only) into a patient → study → series → image tree.

    Every file that is not used is listed in ``skipped`` with its reason: not an image,
    unreadable, not a radiograph, a duplicate SOP Instance UID, a DICOMDIR index, ...
    ``progress(done, total)`` is called as files are read; setting ``cancel`` stops the scan
    between files and returns what was found so far with ``cancelled=True``.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    result = ScanResult()
    files = list_files(paths, result.skipped)
    result.n_files = len(files)
    patients: dict[str, Patient] = {}
    studies: dict[tuple[str, str], Study] = {}
    series: dict[tuple[str, str, str], Series] = {}
    by_sop: dict[str, str] = {}
    for i, path in enumerate(files):
        if cancel is not None and cancel.is_set():
            result.cancelled = True
            break
        try:
            ref, k = _header(path)
        except RadiAIError as exc:
            result.skipped.append(Skipped(str(path), exc.message, exc.kind))
            continue
        except Exception as exc:  # noqa: BLE001 - a bug: logged; one file never stops a scan
            log.exception("unexpected error reading the header of %s", path)
            result.skipped.append(Skipped(
                str(path), f"could not be read (unexpected {type(exc).__name__}; this is a bug "
                "in RadiAI, details in the log)", "bug"))
            continue
        if ref.sop_uid:
            if ref.sop_uid in by_sop:
                result.skipped.append(Skipped(
                    str(path), f"duplicate of {by_sop[ref.sop_uid]} (same SOP Instance UID)",
                    "duplicate"))
                continue
            by_sop[ref.sop_uid] = str(path)
        pid = k["patient_id"] or NO_PATIENT
        patient = patients.get(pid)
        if patient is None:
            patient = patients[pid] = Patient(pid, k.get("patient_name"), k.get("patient_sex"),
                                              k.get("patient_birth_date"))
        skey = (pid, k["study_uid"] or "")
        study = studies.get(skey)
        if study is None:
            study = studies[skey] = Study(k["study_uid"] or "", k.get("study_date"),
                                          k.get("study_description"))
            patient.studies.append(study)
        sekey = (*skey, k["series_uid"] or "")
        se = series.get(sekey)
        if se is None:
            se = series[sekey] = Series(k["series_uid"] or "", k.get("series_description"),
                                        k.get("modality"))
            study.series.append(se)
        se.images.append(ref)
        if progress is not None:
            progress(i + 1, len(files))
    for se in series.values():
        se.images.sort(key=lambda r: (r.instance_number is None, r.instance_number or 0, r.path))
    for st in studies.values():
        st.series.sort(key=lambda s: s.uid)
    for p in patients.values():
        p.studies.sort(key=lambda s: (s.date or "", s.uid))
    # plain images (no patient) last
    result.patients = sorted(patients.values(), key=lambda p: (p.id == NO_PATIENT, p.id))
    log.info("scanned %d files: %d images, %d skipped%s", result.n_files,
             len(result.images()), len(result.skipped), " (cancelled)" if result.cancelled else "")
    return result
