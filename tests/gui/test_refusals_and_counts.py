"""The viewer says what a refused image is (study tree, status line, History) and counts
analysed, refused and unreadable images apart, as the command line does."""

from __future__ import annotations

import shutil

from PyQt5.QtCore import QCoreApplication, QSettings

from app import i18n
from app.main_window import result_text
from radiai_core import i18n as core_i18n
from radiai_core.analysis.pipeline import default_analyzer

from ..samples import DATA, DICOM, KERMANY_NORMAL

CT = DATA / "scope" / "ct_head" / "headct_000.jpg"
LATERAL = DATA / "scope" / "lateral_cxr" / "patient64542_study1_view2_lateral.jpg"


def _folder(tmp_path):
    """A child's film, an adult's DICOM, a CT slice, a lateral view, a damaged PNG and a note."""
    shutil.copy(KERMANY_NORMAL, tmp_path / "child.jpeg")
    shutil.copy(DICOM["jpeg_baseline"], tmp_path / "adult.dcm")
    shutil.copy(CT, tmp_path / "ct.jpg")
    shutil.copy(LATERAL, tmp_path / "lateral.jpg")
    (tmp_path / "damaged.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 50)
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def test_analyse_all_counts_analysed_refused_and_unreadable_apart(qtbot, make_window,
                                                                  tmp_path) -> None:
    """Not "Analysed 4 image(s)" when three of them were refused."""
    folder = _folder(tmp_path)
    w = make_window(make_analyzer=default_analyzer)
    w.open_paths([folder])
    qtbot.waitUntil(lambda: len(w.browser.image_paths()) == 4, timeout=20000)
    w.analyse_all()
    qtbot.waitUntil(lambda: w.batch_worker is None and len(w.summaries) == 4, timeout=180000)
    assert w.status_text.text() == ("Done: 1 analysed, 3 refused, 1 could not be read, "
                                    "1 ignored (not images). See Skipped files.")
    rows = {p.rsplit("/", 1)[-1]: w.browser._items[p].text(2) for p in w.browser.image_paths()}
    assert rows["adult.dcm"] == "refused: adult"
    assert rows["ct.jpg"] == "refused: CT slice"
    assert rows["lateral.jpg"] == "refused: lateral view"
    assert rows["child.jpeg"].startswith("no pneumonia")
    # History lists the same words, never the stored status "rejected".
    w.show_history()
    qtbot.waitUntil(lambda: len(w.history_panel.analysis_items()) == 4, timeout=20000)
    calls = sorted(item.text(2) for item in w.history_panel.analysis_items())
    assert calls == ["no pneumonia", "refused: CT slice", "refused: adult",
                     "refused: lateral view"]


def test_one_refused_image_on_screen_says_what_it_is(qtbot, make_window) -> None:
    w = make_window(make_analyzer=default_analyzer)
    w.open_paths([CT])
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=120000)
    assert w.status_text.text() == "headct_000.jpg: refused: CT slice."


def test_the_refusal_reads_in_korean(tmp_path) -> None:
    """The tree's short text and its tooltip in the reader's language."""
    a = default_analyzer().analyze(LATERAL)
    assert result_text(a)[0] == "refused: lateral view"
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat)
    settings.setValue("language", "ko")
    app = QCoreApplication.instance()
    try:
        assert i18n.install(app, settings) == "ko"
        short, tip = result_text(a)
        assert short == "분석 대상 아님: 측면 영상"
        assert tip.startswith("분석 대상 아님: 이 영상은 측면 영상입니다")
    finally:
        settings.setValue("language", "en")
        i18n.install(app, settings)
    assert core_i18n.language() == "en"
