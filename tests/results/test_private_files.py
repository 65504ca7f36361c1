"""Exports are readable by their owner only: while written, and when they replace a file."""

from __future__ import annotations

import os
import stat

import pytest
from reportlab.pdfgen import canvas

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.results.batch import BatchItem, CsvTable
from radiai_core.results.report import write_pdf
from radiai_core.results.snapshot import write_png

from ..samples import KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analysis():
    return Analyzer(load_models()).analyze(KERMANY_NORMAL)


@pytest.fixture
def wide_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_pdf_is_private_while_it_is_written(analysis, tmp_path, monkeypatch, wide_umask):
    """The half-written PDF (``.name.part``) is user-only when ReportLab writes its bytes,
    not only once it is finished."""
    seen: dict[str, int] = {}
    save = canvas.Canvas.save

    def save_and_look(self) -> None:
        save(self)
        for part in tmp_path.glob(".*.part"):
            seen[part.name] = mode(part)

    monkeypatch.setattr(canvas.Canvas, "save", save_and_look)
    out = write_pdf([analysis], tmp_path / "snap.pdf")
    assert seen == {".snap.pdf.part": 0o600}
    assert mode(out) == 0o600 and not list(tmp_path.glob(".*.part"))
    assert out.read_bytes().startswith(b"%PDF")


def test_an_overwritten_csv_or_png_is_private_again(analysis, tmp_path, wide_umask):
    """A CSV or PNG written over an older file that others could read is user-only after."""
    csv_path, png_path = tmp_path / "table.csv", tmp_path / "view.png"
    for p in (csv_path, png_path):
        p.write_text("an older export")
        p.chmod(0o644)
    with CsvTable(csv_path, [("classifier", analysis.labels)]) as table:
        table.add(BatchItem(str(KERMANY_NORMAL), analysis=analysis))
    write_png(analysis, png_path)
    assert mode(csv_path) == 0o600 and "an older export" not in csv_path.read_text()
    assert mode(png_path) == 0o600 and png_path.read_bytes().startswith(b"\x89PNG")
