"""Study folder scanning: tree, de-duplication, skip reasons, links, DICOMDIR, cancel."""

from __future__ import annotations

import copy
import os
import shutil
import threading

import pydicom
import pytest
from pydicom.fileset import FileSet

from radiai_core.reading.studies import NO_PATIENT, scan

from ..samples import DICOM, KERMANY_NORMAL


@pytest.fixture
def study_folder(tmp_path):
    root = tmp_path / "incoming"
    (root / "a" / "b").mkdir(parents=True)
    shutil.copy(DICOM["j2k_mono1"], root / "a" / "IM0001")  # DICOM without extension
    shutil.copy(DICOM["j2k_mono1"], root / "a" / "b" / "copy.dcm")  # same SOP UID
    shutil.copy(DICOM["nih_cardiomegaly"], root / "nih.dcm")
    shutil.copy(DICOM["nometa_mono1"], root / "a" / "b" / "nometa")
    shutil.copy(KERMANY_NORMAL, root / "kid.jpeg")
    (root / "readme.txt").write_text("not an image")
    (root / "empty.dcm").write_bytes(b"")
    ct = pydicom.dcmread(DICOM["nih_nofinding"])
    ct.Modality = "CT"
    ct.save_as(root / "ct.dcm")
    os.symlink(root, root / "a" / "loop")  # a link back to the top: must not recurse forever
    return root


def test_tree_and_skip_reasons(study_folder) -> None:
    r = scan(study_folder)
    assert not r.cancelled
    by_id = {p.id: p for p in r.patients}
    assert set(by_id) == {"9RG1", "1", "(no patient ID) Anonymized", NO_PATIENT}
    rg1 = by_id["9RG1"]
    assert rg1.name == "CompressedSamples^RG1" and rg1.sex == "F"
    assert [s.date for s in rg1.studies] == ["20040826"]
    assert len(rg1.studies[0].series) == 1 and len(rg1.studies[0].series[0].images) == 1
    assert by_id[NO_PATIENT].studies[0].series[0].images[0].format == "JPEG"
    assert r.patients[-1].id == NO_PATIENT
    assert len(r.images()) == 4
    reasons = {os.path.basename(s.path): s for s in r.skipped}
    assert set(reasons) == {"copy.dcm", "readme.txt", "empty.dcm", "ct.dcm"}
    assert reasons["copy.dcm"].kind == "duplicate"
    assert "IM0001" in reasons["copy.dcm"].reason
    assert "SOP Instance UID" in reasons["copy.dcm"].reason
    assert reasons["readme.txt"].reason == "is not an image (a .txt file); ignored."
    assert reasons["readme.txt"].kind == "ignored"
    assert reasons["empty.dcm"].kind == "empty"
    assert "CT (computed tomography)" in reasons["ct.dcm"].reason
    # Every file is accounted for: used or skipped with a reason.
    assert len(r.images()) + len(r.skipped) == r.n_files == 8


def test_dicomdir_tolerated(tmp_path) -> None:
    fs = FileSet()
    for key in ("nih_cardiomegaly", "nih_nofinding"):
        ds = pydicom.dcmread(DICOM[key])
        ds.StudyDate, ds.StudyTime, ds.StudyID = "20170101", "120000", "1"
        ds.SeriesNumber, ds.InstanceNumber = 1, 1
        fs.add(ds)
    fs.write(tmp_path / "media")
    r = scan(tmp_path / "media")
    assert sorted(p.id for p in r.patients) == ["1", "Covid0000"]
    assert len(r.images()) == 2
    [skipped] = r.skipped
    assert skipped.path.endswith("DICOMDIR") and "index of a DICOM folder" in skipped.reason


def test_progress_and_cancel(study_folder) -> None:
    calls = []
    scan(study_folder, progress=lambda done, total: calls.append((done, total)))
    assert calls and calls[-1][1] == 8 and [c[0] for c in calls] == sorted(c[0] for c in calls)

    cancel = threading.Event()

    def stop_after_first(done, total):
        cancel.set()

    r = scan(study_folder, progress=stop_after_first, cancel=cancel)
    assert r.cancelled and len(r.images()) == 1


def test_missing_path_is_reported(tmp_path) -> None:
    r = scan([tmp_path / "gone"])
    assert r.n_files == 0 and r.skipped[0].reason.startswith("does not exist")


def test_headers_only(study_folder, monkeypatch) -> None:
    """Scanning must never decode pixel data."""
    def boom(*a, **k):
        raise AssertionError("pixel data decoded during a scan")

    monkeypatch.setattr(pydicom.dataset.Dataset, "pixel_array", property(boom))
    assert len(scan(copy.deepcopy(study_folder)).images()) == 4
