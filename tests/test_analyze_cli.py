"""`radiai analyze` and `radiai evaluate` with the shipped models."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from radiai_core.cli import main

from .samples import DICOM, KERMANY_DIR, KERMANY_NORMAL

pytestmark = pytest.mark.slow


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_analyze_json_lines(tmp_path) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all" * 20)
    code, text = run("analyze", "--json", str(KERMANY_NORMAL), str(DICOM["jpeg_baseline"]),
                     str(junk))
    recs = [json.loads(line) for line in text.splitlines()]
    assert code == 1  # one file could not be read
    assert [r["status"] for r in recs] == ["ok", "ok", "error"]
    ok = recs[1]
    assert set(ok) >= {"path", "status", "message", "probabilities", "boxes", "timings_ms",
                       "model"}
    assert set(ok["model"]) >= {"name", "version", "sha256"}
    assert abs(sum(ok["probabilities"].values()) - 1) < 1e-4
    for b in ok["boxes"]:
        assert set(b) == {"x", "y", "w", "h", "score"}
        assert b["x"] + b["w"] <= 1024 and b["y"] + b["h"] <= 1024
    assert ok["timings_ms"]["total"] > 0
    assert recs[2]["message"].startswith("is not a DICOM file")


def test_analyze_text_shows_top3_and_call() -> None:
    code, text = run("analyze", str(KERMANY_NORMAL))
    assert code == 0
    assert "call: " in text and "threshold" in text
    assert "Decision support, not a diagnosis." in text


def test_evaluate_json_and_plots(tmp_path) -> None:
    code, text = run("evaluate", "--csv", str(KERMANY_DIR / "index.csv"), "--json",
                     "--out", str(tmp_path))
    assert code == 0
    m = json.loads(text.splitlines()[-1])
    assert {"n", "auc", "accuracy", "sensitivity", "specificity", "threshold",
            "per_class"} <= set(m)
    assert m["n"] == 20 and set(m["per_class"]) == {"normal", "bacterial", "viral"}
    assert sum(v["support"] for v in m["per_class"].values()) == 20
    assert 0.0 <= m["auc"] <= 1.0 and "auc_bacterial_vs_viral" in m
    for name in ("roc.png", "confusion.png"):
        img = np.asarray(Image.open(tmp_path / name))
        assert img.ndim == 3 and img.shape[0] > 200
