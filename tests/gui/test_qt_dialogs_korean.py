"""Qt's own dialogs follow the reader's language: after Help → Language → 한국어 the Open and
Save dialogs (Qt's, not the desktop's, here) have Korean buttons and labels (PyQt5's
qtbase_ko.qm) and RadiAI's titles; back in English, English again."""

from __future__ import annotations

import shutil

from PyQt5.QtCore import QCoreApplication, QTimer
from PyQt5.QtWidgets import QApplication, QDialogButtonBox, QFileDialog, QLabel

from app import i18n

from ..samples import KERMANY_NORMAL


def answer_next_file_dialog(seen: list[dict], tries: int = 200) -> None:
    """When the next modal file dialog is up, note its title, buttons and labels, and close
    it (as Cancel does)."""
    dialog = QApplication.activeModalWidget()
    if not isinstance(dialog, QFileDialog):
        assert tries > 0, "no Qt file dialog came up"
        QTimer.singleShot(50, lambda: answer_next_file_dialog(seen, tries - 1))
        return
    seen.append({"title": dialog.windowTitle(),
                 "buttons": [b.text() for b in dialog.findChild(QDialogButtonBox).buttons()],
                 "labels": [w.text() for w in dialog.findChildren(QLabel) if w.text()]})
    dialog.reject()


def test_open_and_save_dialogs_follow_the_language(qtbot, make_window, settings,
                                                   tmp_path) -> None:
    assert (i18n.qt_translation_dirs()[0] / "qtbase_ko.qm").is_file()  # in PyQt5's wheel
    film = tmp_path / "child.jpeg"
    shutil.copy(KERMANY_NORMAL, film)
    w = make_window()
    w.open_paths([str(film)])
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=20000)
    seen: list[dict] = []
    try:
        w.set_language("ko")
        QTimer.singleShot(0, lambda: answer_next_file_dialog(seen))
        w.choose_files()
        QTimer.singleShot(0, lambda: answer_next_file_dialog(seen))
        w.exports.choose_pdf()
        opened, saved = seen
        assert opened["title"] == "방사선 사진 열기"
        assert sorted(b.replace("(&O)", "") for b in opened["buttons"]) == ["열기", "취소"]
        assert "파일 이름(&N):" in opened["labels"] and "파일 형식:" in opened["labels"]
        assert saved["title"] == "PDF 스냅샷 내보내기"
        assert sorted(b.replace("(&S)", "") for b in saved["buttons"]) == ["저장", "취소"]
        w.set_language("en")
        QTimer.singleShot(0, lambda: answer_next_file_dialog(seen))
        w.choose_files()
        assert seen[2]["title"] == "Open radiographs"
        assert sorted(b.replace("&", "") for b in seen[2]["buttons"]) == ["Cancel", "Open"]
        assert "File &name:" in seen[2]["labels"]
    finally:
        settings.setValue("language", "en")
        i18n.install(QCoreApplication.instance(), settings)
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"
