"""Study browser (patients → studies → series → images) and the skipped-files list."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence

from PyQt5.QtCore import QModelIndex, QSize, Qt, pyqtSignal
from PyQt5.QtGui import QFontMetrics
from PyQt5.QtWidgets import (
    QApplication,
    QListWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
)

from radiai_core.reading.studies import NO_PATIENT, NO_PATIENT_ID, ScanResult, Series

from .i18n import t

PATH_ROLE = Qt.UserRole
#: Where a file name starts to differ from its siblings' (``distinguishing_starts``).
DIFF_ROLE = Qt.UserRole + 7


def scanned_patient_row(name: str | None, pid: str) -> str:
    """The text of a scanned patient's row in the study list: the name, else the ID; the
    scan's placeholders (``NO_PATIENT``, ``NO_PATIENT_ID``) in the reader's language."""
    if name:
        return name
    if pid == NO_PATIENT:
        return t("(no patient data)")
    if pid.startswith(NO_PATIENT_ID):
        return t("(no patient ID)") + pid[len(NO_PATIENT_ID):]
    return pid


def is_dicom_series(series: Series) -> bool:
    """Whether ``series`` is a DICOM series; the scan groups plain images (PNG, JPEG, TIFF,
    BMP) by folder in a series of their own, which no file declares."""
    return any(im.format == "DICOM" for im in series.images)


def series_title(series: Series) -> str:
    """A DICOM series' row: its description, else its modality ("Series (DX)"), else plainly
    "Series" (never a question mark)."""
    if series.description:
        return series.description
    if series.modality:
        return t("Series ({modality})").format(modality=series.modality)
    return t("Series")


def elide_keeping_end(text: str, metrics: QFontMetrics, width: int) -> str:
    """``text`` cut in the middle to ``width`` pixels, most of the room kept for its end (the
    start gets a quarter, at most six characters): "1.2.8…frontal_0002.jpeg". Two films of
    one study differ at the end of their names (an instance number, a view), which an even
    cut (Qt.ElideMiddle: "1.2.…jpeg") hides in a narrow column. A text that fits is
    returned as it is."""
    if metrics.horizontalAdvance(text) <= width:
        return text
    dots = metrics.horizontalAdvance("…")
    room = width - dots
    if room < 4 * metrics.averageCharWidth():  # no room for two parts: Qt's own cut
        return metrics.elidedText(text, Qt.ElideMiddle, width)
    start = min(room // 4, 6 * metrics.averageCharWidth())
    tail = metrics.elidedText(text, Qt.ElideLeft, room - start + dots).lstrip("…")
    # the start never takes more than its share, whatever the end's cut left over
    head_room = min(start, room - metrics.horizontalAdvance(tail))
    head = metrics.elidedText(text[: len(text) - len(tail)], Qt.ElideRight,
                              head_room + dots).rstrip("…")
    return f"{head}…{tail}"


def distinguishing_starts(names: Sequence[str]) -> dict[str, int]:
    """Where each name starts to differ from the most alike of the others: the start of the
    run of digits (or letters) in which it first differs, at most six characters back.
    "NORMAL2-IM-1437-0001.jpeg" beside "NORMAL2-IM-1442-0001.jpeg" → 11 (the "1437"); a
    name alone, or one that differs from its first character, → 0.

    Parameters
    ----------
    names
        The names shown side by side (the files of one folder or series).

    Returns
    -------
    dict[str, int]
        Each name's index of its first distinguishing character.
    """
    ordered = sorted(set(names))
    out: dict[str, int] = {}
    for i, name in enumerate(ordered):
        # the most alike name is a neighbour in sorted order
        near = [ordered[j] for j in (i - 1, i + 1) if 0 <= j < len(ordered)]
        d = min(max((len(os.path.commonprefix((name, o))) for o in near), default=0), len(name))
        if 0 < d < len(name) and (name[d].isdigit() or name[d].isalpha()):
            same = str.isdigit if name[d].isdigit() else str.isalpha
            back = d
            while back > 0 and d - back < 6 and same(name[back - 1]):
                back -= 1
            d = back
        out[name] = d if d < len(name) else 0
    return out


def elide_keeping_difference(text: str, metrics: QFontMetrics, width: int, start: int) -> str:
    """``text`` cut to ``width`` pixels keeping in view the part from ``start`` on, where it
    differs from its siblings' names ("N…1437-0001.jpeg", "…1437-0001.j…"): Kermany's
    "NORMAL2-IM-1437-0001.jpeg" and "NORMAL2-IM-1442-0001.jpeg" both showed as
    "NO…-0001.jpeg". Where the end tells them apart (``start`` within the end
    ``elide_keeping_end`` keeps, or 0), that cut.

    Parameters
    ----------
    text
        The name.
    metrics
        The font's metrics.
    width
        The room, in pixels.
    start
        The index of the name's first distinguishing character (``distinguishing_starts``).

    Returns
    -------
    str
        The name as shown, no wider than ``width`` where it can be.
    """
    plain = elide_keeping_end(text, metrics, width)
    if plain == text or start <= 0 or "…" not in plain:
        return plain
    tail = plain.rsplit("…", 1)[1]
    if len(text) - len(tail) <= start:  # the end it keeps holds the difference
        return plain
    dots = metrics.horizontalAdvance("…")
    rest = text[start:]
    if metrics.horizontalAdvance(rest) + dots <= width:
        head = metrics.elidedText(text[:start], Qt.ElideRight,
                                  width - metrics.horizontalAdvance(rest)).rstrip("…")
        return f"{head}…{rest}"
    return "…" + metrics.elidedText(rest, Qt.ElideRight, width - dots)


class EndKeepingDelegate(QStyledItemDelegate):
    """Draws column 0 of the rows ``wanted(index)`` names (file names) with
    ``elide_keeping_difference`` (the part from the row's ``DIFF_ROLE`` kept in view) instead
    of the view's even cut; the rest as usual."""

    def __init__(self, wanted: Callable[[QModelIndex], bool], parent=None) -> None:
        super().__init__(parent)
        self.wanted = wanted

    def paint(self, painter, option, index) -> None:
        """Draw one cell (Qt calls it)."""
        if index.column() != 0 or not self.wanted(index):
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        rect = style.subElementRect(QStyle.SE_ItemViewItemText, opt, widget)
        margin = style.pixelMetric(QStyle.PM_FocusFrameHMargin, None, widget) + 1
        opt.text = elide_keeping_difference(opt.text, opt.fontMetrics,
                                            rect.width() - 2 * margin - 1,
                                            int(index.data(DIFF_ROLE) or 0))
        style.drawControl(QStyle.CE_ItemViewItem, opt, painter, widget)


def file_name(path: str) -> str:
    """The last part of a stored path, whichever separator it was written with."""
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def _date(d: str | None) -> str:
    return f"{d[:4]}-{d[4:6]}-{d[6:8]}" if d and len(d) == 8 and d.isdigit() else (d or "")


class StudyBrowser(QTreeWidget):
    """The study tree (patient → study → series → image) with thumbnails and each image's result."""
    image_selected = pyqtSignal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.retranslate()
        self.setIndentation(12)  # room for the names beside the thumbnails
        self.setTextElideMode(Qt.ElideMiddle)  # "NORMAL2-I…0001.jpeg": the ends tell files apart
        # A file name keeps most of its end ("1.2.8…frontal_0002.jpeg"): in a narrow column an
        # even cut left "1.2.…jpeg" for every film of a study. The full path is its tooltip.
        self.setItemDelegateForColumn(0, EndKeepingDelegate(
            lambda index: bool(index.data(PATH_ROLE)), self))
        self.setColumnWidth(0, self.NAME_WIDTH)
        self.setColumnWidth(2, 135)
        # Shown as name | result | details: an image's answer stays in view in a narrow dock
        # (the columns keep their numbers: 2 is the result).
        self.header().moveSection(2, 1)
        self.setIconSize(QSize(40, 40))
        self.currentItemChanged.connect(self._on_current)
        self._items: dict[str, QTreeWidgetItem] = {}
        self._scan: ScanResult | None = None
        self._thumbnails: dict[str, object] = {}  # path → QIcon, kept when the tree is rebuilt
        self._details_width = self.header().sectionSizeHint(1)  # what the details need

    #: The name column's least width (pixels); a wider dock gives it more (``_fit_names``).
    NAME_WIDTH = 190

    def moveCursor(self, action, modifiers) -> QModelIndex:  # noqa: N802 - Qt's name
        """Up and Down go from film to film, over the patient, study and series rows between
        them (a group row opens no film); with no film that way the cursor stays. Other keys
        move as Qt moves them."""
        if action not in (self.MoveUp, self.MoveDown):
            return super().moveCursor(action, modifiers)
        step = self.indexAbove if action == self.MoveUp else self.indexBelow
        current = self.currentIndex()
        index = step(current) if current.isValid() else self.model().index(0, 0)
        while index.isValid() and not index.siblingAtColumn(0).data(PATH_ROLE):
            index = step(index)
        return index if index.isValid() else current

    def _fit_names(self) -> None:
        """The name column takes the room the result and the details leave, never less than
        ``NAME_WIDTH``: in a wide dock a long file name shows whole or nearly (the spare
        room went to the details, which do not need it)."""
        spare = self.viewport().width() - self.columnWidth(2) - self._details_width
        self.setColumnWidth(0, max(self.NAME_WIDTH, spare))

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt's name
        """The view (or its viewport) changed size: the name column takes the spare room."""
        super().resizeEvent(event)
        self._fit_names()

    def retranslate(self) -> None:
        """The headers in the language in force (the rows: ``populate`` again)."""
        self.setHeaderLabels([t("Patient / study / series / image"), t("Details"), t("Result")])

    def populate(self, result: ScanResult) -> None:
        """Show a scan's tree (replacing what was shown)."""
        from PyQt5.QtGui import QColor, QIcon, QPixmap

        self.clear()
        self._items = {}
        if result is not self._scan:
            self._thumbnails = {}
        self._scan = result
        # Each image row has its thumbnail's height from the start (a dark square until the
        # thumbnail comes): rows do not grow later and push the selected one out of view.
        blank = QPixmap(self.iconSize())
        blank.fill(QColor(40, 40, 40))
        placeholder = QIcon(blank)
        for p in result.patients:
            shown_id = "" if not p.name else (
                t("(no patient ID)") if p.id.startswith(NO_PATIENT_ID) else p.id)
            pitem = QTreeWidgetItem([scanned_patient_row(p.name, p.id),
                                     " ".join(x for x in (shown_id, p.sex or "") if x)])
            pitem.setToolTip(1, pitem.text(1))  # the whole ID where the column cuts it
            self.addTopLevelItem(pitem)
            for st in p.studies:
                n_images = sum(len(se.images) for se in st.series)
                # a study without a date (a folder of plain images) says how many it holds
                sitem = QTreeWidgetItem([st.description or t("Study"), _date(st.date) or
                                         t("{n} image(s)").format(n=n_images)])
                pitem.addChild(sitem)
                for se in st.series:
                    if not is_dicom_series(se):
                        # Plain images (PNG, JPEG…) have no series: they sit under their
                        # study (their folder), never under a "Series (?)" made up for them.
                        seitem = sitem
                    else:
                        seitem = QTreeWidgetItem([series_title(se),
                                                  t("{n} image(s)").format(n=len(se.images))])
                        sitem.addChild(seitem)
                    starts = distinguishing_starts([file_name(im.path) for im in se.images])
                    for im in se.images:
                        name = file_name(im.path)
                        iitem = QTreeWidgetItem([name, f"{im.columns}×{im.rows} "
                                                       f"{im.view_position or im.format}"])
                        iitem.setIcon(0, self._thumbnails.get(im.path, placeholder))
                        iitem.setData(0, PATH_ROLE, im.path)
                        iitem.setData(0, DIFF_ROLE, starts[name])
                        iitem.setToolTip(0, im.path)
                        self._items[im.path] = iitem
                        seitem.addChild(iitem)
            pitem.setExpanded(True)
        self.expandAll()
        self.resizeColumnToContents(1)  # the details whole, not cut to a few letters
        # ... the films' details ("1024×1024 DICOM"): a patient's long ID ("16d7f894-55d7-…")
        # is cut in the middle (its tooltip has it) rather than take the names' room.
        films = [self.fontMetrics().horizontalAdvance(it.text(1)) for it in self._items.values()]
        if films:
            self.setColumnWidth(1, min(self.columnWidth(1), max(films) + 16))
        self._details_width = self.columnWidth(1)
        self._fit_names()

    def set_thumbnail(self, path: str, pixels) -> None:
        """Give an image's row its preview."""
        from PyQt5.QtGui import QIcon, QImage, QPixmap

        item = self._items.get(path)
        if item is None:  # from an older scan
            return
        h, w = pixels.shape
        img = QImage(pixels.tobytes(), w, h, w, QImage.Format_Grayscale8).copy()
        self._thumbnails[path] = QIcon(QPixmap.fromImage(img))
        item.setIcon(0, self._thumbnails[path])

    def image_paths(self) -> list[str]:
        """Image paths in tree order."""
        return list(self._items)

    def selected_study_paths(self) -> list[str]:
        """Image paths under the current item when it is a patient, study or series row
        (not an image row); else an empty list."""
        item = self.currentItem()
        if item is None or item.data(0, PATH_ROLE):
            return []
        out, stack = [], [item]
        while stack:
            it = stack.pop(0)
            path = it.data(0, PATH_ROLE)
            if path:
                out.append(path)
            stack = [it.child(i) for i in range(it.childCount())] + stack
        return out

    def select_path(self, path: str) -> None:
        """Select ``path``'s row (which starts its analysis)."""
        item = self._items.get(path)
        if item is not None:
            self.setCurrentItem(item)

    def show_path(self, path: str) -> bool:
        """Select the row of ``path`` without starting a new analysis (the view shows a stored
        one); with no such row, select nothing. True when the row was found."""
        from pathlib import Path

        wanted = Path(path).resolve()
        item = next((it for p, it in self._items.items() if Path(p).resolve() == wanted), None)
        self.blockSignals(True)
        try:
            self.setCurrentItem(item)
            if item is None:
                self.clearSelection()
        finally:
            self.blockSignals(False)
        return item is not None

    def set_result(self, path: str, text: str, tooltip: str = "") -> None:
        """Show an image's answer (the call, or why it has none) in its row."""
        item = self._items.get(path)
        if item is not None:
            item.setText(2, text)
            item.setToolTip(2, tooltip or text)
            # The column widens to a longer answer ("refused: CT slice" in Korean), up to a
            # limit: measured for this text only, so a batch of thousands stays fast.
            wanted = min(280, self.fontMetrics().horizontalAdvance(text) + 16)
            if wanted > self.columnWidth(2):
                self.setColumnWidth(2, wanted)
                self._fit_names()

    def _on_current(self, item: QTreeWidgetItem | None, _prev) -> None:
        path = item.data(0, PATH_ROLE) if item is not None else None
        if path:
            self.image_selected.emit(path)


class SkippedList(QListWidget):
    """Files that were not used, each with its reason; never blocks work."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setUniformItemSizes(True)  # thousands of rows lay out in a few ms

    def add(self, path: str, reason: str) -> None:
        """List one file that was not used, with the reason."""
        self.addItem(f"{path}: {reason}")

    def add_many(self, rows: list[tuple[str, str]]) -> None:
        """Many rows at once (a folder of 5,000 non-image files: ~25 ms instead of ~170 ms)."""
        self.addItems([f"{path}: {reason}" for path, reason in rows])

    def texts(self) -> list[str]:
        """The listed lines (for tests and accessibility)."""
        return [self.item(i).text() for i in range(self.count())]
