"""The shipped pipeline on real radiographs: labels from the manifest, probabilities, heat map,
mask and boxes in original pixels, and LiteRT equal to the Keras weights."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.resources import models_dir

from ..samples import DICOM, KERMANY_BACTERIAL, KERMANY_DIR, KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


@pytest.mark.parametrize("source", ["normal", "bacterial", "bacterial-dicom"])
def test_analysis_of_real_radiographs(analyzer: Analyzer, source, tmp_path) -> None:
    """Children's radiographs as JPEGs and in a DICOM (the sample DICOMs are of adults, which
    the gate refuses: tests/analysis/test_gate.py). A positive call explains its most probable
    finding with a heat map and boxes; a negative one has neither (a map of "normal" drawn as
    suspected regions misled readers)."""
    from ..conftest import write_pediatric_dicom

    path = {"normal": KERMANY_NORMAL, "bacterial": KERMANY_BACTERIAL,
            "bacterial-dicom": write_pediatric_dicom(tmp_path / "b.dcm", KERMANY_BACTERIAL)
            }[source]
    a = analyzer.analyze(path)
    if source == "normal":
        assert a.call == "no pneumonia" and a.cam_label is None
        assert a.heatmap is None and a.boxes == [] and a.mask.any()
        return
    manifest = json.loads((models_dir() / "classifier" / "manifest.json").read_text())
    assert a.status == "ok", a.message
    assert list(a.probabilities) == manifest["labels"] == a.labels
    assert abs(sum(a.probabilities.values()) - 1.0) < 1e-4
    assert all(0.0 <= p <= 1.0 for p in a.probabilities.values())
    rows, cols = a.image.shape
    assert a.heatmap.shape == (rows, cols) and a.mask.shape == (rows, cols)
    assert a.heatmap.dtype == np.float32 and 0.0 <= a.heatmap.min() and a.heatmap.max() <= 1.0
    assert a.heatmap.max() > 0.5  # normalised map of the explained finding
    assert 0.05 < a.mask.mean() < 0.6  # lungs found, not the whole image
    assert a.call == "pneumonia"
    findings = {k: v for k, v in a.probabilities.items() if k != "normal"}
    assert a.cam_label == max(findings, key=findings.get)
    for b in a.boxes:
        assert 0 <= b.x and 0 <= b.y and b.x + b.w <= cols and b.y + b.h <= rows
        assert 0.0 < b.score <= 1.0
        # boxes sit on the map's peaks wherever they are (the map is never clipped to the
        # lungs); one flagged as in the lungs overlaps them
        assert not b.in_lungs or a.mask[b.y:b.y + b.h, b.x:b.x + b.w].any()
    assert a.threshold == manifest["threshold"]
    assert a.call in (manifest["positive_call"], "no " + manifest["positive_call"])
    assert set(a.timings_ms) >= {"load", "preprocess", "lung_mask", "classifier", "explain",
                                 "total"}
    d = a.to_dict()
    # The identity is of what ran: the LiteRT file and head the runtime loaded and the
    # manifest itself, each hashed here independently of the code.
    folder = models_dir() / "classifier"
    files = {name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
             for name in ("classifier.tflite", "head.npz", "manifest.json")}
    assert d["model"]["files"] == files
    assert files["classifier.tflite"] == manifest["runtime"]["litert_sha256"]
    lines = "".join(f"{n}\t{files[n]}\n" for n in sorted(files))
    assert d["model"]["sha256"] == hashlib.sha256(
        ("radiai-model-identity-1\n" + lines).encode()).hexdigest()
    assert d["model"]["sha256"] != manifest["sha256"]  # not the training weights' hash
    json.dumps(d)  # serialisable


def test_cam_for_a_requested_class(analyzer: Analyzer) -> None:
    labels = analyzer.models.classifier.labels
    maps = {lab: analyzer.analyze(KERMANY_NORMAL, cam_label=lab).heatmap for lab in labels}
    assert all(m.shape == (224, 224) for m in maps.values())
    assert not np.allclose(maps[labels[0]], maps[labels[1]])


def test_without_explanations_the_same_findings_and_no_map(analyzer: Analyzer) -> None:
    """``explain=False`` (evaluations, which measure probabilities only): the same
    probabilities, decision and positives as a full analysis, no heat map, no boxes."""
    full = analyzer.analyze(KERMANY_BACTERIAL)
    bare = analyzer.analyze(KERMANY_BACTERIAL, explain=False)
    assert full.cam_label is not None and full.heatmap is not None and full.boxes
    assert bare.probabilities == full.probabilities
    assert bare.decision is full.decision and bare.call == full.call == "pneumonia"
    assert bare.primary.positives == full.primary.positives
    assert bare.cam_label is None and bare.heatmap is None and bare.boxes == []
    assert bare.timings_ms["explain"] == 0.0
    with pytest.raises(ValueError, match="explain=False"):
        analyzer.analyze(KERMANY_BACTERIAL, cam_label="viral", explain=False)


def test_sensible_on_the_labelled_samples(analyzer: Analyzer) -> None:
    """The 16 official val images (8 normal, 8 bacterial): pneumonia scores rank pneumonia
    above normal for most pairs. These images are in the patient-grouped validation split that
    chose the threshold (not in training), so this is a sanity check, not an unbiased figure."""
    import csv

    rows = [r for r in csv.DictReader(open(KERMANY_DIR / "index.csv")) if r["split"] == "val"]
    clf = analyzer.models.classifier
    scores = {r["path"]: clf.abnormal_score(np.array(list(analyzer.analyze(
        KERMANY_DIR / r["path"], explain=False).probabilities.values()))) for r in rows}
    pos = [scores[r["path"]] for r in rows if r["label"] != "normal"]
    neg = [scores[r["path"]] for r in rows if r["label"] == "normal"]
    auc = np.mean([p > n for p in pos for n in neg])
    assert auc >= 0.75


def test_litert_reproduces_keras(analyzer: Analyzer) -> None:
    """Whenever weights change, the runtime files must reproduce the Keras models: to 1e-4
    in float32; an int8 runtime (``runtime.precision``, `radiai train quantize`) to within
    its quantization: probabilities to 0.03, lung masks overlapping by 97 % or more."""
    import keras

    from radiai_core.reading.io import load_image
    from radiai_core.training.export import max_difference
    from radiai_core.training.lung_mask import segmentation_models

    clf = analyzer.models.classifier
    x = np.stack([clf.back(clf.front(load_image(p).pixels))[..., None]
                  for p in (KERMANY_NORMAL, KERMANY_BACTERIAL, DICOM["jpeg_baseline"],
                            DICOM["nih_cardiomegaly"])])
    int8 = clf.manifest["runtime"].get("precision", "float32") != "float32"
    assert max_difference(clf.folder / "classifier.keras", clf.folder / "classifier.tflite",
                          x) < (0.03 if int8 else 1e-4)
    seg = analyzer.models.lung_mask
    xs = np.stack([seg.back(seg.front(load_image(p).pixels))[..., None]
                   for p in (KERMANY_NORMAL, KERMANY_BACTERIAL, DICOM["jpeg_baseline"])])
    if seg.manifest["runtime"].get("precision", "float32") == "float32":
        assert max_difference(seg.folder / "lung_mask.keras", seg.folder / "lung_mask.tflite",
                              xs) < 1e-4
        return
    segmentation_models()
    ref = keras.models.load_model(seg.folder / "lung_mask.keras", compile=False).predict(
        xs, verbose=0)[..., 0] >= seg.threshold
    for i, p in enumerate((KERMANY_NORMAL, KERMANY_BACTERIAL, DICOM["jpeg_baseline"])):
        got = seg.predict(seg.front(load_image(p).pixels)) >= seg.threshold
        assert 2 * (got & ref[i]).sum() / (got.sum() + ref[i].sum()) >= 0.97, p.name


def models_with_lung_input(tmp_path, mode: str):
    """A copy of the shipped models (runtime files only) whose classifier manifest asks for
    ``mode``."""
    import shutil

    root = tmp_path / "models"
    shutil.copytree(models_dir(), root, ignore=shutil.ignore_patterns("*.keras", "*.png"))
    path = root / "classifier" / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["preprocessing"]["lung_input"] = mode
    path.write_text(json.dumps(manifest))
    return root


def test_manifest_lung_input_crop_changes_the_input_and_keeps_the_map_in_the_crop(
        tmp_path) -> None:
    root = models_with_lung_input(tmp_path, "crop")
    plain = Analyzer(load_models()).analyze(KERMANY_BACTERIAL)
    crop = Analyzer(load_models(root)).analyze(KERMANY_BACTERIAL, cam_label="bacterial")
    assert crop.status == "ok"
    assert crop.probabilities != plain.probabilities  # the model saw a different image
    assert abs(sum(crop.probabilities.values()) - 1.0) < 1e-4
    # The heat map lives inside the lung box (plus the crop margin) and is zero elsewhere.
    ys, xs = np.nonzero(crop.mask)
    hot_ys, hot_xs = np.nonzero(crop.heatmap > 0)
    assert hot_ys.min() >= ys.min() - 16 and hot_ys.max() <= ys.max() + 16
    assert hot_xs.min() >= xs.min() - 16 and hot_xs.max() <= xs.max() + 16
    assert crop.heatmap.max() > 0.5


def test_unknown_lung_input_in_a_manifest_is_a_model_error(tmp_path) -> None:
    from radiai_core.errors import ModelError

    root = models_with_lung_input(tmp_path, "zoomed")
    with pytest.raises(ModelError, match="lung_input 'zoomed'"):
        load_models(root)


def test_one_label_one_map_and_a_subtype_not_called_says_so(analyzer: Analyzer) -> None:
    """Asking for the finding the positive call already names gives the call's own map (a
    reader clicking it saw a second, different map under the same label); the other
    pneumonia subtype's map is a map of a finding the model did not call."""
    from radiai_core.results.snapshot import not_called

    a = analyzer.analyze(KERMANY_BACTERIAL)
    assert a.call == "pneumonia" and a.cam_label in ("bacterial", "viral")
    again = analyzer.analyze(KERMANY_BACTERIAL, cam_label=a.cam_label)
    np.testing.assert_array_equal(again.heatmap, a.heatmap)
    assert not_called(a.primary, a.cam_label) is None
    other = "viral" if a.cam_label == "bacterial" else "bacterial"
    b = analyzer.analyze(KERMANY_BACTERIAL, cam_label=other)
    assert not np.array_equal(b.heatmap, a.heatmap)
    assert not_called(b.primary, other) == "other"
