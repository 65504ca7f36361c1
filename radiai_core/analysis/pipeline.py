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

from ..reading.image import XrayImage
from ..reading.io import load_image
from .explain import BatchRunner, Explainer, finding_targets, log_odds, shipped
from .findings import Decision, Findings, call_text, explained_label, split_cam_label
from .gate import Age, GateFeatures, RefusedAs, contrast, lung_confidence, lung_features
from .lung_input import LungView, lung_view
from .models import Classifier, ClassifierGroup, ModelInfo, ModelSet, load_models
from .regions import Box, boxes_from_heatmap, clean_lung_mask, is_diffuse
from .zones import evidence_zones

log = logging.getLogger(__name__)

NOTICE = "Decision support, not a diagnosis."


@dataclass
class Analysis:
    """Everything known about one analysed radiograph.

    ``findings`` holds one entry per model of the set (the primary classifier first; an
    ensemble counts as one): every face shows them all, the same way. ``mask`` is at the
    original image's resolution; heat maps too, and boxes are in its pixels. ``status`` is
    ``"ok"`` or ``"rejected"``: then ``message`` says why, ``refused_by`` names the gate's
    question that failed ("chest", "frontal" or "child"), ``refused_as`` what the image is
    (an adult's, a CT slice, a lateral view…; ``refused_text`` words it: "refused: CT slice"),
    and there are no findings (the lung contour is kept for the viewer). ``age`` is the
    patient's age as the gate read it (header or image estimate), when it got that far.

    ``labels``, ``probabilities``, ``call``… are the primary model's (empty when refused), and
    ``heatmap``, ``boxes``, ``cam_label`` those of the explained finding (the first model's
    findings that have a heat map).
    """

    image: XrayImage
    status: str
    message: str
    findings: list[Findings] = field(default_factory=list)
    mask: np.ndarray | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    models: list[ModelInfo] = field(default_factory=list)
    refused_by: str | None = None
    age: Age | None = None
    refused_as: RefusedAs | None = None

    @property
    def path(self) -> str:
        """The analysed file's path."""
        return self.image.meta.path

    @property
    def refused_text(self) -> str:
        """"refused: <what the image is>" ("refused: adult", "refused: CT slice"); "" when
        the image was analysed."""
        if self.status == "ok":
            return ""
        return self.refused_as.text if self.refused_as is not None else "refused"

    @property
    def primary(self) -> Findings | None:
        """The primary classifier's findings (None when the image was refused)."""
        return self.findings[0] if self.findings else None

    @property
    def explained(self) -> Findings | None:
        """The findings whose heat map and boxes are shown (None when none has one)."""
        return next((f for f in self.findings if f.heatmap is not None or f.cam_label), None)

    @property
    def labels(self) -> list[str]:
        """The primary model's labels, in its output order."""
        return list(self.primary.labels) if self.primary else []

    @property
    def display_names(self) -> dict[str, str]:
        """The primary model's display names."""
        return dict(self.primary.display_names) if self.primary else {}

    @property
    def probabilities(self) -> dict[str, float]:
        """The primary model's probabilities."""
        return dict(self.primary.probabilities) if self.primary else {}

    @property
    def abnormal_score(self) -> float | None:
        """The primary model's abnormality score (1 − p(negative label))."""
        return self.primary.abnormal_score if self.primary else None

    @property
    def threshold(self) -> float | None:
        """The primary model's call threshold."""
        return self.primary.threshold if self.primary else None

    @property
    def call(self) -> str | None:
        """The primary model's call as English display text ("pneumonia" / "no pneumonia" /
        "indeterminate"), when it makes one; branch on ``decision``, never on this text."""
        return self.primary.call if self.primary else None

    @property
    def decision(self) -> Decision | None:
        """The primary model's typed decision (None when refused or when it makes none)."""
        return self.primary.decision if self.primary else None

    @property
    def cam_label(self) -> str | None:
        """The label whose heat map is shown."""
        return self.explained.cam_label if self.explained else None

    @property
    def heatmap(self) -> np.ndarray | None:
        """The heat map shown, at the image's resolution, in [0, 1]."""
        return self.explained.heatmap if self.explained else None

    @property
    def boxes(self) -> list[Box]:
        """The suspected regions shown, in image pixels."""
        return list(self.explained.boxes) if self.explained else []

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        """The primary model's ``n`` most probable labels with their probabilities."""
        return self.primary.top(n) if self.primary else []

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no pixel arrays): every model's findings, and the primary
        model's at the top level."""
        m = self.image.meta
        names = self.display_names
        return {
            "path": self.path, "status": self.status, "message": self.message,
            "probabilities": {k: round(v, 6) for k, v in self.probabilities.items()},
            "top": [{"label": k, "name": names.get(k, k), "p": round(v, 6)}
                    for k, v in self.top()],
            "abnormal_score": (None if self.abnormal_score is None
                               else round(self.abnormal_score, 6)),
            "threshold": self.threshold, "call": self.call,
            "decision": None if self.decision is None else self.decision.value,
            "cam_label": self.cam_label,
            "boxes": [b.to_dict() for b in self.boxes],
            "findings": [f.to_dict() for f in self.findings],
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "model": self.models[0].to_dict() if self.models else None,
            "models": [i.to_dict() for i in self.models],
            "refused_by": self.refused_by,
            "refused_as": None if self.refused_as is None else self.refused_as.value,
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
        self._explainers: dict[int, Explainer] = {}
        self._explainers_lock = threading.Lock()

    @property
    def outputs(self) -> list[tuple[str, list[str]]]:
        """(key, labels) of every model's findings, in the order an analysis lists them."""
        return [(g.key, list(g.lead.labels)) for g in self.models.groups]

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

    def analyze(self, source: str | Path | XrayImage, cam_label: str | None = None,
                explain: bool = True) -> Analysis:
        """Analyse one radiograph with every model of the set.

        Load (unless given an image), measure, let the gate decide, then ask every model of
        the set for its findings and typed decision. Each model explains its most probable
        positive finding (none when its decision is negative or indeterminate: no heat map, no
        boxes), unless ``cam_label`` asks for one label: then only that one is explained.

        Parameters
        ----------
        source
            A file path (DICOM, PNG, JPEG, TIFF, BMP) or an already loaded ``XrayImage``.
        cam_label
            The finding to explain: ``"label"`` of the primary model, ``"key/label"`` of
            another model of the set; None for each model's default.
        explain
            False: no model explains anything (no heat map, zones or boxes), for callers that
            measure probabilities and decisions only (an evaluation): the explanation is most
            of a positive image's time (about 0.8 s of 0.9 s on a 2-core CPU).

        Returns
        -------
        Analysis
            Status "ok" with one ``Findings`` per model (``decision`` typed), or status
            "rejected" with the gate's reason and no findings (a refusal is not an error).
            Every model's identity (``ModelInfo``) is in ``models``.

        Raises
        ------
        RadiAIError
            The file cannot be read (the kinds of ``load_image``).
        ValueError
            ``cam_label`` names a label the model does not have (the faces check it first),
            or is given with ``explain=False``.

        Examples
        --------
        >>> a = default_analyzer().analyze("tests/data/kermany/images/x.jpeg")  # doctest: +SKIP
        >>> a.decision, a.primary.abnormal_score                               # doctest: +SKIP
        """
        if cam_label is not None and not explain:
            raise ValueError(f"cam_label {cam_label!r} asks for a map that explain=False "
                             "does not draw")
        t0 = time.perf_counter()
        image = source if isinstance(source, XrayImage) else load_image(source)
        t = {"load": time.perf_counter() - t0}

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
                            mask=mask, timings_ms={k: v * 1000 for k, v in t.items()},
                            models=self.models.infos, refused_by=decision.question, age=age,
                            refused_as=decision.refused_as)
        groups = self.models.groups
        want_key, want_label = split_cam_label(cam_label, [g.key for g in groups])
        findings: list[Findings] = []
        t["explain"] = 0.0
        for group in groups:
            # One heat map per analysis: the one asked for, else the first model's that has
            # a positive finding to show.
            here = explain and (want_key == group.key if want_key is not None
                                else not any(f.cam_label for f in findings))
            findings.append(self._findings(group, image, m, t, want_label if here else None,
                                           here))
        t["total"] = time.perf_counter() - t0
        return Analysis(image=image, status="ok", message="", findings=findings, mask=mask,
                        timings_ms={k: v * 1000 for k, v in t.items()},
                        models=self.models.infos, age=age)

    def _findings(self, group: ClassifierGroup, image: XrayImage, m: Measurement,
                  t: dict[str, float], want_label: str | None, explain: bool) -> Findings:
        """One group's findings: its members' probabilities (averaged) and its call; with
        ``explain``, the heat map and regions of ``want_label`` or, when none is asked for,
        of its default finding (the most probable positive one)."""
        lead = group.lead
        passes = [self._member_pass(clf, image, m, t) for clf in group.members]
        raw = np.mean([p for _, _, p, _ in passes], axis=0)
        probs = lead.calibrate(raw)
        probabilities = {lab: float(p) for lab, p in zip(lead.labels, probs, strict=True)}
        if want_label is not None and want_label not in probabilities:
            raise ValueError(f"unknown label {want_label!r}; {group.key} has {lead.labels}")
        f = Findings(key=group.key, title=lead.title, labels=list(lead.labels),
                     display_names=dict(lead.display_names), probabilities=probabilities,
                     multi_label=lead.multi_label, negative_label=lead.negative_label)
        f.positive_call = lead.positive_call or None
        if lead.multi_label:
            f.thresholds = dict(lead.thresholds)
            f.positives = [lab for lab, p in f.ranked()
                           if lab != lead.negative_label and p >= lead.thresholds[lab]]
            f.decision = Decision.POSITIVE if f.positives else Decision.NEGATIVE
            default = f.positives[0] if f.positives else None
        else:
            f.abnormal_score = lead.abnormal_score(probs)
            if lead.calibration is not None:
                f.uncalibrated_score = lead.abnormal_score(raw)
            if f.abnormal_score is not None:
                f.threshold = lead.threshold
                f.band = lead.indeterminate
                f.decision = lead.decide(f.abnormal_score)
                f.call = call_text(f.decision, lead.positive_call)
            # A heat map is the evidence of a positive decision: none for a negative or an
            # indeterminate one (unless the reader asks for a label).
            default = explained_label(probabilities, lead.negative_label,
                                      f.decision in (None, Decision.POSITIVE))
            if f.decision is Decision.POSITIVE and default is not None:
                f.positives = [default]
        f.cam_label = (want_label or default) if explain else None
        if f.cam_label is not None:
            # The evidence: the shipped occlusion map of the finding (explain.py), its lung
            # zones and boxes around its peaks, all from the same map, never clipped to the
            # lungs. Only here: a negative call (nothing explained) pays nothing.
            t1 = time.perf_counter()
            # The reader asking for the finding the call already names gets the same map
            # (the call's), never a second map under the same label.
            targets = finding_targets(lead.labels, f.cam_label, lead.negative_label,
                                      lead.multi_label,
                                      asked=want_label is not None and want_label != default)
            maps = [self._explain(clf, view, front, probs, targets, m.mask, image.shape)
                    for clf, (front, view, probs, _) in zip(group.members, passes, strict=True)]
            grid = np.mean([g for g, _ in maps], axis=0)
            f.heatmap = np.mean([h for _, h in maps], axis=0).astype(np.float32)
            f.diffuse = is_diffuse(grid)
            f.boxes = boxes_from_heatmap(grid, m.mask, image.shape)
            f.zones = evidence_zones(grid, m.mask)
            t["explain"] += time.perf_counter() - t1
        return f

    def _member_pass(self, clf: Classifier, image: XrayImage, m: Measurement,
                     t: dict[str, float]) -> tuple[np.ndarray, LungView, np.ndarray, np.ndarray]:
        """(front image, lung view, probabilities, feature map) of one classifier: the
        measurement's own for the primary classifier, one more pass for any other (sharing
        the front image when the preprocessing is the same)."""
        primary = self.models.classifier
        if clf is primary:
            return m.front, m.view, m.probs, m.feats
        t1 = time.perf_counter()
        front = m.front if clf.front.steps == primary.front.steps else clf.front(image.pixels)
        view = lung_view(front, m.mask, clf.lung_input)
        probs, feats = clf.predict(view.pixels)
        t["classifier"] += time.perf_counter() - t1
        return front, view, probs, feats

    def explainer(self, clf: Classifier) -> Explainer:
        """The shipped explanation of ``clf`` over a batched interpreter of its own (made on
        first use, so an analysis that explains nothing never builds it)."""
        with self._explainers_lock:
            if id(clf) not in self._explainers:
                runner = BatchRunner(clf.folder / clf.manifest["runtime"]["litert"],
                                     expected_sha256=clf.litert_sha256)
                self._explainers[id(clf)] = shipped(runner)
            return self._explainers[id(clf)]

    def _explain(self, clf: Classifier, view: LungView, front: np.ndarray, probs: np.ndarray,
                 targets: list[int], mask: np.ndarray, shape: tuple[int, int]
                 ) -> tuple[np.ndarray, np.ndarray]:
        """One classifier's map of the finding ``targets``: on the lung mask's grid (for the
        zones and boxes) and at the image's resolution, both in [0, 1]. The lung mask is
        handed to the explanation on the view's grid (a layout on the lungs uses it)."""
        base = float(log_odds(probs[None], targets)[0])
        on_front = cv2.resize(mask.astype(np.uint8), (front.shape[1], front.shape[0]),
                              interpolation=cv2.INTER_NEAREST)
        lungs = cv2.resize(np.ascontiguousarray(on_front[view.y0:view.y1, view.x0:view.x1]),
                           (view.pixels.shape[1], view.pixels.shape[0]),
                           interpolation=cv2.INTER_NEAREST).astype(bool)
        heat = self.explainer(clf)(view.pixels, targets, base, back=clf.back, lungs=lungs)
        grid = mask.shape
        if (view.x0, view.y0, view.x1, view.y1) != (0, 0, front.shape[1], front.shape[0]):
            heat = _place(heat, view, front.shape)  # the classifier saw a crop
        on_grid = np.clip(cv2.resize(heat, (grid[1], grid[0]), interpolation=cv2.INTER_AREA),
                          0.0, 1.0)
        heatmap = np.clip(cv2.resize(heat, (shape[1], shape[0]),
                                     interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
        return on_grid, heatmap.astype(np.float32)

    def warm_up(self) -> None:
        """Run each model once on a blank input: LiteRT prepares its kernels on the first
        invocation, which should not happen in the middle of the first real analysis (the
        primary classifier's explanation included)."""
        seg = self.models.lung_mask
        blank = np.zeros((448, 448), np.float32)
        seg.predict(seg.front(blank))
        for clf in self.models.classifiers:
            clf.predict(clf.front(blank))
        # the primary classifier's batched interpreter too: its first invocation sizes its
        # memory and packs its weights, which the first positive call should not wait for
        primary = self.models.classifier
        front = primary.front(blank)
        self.explainer(primary)(front, [0], 0.0, back=primary.back)

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
