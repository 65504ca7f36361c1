"""The view's banner (patient, what the overlays show) and overlays as a reader sees them:
one banner after any pan, none left from a file that is gone, never cut at the view's edge,
not over the film's laterality marker; a heat map the model does not call says so; no lung
contour on an image that is not a frontal chest radiograph. Pixels are read back from the
screen (on a real X server the window's own pixels, which a pan scrolls by blitting)."""

from __future__ import annotations

import shutil
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image
from PyQt5.QtCore import QPoint, QRect, QRectF, Qt
from PyQt5.QtGui import QImage
from PyQt5.QtWidgets import QApplication, QGraphicsPathItem

from app.viewer import ImageViewer
from radiai_core.analysis.findings import Decision
from radiai_core.reading.display import LUNG_RGB
from radiai_core.reading.io import load_image
from radiai_core.results.snapshot import render

from ..samples import DICOM, KERMANY_BACTERIAL, KERMANY_NORMAL
from .conftest import FakeAnalyzer


def pixels(image: QImage) -> np.ndarray:
    """An RGB array of a QImage."""
    image = image.convertToFormat(QImage.Format_RGB888)
    w, h = image.width(), image.height()
    data = image.bits()
    data.setsize(image.byteCount())
    return np.frombuffer(data, np.uint8).reshape(h, image.bytesPerLine())[:, :3 * w] \
        .reshape(h, w, 3).copy()


def on_screen(widget) -> np.ndarray:
    """What the screen shows of ``widget`` (not a fresh repaint)."""
    screen = QApplication.primaryScreen()
    top_left = widget.mapTo(widget.window(), QPoint(0, 0))
    shot = screen.grabWindow(widget.window().winId(), top_left.x(), top_left.y(),
                             widget.width(), widget.height())
    return pixels(shot.toImage())


def repainted(widget) -> np.ndarray:
    """``widget`` painted afresh."""
    return pixels(widget.grab().toImage())


@pytest.fixture
def viewer(qtbot):
    v = ImageViewer()
    v.resize(600, 500)
    v.show()
    qtbot.addWidget(v)
    qtbot.waitExposed(v)
    return v


def drag(qtbot, widget, start: QPoint, steps: list[QPoint]) -> None:
    qtbot.mousePress(widget, Qt.LeftButton, pos=start)
    for p in steps:
        qtbot.mouseMove(widget, p)
        qtbot.wait(15)
    qtbot.mouseRelease(widget, Qt.LeftButton, pos=steps[-1])
    qtbot.wait(100)


def test_one_banner_after_panning(qtbot, viewer) -> None:
    viewer.set_image(load_image(DICOM["nih_cardiomegaly"]))
    viewer.zoom(2.0)
    qtbot.wait(100)
    vp = viewer.viewport()
    for _ in range(2):  # a second drag left fragments ("N", "H") before
        drag(qtbot, vp, QPoint(300, 250), [QPoint(300 + 8 * i, 250 + 6 * i) for i in range(1, 11)])
        shown, fresh = on_screen(vp), repainted(vp)
        differ = (np.abs(shown.astype(int) - fresh).max(axis=2) > 30).sum()
        assert differ == 0, f"{differ} pixels on screen are stale copies of the banner"
    # And the banner is there, once: a dark plate with light text in one corner.
    box = viewer.banner_rect()
    assert not box.isEmpty() and vp.rect().contains(box)


def test_a_file_gone_from_disk_leaves_no_banner_of_the_previous_one(qtbot, make_window,
                                                                      tmp_path) -> None:
    first = shutil.copy(DICOM["nih_cardiomegaly"], tmp_path / "first.dcm")
    second = shutil.copy(KERMANY_NORMAL, tmp_path / "second.jpeg")
    w = make_window()
    w.open_paths([first, second])
    qtbot.waitUntil(lambda: w.current_analysis is not None, timeout=10000)
    w.browser.select_path(str(first))
    qtbot.waitUntil(lambda: w.current_analysis is not None and w.current_path == str(first),
                    timeout=10000)
    assert "ID 1" in w.viewer.corner_lines()[0]
    (tmp_path / "second.jpeg").unlink()
    w.browser.select_path(str(second))
    qtbot.waitUntil(lambda: w.viewer.image is None and w.viewer.note, timeout=10000)
    qtbot.wait(100)
    lines = w.viewer.corner_lines()
    assert not any("ID 1" in line for line in lines)
    assert "second.jpeg" in lines[0] and "does not exist" in lines[0]
    vp = w.viewer.viewport()
    shown, fresh = on_screen(vp), repainted(vp)
    assert (np.abs(shown.astype(int) - fresh).max(axis=2) > 30).sum() == 0
    # The black view holds only the message's banner.
    box = w.viewer.banner_rect()
    outside = shown.copy()
    outside[box.top():box.bottom() + 1, box.left():box.right() + 1] = 0
    assert outside.max() < 40


def test_a_long_banner_is_wrapped_inside_the_view(qtbot, viewer, make_dicom,
                                                  real_chest_u8) -> None:
    path = make_dicom("long.dcm", real_chest_u8, PatientName="Schmidt-Weißenfels^Maximiliane"
                      "^Charlotte^Dr.", PatientID="ID-123456789-ABCDEFG", PatientAge="",
                      PatientBirthDate="", StudyDate="20240102")
    viewer.resize(320, 400)
    viewer.set_image(load_image(path))
    viewer.set_note("Stored analysis, reopened from the history")
    qtbot.wait(50)
    box = viewer.banner_rect()
    assert viewer.viewport().rect().contains(box), (box, viewer.viewport().rect())
    lines = viewer.banner_lines()
    assert len(lines) > len(viewer.corner_lines())  # wrapped, not cut
    assert " ".join(lines).split() == " ".join(viewer.corner_lines()).split()
    assert "age unknown" in " ".join(lines) or "years" in " ".join(lines)


def test_the_banner_keeps_off_the_laterality_marker(qtbot, viewer, tmp_path) -> None:
    """A film with its "R" in the top left corner: the banner takes an emptier corner."""
    film = np.asarray(Image.open(KERMANY_BACTERIAL).convert("L").resize((512, 512)))
    film = film.copy()
    film[:90, :150] = 8  # the dark corner a marker sits in
    cv2.putText(film, "R", (20, 78), cv2.FONT_HERSHEY_SIMPLEX, 2.6, 255, 7)
    marked = tmp_path / "marked.png"
    Image.fromarray(film).save(marked)
    viewer.resize(520, 520)
    viewer.set_image(load_image(marked))
    viewer.zoom(1.25)  # the film fills the view: no empty margin to put the banner in
    viewer.centerOn(256, 256)
    qtbot.wait(50)
    marker = viewer.mapFromScene(QRectF(15, 20, 75, 65)).boundingRect()
    assert viewer.viewport().rect().intersects(marker)  # the marker is on screen
    box = viewer.banner_rect()
    assert not box.intersects(marker), (box, marker)
    # On screen: the marker's white strokes are all there, unhidden.
    shown = on_screen(viewer.viewport())
    visible = marker.intersected(viewer.viewport().rect())
    patch = shown[visible.top():visible.bottom(), visible.left():visible.right()]
    assert (patch.min(axis=2) > 200).sum() > 150


def test_a_fitted_film_gets_its_banner_beside_it(qtbot, viewer) -> None:
    """With room beside the fitted image, the banner covers none of it."""
    viewer.resize(900, 400)
    viewer.set_image(load_image(KERMANY_NORMAL))
    qtbot.wait(50)
    image = viewer.mapFromScene(viewer.sceneRect()).boundingRect()
    assert not viewer.banner_rect().intersects(image.adjusted(1, 1, -1, -1))


def _negative(a):
    """The fake's analysis as a film the model calls negative, with the map of a finding
    the reader asked for (viral) shown."""
    f = replace(a.findings[0], call="no pneumonia", decision=Decision.NEGATIVE, positives=[],
                cam_label="viral", probabilities={"normal": 0.9, "bacterial": 0.036,
                                                  "viral": 0.064})
    return replace(a, findings=[f])


def test_a_map_of_a_finding_below_threshold_says_it_is_not_called(qtbot, viewer) -> None:
    a = _negative(FakeAnalyzer().analyze(KERMANY_NORMAL))
    viewer.set_image(a.image)
    viewer.set_analysis(a)
    assert not viewer._heat.pixmap().isNull()
    line = viewer.corner_lines()[1]
    assert line == ("Heat map: viral pneumonia 6.4% — below threshold, not called: map shown "
                    "on request")
    # A called finding's map needs no such words.
    called = replace(a, findings=[replace(a.findings[0], decision=Decision.POSITIVE,
                                          call="pneumonia", positives=["viral"])])
    viewer.set_analysis(replace(called, image=a.image))
    assert viewer.corner_lines()[1] == "Heat map: viral pneumonia"


def test_an_indeterminate_film_says_so_and_shows_no_map(qtbot, viewer) -> None:
    a = FakeAnalyzer().analyze(KERMANY_NORMAL)
    f = replace(a.findings[0], call="indeterminate", decision=Decision.INDETERMINATE,
                positives=[], cam_label=None, heatmap=None, boxes=[])
    a = replace(a, findings=[f])
    viewer.set_image(a.image)
    viewer.set_analysis(a)
    assert viewer._heat.pixmap().isNull()
    assert viewer.corner_lines()[1] == ("Indeterminate — read without the AI's call: no heat "
                                        "map")


def test_the_pdf_of_a_map_not_called_says_so(tmp_path) -> None:
    import pypdf

    from radiai_core.reading.anonymize import Pseudonymizer
    from radiai_core.results.report import write_pdf

    a = _negative(FakeAnalyzer().analyze(KERMANY_NORMAL))
    out = tmp_path / "page.pdf"
    write_pdf([a], str(out), Pseudonymizer(False), [None])
    text = " ".join(pypdf.PdfReader(out).pages[0].extract_text().split())
    assert "Heat map: viral pneumonia 6.4%, not called (shown on request); lungs" in text


def test_the_not_called_line_in_korean(qtbot, viewer) -> None:
    from PyQt5.QtCore import QCoreApplication, QTranslator

    from radiai_core.resources import project_root

    translator = QTranslator()
    assert translator.load(str(project_root() / "resources" / "i18n" / "radiai_ko.qm"))
    QCoreApplication.instance().installTranslator(translator)
    try:
        a = _negative(FakeAnalyzer().analyze(KERMANY_NORMAL))
        viewer.set_image(a.image)
        viewer.set_analysis(a)
        assert viewer.corner_lines()[1] == (
            "히트맵: 바이러스성 폐렴 6.4% — 임계값 미만, 판정하지 않음: 요청에 따라 표시")
    finally:
        QCoreApplication.instance().removeTranslator(translator)


GREEN = np.array([80, 220, 120])


def _contour_pixels(viewer) -> int:
    shot = repainted(viewer.viewport()).astype(int)
    return int((np.abs(shot - GREEN).max(axis=2) < 40).sum())


@pytest.mark.parametrize("refused_by, contour", [("chest", False), ("frontal", False),
                                                 ("child", True)])
def test_no_lung_contour_on_what_is_not_a_frontal_chest_film(qtbot, viewer, refused_by,
                                                               contour) -> None:
    a = FakeAnalyzer().analyze(KERMANY_NORMAL)
    refused = replace(a, status="rejected", findings=[], refused_by=refused_by,
                      message="looks like a CT slice, not a radiograph")
    viewer.set_image(refused.image)
    viewer.set_analysis(refused)
    qtbot.wait(50)
    paths = [i for i in viewer._overlay_items if isinstance(i, QGraphicsPathItem)]
    assert bool(paths) is contour
    assert (_contour_pixels(viewer) > 100) is contour
    said = viewer.corner_lines()[-1]
    assert said == ("Refused: no findings (lung contour only)" if contour else
                    "Refused: not a frontal chest radiograph (no findings, no lung contour)")
    assert viewer.view_state().mask is contour  # the PNG export draws what the view draws
    # The PDF's and PNG's renderer, asked for the contour, draws it only where the view does.
    _, over = render(refused, mask=True)
    lungs = (np.abs(over.astype(int) - np.array(LUNG_RGB)).max(axis=2) < 30).sum()
    assert bool(lungs > 50) is contour


def test_banner_rect_is_empty_without_anything_to_say(viewer) -> None:
    assert viewer.banner_rect() == QRect()
