"""The shipped explanation (radiai_core.analysis.explain): an occlusion map of the model's own
log-odds, batched on the shipped runtime, computed only when a finding is explained, and
faithful by a deletion test on a real pneumonia radiograph."""

from __future__ import annotations

import numpy as np
import pytest

from radiai_core.analysis import Analyzer, load_models
from radiai_core.analysis.explain import (
    BatchRunner,
    drops_to_map,
    finding_targets,
    grid_masks,
    log_odds,
)
from radiai_core.reading.io import load_image
from radiai_core.training.faithfulness import summary
from radiai_core.training.protocol import explained_finding, map_faithfulness

from ..samples import KERMANY_BACTERIAL, KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models():
    return load_models()


@pytest.fixture
def analyzer(models) -> Analyzer:
    return Analyzer(models)  # a fresh one: no explanation built yet


def test_a_negative_call_computes_no_map(analyzer) -> None:
    a = analyzer.analyze(KERMANY_NORMAL)
    f = a.findings[0]
    assert a.call == "no pneumonia"
    assert f.cam_label is None and f.heatmap is None and f.zones == [] and f.boxes == []
    assert a.timings_ms["explain"] == 0.0
    assert analyzer._explainers == {}  # the batched interpreter was never even built
    # asked for a label, the same image gets a map of that label
    asked = analyzer.analyze(KERMANY_NORMAL, cam_label="bacterial")
    assert asked.findings[0].heatmap is not None and asked.findings[0].zones


def test_the_shipped_map_is_the_models_own_at_image_resolution(analyzer) -> None:
    a = analyzer.analyze(KERMANY_BACTERIAL)
    f = a.findings[0]
    assert a.call == "pneumonia" and f.cam_label in ("bacterial", "viral")
    assert f.heatmap.shape == a.image.shape and f.heatmap.dtype == np.float32
    assert f.heatmap.min() >= 0.0 and f.heatmap.max() == pytest.approx(1.0, abs=1e-3)
    # not clipped to the lung contour: the image outside the lungs is measured too
    assert f.heatmap[~a.mask].max() > 0.05
    assert f.zones and f.zones[-1].name == "outside the lungs"


def test_the_shipped_map_beats_random_regions_in_a_deletion_test(analyzer) -> None:
    """The deletion test of the card on the twelve pneumonia radiographs of tests/data: the
    map's top 15 % blurred lowers the pneumonia log-odds more than every one of three random
    regions of the same size in most images, and by far more at the median (blurring random
    regions often raises the score: the ratio of the card is not defined on a dozen)."""
    rows = []
    for i, path in enumerate(sorted((KERMANY_BACTERIAL.parent).glob("person*.jpeg"))):
        a = explained_finding(analyzer, load_image(path))
        rows.append(map_faithfulness(analyzer, a, np.random.default_rng(i)))
    s = summary(rows)
    assert s["n"] == 12
    assert s["deletion_beats_every_random"] >= 2 / 3
    assert s["median_drop"] > 0.5
    assert s["median_drop"] > s["median_random_drop"] + 0.5


def test_the_default_map_explains_the_call_and_an_asked_one_its_label() -> None:
    labels = ["normal", "bacterial", "viral"]
    assert finding_targets(labels, "viral", "normal", False, asked=False) == [1, 2]
    assert finding_targets(labels, "viral", "normal", False, asked=True) == [2]
    assert finding_targets(labels, "normal", "normal", False, asked=True) == [0]
    assert finding_targets(["a", "b"], "b", None, True, asked=False) == [1]
    p = np.array([[0.2, 0.5, 0.3], [0.5, 0.25, 0.25]])
    assert log_odds(p, [1, 2]) == pytest.approx([np.log(4.0), 0.0])


def test_grid_patches_cover_the_image_and_the_map_points_at_the_largest_drop() -> None:
    masks = grid_masks((160, 160), 0.25, 0.25)
    assert masks.shape == (16, 160, 160) and (masks.sum(axis=0) == 1).all()
    rect = grid_masks((160, 160), (0.25, 0.34), (0.25, 0.33))
    assert rect.shape[0] == 12 and (rect.sum(axis=0) >= 1).all()
    drops = np.zeros(16)
    drops[9] = 2.0  # row 2, column 1
    drops[3] = -1.0  # removing this patch raised the score: no evidence there
    heat = drops_to_map(drops, masks, 0.0)
    assert heat.max() == 1.0 and heat[100, 60] == 1.0 and heat[20, 140] == 0.0
    assert (drops_to_map(-np.ones(16), masks, 5.0) == 0).all()


def test_the_batched_runtime_gives_the_analysis_own_probabilities(models) -> None:
    clf = models.classifier
    runner = BatchRunner(clf.folder / clf.manifest["runtime"]["litert"])
    front = clf.front(load_image(KERMANY_BACTERIAL).pixels)
    x = np.stack([clf.back(front), clf.back(front[::-1].copy())])
    batch = runner.probabilities(x)
    assert batch.shape == (2, len(clf.labels))
    assert np.abs(batch[0] - clf.predict(front)[0]).max() < 1e-4
    assert np.abs(batch[1] - clf.predict(front[::-1].copy())[0]).max() < 1e-4


def test_the_lung_layout_covers_the_image_once_with_a_grid_on_the_lung_box(models) -> None:
    from radiai_core.analysis.explain import SHIPPED, LungLayout, shipped

    runner = BatchRunner(models.classifier.folder / "classifier.tflite")
    assert isinstance(shipped(runner), LungLayout) and SHIPPED["rows"] * SHIPPED["cols"] == 12
    lungs = np.zeros((160, 160), bool)
    lungs[40:120, 30:70] = True  # the patient's right lung
    lungs[40:120, 90:130] = True
    layout = LungLayout(runner, 3, 4)
    regions = layout.regions(lungs)
    assert regions.shape == (16, 160, 160) and layout.passes == 16
    assert (regions.sum(axis=0) == 1).all()  # disjoint, and nothing left unmeasured
    box = regions[:12].sum(axis=0) > 0  # the grid: the lung box grown by 6 % (10 px)
    ys, xs = np.nonzero(box)
    assert (ys.min(), ys.max(), xs.min(), xs.max()) == (30, 129, 20, 139)
    assert all(r.sum() > 0 for r in regions)
    # lungs touching the border: the band there is empty, the batch keeps its size
    edge = np.zeros((160, 160), bool)
    edge[0:150, 5:155] = True
    assert LungLayout(runner, 3, 4).regions(edge).shape[0] == 16
    zones = LungLayout(runner, zones=True).regions(lungs)
    assert zones.shape[0] == 11 and (zones.sum(axis=0) == 1).all()
