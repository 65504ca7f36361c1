"""Every path an image was seen under is kept and found; the list is read a page at a time in a
few queries."""

from __future__ import annotations

import sqlite3

import pytest

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.results.history import History

from ..samples import KERMANY_BACTERIAL, KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


def test_byte_identical_files_list_every_path_and_are_found_by_each_name(analyzer, tmp_path):
    """The same JPEG under two names in two folders: one history entry (one image) that lists
    both paths, and a search for either file name finds it."""
    first = tmp_path / "ward-a" / "chest-monday.jpeg"
    second = tmp_path / "ward-b" / "copy-for-review.jpeg"
    for p in (first, second):
        p.parent.mkdir()
        p.write_bytes(KERMANY_NORMAL.read_bytes())
    with History() as h:
        a1 = h.record(analyzer.analyze(first))
        a2 = h.record(analyzer.analyze(second))
        assert a1 == a2  # one image, one analysis per model
        entry = h.entry(a1)
        assert entry.path == str(second.resolve())  # the latest
        assert set(entry.paths) == {str(first.resolve()), str(second.resolve())}
        for name in ("chest-monday", "COPY-FOR-REVIEW", "review.jp"):
            found = h.analyses(text=name)
            assert [e.id for e in found] == [a1], name
            assert len(h.patients(name)) == 1, name
        assert h.analyses(text="chest-tuesday") == []
        assert h.analyses(text="ward-a") == []  # file names, not the folders above them


def test_a_history_from_before_lists_the_path_it_had(analyzer, tmp_path):
    """A history written before paths were kept: each analysis keeps its one path, found by
    name after the upgrade."""
    path = tmp_path / "data" / "history.sqlite"
    with History(path) as h:
        aid = h.record(analyzer.analyze(KERMANY_NORMAL))
        version = h.schema_version
    raw = sqlite3.connect(path)  # back to schema 4, as RadiAI left it before paths were kept
    raw.execute("DROP TABLE image_paths")
    raw.execute("DROP TABLE IF EXISTS deliveries")  # what later versions added
    if "refused_as" in {r[1] for r in raw.execute("PRAGMA table_info(analyses)")}:
        raw.execute("ALTER TABLE analyses DROP COLUMN refused_as")
    raw.execute("PRAGMA user_version = 4")
    raw.commit()
    raw.close()
    with History(path) as h:
        assert h.schema_version == version
        assert h.entry(aid).paths == [str(KERMANY_NORMAL.resolve())]
        assert [e.id for e in h.analyses(text=KERMANY_NORMAL.stem.lower())] == [aid]


def test_a_page_holds_its_patients_analyses_verdicts_and_paths(analyzer, tmp_path):
    """``page`` gives the patients of one page with their analyses (verdicts and paths
    included) and says whether more follow; every patient appears on exactly one page."""
    files = []
    for i, src in enumerate([KERMANY_NORMAL, KERMANY_BACTERIAL] * 3):
        p = tmp_path / f"image-{i}.jpeg"
        data = bytearray(src.read_bytes())
        data[-3] ^= i + 1  # a distinct file (one patient each: no patient data)
        p.write_bytes(bytes(data))
        files.append(p)
    with History() as h:
        ids = [h.record(analyzer.analyze(p)) for p in files]
        h.set_verdict(ids[0], "@call", "disagree", "looks normal to me")
        statements: list[str] = []
        h.db.set_trace_callback(statements.append)
        first = h.page(limit=4)
        h.db.set_trace_callback(None)
        second = h.page(offset=4, limit=4)
        assert len(first.patients) == 4 and first.more
        assert len(second.patients) == 2 and not second.more
        keys = [p.key for p in first.patients + second.patients]
        assert len(set(keys)) == 6
        entries = {e.id: e for page in (first, second) for es in page.analyses.values()
                   for e in es}
        assert set(entries) == set(ids)
        assert entries[ids[0]].verdicts == {"@call": ("disagree", "looks normal to me")}
        assert all(entries[i].paths == [str(p.resolve())] for i, p in zip(ids, files,
                                                                          strict=True))
        assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 4
        by_name = h.page(text="image-3")
        assert [e.path for es in by_name.analyses.values() for e in es] == [
            str(files[3].resolve())]
