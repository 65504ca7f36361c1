"""The PDF snapshot's layout, read back from the written file: every line stays inside the
page's margins (the regions of a positive film with several boxes wrap, never run off the
page), and the probability bars carry the call's colour only where the model calls a label."""

from __future__ import annotations

import pypdf
import pypdfium2
import pytest

from radiai_core.analysis.findings import Decision
from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.results.report import write_pdf

from ..samples import KERMANY_BACTERIAL

pytestmark = pytest.mark.slow

MM = 72 / 25.4
MARGIN = 18 * MM  # the page's left and right margins (report._page)


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


@pytest.fixture(scope="module")
def positive(analyzer):
    a = analyzer.analyze(KERMANY_BACTERIAL)
    assert a.decision is Decision.POSITIVE and len(a.primary.boxes) >= 2  # several regions
    return a


def flat(text: str) -> str:
    return " ".join(text.split())


def char_right_edges(path) -> tuple[float, list[tuple[str, float]]]:
    """The page's width and (character, right edge in points) of every character on page 1."""
    page = pypdfium2.PdfDocument(str(path))[0]
    text = page.get_textpage()
    out = []
    for i in range(text.count_chars()):
        ch = text.get_text_range(i, 1)
        if ch.strip():
            out.append((ch, text.get_charbox(i)[2]))
    return page.get_width(), out


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_suspected_regions_wrap_inside_the_margins(positive, tmp_path, lang) -> None:
    out = write_pdf([positive], tmp_path / f"positive-{lang}.pdf", lang=lang)
    width, chars = char_right_edges(out)
    beyond = [(ch, round(x1 - (width - MARGIN), 1)) for ch, x1 in chars
              if x1 > width - MARGIN + 1.0]
    assert beyond == [], beyond  # no character past the right margin
    text = flat(pypdf.PdfReader(out).pages[0].extract_text())
    # Every box is there whole (the line was cut at 120 characters): position, size, share.
    for b in positive.primary.boxes:
        assert f"x {b.x}, y {b.y}, {b.w} × {b.h} px (" in text, b
        share = f"{b.score:.0%}"
        assert (f"{share} of the heat map" if lang == "en" else f"히트맵의 {share}") in text
    last = positive.primary.boxes[-1]
    tail = ("" if last.in_lungs else ", mostly outside the lung contour") + ")"
    if lang == "en":
        assert text.count("Suspected regions:") == 1
        assert f"{last.score:.0%} of the heat map{tail}" in text  # the last box's end too
