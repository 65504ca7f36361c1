"""History panel: patients and their analyses, search, the reader's verdicts, reopen, delete."""

from __future__ import annotations

import logging
from html import escape
from pathlib import Path

from PyQt5.QtCore import QDate, Qt, pyqtSignal
from PyQt5.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from radiai_core.analysis.findings import Findings, label_ref
from radiai_core.analysis.gate import refusal_text
from radiai_core.errors import RadiAIError
from radiai_core.i18n import localized
from radiai_core.reading.anonymize import person_name
from radiai_core.results.history import History, HistoryEntry

from .findings import positives_text, short_name
from .i18n import N_, t


def short_path(path: str) -> str:
    """The file's folder and name, each shortened: the full path is in the tooltip."""
    p = Path(path)
    return f"…/{short_name(p.parent.name, 24)}/{short_name(p.name)}"

log = logging.getLogger(__name__)

ID_ROLE = Qt.UserRole
KIND_ROLE = Qt.UserRole + 1
VERDICT_CHOICES = [("—", None), (N_("agree"), "agree"), (N_("disagree"), "disagree")]


def _refusal(e: HistoryEntry) -> str:
    """A refused analysis in the list: what the image is ("refused: CT slice"), in the
    reader's language; never the stored status word."""
    return localized(refusal_text(e.refused_as)) if e.status != "ok" else ""


def _call_text(f: Findings) -> str:
    """A stored model's call with its threshold, or the labels a multi-label model called."""
    if f.call is not None and f.threshold is not None:
        return t("Call: <b>{call}</b> (threshold {threshold})").format(
            call=escape(t(f.call)), threshold=f"{f.threshold:.2f}")
    return positives_text(f) if f.multi_label else ""


def _positives(e: HistoryEntry) -> str:
    """The labels the primary model called, for the list (a model without a call)."""
    return ", ".join(e.findings[0].name(p) for p in e.findings[0].positives) if e.findings else ""


class HistoryPanel(QWidget):
    """Lists what the history database holds. Queries are small indexed SQLite reads, done in
    the GUI thread; reopening an image is the main window's job (in a worker)."""

    reopen_requested = pyqtSignal(int)
    message = pyqtSignal(str)
    #: Analyses were deleted from the history (the window checks the one it shows).
    deleted = pyqtSignal()

    def __init__(self, history_path: Path | None = None, parent=None) -> None:
        super().__init__(parent)
        self.history: History | None = None
        self.error = ""
        try:
            self.history = History(history_path)
        except RadiAIError as exc:
            self.error = str(exc)
            log.error("history unavailable: %s", exc)
        self.search = QLineEdit()
        self.search.setPlaceholderText(t("Search name or patient ID"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.use_dates = QCheckBox(t("From"))
        self.date_from = QDateEdit(QDate.currentDate().addMonths(-1))
        self.date_to = QDateEdit(QDate.currentDate())
        for w in (self.date_from, self.date_to):
            w.setCalendarPopup(True)
            w.setDisplayFormat("yyyy-MM-dd")
            w.dateChanged.connect(self.refresh)
        self.use_dates.toggled.connect(self.refresh)
        dates = QHBoxLayout()
        dates.addWidget(self.use_dates)
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel(t("to")))
        dates.addWidget(self.date_to)

        self.tree = QTreeWidget()
        self.tree.setHeaderLabels([t("Patient / analysis"), t("Date"), t("Call")])
        self.tree.setColumnWidth(0, 220)
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.itemDoubleClicked.connect(self._on_double_click)

        self.detail = QLabel(t("Select an analysis."))
        self.detail.setWordWrap(True)
        # A long path must not widen the dock and squeeze the image.
        self.detail.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.detail.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.verdict_grid = QGridLayout()
        self.verdict_rows: dict[str, tuple[QComboBox, QLineEdit]] = {}
        self.save_button = QPushButton(t("Save verdicts"))
        self.save_button.clicked.connect(self.save_verdicts)
        self.reopen_button = QPushButton(t("Reopen"))
        self.reopen_button.clicked.connect(self._reopen_current)
        self.delete_analysis_button = QPushButton(t("Delete analysis…"))
        self.delete_analysis_button.clicked.connect(self.delete_current_analysis)
        self.delete_patient_button = QPushButton(t("Delete patient…"))
        self.delete_patient_button.clicked.connect(self.delete_current_patient)
        buttons = QGridLayout()  # two rows keep the dock narrow
        for i, b in enumerate((self.reopen_button, self.save_button, self.delete_analysis_button,
                               self.delete_patient_button)):
            buttons.addWidget(b, i // 2, i % 2)

        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addLayout(dates)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.detail)
        layout.addLayout(self.verdict_grid)
        layout.addLayout(buttons)
        self.entry: HistoryEntry | None = None
        self._stale = False
        self._update_buttons()
        self.refresh()

    # --- listing ----------------------------------------------------------------------------
    def request_refresh(self) -> None:
        """Refresh now if the panel is on screen, else when it next comes up (a batch records
        many analyses; a list behind another tab need not be rebuilt for each)."""
        if self.isVisible() and not self.visibleRegion().isEmpty():
            self.refresh()
        else:
            self._stale = True

    def on_shown(self) -> None:
        """The panel came to the front (its dock's tab was raised)."""
        if self._stale:
            self.refresh()

    def _filters(self) -> dict:
        f = {"text": self.search.text()}
        if self.use_dates.isChecked():
            f["date_from"] = self.date_from.date().toString("yyyy-MM-dd")
            f["date_to"] = self.date_to.date().toString("yyyy-MM-dd")
        return f

    def refresh(self) -> None:
        """Re-read the list (keeps the selected analysis selected when it is still there)."""
        if self.history is None:
            self.tree.clear()
            self.detail.setText(f"History unavailable: {self.error}")
            return
        self._stale = False
        keep = self.entry.id if self.entry is not None else None
        f = self._filters()
        self.tree.blockSignals(True)
        self.tree.clear()
        select = None
        for p in self.history.patients(**f):
            title = person_name(p.name) or p.patient_id or "Images without a patient ID"
            pitem = QTreeWidgetItem([title, p.last_analysed[:10], f"{p.n_analyses} analysis"
                                     + ("" if p.n_analyses == 1 else "es")])
            pitem.setData(0, ID_ROLE, p.key)
            pitem.setData(0, KIND_ROLE, "patient")
            pitem.setToolTip(0, f"Patient ID: {p.patient_id or '—'}")
            self.tree.addTopLevelItem(pitem)
            for e in self.history.analyses(patient_key=p.key, **f):
                name = e.path.replace("\\", "/").rsplit("/", 1)[-1]
                item = QTreeWidgetItem([name, e.study_date or e.analysed_at[:10],
                                        e.call or _positives(e) or _refusal(e)])
                item.setData(0, ID_ROLE, e.id)
                item.setData(0, KIND_ROLE, "analysis")
                item.setToolTip(0, e.path)
                pitem.addChild(item)
                if e.id == keep:
                    select = item
            pitem.setExpanded(True)
        self.tree.blockSignals(False)
        if select is not None:
            self.tree.setCurrentItem(select)
        else:
            self._show_entry(None)

    def patient_titles(self) -> list[str]:
        """The patients listed (for tests)."""
        return [self.tree.topLevelItem(i).text(0) for i in range(self.tree.topLevelItemCount())]

    def analysis_items(self) -> list[QTreeWidgetItem]:
        """The analyses listed under the patients (for tests)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            p = self.tree.topLevelItem(i)
            out += [p.child(j) for j in range(p.childCount())]
        return out

    # --- selection and details --------------------------------------------------------------
    def _on_current(self, item: QTreeWidgetItem | None, _prev=None) -> None:
        if item is None or item.data(0, KIND_ROLE) != "analysis" or self.history is None:
            self._show_entry(None)
            return
        try:
            self._show_entry(self.history.entry(item.data(0, ID_ROLE)))
        except RadiAIError as exc:
            self.message.emit(str(exc))
            self._show_entry(None)

    def _show_entry(self, e: HistoryEntry | None) -> None:
        self.entry = e
        while self.verdict_grid.count():
            w = self.verdict_grid.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.verdict_rows = {}
        if e is None:
            self.detail.setText(t("Select an analysis.") if self.history is not None
                                else f"History unavailable: {self.error}")
            self._update_buttons()
            return
        lines = [f"<b>{person_name(e.patient_name) or e.patient_id or t('No patient ID')}</b>"
                 f" — {e.study_description or t('study')} {e.study_date}",
                 t("Analysed {when} with {model}").format(
                     when=e.analysed_at.replace("T", " "),
                     model=f"{e.model.name} {e.model.version}"), short_path(e.path)]
        if e.age is not None:
            lines.append(t("Age: {age}").format(age=localized(e.age.describe())))
        if e.status != "ok":
            lines.append(t("Refused: this image {message}.").format(
                message=localized(e.message)))
        several = len(e.findings) > 1
        for f in e.findings:
            line = _call_text(f)
            if line:
                lines.append(f"{escape(f.title)}: {line}" if several else line)
        self.detail.setText("<br>".join(lines))
        self.detail.setToolTip(e.path)  # the whole path; the text keeps the dock narrow
        row = 0
        for i, f in enumerate(e.findings):  # a verdict per label of every model
            if several:
                self.verdict_grid.addWidget(QLabel(f"<b>{escape(f.title)}</b>"), row, 0, 1, 3)
                row += 1
            for label, p in f.ranked():
                ref = label_ref(f.key, label, i == 0)
                verdict, note = e.verdicts.get(ref, (None, ""))
                combo = QComboBox()
                for text, value in VERDICT_CHOICES:
                    combo.addItem(t(text), value)
                combo.setCurrentIndex([v for _, v in VERDICT_CHOICES].index(verdict))
                edit = QLineEdit(note)
                edit.setPlaceholderText(t("note"))
                mark = " *" if f.multi_label and f.is_positive(label) else ""
                self.verdict_grid.addWidget(QLabel(f"{f.name(label)} {p:.1%}{mark}"), row, 0)
                self.verdict_grid.addWidget(combo, row, 1)
                self.verdict_grid.addWidget(edit, row, 2)
                self.verdict_rows[ref] = (combo, edit)
                row += 1
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.entry is not None
        self.reopen_button.setEnabled(has)
        self.save_button.setEnabled(has and bool(self.verdict_rows))
        self.delete_analysis_button.setEnabled(has)
        item = self.tree.currentItem()
        self.delete_patient_button.setEnabled(item is not None)

    def select_analysis(self, analysis_id: int) -> bool:
        """Show one stored analysis and its verdicts."""
        for item in self.analysis_items():
            if item.data(0, ID_ROLE) == analysis_id:
                self.tree.setCurrentItem(item)
                return True
        return False

    # --- actions ----------------------------------------------------------------------------
    def _on_double_click(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, KIND_ROLE) == "analysis":
            self.reopen_requested.emit(item.data(0, ID_ROLE))

    def _reopen_current(self) -> None:
        if self.entry is not None:
            self.reopen_requested.emit(self.entry.id)

    def save_verdicts(self) -> None:
        """Store the reader's verdicts on the shown analysis."""
        if self.entry is None or self.history is None:
            return
        try:
            for label, (combo, edit) in self.verdict_rows.items():
                self.history.set_verdict(self.entry.id, label, combo.currentData(),
                                         edit.text().strip())
        except RadiAIError as exc:
            QMessageBox.warning(self, "RadiAI", str(exc))
            return
        self.message.emit("Verdicts saved.")
        self.refresh()

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Delete from history", text,
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def delete_current_analysis(self) -> None:
        """Delete the shown analysis, after asking."""
        if self.entry is None or self.history is None:
            return
        name = self.entry.path.replace("\\", "/").rsplit("/", 1)[-1]
        if self._confirm(f"Delete the analysis of {name} ({self.entry.analysed_at[:10]}) and "
                         "its verdicts? The image file itself is not touched."):
            self.history.delete_analysis(self.entry.id)
            self.entry = None
            self.refresh()
            self.deleted.emit()
            self.message.emit(f"Analysis of {name} deleted from the history.")

    def delete_current_patient(self) -> None:
        """Delete the selected patient with every analysis, after asking."""
        item = self.tree.currentItem()
        if item is None or self.history is None:
            return
        if item.parent() is not None:
            item = item.parent()
        title = item.text(0)
        if self._confirm(f"Delete {title} with all their analyses and verdicts from the "
                         "history? Image files are not touched."):
            self.history.delete_patient(item.data(0, ID_ROLE))
            self.entry = None
            self.refresh()
            self.deleted.emit()
            self.message.emit(f"{title} deleted from the history.")

    def close_history(self) -> None:
        """Close the panel's history connection (the window is closing)."""
        if self.history is not None:
            self.history.close()
            self.history = None
