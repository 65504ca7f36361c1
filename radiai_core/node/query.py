"""Search the PACS and pull a study: C-ECHO, C-FIND (Study Root) and C-GET, for the viewer.

C-GET brings the images back over the association RadiAI opened, so the PACS needs no route
to RadiAI (no port opened on the reading PC): the PACS must only know RadiAI's AE title.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom.dataset import Dataset
from pynetdicom import AE, build_role, evt
from pynetdicom.sop_class import (
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    Verification,
)

from ..errors import NodeError
from .peer import Peer, TlsFiles
from .scp import ACCEPTED_TRANSFER_SYNTAXES
from .store import Inbox, short

__all__ = ["RETRIEVED_CLASSES", "StudyMatch", "echo", "find_studies", "retrieve_study"]

log = logging.getLogger(__name__)

#: The storage SOP classes a C-GET accepts (a retrieve negotiates each one; at most 128
#: presentation contexts fit in an association): radiographs, and what comes with them.
RETRIEVED_CLASSES = [
    "1.2.840.10008.5.1.4.1.1.1",      # Computed Radiography Image
    "1.2.840.10008.5.1.4.1.1.1.1",    # Digital X-Ray Image - For Presentation
    "1.2.840.10008.5.1.4.1.1.1.1.1",  # Digital X-Ray Image - For Processing
    "1.2.840.10008.5.1.4.1.1.7",      # Secondary Capture Image
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    "1.2.840.10008.5.1.4.1.1.88.22",  # Enhanced SR
    "1.2.840.10008.5.1.4.1.1.88.11",  # Basic Text SR
    "1.2.840.10008.5.1.4.1.1.11.1",   # Grayscale Softcopy Presentation State
    "1.2.840.10008.5.1.4.1.1.2",      # CT Image
    "1.2.840.10008.5.1.4.1.1.4",      # MR Image
]


@dataclass
class StudyMatch:
    """One study the PACS found."""

    study_uid: str
    patient_name: str
    patient_id: str
    study_date: str
    description: str
    modalities: str
    n_instances: int | None
    accession: str = ""


def _associate(peer: Peer, aet: str, contexts: Sequence[tuple[str, Sequence[str] | None]],
               tls: TlsFiles | None, roles: list | None = None,
               handlers: list | None = None, timeout_s: float = 30.0):
    ae = AE(ae_title=aet)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout_s
    for abstract, syntaxes in contexts:
        if syntaxes is None:
            ae.add_requested_context(abstract)
        else:
            ae.add_requested_context(abstract, syntaxes)
    assoc = ae.associate(peer.host, peer.port, ae_title=peer.aet, ext_neg=roles,
                         evt_handlers=handlers or [],
                         tls_args=(tls.client_context(), peer.host) if tls else None)
    if not assoc.is_established:
        why = ("rejected the association (is this computer's AE title known to it?)"
               if assoc.is_rejected else "could not be reached")
        raise NodeError(f"{peer} {why}.")
    return assoc


def echo(peer: Peer, aet: str = "RADIAI", tls: TlsFiles | None = None) -> bool:
    """C-ECHO ``peer``: True when it answered success.

    Raises
    ------
    NodeError
        No association could be made.
    """
    assoc = _associate(peer, aet, [(Verification, None)], tls)
    try:
        status = assoc.send_c_echo()
        return bool(status) and int(status.Status) == 0
    finally:
        assoc.release()


def find_studies(peer: Peer, aet: str = "RADIAI", patient_name: str = "",
                 patient_id: str = "", date_from: str = "", date_to: str = "",
                 tls: TlsFiles | None = None) -> list[StudyMatch]:
    """C-FIND at STUDY level (Study Root): studies whose patient name matches
    ``patient_name`` (``*`` wildcards; a plain word matches names that start with it),
    patient ID ``patient_id`` and study date in ``date_from``..``date_to`` (YYYYMMDD or
    YYYY-MM-DD, either may be empty).

    Raises
    ------
    NodeError
        No association could be made, or the PACS failed the query.
    """
    q = Dataset()
    q.QueryRetrieveLevel = "STUDY"
    name = patient_name.strip()
    q.PatientName = name if not name or "*" in name or "?" in name else f"{name}*"
    q.PatientID = patient_id.strip()
    d0, d1 = date_from.replace("-", ""), date_to.replace("-", "")
    q.StudyDate = f"{d0}-{d1}" if (d0 or d1) and d0 != d1 else d0
    for keyword in ("StudyInstanceUID", "StudyDescription", "ModalitiesInStudy",
                    "NumberOfStudyRelatedInstances", "AccessionNumber", "StudyTime"):
        setattr(q, keyword, "")
    q.SpecificCharacterSet = "ISO_IR 192"
    assoc = _associate(peer, aet, [(StudyRootQueryRetrieveInformationModelFind, None)], tls)
    found: list[StudyMatch] = []
    try:
        for status, ident in assoc.send_c_find(q, StudyRootQueryRetrieveInformationModelFind):
            if not status or int(status.Status) not in (0x0000, 0xFF00, 0xFF01):
                code = f"0x{int(status.Status):04X}" if status else "none"
                raise NodeError(f"{peer} failed the search (status {code}).")
            if ident is None or int(status.Status) == 0:
                continue
            n = ident.get("NumberOfStudyRelatedInstances")
            mods = ident.get("ModalitiesInStudy", "")
            found.append(StudyMatch(
                study_uid=str(ident.get("StudyInstanceUID", "")),
                patient_name=str(ident.get("PatientName", "") or ""),
                patient_id=str(ident.get("PatientID", "") or ""),
                study_date=str(ident.get("StudyDate", "") or ""),
                description=str(ident.get("StudyDescription", "") or ""),
                modalities="\\".join(mods) if not isinstance(mods, str) else mods,
                n_instances=int(n) if n not in (None, "") else None,
                accession=str(ident.get("AccessionNumber", "") or "")))
    finally:
        if assoc.is_established:
            assoc.release()
    return found


def retrieve_study(peer: Peer, study_uid: str, folder: Path, aet: str = "RADIAI",
                   tls: TlsFiles | None = None,
                   on_file: Callable[[Path], None] | None = None) -> list[Path]:
    """C-GET one study into ``folder`` (``received/<study>/<SOP UID>.dcm``, each written
    atomically); ``on_file`` sees each file as it arrives. Returns the files.

    Raises
    ------
    NodeError
        No association could be made, or the PACS failed the retrieve (files that arrived
        before the failure are kept).
    """
    inbox = Inbox(folder)
    files: list[Path] = []

    def on_store(event: evt.Event) -> int:
        sop_uid = str(getattr(event.request, "AffectedSOPInstanceUID", "") or "")
        try:
            path, _ = inbox.store(study_uid, sop_uid, event.encoded_dataset())
            inbox.done(path.stem)  # retrieved for reading, not for the node's analysis
        except OSError as exc:
            log.error("retrieved instance %s could not be kept (%s)", short(sop_uid), exc)
            return 0xA700
        files.append(path)
        if on_file is not None:
            on_file(path)
        return 0x0000

    contexts: list[tuple[str, Sequence[str] | None]] = [
        (StudyRootQueryRetrieveInformationModelGet, None)]
    contexts += [(c, ACCEPTED_TRANSFER_SYNTAXES) for c in RETRIEVED_CLASSES]
    roles = [build_role(c, scp_role=True) for c in RETRIEVED_CLASSES]
    q = Dataset()
    q.QueryRetrieveLevel = "STUDY"
    q.StudyInstanceUID = study_uid
    assoc = _associate(peer, aet, contexts, tls, roles=roles,
                       handlers=[(evt.EVT_C_STORE, on_store)])
    failed = None
    try:
        for status, _ in assoc.send_c_get(q, StudyRootQueryRetrieveInformationModelGet):
            if status and int(status.Status) not in (0x0000, 0xFF00, 0xB000):
                failed = int(status.Status)
            elif not status:
                failed = -1
    finally:
        if assoc.is_established:
            assoc.release()
    if failed is not None:
        raise NodeError(f"{peer} could not send the study ({len(files)} image(s) arrived; "
                        f"status {'none' if failed < 0 else hex(failed)}).")
    log.info("study %s retrieved: %d file(s)", short(study_uid), len(files))
    return files
