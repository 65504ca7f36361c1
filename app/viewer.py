"""The radiograph view: zoom, pan, window/level, invert, overlays (heat map, lungs, boxes)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PyQt5.QtCore import QPointF, QRect, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QTransform,
)
from PyQt5.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

from radiai_core.analysis.findings import Decision, Findings
from radiai_core.analysis.pipeline import Analysis
from radiai_core.analysis.preprocess import to_uint8
from radiai_core.analysis.regions import mask_contours
from radiai_core.i18n import localized
from radiai_core.reading.anonymize import patient_line
from radiai_core.reading.display import (
    BOX_RGB,
    LUNG_RGB,
    Window,
    apply_window,
    default_window,
    display_values,
    heat_rgba,
    preset_window,
    value_text,
)
from radiai_core.reading.image import XrayImage
from radiai_core.results.snapshot import not_called, shows_lung_contour

from .i18n import t


def _qimage_grey(pixels: np.ndarray) -> QImage:
    data = np.ascontiguousarray(to_uint8(pixels))
    h, w = data.shape
    return QImage(data.data, w, h, w, QImage.Format_Grayscale8).copy()


def _qimage_rgba(rgba: np.ndarray) -> QImage:
    data = np.ascontiguousarray(rgba)
    h, w = data.shape[:2]
    return QImage(data.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()


@dataclass(frozen=True)
class ViewState:
    """How the view shows its image: the window, inversion and which overlays, at what
    opacity (what an export of "the view as shown" needs)."""

    window: Window | None
    inverted: bool
    heat: bool
    mask: bool
    boxes: bool
    opacity: float


def heat_map_line(f: Findings, label: str) -> str:
    """The view's line naming the finding whose heat map is shown; a finding the model does
    not call says so (the reader asked for its map; it is not evidence of a call)."""
    name = t(f.name(label))
    why = not_called(f, label)
    if why is None:
        return t("Heat map: {name}").format(name=name)
    p = f"{f.probabilities.get(label, 0.0):.1%}"
    text = {"below": "Heat map: {name} {p} — below threshold, not called: map shown on request",
            "indeterminate": "Heat map: {name} {p} — indeterminate, not called: map shown on "
                             "request",
            "other": "Heat map: {name} {p} — not called: map shown on request"}[why]
    return t(text).format(name=name, p=p)


def wrap_text(text: str, metrics: QFontMetrics, width: int) -> list[str]:
    """``text`` broken at spaces into lines at most ``width`` pixels wide (a word wider than
    that is cut in its middle with an ellipsis)."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if metrics.horizontalAdvance(word) > width:
            word = metrics.elidedText(word, Qt.ElideMiddle, width)
        candidate = f"{line} {word}" if line else word
        if line and metrics.horizontalAdvance(candidate) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    return lines


#: The core's overlay colours (the PDF and PNG draw with the same): boxes in cyan, which stay
#: visible over the yellow and red of the heat map; the lung contour in green.
BOX_COLOUR = QColor(*BOX_RGB)
LUNG_COLOUR = QColor(*LUNG_RGB)


def _screen_pen(colour: QColor, width: float) -> QPen:
    """A pen ``width`` screen pixels wide at any zoom (cosmetic), with round joins."""
    pen = QPen(colour, width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.RoundJoin)
    return pen


class ImageViewer(QGraphicsView):
    """Shows one XrayImage. Left-drag pans, the wheel zooms around the cursor, right-drag
    changes window (horizontal: width, vertical: level)."""

    cursor_info = pyqtSignal(str)
    window_changed = pyqtSignal(float, float)
    image_changed = pyqtSignal()
    #: The image or its analysis changed: what there is to overlay (``has_heat_map``,
    #: ``has_boxes``) may have too.
    overlays_changed = pyqtSignal()

    ZOOM_STEP = 1.25

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QBrush(QColor(20, 20, 20)))
        self.setTransformationAnchor(QGraphicsView.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.AnchorViewCenter)
        self.setDragMode(QGraphicsView.ScrollHandDrag)
        self.setRenderHint(QPainter.SmoothPixmapTransform)
        self.setMouseTracking(True)
        # The banner is drawn in the viewport's pixels over the scene: a pan must repaint the
        # whole viewport (a scroll by blitting copied the banner along: two copies, fragments).
        self.setViewportUpdateMode(QGraphicsView.FullViewportUpdate)
        self.image: XrayImage | None = None
        self.note: str | None = None
        self.analysis: Analysis | None = None
        self.window: Window | None = None
        self.inverted = False
        self.show_heat, self.show_mask, self.show_boxes = True, True, True
        self.heat_opacity = 0.45
        self._pix = QGraphicsPixmapItem()
        self._heat = QGraphicsPixmapItem()
        self._heat.setZValue(1)
        self.scene().addItem(self._pix)
        self.scene().addItem(self._heat)
        self._overlay_items: list = []
        self._wl_anchor: QPointF | None = None
        self._wl_start: Window | None = None
        # How much there is to see in each part of the shown image (edges: text markers, ribs,
        # lung detail), summed over a coarse grid: the banner goes where it hides least.
        self._detail: np.ndarray | None = None
        self._detail_step = 1
        self._banner_place: tuple[int, int] | None = None  # (corner, wrap width)
        self._span: tuple[XrayImage | None, float] = (None, 0.0)  # an image's value range

    # --- content ----------------------------------------------------------------------------
    def set_note(self, note: str | None) -> None:
        """A line for the banner until the image changes (e.g. "Stored analysis…"); with no
        image, the banner says only this (e.g. why the file could not be shown)."""
        self.note = note
        self.viewport().update()

    def set_image(self, image: XrayImage | None) -> None:
        """Show an image (its own window, fitted); drops the previous analysis and note."""
        self.image = image
        self.analysis = None
        self.note = None
        self.inverted = False
        self.window = default_window(image) if image is not None else None
        self._banner_place = None
        self._render()
        self._render_overlays()
        self.fit()
        self._image_changed()
        self.viewport().update()  # the banner: never the previous image's patient
        self.overlays_changed.emit()

    def _image_changed(self) -> None:
        """A new image: the readout of the old one is gone; its own window is in force."""
        self.cursor_info.emit("")
        self.image_changed.emit()
        if self.window is not None:
            self.window_changed.emit(self.window.center, self.window.width)

    def set_analysis(self, analysis: Analysis | None) -> None:
        """Show an analysis's overlays (over its image)."""
        if analysis is not None and (self.image is None or analysis.image is not self.image):
            self.image = analysis.image
            self.window = default_window(self.image)
            self._render()
            self.fit()
            self._image_changed()
        self.analysis = analysis
        self._render_overlays()
        self.viewport().update()  # the corner text
        self.overlays_changed.emit()

    def has_heat_map(self) -> bool:
        """Whether the analysis shown has a heat map to draw (a positive call's, or one the
        reader asked for); a negative, indeterminate or refused film has none."""
        a = self.analysis
        return a is not None and a.status == "ok" and a.heatmap is not None

    def has_boxes(self) -> bool:
        """Whether the analysis shown has boxes to draw."""
        a = self.analysis
        return a is not None and a.status == "ok" and bool(a.boxes)

    # --- display state ----------------------------------------------------------------------
    def min_window_width(self) -> float:
        """The narrowest window the view takes: 1/256 of the image's value range (one grey
        step of the screen); narrower, the image would be black and white, or all black."""
        if self.image is None:
            return 1e-6
        if self._span[0] is not self.image:
            self._span = (self.image, float(np.ptp(display_values(self.image))))
        return max(self._span[1] / 256.0, 1e-6)

    def set_window(self, window: Window) -> None:
        """Display with this window (width/level); its width is kept at or above
        ``min_window_width`` (a drag to the left stops there)."""
        floor = self.min_window_width()
        if window.width < floor:
            window = Window(window.center, floor)
        self.window = window
        self._render()
        self.window_changed.emit(window.center, window.width)

    def set_preset(self, name: str) -> None:
        """Display with a named window (from the file, lung, bone, soft tissue)."""
        if self.image is not None:
            self.set_window(preset_window(self.image, name))

    def set_inverted(self, inverted: bool) -> None:
        """Show the image inverted or not."""
        self.inverted = inverted
        self._render()

    def reset(self) -> None:
        """Back to the file's window, not inverted, fitted."""
        if self.image is not None:
            self.inverted = False
            self.set_window(default_window(self.image))
            self.fit()

    def set_overlay(self, heat: bool | None = None, mask: bool | None = None,
                    boxes: bool | None = None, opacity: float | None = None) -> None:
        """Show or hide the heat map, lung contour and boxes; set the heat map's opacity."""
        if heat is not None:
            self.show_heat = heat
        if mask is not None:
            self.show_mask = mask
        if boxes is not None:
            self.show_boxes = boxes
        if opacity is not None:
            self.heat_opacity = opacity
        self._render_overlays()

    def view_state(self) -> ViewState:
        """The window, inversion and overlays as shown now (no lung contour where the view
        draws none)."""
        a = self.analysis
        mask = self.show_mask and (a is None or shows_lung_contour(a))
        return ViewState(self.window, self.inverted, self.show_heat, mask, self.show_boxes,
                         self.heat_opacity)

    # --- zoom -------------------------------------------------------------------------------
    def fit(self) -> None:
        """Fit the image to the view; it is refitted when the view is resized until the
        reader zooms or pans."""
        self._auto_fit = True
        if not self._pix.pixmap().isNull():
            self.fitInView(self._pix, Qt.KeepAspectRatio)

    def one_to_one(self) -> None:
        """One image pixel per screen pixel."""
        self._auto_fit = False
        self.resetTransform()

    def zoom(self, factor: float) -> None:
        """Zoom by ``factor`` (the view stays where the reader put it)."""
        self._auto_fit = False
        self.scale(factor, factor)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        """Refit the image while the reader has not zoomed or panned."""
        super().resizeEvent(event)
        if getattr(self, "_auto_fit", True):
            self.fit()

    @property
    def zoom_level(self) -> float:
        """Screen pixels per image pixel."""
        return self.transform().m11()

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        """The wheel zooms around the cursor."""
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(self.ZOOM_STEP ** steps)
        event.accept()

    # --- window/level by right-drag, readout -------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        """Left-drag pans; right-drag starts window/level."""
        if event.button() == Qt.LeftButton:
            self._auto_fit = False  # the reader pans: keep the view where they put it
        if event.button() == Qt.RightButton and self.window is not None:
            self._wl_anchor, self._wl_start = QPointF(event.pos()), self.window
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        """Window/level while right-dragging; the value under the cursor otherwise."""
        if self._wl_anchor is not None and self._wl_start is not None:
            d = QPointF(event.pos()) - self._wl_anchor
            per_px = self._wl_start.width / 256.0
            self.set_window(self._wl_start.moved(-d.y() * per_px, d.x() * per_px))
            event.accept()
            return
        self._report_cursor(event.pos())
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        """End a window/level drag."""
        if event.button() == Qt.RightButton and self._wl_anchor is not None:
            self._wl_anchor = self._wl_start = None
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def pixel_info(self, x: int, y: int) -> str:
        """Text for the status bar: position, stored value and, with spacing, millimetres."""
        img = self.image
        if img is None or not (0 <= x < img.shape[1] and 0 <= y < img.shape[0]):
            return ""
        text = f"x {x}  y {y}  value {value_text(img, x, y)}"
        if img.meta.pixel_spacing:
            row_mm, col_mm = img.meta.pixel_spacing
            text += f"  ({x * col_mm:.1f} mm, {y * row_mm:.1f} mm)"
        return text

    def _report_cursor(self, pos) -> None:
        p = self.mapToScene(pos)
        self.cursor_info.emit(self.pixel_info(int(np.floor(p.x())), int(np.floor(p.y()))))

    # --- rendering --------------------------------------------------------------------------
    def _render(self) -> None:
        if self.image is None or self.window is None:
            self._pix.setPixmap(QPixmap())
            self._detail = None
            return
        shown = apply_window(self.image, self.window, self.inverted)
        self._pix.setPixmap(QPixmap.fromImage(_qimage_grey(shown)))
        self.setSceneRect(QRectF(0, 0, self.image.shape[1], self.image.shape[0]))
        self._measure_detail(to_uint8(shown))

    def _measure_detail(self, shown: np.ndarray) -> None:
        """The detail map of the shown image (edge strength on a grid of at most 256 cells a
        side) as a summed-area table, for ``_banner_cost``."""
        step = max(1, math.ceil(max(shown.shape) / 256))
        small = shown[::step, ::step].astype(np.float32)
        edges = np.zeros_like(small)
        edges[:, 1:] += np.abs(np.diff(small, axis=1))
        edges[1:, :] += np.abs(np.diff(small, axis=0))
        table = np.zeros((small.shape[0] + 1, small.shape[1] + 1), np.float64)
        table[1:, 1:] = edges.cumsum(0).cumsum(1)
        self._detail, self._detail_step = table, step

    def retranslate(self) -> None:
        """The view's own words (the boxes' labels) again in the language now installed: a
        live switch left "45% of map" on the film shown until the next one."""
        self._render_overlays()
        self.viewport().update()

    def _render_overlays(self) -> None:
        for item in self._overlay_items:
            self.scene().removeItem(item)
        self._overlay_items = []
        a = self.analysis
        if a is None:
            self._heat.setPixmap(QPixmap())
            return
        # A refused image keeps its lung contour (what the gate looked at), never a heat map
        # or a box.
        if self.show_heat and a.status == "ok" and a.heatmap is not None:
            self._heat.setPixmap(QPixmap.fromImage(_qimage_rgba(
                heat_rgba(a.heatmap, self.heat_opacity))))
        else:
            self._heat.setPixmap(QPixmap())
        if self.show_mask and shows_lung_contour(a):
            path = QPainterPath()
            for contour in mask_contours(a.mask, smooth=True):
                path.moveTo(*map(float, contour[0]))
                for x, y in contour[1:]:
                    path.lineTo(float(x), float(y))
                path.closeSubpath()
            item = QGraphicsPathItem(path)
            item.setPen(_screen_pen(LUNG_COLOUR, 2.0))
            item.setZValue(2)
            self.scene().addItem(item)
            self._overlay_items.append(item)
        if self.show_boxes and a.status == "ok":
            for b in a.boxes:
                rect = QGraphicsRectItem(b.x, b.y, b.w, b.h)
                rect.setPen(_screen_pen(BOX_COLOUR, 2.5))
                rect.setZValue(3)
                self.scene().addItem(rect)
                self._overlay_items.append(rect)
                # A share of the heat map's mass, not a probability: said so; a box whose
                # mass lies mostly outside the lung contour says that too.
                text = (t("{share} of map") if b.in_lungs
                        else t("{share} of map, mostly outside the lungs"))
                # A box in the right half carries its label from its right edge leftwards, so
                # the label stays over the image instead of running off its edge.
                right_half = self.image is not None and b.x + b.w / 2 > self.image.shape[1] / 2
                self._add_label(text.format(share=f"{b.score:.0%}"), float(b.x), float(b.y),
                                right=float(b.x + b.w) if right_half else None)

    def corner_lines(self) -> list[str]:
        """What the view's top-left corner says: the patient, and which finding the heat map
        and boxes show (or that there are none), whatever the zoom or pan."""
        if self.image is None:
            return [self.note] if self.note else []
        lines = [localized(patient_line(self.image.meta))]
        if self.note:
            lines.append(self.note)
        a = self.analysis
        if a is not None and a.image is self.image:
            if a.status != "ok":
                lines.append(t("Refused: no findings (lung contour only)")
                             if shows_lung_contour(a) else
                             t("Refused: not a frontal chest radiograph (no findings, no lung "
                               "contour)"))
            elif a.cam_label and (self.show_heat or self.show_boxes):
                line = heat_map_line(a.explained, a.cam_label)
                # the boxes alone on screen: the line names their finding, not a map drawn
                lines.append(line if self.show_heat else line + t(" (heat map hidden)"))
            elif not a.cam_label and a.decision is Decision.INDETERMINATE:
                lines.append(t("Indeterminate — read without the AI's call: no heat map"))
            elif not a.cam_label:
                lines.append(t("No positive finding: no heat map"))
        return lines

    # --- the banner -------------------------------------------------------------------------
    BANNER_MARGIN = 4
    BANNER_PAD = 6

    @staticmethod
    def banner_font() -> QFont:
        """The banner's font (one pixel size at any zoom)."""
        font = QFont()
        font.setPixelSize(13)
        return font

    def banner_lines(self) -> list[str]:
        """The banner's lines as drawn: ``corner_lines`` wrapped to the room it is given (a
        long line is broken, never cut at the view's edge)."""
        return self.banner_layout()[1]

    def banner_rect(self) -> QRect:
        """Where the banner is drawn, in viewport pixels (empty when there is none)."""
        return self.banner_layout()[0]

    def _wrapped(self, width: int) -> tuple[int, int, list[str]]:
        """(width, height, lines) of the banner wrapped to ``width`` pixels of text."""
        metrics = QFontMetrics(self.banner_font())
        lines = [part for line in self.corner_lines()
                 for part in wrap_text(line, metrics, width)]
        w = max(metrics.horizontalAdvance(line) for line in lines) + 2 * self.BANNER_PAD
        return w, metrics.height() * len(lines) + self.BANNER_PAD, lines

    def banner_layout(self) -> tuple[QRect, list[str]]:
        """The banner's rectangle (viewport pixels) and lines. Of the view's four corners, the
        banner takes the one where it hides the least of the image: beside the image when
        there is room (wrapped to the margin's width), never over a text marker such as the
        laterality "R" when another corner is emptier, not over a suspected region; the top
        left when all are alike. It stays where it is while the reader pans unless another
        place hides clearly less."""
        if not self.corner_lines():
            return QRect(), []
        vw, vh, m = self.viewport().width(), self.viewport().height(), self.BANNER_MARGIN
        room = 2 * (m + self.BANNER_PAD)
        widths = [max(40, vw - room)]
        if self.image is not None and not self._pix.pixmap().isNull():
            shown = self.mapFromScene(self.sceneRect()).boundingRect()
            for margin in (shown.left(), vw - shown.right() - 1):  # room beside the image
                if 120 + room <= margin < vw:
                    widths.append(margin - room)
        candidates = []
        for width in widths:
            w, h, lines = self._wrapped(width)
            for corner, (x, y) in enumerate(((m, m), (vw - m - w, m), (m, vh - m - h),
                                             (vw - m - w, vh - m - h))):
                rect = QRect(x, y, w, h)
                candidates.append(((corner, width), rect, lines, self._banner_cost(rect)))
        best = min(c[3] for c in candidates)
        kept = next((c for c in candidates if c[0] == self._banner_place), None)
        if kept is None or kept[3] > best * 1.5 + 1e-9:
            # Alike places (within 5 % of the emptiest): the first, top left and widest first.
            kept = next(c for c in candidates if c[3] <= best * 1.05 + 1e-9)
            self._banner_place = kept[0]
        return kept[1], kept[2]

    def _banner_cost(self, rect: QRect) -> float:
        """How much of the image a banner at ``rect`` (viewport pixels) would hide: the edge
        strength under it, the image area it covers, and the suspected regions it covers."""
        if self._detail is None or self.image is None:
            return 0.0
        area = self.mapToScene(rect).boundingRect().intersected(self.sceneRect())
        if area.isEmpty():
            return 0.0
        s = self._detail_step
        rows, cols = self._detail.shape[0] - 1, self._detail.shape[1] - 1
        x0, x1 = int(area.left() // s), min(cols, math.ceil(area.right() / s))
        y0, y1 = int(area.top() // s), min(rows, math.ceil(area.bottom() / s))
        table = self._detail
        edges = table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]
        cells = max(0, x1 - x0) * max(0, y1 - y0)
        mean = table[-1, -1] / max(1, rows * cols)
        cost = float(edges) + 0.1 * mean * cells  # a little for any image covered at all
        a = self.analysis
        if a is not None and a.status == "ok" and self.show_boxes:
            for b in a.boxes:
                hidden = area.intersected(QRectF(b.x, b.y, b.w, b.h))
                if not hidden.isEmpty():
                    cost += 10 * mean * hidden.width() * hidden.height() / (s * s)
        return cost

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt
        """The banner (patient, what the overlays show), fixed in the view at one size, in the
        corner where it hides the least."""
        box, lines = self.banner_layout()
        if not lines:
            return
        painter.save()
        painter.resetTransform()  # viewport pixels: fixed in its corner, one size at any zoom
        painter.setFont(self.banner_font())
        metrics = painter.fontMetrics()
        painter.fillRect(box, QColor(0, 0, 0, 170))
        painter.setPen(QColor(255, 255, 255))
        for i, text in enumerate(lines):
            painter.drawText(box.left() + self.BANNER_PAD,
                             box.top() + self.BANNER_PAD // 2 + metrics.ascent()
                             + i * metrics.height(), text)
        painter.restore()

    def _add_label(self, text: str, x: float, y: float, right: float | None = None) -> None:
        """White text on a dark plate that keeps its size on screen whatever the zoom: from
        (``x``, ``y``) rightwards, or, given ``right``, ending at (``right``, ``y``)."""
        label = QGraphicsSimpleTextItem(text)
        font = QFont()
        font.setPixelSize(13)
        label.setFont(font)
        label.setBrush(QBrush(QColor(255, 255, 255)))
        label.setFlag(QGraphicsItem.ItemIgnoresTransformations)
        plate = QGraphicsRectItem(label.boundingRect().adjusted(-3, -1, 3, 1), label)
        plate.setBrush(QBrush(QColor(0, 0, 0, 170)))
        plate.setPen(QPen(Qt.NoPen))
        plate.setFlag(QGraphicsItem.ItemStacksBehindParent)
        if right is None:
            label.setPos(x, y)
        else:  # shifted left by its own width on screen (it ignores the view's zoom)
            label.setPos(right, y)
            label.setTransform(QTransform.fromTranslate(-label.boundingRect().width() - 3, 0))
        label.setZValue(4)
        self.scene().addItem(label)
        self._overlay_items.append(label)
