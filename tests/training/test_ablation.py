"""Pairwise comparison of finalized classifiers (the lung-input ablation's tool)."""

from __future__ import annotations

import io
import json
import shutil

import pytest

from radiai_core.cli import main
from radiai_core.resources import models_dir
from radiai_core.training.ablation import compare_runs, format_table

from ..samples import KERMANY_DIR

pytestmark = pytest.mark.slow


@pytest.fixture
def two_models(tmp_path):
    """The shipped classifier, and the same weights told to look at a lung-box crop."""
    plain, crop = tmp_path / "plain", tmp_path / "crop"
    for dest in (plain, crop):
        shutil.copytree(models_dir() / "classifier", dest,
                        ignore=shutil.ignore_patterns("*.keras", "*.png"))
    manifest = json.loads((crop / "manifest.json").read_text())
    manifest["preprocessing"]["lung_input"] = "crop"
    manifest["training"]["config"]["val_fraction"] = 0.5  # enough of the 20 samples
    (crop / "manifest.json").write_text(json.dumps(manifest))
    manifest["preprocessing"]["lung_input"] = "plain"
    (plain / "manifest.json").write_text(json.dumps(manifest))
    return plain, crop


def test_compare_is_paired_and_reports_differences(two_models) -> None:
    plain, crop = two_models
    csv = KERMANY_DIR / "index.csv"
    result = compare_runs({"plain": plain, "crop": crop}, csv, "plain", n_boot=50)
    assert result["n"] >= 8
    assert result["models"]["plain"]["lung_input"] == "plain"
    assert result["models"]["crop"]["lung_input"] == "crop"
    assert "difference_ci95" not in result["models"]["plain"]
    ci = result["models"]["crop"]["difference_ci95"]["accuracy"]
    assert -1 <= ci[0] <= ci[1] <= 1
    same = compare_runs({"a": plain, "b": plain}, csv, "a", n_boot=20)
    assert same["models"]["b"]["difference_ci95"]["accuracy"] == [0.0, 0.0]
    assert "crop" in format_table(result)
    long = {**result, "models": {"shipped": result["models"]["plain"],
                                 "second_stage_224px": result["models"]["crop"]}}
    header, *rows = format_table(long).splitlines()[1:]
    # every row's input column starts where the header's does, whatever the names' lengths
    assert {row.index("plain") if "plain" in row else row.index("crop") for row in rows} == {
        header.index("input")}


def test_compare_averages_every_combination_of_models(two_models) -> None:
    plain, crop = two_models
    result = compare_runs({"a": plain, "b": plain, "c": crop}, KERMANY_DIR / "index.csv", "a",
                          n_boot=5, ensembles=True)
    ens = result["ensembles"]
    assert set(ens) == {"a+b", "a+c", "b+c", "a+b+c"}
    # the mean of a model with itself is that model
    for key in ("auc", "accuracy", "auc_bacterial_vs_viral", "threshold"):
        assert ens["a+b"][key] == pytest.approx(result["models"]["a"][key])
    # plain and crop inputs give different probabilities, so their mean is a new model (its
    # Youden threshold, a score, is neither's; an AUC on a few images may tie with one)
    assert ens["a+c"]["threshold"] not in (result["models"]["a"]["threshold"],
                                           result["models"]["c"]["threshold"])
    table = format_table(result)
    assert "a+b+c" in table and "mean probabilities" in table
    assert "ensembles" not in compare_runs({"a": plain, "b": crop}, KERMANY_DIR / "index.csv",
                                           "a", n_boot=5)


def test_compare_from_the_command_line(two_models, tmp_path) -> None:
    plain, crop = two_models
    out = io.StringIO()
    code = main(["train", "compare", f"plain={plain}", f"crop={crop}", "--csv",
                 str(KERMANY_DIR / "index.csv"), "--n-boot", "20", "--json-out",
                 str(tmp_path / "c.json")], out=out)
    assert code == 0
    assert json.loads((tmp_path / "c.json").read_text())["reference"] == "plain"
    assert "paired patient bootstrap" in out.getvalue()
