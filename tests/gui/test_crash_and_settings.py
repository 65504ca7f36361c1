"""Crash hook logs and shows the error; layout and recent files survive a restart."""

from __future__ import annotations

import logging
import sys

from ..samples import KERMANY_NORMAL


def test_excepthook_logs_traceback_and_shows_dialog(monkeypatch, tmp_path) -> None:
    from app import crash

    monkeypatch.setattr(crash, "log_file", lambda: tmp_path / "radiai.log")
    shown = []
    monkeypatch.setattr(crash, "show_crash_dialog", lambda text, parent=None: shown.append(text))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    root = logging.getLogger()
    before = list(root.handlers)
    path = crash.configure_logging()
    try:
        crash.install_excepthook()
        try:
            raise ZeroDivisionError("boom in a slot")
        except ZeroDivisionError:
            sys.excepthook(*sys.exc_info())
        for h in root.handlers:
            h.flush()
        text = path.read_text()
        assert "unhandled exception" in text and "ZeroDivisionError: boom in a slot" in text
        assert "Traceback" in shown[0]
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
                h.close()


def test_recent_files_and_layout_survive_a_restart(qtbot, make_window, settings) -> None:
    w = make_window()
    w.open_paths([KERMANY_NORMAL])
    qtbot.waitUntil(lambda: w.findings.bars != {}, timeout=20000)
    w.resize(900, 640)
    w.close()
    settings.sync()
    w2 = make_window(resize=False)
    assert w2.recent_files()[0] == str(KERMANY_NORMAL)
    assert [a.text() for a in w2.recent_menu.actions()][0] == str(KERMANY_NORMAL)
    assert w2.size().width() == 900


def test_missing_xcb_libraries_are_named_instead_of_qt_aborting(monkeypatch, capsys) -> None:
    """On a desktop without Qt's xcb dependencies the viewer says which packages to install
    (one line) and exits, instead of Qt's abort."""
    from app import main as app_main

    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(app_main, "XCB_LIBRARIES",
                        {**app_main.XCB_LIBRARIES, "libxcb-nonexistent.so.9": "libxcb-test9"})
    assert "libxcb-test9" in app_main.missing_xcb_packages()
    assert app_main.run_gui([]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sudo apt install libxcb-test9" in err
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")  # another platform needs none of them
    assert app_main.missing_xcb_packages() == []


def test_crash_details_are_redacted_like_the_log(monkeypatch, tmp_path, phi_dicom) -> None:
    """The crash dialog and its Copy details show the traceback without the patient's name or
    id (the log file already leaves them out)."""
    from app import crash
    from radiai_core.reading.io import load_image

    from ..conftest import PHI

    load_image(phi_dicom)  # its patient's name and id are now known to the redaction
    shown = []
    monkeypatch.setattr(crash, "show_crash_dialog", lambda text, parent=None: shown.append(text))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    crash.install_excepthook()
    try:
        raise FileNotFoundError(f"cannot open {phi_dicom} for {PHI['PatientID']}")
    except FileNotFoundError:
        sys.excepthook(*sys.exc_info())
    assert "FileNotFoundError" in shown[0] and "[redacted]" in shown[0]
    for secret in ("Müller", "Jürgen", PHI["PatientID"]):
        assert secret not in shown[0], secret


def test_every_log_file_is_private_after_a_rollover(monkeypatch, tmp_path) -> None:
    """A rotated log file (radiai.log.1) and the new radiai.log started by the rollover are
    readable by the user only, also under a permissive umask."""
    import os
    import stat

    from app import crash

    old = os.umask(0o022)
    handler = crash.PrivateRotatingFileHandler(tmp_path / "radiai.log", maxBytes=200,
                                               backupCount=2, encoding="utf-8")
    try:
        logger = logging.getLogger("radiai-test-rotation")
        logger.propagate = False
        logger.addHandler(handler)
        for i in range(20):
            logger.warning("line %d of a log that rolls over quickly", i)
    finally:
        logger.removeHandler(handler)
        handler.close()
        os.umask(old)
    files = sorted(tmp_path.glob("radiai.log*"))
    assert [f.name for f in files] == ["radiai.log", "radiai.log.1", "radiai.log.2"]
    for f in files:
        assert stat.S_IMODE(f.stat().st_mode) == 0o600, f.name
