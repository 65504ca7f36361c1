"""Model folders as data: manifest.json, the sha256 of every file it lists, ModelInfo."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ModelError


@dataclass(frozen=True)
class ModelInfo:
    """Which model made an analysis: name, version, sha256 of its weights, kind."""
    name: str
    version: str
    sha256: str
    kind: str

    def to_dict(self) -> dict[str, str]:
        """The model's identity for JSON and the history."""
        return {"name": self.name, "version": self.version, "sha256": self.sha256,
                "kind": self.kind}


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _load(folder: Path, what: str) -> dict[str, Any]:
    """A folder's manifest.json as a JSON object, or a ModelError naming the folder."""
    path = folder / "manifest.json"
    if not path.is_file():
        raise ModelError(f"has no manifest.json; is this a RadiAI {what} folder?", folder)
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"manifest.json cannot be read ({exc}).", folder) from None
    if not isinstance(manifest, dict):
        raise ModelError("manifest.json is not a JSON object.", folder)
    return manifest


def manifest_kind(folder: Path) -> str:
    """The kind of model a folder holds ("classifier", "lung_mask", "gate"…), from its
    manifest; a ModelError naming the folder when it has no readable manifest or no kind."""
    kind = _load(folder, "model").get("kind")
    if not isinstance(kind, str):
        raise ModelError("manifest.json has no 'kind' entry.", folder)
    return kind


def read_manifest(folder: Path, kind: str,
                  required: tuple[str, ...] = ("name", "version", "input", "runtime")
                  ) -> dict[str, Any]:
    """A model folder's manifest.json, checked for its kind and ``required`` entries; a
    ModelError naming the folder for anything missing or unreadable."""
    manifest = _load(folder, kind)
    if manifest.get("kind") != kind:
        raise ModelError(f"holds a {manifest.get('kind')!r} model, not a {kind!r} model.", folder)
    for key in required:
        if key not in manifest:
            raise ModelError(f"manifest.json has no {key!r} entry.", folder)
    return manifest


def check_file(path: Path, expected_sha256: str | None) -> Path:
    """``path``, after checking that it is there and, when the manifest gives one, that its
    sha256 matches (a damaged or replaced file is a ModelError, never loaded silently)."""
    if not path.is_file():
        raise ModelError("is missing; reinstall RadiAI or restore the model folder.", path)
    if expected_sha256 and sha256_file(path) != expected_sha256:
        raise ModelError("does not match the checksum in its manifest (damaged or replaced "
                         "file); reinstall RadiAI.", path)
    return path


def verified(folder: Path, manifest: dict[str, Any], key: str) -> Path:
    """The file that ``manifest[key]`` names, checked against its sha256 in the manifest's
    ``files`` table (every file a manifest lists must be there and unchanged)."""
    name = manifest.get(key)
    if not isinstance(name, str):
        raise ModelError(f"manifest.json has no {key!r} file entry.", folder)
    expected = manifest.get("files", {}).get(name)
    if expected is None:
        raise ModelError(f"manifest.json gives no sha256 for {name}; the file cannot be "
                         "checked.", folder)
    return check_file(folder / name, expected)
