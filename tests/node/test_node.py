"""RadiAI as a DICOM node against a real PACS (Orthanc): images in, SR and capture back."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pynetdicom import AE
from pynetdicom.sop_class import Verification

from radiai_core.errors import NodeError
from radiai_core.node import (
    AI_LABEL,
    Node,
    NodeConfig,
    Peer,
    echo,
    find_studies,
    retrieve_study,
    send_datasets,
)
from radiai_core.results.history import History

from ..conftest import PHI, write_pediatric_dicom
from ..orthanc import ORTHANC, Orthanc, free_port, wait_for
from ..samples import DATA, DICOM, KERMANY_DIR, KERMANY_NORMAL

ROOT = Path(__file__).resolve().parents[2]
needs_orthanc = pytest.mark.skipif(
    ORTHANC is None, reason="the Orthanc binary is not installed (apt-get install orthanc; "
    "CI installs it)")
KERMANY_IMAGES = sorted((KERMANY_DIR / "images").glob("*.jpeg"))
#: Normal radiographs: a negative call has no heat map, so a push of many stays quick (the
#: evidence's deletion test costs about 1 s per positive image on a 2-core CPU).
NORMALS = [p for p in KERMANY_IMAGES if "NORMAL" in p.name]


@pytest.fixture
def orthanc(tmp_path: Path):
    if ORTHANC is None:
        pytest.skip("the Orthanc binary is not installed (apt-get install orthanc; CI "
                    "installs it)")
    server = Orthanc(tmp_path / "orthanc")
    yield server
    server.kill()


def child_dataset(image: Path, study_uid: str, patient: str = "CHILD-1", number: int = 1
                  ) -> Dataset:
    """A child's CR from a real pediatric radiograph (Kermany), with new instance UIDs."""
    ds = pydicom.dcmread(_template(image))
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=[study_uid, "series"])
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientID, ds.PatientName, ds.InstanceNumber = patient, f"Test^{patient}", number
    return ds


_TEMPLATES: dict[Path, bytes] = {}


def _template(image: Path) -> io.BytesIO:
    if image not in _TEMPLATES:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            _TEMPLATES[image] = write_pediatric_dicom(Path(tmp) / "t.dcm", image).read_bytes()
    return io.BytesIO(_TEMPLATES[image])


def ct_like_dicom(path: Path) -> Path:
    """A CT image (Modality CT, CT Image Storage) from the CT sample of the scope set."""
    src = next((DATA / "scope" / "ct_chest").glob("*"))
    ds = pydicom.dcmread(write_pediatric_dicom(path, src))
    ds.Modality = "CT"
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.save_as(path, enforce_file_format=True)
    return path


def sr_items(ds: Dataset) -> dict[str, list[Dataset]]:
    """The SR's content items by concept name (meaning), the whole tree."""
    found: dict[str, list[Dataset]] = {}

    def walk(items) -> None:
        for item in items:
            name = item.ConceptNameCodeSequence[0].CodeMeaning
            found.setdefault(name, []).append(item)
            walk(item.get("ContentSequence", []))

    walk(ds.ContentSequence)
    return found


def results_in(orthanc: Orthanc, study_uid: str) -> tuple[list[Dataset], list[Dataset]]:
    """(SRs, secondary captures) RadiAI left in the study in Orthanc."""
    srs, caps = [], []
    for inst in orthanc.instances_of_study(study_uid):
        ds = pydicom.dcmread(io.BytesIO(orthanc.file(inst["ID"])))
        if ds.get("Manufacturer") != "RadiAI":
            continue
        (srs if ds.Modality == "SR" else caps).append(ds)
    return srs, caps


def start_listener(data: Path, port: int, results_to: str, *extra: str
                   ) -> subprocess.Popen:
    """``radiai listen`` in a process of its own (its log in ``data``/../listen.log, so that
    no pipe fills up), returned once it listens."""
    env = {**os.environ, "RADIAI_DATA_DIR": str(data)}
    log = open(data.parent / "listen.log", "a", encoding="utf-8")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "radiai_core.cli", "listen", "--aet", "RADIAI", "--port",
         str(port), "--results-to", results_to, "--retry-max", "1", *extra],
        stdout=subprocess.PIPE, stderr=log, text=True, env=env, cwd=ROOT)
    log.close()
    line = proc.stdout.readline()
    assert line.startswith("listening as RADIAI on 127.0.0.1:"), (
        line + (data.parent / "listen.log").read_text(encoding="utf-8"))
    proc.log = data.parent / "listen.log"
    return proc


def stop_listener(proc: subprocess.Popen) -> str:
    """SIGTERM, as systemd stops it; its output and log."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    log = proc.log.read_text(encoding="utf-8")
    assert proc.returncode == 0, log
    return out + log


# --- addresses ----------------------------------------------------------------------------------
def test_a_peer_address_is_aet_at_host_colon_port() -> None:
    assert Peer.parse("ORTHANC@127.0.0.1:4242") == Peer("ORTHANC", "127.0.0.1", 4242)
    assert Peer.parse("PACS@[::1]:104") == Peer("PACS", "::1", 104)
    assert str(Peer.parse("PACS@pacs.local:104")) == "PACS@pacs.local:104"
    for bad in ("ORTHANC", "ORTHANC@host", "@host:104", "A@host:0", "A@host:x",
                "MUCH_TOO_LONG_AE_TITLE@host:104"):
        with pytest.raises(NodeError, match="AET@HOST:PORT|AE title"):
            Peer.parse(bad)


# --- the whole way, as a reading room runs it ---------------------------------------------------
@needs_orthanc
def test_orthanc_routes_a_study_and_gets_an_sr_and_a_capture_per_image(orthanc, tmp_path):
    """`radiai listen` (its own process): Orthanc sends a study of 3 children's radiographs;
    each is kept as .dcm under the data folder, analysed, recorded, and answered with an SR and
    a labelled capture in the same study, of the same patient, referencing the image."""
    port = free_port()
    orthanc.modality("RADIAI", "RADIAI", port)
    orthanc.start()
    study = generate_uid()
    sources = {}
    for i, image in enumerate(KERMANY_IMAGES[:3]):
        ds = child_dataset(image, study, patient="PID-7340913", number=i + 1)
        ds.PatientName = PHI["PatientName"]
        path = tmp_path / f"in{i}.dcm"
        ds.save_as(path, enforce_file_format=True)
        sources[ds.SOPInstanceUID] = ds
        uploaded = orthanc.upload(path)
    data = tmp_path / "data"
    proc = start_listener(data, port, f"ORTHANC@127.0.0.1:{orthanc.dicom_port}")
    try:
        job = orthanc.send("RADIAI", [uploaded["ParentStudy"]])
        assert job["InstancesCount"] == 3 and job["FailedInstancesCount"] == 0
        assert wait_for(lambda: len(results_in(orthanc, study)[0]) == 3, 60)
        assert wait_for(lambda: len(results_in(orthanc, study)[1]) == 3, 30)
    finally:
        log = stop_listener(proc)
    kept = sorted(data.rglob("*.dcm"))
    assert sorted(pydicom.dcmread(p).SOPInstanceUID for p in kept) == sorted(sources)
    srs, caps = results_in(orthanc, study)
    for sr in srs:
        items = sr_items(sr)
        (image,) = [i for i in items["Source of Measurement"] if i.ValueType == "IMAGE"]
        ref = image.ReferencedSOPSequence[0].ReferencedSOPInstanceUID
        src = sources[ref]
        assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"  # Comprehensive SR
        assert (sr.StudyInstanceUID, sr.PatientID, str(sr.PatientName)) == (
            study, "PID-7340913", PHI["PatientName"])
        assert sr.CurrentRequestedProcedureEvidenceSequence[0].StudyInstanceUID == study
        assert items["Analysis status"][0].TextValue == "analysed"
        probs = {i.ConceptNameCodeSequence[0].CodeValue:
                 float(i.MeasuredValueSequence[0].NumericValue)
                 for i in items["Model findings"][0].ContentSequence if i.ValueType == "NUM"}
        assert {"normal", "bacterial", "viral"} <= set(probs)
        assert sum(probs[k] for k in ("normal", "bacterial", "viral")) == pytest.approx(1, abs=1e-3)
        assert items["AI call"][0].TextValue in ("pneumonia", "no pneumonia", "indeterminate")
        decision = items["AI decision"][0].ConceptCodeSequence[0].CodeValue
        assert decision in ("positive", "negative", "indeterminate")
        assert (decision == "positive") == (items["AI call"][0].TextValue == "pneumonia")
        assert (decision == "indeterminate") == (
            items["AI call"][0].TextValue == "indeterminate")
        assert items["Algorithm Name"][0].TextValue.startswith("radiai-densenet121-cxr")
        assert len(items["Algorithm sha256"][0].TextValue) == 64
        assert items["Comment"][0].TextValue == "Decision support, not a diagnosis."
        assert src.SOPInstanceUID == ref
        assert isinstance(hd.sr.srread(io.BytesIO(_bytes(sr))), hd.sr.ComprehensiveSR)
    refs = sorted(c.SourceImageSequence[0].ReferencedSOPInstanceUID for c in caps)
    assert refs == sorted(sources)
    for cap in caps:
        assert cap.SeriesDescription == AI_LABEL == "AI output — RadiAI"
        assert cap.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"
        assert cap.PatientID == "PID-7340913" and cap.StudyInstanceUID == study
        rgb = cap.pixel_array
        assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.shape[1] == 224
        # The burned label band (yellow text on black) sits above the radiograph.
        band = rgb[: rgb.shape[0] - 224]
        assert band.shape[0] > 10 and (band[..., 0] > 200).sum() > 50
    with History(data / "history.sqlite") as h:
        analyses = h.analyses()
        deliveries = h.deliveries()
    assert len(analyses) == 3 and {a.status for a in analyses} == {"ok"}
    assert len(deliveries) == 6 and all(d.sent_at for d in deliveries)
    assert sorted(d.kind for d in deliveries) == ["capture"] * 3 + ["sr"] * 3
    # The service's log says what happened, with no PHI (names, IDs, UIDs in clear).
    assert log.count("kept (from ORTHANC)") == 3 and "delivered to ORTHANC" in log
    assert "Müller" not in log and "PID-7340913" not in log
    assert not any(uid in log for uid in sources)  # UIDs appear hashed only


def _bytes(ds: Dataset) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


@needs_orthanc
def test_a_refused_image_gets_an_sr_that_says_refused_and_why(orthanc, tmp_path):
    """An adult's radiograph (the gate refuses it: not a child) and a CT (not a radiograph at
    all) each get an SR saying refused, by which question, and why."""
    orthanc.start()
    adult = pydicom.dcmread(DICOM["nih_cardiomegaly"])
    ct = pydicom.dcmread(ct_like_dicom(tmp_path / "ct.dcm"))
    peer = Peer("ORTHANC", "127.0.0.1", orthanc.dicom_port)
    for ds in (adult, ct):
        orthanc.upload(_path(tmp_path, ds))
    with Node(NodeConfig(port=0, results_to=peer, retry_initial_s=0.2)) as node:
        assert send_datasets(Peer("RADIAI", "127.0.0.1", node.port), "ORTHANC",
                             [adult, ct]) == [0, 0]
        assert node.wait_idle(60)
    (sr_adult,), (cap_adult,) = results_in(orthanc, adult.StudyInstanceUID)
    items = sr_items(sr_adult)
    assert items["Analysis status"][0].TextValue == "refused"
    assert items["Refused by scope question"][0].TextValue == "child"
    assert "adult" in items["Reason for refusal"][0].TextValue.lower() or "age" in \
        items["Reason for refusal"][0].TextValue.lower()
    assert "Model findings" not in items  # no probabilities for a refused image
    assert cap_adult.SourceImageSequence[0].ReferencedSOPInstanceUID == adult.SOPInstanceUID
    (sr_ct,), caps_ct = results_in(orthanc, ct.StudyInstanceUID)
    items = sr_items(sr_ct)
    assert items["Analysis status"][0].TextValue == "refused"
    assert items["Refused by scope question"][0].TextValue == "not-a-radiograph"
    assert "CT" in items["Reason for refusal"][0].TextValue
    assert caps_ct == []  # nothing analysed, nothing to draw


def _path(tmp_path: Path, ds: Dataset) -> Path:
    path = tmp_path / f"{ds.SOPInstanceUID}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


@needs_orthanc
def test_results_wait_while_the_pacs_is_down_and_arrive_when_it_is_back(orthanc, tmp_path):
    """Orthanc stopped: the results wait in the outbox (the history says queued, not sent);
    Orthanc started again: they are delivered, and the history says when."""
    peer = Peer("ORTHANC", "127.0.0.1", orthanc.dicom_port)  # nothing listens there yet
    study = generate_uid()
    images = [child_dataset(p, study, number=i) for i, p in enumerate(KERMANY_IMAGES[3:5])]
    with Node(NodeConfig(port=0, results_to=peer, retry_initial_s=0.2, retry_max_s=0.5)
              ) as node:
        assert send_datasets(Peer("RADIAI", "127.0.0.1", node.port), "ORTHANC",
                             images) == [0, 0]
        assert wait_for(lambda: node.stats.answered == 2, 30)
        assert len(node.outbox.files()) == 4
        with History() as h:
            assert [d.sent_at for d in h.deliveries()] == [None] * 4
        orthanc.start()
        assert node.wait_idle(30)
    srs, caps = results_in(orthanc, study)
    assert len(srs) == 2 and len(caps) == 2
    with History() as h:
        sent = h.deliveries()
    assert len(sent) == 4 and all(d.sent_at and d.attempts >= 1 for d in sent)
    assert max(d.attempts for d in sent) >= 2  # tried while the PACS was down


def test_an_unknown_calling_ae_is_rejected_and_a_known_one_is_heard(tmp_path):
    with Node(NodeConfig(port=0, allowed_aets=["ORTHANC"], analyse=False)) as node:
        ae = AE(ae_title="INTRUDER")
        ae.add_requested_context(Verification)
        assoc = ae.associate("127.0.0.1", node.port, ae_title="RADIAI")
        assert assoc.is_rejected and not assoc.is_established
        with pytest.raises(NodeError, match="rejected"):
            send_datasets(Peer("RADIAI", "127.0.0.1", node.port), "INTRUDER",
                          [child_dataset(KERMANY_IMAGES[0], generate_uid())])
        assert node.inbox.files() == []
        assert echo(Peer("RADIAI", "127.0.0.1", node.port), aet="ORTHANC")


def test_a_duplicate_is_recognised_and_an_own_result_is_not_answered(tmp_path):
    """The same instance twice is kept once and analysed once; an SR RadiAI made (routed back
    by the PACS with the study) is kept, never answered."""
    image = child_dataset(KERMANY_IMAGES[6], generate_uid())
    with Node(NodeConfig(port=0)) as node:
        me = Peer("RADIAI", "127.0.0.1", node.port)
        assert send_datasets(me, "PACS", [image]) == [0]
        assert send_datasets(me, "PACS", [image]) == [0]
        assert node.wait_idle(30)
        assert (node.stats.received, node.stats.duplicates, node.stats.analysed) == (1, 1, 1)
        from radiai_core.analysis import default_analyzer
        from radiai_core.node import sr_dataset

        own = sr_dataset(default_analyzer().analyze(node.inbox.files()[0]), image)
        assert send_datasets(me, "PACS", [own]) == [0]
        assert node.wait_idle(30)
        assert (node.stats.received, node.stats.analysed) == (2, 1)
    assert len(node.inbox.files()) == 2 and node.inbox.pending() == []


@needs_orthanc
@pytest.mark.slow
def test_200_images_from_4_concurrent_associations_all_kept_analysed_answered(orthanc,
                                                                             tmp_path):
    orthanc.start()
    peer = Peer("ORTHANC", "127.0.0.1", orthanc.dicom_port)
    studies = [generate_uid() for _ in range(20)]
    images = [child_dataset(NORMALS[i % len(NORMALS)], studies[i % 20], patient=f"P{i % 20}",
                            number=i) for i in range(200)]
    statuses: list[list] = [[] for _ in range(4)]
    with Node(NodeConfig(port=0, results_to=peer, capture_side=256)) as node:
        me = Peer("RADIAI", "127.0.0.1", node.port)
        threads = [threading.Thread(target=lambda k=k: statuses[k].extend(
            # A generous wait per store: on a loaded 2-core machine an fsync can stall.
            send_datasets(me, f"MODALITY{k}", images[k::4], timeout_s=120)))
            for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert [len(s) for s in statuses] == [50] * 4
        assert all(s == 0 for batch in statuses for s in batch)
        assert node.wait_idle(120)
        assert (node.stats.received, node.stats.analysed, node.stats.delivered) == (200, 200,
                                                                                   400)
    assert sorted(p.stem for p in node.inbox.files()) == sorted(d.SOPInstanceUID
                                                                for d in images)
    with History() as h:
        assert len(h.analyses()) == 200
        assert sum(1 for d in h.deliveries() if d.sent_at) == 400
    assert orthanc.count() == 400


@needs_orthanc
@pytest.mark.slow
def test_a_killed_listener_loses_nothing_it_acknowledged(orthanc, tmp_path):
    """SIGKILL in the middle of a push: every instance the sender was told "success" for is
    on disk, and after a restart each one is analysed and answered in the PACS."""
    orthanc.start()
    port, data = free_port(), tmp_path / "data"
    results_to = f"ORTHANC@127.0.0.1:{orthanc.dicom_port}"
    study = generate_uid()
    images = [child_dataset(NORMALS[i % len(NORMALS)], study, number=i) for i in range(40)]
    proc = start_listener(data, port, results_to)
    acknowledged: list[str] = []
    me = Peer("RADIAI", "127.0.0.1", port)

    def push() -> None:
        ae = AE(ae_title="MODALITY")
        ae.add_requested_context(images[0].SOPClassUID, ExplicitVRLittleEndian)
        assoc = ae.associate("127.0.0.1", port, ae_title="RADIAI")
        for ds in images:
            if not assoc.is_established:
                return
            status = assoc.send_c_store(ds)
            if status and status.Status == 0:
                acknowledged.append(ds.SOPInstanceUID)
        if assoc.is_established:
            assoc.release()

    pusher = threading.Thread(target=push)
    pusher.start()
    assert wait_for(lambda: len(acknowledged) >= 12, 60, step=0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    pusher.join(60)
    assert 12 <= len(acknowledged) < len(images)
    kept = {p.stem for p in data.rglob("*.dcm") if "outbox" not in p.parts}
    assert set(acknowledged) <= kept
    proc = start_listener(data, port, results_to)
    try:
        assert echo(me, aet="MODALITY")

        def answered() -> set[str]:
            srs, _ = results_in(orthanc, study)
            return {sr_items(s)["Source of Measurement"][-1].ReferencedSOPSequence[0]
                    .ReferencedSOPInstanceUID for s in srs}

        assert wait_for(lambda: set(acknowledged) <= answered(), 60, step=0.5)
    finally:
        stop_listener(proc)
    assert not list((data / "node" / "pending").iterdir())
    assert not list((data / "node" / "outbox").glob("*.dcm"))


@needs_orthanc
def test_the_pacs_is_searched_and_a_study_retrieved(orthanc, tmp_path):
    """C-FIND by patient name, ID and date, then C-GET of the study into a folder."""
    orthanc.modality("RADIAI", "RADIAI", free_port())
    orthanc.start()
    child = write_pediatric_dicom(tmp_path / "c.dcm", PatientSex="M", **PHI)
    other = write_pediatric_dicom(tmp_path / "o.dcm", PatientName="Kim^Minji",
                                  PatientID="PID-2", StudyDate="20230101")
    for p in (child, other):
        orthanc.upload(p)
    peer = Peer("ORTHANC", "127.0.0.1", orthanc.dicom_port)
    (m,) = find_studies(peer, patient_name="Müller")
    assert (m.patient_id, m.study_date, m.modalities, m.n_instances) == (
        "PID-7340913", "20220510", "CR", 1)
    assert [s.patient_id for s in find_studies(peer, patient_id="PID-2")] == ["PID-2"]
    assert find_studies(peer, date_from="2023-01-01", date_to="2023-12-31")[0].patient_id \
        == "PID-2"
    assert len(find_studies(peer)) == 2
    files = retrieve_study(peer, m.study_uid, tmp_path / "pulled")
    assert len(files) == 1
    got = pydicom.dcmread(files[0])
    assert got.SOPInstanceUID == pydicom.dcmread(child).SOPInstanceUID
    assert np.array_equal(got.pixel_array, np.asarray(Image.open(KERMANY_NORMAL).convert("L")))


def _certificates(folder: Path) -> dict[str, Path]:
    """A test CA and two certificates it signs (node, client), made with the openssl CLI."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    for name in ("node", "client"):
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout",
            f"{name}.key", "-out", f"{name}.csr")
        run("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", f"{name}.crt")
    return {n: folder / n for n in ("ca.crt", "node.crt", "node.key", "client.crt",
                                    "client.key")}


@pytest.mark.skipif(not shutil.which("openssl"), reason="the openssl command is not installed")
def test_dicom_over_tls_with_client_certificates(tmp_path):
    from radiai_core.node import TlsFiles

    c = _certificates(tmp_path)
    node_tls = TlsFiles(c["node.crt"], c["node.key"], c["ca.crt"])
    client_tls = TlsFiles(c["client.crt"], c["client.key"], c["ca.crt"])
    image = child_dataset(NORMALS[0], generate_uid())
    with Node(NodeConfig(port=0, tls=node_tls, analyse=False)) as node:
        me = Peer("RADIAI", "127.0.0.1", node.port)
        assert echo(me, aet="PACS", tls=client_tls)
        assert send_datasets(me, "PACS", [image], tls=client_tls) == [0]
        with pytest.raises(NodeError):  # plain DICOM to a TLS port: no association
            echo(me, aet="PACS")
        assert [p.stem for p in node.inbox.files()] == [image.SOPInstanceUID]
    with pytest.raises(NodeError, match="TLS files"):
        TlsFiles(tmp_path / "missing.crt", c["node.key"]).server_context()


def test_a_port_in_use_is_a_plain_error_and_nothing_listens_unless_started(tmp_path):
    port = free_port()
    node = Node(NodeConfig(port=port, analyse=False))
    with pytest.raises(NodeError):  # not started: nobody answers there
        echo(Peer("RADIAI", "127.0.0.1", port))
    with node, pytest.raises(NodeError, match=f"cannot listen on 127.0.0.1:{port}"):
        Node(NodeConfig(port=port, analyse=False), root=tmp_path / "other").start()


def test_one_instance_sent_by_8_associations_at_once_is_kept_once(tmp_path):
    """The first writes it; the others wait for that write and are told "duplicate" only
    once the file is there (never "success" for a file that is not)."""
    from radiai_core.node import Inbox

    inbox = Inbox(tmp_path / "node")
    data = _bytes(child_dataset(NORMALS[0], generate_uid()))
    results: list[tuple[Path, bool]] = []
    threads = [threading.Thread(target=lambda: results.append(
        inbox.store("1.2.3", "1.2.3.4", data))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(dup for _, dup in results) == [False] + [True] * 7
    (path,) = inbox.files()
    assert path.read_bytes() == data and {p for p, _ in results} == {path}
    assert inbox.pending() == [("1.2.3.4", path)]
