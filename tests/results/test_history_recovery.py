"""A damaged history is moved aside whole (its -wal and -shm beside it, nothing changed), and
every write to a history that cannot take it is a HistoryError, never a raw sqlite3 error."""

from __future__ import annotations

import sqlite3

import pytest

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.errors import HistoryError
from radiai_core.results.history import History

from ..samples import KERMANY_BACTERIAL, KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


def _page_of(path, table: str) -> tuple[int, int]:
    """(page size, root page) of ``table`` in the database at ``path``."""
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    db.close()
    return size, root


def _smash(path, table: str) -> None:
    """Overwrite ``table``'s root page in the file with a pattern: a damaged page."""
    size, root = _page_of(path, table)
    data = bytearray(path.read_bytes())
    data[size * (root - 1):size * root] = b"\xa5" * size
    path.write_bytes(bytes(data))


def test_a_damaged_history_is_moved_aside_with_its_wal(analyzer, tmp_path) -> None:
    """A history left by a crash (main file, write-ahead log and shared memory) whose verdicts
    page is damaged: moved aside with its -wal and -shm next to it, byte for byte as they
    were (SQLite would have copied the log into the damaged file and deleted it)."""
    live = tmp_path / "live" / "history.sqlite"
    with History(live) as h:
        h.record(analyzer.analyze(KERMANY_NORMAL))
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    for i in range(40):  # newer rows only in the log, as at a crash
        writer.execute("INSERT INTO patients (patient_id, name) VALUES (?, ?)",
                       (f"PID-{i}", f"Name^{i}"))
    crashed = tmp_path / "data" / "history.sqlite"
    crashed.parent.mkdir()
    for suffix in ("", "-wal", "-shm"):
        crashed.with_name(crashed.name + suffix).write_bytes(
            live.with_name(live.name + suffix).read_bytes())
    writer.close()
    _smash(crashed, "verdicts")
    before = {s: crashed.with_name(crashed.name + s).read_bytes() for s in ("", "-wal", "-shm")}
    assert len(before["-wal"]) > 0

    with History(crashed) as h:
        aside = h.moved_aside
        assert aside is not None and aside.parent == crashed.parent
        assert h.patients() == [] and h.integrity() == "ok"  # a fresh one, usable
        h.record(analyzer.analyze(KERMANY_BACTERIAL))
    for suffix, data in before.items():
        kept = aside.with_name(aside.name + suffix)
        assert kept.exists(), suffix
        assert kept.read_bytes() == data, suffix  # untouched: nothing merged, nothing lost


def test_a_locked_history_is_not_taken_for_a_damaged_one(tmp_path) -> None:
    """A history that cannot be opened (here a folder stands where the file should be) is a
    HistoryError that says so; nothing is moved aside."""
    path = tmp_path / "history.sqlite"
    path.mkdir()
    with pytest.raises(HistoryError, match="cannot be opened"):
        History(path)
    assert path.is_dir() and not list(tmp_path.glob("*.damaged-*"))


@pytest.fixture
def damaged_after_open(analyzer, tmp_path):
    """A history with one analysis whose analyses and verdicts pages are damaged after it was
    checked (as a disk error would do while RadiAI runs): (history, analysis id, patient)."""
    path = tmp_path / "data" / "history.sqlite"
    with History(path) as h:
        aid = h.record(analyzer.analyze(KERMANY_NORMAL))
        patient = h.patients()[0].key
        h.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    _smash(path, "verdicts")
    _smash(path, "analyses")
    h = History(path)  # checked once per process already: opens, the damage lies in wait
    yield h, aid, patient
    h.close()


@pytest.mark.parametrize("write", [
    lambda h, aid, patient: h.set_verdict(aid, "@call", "agree", "a note"),
    lambda h, aid, patient: h.delete_analysis(aid),
    lambda h, aid, patient: h.delete_patient(patient),
], ids=["set_verdict", "delete_analysis", "delete_patient"])
def test_every_write_to_a_damaged_history_is_a_history_error(damaged_after_open, write):
    h, aid, patient = damaged_after_open
    with pytest.raises(HistoryError) as info:
        write(h, aid, patient)
    assert str(h.path) in str(info.value)
    assert "nothing was changed" in str(info.value) or "damaged" in str(info.value)


def test_writes_to_a_read_only_history_are_history_errors(analyzer, tmp_path) -> None:
    """Another process holds the write lock (a batch in a second window): the reader's
    verdict, a delete or the DICOM node's delivery record is a HistoryError naming the file,
    not an sqlite3 error."""
    path = tmp_path / "data" / "history.sqlite"
    with History(path) as h:
        aid = h.record(analyzer.analyze(KERMANY_NORMAL))
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    h = History(path)
    h.db.execute("PRAGMA busy_timeout = 50")
    try:
        for write in (lambda: h.set_verdict(aid, "@call", "disagree"),
                      lambda: h.delete_analysis(aid), lambda: h.delete_patient(1),
                      lambda: h.record_delivery("1.2.3.4", "sr", "PACS@pacs:104", "1.2.3"),
                      lambda: h.mark_delivered("1.2.3.4", 1.7e9, 1)):
            with pytest.raises(HistoryError, match="locked"):
                write()
    finally:
        other.execute("ROLLBACK")
        other.close()
        h.close()
