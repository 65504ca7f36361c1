"""The model-selection protocol: stresses, cohorts, where the heat map points."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.cli import main
from radiai_core.reading.io import load_image
from radiai_core.training.protocol import (
    STRESSES,
    cohort,
    explained_finding,
    heat_figures,
    pointing,
    read_boxes,
    stressed,
)

from ..samples import KERMANY_BACTERIAL, KERMANY_DIR, KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


def test_every_stress_gives_a_radiograph_and_is_repeatable() -> None:
    image = load_image(KERMANY_NORMAL)
    h, w = image.shape
    for name in STRESSES:
        out = stressed(image, name)
        assert out.pixels.dtype == np.float32 and out.pixels.ndim == 2, name
        assert 0.0 <= out.pixels.min() and out.pixels.max() <= 1.0, name
        assert np.array_equal(out.pixels, stressed(image, name).pixels), name  # seeded
        assert (out.meta.rows, out.meta.columns) == out.shape
    assert stressed(image, "borders cropped 10 %").shape == (h - 2 * int(h * 0.1),
                                                              w - 2 * int(w * 0.1))
    padded = stressed(image, "borders padded 10 % (black)").pixels
    assert padded.shape == (h + 2 * int(h * 0.1), w + 2 * int(w * 0.1)) and padded[0, 0] == 0
    erased = stressed(image, "corners erased (markers, letters)").pixels
    assert erased[0, 0] == erased[-1, -1] == pytest.approx(float(np.median(image.pixels)))
    assert np.array_equal(erased[h // 2], image.pixels[h // 2])  # the middle is untouched
    assert stressed(image, "none").pixels is not None


def test_cohorts_from_file_names() -> None:
    from radiai_core.training.datasets import read_table

    cohorts = {cohort(s) for s in read_table(KERMANY_DIR / "index.csv")}
    assert {"normal NORMAL2-IM- series", "bacterial pneumonia", "viral pneumonia"} <= cohorts


def test_pointing_and_concentration_on_a_real_heat_map(analyzer) -> None:
    a = explained_finding(analyzer, load_image(KERMANY_BACTERIAL))
    assert a.cam_label in ("bacterial", "viral") and a.heatmap is not None
    py, px = np.unravel_index(int(np.argmax(a.heatmap)), a.heatmap.shape)
    hit = pointing(a, (px - 10, py - 10, 20, 20))
    assert hit["hit"] and 0 < hit["mass_in_box"] < 1
    assert hit["box_share"] == pytest.approx(400 / a.heatmap.size)
    far = (0, 0, 5, 5) if (py > 20 or px > 20) else (200, 200, 5, 5)
    assert not pointing(a, far)["hit"]
    f = heat_figures(a)
    assert f["concentration"] == pytest.approx(f["mass_in_lungs"] / f["lung_share"])
    assert 0 < f["lung_share"] < 1 and isinstance(f["peak_in_lungs"], bool)


def test_boxes_table_is_read_and_checked(tmp_path) -> None:
    from radiai_core.errors import DataError

    table = tmp_path / "boxes.csv"
    table.write_text("path,finding,x,y,w,h\nimg.jpg,Pneumonia,1,2,3,4\nimg2.jpg,Mass,1,1,1,1\n")
    rows = read_boxes(table)
    assert len(rows) == 1 and rows[0]["box"] == (1.0, 2.0, 3.0, 4.0)
    assert rows[0]["path"] == tmp_path / "img.jpg"
    (tmp_path / "bad.csv").write_text("path,x\nimg.jpg,1\n")
    with pytest.raises(DataError, match="has no column"):
        read_boxes(tmp_path / "bad.csv")


def test_evaluate_with_the_protocol(tmp_path) -> None:
    boxes = tmp_path / "boxes.csv"
    # The whole image: the map's peak is inside it, and all of its mass.
    boxes.write_text(f"path,finding,x,y,w,h\n{KERMANY_BACTERIAL},Pneumonia,0,0,224,224\n")
    out = io.StringIO()
    code = main(["evaluate", "--csv", str(KERMANY_DIR / "index.csv"), "--protocol", "--json",
                 "--boxes", str(boxes)], out=out)
    assert code == 0
    p = json.loads(out.getvalue().splitlines()[-1])["protocol"]
    assert set(p["stress"]) == set(STRESSES)
    assert p["stress"]["none"]["n"] == 20 and p["stress"]["none"]["auc"] > 0.9
    assert all(0.0 <= v["specificity"] <= 1.0 for v in p["stress"].values())
    assert p["cohorts"]["bacterial pneumonia"]["n"] == 8
    h = p["heat_map_on_lungs"]
    assert h["n"] > 0
    # the shipped map's deletion and insertion tests, with their definitions (issue 28)
    assert h["faithfulness"]["n"] == h["n"] and 0 <= h["faithfulness"][
        "deletion_beats_every_random"] <= 1
    assert "deletion: blur" in h["definitions"] and "insertion" in h["definitions"]
    g = p["pointing_game"]
    assert g["n"] == 1 and g["hits"] == 1 and "bypassed" in g["gate"]
    assert g["median_mass_in_box"] == pytest.approx(1.0) and g["median_box_share"] == 1.0


def test_the_pointing_game_on_a_known_map() -> None:
    """A map with its peak at (x 30, y 50) and a quarter of its mass in a known box."""
    from types import SimpleNamespace

    from radiai_core.training.protocol import pointing

    heat = np.zeros((100, 100), np.float32)
    heat[50, 30] = 3.0  # the peak
    heat[80:82, 80:82] = 0.25  # 1.0 in all, far from the peak
    a = SimpleNamespace(heatmap=heat)
    hit = pointing(a, (20, 40, 20, 20))  # x 20-39, y 40-59: holds the peak
    assert hit == {"hit": True, "mass_in_box": 0.75, "box_share": 0.04}
    miss = pointing(a, (70, 70, 20, 20))
    assert miss == {"hit": False, "mass_in_box": 0.25, "box_share": 0.04}
    assert pointing(SimpleNamespace(heatmap=np.zeros((4, 4))), (0, 0, 4, 4)) is None


def test_the_threshold_rule_takes_the_highest_threshold_at_the_median_sensitivity() -> None:
    from radiai_core.training.protocol import rule_threshold

    y = np.array([1] * 20 + [0] * 20)
    good = np.r_[np.linspace(0.6, 1.0, 20), np.linspace(0.0, 0.5, 20)]
    broken = np.r_[np.linspace(0.0, 0.4, 20), np.linspace(0.0, 0.4, 20)]  # one stress fails
    r = rule_threshold({"none": (y, good), "a": (y, good + 0.01), "padded": (y, broken)})
    # The median over stresses keeps 95 % sensitivity: 19 of 20 positives of the good ones.
    assert r["median_sensitivity"] >= 0.95
    assert r["threshold"] == pytest.approx(0.621, abs=0.002)
    assert r["median_specificity"] == 1.0
