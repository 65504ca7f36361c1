"""PNG/JPEG/TIFF/BMP loading: bit depths, colour modes, exact values, errors."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from radiai_core.errors import ImageTooLargeError, NotAnImageError, TruncatedFileError
from radiai_core.reading.io import load_image

from ..samples import KERMANY_BACTERIAL, KERMANY_NORMAL


def test_kermany_jpeg() -> None:
    img = load_image(KERMANY_NORMAL)
    expected = np.asarray(Image.open(KERMANY_NORMAL), dtype=np.float64) / 255.0
    assert img.shape == (224, 224)
    assert img.meta.format == "JPEG" and img.meta.photometric == "MONOCHROME2"
    assert img.meta.patient_id is None and img.meta.modality is None
    np.testing.assert_allclose(img.pixels, expected, atol=1e-7)


def test_grey_png_exact(tmp_path) -> None:
    arr = np.asarray(Image.open(KERMANY_BACTERIAL))
    path = tmp_path / "grey.png"
    Image.fromarray(arr).save(path)
    img = load_image(path)
    assert img.meta.format == "PNG" and img.meta.bits_stored == 8
    np.testing.assert_allclose(img.pixels, arr / 255.0, atol=1e-7)


def test_16bit_png_keeps_precision(tmp_path) -> None:
    arr = np.asarray(Image.open(KERMANY_NORMAL)).astype(np.uint16) * 257 + 3
    path = tmp_path / "deep.png"
    Image.fromarray(arr).save(path)
    img = load_image(path)
    assert img.meta.bits_stored == 16
    np.testing.assert_allclose(img.pixels, arr / 65535.0, atol=1e-7)


def test_16bit_tiff(tmp_path) -> None:
    arr = (np.asarray(Image.open(KERMANY_NORMAL)).astype(np.uint16) * 200)
    path = tmp_path / "deep.tiff"
    Image.fromarray(arr).save(path)
    img = load_image(path)
    assert img.meta.format == "TIFF"
    np.testing.assert_allclose(img.pixels, arr / 65535.0, atol=1e-7)


@pytest.mark.parametrize(("mode", "fmt"), [("RGB", "png"), ("RGBA", "png"), ("P", "png"),
                                           ("RGB", "bmp"), ("P", "bmp"), ("RGB", "tiff")])
def test_colour_modes_become_grey(tmp_path, kermany_rgb, mode, fmt) -> None:
    src = kermany_rgb.convert(mode, palette=Image.Palette.ADAPTIVE) if mode == "P" \
        else kermany_rgb.convert(mode)
    path = tmp_path / f"img.{fmt}"
    src.save(path)
    img = load_image(path)
    grey = np.asarray(Image.open(KERMANY_NORMAL), dtype=np.float64) / 255.0
    assert img.meta.photometric == "RGB"
    # Identical R, G and B give back the grey values (an adaptive palette holds all 256 greys).
    assert img.shape == (224, 224)
    np.testing.assert_allclose(img.pixels, grey, atol=1 / 255 + 1e-6)


def test_truncated_png(tmp_path) -> None:
    path = tmp_path / "cut.png"
    Image.open(KERMANY_NORMAL).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(TruncatedFileError,
                       match=r"cut\.png: is a truncated PNG file: its pixel data ends early"):
        load_image(path)


def test_text_file_refused(tmp_path) -> None:
    path = tmp_path / "notes.dat"
    path.write_text("patient notes, not an image\n")
    with pytest.raises(NotAnImageError, match=r"notes\.dat: is not a DICOM file or an image "
                       r"RadiAI can read \(PNG, JPEG, TIFF, BMP\)"):
        load_image(path)
    # Named as what it plainly is, it is ignored (still a NotAnImageError for callers).
    path = path.rename(tmp_path / "notes.txt")
    with pytest.raises(NotAnImageError, match=r"notes\.txt: is not an image \(a \.txt file\); "
                       "ignored") as err:
        load_image(path)
    assert err.value.kind == "ignored"


def test_over_50_megapixels_refused_before_decoding(tmp_path) -> None:
    path = tmp_path / "huge.png"
    Image.new("L", (8000, 6500)).save(path)  # 52 MP of zeros: a small file
    with pytest.raises(ImageTooLargeError, match=r"huge\.png: is 8000 × 6500 pixels, more than "
                       r"the 50 megapixels"):
        load_image(path)


def test_folder_and_missing_file(tmp_path) -> None:
    with pytest.raises(Exception, match=r"is a folder; open it as a folder"):
        load_image(tmp_path)
    with pytest.raises(Exception, match=r"nothere\.png: does not exist"):
        load_image(tmp_path / "nothere.png")
