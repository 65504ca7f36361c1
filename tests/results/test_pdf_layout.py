"""The PDF snapshot's layout, read back from the written file: every line stays inside the
page's margins (the regions of a positive film with several boxes wrap, never run off the
page), and the probability bars carry the call's colour only where the model calls a label."""

from __future__ import annotations

import numpy as np
import pypdf
import pypdfium2
import pytest

from radiai_core.analysis.findings import Decision
from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.results.report import write_pdf
from radiai_core.results.snapshot import CALLED_RGB, UNCALLED_RGB

from ..samples import KERMANY_BACTERIAL, KERMANY_NORMAL, KERMANY_UNSURE

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


SCALE = 3  # rendering: pixels per point


def bar_pixels(path, names: list[str]) -> dict[str, np.ndarray]:
    """The RGB pixels of each named label's probability bar on page 1 (the strip right of
    its name's row, where ``report._findings_block`` draws the bar: 90 to 150 mm from the
    margin, from 0.5 mm under the baseline to 2.7 mm over it)."""
    page = pypdfium2.PdfDocument(str(path))[0]
    rgb = np.asarray(page.render(scale=SCALE).to_pil().convert("RGB")).astype(int)
    height = page.get_height()
    text = page.get_textpage()
    out = {}
    for name in names:
        searcher = text.search(name, match_case=True, match_whole_word=True)
        rows = []
        while (hit := searcher.get_next()) is not None:
            x0, bottom, _, _ = text.get_charbox(hit[0])
            if abs(x0 - MARGIN) < 2:  # the label's own row, not the caption or the call
                rows.append(bottom)
        assert len(rows) == 1, (name, rows)
        top = round((height - (rows[0] + 2.5 * MM)) * SCALE)
        low = round((height - (rows[0] - 0.3 * MM)) * SCALE)
        x0, x1 = round((MARGIN + 90 * MM) * SCALE), round((MARGIN + 150 * MM) * SCALE)
        out[name] = rgb[top:low, x0:x1]
    return out


def count(strip: np.ndarray, colour: tuple[int, int, int]) -> int:
    return int((np.abs(strip - np.array(colour)).max(axis=2) <= 12).sum())


@pytest.mark.parametrize("sample", [KERMANY_BACTERIAL, KERMANY_UNSURE, KERMANY_NORMAL],
                         ids=["positive", "indeterminate", "negative"])
def test_only_a_called_finding_has_a_red_bar(analyzer, tmp_path, sample) -> None:
    a = analyzer.analyze(sample, explain=False)
    f = a.primary
    expected = {KERMANY_BACTERIAL: Decision.POSITIVE, KERMANY_UNSURE: Decision.INDETERMINATE,
                KERMANY_NORMAL: Decision.NEGATIVE}[sample]
    assert f.decision is expected
    called = set(f.positives)
    assert len(called) == (1 if expected is Decision.POSITIVE else 0)
    assert f.negative_label not in called
    out = write_pdf([a], tmp_path / "bars.pdf", lang="en")
    strips = bar_pixels(out, [f.name(label) for label in f.labels])
    for label in f.labels:
        strip, p = strips[f.name(label)], f.probabilities[label]
        red, neutral = count(strip, CALLED_RGB), count(strip, UNCALLED_RGB)
        if label in called:  # the finding the positive call names: red, nothing else
            assert red > 200 and neutral == 0, (label, red, neutral)
        else:  # the negative label, the other subtype, any label of an undecided film
            assert red == 0, (label, red)
            if p > 0.05:
                assert neutral > 200, (label, p, neutral)


def test_a_long_verdict_comment_wraps_whole(positive, tmp_path) -> None:
    comment = ("reviewed with the lateral view and the previous film of 2025-11-02; the "
               "right upper opacity is a thymic sail, not consolidation; discussed with the "
               "attending radiologist, who agrees; no antibiotics for now, clinical review")
    out = write_pdf([positive], tmp_path / "verdict.pdf", lang="en",
                    verdicts=[{"@call": ("disagree", comment)}])
    width, chars = char_right_edges(out)
    assert [ch for ch, x1 in chars if x1 > width - MARGIN + 1.0] == []
    text = flat(pypdf.PdfReader(out).pages[0].extract_text())
    assert f"Reader's verdict on the call: disagree — {comment}" in text  # whole, not cut at 90


@pytest.mark.parametrize(("score", "expected"), [
    (0.37, ["0.37", "0.88", "0.25"]),            # plainly between: two decimals say it
    (0.8772, ["0.8772", "0.8775", "0.2520"]),    # just under the high cut-off: never "0.88 ≥ 0.88"
    (0.8775, ["0.88", "0.88", "0.25"]),          # at the cut-off: "≥" holds as printed
    (0.2519, ["0.2519", "0.8775", "0.2520"]),    # just under the low one: "<" holds as printed
])
def test_a_printed_score_never_contradicts_its_cut_offs(score, expected) -> None:
    """The shipped band's cut-offs (0.8775, 0.252): every face prints the score and the
    cut-offs so that what reads "score ≥ high" is a positive call and "score < low" a
    negative one."""
    from radiai_core.results.snapshot import score_figures

    shown = score_figures(score, (0.8775, 0.252))
    assert shown == expected
    s, high, low = map(float, shown)
    assert (s >= high) == (score >= 0.8775) and (s < low) == (score < 0.252)


def char_boxes(path) -> tuple[str, list[tuple[float, float, float, float]]]:
    """Page 1's text, one character per entry, and each character's box (left, bottom,
    right, top) in points."""
    page = pypdfium2.PdfDocument(str(path))[0]
    text = page.get_textpage()
    chars = [text.get_text_range(i, 1) for i in range(text.count_chars())]
    return "".join(c[:1] or " " for c in chars), [text.get_charbox(i)
                                                   for i in range(len(chars))]


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("version", ["", "-calibrated-round-3", "-calibrated-round-3-on-the-"
                                     "hannover-and-kermany-cohorts-with-a-very-long-tag"],
                         ids=["shipped", "longer", "longest"])
def test_a_model_version_never_runs_into_its_sha256(positive, tmp_path, lang, version) -> None:
    """The models table: "classifier: radiai-densenet121-cxr 2026.12.03-int8" ran into its
    "sha256 …" at 70 mm (the walkthrough's PDF). Whatever the version's length, no character
    of a model's row overlaps another, every line stays inside the margins and the hash is
    printed whole."""
    from dataclasses import replace

    a = replace(positive, models=[replace(m, version=m.version + version)
                                  for m in positive.models])
    out = write_pdf([a], tmp_path / f"models-{lang}.pdf", lang=lang)
    text, boxes = char_boxes(out)
    start = text.index("Models" if lang == "en" else "모델")
    table = [(ch, b) for ch, b in zip(text[start:], boxes[start:], strict=True) if ch.strip()]
    width = pypdfium2.PdfDocument(str(out))[0].get_width()
    assert [ch for ch, b in table if b[2] > width - MARGIN + 1.0 or b[0] < MARGIN - 1.0] == []
    lows = np.array([b[0] for _, b in table])
    highs = np.array([b[2] for _, b in table])
    bottoms = np.array([b[1] for _, b in table])
    tops = np.array([b[3] for _, b in table])
    # Two characters overlap where both their spans cross by more than a fifth of a point.
    dx = np.minimum.outer(highs, highs) - np.maximum.outer(lows, lows)
    dy = np.minimum.outer(tops, tops) - np.maximum.outer(bottoms, bottoms)
    clash = (dx > 0.2) & (dy > 0.2)
    np.fill_diagonal(clash, False)
    pairs = [(table[i][0], table[j][0]) for i, j in zip(*np.nonzero(clash), strict=True)
             if i < j]
    assert pairs == [], pairs[:10]
    flat_text = flat(pypdf.PdfReader(out).pages[0].extract_text())
    for m in a.models:
        assert f"sha256 {m.sha256}" in flat_text
        assert f"{m.name} {m.version}" in flat_text
