"""Deletion and insertion tests (radiai_core.training.faithfulness): a known answer on a
synthetic score, and the protocol's figures for the shipped map on a real pneumonia image."""

from __future__ import annotations

import numpy as np
import pytest

from radiai_core.analysis import Analyzer, load_models
from radiai_core.reading.io import load_image
from radiai_core.training.faithfulness import (
    FRACTION,
    Faithfulness,
    deletion_insertion,
    random_field,
    summary,
    top_mask,
)
from radiai_core.training.protocol import explained_finding, map_faithfulness

from ..samples import KERMANY_BACTERIAL


def test_top_mask_takes_the_fraction_where_the_map_is_highest() -> None:
    rng = np.random.default_rng(0)
    heat = np.arange(100, dtype=np.float32).reshape(10, 10)
    m = top_mask(heat, 0.15, rng)
    assert m.sum() == 15 and m[-1].all() and m[-2, 5:].all() and not m[:8].any()
    field = random_field((64, 64), rng)
    assert field.shape == (64, 64) and abs(float(np.corrcoef(field[:, :-1].ravel(),
                                                             field[:, 1:].ravel())[0, 1])) > 0.9


def test_a_map_on_what_the_score_reads_beats_random_regions() -> None:
    """The score reads the texture of one square (its fine detail, which blur erases): the map
    marking that square drops it far more than random regions, and restores it on insertion."""
    rng = np.random.default_rng(1)
    x = np.full((80, 80), 0.5, np.float32)
    x[10:45, 40:75] = rng.random((35, 35)) > 0.5  # a sharp texture
    square = np.zeros_like(x)
    square[10:45, 40:75] = 1.0

    def score(batch: np.ndarray) -> np.ndarray:
        return np.array([10 * float(np.abs(np.diff(b[10:45, 40:75], axis=1)).mean())
                         for b in batch])

    out = deletion_insertion(x, {"right": square, "wrong": 1 - square}, score, rng)
    assert out["right"].beats_random and out["right"].gain_beats_random
    assert out["right"].drop > 3 * np.mean(out["right"].random_drops) > 0
    assert out["wrong"].drop < out["right"].drop
    s = summary([out["right"]])
    assert s["n"] == 1 and s["deletion_beats_every_random"] == 1.0
    assert s["deletion_ratio_median"] > 3
    assert square.mean() > FRACTION  # the top 15 % of the map lie all inside the square


def test_summary_of_known_rows() -> None:
    rows = [Faithfulness(2.0, (0.5, 1.0, 1.5), 1.0, (0.1, 0.2, 0.3)),
            Faithfulness(0.5, (1.0, 1.0, 1.0), 0.0, (0.1, 0.1, 0.1))]
    s = summary(rows)
    assert s["deletion_ratio_median"] == pytest.approx((2.0 + 0.5) / 2)
    assert s["deletion_beats_every_random"] == 0.5
    assert s["insertion_beats_every_random"] == 0.5
    assert s["median_drop"] == pytest.approx(1.25)


@pytest.mark.slow
def test_the_shipped_map_of_a_real_pneumonia_image_beats_random_regions() -> None:
    analyzer = Analyzer(load_models())
    a = explained_finding(analyzer, load_image(KERMANY_BACTERIAL))
    assert a.call == "pneumonia" and a.heatmap is not None
    f = map_faithfulness(analyzer, a, np.random.default_rng(0))
    assert f.drop > 0.2 and f.beats_random
