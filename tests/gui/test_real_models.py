"""One end-to-end run of the window with the real shipped models (no fake)."""

from __future__ import annotations

import json

import pytest

from radiai_core.pipeline import default_analyzer
from radiai_core.resources import models_dir

from ..samples import DICOM

pytestmark = pytest.mark.slow


def test_real_models_in_the_window(qtbot, make_window) -> None:
    w = make_window(make_analyzer=default_analyzer)
    w.open_paths([DICOM["jpeg_baseline"]])
    qtbot.waitUntil(lambda: w.findings.bars != {}, timeout=120000)
    manifest = json.loads((models_dir() / "classifier" / "manifest.json").read_text())
    assert set(w.findings.label_texts()) == set(manifest["display_names"].values())
    a = w.viewer.analysis
    assert a.status == "ok" and a.models[0].sha256 == manifest["sha256"]
    assert not w.viewer._heat.pixmap().isNull()
    assert manifest["name"] in w.findings.model.text()
    assert w.status_text.text().startswith("Analysed ")
