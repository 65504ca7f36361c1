"""The viewer driven as a user would: open, drop, analyse, cancel, window/level, bad files."""

from __future__ import annotations

import json
import shutil
import time

import numpy as np
import pytest
from PyQt5.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PyQt5.QtGui import QDragEnterEvent, QDropEvent, QMouseEvent, QWheelEvent
from PyQt5.QtWidgets import QApplication

from radiai_core.resources import models_dir

from ..samples import DICOM, KERMANY_DIR, KERMANY_NORMAL
from .conftest import FakeAnalyzer


def grab(widget) -> np.ndarray:
    img = widget.grab().toImage().convertToFormat(4)  # QImage.Format_RGB32
    ptr = img.constBits()
    ptr.setsize(img.byteCount())
    rows = np.frombuffer(ptr, np.uint8).reshape(img.height(), img.bytesPerLine())
    return rows[:, :img.width() * 4].copy()


def wait_analysed(qtbot, w, path=None) -> None:
    qtbot.waitUntil(lambda: w.findings.bars != {}
                    and (path is None or w.viewer.analysis is not None
                         and w.viewer.analysis.path == str(path)), timeout=20000)


def test_open_files_shows_findings_with_manifest_labels(qtbot, make_window) -> None:
    w = make_window()
    files = sorted((KERMANY_DIR / "images").glob("*.jpeg"))[:3]
    w.open_paths(files)
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 3, timeout=10000)
    wait_analysed(qtbot, w)
    manifest = json.loads((models_dir() / "classifier" / "manifest.json").read_text())
    shown = w.findings.label_texts()
    assert set(shown) == {manifest["display_names"][lab] for lab in manifest["labels"]}
    assert len(shown) == len(manifest["labels"])
    a = w.viewer.analysis
    assert a is not None and w.viewer.image is a.image
    assert not w.viewer._heat.pixmap().isNull()  # heat map overlay drawn
    assert "threshold" in w.findings.call.text()
    assert "not a diagnosis" in w.findings.notice.text()
    assert str(files[0]) in w.recent_files()


def test_folder_with_bad_files_lists_reasons(qtbot, make_window, tmp_path) -> None:
    shutil.copy(DICOM["nih_cardiomegaly"], tmp_path / "good.dcm")
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not an image")
    w = make_window()
    w.open_paths([tmp_path])
    qtbot.waitUntil(lambda: w.skipped.count() == 2, timeout=10000)
    texts = sorted(w.skipped.texts())
    assert "empty.dcm: is empty (0 bytes)" in texts[0]
    assert "notes.txt: is not an image (a .txt file); ignored." in texts[1]
    assert w.browser.image_paths() == [str(tmp_path / "good.dcm")]
    wait_analysed(qtbot, w)


def test_drop_a_study_folder(qtbot, make_window, tmp_path) -> None:
    folder = tmp_path / "study"
    folder.mkdir()
    for key in ("jpeg_baseline", "nometa_mono1"):
        shutil.copy(DICOM[key], folder / key)
    w = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder))])
    enter = QDragEnterEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(w, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(w, drop)
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 2, timeout=10000)
    wait_analysed(qtbot, w)


def test_window_level_changes_rendered_pixels(qtbot, make_window) -> None:
    w = make_window()
    w.open_paths([DICOM["jpeg_baseline"]])
    wait_analysed(qtbot, w)
    w.heat_box.setChecked(False)  # compare the radiograph itself
    qtbot.wait(50)
    before = grab(w.viewer.viewport())
    w.viewer.set_preset("bone")
    bone = grab(w.viewer.viewport())
    assert np.abs(bone.astype(int) - before).mean() > 2
    # right-drag to the right widens the window: contrast drops
    vp = w.viewer.viewport()
    start, end = QPointF(200, 200), QPointF(400, 200)
    width0 = w.viewer.window.width
    for etype, pos, buttons in ((QMouseEvent.MouseButtonPress, start, Qt.RightButton),
                                (QMouseEvent.MouseMove, end, Qt.RightButton),
                                (QMouseEvent.MouseButtonRelease, end, Qt.NoButton)):
        QApplication.sendEvent(vp, QMouseEvent(etype, pos, Qt.RightButton, buttons,
                                               Qt.NoModifier))
    assert w.viewer.window.width > width0
    after = grab(vp)
    centre = (slice(after.shape[0] // 4, 3 * after.shape[0] // 4),
              slice(after.shape[1] // 4, 3 * after.shape[1] // 4))
    assert np.abs(after[centre].astype(int) - bone[centre]).mean() > 2
    assert after[centre].std() < bone[centre].std()  # a wider window shows less contrast
    w.invert_action.trigger()
    assert w.viewer.inverted


def test_zoom_and_readout(qtbot, make_window) -> None:
    w = make_window()
    w.open_paths([DICOM["jpeg_baseline"]])
    wait_analysed(qtbot, w)
    z0 = w.viewer.zoom_level
    wheel = QWheelEvent(QPointF(100, 100), QPointF(100, 100), QPoint(0, 0), QPoint(0, 120),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(w.viewer.viewport(), wheel)
    assert w.viewer.zoom_level == pytest.approx(z0 * 1.25)
    w.viewer.one_to_one()
    assert w.viewer.zoom_level == pytest.approx(1.0)
    assert w.viewer.pixel_info(100, 200).endswith("(16.8 mm, 33.6 mm)")  # 0.168 mm spacing


def test_cancel_stops_a_batch(qtbot, make_window, tmp_path) -> None:
    for i in range(40):
        shutil.copy(KERMANY_NORMAL, tmp_path / f"img{i:02d}.jpeg")
    fake = FakeAnalyzer(delay=0.05)
    w = make_window(fake)
    w.open_paths([tmp_path])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 40, timeout=10000)
    w.analyse_all()
    qtbot.waitUntil(lambda: len(w.summaries) >= 3, timeout=10000)
    w.cancel_work()
    qtbot.waitUntil(lambda: w.batch_worker is None, timeout=10000)
    assert fake.calls < 40
    assert w.status_text.text().startswith("Cancelled: ")


def test_bad_file_gives_its_message(qtbot, make_window, tmp_path) -> None:
    """A file that passes the header scan but fails to decode: message, no crash."""
    data = DICOM["nih_nofinding"].read_bytes()
    bad = tmp_path / "cut.dcm"
    bad.write_bytes(data[: len(data) // 2])
    w = make_window()
    w.open_paths([bad])
    qtbot.waitUntil(lambda: "truncated" in w.findings.title.text(), timeout=10000)
    assert w.viewer.image is None
    assert w.isVisible()


def test_gui_stays_responsive_during_a_200_image_batch(qtbot, make_window, tmp_path) -> None:
    for i in range(200):
        shutil.copy(KERMANY_NORMAL, tmp_path / f"img{i:03d}.jpeg")
    w = make_window(FakeAnalyzer(delay=0.01))
    w.open_paths([tmp_path])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 200, timeout=20000)
    wait_analysed(qtbot, w)
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    w.analyse_all()
    qtbot.waitUntil(lambda: w.batch_worker is None, timeout=60000)
    timer.stop()
    gaps = np.diff(ticks)
    assert len(summaries := w.summaries) == 200, len(summaries)
    assert gaps.max() < 0.1, f"GUI thread stalled for {gaps.max() * 1000:.0f} ms"


def test_shortcuts_listed_under_help(qtbot, make_window, monkeypatch) -> None:
    from PyQt5.QtWidgets import QMessageBox

    from app.main_window import SHORTCUTS

    shown = {}
    monkeypatch.setattr(QMessageBox, "information",
                        lambda parent, title, text: shown.update(title=title, text=text))
    w = make_window()
    w.show_shortcuts()
    assert shown["title"] == "Keyboard shortcuts"
    assert all(f"<b>{key}</b>" in shown["text"] for _, key in SHORTCUTS)
    keys = {a.shortcut().toString() for a in w.actions()}
    assert {"Ctrl+O", "L", "B", "I", "F"} <= keys


def test_browser_thumbnails(qtbot, make_window) -> None:
    w = make_window()
    w.open_paths([DICOM["jpeg_baseline"], KERMANY_NORMAL])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 2, timeout=10000)
    items = [w.browser.findItems("*", Qt.MatchWildcard | Qt.MatchRecursive)]
    leaves = [i for i in items[0] if i.data(0, Qt.UserRole)]
    qtbot.waitUntil(lambda: all(not i.icon(0).isNull() for i in leaves), timeout=20000)
    wait_analysed(qtbot, w)


def test_models_preload_in_the_background(qtbot, make_window) -> None:
    import threading

    loaded_in = []
    fake = FakeAnalyzer()

    def make():
        loaded_in.append(threading.current_thread() is threading.main_thread())
        return fake

    w = make_window(make_analyzer=make)
    w.preload_models()
    qtbot.waitUntil(lambda: w.models_ready, timeout=10000)
    assert loaded_in == [False]  # built in the worker thread, not the GUI thread
    assert w.status_text.text().startswith("Models loaded")


def test_save_dialogs_start_beside_the_image_and_give_the_keyboard_back(qtbot, make_window,
                                                                        monkeypatch, tmp_path):
    """The suggested file is in the study's folder (not the home folder); after the dialog the
    window is active again."""
    import shutil

    from PyQt5.QtWidgets import QFileDialog

    study = tmp_path / "study"
    study.mkdir()
    shutil.copy(KERMANY_NORMAL, study / "child.jpeg")
    w = make_window()
    w.open_paths([study / "child.jpeg"])
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=10000)
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda parent, title, suggested, filters: asked.append(suggested)
                        or ("", ""))
    activated = []
    monkeypatch.setattr(w, "activateWindow", lambda: activated.append(True))
    w.exports.choose_pdf()
    assert asked == [str(study / "child.pdf")] and activated == [True]
