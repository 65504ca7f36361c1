"""DICOM loading: real files and generated variants; exact pixels, polarity, metadata, errors."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import RLELossless

from radiai_core.errors import (
    ImageTooLargeError,
    NoPixelDataError,
    NotAnImageError,
    NotARadiographError,
    RadiAIError,
    TruncatedFileError,
    UnsupportedTransferSyntaxError,
)
from radiai_core.reading.io import load_image

from ..samples import DICOM


def _lung_vs_mediastinum(pixels: np.ndarray) -> tuple[float, float]:
    """Mean of both lung fields and of the mediastinum, on a mid-height band."""
    h, w = pixels.shape
    band = pixels[int(h * 0.35):int(h * 0.55)]
    lungs = np.concatenate([band[:, int(w * 0.2):int(w * 0.35)].ravel(),
                            band[:, int(w * 0.65):int(w * 0.8)].ravel()])
    mediastinum = band[:, int(w * 0.45):int(w * 0.55)]
    return float(lungs.mean()), float(mediastinum.mean())


@pytest.mark.parametrize("key", sorted(DICOM))
def test_real_files_load_with_lungs_dark(key: str) -> None:
    img = load_image(DICOM[key])
    assert img.pixels.dtype == np.float32 and img.pixels.ndim == 2
    assert 0.0 <= img.pixels.min() and img.pixels.max() <= 1.0
    lungs, mediastinum = _lung_vs_mediastinum(img.pixels)
    assert lungs < mediastinum - 0.05, "air-filled lungs must be darker than the mediastinum"


@pytest.mark.parametrize("key", ["j2k_mono1", "nometa_mono1"])
def test_monochrome1_is_inverted(key: str) -> None:
    raw = pydicom.dcmread(DICOM[key], force=True)
    if "TransferSyntaxUID" not in raw.file_meta:
        raw.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    stored_lungs, stored_mediastinum = _lung_vs_mediastinum(raw.pixel_array.astype(np.float64))
    assert stored_lungs > stored_mediastinum  # MONOCHROME1: high stored value = dark
    img = load_image(DICOM[key])
    assert img.meta.photometric == "MONOCHROME1"
    assert any("MONOCHROME1" in n for n in img.meta.notes)


def test_no_meta_file_exact_window_pixels() -> None:
    """fo-dicom CR-MONO1-10: no preamble, implicit VR, window 550/1024, MONOCHROME1."""
    img = load_image(DICOM["nometa_mono1"])
    m = img.meta
    assert (m.rows, m.columns, m.bits_stored) == (440, 440, 10)
    assert m.transfer_syntax == "1.2.840.10008.1.2"
    assert m.window == (550.0, 1024.0)
    ds = pydicom.dcmread(DICOM["nometa_mono1"], force=True)
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ImplicitVRLittleEndian
    raw = ds.pixel_array.astype(np.float64)
    raw = raw * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
    # PS3.3 C.11.2.1.2.1 (LINEAR), then inverted for MONOCHROME1.
    expected = 1.0 - np.clip((raw - 549.5) / 1023.0 + 0.5, 0.0, 1.0)
    np.testing.assert_allclose(img.pixels, expected, atol=1e-6)


def test_j2k_metadata_and_decode() -> None:
    img = load_image(DICOM["j2k_mono1"])
    m = img.meta
    assert img.shape == (1955, 1841)
    assert m.transfer_syntax == "1.2.840.10008.1.2.4.91"
    assert (m.patient_id, m.patient_name, m.patient_sex) == ("9RG1", "CompressedSamples^RG1", "F")
    assert (m.patient_birth_date, m.study_date, m.study_description) == (
        "19400305", "20040826", "THORAX")
    assert m.institution == "Philips Medical Systems Hamburg"
    assert m.manufacturer == "Philips Medical Systems"
    assert (m.modality, m.view_position, m.bits_stored) == ("CR", "PA", 15)
    assert m.window == (15000.0, 30000.0)
    assert m.study_uid == "1.3.6.1.4.1.5962.1.2.9.20040826185059.5457"
    assert m.sop_uid == "1.3.6.1.4.1.5962.1.1.9.1.3.20040826185059.5457"
    assert img.pixels.std() > 0.05  # decoded, not blank


def test_jpeg_baseline_metadata() -> None:
    img = load_image(DICOM["jpeg_baseline"])
    m = img.meta
    assert img.shape == (1024, 1024)
    assert m.transfer_syntax == "1.2.840.10008.1.2.4.50"
    assert m.pixel_spacing == (0.168, 0.168)
    assert (m.modality, m.view_position, m.patient_sex, m.patient_age) == ("CR", "PA", "M", "62")
    assert m.patient_id == "16d7f894-55d7-4d95-8957-d18987f0e981"


def test_8bit_full_range_exact() -> None:
    img = load_image(DICOM["nih_cardiomegaly"])
    raw = pydicom.dcmread(DICOM["nih_cardiomegaly"]).pixel_array.astype(np.float64)
    lo, hi = raw.min(), raw.max()
    np.testing.assert_allclose(img.pixels, (raw - lo) / (hi - lo), atol=1e-6)
    assert img.meta.study_description == "Cardiomegaly"
    assert img.meta.patient_id == "1"


def test_signed_with_rescale_and_window(signed16_rescaled) -> None:
    path, stored = signed16_rescaled
    img = load_image(path)
    values = stored.astype(np.float64) * 0.5 - 100.5
    np.testing.assert_allclose(img.values, values, atol=1e-4)
    expected = np.clip((values + 50.5) / 800.0 + 0.5, 0.0, 1.0)  # C=-50, W=801, LINEAR
    np.testing.assert_allclose(img.pixels, expected, atol=1e-6)
    assert img.meta.window == (-50.0, 801.0)


def test_monochrome1_voi_lut_sequence(mono1_voilut) -> None:
    path, stored, lut = mono1_voilut
    img = load_image(path)
    expected = 1.0 - lut[stored].astype(np.float64) / 4095.0
    np.testing.assert_allclose(img.pixels, expected, atol=1e-6)
    assert "displayed with the VOI LUT" in img.meta.notes


def test_bits_stored_masks_unused_high_bits(make_dicom, real_chest_u8) -> None:
    stored = real_chest_u8.astype(np.uint16) * 4  # 10-bit values
    junk = stored | 0x8000  # overlay-style bit above Bits Stored
    path = make_dicom("bits10.dcm", junk, bits_stored=10)
    clean = make_dicom("bits10_clean.dcm", stored, bits_stored=10)
    np.testing.assert_array_equal(load_image(path).pixels, load_image(clean).pixels)


def test_rle_matches_native(make_dicom, real_chest_u8, tmp_path) -> None:
    native = make_dicom("native.dcm", real_chest_u8.astype(np.uint16) * 16, bits_stored=12)
    ds = pydicom.dcmread(native)
    ds.compress(RLELossless)
    rle = tmp_path / "rle.dcm"
    ds.save_as(rle)
    img = load_image(rle)
    assert img.meta.transfer_syntax == RLELossless
    np.testing.assert_array_equal(img.pixels, load_image(native).pixels)


def test_multiframe_uses_first_frame(make_dicom, real_chest_u8) -> None:
    frames = np.stack([real_chest_u8, 255 - real_chest_u8, real_chest_u8 // 2])
    img = load_image(make_dicom("multi.dcm", frames))
    assert img.meta.number_of_frames == 3
    first = real_chest_u8.astype(np.float64)  # no window in the file: the frame's full range
    expected = (first - first.min()) / (first.max() - first.min())
    np.testing.assert_allclose(img.pixels, expected, atol=1e-6)
    assert any("3 frames" in n for n in img.meta.notes)


def test_rgb_dicom_becomes_grey(make_dicom, real_chest_u8) -> None:
    rgb = np.stack([real_chest_u8] * 3, axis=-1)
    img = load_image(make_dicom("rgb.dcm", rgb, photometric="RGB"))
    np.testing.assert_allclose(img.pixels, real_chest_u8 / 255.0, atol=1e-6)


def test_no_pixel_data(template_ds, tmp_path) -> None:
    ds = template_ds.copy()
    del ds.PixelData
    path = tmp_path / "nopixels.dcm"
    ds.save_as(path)
    with pytest.raises(NoPixelDataError, match=r"nopixels\.dcm: is a DICOM file without pixel"):
        load_image(path)


def test_truncated_pixel_data(make_dicom, real_chest_u8, tmp_path) -> None:
    path = make_dicom("full.dcm", real_chest_u8.astype(np.uint16))
    data = path.read_bytes()
    cut = tmp_path / "cut.dcm"
    cut.write_bytes(data[: len(data) - 20000])
    with pytest.raises(TruncatedFileError, match=r"cut\.dcm: .*truncated"):
        load_image(cut)


def test_ct_is_refused(make_dicom, real_chest_u8) -> None:
    path = make_dicom("ct.dcm", real_chest_u8, Modality="CT")
    with pytest.raises(NotARadiographError, match=r"ct\.dcm: is a CT \(computed tomography\)"):
        load_image(path)


def test_mr_is_refused(make_dicom, real_chest_u8) -> None:
    with pytest.raises(NotARadiographError, match=r"MR \(magnetic resonance\)"):
        load_image(make_dicom("mr.dcm", real_chest_u8, Modality="MR"))


def test_oversized_declared_dimensions_refused_before_decoding(make_dicom, real_chest_u8):
    path = make_dicom("huge.dcm", real_chest_u8)
    ds = pydicom.dcmread(path)
    ds.Rows = ds.Columns = 10000  # 100 megapixels declared, 16 kB of data
    ds.save_as(path)
    with pytest.raises(ImageTooLargeError, match=r"huge\.dcm: declares 10000 × 10000 pixels"):
        load_image(path)


def test_unsupported_transfer_syntax(make_dicom, real_chest_u8) -> None:
    path = make_dicom("mpeg.dcm", real_chest_u8)
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.100"  # MPEG2 video
    ds.PixelData = encapsulate([b"\x00\x00\x01\xb3" + bytes(60)])
    ds.save_as(path)
    with pytest.raises(UnsupportedTransferSyntaxError, match=r"mpeg\.dcm: uses transfer syntax "
                       r"MPEG2 .*1\.2\.840\.10008\.1\.2\.4\.100.*cannot decode"):
        load_image(path)


def test_empty_file(tmp_path) -> None:
    path = tmp_path / "empty.dcm"
    path.write_bytes(b"")
    with pytest.raises(RadiAIError, match=r"empty\.dcm: is empty \(0 bytes\)"):
        load_image(path)


def test_garbage_named_dcm(tmp_path) -> None:
    path = tmp_path / "garbage.dcm"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(NotAnImageError, match=r"garbage\.dcm: is not a DICOM file or an image"):
        load_image(path)


def test_preamble_but_broken_header(tmp_path) -> None:
    path = tmp_path / "broken.dcm"
    path.write_bytes(DICOM["nih_cardiomegaly"].read_bytes()[:200])
    with pytest.raises(RadiAIError, match=r"broken\.dcm: .*(truncated|damaged|pixel data)"):
        load_image(path)


def _with_three_byte_rows(template_ds) -> pydicom.Dataset:
    """A real header whose Rows (US) is replaced by 3 raw bytes pydicom cannot read as an
    unsigned short: the file is damaged, found when the value is first converted."""
    import copy

    from pydicom.dataelem import RawDataElement
    from pydicom.tag import Tag

    ds = copy.deepcopy(template_ds)
    tag = Tag(0x0028, 0x0010)  # Rows (US): 3 bytes cannot be an unsigned short
    ds._dict[tag] = RawDataElement(tag, "US", 3, b"\x01\x02\x03", 0, False, True)
    return ds


def test_a_damaged_element_is_the_files_fault(tmp_path, template_ds) -> None:
    from radiai_core.errors import DamagedFileError
    from radiai_core.reading.dicom_io import damaged_header

    ds = _with_three_byte_rows(template_ds)
    with pytest.raises(DamagedFileError, match=r"odd\.dcm: is a damaged DICOM file: .*"
                                               r"even multiple of bytes per value"):
        with damaged_header(tmp_path / "odd.dcm"):
            ds.Rows  # noqa: B018 - pydicom converts the raw element here


@pytest.mark.parametrize("bug", [KeyError("window"), TypeError("unsupported operand"),
                                 IndexError("list index out of range"),
                                 AttributeError("'NoneType' object has no attribute 'x'")])
def test_radiais_own_errors_are_bugs_not_damaged_files(tmp_path, template_ds, bug) -> None:
    """The same exception types raised by RadiAI's code (not by pydicom) propagate as they
    are: the faces log them with their traceback and report a bug, never "copy it again"."""
    from radiai_core.reading.dicom_io import damaged_header, raised_by_decoder

    with pytest.raises(type(bug)) as caught:
        with damaged_header(tmp_path / "fine.dcm"):
            raise bug
    assert not raised_by_decoder(caught.value)
