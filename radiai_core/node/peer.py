"""Who the node talks to: a peer's address (``AET@HOST:PORT``) and TLS contexts."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from ..errors import NodeError

__all__ = ["Peer", "TlsFiles", "check_aet"]


def check_aet(aet: str) -> str:
    """An AE title as DICOM allows it (PS3.5 §6.2: 1 to 16 characters, no backslash or
    control character, not only spaces), stripped.

    Raises
    ------
    NodeError
        It is not a valid AE title.
    """
    title = aet.strip()
    if not 1 <= len(title) <= 16 or "\\" in title or any(ord(c) < 32 or ord(c) > 126
                                                           for c in title):
        raise NodeError(f"{aet!r} is not a valid AE title (1 to 16 printable ASCII "
                        "characters, no backslash).")
    return title


@dataclass(frozen=True)
class Peer:
    """A remote DICOM node (a PACS): its AE title, host and port."""

    aet: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str) -> Peer:
        """``AET@HOST:PORT`` (e.g. ``ORTHANC@10.0.0.5:4242``; an IPv6 host in brackets).

        Raises
        ------
        NodeError
            The text is not of that form.
        """
        aet, at, rest = text.rpartition("@")
        host, colon, port = rest.rpartition(":")
        host = host.strip("[]")
        if not at or not colon or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise NodeError(f"{text!r} is not a DICOM address; write AET@HOST:PORT, e.g. "
                            "PACS@10.0.0.5:104.")
        return cls(check_aet(aet), host, int(port))

    def __str__(self) -> str:
        return f"{self.aet}@{self.host}:{self.port}"


@dataclass(frozen=True)
class TlsFiles:
    """DICOM over TLS (PS3.15 Annex B): this node's certificate and key (PEM) and the
    certificate authority its peers' certificates must be signed by (``ca``; with it, a peer
    without such a certificate is refused)."""

    cert: Path
    key: Path
    ca: Path | None = None

    def server_context(self) -> ssl.SSLContext:
        """The listener's TLS context.

        Raises
        ------
        NodeError
            A file is missing or not a usable certificate/key.
        """
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._load(ctx)
        if self.ca is not None:
            ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """The context for associations this node opens (results, queries): the peer's
        certificate is checked against ``ca`` (the system's authorities without it)."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        ctx.check_hostname = False  # PACS certificates name AE titles, rarely host names
        self._load(ctx)
        return ctx

    def _load(self, ctx: ssl.SSLContext) -> None:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            ctx.load_cert_chain(self.cert, self.key)
            if self.ca is not None:
                ctx.load_verify_locations(cafile=self.ca)
        except (OSError, ssl.SSLError) as exc:
            raise NodeError(f"TLS files cannot be used ({exc}).", self.cert) from None
