"""History panel: patients and their analyses, search, the reader's verdicts, reopen, delete."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from PyQt5.QtCore import QDate, Qt, QThread, pyqtSignal
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

from radiai_core.analysis.findings import Findings
from radiai_core.analysis.gate import refusal_text
from radiai_core.analysis.manifest import ModelInfo
from radiai_core.errors import RadiAIError
from radiai_core.i18n import localized
from radiai_core.reading.anonymize import no_patient_data, person_name
from radiai_core.reading.studies import NO_PATIENT_ID
from radiai_core.results.history import (
    History,
    HistoryEntry,
    HistoryPage,
    call_ref,
)
from radiai_core.results.snapshot import score_figures

from .browser import DIFF_ROLE, EndKeepingDelegate, distinguishing_starts, file_name
from .findings import compact_calls, positives_text, short_name
from .i18n import N_, t
from .workers import Worker
from .workers import start as start_worker


def short_path(path: str) -> str:
    """The file's folder and name, each shortened: the full path is in the tooltip."""
    p = Path(path)
    return f"…/{short_name(p.parent.name, 24)}/{short_name(p.name)}"

log = logging.getLogger(__name__)


ID_ROLE = Qt.UserRole
KIND_ROLE = Qt.UserRole + 1
VERDICT_CHOICES = [("—", None), (N_("agree"), "agree"), (N_("disagree"), "disagree")]


def has_patient_id(patient_id: str) -> bool:
    """Whether the history's patient id is one from a file, not the key the history makes
    for an image without one ("(no patient ID) chest.png [1a2b3c4d5e6f]"), which identifies
    no one and is never shown as an ID."""
    return bool(patient_id) and not patient_id.startswith(NO_PATIENT_ID)


def history_patient_name(name: str, patient_id: str, path: str | None) -> str:
    """How the history names a stored patient: the name, else the Patient ID; an image whose
    file holds neither says so plainly, naming the file, in the core's words
    (``anonymize.no_patient_data``) and the reader's language."""
    if person_name(name):
        return person_name(name)
    if has_patient_id(patient_id):
        return patient_id
    if path:
        return localized(no_patient_data(path))
    return t("Images without a patient ID")


def local_time(iso: str) -> str:
    """A stored time (ISO 8601, UTC) as the reader's clock shows it: "2026-12-03 18:26"."""
    try:
        when = datetime.fromisoformat(iso)
    except ValueError:  # not a time: shown as stored
        return iso.replace("T", " ")
    if when.tzinfo is None:  # stored before times carried their zone: UTC all the same
        when = when.replace(tzinfo=UTC)
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def _refusal(e: HistoryEntry) -> str:
    """A refused analysis in the list: what the image is ("refused: CT slice"), in the
    reader's language; never the stored status word."""
    return localized(refusal_text(e.refused_as)) if e.status != "ok" else ""


def _call_text(f: Findings) -> str:
    """A stored model's call with its cut-offs, or the labels a multi-label model called. A
    model with an indeterminate band shows both cut-offs, as the findings panel does ("Call:
    indeterminate (score 0.37; pneumonia ≥ 0.88, none < 0.25)"), never one threshold that an
    indeterminate score is below."""
    if f.call is None:
        return positives_text(f) if f.multi_label else ""
    call = escape(t(f.call))
    if f.band is not None and f.abnormal_score is not None:
        score, high, low = score_figures(f.abnormal_score, (f.band[1], f.band[0]))
        return t("Call: <b>{call}</b>").format(call=call) + " " + escape(
            t("(score {score}; pneumonia ≥ {high}, none < {low})").format(
                score=score, high=high, low=low))
    if f.threshold is not None:
        return t("Call: <b>{call}</b> (threshold {threshold})").format(
            call=call, threshold=f"{f.threshold:.2f}")
    return positives_text(f) if f.multi_label else ""


def _gate_of(e: HistoryEntry) -> ModelInfo | None:
    """The scope gate stored with an analysis (None for an entry stored without its models)."""
    return next((m for m in e.models if m.kind == "gate"), None)


def _answered_by(e: HistoryEntry) -> ModelInfo:
    """The model whose answer a stored analysis shows: the primary classifier, or for a
    refused image the scope gate that refused it (the classifier where the entry was stored
    without its models)."""
    gate = _gate_of(e) if e.status != "ok" else None
    return gate if gate is not None else e.model


def _made_by(e: HistoryEntry) -> str:
    """Who made a stored analysis: the classifier for an analysed image; for a refused one the
    scope gate that refused it (the classifier never ran on it)."""
    when = local_time(e.analysed_at)
    if e.status == "ok":
        return t("Analysed {when} with {model}").format(
            when=when, model=f"{e.model.name} {e.model.version}")
    gate = _gate_of(e)
    if gate is None:  # stored before the models were kept with it
        return t("Refused {when} by the scope gate").format(when=when)
    return t("Refused {when} by the scope gate {gate}").format(
        when=when, gate=f"{gate.name} {gate.version}")


#: Patients per page of the list: listing a page's rows is the GUI thread's part (the longest
#: stall at start-up with 100,000 analyses was 24 ms at 50 patients, 253 ms at 200).
PAGE_SIZE = 50


class HistoryPageWorker(Worker):
    """Read one page of the history list in a worker thread, through a connection of its own:
    ``result((token, HistoryPage))``; a damaged file is ``failed`` with its message."""

    what = "reading the history"

    def __init__(self, path: Path | None, token: int, offset: int, limit: int,
                 **filters: str) -> None:
        super().__init__()
        self.path, self.token, self.offset, self.limit = path, token, offset, limit
        self.filters = filters

    def work(self) -> None:
        """Read the page and emit it."""
        with History(self.path) as h:
            page = h.page(offset=self.offset, limit=self.limit, **self.filters)
        self.result.emit((self.token, page))


class HistoryPanel(QWidget):
    """Lists what the history database holds, a page of patients at a time, read in a worker
    (``HistoryPageWorker``: four queries a page, whatever its size) so that a large history
    never holds up the window; ``loaded`` says a page is listed. One analysis's details,
    verdicts and deletes are small reads and writes in the GUI thread; reopening an image is
    the main window's job (in a worker). A history that cannot be read is said in the panel."""

    reopen_requested = pyqtSignal(int)
    #: A page of the list was read and listed.
    loaded = pyqtSignal()
    message = pyqtSignal(str)
    #: Analyses were deleted from the history (the window checks the one it shows).
    deleted = pyqtSignal()

    def __init__(self, history_path: Path | None = None, parent=None) -> None:
        super().__init__(parent)
        self.history_path = history_path
        self.history: History | None = None
        self.error = ""
        self._token = 0  # which refresh a page belongs to
        self._loader: HistoryPageWorker | None = None
        self._pending = False
        self._threads: list[QThread] = []
        self._more_item: QTreeWidgetItem | None = None
        try:
            self.history = History(history_path)
        except RadiAIError as exc:
            self.error = str(exc)
            log.error("history unavailable: %s", exc)
        self.search = QLineEdit()
        self.search.setPlaceholderText(t("Search name, patient ID or file name"))
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
        self.tree.setHeaderLabels([t("Patient / analysis"), t("Date"), t("Call"), t("Model")])
        # A file name keeps in view where it differs from the others listed ("N…1437-0001.jpeg",
        # not "NORMAL…" for every Kermany film); the tooltip has it whole.
        self.tree.setColumnWidth(0, 150)
        self.tree.setItemDelegateForColumn(0, EndKeepingDelegate(
            lambda index: index.data(KIND_ROLE) == "analysis", self.tree))
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
        """Re-read the list from its first page, in a worker (keeps the selected analysis
        selected when it is still there). A refresh asked for while one runs follows it."""
        if self.history is None:
            self.tree.clear()
            self.detail.setText(t("History unavailable: {error}").format(error=self.error))
            return
        self._stale = False
        self._token += 1
        self._load(0)

    def load_more(self) -> None:
        """List the next page of patients under the ones listed."""
        if self._more_item is not None and self._loader is None:
            self._load(self._more_item.data(0, ID_ROLE))

    def _load(self, offset: int) -> None:
        if self._loader is not None:
            self._pending = True  # the running load is superseded: one more follows it
            return
        self._loader = HistoryPageWorker(self.history_path, self._token, offset, PAGE_SIZE,
                                         **self._filters())
        self._loader.result.connect(self._on_page)
        self._loader.failed.connect(self._on_load_failed)
        self._loader.finished.connect(self._on_load_finished)
        self._threads = [th for th in self._threads if th.isRunning()]
        self._threads.append(start_worker(self._loader, self))

    def _on_load_finished(self, _cancelled: bool) -> None:
        self._loader = None
        if self._pending:
            self._pending = False
            self._load(0)

    def _on_load_failed(self, _path: str, message: str) -> None:
        """The history could not be read (a damaged page): said in the panel, never a crash
        dialog; what is listed stays."""
        self.error = message
        self.detail.setText(t("The history could not be read: {error}").format(error=message))
        self.message.emit(message)

    def _on_page(self, result: tuple[int, HistoryPage]) -> None:
        token, page = result
        if token != self._token:
            return  # an older load: the newer one follows
        keep = self.entry.id if self.entry is not None else None
        self.tree.blockSignals(True)
        if page.offset == 0:
            self.tree.clear()
        elif self._more_item is not None:
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(self._more_item))
        self._more_item = None
        select = None
        starts = distinguishing_starts([file_name(e.path) for p in page.patients
                                        for e in page.analyses.get(p.key, [])])
        for p in page.patients:
            listed = page.analyses.get(p.key, [])
            title = history_patient_name(p.name, p.patient_id, listed[0].path if listed else None)
            count = (t("1 analysis") if p.n_analyses == 1
                     else t("{n} analyses").format(n=p.n_analyses))
            pitem = QTreeWidgetItem([title, local_time(p.last_analysed)[:10], count])
            pitem.setData(0, ID_ROLE, p.key)
            pitem.setData(0, KIND_ROLE, "patient")
            # the whole name too: the column is narrow, the time and the version need room
            pitem.setToolTip(0, title + "\n" + t("Patient ID: {id}").format(
                id=p.patient_id if has_patient_id(p.patient_id) else "—"))
            self.tree.addTopLevelItem(pitem)
            for e in listed:
                name = file_name(e.path)
                call = compact_calls(e.findings, score=False) if e.status == "ok" else ""
                # When the analysis was made, to the minute on the reader's clock, and by
                # which model version: two analyses of one film tell apart at a glance.
                # The model that made the row's answer: for a refused film the scope gate
                # (the classifier never ran on it), where the entry names it.
                by = _answered_by(e)
                item = QTreeWidgetItem([name, local_time(e.analysed_at),
                                        call or _refusal(e) or e.status, by.version])
                item.setData(0, ID_ROLE, e.id)
                item.setData(0, KIND_ROLE, "analysis")
                item.setData(0, DIFF_ROLE, starts[name])
                item.setToolTip(0, "\n".join(e.paths or [e.path]))
                item.setToolTip(1, t("Analysed {when}; study date {date}").format(
                    when=local_time(e.analysed_at), date=e.study_date or "—"))
                item.setToolTip(2, item.text(2))
                item.setToolTip(3, f"{by.name} {by.version} · sha256 {by.sha256[:12]}")
                pitem.addChild(item)
                if e.id == keep:
                    select = item
            pitem.setExpanded(True)
        if page.more:
            self._more_item = QTreeWidgetItem([t("More patients… (double-click)")])
            self._more_item.setData(0, ID_ROLE, page.offset + len(page.patients))
            self._more_item.setData(0, KIND_ROLE, "more")
            self.tree.addTopLevelItem(self._more_item)
        # The time, the call and the model version whole, so that the version stays in view
        # in a dock as narrow as the study list (a long call is cut, its tooltip has it).
        for column, most in ((1, 200), (2, 120), (3, 120)):
            self.tree.resizeColumnToContents(column)
            self.tree.setColumnWidth(column, min(most, self.tree.columnWidth(column)))
        self.tree.blockSignals(False)
        if select is not None:
            self.tree.setCurrentItem(select)
        elif page.offset == 0:
            self._show_entry(None)
        self.loaded.emit()

    def patient_titles(self) -> list[str]:
        """The patients listed (for tests)."""
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [item.text(0) for item in items if item.data(0, KIND_ROLE) == "patient"]

    def analysis_items(self) -> list[QTreeWidgetItem]:
        """The analyses listed under the patients (for tests)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            p = self.tree.topLevelItem(i)
            out += [p.child(j) for j in range(p.childCount())]
        return out

    @property
    def loading(self) -> bool:
        """Whether a page is being read."""
        return self._loader is not None

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
                                else t("History unavailable: {error}").format(error=self.error))
            self._update_buttons()
            return
        lines = [f"<b>{escape(history_patient_name(e.patient_name, e.patient_id, e.path))}</b>"
                 f" — {e.study_description or t('study')} {e.study_date}",
                 escape(_made_by(e)), short_path(e.path)]
        others = [p for p in e.paths if p != e.path]
        if others:  # byte-identical copies seen under other names
            lines.append(t("Also seen as: {paths}").format(
                paths=", ".join(escape(short_path(p)) for p in others[:3])
                + (f" (+{len(others) - 3})" if len(others) > 3 else "")))
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
        calls = {call_ref(f.key, i == 0) for i, f in enumerate(e.findings)}
        earlier = [f"{escape(label)}: {escape(t(v))}" + (f" ({escape(note)})" if note else "")
                   for label, (v, note) in sorted(e.verdicts.items())
                   if label not in calls and v is not None]
        if earlier:  # verdicts per label, given before verdicts were on the call: kept, shown
            lines.append(t("Earlier verdicts per label: {verdicts}").format(
                verdicts="; ".join(earlier)))
        self.detail.setText("<br>".join(lines))
        # the whole paths; the text keeps the dock narrow
        self.detail.setToolTip("\n".join(e.paths or [e.path]))
        for row, (i, f) in enumerate(enumerate(e.findings)):  # a verdict on each model's call
            ref = call_ref(f.key, i == 0)
            verdict, note = e.verdicts.get(ref, (None, ""))
            combo = QComboBox()
            for text, value in VERDICT_CHOICES:
                combo.addItem(t(text), value)
            combo.setCurrentIndex([v for _, v in VERDICT_CHOICES].index(verdict))
            combo.setToolTip(t("Do you agree with the call?"))
            edit = QLineEdit(note)
            edit.setPlaceholderText(t("note"))
            what = compact_calls([f], score=False)
            self.verdict_grid.addWidget(QLabel(
                f"{escape(f.title)}: {escape(what)}" if several
                else t("Call: {call}").format(call=escape(what))), row, 0)
            self.verdict_grid.addWidget(combo, row, 1)
            self.verdict_grid.addWidget(edit, row, 2)
            self.verdict_rows[ref] = (combo, edit)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has = self.entry is not None
        self.reopen_button.setEnabled(has)
        self.save_button.setEnabled(has and bool(self.verdict_rows))
        self.delete_analysis_button.setEnabled(has)
        item = self.tree.currentItem()
        self.delete_patient_button.setEnabled(
            item is not None and item.data(0, KIND_ROLE) in ("patient", "analysis"))

    def select_analysis(self, analysis_id: int) -> bool:
        """Show one stored analysis and its verdicts."""
        for item in self.analysis_items():
            if item.data(0, ID_ROLE) == analysis_id:
                self.tree.setCurrentItem(item)
                return True
        return False

    # --- actions ----------------------------------------------------------------------------
    def _on_double_click(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, KIND_ROLE) == "more":
            self.load_more()
        elif item.data(0, KIND_ROLE) == "analysis":
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
            try:
                self.history.delete_analysis(self.entry.id)
            except RadiAIError as exc:  # locked, read-only or damaged: said, nothing changed
                QMessageBox.warning(self, "RadiAI", str(exc))
                return
            self.entry = None
            self.refresh()
            self.deleted.emit()
            self.message.emit(f"Analysis of {name} deleted from the history.")

    def delete_current_patient(self) -> None:
        """Delete the selected patient with every analysis, after asking."""
        item = self.tree.currentItem()
        if item is None or self.history is None or item.data(0, KIND_ROLE) == "more":
            return
        if item.parent() is not None:
            item = item.parent()
        title = item.text(0)
        if self._confirm(f"Delete {title} with all their analyses and verdicts from the "
                         "history? Image files are not touched."):
            try:
                self.history.delete_patient(item.data(0, ID_ROLE))
            except RadiAIError as exc:
                QMessageBox.warning(self, "RadiAI", str(exc))
                return
            self.entry = None
            self.refresh()
            self.deleted.emit()
            self.message.emit(f"{title} deleted from the history.")

    def close_history(self) -> None:
        """Close the panel's history connection (the window is closing), after the list's
        reader has ended."""
        for thread in self._threads:
            thread.quit()
            thread.wait(10000)
        self._threads = []
        if self.history is not None:
            self.history.close()
            self.history = None
