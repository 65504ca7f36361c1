"""The findings panel's probability bars, read from their pixels: the PDF's rule
(``snapshot.bar_rgb``), red only for the finding a positive call names, on real analyses."""

from __future__ import annotations

import pytest
from PyQt5.QtGui import QColor

from radiai_core.analysis.findings import Decision
from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.results.snapshot import CALLED_RGB, UNCALLED_RGB

from ..samples import KERMANY_BACTERIAL, KERMANY_NORMAL, KERMANY_UNSURE

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


def fill_colour(bar) -> tuple[int, int, int]:
    """The colour in the middle of a bar's filled part."""
    image = bar.grab().toImage()
    filled = image.width() * bar.value() / bar.maximum()
    assert filled > 8, "too short a fill to read its colour"
    c = QColor(image.pixel(int(filled / 2), image.height() // 2))
    return c.red(), c.green(), c.blue()


def near(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    return max(abs(x - y) for x, y in zip(a, b, strict=True)) <= 12


@pytest.mark.parametrize("sample", [KERMANY_BACTERIAL, KERMANY_UNSURE, KERMANY_NORMAL],
                         ids=["positive", "indeterminate", "negative"])
def test_only_the_called_finding_has_a_red_bar(qtbot, analyzer, sample) -> None:
    from app.findings import FindingsPanel

    a = analyzer.analyze(sample, explain=False)
    f = a.primary
    called = set(f.positives)
    assert (len(called) == 1) == (f.decision is Decision.POSITIVE)
    panel = FindingsPanel()
    qtbot.addWidget(panel)
    panel.resize(420, 600)
    panel.show()
    panel.show_analysis(a)
    qtbot.waitExposed(panel)
    seen = 0
    for label in f.labels:
        bar = panel.bars[label]
        if bar.value() < 0.05 * bar.maximum():
            continue  # a sliver: no colour to read
        colour = fill_colour(bar)
        wanted = CALLED_RGB if label in called else UNCALLED_RGB
        assert near(colour, wanted), (label, colour, wanted)
        seen += 1
    assert seen >= 1
    if called:  # the positive film: its call's bar was read
        assert panel.bars[next(iter(called))].value() >= 50
