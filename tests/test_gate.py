"""The chest gate refuses non-chest images with a reason and lets radiographs through."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from radiai_core.models import load_models
from radiai_core.pipeline import Analyzer

from .samples import DICOM, KERMANY_DIR, KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


@pytest.mark.parametrize("path", [KERMANY_NORMAL, KERMANY_DIR / "images" /
                                  "person1946_bacteria_4874.jpeg", DICOM["jpeg_baseline"],
                                  DICOM["nih_cardiomegaly"]], ids=lambda p: p.name[:24])
def test_chest_radiographs_pass(analyzer: Analyzer, path) -> None:
    a = analyzer.analyze(path)
    assert a.status == "ok", a.message


def _skimage(name: str):
    import skimage.data

    from radiai_core.io import load_image

    path = __import__("pathlib").Path(skimage.data.__file__).parent / name
    return load_image(path)


@pytest.mark.parametrize(("name", "reason"), [
    ("astronaut.png", "colour image"), ("coffee.png", "colour image"),
    ("camera.png", "frontal chest radiograph"), ("moon.png", "frontal chest radiograph"),
    ("text.png", "frontal chest radiograph")])
def test_non_chest_images_refused(analyzer: Analyzer, name: str, reason: str) -> None:
    a = analyzer.analyze(_skimage(name))
    assert a.status == "rejected"
    assert reason in a.message
    assert a.probabilities == {} and a.boxes == [] and a.heatmap is None  # no findings shown


def test_blank_and_inverted_refused(analyzer: Analyzer, tmp_path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (512, 512), 128).save(blank)
    a = analyzer.analyze(blank)
    assert a.status == "rejected" and "uniform" in a.message
    inverted = tmp_path / "inverted.png"
    Image.fromarray(255 - np.asarray(Image.open(KERMANY_NORMAL))).save(inverted)
    a = analyzer.analyze(inverted)
    assert a.status == "rejected", "an inverted radiograph must not be analysed"


def test_too_small_and_negative_images_refused_with_their_reason(analyzer: Analyzer,
                                                                 tmp_path) -> None:
    small = tmp_path / "small.png"
    Image.open(KERMANY_NORMAL).resize((100, 100)).save(small)
    a = analyzer.analyze(small)
    assert a.status == "rejected" and "too small" in a.message
    # The lung model is surer of the lungs of a negative once it is reversed back; on the
    # radiograph itself it is the other way round.
    from radiai_core.gate import lung_confidence
    from radiai_core.io import load_image

    image = load_image(KERMANY_NORMAL)
    seg = analyzer.models.lung_mask

    def gain(pixels):
        front = seg.front(pixels)
        return lung_confidence(seg.predict(1 - front)) - lung_confidence(seg.predict(front))

    assert gain(image.pixels) < 0 < gain(1.0 - image.pixels)


def test_contrast_on_a_subsample_equals_the_full_image(analyzer: Analyzer) -> None:
    """Contrast is measured on a subsample: the same figure as on every pixel."""
    from radiai_core.gate import contrast
    from radiai_core.io import load_image

    pixels = load_image(DICOM["j2k_mono1"]).pixels  # 1841 × 1955
    assert abs(contrast(pixels) - float(pixels.std())) < 0.005
