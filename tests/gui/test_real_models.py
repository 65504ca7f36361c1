"""One end-to-end run of the window with the real shipped models (no fake)."""

from __future__ import annotations

import html
import json

import pytest
from PyQt5.QtGui import QTextDocument

from radiai_core.analysis.pipeline import default_analyzer
from radiai_core.resources import models_dir

from ..samples import DICOM, KERMANY_BACTERIAL, KERMANY_NORMAL, KERMANY_UNSURE

pytestmark = pytest.mark.slow


def test_real_models_in_the_window(qtbot, make_window) -> None:
    w = make_window(make_analyzer=default_analyzer)
    w.open_paths([KERMANY_BACTERIAL])
    qtbot.waitUntil(lambda: w.findings.bars != {}, timeout=120000)
    manifest = json.loads((models_dir() / "classifier" / "manifest.json").read_text())
    assert set(w.findings.label_texts()) == set(manifest["display_names"].values())
    a = w.viewer.analysis
    assert a.status == "ok"
    assert a.models[0].files["classifier.tflite"] == manifest["runtime"]["litert_sha256"]
    assert a.call == "pneumonia" and a.cam_label in ("bacterial", "viral")
    assert not w.viewer._heat.pixmap().isNull()
    corner = w.viewer.corner_lines()
    assert corner[0].startswith("No patient data in the file (person1946_bacteria_4874.jpeg)")
    assert corner[1] == f"Heat map: {manifest['display_names'][a.cam_label]}"
    # The reader hides the map and keeps the boxes: the line says the map is hidden.
    w.heat_box.setChecked(False)
    assert not w.viewer.show_heat and w.viewer.show_boxes
    assert w.viewer.corner_lines()[1] == (f"Heat map: {manifest['display_names'][a.cam_label]}"
                                          " (heat map hidden)")
    w.heat_box.setChecked(True)
    assert w.viewer.corner_lines()[1] == corner[1]
    assert manifest["name"] in w.findings.model.text()
    gate = json.loads((models_dir() / "gate" / "manifest.json").read_text())
    assert f"{gate['name']} {gate['version']}" in w.findings.model.text()
    assert w.findings.age.text().startswith("Age: unknown (not in the file); estimated from "
                                            "the image: child")
    assert w.status_text.text().startswith("Analysed ")
    # The reader picks another finding: its map is shown (and said), the history is untouched.
    other = "viral" if a.cam_label == "bacterial" else "bacterial"
    w.explain(other)
    qtbot.waitUntil(lambda: w.viewer.analysis.cam_label == other, timeout=60000)
    # The other subtype is not what the positive call named: the image says so.
    line = w.viewer.corner_lines()[1]
    assert line.startswith(f"Heat map: {manifest['display_names'][other]} ")
    assert line.endswith("— not called: map shown on request")


def test_a_normal_call_has_no_heat_map_and_says_so(qtbot, make_window) -> None:
    w = make_window(make_analyzer=default_analyzer)
    w.open_paths([KERMANY_NORMAL])
    qtbot.waitUntil(lambda: w.findings.bars != {}, timeout=120000)
    a = w.viewer.analysis
    assert a.call == "no pneumonia" and a.heatmap is None and a.boxes == []
    assert w.viewer._heat.pixmap().isNull()
    assert w.viewer.corner_lines()[1] == "No positive finding: no heat map"
    assert w.browser.currentItem().text(2) == f"no pneumonia {a.abnormal_score:.2f}"


def test_an_indeterminate_film_says_so_with_every_cut_off(qtbot, make_window) -> None:
    """A film inside the shipped band: amber "indeterminate", no heat map, and the call line
    gives both cut-offs so its score is never read against one threshold."""
    w = make_window(make_analyzer=default_analyzer)
    w.open_paths([KERMANY_UNSURE])
    qtbot.waitUntil(lambda: w.findings.bars != {}, timeout=120000)
    a = w.viewer.analysis
    low, high = a.primary.band
    assert a.call == "indeterminate" and a.heatmap is None
    text = html.unescape(w.findings.call.text())
    assert "indeterminate — read without the AI's call" in text and "#b9770e" in text
    assert (f"(score {a.abnormal_score:.2f}; pneumonia ≥ {high:.2f}, none < {low:.2f})"
            in text)
    # ... and so it reads on screen: the rich text renders both cut-offs, bracket closed
    shown = QTextDocument()
    shown.setHtml(w.findings.call.text())
    assert shown.toPlainText().endswith(
        f"(score {a.abnormal_score:.2f}; pneumonia ≥ {high:.2f}, none < {low:.2f})")
    assert w.viewer.corner_lines()[1] == ("Indeterminate — read without the AI's call: no heat "
                                          "map")
    # The first probability row is not a pneumonia label beside an undecided call's colour.
    assert list(w.findings.bars)[0].endswith("normal")


def test_a_refused_adult_shows_its_reason_and_lungs_but_no_findings(qtbot, make_window) -> None:
    """An adult's DICOM (the header says 62): the image opens with its lung contour and the
    reason in plain words; no bars, no call, no heat map, no box."""
    from PyQt5.QtWidgets import QGraphicsPathItem, QGraphicsRectItem

    w = make_window(make_analyzer=default_analyzer)
    w.open_paths([DICOM["jpeg_baseline"]])
    qtbot.waitUntil(lambda: w.viewer.analysis is not None, timeout=120000)
    a = w.viewer.analysis
    assert a.status == "rejected" and a.refused_by == "child"
    title = w.findings.title.text()
    assert "not analysed" in title and "aged 62 years (DICOM header)" in title
    assert w.findings.age.text() == "Age: 62 years (from the DICOM header)"
    assert w.findings.bars == {} and w.findings.call.text() == ""
    assert w.viewer._heat.pixmap().isNull()
    kinds = {type(item) for item in w.viewer._overlay_items}
    assert QGraphicsPathItem in kinds and QGraphicsRectItem not in kinds


def test_a_dropped_in_seven_label_model_is_in_the_window(qtbot, make_window,
                                                          seven_label_models) -> None:
    """The site's 7-label model next to the shipped one (tests/conftest.py trains it): its
    title, its labels with bars, what it calls; a click on one of its labels shows that map."""
    from radiai_core.analysis.models import load_models
    from radiai_core.analysis.pipeline import Analyzer

    from ..samples import SEVEN_TITLE

    analyzer = Analyzer(load_models(seven_label_models))
    w = make_window(make_analyzer=lambda: analyzer)
    w.open_paths([KERMANY_BACTERIAL])
    qtbot.waitUntil(lambda: w.findings.bars != {}, timeout=120000)
    a = w.viewer.analysis
    site = a.findings[1]
    shown = w.findings.label_texts()
    assert set(shown) == {*a.findings[0].display_names.values(), *site.display_names.values()}
    assert "respiratory distress syndrome" in shown and len(shown) == 3 + 7
    assert {"findings7/rds", "viral"} <= set(w.findings.bars)
    texts = [w.findings.rows.itemAt(i).widget().text() for i in range(w.findings.rows.count())]
    assert f"<b>{SEVEN_TITLE}</b>" in texts  # the model's block is titled
    assert SEVEN_TITLE in w.findings.call.text() and "pneumonia" in w.findings.call.text()
    assert "site-findings-7" in w.findings.model.text()
    w.findings.heat_requested.emit("findings7/effusion")  # as a click on its link does
    qtbot.waitUntil(lambda: w.viewer.analysis.cam_label == "effusion", timeout=60000)
    assert w.viewer.corner_lines()[1] == "Heat map: pleural effusion"
    assert not w.viewer._heat.pixmap().isNull()
