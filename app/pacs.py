"""The PACS from the viewer: search it (C-FIND), pull a study (C-GET) that then opens like a
dropped folder, and the "DICOM node" setting that receives studies while the viewer runs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PyQt5.QtCore import QObject, QSettings, QTimer, pyqtSignal
from PyQt5.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from radiai_core.errors import NodeError, RadiAIError
from radiai_core.node import Node, NodeConfig, Peer, StudyMatch, check_aet, node_dir
from radiai_core.node.query import find_studies, retrieve_study

from .i18n import t
from .workers import Jobs, TaskWorker, Worker

log = logging.getLogger(__name__)

#: How long the browser waits after the last arriving file before it shows the new ones (a
#: study arrives as a burst of instances: one rescan for the burst).
SETTLE_MS = 700


class NodeWorker(Worker):
    """The viewer's DICOM node (receive only: the viewer analyses what the reader opens) in a
    worker thread: ``result(port)`` once it listens, ``received(path)`` for each new file,
    ``failed`` when it cannot listen; it stops when cancelled (window closed, setting off)."""

    received = pyqtSignal(str)
    what = "the DICOM node"

    def __init__(self, config: NodeConfig) -> None:
        super().__init__()
        self.config = config

    def work(self) -> None:
        """Listen until cancelled."""
        node = Node(self.config, on_received=lambda p: self.received.emit(str(p)))
        node.start()  # a NodeError (port in use) is reported by run()
        try:
            self.result.emit(node.port)
            while not self.cancel_event.wait(0.2):
                pass
        finally:
            node.stop()


class Pacs(QObject):
    """The window's PACS side: the dialog (made on first use) and the DICOM node setting.

    ``open_folder(path)`` is how a retrieved study, or the folder of arriving ones, is shown
    (the window's ``open_paths``); ``status(text)`` says what happens.
    """

    status = pyqtSignal(str)

    def __init__(self, parent: QObject, settings: QSettings, jobs: Jobs,
                 open_folder: Any) -> None:
        super().__init__(parent)
        self.settings, self.jobs, self.open_folder = settings, jobs, open_folder
        self.dialog: PacsDialog | None = None
        self.node_worker: NodeWorker | None = None
        self.node_port: int | None = None
        self.arrived: list[str] = []
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self._show_arrived)
        if self.settings.value("node/enabled", False, type=bool):
            self.start_node()

    @property
    def received_folder(self) -> Path:
        """Where the viewer's node keeps what arrives."""
        return node_dir() / "received"

    def show(self) -> PacsDialog:
        """Show the dialog (one per window)."""
        if self.dialog is None:
            self.dialog = PacsDialog(self)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    # --- the DICOM node setting -------------------------------------------------------------
    def node_config(self) -> NodeConfig:
        """The node as the settings describe it (receive only)."""
        return NodeConfig(aet=str(self.settings.value("node/aet", "RADIAI")),
                          port=int(self.settings.value("node/port", 11112)),
                          bind=str(self.settings.value("node/bind", "0.0.0.0")), analyse=False)

    def start_node(self) -> None:
        """Start listening in a worker (nothing listens unless the reader asked for it)."""
        if self.node_worker is not None:
            return
        self.node_worker = NodeWorker(self.node_config())
        self.node_worker.received.connect(self._on_received)
        self.jobs.start(self.node_worker, result=self._on_listening, failed=self._on_failed,
                        finished=self._on_node_end)

    def stop_node(self) -> None:
        """Stop listening (files kept stay where they are)."""
        if self.node_worker is not None:
            self.node_worker.cancel()

    def _on_listening(self, port: int) -> None:
        self.node_port = port
        cfg = self.node_config()
        self.status.emit(t("DICOM node {aet} listening on port {port}").format(aet=cfg.aet,
                                                                                port=port))

    def _on_failed(self, _path: str, message: str) -> None:
        self.status.emit(t("The DICOM node could not start: {message}").format(
            message=message))

    def _on_node_end(self, _cancelled: bool) -> None:
        self.node_worker, self.node_port = None, None
        self.status.emit(t("DICOM node stopped"))

    def _on_received(self, path: str) -> None:
        self.arrived.append(path)
        self._settle.start()

    def _show_arrived(self) -> None:
        n, self.arrived = len(self.arrived), []
        self.status.emit(t("{n} image(s) arrived from the PACS").format(n=n))
        self.open_folder([str(self.received_folder)])


class PacsDialog(QDialog):
    """Search the configured PACS by patient name or ID and study date, retrieve a study; and
    the DICOM node setting."""

    def __init__(self, pacs: Pacs) -> None:
        super().__init__(pacs.parent())
        self.pacs = pacs
        s = pacs.settings
        self.setWindowTitle(t("PACS"))
        self.address = QLineEdit(str(s.value("pacs/address", "")))
        self.address.setPlaceholderText("PACS@10.0.0.5:104")
        self.own_aet = QLineEdit(str(s.value("pacs/aet", "RADIAI")))
        self.name = QLineEdit()
        self.patient_id = QLineEdit()
        self.date_from = QLineEdit()
        self.date_to = QLineEdit()
        for edit in (self.date_from, self.date_to):
            edit.setPlaceholderText("YYYY-MM-DD")
        self.search_button = QPushButton(t("Search"))
        self.retrieve_button = QPushButton(t("Retrieve and open"))
        self.retrieve_button.setEnabled(False)
        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels([t("Patient"), t("Patient ID"), t("Study date"),
                                              t("Description"), t("Images")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.Stretch)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.matches: list[StudyMatch] = []

        form = QFormLayout()
        form.addRow(t("PACS (AET@host:port)"), self.address)
        form.addRow(t("This computer's AE title"), self.own_aet)
        form.addRow(t("Patient name"), self.name)
        form.addRow(t("Patient ID"), self.patient_id)
        dates = QHBoxLayout()
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("–"))
        dates.addWidget(self.date_to)
        form.addRow(t("Study date"), dates)
        buttons = QHBoxLayout()
        buttons.addWidget(self.search_button)
        buttons.addWidget(self.retrieve_button)

        node = QGroupBox(t("DICOM node: receive studies the PACS sends"))
        self.node_box = QCheckBox(t("Listen while the viewer runs"))
        self.node_box.setChecked(s.value("node/enabled", False, type=bool))
        self.node_aet = QLineEdit(str(s.value("node/aet", "RADIAI")))
        self.node_port = QSpinBox()
        self.node_port.setRange(1, 65535)
        self.node_port.setValue(int(s.value("node/port", 11112)))
        nf = QFormLayout(node)
        nf.addRow(self.node_box)
        nf.addRow(t("AE title"), self.node_aet)
        nf.addRow(t("Port"), self.node_port)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        layout.addWidget(self.message)
        layout.addWidget(node)
        self.resize(720, 560)

        self.search_button.clicked.connect(self.search)
        self.retrieve_button.clicked.connect(self.retrieve)
        self.table.itemSelectionChanged.connect(
            lambda: self.retrieve_button.setEnabled(bool(self.table.selectedItems())))
        self.node_box.toggled.connect(self._node_toggled)
        pacs.status.connect(self.message.setText)

    def _peer(self) -> tuple[Peer, str] | None:
        try:
            peer, aet = Peer.parse(self.address.text().strip()), check_aet(self.own_aet.text())
        except NodeError as exc:
            self.message.setText(str(exc))
            return None
        self.pacs.settings.setValue("pacs/address", str(peer))
        self.pacs.settings.setValue("pacs/aet", aet)
        return peer, aet

    def search(self) -> None:
        """C-FIND in a worker; the table fills with what the PACS found."""
        target = self._peer()
        if target is None:
            return
        peer, aet = target
        self.search_button.setEnabled(False)
        self.message.setText(t("Searching…"))
        worker = TaskWorker(find_studies, peer, aet, self.name.text(), self.patient_id.text(),
                            self.date_from.text().strip(), self.date_to.text().strip(),
                            what="the PACS search")
        self.pacs.jobs.start(worker, result=self._on_found, failed=self._on_failed,
                             finished=lambda _c: self.search_button.setEnabled(True))

    def _on_found(self, matches: list[StudyMatch]) -> None:
        self.matches = matches
        self.table.setRowCount(len(matches))
        for row, m in enumerate(matches):
            date = (f"{m.study_date[:4]}-{m.study_date[4:6]}-{m.study_date[6:8]}"
                    if len(m.study_date) == 8 else m.study_date)
            values = [m.patient_name.replace("^", " ").strip(), m.patient_id, date,
                      m.description or m.modalities,
                      "" if m.n_instances is None else str(m.n_instances)]
            for col, value in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(value))
        self.message.setText(t("{n} study(ies) found").format(n=len(matches)))

    def _on_failed(self, _path: str, message: str) -> None:
        self.message.setText(message)

    def retrieve(self) -> None:
        """C-GET the selected study in a worker, then open its folder like a dropped one."""
        rows = {i.row() for i in self.table.selectedItems()}
        target = self._peer()
        if not rows or target is None:
            return
        peer, aet = target
        study = self.matches[min(rows)]
        folder = node_dir() / "retrieved"
        self.retrieve_button.setEnabled(False)
        self.message.setText(t("Retrieving…"))
        worker = TaskWorker(_retrieve, peer, study.study_uid, folder, aet,
                            what="the PACS retrieve")
        self.pacs.jobs.start(worker, result=self._on_retrieved, failed=self._on_failed,
                             finished=lambda _c: self.retrieve_button.setEnabled(True))

    def _on_retrieved(self, result: tuple[str, int]) -> None:
        folder, n = result
        self.message.setText(t("{n} image(s) retrieved").format(n=n))
        self.pacs.open_folder([folder])

    def _node_toggled(self, on: bool) -> None:
        s = self.pacs.settings
        try:
            s.setValue("node/aet", check_aet(self.node_aet.text()))
        except RadiAIError as exc:
            self.message.setText(str(exc))
            self.node_box.setChecked(False)
            return
        s.setValue("node/port", self.node_port.value())
        s.setValue("node/enabled", on)
        if on:
            self.pacs.start_node()
        else:
            self.pacs.stop_node()


def _retrieve(peer: Peer, study_uid: str, folder: Path, aet: str) -> tuple[str, int]:
    """C-GET one study (run in a worker): the study's folder and how many files came."""
    files = retrieve_study(peer, study_uid, folder, aet=aet)
    study_folder = files[0].parent if files else folder
    return str(study_folder), len(files)
