"""The chest gate refuses non-chest images with a reason and lets radiographs through."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer

from ..samples import DATA, DICOM, KERMANY_DIR, KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


@pytest.mark.parametrize("path", [KERMANY_NORMAL, KERMANY_DIR / "images" /
                                  "person1946_bacteria_4874.jpeg"], ids=lambda p: p.name[:24])
def test_pediatric_chest_radiographs_pass(analyzer: Analyzer, path) -> None:
    a = analyzer.analyze(path)
    assert a.status == "ok", a.message
    assert a.refused_by is None
    assert a.age is not None and a.age.source == "image" and a.age.estimate == "child"
    assert "estimated from the image: child" in a.age.describe()
    assert [m.kind for m in a.models] == ["classifier", "lung_mask", "gate"]
    assert a.models[2].name == analyzer.models.gate.info.name
    assert a.models[2].version.startswith("4.")


@pytest.mark.parametrize(("key", "years"), [("jpeg_baseline", 62), ("nih_cardiomegaly", 58),
                                            ("nih_nofinding", 81), ("j2k_mono1", 64)])
def test_adult_dicoms_are_refused_by_their_header_age(analyzer: Analyzer, key, years) -> None:
    a = analyzer.analyze(DICOM[key])
    assert a.status == "rejected" and a.refused_by == "child", a.message
    assert f"aged {years} years (DICOM header)" in a.message
    assert a.age is not None and a.age.source == "header" and int(a.age.years) == years
    # Refused: no findings, but the lung contour stays for the viewer.
    assert a.probabilities == {} and a.call is None and a.heatmap is None and a.boxes == []
    assert a.mask is not None and a.mask.shape == a.image.shape and a.mask.any()
    d = a.to_dict()
    assert d["status"] == "rejected" and d["refused_by"] == "child"
    assert d["age"]["source"] == "header" and d["probabilities"] == {}


SCOPE = DATA / "scope"


@pytest.mark.parametrize(("path", "question", "words"), [
    (SCOPE / "ct_chest" / ("ucsd_covid_2019-novel-Coronavirus-severe-adult-respiratory-dist_2020_"
                           "International-Jour-p3-89_0.jpg"), "chest", None),
    (SCOPE / "ct_head" / "headct_000.jpg", "chest", None),
    (SCOPE / "mri_brain" / "Te-gl_0065.jpg", "chest", None),
    (SCOPE / "ultrasound" / "busi_benign_105.jpg", "chest", None),
    (SCOPE / "knee_xray" / "knee_test_kl0_9083378R.jpg", "chest", None),
    (SCOPE / "lateral_cxr" / "patient64542_study1_view2_lateral.jpg", "frontal", "lateral"),
    (SCOPE / "lateral_cxr" / "patient64567_study1_view2_lateral.jpg", "frontal", "lateral"),
    (SCOPE / "openist" / "122-131-500-500-100.jpg", "child", "adult"),
    (SCOPE / "hannover" / "0578e08b.jpg", "child", "adult"),
    (SCOPE / "chexpert" / "patient64541_study1_view1_frontal.jpg", "child", "adult"),
], ids=lambda v: v.parent.name if isinstance(v, Path) else str(v))
def test_held_out_images_outside_the_intended_use_are_refused(analyzer: Analyzer, path,
                                                              question, words) -> None:
    """Real images the gate never saw (its held-out side, tests/data/scope): each refused by
    the question it fails, with that reason."""
    a = analyzer.analyze(path)
    assert a.status == "rejected", (path.name, a.age)
    assert a.refused_by == question, (path.name, a.message)
    if words:
        assert words in a.message
    if question == "child":
        assert a.age is not None and a.age.estimate == "adult" and "estimated" in a.message


def _with_header(make_dicom, path: Path, **attrs) -> Path:
    from radiai_core.reading.io import load_image

    pixels = np.round(load_image(path).pixels * 255).astype(np.uint8)
    return make_dicom(f"{path.stem}.dcm", pixels, Modality="DX", **attrs)


def test_the_header_decides_age_and_view(analyzer: Analyzer, make_dicom) -> None:
    """A pediatric radiograph in a DICOM: a child's age in the header passes and is shown; an
    adult's age refuses it (the header wins over the image); View Position LL refuses it."""
    child = _with_header(make_dicom, KERMANY_NORMAL, PatientAge="003Y")
    a = analyzer.analyze(child)
    assert a.status == "ok", a.message
    assert a.age.source == "header" and a.age.describe() == "3 years (from the DICOM header)"
    teen = _with_header(make_dicom, KERMANY_NORMAL, PatientAge="012Y")
    a = analyzer.analyze(teen)
    assert a.status == "ok" and "outside the ages of the training patients" in a.age.describe()
    adult = _with_header(make_dicom, KERMANY_NORMAL, PatientAge="030Y")
    a = analyzer.analyze(adult)
    assert a.status == "rejected" and a.refused_by == "child" and "30 years" in a.message
    by_dates = _with_header(make_dicom, KERMANY_NORMAL, PatientAge="",
                            PatientBirthDate="19900101", StudyDate="20250101")
    a = analyzer.analyze(by_dates)
    assert a.refused_by == "child" and "35 years" in a.message
    lateral = _with_header(make_dicom, KERMANY_NORMAL, PatientAge="003Y", ViewPosition="LL")
    a = analyzer.analyze(lateral)
    assert a.status == "rejected" and a.refused_by == "frontal" and "View Position LL" in a.message


def test_a_replaced_or_damaged_gate_file_is_refused(tmp_path) -> None:
    """Every file the gate's manifest lists is checked against its sha256, and a manifest that
    is not JSON is a clear ModelError, not a JSONDecodeError."""
    import shutil

    from radiai_core.analysis.gate import ChestGate
    from radiai_core.errors import ModelError
    from radiai_core.resources import models_dir

    for name in ("scope.npz", "atypicality.npz", "inversion.npz"):
        gate = tmp_path / name / "gate"
        shutil.copytree(models_dir() / "gate", gate)
        data = bytearray((gate / name).read_bytes())
        data[-10] ^= 0xFF
        (gate / name).write_bytes(bytes(data))
        with pytest.raises(ModelError, match="does not match the checksum"):
            ChestGate(gate)
    gate = tmp_path / "json" / "gate"
    shutil.copytree(models_dir() / "gate", gate)
    (gate / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="manifest.json cannot be read"):
        ChestGate(gate)


def _skimage(name: str):
    import skimage.data

    from radiai_core.reading.io import load_image

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
    from radiai_core.analysis.gate import lung_confidence
    from radiai_core.reading.io import load_image

    image = load_image(KERMANY_NORMAL)
    seg = analyzer.models.lung_mask

    def gain(pixels):
        front = seg.front(pixels)
        return lung_confidence(seg.predict(1 - front)) - lung_confidence(seg.predict(front))

    assert gain(image.pixels) < 0 < gain(1.0 - image.pixels)


def test_inversion_head_tells_a_radiograph_from_its_negative(analyzer: Analyzer) -> None:
    """The shipped gate's inversion head (on the classifier's pooled features) puts the sample
    radiographs below its bound and their negatives above it; the gate then skips the
    extra lung-model pass of the inverse-gain feature, which it has no bound on."""
    from radiai_core.reading.image import XrayImage
    from radiai_core.reading.io import load_image

    gate = analyzer.models.gate
    bound = gate.bounds["inversion"]["max"]
    assert not gate.uses("inverse_gain")
    for path in (KERMANY_NORMAL, DICOM["nih_cardiomegaly"], DICOM["j2k_mono1"]):
        image = load_image(path)
        negative = XrayImage(pixels=1.0 - image.pixels, meta=image.meta, values=image.values)
        scores = []
        for img in (image, negative):
            clf, seg = analyzer.models.classifier, analyzer.models.lung_mask
            front = clf.front(img.pixels)
            prob = seg.predict(seg.front_for(img.pixels, front, clf.front))
            mask = prob > 0.5
            _, feats = clf.predict(front)
            f = analyzer.gate_features(img, front, prob, mask, feats)
            assert f.inverse_gain is None
            scores.append(f.inversion)
        assert scores[0] < bound < scores[1], path.name
        a = analyzer.analyze(negative)  # (the first rule it fails gives the reason)
        assert a.status == "rejected" and a.probabilities == {}, path.name


def test_a_bound_on_a_feature_not_measured_is_a_bug_not_a_pass(analyzer: Analyzer) -> None:
    from dataclasses import replace

    from radiai_core.analysis.gate import GateFeatures

    gate = analyzer.models.gate
    ok = GateFeatures(contrast=0.2, min_side=1024, colourfulness=0.0, lung_fraction=0.25,
                      lung_balance=0.8, mask_confidence=0.97, polarity=0.2, atypicality=1.0,
                      inversion=-8.0)
    assert gate.check(ok) is None
    gate.bounds["inverse_gain"] = {"max": 0.1}
    try:
        with pytest.raises(ValueError, match="not measured"):
            gate.check(replace(ok, inverse_gain=None))
        assert gate.check(replace(ok, inverse_gain=0.5)) is not None
    finally:
        del gate.bounds["inverse_gain"]


def test_contrast_on_a_subsample_equals_the_full_image(analyzer: Analyzer) -> None:
    """Contrast is measured on a subsample: the same figure as on every pixel."""
    from radiai_core.analysis.gate import contrast
    from radiai_core.reading.io import load_image

    pixels = load_image(DICOM["j2k_mono1"]).pixels  # 1841 × 1955
    assert abs(contrast(pixels) - float(pixels.std())) < 0.005


def test_atypicality_is_the_distance_to_the_nearer_population(tmp_path) -> None:
    from radiai_core.analysis.gate import Atypicality

    rng = np.random.default_rng(0)
    children = rng.normal(0.0, 1.0, (200, 6))
    adults = rng.normal(5.0, 1.0, (200, 6))
    both = Atypicality.fit([children, adults], n_components=3, seed=0)
    both.save(tmp_path / "a.npz")
    loaded = Atypicality.load(tmp_path / "a.npz")
    one_child = Atypicality.fit([children], n_components=3, seed=0)
    probe = np.array([[0.1] * 6, [5.1] * 6, [20.0] * 6])
    d = loaded(probe)
    assert d[0] < 1.5 and d[1] < 1.5 and d[2] > 5  # typical of either population, or neither
    assert d[0] == pytest.approx(one_child(probe[:1])[0], rel=1e-4)
    # A gate fitted before v3 stored one population without the leading axis.
    old = Atypicality(one_child.mean[0], one_child.components[0], one_child.scales[0])
    assert old(probe) == pytest.approx(one_child(probe))


def test_a_replaced_classifier_head_is_refused(tmp_path) -> None:
    """The classifier's dense head (the heat maps' weights) is checked like its LiteRT file."""
    import shutil

    from radiai_core.analysis.models import Classifier
    from radiai_core.errors import ModelError
    from radiai_core.resources import models_dir

    folder = tmp_path / "classifier"
    shutil.copytree(models_dir() / "classifier", folder,
                    ignore=shutil.ignore_patterns("*.keras", "*.png", "*.csv"))
    data = np.load(folder / "head.npz")
    np.savez(folder / "head.npz", weights=data["weights"] * 1.01)
    with pytest.raises(ModelError, match="head.npz: does not match the checksum"):
        Classifier(folder)
