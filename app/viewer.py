"""The radiograph view: zoom, pan, window/level, invert, overlays (heat map, lungs, boxes)."""

from __future__ import annotations

import numpy as np
from PyQt5.QtCore import QPointF, QRectF, Qt, pyqtSignal
from PyQt5.QtGui import QBrush, QColor, QFont, QImage, QPainter, QPainterPath, QPen, QPixmap
from PyQt5.QtWidgets import (
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
)

from radiai_core.display import Window, apply_window, default_window, heat_rgba, preset_window
from radiai_core.image import XrayImage
from radiai_core.pipeline import Analysis
from radiai_core.preprocess import to_uint8
from radiai_core.regions import mask_contours


def _qimage_grey(pixels: np.ndarray) -> QImage:
    data = np.ascontiguousarray(to_uint8(pixels))
    h, w = data.shape
    return QImage(data.data, w, h, w, QImage.Format_Grayscale8).copy()


def _qimage_rgba(rgba: np.ndarray) -> QImage:
    data = np.ascontiguousarray(rgba)
    h, w = data.shape[:2]
    return QImage(data.data, w, h, 4 * w, QImage.Format_RGBA8888).copy()


class ImageViewer(QGraphicsView):
    """Shows one XrayImage. Left-drag pans, the wheel zooms around the cursor, right-drag
    changes window (horizontal: width, vertical: level)."""

    cursor_info = pyqtSignal(str)
    window_changed = pyqtSignal(float, float)

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
        self.image: XrayImage | None = None
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

    # --- content ----------------------------------------------------------------------------
    def set_image(self, image: XrayImage | None) -> None:
        self.image = image
        self.analysis = None
        self.inverted = False
        self.window = default_window(image) if image is not None else None
        self._render()
        self._render_overlays()
        self.fit()

    def set_analysis(self, analysis: Analysis | None) -> None:
        if analysis is not None and (self.image is None or analysis.image is not self.image):
            self.image = analysis.image
            self.window = default_window(self.image)
            self._render()
            self.fit()
        self.analysis = analysis
        self._render_overlays()

    # --- display state ----------------------------------------------------------------------
    def set_window(self, window: Window) -> None:
        self.window = window
        self._render()
        self.window_changed.emit(window.center, window.width)

    def set_preset(self, name: str) -> None:
        if self.image is not None:
            self.set_window(preset_window(self.image, name))

    def set_inverted(self, inverted: bool) -> None:
        self.inverted = inverted
        self._render()

    def reset(self) -> None:
        if self.image is not None:
            self.inverted = False
            self.set_window(default_window(self.image))
            self.fit()

    def set_overlay(self, heat: bool | None = None, mask: bool | None = None,
                    boxes: bool | None = None, opacity: float | None = None) -> None:
        if heat is not None:
            self.show_heat = heat
        if mask is not None:
            self.show_mask = mask
        if boxes is not None:
            self.show_boxes = boxes
        if opacity is not None:
            self.heat_opacity = opacity
        self._render_overlays()

    # --- zoom -------------------------------------------------------------------------------
    def fit(self) -> None:
        if not self._pix.pixmap().isNull():
            self.fitInView(self._pix, Qt.KeepAspectRatio)

    def one_to_one(self) -> None:
        self.resetTransform()

    def zoom(self, factor: float) -> None:
        self.scale(factor, factor)

    @property
    def zoom_level(self) -> float:
        return self.transform().m11()

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(self.ZOOM_STEP ** steps)
        event.accept()

    # --- window/level by right-drag, readout -------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.RightButton and self.window is not None:
            self._wl_anchor, self._wl_start = QPointF(event.pos()), self.window
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._wl_anchor is not None and self._wl_start is not None:
            d = QPointF(event.pos()) - self._wl_anchor
            per_px = self._wl_start.width / 256.0
            self.set_window(self._wl_start.moved(-d.y() * per_px, d.x() * per_px))
            event.accept()
            return
        self._report_cursor(event.pos())
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
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
        values = img.values if img.values is not None else img.pixels
        text = f"x {x}  y {y}  value {float(values[y, x]):.4g}"
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
            return
        shown = apply_window(self.image, self.window, self.inverted)
        self._pix.setPixmap(QPixmap.fromImage(_qimage_grey(shown)))
        self.setSceneRect(QRectF(0, 0, self.image.shape[1], self.image.shape[0]))

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
        width = max(1.0, a.image.shape[1] / 300)
        if self.show_mask and a.mask is not None:
            path = QPainterPath()
            for contour in mask_contours(a.mask):
                path.moveTo(*map(float, contour[0]))
                for x, y in contour[1:]:
                    path.lineTo(float(x), float(y))
                path.closeSubpath()
            item = QGraphicsPathItem(path)
            item.setPen(QPen(QColor(80, 220, 120), width))
            item.setZValue(2)
            self.scene().addItem(item)
            self._overlay_items.append(item)
        if self.show_boxes and a.status == "ok":
            font = QFont()
            font.setPixelSize(int(max(12, a.image.shape[0] / 40)))
            for b in a.boxes:
                rect = QGraphicsRectItem(b.x, b.y, b.w, b.h)
                rect.setPen(QPen(QColor(255, 210, 0), width * 1.5))
                rect.setZValue(3)
                label = QGraphicsSimpleTextItem(f"{b.score:.2f}")
                label.setFont(font)
                label.setBrush(QBrush(QColor(255, 210, 0)))
                label.setPos(b.x, max(0, b.y - font.pixelSize() * 1.3))
                label.setZValue(3)
                for item in (rect, label):
                    self.scene().addItem(item)
                    self._overlay_items.append(item)
