"""Loading a model set (radiai_core.analysis.models and manifest): what ran is what is recorded,
the gate is bound to its classifier, the manifest's preprocessing and calls are the model's."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from radiai_core.analysis import Analyzer, Decision, load_models
from radiai_core.errors import ModelError
from radiai_core.resources import models_dir
from radiai_core.results.history import History

from ..samples import KERMANY_BACTERIAL, KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shipped_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped runtime files (no training weights, no plots), copied once per module."""
    root = tmp_path_factory.mktemp("shipped") / "models"
    shutil.copytree(models_dir(), root, ignore=shutil.ignore_patterns("*.keras", "*.png",
                                                                      "*.csv"))
    return root


@pytest.fixture
def models_copy(tmp_path: Path, shipped_copy: Path) -> Callable[..., Path]:
    """A copy of the shipped models with manifests edited by ``edit(kind, manifest)``."""

    def make(edit: Callable[[str, dict[str, Any]], None] | None = None) -> Path:
        root = tmp_path / "models"
        shutil.copytree(shipped_copy, root)
        for folder in root.iterdir():
            path = folder / "manifest.json"
            manifest = json.loads(path.read_text(encoding="utf-8"))
            if edit is not None:
                edit(folder.name, manifest)
            path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return root

    return make


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_model_records_the_hashes_of_the_files_it_ran() -> None:
    models = load_models()
    root = models_dir()
    expected = {
        "classifier": ["classifier.tflite", "head.npz", "manifest.json"],
        "lung_mask": ["lung_mask.tflite", "manifest.json"],
        "gate": ["atypicality.npz", "inversion.npz", "manifest.json", "scope.npz"],
    }
    for info in models.infos:
        folder = root / info.kind
        assert sorted(info.files) == expected[info.kind]
        assert info.files == {name: _sha(folder / name) for name in expected[info.kind]}
        assert len(info.sha256) == 64
    assert len({i.sha256 for i in models.infos}) == 3


def test_a_changed_threshold_is_a_new_identity_and_a_new_history_row(
        models_copy: Callable[..., Path], tmp_path: Path) -> None:
    def lower_threshold(kind: str, m: dict[str, Any]) -> None:
        if kind == "classifier":
            m["threshold"] = 0.5

    shipped = Analyzer(load_models()).analyze(KERMANY_BACTERIAL)
    edited = Analyzer(load_models(models_copy(lower_threshold))).analyze(KERMANY_BACTERIAL)
    assert edited.threshold == 0.5 and shipped.threshold != 0.5
    old, new = shipped.models[0], edited.models[0]
    assert old.files["classifier.tflite"] == new.files["classifier.tflite"]
    assert old.files["manifest.json"] != new.files["manifest.json"]
    assert old.sha256 != new.sha256
    with History(tmp_path / "history.db") as h:
        first, second = h.record(shipped), h.record(edited)
        assert first != second
        rows = h.db.execute("SELECT model_sha256, threshold FROM analyses ORDER BY id").fetchall()
    assert rows == [(old.sha256, shipped.threshold), (new.sha256, 0.5)]


@pytest.mark.parametrize("entry", ["classifier_sha256", "classifier_litert_sha256"])
def test_a_gate_fitted_on_another_classifier_refuses_to_load(
        models_copy: Callable[..., Path], entry: str) -> None:
    def other_classifier(kind: str, m: dict[str, Any]) -> None:
        if kind == "gate":
            m["fit"][entry] = "ab" * 32

    version = json.loads((models_dir() / "classifier" / "manifest.json").read_text())["version"]
    with pytest.raises(ModelError, match=(r"gate: was fitted on another classifier .*"
                                          r"abababababab.*\(radiai-densenet121-cxr "
                                          + re.escape(version) + r".*radiai train gate")):
        load_models(models_copy(other_classifier))


def test_a_replaced_classifier_beside_the_shipped_gate_refuses_to_load(
        models_copy: Callable[..., Path]) -> None:
    """A site drops its own classifier into classifier/ (here: the same network with other
    training weights recorded) and keeps the shipped gate."""
    def new_weights(kind: str, m: dict[str, Any]) -> None:
        if kind == "classifier":
            m["sha256"] = "cd" * 32

    with pytest.raises(ModelError, match="fitted on another classifier"):
        load_models(models_copy(new_weights))


def test_a_gate_fitted_with_another_lung_mask_refuses_to_load(
        models_copy: Callable[..., Path]) -> None:
    """The gate bounds the lung model's measurements (lung fraction, mask confidence): a site
    that swaps the lung mask keeps a gate whose bounds mean nothing on the new one's."""
    shipped = json.loads((models_dir() / "gate" / "manifest.json").read_text())
    assert shipped["fit"]["lung_mask_litert_sha256"] == json.loads(
        (models_dir() / "lung_mask" / "manifest.json").read_text())["runtime"]["litert_sha256"]

    def other_lungs(kind: str, m: dict[str, Any]) -> None:
        if kind == "gate":
            m["fit"]["lung_mask_litert_sha256"] = "ab" * 32

    with pytest.raises(ModelError, match=(r"gate: was fitted with another lung mask .*"
                                          r"abababababab.*radiai-unet-lungs.*radiai train gate")):
        load_models(models_copy(other_lungs))


def test_a_gate_that_records_no_classifier_refuses_to_load(
        models_copy: Callable[..., Path]) -> None:
    def forget(kind: str, m: dict[str, Any]) -> None:
        if kind == "gate":
            for key in ("classifier_sha256", "classifier_litert_sha256"):
                m["fit"].pop(key)

    with pytest.raises(ModelError, match="records no classifier it was fitted on"):
        load_models(models_copy(forget))


def test_the_cli_does_not_analyse_with_a_gate_of_another_classifier(
        models_copy: Callable[..., Path], tmp_path: Path) -> None:
    def other(kind: str, m: dict[str, Any]) -> None:
        if kind == "gate":
            m["fit"]["classifier_sha256"] = "ef" * 32

    env = {"RADIAI_MODELS": str(models_copy(other)), "RADIAI_DATA_DIR": str(tmp_path / "d"),
           "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "radiai_core.cli", "analyze", "--json",
                        str(KERMANY_BACTERIAL)], capture_output=True, text=True, env=env,
                       timeout=120)
    assert r.returncode != 0
    assert r.stdout == ""
    assert "fitted on another classifier" in r.stderr and "Traceback" not in r.stderr


def test_the_primary_classifier_is_named_never_taken_by_sort_order(
        models_copy: Callable[..., Path]) -> None:
    root = models_copy()
    (root / "classifier").rename(root / "a_first_by_name")
    with pytest.raises(ModelError, match="no classifier folder classifier/, the primary"):
        load_models(root)


def test_the_gate_names_the_primary_folder(models_copy: Callable[..., Path]) -> None:
    def rename(kind: str, m: dict[str, Any]) -> None:
        if kind == "gate":
            m["fit"]["classifier_folder"] = "pneumonia"

    root = models_copy(rename)
    (root / "classifier").rename(root / "pneumonia")
    models = load_models(root)
    assert models.classifier.folder.name == "pneumonia"


@pytest.mark.parametrize(("section", "key", "value", "message"), [
    ("preprocessing", "resize", "letterbox", "resize 'letterbox'"),
    ("preprocessing", "normalize", "imagenet mean and std", "normalize 'imagenet mean"),
    ("input", "channels", 3, "input.channels 3"),
    ("preprocessing", "clahe_tile_grid", [8], "positive sizes"),
])
def test_preprocessing_the_runtime_does_not_implement_is_refused(
        models_copy: Callable[..., Path], section: str, key: str, value: Any,
        message: str) -> None:
    def edit(kind: str, m: dict[str, Any]) -> None:
        if kind == "classifier":
            m[section][key] = value

    with pytest.raises(ModelError, match=f"classifier: manifest.json's preprocessing.*{message}"):
        load_models(models_copy(edit))


@pytest.mark.parametrize("entry", ["negative_label", "positive_call"])
def test_a_softmax_model_must_name_its_negative_label_and_positive_call(
        models_copy: Callable[..., Path], entry: str) -> None:
    def drop(kind: str, m: dict[str, Any]) -> None:
        if kind == "classifier":
            m.pop(entry)

    with pytest.raises(ModelError, match=f"manifest.json has no '{entry}' entry"):
        load_models(models_copy(drop))


def test_a_site_model_with_its_own_words_decides_in_them(
        models_copy: Callable[..., Path]) -> None:
    """Nothing assumes "normal" or "pneumonia": a model whose negative label is "clear" and
    whose positive call is "consolidation" decides with those."""
    def rename(kind: str, m: dict[str, Any]) -> None:
        if kind == "classifier":
            m["labels"] = ["clear", "bacterial", "viral"]
            m["display_names"] = {"clear": "clear lungs"}
            m["negative_label"] = "clear"
            m["positive_call"] = "consolidation"

    analyzer = Analyzer(load_models(models_copy(rename)))
    sick, well = analyzer.analyze(KERMANY_BACTERIAL), analyzer.analyze(KERMANY_NORMAL)
    assert sick.decision is Decision.POSITIVE and sick.call == "consolidation"
    assert well.decision is Decision.NEGATIVE and well.call == "no consolidation"
    assert well.to_dict()["findings"][0]["decision"] == "negative"


def test_an_indeterminate_band_gives_an_honest_indeterminate(
        models_copy: Callable[..., Path]) -> None:
    shipped = Analyzer(load_models()).analyze(KERMANY_BACTERIAL)
    score = shipped.abnormal_score
    assert shipped.decision is Decision.POSITIVE and score is not None

    def band(kind: str, m: dict[str, Any]) -> None:
        if kind == "classifier":
            m["threshold"] = score - 0.001
            m["indeterminate"] = {"low": score - 0.01, "high": score + 0.01}

    a = Analyzer(load_models(models_copy(band))).analyze(KERMANY_BACTERIAL)
    assert a.decision is Decision.INDETERMINATE and a.call == "indeterminate"
    assert a.heatmap is None and a.boxes == [] and a.primary.positives == []
    d = a.to_dict()
    assert d["decision"] == d["findings"][0]["decision"] == "indeterminate"


def test_an_indeterminate_band_must_hold_the_threshold(
        models_copy: Callable[..., Path]) -> None:
    def band(kind: str, m: dict[str, Any]) -> None:
        if kind == "classifier":
            m["indeterminate"] = {"low": 0.1, "high": 0.2}

    with pytest.raises(ModelError, match="does not hold its threshold"):
        load_models(models_copy(band))


def test_the_explanation_runs_the_model_the_identity_names(
        models_copy: Callable[..., Path]) -> None:
    """The explanation's batched interpreter reads the .tflite again: a file replaced after
    the models loaded is refused, never run under the recorded identity."""
    root = models_copy()
    analyzer = Analyzer(load_models(root))
    tflite = root / "classifier" / "classifier.tflite"
    tflite.write_bytes(tflite.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="classifier.tflite: changed since the models were"):
        analyzer.explainer(analyzer.models.classifier)
