"""A real Orthanc (the Debian package) for the DICOM node's tests: started on free loopback
ports with its own configuration and storage folder, driven through its REST API."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ORTHANC = shutil.which("Orthanc") or shutil.which("Orthanc", path="/usr/sbin:/usr/local/sbin")


def free_port() -> int:
    """A TCP port free on the loopback interface now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Orthanc:
    """One Orthanc process: ``start``/``stop`` (the storage folder survives a restart),
    ``rest`` for its API, ``modality`` to declare a peer."""

    def __init__(self, folder: Path, aet: str = "ORTHANC") -> None:
        self.folder, self.aet = folder, aet
        self.dicom_port, self.http_port = free_port(), free_port()
        self.proc: subprocess.Popen | None = None
        self.modalities: dict[str, list[Any]] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self, timeout: float = 30.0) -> Orthanc:
        config = {
            "Name": "radiai-test", "DicomAet": self.aet, "DicomPort": self.dicom_port,
            "HttpPort": self.http_port, "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False, "StorageDirectory": str(self.folder / "storage"),
            "IndexDirectory": str(self.folder / "storage"), "Plugins": [],
            "DicomModalities": self.modalities, "DicomCheckCalledAet": False,
            "DicomAlwaysAllowStore": True, "DicomAlwaysAllowEcho": True,
            "DicomAlwaysAllowFind": True, "DicomAlwaysAllowMove": True,
            "DicomAlwaysAllowGet": True, "DicomModalitiesInDatabase": False,
            "SaveJobs": False, "StableAge": 1, "HttpTimeout": 60, "DicomScuTimeout": 30,
            "ConcurrentJobs": 4, "StorageCompression": False, "OverwriteInstances": True,
        }
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "orthanc.json"
        path.write_text(json.dumps(config))
        log = open(self.folder / "orthanc.log", "ab")  # noqa: SIM115 - the process keeps it
        self.proc = subprocess.Popen([ORTHANC, str(path)], stdout=log, stderr=log,
                                     cwd=self.folder)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited: {(self.folder / 'orthanc.log').read_text()}")
            try:
                self.rest("GET", "/system")
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("Orthanc did not start")

    def kill(self) -> None:
        """End it at once (a test's end: its folder goes away with it)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def stop(self) -> None:
        """Shut it down as a service would be (it finishes what it writes)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def rest(self, method: str, path: str, body: Any = None, raw: bool = False,
             timeout: float = 120.0) -> Any:
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            content = r.read()
        return content if raw else (json.loads(content) if content else None)

    def modality(self, name: str, aet: str, port: int, host: str = "127.0.0.1") -> None:
        """Declare a DICOM peer (kept for the next start, and set in the running Orthanc)."""
        self.modalities[name] = [aet, host, port]
        if self.proc is not None:
            self.rest("PUT", f"/modalities/{name}",
                      {"AET": aet, "Host": host, "Port": port})

    def upload(self, path: Path) -> dict[str, Any]:
        return self.rest("POST", "/instances", path.read_bytes())

    def send(self, modality: str, resources: list[str]) -> Any:
        """Ask Orthanc to C-STORE resources (ids of instances, series, studies) to a peer."""
        return self.rest("POST", f"/modalities/{modality}/store",
                         {"Resources": resources, "Synchronous": True})

    def instances_of_study(self, study_uid: str) -> list[dict[str, Any]]:
        found = self.rest("POST", "/tools/find", {"Level": "Study", "Query":
                                                 {"StudyInstanceUID": study_uid}})
        if not found:
            return []
        return self.rest("GET", f"/studies/{found[0]}/instances")

    def file(self, instance_id: str) -> bytes:
        return self.rest("GET", f"/instances/{instance_id}/file", raw=True)

    def count(self) -> int:
        return self.rest("GET", "/statistics")["CountInstances"]

    def __enter__(self) -> Orthanc:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def wait_for(condition, timeout: float, step: float = 0.2) -> bool:
    """Poll ``condition`` until it is true (True) or ``timeout`` seconds passed (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return bool(condition())


__all__ = ["ORTHANC", "Orthanc", "free_port", "wait_for", "urllib"]
