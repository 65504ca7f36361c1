"""PDF snapshots, the batch CSV and anonymised exports, read back from the files written."""

from __future__ import annotations

import csv
import io
import json
import stat

import numpy as np
import pypdf
import pypdfium2
import pytest

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import NOTICE, Analyzer
from radiai_core.cli import main
from radiai_core.errors import ExportError
from radiai_core.reading.anonymize import Pseudonymizer, person_name
from radiai_core.reading.io import load_image
from radiai_core.results.history import History
from radiai_core.results.report import write_pdf

from ..conftest import PHI
from ..samples import DICOM, KERMANY_NORMAL, KERMANY_UNSURE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


def pdf_text(path) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(path).pages]


def all_bytes_and_names(folder) -> tuple[str, list[str]]:
    """Everything written under ``folder``: file contents (PDF text extracted) and names."""
    texts, names = [], []
    for p in sorted(folder.rglob("*")):
        names.append(p.name)
        if p.suffix == ".pdf":
            texts += pdf_text(p)
            texts.append(p.read_bytes().decode("latin-1"))  # metadata and raw streams too
        elif p.is_file():
            texts.append(p.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts), names


def test_pdf_holds_the_findings_and_renders(analyzer, tmp_path, phi_dicom) -> None:
    a = analyzer.analyze(phi_dicom)
    refused = analyzer.analyze(DICOM["nometa_mono1"])
    out = write_pdf([a, refused], tmp_path / "snap.pdf")
    pages = pdf_text(out)
    assert len(pages) == 2
    text = pages[0]
    assert person_name(PHI["PatientName"]) in text  # "Jürgen Anton Müller": unicode kept
    assert PHI["PatientID"] in text and "2019-03-14" in text
    for label, p in a.probabilities.items():
        assert a.display_names[label] in text and f"{p:.1%}" in text
    assert f"Call: {a.call}" in text and NOTICE in text
    for m in a.models:
        assert m.name in text and m.version in text and m.sha256 in text
    assert "3 years (from the DICOM header)" in text  # the age, from the header
    assert refused.status == "rejected" and refused.refused_by == "child"
    assert "refused" in pages[1] and refused.message[:30] in pages[1]
    assert "estimated from the image: adult" in pages[1].replace("\n", " ")
    assert "%" not in pages[1].split("Models")[0].split("refused")[1]  # no probability
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    # The page renders, and the overlay is there: the right-hand picture has colour, the
    # left-hand radiograph is grey.
    page = pypdfium2.PdfDocument(str(out))[0]
    rgb = np.asarray(page.render(scale=1.0).to_pil().convert("RGB")).astype(int)
    h, w, _ = rgb.shape
    band = rgb[int(h * 0.3):int(h * 0.65)]
    left, right = band[:, : w // 2], band[:, w // 2:]
    saturation = lambda x: (x.max(axis=2) - x.min(axis=2))  # noqa: E731
    assert saturation(left).mean() < 3
    assert saturation(right).mean() > 8  # the heat map's colour over part of the film


def test_nothing_to_export_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ExportError, match="nothing to export"):
        write_pdf([], tmp_path / "x.pdf")


def test_pseudonyms_are_stable_within_one_export(phi_dicom) -> None:
    meta = load_image(phi_dicom).meta
    other = load_image(DICOM["nih_cardiomegaly"]).meta
    p = Pseudonymizer(enabled=True)
    first, second, again = p.details(meta), p.details(other), p.details(meta)
    assert first.patient == again.patient != second.patient
    assert first.patient.startswith("Patient ") and second.patient.startswith("Patient ")
    assert first.reference == again.reference != second.reference
    assert first.birth_date == first.institution == first.study_uid == ""
    assert not any(s in repr(first) for s in p.phi_strings(meta))


def test_batch_csv_one_row_per_file_with_errors(analyzer, tmp_path, phi_dicom) -> None:
    folder = phi_dicom.parent
    (folder / "notes.txt").write_text("not an image")
    (folder / "empty.dcm").write_bytes(b"")
    (folder / "chest.jpeg").write_bytes(KERMANY_NORMAL.read_bytes())
    out = io.StringIO()
    code = main(["analyze", str(folder), "--csv", str(tmp_path / "t.csv")], out=out)
    assert code == 1  # the empty file could not be analysed (notes.txt is only ignored)
    rows = list(csv.DictReader(open(tmp_path / "t.csv", encoding="utf-8")))
    assert len(rows) == 4
    by_name = {r["path"].rsplit("/", 1)[-1]: r for r in rows}
    assert by_name["notes.txt"]["status"] == "ignored" and "not an image" in \
        by_name["notes.txt"]["message"]
    assert by_name["empty.dcm"]["status"] == "error" and "empty" in by_name["empty.dcm"]["message"]
    dcm = by_name[phi_dicom.name]
    assert dcm["status"] == "ok" and dcm["patient_id"] == PHI["PatientID"]
    assert dcm["age"] == "3 years (from the DICOM header)" and dcm["refused_by"] == ""
    labels = analyzer.models.classifier.labels
    probs = [float(dcm[f"p_{lab}"]) for lab in labels]
    assert abs(sum(probs) - 1) < 1e-4
    assert dcm["call"] in ("pneumonia", "no pneumonia")
    assert "table:" in out.getvalue() and "4 rows" in out.getvalue()
    # Every analysed file is in the history as well.
    with History() as h:
        assert len(h.analyses()) == 2


def test_anonymised_exports_hold_no_phi(analyzer, tmp_path, phi_dicom) -> None:
    (phi_dicom.parent / "Müller_Jürgen_notes.txt").write_text("not an image")
    export = tmp_path / "export"
    export.mkdir()
    out = io.StringIO()
    main(["analyze", str(phi_dicom.parent), str(DICOM["nih_cardiomegaly"]), "--json",
          "--anonymize", "--csv", str(export / "batch.csv"), "--pdf-dir", str(export / "pdf")],
         out=out)
    content, names = all_bytes_and_names(export)
    content += out.getvalue()
    meta = load_image(phi_dicom).meta
    for secret in Pseudonymizer().phi_strings(meta) + ["Müller", "Jürgen", "7340913"]:
        assert secret not in content, secret
        assert not any(secret in n for n in names), secret
    assert len(list((export / "pdf").glob("*.pdf"))) == 2
    assert f"{Pseudonymizer(enabled=True).patient_code(meta)} (pseudonym)" in content  # PDF
    recs = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["status"] for r in recs].count("ignored") == 1
    assert all(r["path"].startswith(("Patient-", "file-")) for r in recs)


def test_the_pdf_of_an_indeterminate_film_says_so_and_gives_the_band(analyzer, tmp_path) -> None:
    a = analyzer.analyze(KERMANY_UNSURE)
    low, high = a.primary.band
    out = write_pdf([a], tmp_path / "unsure.pdf")
    text = " ".join(pdf_text(out)[0].split())
    assert "Call: indeterminate — read without the AI's call" in text
    assert "Indeterminate: lungs only, no heat map" in text
    assert "No positive finding" not in text
    assert (f"score {a.abnormal_score:.3f}: pneumonia at {high:.3f} or more, none below "
            f"{low:.3f}, indeterminate between") in text
