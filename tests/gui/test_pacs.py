"""The viewer and the PACS (a real Orthanc): search, retrieve a study into the browser, and the
DICOM node setting that shows arriving studies live."""

from __future__ import annotations

import pydicom
import pytest

from ..conftest import PHI, write_pediatric_dicom
from ..orthanc import ORTHANC, Orthanc, free_port

pytestmark = pytest.mark.skipif(
    ORTHANC is None, reason="the Orthanc binary is not installed (apt-get install orthanc; "
    "CI installs it)")


@pytest.fixture
def orthanc(tmp_path):
    server = Orthanc(tmp_path / "orthanc")
    yield server
    server.kill()


def test_search_retrieve_and_open_a_study_from_the_pacs(qtbot, make_window, orthanc,
                                                        tmp_path):
    orthanc.modality("RADIAI", "RADIAI", free_port())
    orthanc.start()
    child = write_pediatric_dicom(tmp_path / "child.dcm", **PHI)
    write_pediatric_dicom(tmp_path / "other.dcm", PatientName="Kim^Minji", PatientID="PID-2")
    for name in ("child.dcm", "other.dcm"):
        orthanc.upload(tmp_path / name)
    w = make_window()
    dialog = w.pacs().dialog
    dialog.address.setText(f"ORTHANC@127.0.0.1:{orthanc.dicom_port}")
    dialog.name.setText("Müller")
    dialog.date_from.setText("2022-05-01")
    dialog.date_to.setText("2022-05-31")
    dialog.search_button.click()
    qtbot.waitUntil(lambda: dialog.table.rowCount() == 1 and dialog.search_button.isEnabled(),
                    timeout=20000)
    assert dialog.table.item(0, 0).text() == "Müller Jürgen Anton"
    assert dialog.table.item(0, 1).text() == "PID-7340913"
    assert dialog.table.item(0, 2).text() == "2022-05-10"
    dialog.table.selectRow(0)
    dialog.retrieve_button.click()
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 1, timeout=20000)

    (path,) = w.browser.image_paths()
    assert pydicom.dcmread(path).SOPInstanceUID == pydicom.dcmread(child).SOPInstanceUID
    assert "1 image(s) retrieved" in dialog.message.text()
    # The address is remembered for the next time.
    assert w.settings.value("pacs/address") == f"ORTHANC@127.0.0.1:{orthanc.dicom_port}"
    qtbot.waitUntil(lambda: w.scan_worker is None, timeout=20000)


def test_the_dicom_node_setting_shows_arriving_studies_live(qtbot, make_window, orthanc,
                                                            tmp_path):
    port = free_port()
    orthanc.modality("RADIAI", "RADIAI", port)
    orthanc.start()
    w = make_window()
    w.settings.setValue("node/bind", "127.0.0.1")
    dialog = w.pacs().dialog
    dialog.node_port.setValue(port)
    dialog.node_box.setChecked(True)
    qtbot.waitUntil(lambda: w.pacs(show=False).node_port == port, timeout=20000)
    assert "listening on port" in w.status_text.text()
    uploaded = None
    for i in range(2):
        uploaded = orthanc.upload(write_pediatric_dicom(tmp_path / f"c{i}.dcm",
                                                        PatientID="PID-LIVE"))
    job = orthanc.send("RADIAI", [uploaded["ParentPatient"]])
    assert job["InstancesCount"] == 2 and job["FailedInstancesCount"] == 0
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 2, timeout=20000)
    assert all("/node/received/" in p for p in w.browser.image_paths())
    assert w.settings.value("node/enabled", type=bool)
    dialog.node_box.setChecked(False)  # nothing listens once the reader turns it off
    qtbot.waitUntil(lambda: w.pacs(show=False).node_worker is None, timeout=20000)
    assert not w.settings.value("node/enabled", type=bool)
    qtbot.waitUntil(lambda: w.scan_worker is None, timeout=20000)
