"""What the history's detail says of a stored analysis, from the real models: an indeterminate
call with both cut-offs of its band (the walkthrough read "indeterminate (threshold 0.88)"
for a score of 0.37, one cut-off it is below), and a refused film as refused by the scope
gate, with the gate's version (it read "analysed with radiai-densenet121-cxr …", a model
that never ran on it)."""

from __future__ import annotations

import pytest
from PyQt5.QtCore import QCoreApplication

from app import i18n
from radiai_core.analysis.findings import Decision
from radiai_core.analysis.pipeline import default_analyzer
from radiai_core.results.history import History
from radiai_core.results.snapshot import score_figures

from ..samples import DICOM, KERMANY_UNSURE

pytestmark = pytest.mark.slow


def detail_of(qtbot, panel, name: str) -> str:
    item = next(it for it in panel.analysis_items() if it.toolTip(0).endswith(name))
    panel.tree.setCurrentItem(item)
    qtbot.waitUntil(lambda: name in panel.detail.text() or panel.entry is not None,
                    timeout=5000)
    return panel.detail.text()


def test_the_history_says_the_band_and_the_gate(qtbot, make_window, settings) -> None:
    analyzer = default_analyzer()
    unsure = analyzer.analyze(KERMANY_UNSURE, explain=False)
    adult = analyzer.analyze(DICOM["nih_cardiomegaly"], explain=False)
    assert unsure.decision is Decision.INDETERMINATE and adult.status != "ok"
    gate = next(m for m in adult.models if m.kind == "gate")
    with History() as h:
        h.record(unsure)
        h.record(adult)
    w = make_window()
    panel = w.history_panel
    qtbot.waitUntil(lambda: not panel.loading and len(panel.analysis_items()) == 2,
                    timeout=10000)
    f = unsure.primary
    score, high, low = score_figures(f.abnormal_score, (f.band[1], f.band[0]))
    text = detail_of(qtbot, panel, KERMANY_UNSURE.name)
    assert (f"Call: <b>indeterminate</b> (score {score}; pneumonia ≥ {high}, "
            f"none &lt; {low})") in text
    assert "threshold" not in text
    text = detail_of(qtbot, panel, DICOM["nih_cardiomegaly"].name)
    assert f"by the scope gate {gate.name} {gate.version}" in text
    assert "Refused " in text and "Analysed " not in text
    assert adult.models[0].name not in text  # the classifier never ran on it
    # The list's Model column too: the gate's version, not the classifier's.
    row = next(it for it in panel.analysis_items()
               if it.toolTip(0).endswith(DICOM["nih_cardiomegaly"].name))
    assert row.text(3) == gate.version and row.toolTip(3).startswith(gate.name)
    row = next(it for it in panel.analysis_items()
               if it.toolTip(0).endswith(KERMANY_UNSURE.name))
    assert row.text(3) == unsure.models[0].version
    try:
        w.set_language("ko")
        panel = w.history_panel  # rebuilt in Korean
        qtbot.waitUntil(lambda: not panel.loading and len(panel.analysis_items()) == 2,
                        timeout=10000)
        text = detail_of(qtbot, panel, DICOM["nih_cardiomegaly"].name)
        assert f"적용 범위 검사(게이트) {gate.name} {gate.version}(으)로 분석 거부" in text
        text = detail_of(qtbot, panel, KERMANY_UNSURE.name)
        assert f"(점수 {score}; {high} 이상 폐렴, {low} 미만 폐렴 아님)" in text
    finally:
        w.set_language("en")
        settings.setValue("language", "en")
        i18n.install(QCoreApplication.instance(), settings)
