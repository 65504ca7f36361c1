"""Paths of the real sample files in tests/data."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"
DICOM_DIR = DATA / "dicom"
KERMANY_DIR = DATA / "kermany"

DICOM = {
    "j2k_mono1": DICOM_DIR / "cr_chest_pa_mono1_j2k-lossy__WG04_RG1_J2KI.dcm",
    "nometa_mono1": DICOM_DIR / "cr_chest_pa_mono1_nometa__fodicom_CR-MONO1-10-chest.dcm",
    "nih_nofinding": DICOM_DIR / (
        "dx_chest_sc_nih__1.3.6.1.4.1.11129.5.5.110503645592756492463169821050252582267888.dcm"),
    "nih_cardiomegaly": DICOM_DIR / "dx_chest_sc_nih__dicom_00000001_000.dcm",
    "jpeg_baseline": DICOM_DIR / (
        "cr_chest_pa_jpeg-baseline_siim__1.2.276.0.7230010.3.1.4.8323329.6904.1517875201"
        ".850819.dcm"),
}
KERMANY_NORMAL = KERMANY_DIR / "images" / "NORMAL2-IM-1442-0001.jpeg"
# A normal film the shipped classifier (2026.12.03) scores inside its band: indeterminate.
KERMANY_UNSURE = KERMANY_DIR / "images" / "NORMAL2-IM-1437-0001.jpeg"
KERMANY_BACTERIAL = KERMANY_DIR / "images" / "person1946_bacteria_4874.jpeg"
SEVEN_DIR = DATA / "adult7"  # adult images with the six public ones of the seven NIA labels
SEVEN_TITLE = "Findings, 7 labels (test)"
