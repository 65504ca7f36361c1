"""The History panel: read in pages off the GUI thread, a damaged history said in the panel,
every path of an image, one verdict per call that reaches the PDF, every model's call."""

from __future__ import annotations

import sqlite3
import threading

import pypdf
import pytest

from radiai_core.analysis.findings import Decision, Findings
from radiai_core.results.history import History

from ..samples import KERMANY_BACTERIAL, KERMANY_NORMAL
from .conftest import FakeAnalyzer


def wait_listed(qtbot, panel, n: int) -> None:
    qtbot.waitUntil(lambda: not panel.loading and len(panel.analysis_items()) == n,
                    timeout=10000)


def record(paths) -> list[int]:
    fake = FakeAnalyzer()
    with History() as h:
        return [h.record(fake.analyze(p)) for p in paths]


def distinct_jpegs(folder, n: int):
    """``n`` different files (one patient each: no patient data) from the real samples."""
    out = []
    for i in range(n):
        data = bytearray((KERMANY_NORMAL if i % 2 else KERMANY_BACTERIAL).read_bytes())
        data[-3] ^= i + 1
        p = folder / f"image-{i}.jpeg"
        p.write_bytes(bytes(data))
        out.append(p)
    return out


def test_the_list_is_read_in_pages_off_the_gui_thread(qtbot, make_window, tmp_path,
                                                      monkeypatch):
    """The window comes up with the list still empty; the page is read in another thread;
    a long list ends with 'More patients…', which lists the next page."""
    import app.history_view as hv

    record(distinct_jpegs(tmp_path, 5))
    threads: list[int] = []
    page = History.page

    def page_and_note(self, *args, **kwargs):
        threads.append(threading.get_ident())
        return page(self, *args, **kwargs)

    monkeypatch.setattr(History, "page", page_and_note)
    monkeypatch.setattr(hv, "PAGE_SIZE", 3)
    w = make_window()
    panel = w.history_panel
    assert panel.analysis_items() == []  # not read in the constructor
    wait_listed(qtbot, panel, 3)
    assert threads and threading.get_ident() not in threads
    more = panel.tree.topLevelItem(panel.tree.topLevelItemCount() - 1)
    assert more.data(0, hv.KIND_ROLE) == "more" and "More patients" in more.text(0)
    panel._on_double_click(more, 0)
    wait_listed(qtbot, panel, 5)
    assert len(panel.patient_titles()) == 5
    assert panel.tree.topLevelItem(panel.tree.topLevelItemCount() - 1).data(
        0, hv.KIND_ROLE) == "patient"


def test_a_history_damaged_while_open_is_said_in_the_panel(qtbot, make_window, tmp_path):
    """Damage found when the list is read (not at start-up) is a line in the panel and the
    status bar, not the crash dialog."""
    record(distinct_jpegs(tmp_path, 2))
    w = make_window()
    panel = w.history_panel
    wait_listed(qtbot, panel, 2)
    with History() as h:
        path = h.path
        h.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    size = db.execute("PRAGMA page_size").fetchone()[0]
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'analyses'").fetchone()[0]
    db.close()
    data = bytearray(path.read_bytes())
    data[size * (root - 1):size * root] = b"\xa5" * size
    path.write_bytes(bytes(data))
    panel.refresh()
    qtbot.waitUntil(lambda: "could not be read" in panel.detail.text(), timeout=10000)
    assert "damaged" in panel.detail.text() and str(path) in panel.detail.text()
    assert "damaged" in w.status_text.text()


def test_a_damaged_history_at_start_up_is_moved_aside_and_said(qtbot, make_window,
                                                               private_data_dir):
    (private_data_dir / "history.sqlite").write_bytes(b"not a database, a damaged file" * 200)
    (private_data_dir / "history.sqlite-wal").write_bytes(b"its log")
    w = make_window()
    assert "was damaged" in w.status_text.text() and "moved to" in w.status_text.text()
    (wal,) = private_data_dir.glob("history.sqlite.damaged-*-wal")
    assert wal.read_bytes() == b"its log"  # kept beside the damaged file, as it was
    qtbot.waitUntil(lambda: not w.history_panel.loading, timeout=10000)
    assert w.history_panel.analysis_items() == []


def test_copies_list_every_path_and_are_found_by_either_name(qtbot, make_window, tmp_path):
    first, second = tmp_path / "monday-chest.jpeg", tmp_path / "copy-for-review.jpeg"
    for p in (first, second):
        p.write_bytes(KERMANY_NORMAL.read_bytes())
    record([first, second])
    w = make_window()
    panel = w.history_panel
    wait_listed(qtbot, panel, 1)
    for name in ("monday", "copy-for"):
        panel.search.setText(name)
        wait_listed(qtbot, panel, 1)
    (item,) = panel.analysis_items()
    assert "monday-chest.jpeg" in item.toolTip(0) and "copy-for-review.jpeg" in item.toolTip(0)
    panel.tree.setCurrentItem(item)
    assert "Also seen as" in panel.detail.text() and "monday-chest.jpeg" in panel.detail.text()


def test_one_verdict_on_the_call_reaches_the_pdf(qtbot, make_window, tmp_path):
    w = make_window()
    w.open_paths([KERMANY_NORMAL])
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=10000)
    panel = w.history_panel
    w.show_history()
    wait_listed(qtbot, panel, 1)
    panel.tree.setCurrentItem(panel.analysis_items()[0])
    assert list(panel.verdict_rows) == ["@call"]  # not one per label
    combo, note = panel.verdict_rows["@call"]
    combo.setCurrentIndex(2)
    note.setText("no consolidation seen")
    panel.save_button.click()
    pdf = tmp_path / "with-verdict.pdf"
    w.exports.export_pdf(str(pdf))
    qtbot.waitUntil(pdf.exists, timeout=10000)
    text = pypdf.PdfReader(pdf).pages[0].extract_text()
    assert "Reader's verdict on the call: disagree" in text
    assert "no consolidation seen" in text


class TwoModels(FakeAnalyzer):
    """The fake classifier and a site's multi-label model beside it."""

    def analyze(self, source):
        a = super().analyze(source)
        a.findings.append(Findings(
            key="site7", title="Site findings, 7 labels", labels=["nodule", "effusion"],
            display_names={"nodule": "nodule", "effusion": "pleural effusion"},
            probabilities={"nodule": 0.71, "effusion": 0.2}, multi_label=True,
            thresholds={"nodule": 0.5, "effusion": 0.5}, positives=["nodule"],
            decision=Decision.POSITIVE))
        return a


@pytest.mark.parametrize("where", ["tree", "history"])
def test_every_model_call_is_in_the_lists(qtbot, make_window, where):
    """A site's model is seen in the study tree's result column and History's Call column,
    beside the primary model's call; its verdict row is there too."""
    w = make_window(analyzer=TwoModels())
    w.open_paths([KERMANY_NORMAL])
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=10000)
    call = w.current_analysis.findings[0].call
    if where == "tree":
        text = w.browser._items[str(KERMANY_NORMAL)].text(2)
    else:
        w.show_history()
        wait_listed(qtbot, w.history_panel, 1)
        item = w.history_panel.analysis_items()[0]
        text = item.text(2)
        w.history_panel.tree.setCurrentItem(item)
        assert list(w.history_panel.verdict_rows) == ["@call", "site7/@call"]
    assert text.startswith(call) and text.endswith(" · Site findings, 7 la…: nodule"), text


def test_verdicts_given_per_label_before_are_kept_and_shown(qtbot, make_window, tmp_path):
    """A history from before verdicts were on the call keeps its per-label verdicts: shown
    with the analysis, not dropped."""
    (aid,) = record(distinct_jpegs(tmp_path, 1))
    with History() as h:
        h.set_verdict(aid, "viral", "agree", "as read in 2025")
    w = make_window()
    panel = w.history_panel
    wait_listed(qtbot, panel, 1)
    panel.tree.setCurrentItem(panel.analysis_items()[0])
    assert "Earlier verdicts per label: viral: agree (as read in 2025)" in panel.detail.text()
    assert list(panel.verdict_rows) == ["@call"]


def test_each_row_says_when_to_the_minute_and_which_model_version(qtbot, make_window,
                                                                   monkeypatch):
    """Walkthrough: a row said only the day; two analyses of one film on one day by two model
    versions looked the same. Each row now says the time on the reader's clock (Seoul here:
    UTC + 9 h) and the model version; its tooltip names the model and its sha256."""
    import time
    from datetime import datetime, timedelta

    from radiai_core.analysis.models import ModelInfo

    monkeypatch.setenv("TZ", "Asia/Seoul")
    time.tzset()
    try:
        fake = FakeAnalyzer()
        with History() as h:
            h.record(fake.analyze(KERMANY_NORMAL))
            newer = fake.analyze(KERMANY_NORMAL)
            newer.models = [ModelInfo("radiai-densenet121", "2026.12.01", "ab" * 32,
                                      "classifier")]
            h.record(newer)
            stored = {e.model.version: e.analysed_at for e in h.analyses()}
        w = make_window()
        panel = w.history_panel
        wait_listed(qtbot, panel, 2)
        rows = {item.text(3): item for item in panel.analysis_items()}
        assert set(rows) == {"0", "2026.12.01"}
        for version, item in rows.items():
            utc = datetime.fromisoformat(stored[version])
            seoul = (utc.replace(tzinfo=None) + timedelta(hours=9)).strftime("%Y-%m-%d %H:%M")
            assert item.text(1) == seoul
        assert rows["2026.12.01"].toolTip(3) == (
            "radiai-densenet121 2026.12.01 · sha256 abababababab")
        assert panel.tree.headerItem().text(3) == "Model"
        # The time and the version are whole, never cut to "2026-12-03 1…".
        header = panel.tree.header()
        metrics = panel.tree.fontMetrics()
        for column in (1, 3):
            assert header.sectionSize(column) > metrics.horizontalAdvance(
                rows["2026.12.01"].text(column))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
