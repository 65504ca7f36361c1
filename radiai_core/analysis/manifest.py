"""Model folders as data: manifest.json, the sha256 of every file it lists, ModelInfo."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError


@dataclass(frozen=True)
class ModelInfo:
    """Which model made an analysis: name, version, kind and its identity.

    ``sha256`` is the identity of what ran (``identity(files)``): one hash over the sha256 of
    every file the runtime loaded (the ``.tflite``, ``head.npz``, the gate's ``.npz``) and of
    the ``manifest.json`` itself, so that a changed threshold, label or preprocessing entry is
    a new identity. ``files`` maps each of those file names to its own sha256, for an auditor
    who checks them one by one (``sha256sum``). Older history rows hold the sha256 of the
    training weights and no ``files``.
    """
    name: str
    version: str
    sha256: str
    kind: str
    files: Mapping[str, str] = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, Any]:
        """The model's identity for JSON and the history."""
        return {"name": self.name, "version": self.version, "sha256": self.sha256,
                "kind": self.kind, "files": dict(self.files)}


#: The first line of what ``identity`` hashes: a new scheme gets a new tag.
IDENTITY_SCHEME = "radiai-model-identity-1"


def identity(files: Mapping[str, str]) -> str:
    """The identity of a loaded model: the sha256 of one line per file (its name, a tab, its
    sha256), sorted by name, after the scheme's tag.

    Parameters
    ----------
    files
        Every file the runtime loaded, ``manifest.json`` included, with its sha256.

    Returns
    -------
    str
        64 hex digits; equal for two folders exactly when every loaded file is equal.
    """
    text = IDENTITY_SCHEME + "\n" + "".join(f"{name}\t{files[name]}\n" for name in sorted(files))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


class Ledger:
    """The files one model folder's runtime loads, each checked against the sha256 its
    manifest gives and hashed once; ``info`` turns them into the model's ``ModelInfo``.

    Every file must have a sha256 in the manifest: a file that cannot be checked is a
    ModelError, never loaded.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.hashes: dict[str, str] = {"manifest.json": sha256_file(folder / "manifest.json")}

    def check(self, name: str, expected_sha256: str | None) -> Path:
        """The path of ``name`` in the folder, after checking it is there and matches
        ``expected_sha256``.

        Raises
        ------
        ModelError
            The file is missing, the manifest gives no sha256 for it, or it does not match.
        """
        path = self.folder / name
        if not path.is_file():
            raise ModelError("is missing; reinstall RadiAI or restore the model folder.", path)
        if not expected_sha256:
            raise ModelError(f"manifest.json gives no sha256 for {name}; the file cannot be "
                             "checked. Export the model again with `radiai train finalize`.",
                             self.folder)
        actual = sha256_file(path)
        if actual != expected_sha256:
            raise ModelError("does not match the checksum in its manifest (damaged or replaced "
                             "file); reinstall RadiAI.", path)
        self.hashes[name] = actual
        return path

    def listed(self, manifest: dict[str, Any], key: str) -> Path:
        """The file that ``manifest[key]`` names, checked against its sha256 in the
        manifest's ``files`` table (every file a manifest lists must be there and unchanged).
        """
        name = manifest.get(key)
        if not isinstance(name, str):
            raise ModelError(f"manifest.json has no {key!r} file entry.", self.folder)
        return self.check(name, manifest.get("files", {}).get(name))

    def info(self, manifest: dict[str, Any], kind: str) -> ModelInfo:
        """The model's identity: name and version from its manifest, ``identity`` of every
        file checked so far (the manifest included)."""
        return ModelInfo(str(manifest["name"]), str(manifest["version"]),
                         identity(self.hashes), kind, dict(self.hashes))
