"""The hostile corpus dropped on the window: every bad file listed with its reason, the good
ones shown and analysed, nothing crashes or hangs."""

from __future__ import annotations

from pathlib import Path

import pytest
from PyQt5.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PyQt5.QtGui import QDragEnterEvent, QDropEvent
from PyQt5.QtWidgets import QApplication

from ..hostile import build_corpus

# The damaged and fuzzed DICOM files make pydicom warn about what it reads (invalid UIDs,
# missing delimiters): expected here, and answered by the window as each file's message.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydicom")


def test_corpus_dropped_on_the_window(qtbot, make_window, tmp_path) -> None:
    folder = tmp_path / "corpus"
    cases = build_corpus(folder)
    bad = {str(folder / c.name): c.expect for c in cases if c.expect != "ok"}
    good = {str(folder / c.name) for c in cases if c.expect == "ok"}
    w = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    QApplication.sendEvent(w, QDragEnterEvent(QPoint(5, 5), Qt.CopyAction, mime, Qt.LeftButton,
                                              Qt.NoModifier))
    QApplication.sendEvent(w, QDropEvent(QPointF(5, 5), Qt.CopyAction, mime, Qt.LeftButton,
                                         Qt.NoModifier))
    qtbot.waitUntil(lambda: w.scan_worker is None and w.last_scan is not None, timeout=120000)
    # The header scan lists what headers can tell; a damaged or header-only DICOM is only found
    # out when its pixels are read.
    found_late = {p for p, kind in bad.items() if kind in ("truncated", "no-pixel-data")}
    assert set(w.browser.image_paths()) == good | found_late
    w.analyse_all()
    qtbot.waitUntil(lambda: w.batch_worker is None, timeout=120000)
    skipped = w.skipped.texts()
    assert len(skipped) == len(bad)
    for text in skipped:
        path, _, reason = text.partition(": ")
        assert path in bad and reason, text
    # Every readable file got a result (the fake analyzer answers all of them).
    assert set(w.summaries) == good
    assert Path(w.current_path) in {Path(p) for p in good}


def test_a_damaged_jpeg_and_the_fuzz_corpus_never_stop_a_folder_scan(qtbot, make_window,
                                                                     tmp_path) -> None:
    """A JPEG header followed by random bytes aborted the whole scan; now it is one skipped
    line, and so is every damaged file of the fuzz corpus the header scan can tell about."""
    import random

    from ..fuzz import build_fuzz_corpus
    from ..samples import KERMANY_NORMAL

    folder = tmp_path / "study"
    corpus = build_fuzz_corpus(folder)  # all 1,050
    bad = folder / "header-then-random.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + random.Random(7).randbytes(2000))
    good = folder / "good.jpeg"
    good.write_bytes(KERMANY_NORMAL.read_bytes())
    w = make_window()
    w.open_paths([str(folder)])
    qtbot.waitUntil(lambda: w.scan_worker is None and w.last_scan is not None, timeout=120000)
    assert not w.last_scan.cancelled
    listed = set(w.browser.image_paths())
    skipped = {s.path: s for s in w.last_scan.skipped}
    assert str(good) in listed
    assert skipped[str(bad)].kind in ("truncated", "damaged")
    assert "JPEG" in skipped[str(bad)].reason
    assert not any(s.kind == "bug" for s in skipped.values())
    assert listed | set(skipped) == {str(p) for p in [*corpus, bad, good]}
    assert "Scanning" not in w.status_text.text()
