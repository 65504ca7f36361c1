"""The PDF says what each model was made for in its manifest's words, and the reader's verdict
on its call."""

from __future__ import annotations

import json

import pypdf
import pytest

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.resources import models_dir
from radiai_core.results.report import write_pdf

from ..samples import KERMANY_NORMAL

pytestmark = pytest.mark.slow


def text_of(path) -> str:
    return " ".join(pypdf.PdfReader(path).pages[0].extract_text().split())


def test_the_footer_quotes_each_models_manifest(tmp_path, monkeypatch):
    """A site's classifier (here the shipped one with the site's own scope text in its
    manifest) is described by that text, not by a sentence about the shipped model."""
    site = tmp_path / "models"
    for folder in models_dir().iterdir():
        if not (folder / "manifest.json").exists():
            continue
        (site / folder.name).mkdir(parents=True)
        for f in folder.iterdir():
            if f.is_file():
                (site / folder.name / f.name).symlink_to(f)
    manifest = site / "classifier" / "manifest.json"
    data = json.loads(manifest.read_text(encoding="utf-8"))
    shipped_scope = data["scope"]
    data["scope"] = "trained at St. Example on neonatal radiographs (RDS), ages 0–28 days"
    manifest.unlink()
    manifest.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")

    shipped = Analyzer(load_models()).analyze(KERMANY_NORMAL)
    text = text_of(write_pdf([shipped], tmp_path / "shipped.pdf"))
    assert f"{shipped.models[0].name} {shipped.models[0].version}: {shipped_scope}" in text
    assert "lung masks trained on adult frontal chest radiographs" in text

    monkeypatch.setenv("RADIAI_MODELS", str(site))
    a = Analyzer(load_models(site)).analyze(KERMANY_NORMAL)
    text = text_of(write_pdf([a], tmp_path / "site.pdf"))
    assert "neonatal radiographs (RDS), ages 0–28 days" in text
    assert shipped_scope not in text and "children aged 1–5" not in text


def test_the_readers_verdict_on_the_call_is_on_the_page(tmp_path):
    a = Analyzer(load_models()).analyze(KERMANY_NORMAL)
    text = text_of(write_pdf([a], tmp_path / "v.pdf",
                             verdicts=[{"@call": ("agree", "reviewed by Dr. K")}]))
    assert "Reader's verdict on the call: agree — reviewed by Dr. K" in text
    text = text_of(write_pdf([a], tmp_path / "none.pdf"))
    assert "verdict" not in text
