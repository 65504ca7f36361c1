"""Fixtures: the real sample files, and DICOM/raster variants generated from them."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from .samples import DICOM, KERMANY_BACTERIAL, KERMANY_NORMAL, SEVEN_DIR, SEVEN_TITLE

# GUI tests run headless; TensorFlow next to Mesa's GL under X needs GL integration off.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")


@pytest.fixture(scope="session")
def real_chest_u8() -> np.ndarray:
    """A real chest radiograph (NIH, 8-bit) reduced to 128 × 128 by block averaging."""
    arr = pydicom.dcmread(DICOM["nih_cardiomegaly"]).pixel_array.astype(np.float64)
    return arr.reshape(128, 8, 128, 8).mean(axis=(1, 3)).round().astype(np.uint8)


@pytest.fixture(scope="session")
def template_ds() -> Dataset:
    """Header of a real DX file (patient, study and series tags) to build variants on."""
    return pydicom.dcmread(DICOM["nih_cardiomegaly"])


MakeDicom = Callable[..., Path]


@pytest.fixture
def make_dicom(tmp_path: Path, template_ds: Dataset) -> MakeDicom:
    """Write a native (uncompressed) DICOM with the given pixels and attributes."""

    def make(name: str, pixels: np.ndarray, *, signed: bool = False, bits_stored: int | None = None,
             photometric: str = "MONOCHROME2", **attrs) -> Path:
        ds = copy.deepcopy(template_ds)
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        frames = pixels.shape[0] if pixels.ndim == 3 and photometric.startswith("MONO") else 1
        rows, cols = pixels.shape[-2:] if photometric.startswith("MONO") else pixels.shape[:2]
        ds.Rows, ds.Columns = rows, cols
        bits_alloc = pixels.dtype.itemsize * 8
        ds.BitsAllocated = bits_alloc
        ds.BitsStored = bits_stored or bits_alloc
        ds.HighBit = ds.BitsStored - 1
        ds.PixelRepresentation = 1 if signed else 0
        ds.PhotometricInterpretation = photometric
        ds.SamplesPerPixel = 3 if photometric == "RGB" else 1
        if photometric == "RGB":
            ds.PlanarConfiguration = 0
        if frames > 1:
            ds.NumberOfFrames = frames
        for key, value in attrs.items():
            setattr(ds, key, value)
        ds.PixelData = np.ascontiguousarray(pixels).tobytes()
        path = tmp_path / name
        ds.save_as(path, enforce_file_format=True)
        return path

    return make


@pytest.fixture
def signed16_rescaled(make_dicom: MakeDicom, real_chest_u8: np.ndarray):
    """12-bit signed stored values with an odd rescale and a window: (path, stored values)."""
    stored = (real_chest_u8.astype(np.int16) * 8 - 1000).astype(np.int16)
    path = make_dicom("signed16.dcm", stored, signed=True, bits_stored=12,
                      RescaleSlope="0.5", RescaleIntercept="-100.5",
                      WindowCenter="-50", WindowWidth="801")
    return path, stored


@pytest.fixture
def mono1_voilut(make_dicom: MakeDicom, real_chest_u8: np.ndarray):
    """MONOCHROME1, 12-bit, with a non-linear VOI LUT sequence: (path, stored, lut)."""
    stored = (real_chest_u8.astype(np.uint16) * 16)
    lut = np.round(4095 * (np.arange(4096) / 4095) ** 0.5).astype(np.uint16)
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 12]
    item.LUTData = lut.tobytes()  # OW in explicit VR
    path = make_dicom("mono1_voilut.dcm", stored, bits_stored=12, photometric="MONOCHROME1",
                      VOILUTSequence=[item])
    return path, stored, lut


@pytest.fixture
def kermany_rgb() -> Image.Image:
    return Image.open(KERMANY_NORMAL).convert("RGB")


@pytest.fixture(autouse=True)
def private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch) -> Path:
    """Every test gets its own RadiAI data folder (history database): nothing is written to
    the user's real one."""
    folder = tmp_path_factory.mktemp("radiai-data")
    monkeypatch.setenv("RADIAI_DATA_DIR", str(folder))
    return folder


#: Identifying details written into the PHI sample (no real person).
PHI = {"PatientName": "Müller^Jürgen^Anton", "PatientID": "PID-7340913",
       "PatientBirthDate": "20190314", "InstitutionName": "St. Elsewhere Children's Hospital"}


def write_pediatric_dicom(path: Path, image: Path = KERMANY_NORMAL, **attrs) -> Path:
    """A child's radiograph as a DICOM: the pixels of a real pediatric JPEG (Kermany), the
    header of the real SIIM CR file with the age of a 3-year-old (the sample DICOMs are of
    adults, which the gate refuses), new UIDs, uncompressed; ``attrs`` override tags."""
    ds = pydicom.dcmread(DICOM["jpeg_baseline"])
    pixels = np.asarray(Image.open(image).convert("L"), dtype=np.uint8)
    ds.Rows, ds.Columns = pixels.shape
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.SamplesPerPixel = 1
    ds.PixelData = pixels.tobytes()
    ds.PatientAge = "003Y"
    ds.PatientBirthDate = "20190314"
    ds.StudyDate = "20220510"
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.fixture
def pediatric_dicom(tmp_path: Path) -> Path:
    """A child with pneumonia (a positive call: heat map and boxes) in a DICOM."""
    return write_pediatric_dicom(tmp_path / "child.dcm", KERMANY_BACTERIAL)


@pytest.fixture
def phi_dicom(tmp_path: Path) -> Path:
    """A child's chest DICOM (``write_pediatric_dicom``, pneumonia) with an identifiable
    patient, in a folder named after the patient as archives often are."""
    folder = tmp_path / "Müller_Jürgen_PID-7340913"
    folder.mkdir()
    return write_pediatric_dicom(folder / "Müller_Jürgen.dcm", KERMANY_BACTERIAL, **PHI)


def _radiai(*args: str) -> None:
    """``radiai ARGS`` in a process of its own (as a site runs it; TensorFlow's memory stays
    out of this process, whose peak the memory tests measure)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", "import sys; from radiai_core.cli import main; "
                           "sys.exit(main(sys.argv[1:]))", *args],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _train_seven(folder: Path) -> None:
    """What a site does (docs/train-your-own.md), through the CLI: train a multi-label model on
    a table of 0/1 label columns, finalize it into a model folder."""
    csv_path = str(SEVEN_DIR / "index.csv")
    _radiai("train", "classifier", "--csv", csv_path, "--out", str(folder / "run"),
            "--multi-label", "--size", "64", "--epochs", "2", "--batch-size", "4",
            "--val-fraction", "0.25", "--title", SEVEN_TITLE, "--name", "site-findings-7",
            "--display-name", "rds=respiratory distress syndrome",
            "--display-name", "air_leak=air leak", "--display-name", "effusion=pleural effusion")
    _radiai("train", "finalize", "classifier", "--run", str(folder / "run"),
            "--dest", str(folder / "findings7"), "--csv", csv_path,
            "--positive-call", "abnormal finding")


@pytest.fixture(scope="session")
def seven_label_run(request) -> Path:
    """A run folder with a small real 7-label model trained and finalized here (``run/``,
    ``findings7/``). Trained once per code and data: the result is kept in pytest's cache
    under a key made of the training code, the table and its images, so the GUI pass of CI
    reuses the first pass's model instead of training it again."""
    import hashlib
    import shutil
    from importlib.metadata import version

    root = Path(__file__).parent.parent
    h = hashlib.sha256(f"keras {version('keras')}".encode())
    for path in sorted([*(root / "radiai_core").rglob("*.py"), *SEVEN_DIR.rglob("*")]):
        if path.is_file():
            h.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    cached = Path(request.config.cache.mkdir(f"seven-label-{h.hexdigest()[:16]}"))
    if not (cached / "findings7" / "manifest.json").is_file():
        work = cached.with_name(cached.name + ".partial")
        shutil.rmtree(work, ignore_errors=True)
        _train_seven(work)
        shutil.rmtree(cached)
        work.rename(cached)
    return cached


@pytest.fixture(scope="session")
def seven_label_models(seven_label_run: Path, tmp_path_factory) -> Path:
    """A models folder as a site makes it: the shipped models and the 7-label model dropped
    in next to them (``findings7/``)."""
    from radiai_core.resources import models_dir

    root = tmp_path_factory.mktemp("site_models")
    for name in ("classifier", "lung_mask", "gate"):
        (root / name).symlink_to(models_dir() / name, target_is_directory=True)
    (root / "findings7").symlink_to(seven_label_run / "findings7", target_is_directory=True)
    return root
