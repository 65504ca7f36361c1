"""What the reader sees about an image, from the core: the patient line, which finding a heat
map explains, smooth lung outlines."""

from __future__ import annotations

import numpy as np
import pytest

from radiai_core.analysis.pipeline import explained_label
from radiai_core.analysis.regions import mask_contours
from radiai_core.reading.anonymize import patient_line
from radiai_core.reading.io import load_image

from ..conftest import PHI, write_pediatric_dicom
from ..samples import DICOM, KERMANY_NORMAL


def test_the_patient_line_of_a_dicom_and_of_a_file_without_patient_data(tmp_path) -> None:
    child = write_pediatric_dicom(tmp_path / "c.dcm", PatientSex="M", **PHI)
    assert patient_line(load_image(child).meta) == (
        "Jürgen Anton Müller · ID PID-7340913 · 3 years · M · study 2022-05-10")
    assert patient_line(load_image(KERMANY_NORMAL).meta) == (
        "No patient data in the file (NORMAL2-IM-1442-0001.jpeg) · age unknown")
    # The NIH file: a bare "58" as Patient's Age, no name.
    line = patient_line(load_image(DICOM["nih_cardiomegaly"]).meta)
    assert "58 years" in line and "ID " in line


@pytest.mark.parametrize(("probs", "positive", "expected"), [
    ({"normal": 0.1, "bacterial": 0.3, "viral": 0.6}, True, "viral"),
    ({"normal": 0.6, "bacterial": 0.3, "viral": 0.1}, True, "bacterial"),  # not "normal"
    ({"normal": 0.9, "bacterial": 0.06, "viral": 0.04}, False, None),  # no map for a normal
])
def test_the_heat_map_explains_a_positive_finding_only(probs, positive, expected) -> None:
    assert explained_label(probs, "normal", positive) == expected
    # A model without a negative label (no call) explains its top label.
    assert explained_label(probs, None, positive) == max(probs, key=probs.get)


def test_smooth_lung_outlines_stay_on_the_mask() -> None:
    """A mask scaled up from the lung model's grid is a staircase; the smoothed outline has
    fewer, shorter turns and stays within a few pixels of it."""
    import cv2

    small = np.zeros((40, 40), np.uint8)
    cv2.ellipse(small, (20, 20), (12, 16), 0, 0, 360, 1, -1)
    big = cv2.resize(small, (400, 400), interpolation=cv2.INTER_NEAREST).astype(bool)
    rough, smooth = mask_contours(big)[0], mask_contours(big, smooth=True)[0]
    assert len(smooth) < len(rough) * 3  # simplified, not every pixel of the stairs
    area = cv2.contourArea(smooth.astype(np.float32).reshape(-1, 1, 2))
    assert abs(area - big.sum()) / big.sum() < 0.03  # the same lung, not a shrunk one
    dist = cv2.distanceTransform((~big).astype(np.uint8), cv2.DIST_L2, 3)
    assert max(dist[y, x] for x, y in smooth) <= 4


def test_values_and_windows_in_the_file_units(tmp_path) -> None:
    """The readout shows stored values (integers), not [0, 1] floats or 1.256e+04."""
    from radiai_core.reading.display import Window, default_window, value_text, window_text

    jpeg = load_image(KERMANY_NORMAL)
    raw = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(KERMANY_NORMAL))
    assert value_text(jpeg, 100, 120) == str(int(raw[120, 100]))
    assert window_text(jpeg, Window(0.5, 1.0)) == "W 255  L 127.5"
    j2k = load_image(DICOM["j2k_mono1"])  # 15-bit MONOCHROME1 with a window in its header
    text = value_text(j2k, 900, 900)
    assert text.lstrip("-").isdigit() and "e" not in text
    c, w = j2k.meta.window
    assert window_text(j2k, default_window(j2k)) == f"W {w:.0f}  L {c:.0f}"
