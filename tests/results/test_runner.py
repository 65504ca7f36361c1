"""The one runner of every face: analyse, record, report failure (results.batch.Runner)."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.results.batch import Runner
from radiai_core.results.history import History

from ..samples import DICOM, KERMANY_BACTERIAL, KERMANY_NORMAL


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


def test_every_file_answered_and_recorded(analyzer, tmp_path) -> None:
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a dicom file" * 10)
    db = tmp_path / "h.sqlite"
    with Runner(analyzer.analyze, db) as runner:
        items = list(runner.run([KERMANY_NORMAL, junk, DICOM["jpeg_baseline"]]))
    assert [i.status for i in items] == ["ok", "error", "rejected"]
    assert items[1].kind == "not-an-image" and "not a DICOM file" in items[1].error
    assert items[0].history_id is not None and items[2].history_id is not None
    assert items[1].history_id is None and runner.history_problem == ""
    with History(db) as h:
        assert {e.status for e in h.analyses()} == {"ok", "rejected"}


def test_a_bug_in_one_file_is_logged_and_the_run_goes_on(analyzer, caplog) -> None:
    calls = []

    def flaky(source, **kw):
        calls.append(source)
        if len(calls) == 1:
            raise ZeroDivisionError("simulated bug")
        return analyzer.analyze(source, **kw)

    runner = Runner(flaky, record=False)
    items = list(runner.run([KERMANY_NORMAL, KERMANY_BACTERIAL]))
    assert items[0].kind == "bug" and "ZeroDivisionError" in items[0].error
    assert items[1].status == "ok"
    assert "simulated bug" in caplog.text and "Traceback" in caplog.text


def test_a_history_that_fails_stops_recording_but_not_analysing(analyzer, tmp_path) -> None:
    db = tmp_path / "h.sqlite"
    with History(db) as h:
        h.db.execute("CREATE TRIGGER no_more BEFORE INSERT ON analyses "
                      "BEGIN SELECT RAISE(ABORT, 'disk says no'); END")
    with Runner(analyzer.analyze, db) as runner:
        items = list(runner.run([KERMANY_NORMAL, KERMANY_BACTERIAL]))
    assert [i.status for i in items] == ["ok", "ok"]  # analysed all the same
    assert [i.history_id for i in items] == [None, None]
    assert "disk says no" in runner.history_problem
    assert runner.record is False  # said once, not retried for every image


def test_a_cancelled_run_closes_its_history_connection(analyzer, tmp_path) -> None:
    db = tmp_path / "h.sqlite"
    cancel = threading.Event()
    runner = Runner(analyzer.analyze, db)
    for item in runner.run([KERMANY_NORMAL, KERMANY_BACTERIAL, KERMANY_NORMAL], cancel=cancel):
        assert item.history_id is not None
        cancel.set()  # the viewer's Cancel, after the first image
    connection = runner._history.db
    runner.close()
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        connection.execute("SELECT 1")
    with History(db) as h:
        assert len(h.analyses()) == 1
