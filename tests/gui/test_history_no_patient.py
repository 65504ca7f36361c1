"""A file without patient data (a JPEG) is never shown as someone's: the History panel says
"No patient data in the file (…)" (in Korean too) instead of the key the history files it
under, which stays in the history for grouping, search and exports."""

from __future__ import annotations

import re
import shutil

from PyQt5.QtCore import QCoreApplication

from app import i18n
from radiai_core.results.history import History

from ..samples import KERMANY_NORMAL
from .conftest import FakeAnalyzer

KEY = re.compile(r"\[[0-9a-f]{12}\]")  # the history's own key for an image without an ID


def test_history_says_the_file_holds_no_patient_data(qtbot, make_window, settings,
                                                     tmp_path) -> None:
    film = tmp_path / "chest.jpeg"
    shutil.copy(KERMANY_NORMAL, film)
    with History() as h:
        h.record(FakeAnalyzer().analyze(film))
        (stored,) = h.patients()
    assert KEY.search(stored.patient_id)  # the internal key is kept where it is needed
    w = make_window()
    panel = w.history_panel
    qtbot.waitUntil(lambda: not panel.loading and len(panel.analysis_items()) == 1,
                    timeout=10000)
    assert panel.patient_titles() == ["No patient data in the file (chest.jpeg)"]
    patient = panel.tree.topLevelItem(0)
    assert patient.toolTip(0) == "No patient data in the file (chest.jpeg)\nPatient ID: —"
    panel.tree.setCurrentItem(panel.analysis_items()[0])
    detail = panel.detail.text()
    assert detail.startswith("<b>No patient data in the file (chest.jpeg)</b>")
    shown = " ".join([*panel.patient_titles(), patient.toolTip(0), detail])
    assert not KEY.search(shown) and "(no patient ID)" not in shown
    # The viewer's own patient line says the same.
    w.open_paths([str(film)])
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=20000)
    assert w.viewer.corner_lines()[0].startswith("No patient data in the file (chest.jpeg)")
    try:
        w.set_language("ko")
        panel = w.history_panel
        qtbot.waitUntil(lambda: not panel.loading and len(panel.analysis_items()) == 1,
                        timeout=10000)
        assert panel.patient_titles() == ["파일에 환자 정보 없음 (chest.jpeg)"]
        assert w.viewer.corner_lines()[0].startswith("파일에 환자 정보 없음 (chest.jpeg)")
    finally:
        settings.setValue("language", "en")
        i18n.install(QCoreApplication.instance(), settings)
