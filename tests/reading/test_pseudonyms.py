"""Pseudonyms: one per patient, the same in every export and run on one installation, traceable
back on that installation only; anonymised exports leave out free text and source paths."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat

import pypdf
import pytest

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.cli import main
from radiai_core.reading.anonymize import Pseudonymizer
from radiai_core.reading.identity import SECRET_FILE, installation_secret
from radiai_core.reading.io import load_image
from radiai_core.reading.studies import scan
from radiai_core.results.batch import BatchItem, CsvTable
from radiai_core.results.report import write_pdf

from ..conftest import PHI
from ..samples import DICOM, KERMANY_BACTERIAL, KERMANY_NORMAL

pytestmark = pytest.mark.slow
PSEUDONYM = re.compile(r"^Patient [0-9A-Z]{5}-[0-9A-Z]{5}$")


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


def test_one_pseudonym_per_patient_the_same_in_every_export(phi_dicom, private_data_dir):
    """Two patients never share a pseudonym; the same patient has the same one in a second
    export (a new Pseudonymizer, as a new run makes), and another installation (another key)
    gives another one. The key is made once, user-only."""
    child, adult = load_image(phi_dicom).meta, load_image(DICOM["nih_cardiomegaly"]).meta
    first, second = Pseudonymizer(enabled=True), Pseudonymizer(enabled=True)
    assert PSEUDONYM.match(first.pseudonym(child)) and PSEUDONYM.match(first.pseudonym(adult))
    assert first.pseudonym(child) != first.pseudonym(adult)
    # Another export, the other patient first: each keeps its pseudonym (no counter).
    assert second.pseudonym(adult) == first.pseudonym(adult)
    assert second.pseudonym(child) == first.pseudonym(child)
    assert second.details(child).reference == first.details(child).reference
    elsewhere = Pseudonymizer(enabled=True, secret=os.urandom(32))
    assert elsewhere.pseudonym(child) != first.pseudonym(child)
    key = private_data_dir / SECRET_FILE
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and len(key.read_bytes()) == 32
    assert installation_secret() == key.read_bytes()
    d = first.details(child)
    assert d.patient_id == d.patient.removeprefix("Patient ") and PHI["PatientID"] not in d.patient


def test_files_without_patient_data_get_a_pseudonym_from_their_content(tmp_path):
    """JPEGs were all 'Unidentified': each image now has its own pseudonym from its content,
    so a byte-identical copy under another name is the same one and another image is not."""
    copy = tmp_path / "renamed copy.jpeg"
    copy.write_bytes(KERMANY_NORMAL.read_bytes())
    p = Pseudonymizer(enabled=True)
    normal, same, other = (load_image(x).meta for x in (KERMANY_NORMAL, copy, KERMANY_BACTERIAL))
    assert PSEUDONYM.match(p.pseudonym(normal)) and "Unidentified" not in p.pseudonym(normal)
    assert p.pseudonym(same) == p.pseudonym(normal) != p.pseudonym(other)
    assert p.details(same).reference == p.details(normal).reference
    assert p.details(other).reference != p.details(normal).reference


def test_anonymised_exports_leave_out_the_study_description(analyzer, phi_dicom, tmp_path):
    """Free text ("Thorax pa for Jürgen, ward 3") may name the patient: an anonymised PDF
    leaves it out, a plain one keeps it."""
    a = analyzer.analyze(phi_dicom)
    a.image.meta.study_description = "Thorax pa for Juergen Mueller, ward 3"
    plain = pypdf.PdfReader(write_pdf([a], tmp_path / "plain.pdf")).pages[0].extract_text()
    assert "Thorax pa for Juergen Mueller, ward 3" in plain
    anonymised = pypdf.PdfReader(write_pdf([a], tmp_path / "anon.pdf", Pseudonymizer(
        enabled=True))).pages[0].extract_text()
    assert "Juergen" not in anonymised and "ward 3" not in anonymised


def test_anonymised_runs_can_be_traced_back_here(analyzer, tmp_path, phi_dicom, capsys):
    """``analyze --anonymize`` twice: the same references both times (rows, PDF names), no
    patient data or file name in them, and ``radiai trace`` finds the file and patient behind
    each reference, the unreadable file's too."""
    folder = phi_dicom.parent
    (folder / "scan-1.jpeg").write_bytes(KERMANY_NORMAL.read_bytes())
    (folder / "scan-2.jpeg").write_bytes(KERMANY_BACTERIAL.read_bytes())
    (folder / "broken.dcm").write_bytes(b"")
    runs = []
    for run in ("a", "b"):
        out = io.StringIO()
        main(["analyze", str(folder), "--json", "--anonymize", "--csv",
              str(tmp_path / f"{run}.csv"), "--pdf-dir", str(tmp_path / f"pdf-{run}")], out=out)
        records = [json.loads(line) for line in out.getvalue().splitlines()]
        runs.append(records)
        text = out.getvalue() + (tmp_path / f"{run}.csv").read_text(encoding="utf-8")
        for secret in ("Müller", "Jürgen", PHI["PatientID"], "scan-1", "scan-2", "broken",
                       str(folder)):
            assert secret not in text, secret
        names = sorted(p.stem for p in (tmp_path / f"pdf-{run}").glob("*.pdf"))
        assert names == sorted(r["path"] for r in records if r["status"] == "ok")
    assert [r["path"] for r in runs[0]] == [r["path"] for r in runs[1]]
    by_status = {r["status"]: r for r in runs[0]}
    refs = [r["path"] for r in runs[0]]
    assert len(set(refs)) == 4 and all(re.match(r"^(Patient-|file-)", r) for r in refs)
    assert "Unidentified" not in json.dumps(runs[0])

    def trace(*args: str) -> str:
        capsys.readouterr()
        out = io.StringIO()
        code = main(["trace", *args], out=out)
        return f"{code}\n{out.getvalue()}"

    sources = {x.name for x in folder.iterdir()}
    for r in (r for r in runs[0] if r["status"] == "ok"):
        answer = trace(r["path"])
        assert answer.startswith("0\nimage "), answer
        assert sum(name in answer for name in sources) == 1, answer  # its file, no other
    pseudonym = Pseudonymizer(enabled=True).pseudonym(load_image(phi_dicom).meta)
    answer = trace(pseudonym)
    assert answer.startswith("0\npatient ") and "patient ID PID-7340913" in answer
    assert "Müller_Jürgen.dcm" in answer and "scan-1" not in answer
    broken = by_status["error"]["path"]
    assert trace(broken).startswith("1\n")  # never stored in the history: not found there
    answer = trace(broken, "--in", str(folder))
    assert answer.startswith("0\nfile ") and "broken.dcm" in answer
    assert trace("Patient 00000-00000").startswith("1\nnothing on this computer")


def test_an_anonymised_csv_names_no_source_path_for_a_duplicate(tmp_path, phi_dicom):
    """The viewer's CSV of a folder with a duplicate (same SOP Instance UID) said
    'duplicate of <full source path>': anonymised, the original is a file reference."""
    twin = phi_dicom.parent / "Müller_Jürgen_again.dcm"
    twin.write_bytes(phi_dicom.read_bytes())
    result = scan([phi_dicom.parent])
    (dup,) = [s for s in result.skipped if s.kind == "duplicate"]
    assert str(phi_dicom.parent) in dup.reason  # what the scan says, on screen
    out = tmp_path / "table.csv"
    with CsvTable(out, [("classifier", ["normal"])], Pseudonymizer(enabled=True)) as table:
        row = table.add(BatchItem(dup.path, error=dup.reason, kind=dup.kind))
    text = out.read_text(encoding="utf-8")
    assert "Müller" not in text and "PID-7340913" not in text and str(tmp_path) not in text
    assert re.fullmatch(r"duplicate of file-[0-9A-Z]{5}-[0-9A-Z]{5} \(same SOP Instance UID\)",
                        row["message"]), row["message"]
    (written,) = list(csv.DictReader(open(out, encoding="utf-8")))
    assert written["path"].startswith("file-")


def test_a_pdf_without_patient_data_says_so_in_its_patient_field(analyzer, tmp_path):
    a = analyzer.analyze(KERMANY_NORMAL)
    text = pypdf.PdfReader(write_pdf([a], tmp_path / "p.pdf")).pages[0].extract_text()
    assert f"Patient\nNo patient data in the file ({KERMANY_NORMAL.name})" in text
    korean = write_pdf([a], tmp_path / "p-ko.pdf", lang="ko")
    assert f"환자\n파일에 환자 정보 없음 ({KERMANY_NORMAL.name})" in (
        pypdf.PdfReader(korean).pages[0].extract_text())
    anonymised = write_pdf([a], tmp_path / "anon.pdf", Pseudonymizer(enabled=True))
    text = pypdf.PdfReader(anonymised).pages[0].extract_text()
    code = Pseudonymizer(enabled=True).patient_code(a.image.meta)
    # The pseudonym's code, once, said to be one: never "Patient Patient 7F3K2-QX9AB" over a
    # Patient ID row with the same code again.
    assert f"Patient\n{code} (pseudonym)" in text
    assert "Patient\nPatient" not in text and "Patient ID" not in text
    assert KERMANY_NORMAL.stem not in text
    korean = write_pdf([a], tmp_path / "anon-ko.pdf", Pseudonymizer(enabled=True), lang="ko")
    text = pypdf.PdfReader(korean).pages[0].extract_text()
    assert f"환자\n{code} (가명)" in text and "Patient " not in text and "환자 ID" not in text
