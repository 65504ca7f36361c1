"""Models as data: every folder of a models folder is one model its manifest.json describes
(classifiers, the lung mask, the scope gate), loaded into one ModelSet."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ModelError
from ..resources import models_dir
from .gate import ChestGate
from .lung_input import MODES
from .manifest import ModelInfo, check_file, manifest_kind, read_manifest
from .preprocess import Clahe, Compose, Normalize, Resize
from .regions import clean_lung_mask

log = logging.getLogger(__name__)


@contextmanager
def _runtime_chatter_silenced() -> Iterator[None]:
    """LiteRT's C++ runtime writes "INFO: Created TensorFlow Lite XNNPACK delegate for CPU."
    straight to file descriptor 2 when an interpreter is built (its TF_CPP_MIN_LOG_LEVEL is
    not honoured once OpenCV is loaded): the user's terminal gets RadiAI's own lines only.
    A failure still raises in Python, where RadiAI reports it."""
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all (a windowed app): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class LiteModel:
    """A LiteRT interpreter with a lock: one invocation at a time per loaded model."""

    def __init__(self, path: Path, expected_sha256: str | None) -> None:
        check_file(path, expected_sha256)
        from ai_edge_litert.interpreter import Interpreter

        with _runtime_chatter_silenced():
            self._interp = Interpreter(model_path=str(path), num_threads=os.cpu_count() or 2)
            self._interp.allocate_tensors()
        self._input = self._interp.get_input_details()[0]
        self._outputs = self._interp.get_output_details()
        self._lock = threading.Lock()

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            self._interp.set_tensor(self._input["index"], x.astype(np.float32, copy=False))
            self._interp.invoke()
            return [self._interp.get_tensor(o["index"]).copy() for o in self._outputs]


def _chain(prep: dict[str, Any], size: int) -> tuple[Compose, Compose]:
    """(shared front: squash to the canonical size + CLAHE, model-specific back: resize +
    standardise) from a manifest's preprocessing entry."""
    canonical = int(prep.get("canonical_size", 224))
    front = Compose([Resize(canonical, canonical),
                     Clahe(float(prep.get("clahe_clip_limit", 2.0)),
                           tuple(prep.get("clahe_tile_grid", (8, 8))))])
    return front, Compose([Resize(size, size), Normalize()])


class Classifier:
    """A classifier with a GAP + dense head: probabilities and class activation maps from one
    forward pass. Softmax (one label per image) or multi-label (one sigmoid per label), as its
    manifest says; ``key`` names it in a model set (its ``ensemble`` entry, else its folder)."""

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        m = read_manifest(folder, "classifier")
        self.folder = folder
        self.manifest = m
        self.labels: list[str] = list(m["labels"])
        if len(self.labels) < 2:
            raise ModelError("manifest.json lists fewer than two labels.", folder)
        self.display_names: dict[str, str] = {lab: m.get("display_names", {}).get(lab, lab)
                                              for lab in self.labels}
        self.negative_label: str | None = m.get("negative_label")
        if self.negative_label is not None and self.negative_label not in self.labels:
            raise ModelError(f"manifest.json names {self.negative_label!r} as the negative "
                             "label but does not list it among its labels.", folder)
        self.multi_label = bool(m.get("multi_label", False))
        self.threshold: float = float(m.get("threshold", 0.5))
        given = m.get("thresholds", {})
        self.thresholds: dict[str, float] = {lab: float(given.get(lab, self.threshold))
                                             for lab in self.labels}
        self.positive_call: str = m.get("positive_call", "abnormal")
        self.key: str = str(m.get("ensemble") or folder.name)
        self.title: str = str(m.get("title") or m["name"])
        self.input_size = int(m["input"]["size"])
        self.front, self.back = _chain(m.get("preprocessing", {}), self.input_size)
        self.lung_input: str = m.get("preprocessing", {}).get("lung_input", "plain")
        if self.lung_input not in MODES:
            raise ModelError(f"manifest.json asks for lung input {self.lung_input!r}; this "
                             f"RadiAI knows {', '.join(MODES)}.", folder)
        rt = m["runtime"]
        if "head" not in rt:
            raise ModelError("manifest.json's runtime entry names no head file (head.npz); "
                             "export the model with `radiai train finalize classifier`.", folder)
        self._model = LiteModel(folder / rt["litert"], rt.get("litert_sha256"))
        head = np.load(check_file(folder / rt["head"], rt.get("head_sha256")))
        self.head_weights = head["weights"].astype(np.float32)  # (features, classes)
        if self.head_weights.shape[1] != len(self.labels):
            raise ModelError(f"head has {self.head_weights.shape[1]} outputs but the manifest "
                             f"lists {len(self.labels)} labels.", folder)
        self.info = ModelInfo(m["name"], m["version"], m.get("sha256", ""), "classifier")

    def predict(self, front: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Probabilities (classes,) and last feature map (h, w, k) for a front-processed image."""
        x = self.back(front)[None, :, :, None]
        outs = self._model(x)
        probs = next(o for o in outs if o.ndim == 2)[0]
        feats = next(o for o in outs if o.ndim == 4)[0]
        return probs.astype(np.float64), feats

    def cam(self, features: np.ndarray, class_index: int) -> np.ndarray:
        """Grad-CAM of one class at feature-map resolution, in [0, 1].

        With global average pooling and a dense head, the Grad-CAM weight of feature channel k
        for class c is the dense weight w[k, c] (up to a constant), so the map is
        ReLU(Σ_k w[k, c] A_k), normalised by its maximum. An all-zero map stays all zero.
        """
        raw = np.tensordot(features, self.head_weights[:, class_index], axes=([2], [0]))
        raw = np.maximum(raw, 0.0)
        top = float(raw.max())
        return (raw / top).astype(np.float32) if top > 1e-12 else np.zeros_like(raw, np.float32)

    def abnormal_score(self, probs: np.ndarray) -> float | None:
        """1 − p(negative label), e.g. pneumonia vs normal; None without a negative label and
        for a multi-label model (its labels are called one by one)."""
        if self.negative_label is None or self.multi_label:
            return None
        return float(1.0 - probs[self.labels.index(self.negative_label)])


class LungSegmenter:
    """The U-Net lung mask (LiteRT): a lung probability map from a front-processed image."""
    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        m = read_manifest(folder, "lung_mask")
        self.folder = folder
        self.manifest = m
        self.input_size = int(m["input"]["size"])
        self.threshold = float(m.get("threshold", 0.5))
        self.front, self.back = _chain(m.get("preprocessing", {}), self.input_size)
        rt = m["runtime"]
        self._model = LiteModel(folder / rt["litert"], rt.get("litert_sha256"))
        self.info = ModelInfo(m["name"], m["version"], m.get("sha256", ""), "lung_mask")

    def predict(self, front: np.ndarray) -> np.ndarray:
        """Lung probability map (size, size) for a front-processed image."""
        out = self._model(self.back(front)[None, :, :, None])[0]
        return out[0, :, :, 0]

    def front_for(self, raw: np.ndarray, front: np.ndarray, front_chain: Compose) -> np.ndarray:
        """This model's front image of ``raw``, reusing ``front`` (made by another model's
        ``front_chain``) when the two chains are the same."""
        return front if self.front.steps == front_chain.steps else self.front(raw)

    def mask(self, raw: np.ndarray, front: np.ndarray, front_chain: Compose) -> np.ndarray:
        """Cleaned binary lung mask (on this model's grid) of ``raw``."""
        return clean_lung_mask(self.predict(self.front_for(raw, front, front_chain)),
                               self.threshold)


@dataclass
class ClassifierGroup:
    """Classifiers that answer together: one model, or the members of an ensemble (the same
    ``ensemble`` key and labels; their probabilities and heat maps are averaged)."""
    members: list[Classifier]

    def __post_init__(self) -> None:
        first = self.members[0]
        for other in self.members[1:]:
            if (other.labels, other.multi_label, other.negative_label) != (
                    first.labels, first.multi_label, first.negative_label):
                raise ModelError(f"is in ensemble {first.key!r} with {first.folder.name} but "
                                 "has other labels or another output kind; an ensemble's "
                                 "members share their labels.", other.folder)

    @property
    def lead(self) -> Classifier:
        """The member whose manifest gives the group's labels, names and thresholds."""
        return self.members[0]

    @property
    def key(self) -> str:
        """The group's name in a model set (stable: tables and verdicts are keyed by it)."""
        return self.lead.key


@dataclass
class ModelSet:
    """The models one analysis uses: classifiers (the first is the primary one, whose features
    the scope gate was fitted on), the lung mask and the gate."""
    classifiers: list[Classifier]
    lung_mask: LungSegmenter
    gate: ChestGate | None = None

    def __post_init__(self) -> None:
        if not self.classifiers:
            raise ValueError("a model set needs at least one classifier")

    @property
    def classifier(self) -> Classifier:
        """The primary classifier: the gate's features and the lung view come from it."""
        return self.classifiers[0]

    @cached_property
    def groups(self) -> list[ClassifierGroup]:
        """The classifiers as the findings an analysis reports: one group per key (a model,
        or an ensemble), the primary's first, then in folder order (formed once, checked when
        formed)."""
        by_key: dict[str, list[Classifier]] = {}
        for clf in self.classifiers:
            by_key.setdefault(clf.key, []).append(clf)
        return [ClassifierGroup(members) for members in by_key.values()]

    @property
    def infos(self) -> list[ModelInfo]:
        """Every model an analysis used: classifiers first (the primary one leading), then the
        lung mask and the gate."""
        gate = [self.gate.info] if self.gate is not None else []
        return [*(c.info for c in self.classifiers), self.lung_mask.info, *gate]


PRIMARY = "classifier"  # the folder of the primary classifier in a models folder


def load_models(root: str | Path | None = None) -> ModelSet:
    """Load every model folder of ``root`` (default: the bundled models, or ``RADIAI_MODELS``)
    by the kind its manifest names: any number of classifiers (``classifier/`` is the primary
    one; the others follow in folder-name order), one lung mask, one gate. A new classifier
    folder dropped in is analysed and reported with no code change.

    Raises
    ------
    ModelError
        A folder, a manifest or a file it lists is missing, unreadable or does not match its
        sha256, a folder holds no model, or a kind is missing or doubled; the message names
        it and says what to do.
    """
    root = Path(root) if root is not None else models_dir()
    if not root.is_dir():
        raise ModelError("is not a folder of RadiAI models; reinstall RadiAI or set "
                         "RADIAI_MODELS to a models folder.", root)
    found: dict[str, list[Path]] = {"classifier": [], "lung_mask": [], "gate": []}
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        kind = manifest_kind(folder)
        if kind not in found:
            raise ModelError(f"holds a {kind!r} model; a RadiAI models folder holds "
                             f"{', '.join(found)} models.", folder)
        found[kind].append(folder)
    for kind in ("classifier", "lung_mask", "gate"):
        if not found[kind]:
            raise ModelError(f"has no {kind} model folder; reinstall RadiAI or restore it.",
                             root)
    for kind in ("lung_mask", "gate"):
        if len(found[kind]) > 1:
            raise ModelError(f"has {len(found[kind])} {kind} model folders "
                             f"({', '.join(p.name for p in found[kind])}); keep one.", root)
    folders = sorted(found["classifier"], key=lambda p: (p.name != PRIMARY, p.name))
    log.info("models in %s: %s", root, ", ".join(p.name for p in folders))
    models = ModelSet([Classifier(f) for f in folders], LungSegmenter(found["lung_mask"][0]),
                      ChestGate(found["gate"][0]))
    models.groups  # noqa: B018 - forming the groups checks each ensemble's members
    return models
