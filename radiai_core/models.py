"""Shipped models as data: manifest.json + LiteRT weights → Classifier and LungSegmenter."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ModelError
from .gate import ChestGate
from .lung_input import MODES
from .manifest import ModelInfo, check_file, read_manifest
from .preprocess import Clahe, Compose, Normalize, Resize
from .regions import clean_lung_mask
from .resources import models_dir

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
    """Softmax classifier with a GAP + dense head: probabilities and class activation maps
    from one forward pass."""

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
        self.threshold: float = float(m.get("threshold", 0.5))
        self.input_size = int(m["input"]["size"])
        self.front, self.back = _chain(m.get("preprocessing", {}), self.input_size)
        self.lung_input: str = m.get("preprocessing", {}).get("lung_input", "plain")
        if self.lung_input not in MODES:
            raise ModelError(f"manifest.json asks for lung input {self.lung_input!r}; this "
                             f"RadiAI knows {', '.join(MODES)}.", folder)
        rt = m["runtime"]
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
        """1 − p(negative label), e.g. pneumonia vs normal; None without a negative label."""
        if self.negative_label is None:
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
class ModelSet:
    """The models one analysis uses: the classifier, the lung mask and the scope gate."""
    classifier: Classifier
    lung_mask: LungSegmenter
    gate: ChestGate | None = None

    @property
    def infos(self) -> list[ModelInfo]:
        """Every model an analysis used: classifier first, then the lung mask and the gate."""
        gate = [self.gate.info] if self.gate is not None else []
        return [self.classifier.info, self.lung_mask.info, *gate]


def load_models(root: str | Path | None = None) -> ModelSet:
    """Load ``classifier/``, ``lung_mask/`` and ``gate/`` from the models folder (default:
    the bundled one, or ``RADIAI_MODELS``).

    Raises
    ------
    ModelError
        A folder, a manifest or a file it lists is missing, unreadable or does not match its
        sha256; the message names it and says what to do.
    """
    root = Path(root) if root is not None else models_dir()
    if not root.is_dir():
        raise ModelError("is not a folder of RadiAI models; reinstall RadiAI or set "
                         "RADIAI_MODELS to a models folder.", root)
    return ModelSet(Classifier(root / "classifier"), LungSegmenter(root / "lung_mask"),
                    ChestGate(root / "gate"))
