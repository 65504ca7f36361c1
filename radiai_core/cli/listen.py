"""`radiai listen`: RadiAI as a DICOM node (Storage SCP) until interrupted."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path
from typing import TextIO

from ..errors import NodeError

log = logging.getLogger(__name__)


def add_listen_parser(sub: argparse._SubParsersAction) -> None:
    """The ``listen`` subcommand's options."""
    p = sub.add_parser("listen", help="receive images from the PACS (DICOM C-STORE), analyse "
                       "them and send the results back as DICOM SR and secondary capture")
    p.add_argument("--aet", default="RADIAI", help="this node's AE title (default RADIAI)")
    p.add_argument("--port", type=int, default=11112, help="TCP port (default 11112)")
    p.add_argument("--bind", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this computer only; a "
                        "reading-room server gives its LAN address, or 0.0.0.0)")
    p.add_argument("--allow-aet", action="append", default=[], metavar="AET",
                   help="calling AE title allowed to send (repeatable); others are rejected "
                        "at association. Default: any")
    p.add_argument("--results-to", metavar="AET@HOST:PORT",
                   help="send each result (SR and secondary capture) to this DICOM node, "
                        "e.g. PACS@10.0.0.5:104; without it, images are analysed and kept "
                        "in the history only")
    p.add_argument("--tls-cert", type=Path, help="this node's TLS certificate (PEM)")
    p.add_argument("--tls-key", type=Path, help="its private key (PEM)")
    p.add_argument("--tls-ca", type=Path,
                   help="certificate authority the callers' certificates must be signed by "
                        "(then a caller without one is refused)")
    p.add_argument("--results-tls", action="store_true",
                   help="send results over TLS too (the same certificate, checked against "
                        "--tls-ca)")
    p.add_argument("--retry-max", type=float, default=60.0, metavar="SECONDS",
                   help="longest wait between tries when the PACS is down (default 60)")
    p.set_defaults(func=cmd_listen)


def cmd_listen(args: argparse.Namespace, out: TextIO) -> int:
    """``radiai listen``: start the node, say where it listens, run until SIGINT/SIGTERM."""
    from ..node.peer import Peer, TlsFiles
    from ..node.scp import Node, NodeConfig

    if (args.tls_cert is None) != (args.tls_key is None):
        raise NodeError("TLS needs both --tls-cert and --tls-key.")
    if args.results_tls and args.tls_cert is None:
        raise NodeError("--results-tls needs --tls-cert and --tls-key.")
    tls = TlsFiles(args.tls_cert, args.tls_key, args.tls_ca) if args.tls_cert else None
    config = NodeConfig(aet=args.aet, port=args.port, bind=args.bind,
                        allowed_aets=list(args.allow_aet),
                        results_to=Peer.parse(args.results_to) if args.results_to else None,
                        tls=tls, results_tls=args.results_tls, retry_max_s=args.retry_max)
    # pynetdicom's own log repeats every association in detail: warnings only, unless -v.
    # highdicom's, every module it copies from each source (with its UID).
    logging.getLogger("pynetdicom").setLevel(logging.INFO if args.verbose else logging.WARNING)
    logging.getLogger("highdicom").setLevel(logging.WARNING)
    # The node's own lines (instances by a hash of their UID, never a patient) are the
    # service's log: kept, received, analysed, delivered.
    logging.getLogger("radiai_core.node").setLevel(logging.INFO)
    node = Node(config)
    stop = threading.Event()

    def on_signal(signum: int, _frame: object) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    node.start()
    try:
        waiting = len(node.inbox.pending())
        out.write(f"listening as {config.aet} on {config.bind}:{node.port}"
                  f"{' (TLS)' if tls else ''}; results to {config.results_to or 'nowhere'}; "
                  f"data in {node.root}"
                  f"{f'; {waiting} received earlier taken up again' if waiting else ''}\n")
        out.flush()
        while not stop.wait(1.0):
            pass
    finally:
        node.stop()
    s = node.stats
    out.write(f"stopped: {s.received} received ({s.duplicates} again), {s.analysed} analysed, "
              f"{s.delivered} results delivered; {len(node.outbox.files())} waiting in "
              f"{node.outbox.folder}\n")
    return 0
