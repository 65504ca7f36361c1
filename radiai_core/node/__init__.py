"""The DICOM node: images arrive from the PACS (C-STORE), results go back as DICOM.

``scp.Node`` listens (Storage and Verification SCP), keeps each instance on disk before
"success" (``store.Inbox``), analyses it with the one ``Runner`` and queues a Comprehensive SR
and a labelled secondary capture (``sr``) in an on-disk outbox that ``outbox.Sender`` delivers
by C-STORE, retried with backoff. ``query`` searches and retrieves studies for the viewer.
"""

from .outbox import Outbox, Sender, send_datasets
from .peer import Peer, TlsFiles, check_aet
from .query import StudyMatch, echo, find_studies, retrieve_study
from .scp import ACCEPTED_TRANSFER_SYNTAXES, Node, NodeConfig, node_dir
from .sr import AI_LABEL, secondary_capture, sr_dataset
from .store import Inbox, write_atomic

__all__ = ["ACCEPTED_TRANSFER_SYNTAXES", "AI_LABEL", "Inbox", "Node", "NodeConfig", "Outbox",
           "Peer", "Sender", "StudyMatch", "TlsFiles", "check_aet", "echo", "find_studies",
           "node_dir", "retrieve_study", "secondary_capture", "send_datasets", "sr_dataset",
           "write_atomic"]
