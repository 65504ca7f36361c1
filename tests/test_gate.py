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
