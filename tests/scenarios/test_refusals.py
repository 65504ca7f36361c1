"""What a refused image is, said everywhere: the gate's typed answer (``RefusedAs``), the
Analysis, JSON, CSV, history, PDF and command line, in English and Korean; and an age line
that names the cut-off it was held to."""

from __future__ import annotations

import csv
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pypdf
import pytest
from PIL import Image

from radiai_core import i18n
from radiai_core.analysis.gate import RefusedAs, refusal_text, refused_as_of
from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.resources import models_dir
from radiai_core.results.batch import BatchItem, CsvTable
from radiai_core.results.history import MIGRATIONS, SCHEMA_VERSION, History, _refused_as
from radiai_core.results.report import write_pdf

from ..samples import DATA, DICOM, KERMANY_NORMAL

SCOPE = DATA / "scope"
CT = SCOPE / "ct_head" / "headct_000.jpg"
LATERAL = SCOPE / "lateral_cxr" / "patient64542_study1_view2_lateral.jpg"


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


@pytest.mark.parametrize(("path", "question", "kind", "text", "korean"), [
    (CT, "chest", RefusedAs.CT, "refused: CT slice", "분석 대상 아님: CT 단면"),
    (SCOPE / "mri_brain" / "Te-gl_0065.jpg", "chest", RefusedAs.MRI, "refused: MRI",
     "분석 대상 아님: MRI"),
    (SCOPE / "ultrasound" / "busi_benign_105.jpg", "chest", RefusedAs.ULTRASOUND,
     "refused: ultrasound", "분석 대상 아님: 초음파"),
    (SCOPE / "knee_xray" / "knee_test_kl0_9083378R.jpg", "chest", RefusedAs.OTHER_BODY_PART,
     "refused: another body part", "분석 대상 아님: 다른 신체 부위"),
    (LATERAL, "frontal", RefusedAs.LATERAL, "refused: lateral view", "분석 대상 아님: 측면 영상"),
    (SCOPE / "hannover" / "0578e08b.jpg", "child", RefusedAs.ADULT, "refused: adult",
     "분석 대상 아님: 성인"),
    (DICOM["jpeg_baseline"], "child", RefusedAs.ADULT, "refused: adult", "분석 대상 아님: 성인"),
], ids=lambda v: v.parent.name if isinstance(v, Path) else None)
def test_a_refusal_says_what_the_image_is(analyzer: Analyzer, path, question, kind, text,
                                          korean) -> None:
    """The question that failed stays in ``refused_by`` (compatibility); ``refused_as`` is
    what the image is, and the gate's own reason maps to the same kind (old history rows)."""
    a = analyzer.analyze(path)
    assert a.status == "rejected" and a.refused_by == question, a.message
    assert a.refused_as is kind and a.refused_text == text
    d = a.to_dict()
    assert d["refused_as"] == kind.value and d["refused_by"] == question
    assert refused_as_of(a.message) is kind
    assert i18n.localized(a.refused_text, "ko") == korean


def test_the_physical_bounds_say_blank_too_small_or_inverted(analyzer: Analyzer,
                                                             tmp_path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (512, 512), 128).save(blank)
    small = tmp_path / "small.png"
    Image.open(KERMANY_NORMAL).resize((100, 100)).save(small)
    colour = tmp_path / "colour.png"
    grey = np.asarray(Image.open(KERMANY_NORMAL).convert("L"), np.float64)
    Image.fromarray(np.dstack([grey, grey * 0.4, grey * 0.1]).astype(np.uint8)).save(colour)
    inverted = tmp_path / "inverted.png"
    Image.fromarray(255 - np.asarray(Image.open(KERMANY_NORMAL))).save(inverted)
    got = {p.stem: analyzer.analyze(p).refused_text for p in (blank, small, colour, inverted)}
    assert got == {"blank": "refused: blank image", "small": "refused: image too small",
                   "colour": "refused: colour image", "inverted": "refused: inverted image"}


def test_an_analysed_image_is_not_refused(analyzer: Analyzer) -> None:
    a = analyzer.analyze(KERMANY_NORMAL)
    assert a.status == "ok" and a.refused_as is None and a.refused_text == ""
    assert a.to_dict()["refused_as"] is None
    assert refusal_text(None) == "refused" and refusal_text("ct") == "refused: CT slice"


def test_the_age_line_names_the_cut_off_it_was_held_to(analyzer: Analyzer) -> None:
    """Not "child (probability of an adult 0.87)": the score and the cut-off, so the line
    cannot contradict itself; the cut-off is the gate manifest's, as a probability."""
    gate = json.loads((models_dir() / "gate" / "manifest.json").read_text())
    cut = 1 / (1 + np.exp(-gate["scope"]["thresholds"]["adult_logodds_max"]))
    child = analyzer.analyze(KERMANY_NORMAL).age
    assert child.estimate == "child" and child.adult_cutoff == pytest.approx(cut)
    assert child.adult_probability <= child.adult_cutoff
    assert child.describe() == (
        f"unknown (not in the file); estimated from the image: child (adult score "
        f"{child.adult_probability:.2f}, not over the cut-off {cut:.2f} for refusing an adult)")
    assert "probability" not in child.describe()
    adult = analyzer.analyze(SCOPE / "hannover" / "0578e08b.jpg").age
    assert adult.estimate == "adult" and adult.adult_probability > adult.adult_cutoff
    assert f"over the cut-off {cut:.2f} for refusing an adult" in adult.describe()
    assert "not over" not in adult.describe()
    again = type(child).from_dict(child.to_dict())  # the history keeps it
    assert again.describe() == child.describe()
    korean = i18n.localized(child.describe(), "ko")
    assert f"성인 점수 {child.adult_probability:.2f}" in korean and f"기준 {cut:.2f} 이하" in korean


def test_csv_history_and_pdf_say_what_the_image_is(analyzer: Analyzer, tmp_path) -> None:
    ct, lateral, child = (analyzer.analyze(p) for p in (CT, LATERAL, KERMANY_NORMAL))
    out = tmp_path / "batch.csv"
    with CsvTable(out, analyzer.outputs) as table:
        for a in (ct, lateral, child):
            table.add(BatchItem(a.path, analysis=a))
    with open(out, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["status"], r["refused_by"], r["refused_as"]) for r in rows] == [
        ("rejected", "chest", "CT slice"), ("rejected", "frontal", "lateral view"),
        ("ok", "", "")]
    db = tmp_path / "history.sqlite"
    with History(db) as h:
        ids = [h.record(a) for a in (ct, lateral, child)]
        assert [h.entry(i).refused_as for i in ids] == [RefusedAs.CT, RefusedAs.LATERAL, None]
        assert h.reopen(ids[0]).refused_text == "refused: CT slice"
    # A history written before refused_as was stored: the migration reads it off the reason.
    # (Put back at the schema before that migration: its column and what came after go.)
    raw = sqlite3.connect(db)
    raw.execute("ALTER TABLE analyses DROP COLUMN refused_as")
    raw.execute("DROP TABLE IF EXISTS deliveries")
    raw.execute(f"PRAGMA user_version = {MIGRATIONS.index(_refused_as)}")
    raw.commit()
    raw.close()
    with History(db) as h:
        assert h.schema_version == SCHEMA_VERSION
        assert [h.entry(i).refused_as for i in ids] == [RefusedAs.CT, RefusedAs.LATERAL, None]
    pdf = write_pdf([ct], tmp_path / "ct.pdf")
    text = " ".join(pypdf.PdfReader(pdf).pages[0].extract_text().split())
    assert "No findings: the image was refused (CT slice)." in text


def test_the_command_line_says_what_the_image_is(tmp_path) -> None:
    proc = subprocess.run([sys.executable, "-m", "radiai_core.cli", "analyze", "--no-history",
                           str(CT), str(LATERAL)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith(f"REFUSED {CT} (CT slice): looks like a CT slice")
    assert any(line.startswith(f"REFUSED {LATERAL} (lateral view): is a lateral view")
               for line in lines)
    assert lines[-1].startswith("0 analysed, 2 refused, 0 unreadable")
    proc = subprocess.run([sys.executable, "-m", "radiai_core.cli", "analyze", "--no-history",
                           "--json", str(CT)], capture_output=True, text=True, timeout=300)
    record = json.loads(proc.stdout)
    assert (record["status"], record["refused_by"], record["refused_as"]) == (
        "rejected", "chest", "ct")
