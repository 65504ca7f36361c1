"""Generator of hostile inputs: every kind of bad file a reading room's archive can hold.

``build_corpus(folder)`` writes the corpus and returns what each file is expected to give:
``"ok"`` (readable; the analysis may still refuse it) or the RadiAIError ``kind``.
"""

from __future__ import annotations

import copy
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from .samples import DICOM, KERMANY_NORMAL

JUNK_FILES = 5000


@dataclass(frozen=True)
class Case:
    name: str  # path relative to the corpus folder
    expect: str  # "ok" or an error kind
    why: str


def _chest_u16() -> np.ndarray:
    """A real chest radiograph (NIH, 1024²) reduced to 256² and spread over 12 bits."""
    arr = pydicom.dcmread(DICOM["nih_cardiomegaly"]).pixel_array.astype(np.float64)
    small = arr.reshape(256, 4, 256, 4).mean(axis=(1, 3))
    return np.round(small / 255 * 4095).astype(np.uint16)


def _dicom(path: Path, pixels: np.ndarray, **attrs) -> Path:
    """A native DICOM on the header of a real DX file, with the given pixels and attributes."""
    ds: Dataset = copy.deepcopy(pydicom.dcmread(DICOM["nih_cardiomegaly"]))
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    rgb = pixels.ndim == 3 and pixels.shape[-1] == 3
    frames = pixels.shape[0] if pixels.ndim == 3 and not rgb else 1
    ds.Rows, ds.Columns = pixels.shape[-3:-1] if rgb else pixels.shape[-2:]
    ds.BitsAllocated = ds.BitsStored = pixels.dtype.itemsize * 8
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if pixels.dtype.kind == "i" else 0
    ds.SamplesPerPixel = 3 if rgb else 1
    ds.PhotometricInterpretation = "RGB" if rgb else "MONOCHROME2"
    if rgb:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    for key in ("WindowCenter", "WindowWidth", "RescaleSlope", "RescaleIntercept"):
        if key in ds:
            delattr(ds, key)
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.PixelData = pixels.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def _streamed_png(path: Path, width: int, height: int) -> None:
    """A valid grey PNG of any size written row by row (a 20,000² image is 400 MB of pixels but
    a few hundred kB on disk, and never in memory here)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    comp = zlib.compressobj(9)
    row = b"\x00" + bytes(range(256)) * (width // 256) + bytes(width % 256)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)))
        data = bytearray()
        for _ in range(height):
            data += comp.compress(row)
            if len(data) > 1 << 20:
                f.write(chunk(b"IDAT", bytes(data)))
                data.clear()
        data += comp.flush()
        f.write(chunk(b"IDAT", bytes(data)))
        f.write(chunk(b"IEND", b""))


def build_corpus(folder: Path, junk_files: int = JUNK_FILES) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    cases: list[Case] = []
    chest = _chest_u16()

    def add(name: str, expect: str, why: str) -> Path:
        cases.append(Case(name, expect, why))
        return folder / name

    add("zero-bytes.dcm", "empty", "a zero-byte file").write_bytes(b"")
    real = DICOM["jpeg_baseline"].read_bytes()
    add("truncated.dcm", "truncated", "a DICOM cut off in its pixel data").write_bytes(
        real[: len(real) * 2 // 3])
    rng = np.random.default_rng(7)
    add("garbage.dcm", "not-an-image", "random bytes named .dcm").write_bytes(
        rng.integers(0, 256, 20_000, dtype=np.uint8).tobytes())

    no_pixels = copy.deepcopy(pydicom.dcmread(DICOM["nih_cardiomegaly"]))
    del no_pixels.PixelData
    no_pixels.save_as(add("no-pixel-data.dcm", "no-pixel-data", "a DICOM without pixel data"))

    mpeg = _dicom(add("mpeg2.dcm", "unsupported-transfer-syntax",
                      "MPEG-2 video transfer syntax"), chest)
    ds = pydicom.dcmread(mpeg)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"
    ds.PixelData = encapsulate([b"\x00\x00\x01\xb3" + bytes(60)])  # an MPEG-2 start code
    ds.save_as(mpeg)

    huge = _dicom(add("declares-30000x30000.dcm", "too-large",
                      "declares 30,000² pixels, holds 256²"), chest)
    ds = pydicom.dcmread(huge)
    ds.Rows = ds.Columns = 30000
    ds.save_as(huge)

    _dicom(add("signed16-odd-rescale.dcm", "ok", "signed 16 bits, slope 0.37, intercept −1234.5"),
           (chest.astype(np.int16) - 2048), RescaleSlope=0.37, RescaleIntercept=-1234.5)
    grey8 = np.round(chest / 4095 * 255).astype(np.uint8)
    _dicom(add("rgb.dcm", "ok", "an RGB DICOM"), np.repeat(grey8[..., None], 3, axis=2))
    _dicom(add("multi-frame.dcm", "ok", "three frames"), np.stack([chest] * 3))
    _dicom(add("ct.dcm", "not-a-radiograph", "a CT slice"), chest, Modality="CT")
    _dicom(add("mr.dcm", "not-a-radiograph", "an MR slice"), chest, Modality="MR")

    kermany = Image.open(KERMANY_NORMAL).convert("L")
    kermany.convert("P", palette=Image.Palette.ADAPTIVE, colors=64).save(
        add("palette.png", "ok", "a palette PNG"))
    Image.fromarray(chest * 16).save(add("sixteen-bit.png", "ok", "a 16-bit PNG"))
    _streamed_png(add("20000x20000.png", "too-large", "a 20,000 × 20,000 PNG"), 20000, 20000)
    Image.new("L", (1, 1), 128).save(add("one-pixel.png", "ok", "a 1 × 1 image"))

    kermany.save(add("ünïcødé 胸部 X線 😷.png", "ok", "a unicode file name"))
    deep = Path(*["a-rather-long-folder-name-for-testing-paths"] * 8)
    (folder / deep).mkdir(parents=True)
    kermany.save(add(str(deep / ("x" * 200 + ".png")), "ok", "a path over 500 characters"))

    locked = add("no-permission.png", "ok" if os.geteuid() == 0 else "unreadable",
                 "a file without read permission (root reads it anyway)")
    kermany.save(locked)
    locked.chmod(0)
    os.mkfifo(add("named-pipe.dcm", "unreadable", "a named pipe (reading it would block)"))
    loop = folder / "loop"
    loop.mkdir()
    (loop / "back-to-corpus").symlink_to(folder, target_is_directory=True)

    junk = folder / "junk"
    junk.mkdir()
    for i in range(junk_files):
        (junk / f"report-{i:05d}.txt").write_text(f"not an image #{i}\n")
    cases += [Case(f"junk/report-{i:05d}.txt", "ignored", "one of many non-image files")
              for i in range(junk_files)]
    return cases
