"""analyze(path | XrayImage) → Analysis: the one result every face of RadiAI shows."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from .gate import Age, GateFeatures, contrast, lung_confidence, lung_features
from .image import XrayImage
from .io import load_image
from .lung_input import LungView, lung_view
from .models import ModelInfo, ModelSet, load_models
from .regions import Box, boxes_from_heatmap, clean_lung_mask

log = logging.getLogger(__name__)

NOTICE = "Decision support, not a diagnosis."


@dataclass
class Analysis:
    """Everything known about one analysed radiograph.

    ``heatmap`` and ``mask`` are at the original image's resolution; boxes are in its pixels.
    ``status`` is ``"ok"`` or ``"rejected"``: then ``message`` says why, ``refused_by`` names
    the gate's question that failed ("chest", "frontal" or "child"), and there are no
    probabilities, call, heat map or boxes (the lung contour is kept for the viewer). ``age``
    is the patient's age as the gate read it (header or image estimate), when it got that far.
    """

    image: XrayImage
    status: str
    message: str
    labels: list[str]
    display_names: dict[str, str]
    probabilities: dict[str, float] = field(default_factory=dict)
    abnormal_score: float | None = None
    threshold: float | None = None
    call: str | None = None
    cam_label: str | None = None
    heatmap: np.ndarray | None = None
    mask: np.ndarray | None = None
    boxes: list[Box] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)
    models: list[ModelInfo] = field(default_factory=list)
    refused_by: str | None = None
    age: Age | None = None

    @property
    def path(self) -> str:
        """The analysed file's path."""
        return self.image.meta.path

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` most probable labels with their probabilities."""
        return sorted(self.probabilities.items(), key=lambda kv: kv[1], reverse=True)[:n]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no pixel arrays)."""
        m = self.image.meta
        return {
            "path": self.path, "status": self.status, "message": self.message,
            "probabilities": {k: round(v, 6) for k, v in self.probabilities.items()},
            "top": [{"label": k, "name": self.display_names.get(k, k), "p": round(v, 6)}
                    for k, v in self.top()],
            "abnormal_score": (None if self.abnormal_score is None
                               else round(self.abnormal_score, 6)),
            "threshold": self.threshold, "call": self.call, "cam_label": self.cam_label,
            "boxes": [b.to_dict() for b in self.boxes],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "model": self.models[0].to_dict() if self.models else None,
            "models": [i.to_dict() for i in self.models],
            "refused_by": self.refused_by,
            "age": self.age.to_dict() if self.age is not None else None,
            "patient_id": m.patient_id, "study_uid": m.study_uid, "sop_uid": m.sop_uid,
            "rows": m.rows, "columns": m.columns, "notice": NOTICE,
        }


@dataclass
class Measurement:
    """The intermediates of one pass up to the gate: what ``analyze`` explains from and what
    fitting a gate learns from. ``mask`` is on the lung model's grid; ``seconds`` per stage."""

    front: np.ndarray
    mask: np.ndarray
    view: LungView
    probs: np.ndarray
    feats: np.ndarray
    features: GateFeatures
    seconds: dict[str, float]


class Analyzer:
    """Runs the shipped pipeline; safe to call from one worker thread at a time per model."""

    def __init__(self, models: ModelSet) -> None:
        self.models = models

    @property
    def labels(self) -> list[str]:
        """The classifier's labels, in its output order."""
        return list(self.models.classifier.labels)

    def measure(self, image: XrayImage, inverse_gain: bool | None = None) -> Measurement:
        """The pipeline up to the gate's decision: front image, lung mask, classifier pass and
        gate features (``inverse_gain`` as in ``gate_features``)."""
        t: dict[str, float] = {}
        clf, seg = self.models.classifier, self.models.lung_mask
        t1 = time.perf_counter()
        front = clf.front(image.pixels)
        seg_front = seg.front_for(image.pixels, front, clf.front)
        t["preprocess"] = time.perf_counter() - t1

        t1 = time.perf_counter()
        lung_prob = seg.predict(seg_front)
        mask_small = clean_lung_mask(lung_prob, seg.threshold)
        t["lung_mask"] = time.perf_counter() - t1

        t1 = time.perf_counter()
        view = lung_view(front, mask_small, clf.lung_input)
        probs, feats = clf.predict(view.pixels)
        t["classifier"] = time.perf_counter() - t1

        t1 = time.perf_counter()
        features = self.gate_features(image, front, lung_prob, mask_small, feats, seg_front,
                                      inverse_gain=inverse_gain)
        t["gate"] = time.perf_counter() - t1  # its features; analyze adds the decision
        return Measurement(front=front, mask=mask_small, view=view, probs=probs, feats=feats,
                           features=features, seconds=t)

    def analyze(self, source: str | Path | XrayImage, cam_label: str | None = None) -> Analysis:
        """Load (unless given an image), measure, let the gate decide, then explain
        ``cam_label``: by default the most probable positive finding when the call is
        positive, and nothing (no heat map, no boxes) when it is negative. A refused image is
        an Analysis with status "rejected", not an error.

        Raises
        ------
        RadiAIError
            The file cannot be read (the kinds of ``load_image``).
        """
        t0 = time.perf_counter()
        image = source if isinstance(source, XrayImage) else load_image(source)
        t = {"load": time.perf_counter() - t0}
        clf = self.models.classifier

        m = self.measure(image)
        t.update(m.seconds)
        t1 = time.perf_counter()
        gate = self.models.gate
        decision = (gate.decide(m.features, m.feats.mean(axis=(0, 1)), image.meta)
                    if gate is not None else None)
        t["gate"] += time.perf_counter() - t1
        age = decision.age if decision is not None else None
        rows, cols = image.shape
        mask = cv2.resize(m.mask.astype(np.uint8), (cols, rows),
                          interpolation=cv2.INTER_NEAREST).astype(bool)
        if decision is not None and decision.question is not None:
            t["total"] = time.perf_counter() - t0
            log.info("%s refused by the gate (%s): %s", Path(image.meta.path).name,
                     decision.question, m.features)
            return Analysis(image=image, status="rejected", message=decision.reason or "",
                            labels=list(clf.labels), display_names=dict(clf.display_names),
                            mask=mask, timings_ms={k: v * 1000 for k, v in t.items()},
                            models=self.models.infos, refused_by=decision.question, age=age)
        front, mask_small, view, probs, feats = m.front, m.mask, m.view, m.probs, m.feats

        probabilities = {lab: float(p) for lab, p in zip(clf.labels, probs, strict=True)}
        if cam_label is not None and cam_label not in probabilities:
            raise ValueError(f"unknown label {cam_label!r}; the model has {clf.labels}")
        score = clf.abnormal_score(probs)
        call = None
        if score is not None:
            positive = clf.manifest.get("positive_call", "abnormal")
            call = positive if score >= clf.threshold else f"no {positive}"

        t1 = time.perf_counter()
        cam_label = cam_label or explained_label(probabilities, clf.negative_label,
                                                 score is None or score >= clf.threshold)
        heatmap, boxes = None, []
        if cam_label is not None:
            cam = clf.cam(feats, clf.labels.index(cam_label))
            if (view.x0, view.y0, view.x1, view.y1) != (0, 0, front.shape[1], front.shape[0]):
                cam = _place(cam, view, front.shape)  # the classifier saw a crop
            grid = mask_small.shape
            cam_grid = cv2.resize(cam, (grid[1], grid[0]), interpolation=cv2.INTER_CUBIC)
            cam_grid = np.clip(cam_grid, 0.0, 1.0)
            boxes = boxes_from_heatmap(cam_grid, mask_small, image.shape)
            heatmap = np.clip(cv2.resize(cam, (cols, rows), interpolation=cv2.INTER_CUBIC),
                              0.0, 1.0).astype(np.float32)
        t["explain"] = time.perf_counter() - t1
        t["total"] = time.perf_counter() - t0
        return Analysis(
            image=image, status="ok", message="", labels=list(clf.labels),
            display_names=dict(clf.display_names), probabilities=probabilities,
            abnormal_score=score, threshold=clf.threshold, call=call, cam_label=cam_label,
            heatmap=heatmap, mask=mask, boxes=boxes,
            timings_ms={k: v * 1000 for k, v in t.items()}, models=self.models.infos,
            age=age)

    def warm_up(self) -> None:
        """Run each model once on a blank input: LiteRT prepares its kernels on the first
        invocation, which should not happen in the middle of the first real analysis."""
        clf, seg = self.models.classifier, self.models.lung_mask
        blank = np.zeros((clf.input_size * 2, clf.input_size * 2), np.float32)
        seg.predict(seg.front(blank))
        clf.predict(clf.front(blank))

    def gate_features(self, image: XrayImage, front: np.ndarray, lung_prob: np.ndarray,
                      mask: np.ndarray, feats: np.ndarray,
                      seg_front: np.ndarray | None = None,
                      inverse_gain: bool | None = None) -> GateFeatures:
        """The gate's measurements. The inverse gain (one more lung-model pass, on the negated
        image) is measured only when the gate has a bound on it, or when ``inverse_gain`` says
        so (fitting a gate measures everything)."""
        fraction, balance, confidence, polarity = lung_features(lung_prob, mask, front)
        gate = self.models.gate
        if inverse_gain is None:
            inverse_gain = gate is not None and gate.uses("inverse_gain")
        gain = None
        if inverse_gain:
            seg = self.models.lung_mask
            negated = 1.0 - (front if seg_front is None else seg_front)
            gain = lung_confidence(seg.predict(negated)) - lung_confidence(lung_prob)
        pooled = feats.mean(axis=(0, 1))
        atyp = float(gate.atypicality(pooled)[0]) if gate is not None else 0.0
        inversion = (float(gate.inversion(pooled)[0])
                     if gate is not None and gate.inversion is not None else 0.0)
        return GateFeatures(contrast=contrast(image.pixels), min_side=float(min(image.shape)),
                            colourfulness=float(image.meta.colourfulness or 0.0),
                            lung_fraction=fraction, lung_balance=balance,
                            mask_confidence=confidence, polarity=polarity, atypicality=atyp,
                            inversion=inversion, inverse_gain=gain)


def explained_label(probabilities: dict[str, float], negative_label: str | None,
                    positive_call: bool) -> str | None:
    """The finding a heat map shows unless the reader asks for another: the most probable
    label other than the negative one ("normal") when the call is positive; none when it is
    negative (a map of "normal" drawn as suspected regions misleads). Without a negative
    label (no call), the most probable label."""
    if negative_label is None:
        return max(probabilities, key=probabilities.get)
    if not positive_call:
        return None
    findings = {k: v for k, v in probabilities.items() if k != negative_label}
    return max(findings, key=findings.get) if findings else None


def _place(cam: np.ndarray, view: LungView, shape: tuple[int, int]) -> np.ndarray:
    """A heat map over a crop, put back at its place on the front image's grid (0 elsewhere)."""
    out = np.zeros(shape, np.float32)
    w, h = view.x1 - view.x0, view.y1 - view.y0
    out[view.y0:view.y1, view.x0:view.x1] = np.clip(
        cv2.resize(cam, (w, h), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
    return out


_default: Analyzer | None = None
_default_lock = threading.Lock()


def default_analyzer() -> Analyzer:
    """The analyzer over the bundled models, loaded once per process."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Analyzer(load_models())
        return _default


def analyze(source: str | Path | XrayImage, cam_label: str | None = None) -> Analysis:
    """Analyse one radiograph with the bundled models.

    Raises
    ------
    RadiAIError
        ModelError when the models cannot be loaded; the file's problem otherwise.
    """
    return default_analyzer().analyze(source, cam_label)
