"""History and exports from the window, as a reader would use them: analyse, restart, find the
patient, record verdicts, reopen, export PDF / PNG / CSV (anonymised too), delete."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pypdf
import pytest
from PyQt5.QtGui import QImage
from PyQt5.QtWidgets import QMessageBox

from radiai_core.reading.anonymize import Pseudonymizer, person_name
from radiai_core.reading.io import load_image
from radiai_core.results.history import History

from ..conftest import PHI
from ..samples import DICOM, KERMANY_DIR
from .test_main_window import wait_analysed


@pytest.fixture
def study(phi_dicom):
    """A folder: the identifiable DICOM, a second real DICOM, a plain image and a text file."""
    folder = phi_dicom.parent
    shutil.copy(DICOM["nih_cardiomegaly"], folder / "second.dcm")
    shutil.copy(sorted((KERMANY_DIR / "images").glob("*.jpeg"))[0], folder / "plain.jpeg")
    (folder / "notes.txt").write_text("not an image")
    return folder


def analyse_all(qtbot, w, folder) -> None:
    w.open_paths([folder])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 3, timeout=10000)
    wait_analysed(qtbot, w)
    w.analyse_all()
    qtbot.waitUntil(lambda: w.batch_worker is None, timeout=20000)


def test_history_survives_a_restart_and_records_verdicts(qtbot, make_window, study,
                                                         monkeypatch) -> None:
    w = make_window()
    analyse_all(qtbot, w, study)
    w.close()
    with History() as h:
        assert len(h.analyses()) == 3  # viewing + batch did not duplicate anything
    w2 = make_window()  # "restart": a new window on the same data folder
    panel = w2.history_panel  # the list is read in a worker: wait for it
    qtbot.waitUntil(lambda: person_name(PHI["PatientName"]) in panel.patient_titles(),
                    timeout=5000)
    panel.search.setText("müller")
    qtbot.waitUntil(lambda: panel.patient_titles() == [person_name(PHI["PatientName"])],
                    timeout=5000)
    (item,) = panel.analysis_items()
    panel.tree.setCurrentItem(item)
    assert panel.entry is not None and panel.entry.patient_id == PHI["PatientID"]
    (label,) = panel.verdict_rows  # one verdict: on the call
    assert label == "@call"
    combo, note = panel.verdict_rows[label]
    combo.setCurrentIndex(2)  # disagree
    note.setText("reviewed: no consolidation")
    panel.save_button.click()
    with History() as h:
        assert h.entry(panel.entry.id).verdicts[label] == ("disagree",
                                                           "reviewed: no consolidation")
    # Reopen: the image and its stored overlays come back in the viewer.
    panel.reopen_button.click()
    qtbot.waitUntil(lambda: w2.current_analysis is not None, timeout=10000)
    assert w2.viewer.image is w2.current_analysis.image
    assert w2.current_analysis.path.endswith(".dcm")
    assert w2.current_analysis.heatmap is not None
    assert w2.findings.bars != {}
    # Delete the patient after confirming: gone from the database and from the list.
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    panel.delete_patient_button.click()
    qtbot.waitUntil(lambda: panel.patient_titles() == [], timeout=5000)
    with History() as h:
        assert [e.patient_id for e in h.analyses()].count(PHI["PatientID"]) == 0
        assert len(h.analyses()) == 2


def test_declined_confirmation_deletes_nothing(qtbot, make_window, study, monkeypatch) -> None:
    w = make_window()
    analyse_all(qtbot, w, study)
    panel = w.history_panel
    # Behind the Studies tab the list is not rebuilt during the batch; it is when shown.
    qtbot.wait(1200)
    assert len(panel.analysis_items()) < 3
    w.show_history()
    qtbot.waitUntil(lambda: len(panel.analysis_items()) == 3, timeout=5000)
    panel.tree.setCurrentItem(panel.analysis_items()[0])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.No)
    panel.delete_analysis_button.click()
    panel.delete_patient_button.click()
    with History() as h:
        assert len(h.analyses()) == 3


def test_pdf_and_png_of_the_current_view(qtbot, make_window, phi_dicom, tmp_path) -> None:
    w = make_window()
    w.open_paths([phi_dicom])
    wait_analysed(qtbot, w, phi_dicom)
    pdf = tmp_path / "out" / "snap.pdf"
    pdf.parent.mkdir()
    w.exports.export_pdf(str(pdf))
    qtbot.waitUntil(lambda: pdf.exists(), timeout=10000)
    text = pypdf.PdfReader(pdf).pages[0].extract_text()
    a = w.current_analysis
    assert PHI["PatientID"] in text and f"Call: {a.call}" in text
    for p in a.probabilities.values():
        assert f"{p:.1%}" in text
    png = tmp_path / "out" / "view.png"
    assert w.exports.export_png(str(png))
    # The PNG is the PDF's picture of the view (one renderer): the whole image in the
    # viewer's window, with the overlays shown, and no patient text drawn on it.
    from radiai_core.results.snapshot import render

    img = QImage(str(png))
    _, over = render(a, w.viewer.window, max_side=2048)
    assert (img.height(), img.width()) == over.shape[:2] == a.image.shape
    rgb = np.array([[img.pixelColor(x, y).getRgb()[:3] for x in range(0, img.width(), 8)]
                    for y in range(0, img.height(), 8)])
    assert np.array_equal(rgb, over[::8, ::8])
    assert (rgb.max(axis=2) - rgb.min(axis=2)).max() > 60  # the coloured heat map is in it
    assert png.stat().st_mode & 0o777 == 0o600
    w.heat_box.setChecked(False)  # what is hidden in the view is left out of the PNG
    assert w.exports.export_png(str(png))
    img = QImage(str(png))
    plain = np.array([[img.pixelColor(x, y).getRgb()[:3] for x in range(0, img.width(), 8)]
                      for y in range(0, img.height(), 8)])
    _, no_heat = render(a, w.viewer.window, heat=False, max_side=2048)
    assert np.array_equal(plain, no_heat[::8, ::8]) and not np.array_equal(plain, rgb)


def test_anonymised_pdf_name_and_content(qtbot, make_window, phi_dicom, tmp_path) -> None:
    w = make_window()
    w.anonymize_action.setChecked(True)
    w.open_paths([phi_dicom])
    wait_analysed(qtbot, w, phi_dicom)
    # Not next to the source: its folder names the patient.
    suggested = w.exports.suggested_name(".pdf")
    assert "Müller" not in suggested and PHI["PatientID"] not in suggested
    out = tmp_path / "anon"
    out.mkdir()
    pdf = out / suggested.rsplit("/", 1)[-1]
    w.exports.export_pdf(str(pdf))
    qtbot.waitUntil(lambda: pdf.exists(), timeout=10000)
    text = pypdf.PdfReader(pdf).pages[0].extract_text()
    for secret in Pseudonymizer().phi_strings(load_image(phi_dicom).meta):
        assert secret not in text, secret
    # The patient's pseudonym (the same in every export here) names the page, its code once
    # in the Patient field, and the file.
    pseudonyms = Pseudonymizer(enabled=True)
    pseudonym = pseudonyms.pseudonym(load_image(phi_dicom).meta)
    assert f"Patient\n{pseudonyms.patient_code(load_image(phi_dicom).meta)} (pseudonym)" in text
    assert pdf.name.startswith(pseudonym.replace(" ", "-") + "_image-")


def test_csv_from_the_app_one_row_per_file(qtbot, make_window, study, tmp_path) -> None:
    w = make_window()
    w.anonymize_action.setChecked(True)
    w.open_paths([study])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 3, timeout=10000)
    # The first image's own analysis ends first: its status line would replace the export's.
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=10000)
    out = tmp_path / "table.csv"
    w.exports.export_csv(str(out))
    qtbot.waitUntil(lambda: w.exports.csv_worker is None, timeout=20000)
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert len(rows) == 4  # three images and the text file
    assert sorted(r["status"] for r in rows) == ["ignored", "ok", "ok", "ok"]
    content = out.read_text(encoding="utf-8")
    assert "Müller" not in content and PHI["PatientID"] not in content
    assert "written" in w.status_text.text()


def test_csv_export_goes_on_when_the_history_cannot_store(qtbot, make_window, study, tmp_path,
                                                          monkeypatch) -> None:
    """A history that fails mid-export (a full disk, say) costs the history, not the table."""
    from radiai_core.errors import HistoryError

    def full_disk(self, analysis):
        raise HistoryError(f"could not store the analysis of {analysis.path} "
                           "(database or disk is full).", self.path)

    w = make_window()
    w.open_paths([study])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 3, timeout=10000)
    wait_analysed(qtbot, w)
    monkeypatch.setattr(History, "record", full_disk)
    out = tmp_path / "table.csv"
    w.exports.export_csv(str(out))
    qtbot.waitUntil(lambda: w.exports.csv_worker is None, timeout=20000)
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert sorted(r["status"] for r in rows) == ["ignored", "ok", "ok", "ok"]
    assert all(r["p_normal"] for r in rows if r["status"] == "ok")
    status = w.status_text.text()
    assert "4 row(s) written" in status
    assert "Not stored in the history" in status and "database or disk is full" in status


def test_a_damaged_history_is_moved_aside_and_the_app_starts(qtbot, make_window,
                                                             private_data_dir, study) -> None:
    damaged = private_data_dir / "history.sqlite"
    damaged.write_bytes(b"\x00garbage, not a database\x00" * 500)
    w = make_window()
    assert "damaged" in w.status_text.text() and "moved to" in w.status_text.text()
    assert list(private_data_dir.glob("history.sqlite.damaged-*"))
    analyse_all(qtbot, w, study)  # and the fresh history works
    w.show_history()
    qtbot.waitUntil(lambda: len(w.history_panel.analysis_items()) == 3, timeout=5000)
