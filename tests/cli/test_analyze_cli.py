"""`radiai analyze` and `radiai evaluate` with the shipped models."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from radiai_core.cli import main

from ..samples import DICOM, KERMANY_DIR, KERMANY_NORMAL

pytestmark = pytest.mark.slow


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_analyze_json_lines(tmp_path, pediatric_dicom) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not dicom at all" * 20)
    code, text = run("analyze", "--json", "--no-history", str(KERMANY_NORMAL),
                     str(pediatric_dicom), str(DICOM["jpeg_baseline"]), str(junk))
    recs = [json.loads(line) for line in text.splitlines()]
    assert code == 1  # one file could not be read
    assert [r["status"] for r in recs] == ["ok", "ok", "rejected", "error"]
    assert recs[1]["age"]["years"] == 3.0 and recs[1]["age"]["source"] == "header"
    adult = recs[2]  # the SIIM sample: 62 in its header
    assert adult["refused_by"] == "child" and "62 years" in adult["message"]
    assert adult["probabilities"] == {} and adult["boxes"] == [] and adult["call"] is None
    assert [m["kind"] for m in adult["models"]] == ["classifier", "lung_mask", "gate"]
    ok = recs[1]
    assert set(ok) >= {"path", "status", "message", "probabilities", "boxes", "timings_ms",
                       "model"}
    assert set(ok["model"]) >= {"name", "version", "sha256"}
    assert abs(sum(ok["probabilities"].values()) - 1) < 1e-4
    for b in ok["boxes"]:
        assert set(b) == {"x", "y", "w", "h", "score", "in_lungs"}
        assert b["x"] + b["w"] <= 224 and b["y"] + b["h"] <= 224
    assert ok["timings_ms"]["total"] > 0
    assert recs[3]["message"].startswith("is not a DICOM file")


def test_the_closing_line_counts_analysed_refused_and_unreadable(tmp_path) -> None:
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    code, text = run("analyze", "--no-history", str(KERMANY_NORMAL), str(DICOM["jpeg_baseline"]),
                     str(junk))
    assert code == 1
    assert text.splitlines()[-1].startswith("1 analysed, 1 refused, 1 unreadable, 0 ignored")
    code, text = run("analyze", "--no-history", str(KERMANY_NORMAL), str(DICOM["jpeg_baseline"]))
    assert code == 0  # refused is an answer, not a failure
    assert "REFUSED" in text and "age: 62 years (from the DICOM header)" in text


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
    # The AUC of the 20 samples, from their probabilities as `analyze --json` gives them.
    from sklearn.metrics import roc_auc_score

    rows = list(csv.DictReader(open(KERMANY_DIR / "index.csv", encoding="utf-8")))
    code, lines = run("analyze", "--json", "--no-history",
                      *[str(KERMANY_DIR / r["path"]) for r in rows])
    scores = {Path(d["path"]).name: 1.0 - d["probabilities"]["normal"]
              for d in map(json.loads, lines.splitlines()) if d.get("status") == "ok"}
    truth = [r["label"] != "normal" for r in rows]
    expected = roc_auc_score(truth, [scores[Path(r["path"]).name] for r in rows])
    assert m["auc"] == pytest.approx(expected, abs=1e-6) and expected > 0.9
    assert "auc_bacterial_vs_viral" in m
    for name in ("roc.png", "confusion.png"):
        img = np.asarray(Image.open(tmp_path / name))
        assert img.ndim == 3 and img.shape[0] > 200
