"""Where the evidence lies reaches every face: the lung zones (and whether the map is diffuse)
of an analysed pneumonia radiograph are in the JSON, the CSV, the PDF (English and Korean) and
the history, and come back from it unchanged."""

from __future__ import annotations

import csv
import json

import pypdf
import pytest

from radiai_core.analysis import Analyzer, Findings, load_models
from radiai_core.analysis.zones import OUTSIDE, ZONES
from radiai_core.results.batch import BatchItem, CsvTable
from radiai_core.results.history import History
from radiai_core.results.report import write_pdf

from ..samples import KERMANY_BACTERIAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analysis():
    a = Analyzer(load_models()).analyze(KERMANY_BACTERIAL)
    assert a.findings[0].zones, "a positive call names the zones of its evidence"
    return a


def test_json_carries_the_zones_and_reads_them_back(analysis) -> None:
    f = analysis.findings[0]
    d = json.loads(json.dumps(analysis.to_dict()))["findings"][0]
    assert [z["name"] for z in d["zones"]] == [z.name for z in f.zones]
    assert d["zones"][-1]["name"] == OUTSIDE
    assert all(z["name"] in (*ZONES, OUTSIDE) and 0 <= z["share"] <= 1 for z in d["zones"])
    assert d["diffuse"] is f.diffuse
    assert all("in_lungs" in b for b in d["boxes"])
    back = Findings.from_dict(d)
    assert [z.name for z in back.zones] == [z.name for z in f.zones]
    assert [z.share for z in back.zones] == pytest.approx([z.share for z in f.zones], abs=1e-4)


def test_csv_has_a_zones_and_an_evidence_column(analysis, tmp_path) -> None:
    f = analysis.findings[0]
    path = tmp_path / "t.csv"
    with CsvTable(path, [(f.key, f.labels)]) as table:
        table.add(BatchItem(path=analysis.path, analysis=analysis))
    row = next(csv.DictReader(open(path, encoding="utf-8")))
    assert row["zones"] == "|".join(f"{z.name}:{z.share:.2f}" for z in f.zones)
    assert row["evidence"] == ("diffuse" if f.diffuse else "focal")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_pdf_names_the_zones(analysis, tmp_path, lang) -> None:
    out = write_pdf([analysis], tmp_path / "snap.pdf", lang=lang)
    text = pypdf.PdfReader(out).pages[0].extract_text()
    top = analysis.findings[0].zones[0]
    if lang == "en":
        assert "Evidence by lung zone:" in text
        name = top.name + " zone" if top.name != OUTSIDE else "no lung zone"
        assert name in text and "outside the lungs" in text
    else:
        assert "폐야별 근거:" in text and "폐 밖" in text


def test_history_keeps_the_zones(analysis, tmp_path) -> None:
    with History(tmp_path / "h.sqlite") as h:
        again = h.reopen(h.record(analysis))
    f, g = analysis.findings[0], again.findings[0]
    assert g.zones == f.zones and g.diffuse == f.diffuse and g.boxes == f.boxes
