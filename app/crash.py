"""Logging to a rotating file in the user's log folder, and the crash hook with its dialog."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import traceback
from pathlib import Path

from platformdirs import user_log_dir

from radiai_core.reading.privacy import protect, redact

log = logging.getLogger(__name__)


def log_file() -> Path:
    """``$RADIAI_LOG_DIR/radiai.log``, else in the platform's user log folder (private)."""
    env = os.environ.get("RADIAI_LOG_DIR")
    folder = Path(env) if env else Path(user_log_dir("RadiAI", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "radiai.log"
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    return path


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose every file (the current one, a new one after a rollover and each
    rotated ``.1`` … ``.5``) is readable by the user only, whatever the umask."""

    def _open(self):  # noqa: ANN202 - the stream, as the base class returns it
        if not os.path.exists(self.baseFilename):
            os.close(os.open(self.baseFilename, os.O_CREAT | os.O_WRONLY, 0o600))
        stream = super()._open()
        os.chmod(self.baseFilename, 0o600)
        return stream

    def rotate(self, source: str, dest: str) -> None:
        """Move ``source`` to ``dest`` and keep it private."""
        super().rotate(source, dest)
        if os.path.exists(dest):
            os.chmod(dest, 0o600)


def configure_logging(level: int = logging.INFO) -> Path:
    """One rotating log file (1 MB × 5) for the whole app, every file of it private; returns
    its path."""
    path = log_file()
    handler = PrivateRotatingFileHandler(path, maxBytes=1_000_000, backupCount=5,
                                         encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    protect(handler)  # patient names and ids (often in file paths) never reach the file
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return path


def show_crash_dialog(text: str, parent=None) -> None:
    """The unexpected-error dialog: where the log is, the details, a Copy details button. The
    details are redacted as the log is (no patient name, id or birth date read so far)."""
    from PyQt5.QtWidgets import QApplication, QMessageBox

    text = redact(text)
    box = QMessageBox(QMessageBox.Critical, "RadiAI: unexpected error",
                      "Something went wrong inside RadiAI. Your files are untouched. The details "
                      f"are in the log ({log_file()}); please send them to your support team.",
                      parent=parent)
    box.setDetailedText(text)
    copy = box.addButton("Copy details", QMessageBox.ActionRole)
    box.addButton(QMessageBox.Close)
    copy.clicked.disconnect()
    copy.clicked.connect(lambda: QApplication.clipboard().setText(text))
    box.exec_()


def install_excepthook() -> None:
    """Unhandled exceptions are logged with their traceback and shown, not fatal."""

    def hook(exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        text = redact("".join(traceback.format_exception(exc_type, exc, tb)))
        log.error("unhandled exception:\n%s", text)
        try:
            show_crash_dialog(text)
        except Exception:  # noqa: BLE001 - never let the hook itself crash
            log.exception("could not show the crash dialog")

    sys.excepthook = hook
