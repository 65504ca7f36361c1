"""The shipped explanation (radiai_core.analysis.explain): an occlusion map of the model's own
log-odds, batched on the shipped runtime, computed only when a finding is explained, and
faithful by a deletion test on a real pneumonia radiograph."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from radiai_core.analysis import Analyzer, load_models
from radiai_core.analysis.explain import (
    BatchRunner,
    blurred,
    drops_to_map,
    finding_targets,
    grid_masks,
    log_odds,
)
from radiai_core.reading.io import load_image

from ..samples import KERMANY_BACTERIAL, KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def models():
    return load_models()


@pytest.fixture
def analyzer(models) -> Analyzer:
    return Analyzer(models)  # a fresh one: no explanation built yet


def top_fraction(heat: np.ndarray, fraction: float = 0.15) -> np.ndarray:
    k = int(round(fraction * heat.size))
    idx = np.argsort(-heat.ravel(), kind="stable")[:k]
    m = np.zeros(heat.size, np.float32)
    m[idx] = 1.0
    return m.reshape(heat.shape)


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


def test_the_shipped_map_beats_random_regions_in_a_deletion_test(analyzer) -> None:
    a = analyzer.analyze(KERMANY_BACTERIAL)
    f = a.findings[0]
    assert a.call == "pneumonia" and f.cam_label in ("bacterial", "viral")
    assert f.heatmap.shape == a.image.shape and f.heatmap.dtype == np.float32
    assert f.heatmap.min() >= 0.0 and f.heatmap.max() == pytest.approx(1.0)
    # the model's own map, not clipped to the lung contour
    assert f.heatmap[~a.mask].max() > 0.05
    assert f.zones and f.zones[-1].name == "outside the lungs"

    clf = analyzer.models.classifier
    image = load_image(KERMANY_BACTERIAL)
    front = clf.front(image.pixels)
    neg = clf.labels.index(clf.negative_label)
    targets = [i for i in range(len(clf.labels)) if i != neg]
    heat = cv2.resize(f.heatmap, front.shape[::-1], interpolation=cv2.INTER_AREA)
    fill = blurred(front)

    def score(region: np.ndarray) -> float:
        return float(log_odds(clf.predict(front + region * (fill - front))[0][None],
                              targets)[0])

    base = score(np.zeros_like(front))
    drop = base - score(top_fraction(heat))
    rng = np.random.default_rng(0)
    random_drops = []
    for _ in range(3):
        field = cv2.GaussianBlur(rng.standard_normal(front.shape).astype(np.float32), (0, 0),
                                 0.075 * max(front.shape))
        random_drops.append(base - score(top_fraction(field)))
    assert drop > 0.5
    assert drop > max(random_drops)


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
