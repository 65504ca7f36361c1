"""The exports work from what they are given (an ExportContext), with no main window at all:
the narrow interface that replaced their reach into the window's attributes."""

from __future__ import annotations

import numpy as np
from PIL import Image
from PyQt5.QtWidgets import QWidget

from app.exports import ExportContext, Exports
from app.viewer import ViewState
from app.workers import Jobs
from radiai_core.reading.display import default_window

from ..samples import KERMANY_BACTERIAL
from .conftest import FakeAnalyzer


def test_exports_need_only_their_context(qtbot, tmp_path) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    jobs = Jobs(parent)
    analysis = FakeAnalyzer().analyze(KERMANY_BACTERIAL)
    window = default_window(analysis.image)
    said: list[str] = []
    busy: list[bool] = []
    context = ExportContext(
        parent=parent, jobs=jobs, analysis=lambda: analysis,
        view=lambda: ViewState(window, False, True, True, True, 0.45),
        anonymize=lambda: False, csv_sources=lambda: ([str(KERMANY_BACTERIAL)], []),
        last_folder=lambda: str(tmp_path), status=said.append, busy=busy.append,
        progress=lambda done, total: None, history_changed=lambda: None,
        make_analyzer=FakeAnalyzer, history_path=tmp_path / "h.db")
    exports = Exports(context)
    suggested = exports.suggested_name(".pdf")
    assert suggested.startswith(str(KERMANY_BACTERIAL.parent)) and suggested.endswith(".pdf")
    png = tmp_path / "view.png"
    assert exports.export_png(str(png))
    pixels = np.asarray(Image.open(png).convert("RGB"))
    assert pixels.shape[:2] == analysis.image.shape
    # The overlays as the view says (heat map on): colour where the grey image has none.
    assert np.abs(pixels[..., 0].astype(int) - pixels[..., 2]).max() > 50
    assert said[-1].endswith(str(png))
    pdf = tmp_path / "page.pdf"
    exports.export_pdf(str(pdf))
    qtbot.waitUntil(pdf.exists, timeout=10000)
    out = tmp_path / "table.csv"
    exports.export_csv(str(out))
    qtbot.waitUntil(lambda: exports.csv_worker is None, timeout=20000)
    assert busy == [True, False]
    assert "1 row(s) written" in said[-1]
    assert out.read_text(encoding="utf-8").count("\n") == 2
    jobs.shutdown()
