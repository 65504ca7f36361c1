"""The seeded fuzz corpus (tests/fuzz.py: 1,050 damaged copies of the real samples) through
the scanner, `radiai inspect` and `radiai analyze`: every file answered with a RadiAIError or
a result, none a bug, no traceback or library chatter on the terminal, bounded time and memory.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest

from radiai_core.errors import RadiAIError
from radiai_core.reading.io import load_image
from radiai_core.reading.studies import scan

from ..fuzz import MUTATIONS, build_fuzz_corpus
from .test_hostile import PEAK_RSS_LIMIT_MB, run_cli

pytestmark = pytest.mark.slow

#: A hang guard, not a benchmark: the issue's target is 2 s a file, which bench/bench_fuzz.py
#: measures; a test fails only on what is plainly a hang.
HANG_SECONDS = 10.0


def only_pydicoms_warnings(caught: pytest.WarningsRecorder) -> None:
    """The damaged headers make pydicom warn (values too long for their VR, a missing
    delimiter, an unknown escape sequence): expected of this corpus, so asserted here rather
    than dumped, raw header bytes and all, into the test summary. Any other warning fails."""
    assert len(caught) > 0
    foreign = [f"{w.filename}: {w.message}" for w in caught
               if "pydicom" not in Path(w.filename).parts]
    assert foreign == []


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Path]:
    return build_fuzz_corpus(tmp_path_factory.mktemp("fuzz") / "corpus")


def test_the_corpus_is_seeded_and_covers_every_mutation(corpus, tmp_path) -> None:
    assert len(corpus) >= 1000
    names = Counter(p.name.split("-")[0] for p in corpus)
    assert set(names) == {m.__name__ for m in MUTATIONS}
    again = build_fuzz_corpus(tmp_path / "again", n=40)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in corpus[:40]]


def test_every_damaged_file_gets_a_radiai_answer_from_the_loader(corpus) -> None:
    kinds: Counter[str] = Counter()
    slowest = 0.0
    with pytest.warns(UserWarning) as caught:
        for path in corpus:
            t = time.perf_counter()
            try:
                image = load_image(path)
            except RadiAIError as exc:
                assert exc.path == str(path) and exc.message, path.name
                kinds[exc.kind] += 1
            else:
                assert image.pixels.ndim == 2 and image.pixels.size > 0
                kinds["ok"] += 1
            slowest = max(slowest, time.perf_counter() - t)
    only_pydicoms_warnings(caught)
    assert "bug" not in kinds
    # Damage is found and named as such, not only as "not an image".
    assert kinds["truncated"] > 100 and kinds["damaged"] > 50 and kinds["ok"] > 100, kinds
    assert slowest < HANG_SECONDS


def test_the_scanner_lists_every_file_once(corpus) -> None:
    with pytest.warns(UserWarning) as caught:
        result = scan(corpus[0].parent)
    only_pydicoms_warnings(caught)
    listed = {r.path for p in result.patients for st in p.studies for se in st.series
              for r in se.images}
    skipped = {s.path for s in result.skipped}
    assert not any(s.kind == "bug" for s in result.skipped)
    # Every file is listed or skipped with its reason (a duplicate UID of a damaged copy too).
    assert listed | skipped == {str(p) for p in corpus}
    assert all(s.reason for s in result.skipped)


def _check(records: list[dict], corpus: list[Path], stderr: str, ok: set[str]) -> Counter:
    by_path = {r["path"]: r for r in records}
    assert set(by_path) == {str(p) for p in corpus}  # every file answered once
    statuses: Counter[str] = Counter()
    for r in records:
        assert r["status"] in ok | {"error"}, r
        assert r.get("kind") != "bug", r
        assert r["message"] or r["status"] == "ok", r
        statuses[r["status"]] += 1
    assert "Traceback" not in stderr
    # Only RadiAI's own lines: no LiteRT start-up line, no pydicom or Python warnings.
    chatter = [line for line in stderr.splitlines()[:-1] if line.strip()]
    assert chatter == [], chatter[:5]
    return statuses


def test_inspect_answers_every_damaged_file(corpus) -> None:
    code, records, stderr, peak = run_cli("inspect", "--json", str(corpus[0].parent),
                                          timeout=600)
    statuses = _check(records, corpus, stderr, {"ok"})
    assert code == 1 and statuses["error"] > 0
    assert peak < PEAK_RSS_LIMIT_MB


def test_analyze_answers_every_damaged_file(corpus) -> None:
    code, records, stderr, peak = run_cli("analyze", "--json", "--no-history",
                                          str(corpus[0].parent), timeout=1200)
    statuses = _check(records, corpus, stderr, {"ok", "rejected"})
    assert code == 1 and statuses["error"] > 0 and statuses["ok"] + statuses["rejected"] > 100
    for r in records:
        if r["status"] == "rejected":
            assert r["probabilities"] == {} and r["boxes"] == [] and r["refused_by"]
    assert peak < PEAK_RSS_LIMIT_MB
