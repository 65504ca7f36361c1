"""`radiai models`: what a site checks after dropping a model folder in (docs/train-your-own.md):
every model loaded, the added one by its title and labels, or one line naming what is wrong."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from radiai_core.cli import main
from radiai_core.resources import models_dir


def _site_models(tmp_path: Path) -> Path:
    """The shipped models and a second classifier dropped in next to them (a copy of the
    shipped one, titled as a site's)."""
    root = tmp_path / "models"
    root.mkdir()
    for name in ("classifier", "lung_mask", "gate"):
        (root / name).symlink_to(models_dir() / name, target_is_directory=True)
    site = root / "second"
    site.mkdir()
    for name in ("manifest.json", "classifier.tflite", "head.npz"):
        shutil.copy(models_dir() / "classifier" / name, site / name)
    manifest = json.loads((site / "manifest.json").read_text())
    manifest["title"] = "Second reading (site)"
    (site / "manifest.json").write_text(json.dumps(manifest))
    return root


def test_the_shipped_models_are_listed() -> None:
    out = io.StringIO()
    assert main(["models"], out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == f"models folder: {models_dir()}"
    assert lines[1].startswith("  classifier   classifier (primary, one label per image): "
                               "Pneumonia, 3 classes (pediatric), radiai-densenet121-cxr")
    assert lines[2].split() == ["labels:", "normal,", "bacterial,", "viral"]
    assert lines[3].startswith("  lung_mask    lung mask: ")
    assert lines[4].startswith("  gate         scope gate: ")
    assert lines[-1] == "3 models loaded; every file matches its manifest's sha256."


def test_a_dropped_in_model_is_listed_and_a_damaged_one_named(tmp_path) -> None:
    root = _site_models(tmp_path)
    env = {"RADIAI_MODELS": str(root)}
    proc = subprocess.run([sys.executable, "-m", "app", "models", "--json"],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert listed["folder"] == str(root)
    assert [(m["key"], m["role"]) for m in listed["models"]] == [
        ("classifier", "primary"), ("second", "added"), ("lung_mask", "lung_mask"),
        ("gate", "gate")]
    assert listed["models"][1]["title"] == "Second reading (site)"
    assert listed["models"][1]["labels"] == ["normal", "bacterial", "viral"]
    # A file that does not match its manifest: one line naming the folder, exit 1.
    tflite = root / "second" / "classifier.tflite"
    tflite.write_bytes(tflite.read_bytes()[:1000])
    proc = subprocess.run([sys.executable, "-m", "app", "models"], capture_output=True,
                          text=True, timeout=300, env={**os.environ, **env})
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith("radiai: ") and str(root / "second") in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1

