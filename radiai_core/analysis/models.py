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
from .calibration import RankLogistic, calibrated_probabilities
from .findings import Decision
from .gate import ChestGate
from .manifest import Ledger, ModelInfo, manifest_kind, read_manifest
from .preprocess import Compose, Preprocessing, PreprocessingError
from .regions import clean_lung_mask

log = logging.getLogger(__name__)


@contextmanager
def runtime_chatter_silenced() -> Iterator[None]:
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

    def __init__(self, path: Path) -> None:
        from ai_edge_litert.interpreter import Interpreter

        with runtime_chatter_silenced():
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


def _preprocessing(folder: Path, manifest: dict[str, Any]) -> Preprocessing:
    """The model's input chain as its manifest defines it; a ModelError naming the folder when
    it asks for something this RadiAI does not implement."""
    try:
        return Preprocessing.from_manifest(manifest)
    except PreprocessingError as exc:
        raise ModelError(f"manifest.json's preprocessing {exc}; this model cannot be run "
                         "as it was trained.", folder) from None


def _required_text(folder: Path, manifest: dict[str, Any], key: str, why: str) -> str:
    """A manifest entry that must be a non-empty string."""
    value = manifest.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ModelError(f"manifest.json has no {key!r} entry ({why}).", folder)
    return value


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
        self.multi_label = bool(m.get("multi_label", False))
        negative = m.get("negative_label")
        if not self.multi_label:
            # A softmax model calls "positive_call" when 1 − p(negative label) reaches its
            # threshold: both words must be the model's own, never a default.
            negative = _required_text(folder, m, "negative_label",
                                      "the label that means no finding, e.g. \"normal\"")
            self.positive_call: str = _required_text(
                folder, m, "positive_call", "what a positive call is named, e.g. "
                "\"pneumonia\"; give it to `radiai train finalize --positive-call`")
        else:
            self.positive_call = str(m.get("positive_call") or "")
        if negative is not None and negative not in self.labels:
            raise ModelError(f"manifest.json names {negative!r} as the negative "
                             "label but does not list it among its labels.", folder)
        self.negative_label: str | None = negative
        self.threshold: float = float(m.get("threshold", 0.5))
        given = m.get("thresholds", {})
        self.thresholds: dict[str, float] = {lab: float(given.get(lab, self.threshold))
                                             for lab in self.labels}
        band = m.get("indeterminate")
        self.indeterminate: tuple[float, float] | None = None
        if band is not None:
            try:
                low, high = float(band["low"]), float(band["high"])
            except (KeyError, TypeError, ValueError):
                raise ModelError("manifest.json's 'indeterminate' entry needs numbers 'low' "
                                 "and 'high'.", folder) from None
            if not low <= self.threshold <= high:
                raise ModelError(f"manifest.json's indeterminate band [{low}, {high}] does "
                                 f"not hold its threshold {self.threshold}.", folder)
            self.indeterminate = (low, high)
        cal = m.get("calibration")
        if cal is not None and (self.multi_label or negative is None):
            raise ModelError("manifest.json calibrates a model that makes no single "
                             "abnormality score (multi-label or no negative label).", folder)
        self.calibration: RankLogistic | None = (None if cal is None
                                                 else RankLogistic.from_manifest(cal, folder))
        self.key: str = str(m.get("ensemble") or folder.name)
        self.title: str = str(m.get("title") or m["name"])
        self.preprocessing = _preprocessing(folder, m)
        self.input_size = self.preprocessing.input_size
        self.front, self.back = self.preprocessing.front, self.preprocessing.back
        self.lung_input: str = self.preprocessing.lung_input
        rt = m["runtime"]
        if "head" not in rt or "litert" not in rt:
            raise ModelError("manifest.json's runtime entry names no LiteRT file or no head "
                             "file (head.npz); export the model with `radiai train finalize "
                             "classifier`.", folder)
        ledger = Ledger(folder)
        self._model = LiteModel(ledger.check(rt["litert"], rt.get("litert_sha256")))
        self.litert_sha256: str = ledger.hashes[rt["litert"]]
        head = np.load(ledger.check(rt["head"], rt.get("head_sha256")))
        self.head_weights = head["weights"].astype(np.float32)  # (features, classes)
        if self.head_weights.shape[1] != len(self.labels):
            raise ModelError(f"head has {self.head_weights.shape[1]} outputs but the manifest "
                             f"lists {len(self.labels)} labels.", folder)
        self.info = ledger.info(m, "classifier")

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

    def calibrate(self, probs: np.ndarray) -> np.ndarray:
        """The probabilities as shown and decided on: with the manifest's ``calibration``,
        the abnormality replaced by its calibrated probability (``calibration.RankLogistic``;
        the threshold and the indeterminate band are then on that scale); else unchanged."""
        if self.calibration is None or self.negative_label is None:
            return probs
        return calibrated_probabilities(probs, self.labels.index(self.negative_label),
                                        self.calibration)

    def decide(self, score: float) -> Decision:
        """The typed decision of a softmax model on its abnormality score: positive at or
        above the threshold, negative below, indeterminate inside the manifest's band (when it
        has one: the scores where the model is not reliable enough to call either way)."""
        if self.indeterminate is not None:
            low, high = self.indeterminate
            if low <= score < high:
                return Decision.INDETERMINATE
        return Decision.POSITIVE if score >= self.threshold else Decision.NEGATIVE


class LungSegmenter:
    """The U-Net lung mask (LiteRT): a lung probability map from a front-processed image."""
    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        m = read_manifest(folder, "lung_mask")
        self.folder = folder
        self.manifest = m
        self.threshold = float(m.get("threshold", 0.5))
        prep = _preprocessing(folder, m)
        self.input_size = prep.input_size
        self.front, self.back = prep.front, prep.back
        rt = m["runtime"]
        ledger = Ledger(folder)
        self._model = LiteModel(ledger.check(rt["litert"], rt.get("litert_sha256")))
        self.litert_sha256: str = ledger.hashes[rt["litert"]]
        self.info = ledger.info(m, "lung_mask")

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


PRIMARY = "classifier"  # the primary classifier's folder when the gate names none


def check_gate_binding(gate: ChestGate, primary: Classifier,
                       lung: LungSegmenter | None = None) -> None:
    """Refuse a gate beside a classifier (or lung mask) it was not fitted on: its features
    (and so its thresholds) mean nothing on another model's.

    The gate's manifest records the classifier it was fitted on (``fit.classifier_sha256``, the
    sha256 of its training weights as that classifier's manifest gives it, and, from gates
    fitted by this version on, ``fit.classifier_litert_sha256``, the sha256 of the LiteRT file
    whose features it reads). Every recorded value must match. Gates fitted from version
    2026-12-03 on also record the lung mask whose measurements (lung fraction, mask
    confidence, polarity) they bound (``fit.lung_mask_litert_sha256``): when recorded, it must
    match ``lung`` too.

    Raises
    ------
    ModelError
        The gate records no classifier, or another one, or another lung mask; the message
        names both and says how to refit the gate.
    """
    fit = gate.manifest.get("fit", {})
    refit = ("Refit the gate on this classifier: `radiai train gate --models "
             f"{primary.folder.parent} --data DATA --out {gate.folder}` "
             "(docs/train-your-own.md), or restore the classifier the gate was fitted on.")
    recorded = {"classifier_sha256": (fit.get("classifier_sha256"),
                                      primary.manifest.get("sha256")),
                "classifier_litert_sha256": (fit.get("classifier_litert_sha256"),
                                             primary.litert_sha256)}
    if all(want is None for want, _ in recorded.values()):
        raise ModelError("records no classifier it was fitted on, so it cannot be checked "
                         f"against {primary.folder.name}/. " + refit, gate.folder)
    for entry, (want, have) in recorded.items():
        if want is not None and want != have:
            raise ModelError(
                f"was fitted on another classifier (its fit.{entry} is {str(want)[:12]}…) "
                f"than the one in {primary.folder.name}/ ({primary.info.name} "
                f"{primary.info.version}, {str(have)[:12]}…); its scope decisions would be "
                "made on features it never saw. " + refit, gate.folder)
    want_lung = fit.get("lung_mask_litert_sha256")
    if lung is not None and want_lung is not None and want_lung != lung.litert_sha256:
        raise ModelError(
            f"was fitted with another lung mask (its fit.lung_mask_litert_sha256 is "
            f"{str(want_lung)[:12]}…) than the one in {lung.folder.name}/ ({lung.info.name} "
            f"{lung.info.version}, {lung.litert_sha256[:12]}…); its bounds on the lung "
            "measurements would be applied to another model's. " + refit, gate.folder)


def load_models(root: str | Path | None = None) -> ModelSet:
    """Load every model folder of ``root`` by the kind its manifest names.

    Any number of classifiers, one lung mask, one gate. The primary classifier is the one the
    gate names (``fit.classifier_folder``; ``classifier/`` for gates that name none): its
    features are what the gate decides on, and the gate must have been fitted on exactly it.
    The other classifiers follow in folder-name order. A new classifier folder dropped in is
    analysed and reported with no code change.

    Parameters
    ----------
    root
        A models folder; default the bundled models, or ``RADIAI_MODELS`` when set.

    Returns
    -------
    ModelSet
        The loaded models, every file checked against its manifest's sha256.

    Raises
    ------
    ModelError
        A folder, a manifest or a file it lists is missing, unreadable or does not match its
        sha256; a folder holds no model; a kind is missing or doubled; the primary classifier
        is missing; the gate was fitted on another classifier; a manifest asks for
        preprocessing this RadiAI does not implement. The message names the folder and says
        what to do.

    Examples
    --------
    >>> models = load_models()                                    # doctest: +SKIP
    >>> [(i.kind, i.sha256[:12]) for i in models.infos]           # doctest: +SKIP
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
    gate = ChestGate(found["gate"][0])
    primary = str(gate.manifest.get("fit", {}).get("classifier_folder") or PRIMARY)
    if primary not in {p.name for p in found["classifier"]}:
        raise ModelError(f"has no classifier folder {primary}/, the primary classifier the "
                         f"gate in {found['gate'][0].name}/ was fitted on; restore it "
                         "(reinstall RadiAI) or refit the gate on the classifier you have.",
                         root)
    folders = sorted(found["classifier"], key=lambda p: (p.name != primary, p.name))
    log.info("models in %s: %s (primary: %s)", root, ", ".join(p.name for p in folders),
             primary)
    classifiers = [Classifier(f) for f in folders]
    lung = LungSegmenter(found["lung_mask"][0])
    check_gate_binding(gate, classifiers[0], lung)
    models = ModelSet(classifiers, lung, gate)
    models.groups  # noqa: B018 - forming the groups checks each ensemble's members
    return models
