"""`radiai train quantize`: the shipped lung mask's Keras weights exported again as float32,
then turned int8 on real training pairs; what it records, what it refuses, what it runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from radiai_core.analysis.models import LungSegmenter
from radiai_core.cli import main
from radiai_core.errors import RadiAIError
from radiai_core.reading.io import load_image
from radiai_core.resources import models_dir
from radiai_core.training.export import export_lung_mask
from radiai_core.training.quantize import quantize_model

from ..samples import DATA, KERMANY_BACTERIAL, KERMANY_NORMAL

pytestmark = pytest.mark.slow

PAIRS = DATA / "lung_masks" / "index.csv"


@pytest.fixture(scope="module")
def float_lung_mask(tmp_path_factory) -> Path:
    """A copy of the shipped lung mask with a float32 runtime exported from its weights."""
    folder = tmp_path_factory.mktemp("q") / "lung_mask"
    folder.mkdir()
    for name in ("lung_mask.keras", "manifest.json"):
        shutil.copy(models_dir() / "lung_mask" / name, folder / name)
    export_lung_mask(folder)
    return folder


def _masks(seg: LungSegmenter) -> list[np.ndarray]:
    return [seg.predict(seg.front(load_image(p).pixels)) >= seg.threshold
            for p in (KERMANY_NORMAL, KERMANY_BACTERIAL)]


@pytest.mark.parametrize("precision", ["int8", "dynamic-int8"])
def test_quantize_writes_a_quantized_runtime_that_keeps_the_masks(float_lung_mask: Path,
                                                                  precision: str, tmp_path,
                                                                  capsys) -> None:
    folder = tmp_path / "lung_mask"
    shutil.copytree(float_lung_mask, folder)
    float_masks = _masks(LungSegmenter(folder))
    float_size = (folder / "lung_mask.tflite").stat().st_size
    out_text = tmp_path / "out.txt"
    with open(out_text, "w", encoding="utf-8") as out:
        assert main(["train", "quantize", "--model", str(folder), "--csv", str(PAIRS),
                     "--precision", precision], out=out) == 0
    assert "recalibrate the primary classifier" in out_text.read_text(encoding="utf-8")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    rt = manifest["runtime"]
    assert rt["precision"] == precision
    q = rt["quantization"]
    if precision == "int8":
        # The tiny table's training pairs (never its validation patients) set the ranges.
        assert 0 < q["representative_images"] < 8
    else:
        assert "representative_images" not in q and "on the fly" in q["method"]
    agreement = q["agreement"]
    assert agreement["validation_pairs"] >= 1
    assert agreement["dice_vs_float32_min"] > 0.97
    assert abs(agreement["val_dice_mean_quantized"] - agreement["val_dice_mean_float32"]) < 0.02
    # The weights are untouched; the runtime file is new, a quarter of the size, and recorded.
    assert manifest["sha256"] == json.loads(
        (float_lung_mask / "manifest.json").read_text(encoding="utf-8"))["sha256"]
    assert (folder / "lung_mask.tflite").stat().st_size < float_size / 3
    assert not list(folder.glob(".*float32"))  # the float32 file kept aside is gone
    seg = LungSegmenter(folder)  # the ledger checks the new sha256
    for a, b in zip(_masks(seg), float_masks, strict=True):
        assert a.sum() > 0.1 * a.size  # lungs found on a child's film
        assert 2 * (a & b).sum() / (a.sum() + b.sum()) > 0.97
    capsys.readouterr()
    assert main(["train", "quantize", "--model", str(folder), "--csv", str(PAIRS)]) == 1
    err = capsys.readouterr().err
    assert f"already runs in {precision}" in err and str(folder) in err


def test_quantize_names_a_folder_it_cannot_quantize(tmp_path) -> None:
    gate = tmp_path / "gate"
    shutil.copytree(models_dir() / "gate", gate)
    with pytest.raises(RadiAIError, match="quantization is for a classifier or a lung"
                       ) as caught:
        quantize_model(gate, PAIRS)
    assert caught.value.path == str(gate)
