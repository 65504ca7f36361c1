"""Benchmark: scan a folder of 1,000 DICOM files (headers only). Target ≤ 2 s on 2 cores.

Usage (after installing the package): python bench/bench_scan.py [--n 1000] [--repeats 3]

The files are copies of a real chest radiograph's header (tests/data/dicom, NIH DX) with new
UIDs, spread over 50 patients × 2 studies, and 256 × 256 8-bit pixel data (the scan never reads
pixel data, so its size does not matter). The first scan also warms the page cache, as a second
look at a folder does in the app; the median of the repeats is printed.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from radiai_core.reading.studies import scan

ROOT = Path(__file__).resolve().parents[1]

TEMPLATE = ROOT / "tests/data/dicom/dx_chest_sc_nih__dicom_00000001_000.dcm"


def make_folder(root: Path, n: int) -> None:
    ds = pydicom.dcmread(TEMPLATE)
    small = ds.pixel_array.reshape(256, 4, 256, 4).mean(axis=(1, 3)).astype(np.uint8)
    ds.Rows = ds.Columns = 256
    ds.PixelData = small.tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    studies = {}
    for i in range(n):
        patient, study = i % 50, (i // 50) % 2
        key = (patient, study)
        if key not in studies:
            studies[key] = (generate_uid(), generate_uid())
        ds.PatientID = f"BENCH{patient:03d}"
        ds.PatientName = f"Bench^Patient{patient:03d}"
        ds.StudyInstanceUID, ds.SeriesInstanceUID = studies[key]
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i
        folder = root / f"P{patient:03d}" / f"S{study}"
        folder.mkdir(parents=True, exist_ok=True)
        ds.save_as(folder / f"IM{i:05d}", enforce_file_format=True)  # no extension, as PACS do


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        make_folder(root, args.n)
        print(f"wrote {args.n} DICOM files in {time.perf_counter() - t0:.1f} s")
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            result = scan(root)
            times.append(time.perf_counter() - t0)
        n_images = len(result.images())
        assert n_images == args.n and not result.skipped, (n_images, result.skipped[:3])
        med = statistics.median(times)
        print(f"scan of {args.n} DICOM headers: median {med:.2f} s over {args.repeats} runs "
              f"({args.n / med:.0f} files/s; runs: {', '.join(f'{t:.2f}' for t in times)}); "
              f"{len(result.patients)} patients, "
              f"{sum(len(p.studies) for p in result.patients)} studies")
        print(f"target ≤ 2.00 s: {'met' if med <= 2.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
