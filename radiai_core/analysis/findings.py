"""Findings: what one classifier (or one ensemble) of the model set says about an image."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from .regions import Box
from .zones import Zone


class Decision(StrEnum):
    """What a model decides about an image, typed: faces branch on it, never on display text.

    ``INDETERMINATE``: the score falls in the band the model's card names as not reliable
    enough to call either way; the image is to be read without the AI's call.
    """

    POSITIVE = "positive"
    NEGATIVE = "negative"
    INDETERMINATE = "indeterminate"


@dataclass
class Findings:
    """One model's answer: its labels' probabilities and what it decides.

    ``decision`` is the typed outcome (``Decision``). A softmax model with a negative label
    ("normal") decides once: ``abnormal_score`` = 1 − p(negative) against ``threshold`` (and
    the manifest's indeterminate band, when it has one); a calibrated model's probabilities
    are calibrated (``calibration.py``) and ``uncalibrated_score`` keeps its own
    1 − p(negative); ``band`` is the manifest's indeterminate band (low, high), when it has
    one: positive at or above high, negative below low. ``shown`` orders the labels so the
    first never contradicts the call. ``positive_call`` names a positive
    decision ("pneumonia"); ``call`` is the English display text of the decision ("pneumonia",
    "no pneumonia", "indeterminate") for logs and tables, never to be parsed. A multi-label
    model calls each label against its own threshold: ``positives`` lists the labels at or
    above theirs, and its decision is positive when any is (a softmax model's ``positives`` is
    its explained finding when the decision is positive). ``cam_label`` is the label whose heat
    map (``heatmap``, at the image's resolution) and ``boxes`` (in its pixels) are shown, when
    one is. A model without a negative label makes no decision (``decision`` is None).
    ``zones`` names the lung zones that hold the heat map's mass (``zones.evidence_zones``:
    each with its share, then the share outside the lungs); ``diffuse`` is True when the map
    has no focal peak, so no box is drawn (``regions.is_diffuse``).
    """

    key: str
    title: str
    labels: list[str]
    display_names: dict[str, str]
    probabilities: dict[str, float] = field(default_factory=dict)
    multi_label: bool = False
    negative_label: str | None = None
    abnormal_score: float | None = None
    uncalibrated_score: float | None = None
    threshold: float | None = None
    band: tuple[float, float] | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    call: str | None = None
    decision: Decision | None = None
    positive_call: str | None = None
    positives: list[str] = field(default_factory=list)
    cam_label: str | None = None
    heatmap: np.ndarray | None = None
    boxes: list[Box] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    diffuse: bool = False

    def name(self, label: str) -> str:
        """A label's display name."""
        return self.display_names.get(label, label)

    def ranked(self) -> list[tuple[str, float]]:
        """Every label with its probability, most probable first."""
        return sorted(self.probabilities.items(), key=lambda kv: kv[1], reverse=True)

    def shown(self) -> list[tuple[str, float]]:
        """Every label with its probability in the order a face lists them: the labels that
        make the decision first (a positive call's labels, most probable first; the negative
        label first for a negative call), then the rest by probability; otherwise
        ``ranked``. The first row never contradicts the call."""
        ranked = self.ranked()
        if self.multi_label or self.negative_label is None or self.decision is None:
            return ranked
        if self.decision is Decision.POSITIVE:
            return ([kv for kv in ranked if kv[0] != self.negative_label]
                    + [kv for kv in ranked if kv[0] == self.negative_label])
        if self.decision is Decision.NEGATIVE:
            return ([kv for kv in ranked if kv[0] == self.negative_label]
                    + [kv for kv in ranked if kv[0] != self.negative_label])
        return ranked

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` most probable labels with their probabilities."""
        return self.ranked()[:n]

    def is_positive(self, label: str) -> bool:
        """Whether this model calls ``label`` (multi-label: at or above its threshold)."""
        return label in self.positives

    def summary(self) -> str:
        """One line: the call with its score, the labels over threshold, or the top label."""
        if self.call is not None and self.abnormal_score is not None:
            return (f"{self.call} (score {self.abnormal_score:.3f}, "
                    f"threshold {self.threshold:.3f})")
        if self.multi_label:
            return ("above threshold: " + ", ".join(self.name(p) for p in self.positives)
                    if self.positives else "no label above its threshold")
        label, p = self.top(1)[0]
        return f"{self.name(label)} {p:.0%}"

    def to_dict(self, exact: bool = False) -> dict[str, Any]:
        """JSON-ready (no pixels), probabilities to 6 decimals unless ``exact`` (the history
        stores them as computed); ``from_dict`` reads it back."""
        def num(v: float) -> float:
            return v if exact else round(v, 6)

        return {
            "key": self.key, "title": self.title, "labels": list(self.labels),
            "display_names": dict(self.display_names),
            "probabilities": {k: num(v) for k, v in self.probabilities.items()},
            "multi_label": self.multi_label, "negative_label": self.negative_label,
            "abnormal_score": (None if self.abnormal_score is None
                               else num(self.abnormal_score)),
            "uncalibrated_score": (None if self.uncalibrated_score is None
                                   else num(self.uncalibrated_score)),
            "threshold": self.threshold,
            "band": None if self.band is None else list(self.band),
            "thresholds": dict(self.thresholds),
            "call": self.call,
            "decision": None if self.decision is None else self.decision.value,
            "positive_call": self.positive_call,
            "positives": list(self.positives), "cam_label": self.cam_label,
            "boxes": [asdict(b) if exact else b.to_dict() for b in self.boxes],
            "zones": [asdict(z) if exact else z.to_dict() for z in self.zones],
            "diffuse": self.diffuse,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Findings:
        """The findings ``to_dict`` wrote (a stored analysis has no heat map here)."""
        return cls(key=d["key"], title=d["title"], labels=list(d["labels"]),
                   display_names=dict(d["display_names"]),
                   probabilities={k: float(v) for k, v in d["probabilities"].items()},
                   multi_label=bool(d.get("multi_label", False)),
                   negative_label=d.get("negative_label"),
                   abnormal_score=d.get("abnormal_score"),
                   uncalibrated_score=d.get("uncalibrated_score"),
                   threshold=d.get("threshold"),
                   band=None if d.get("band") is None else (float(d["band"][0]),
                                                            float(d["band"][1])),
                   thresholds={k: float(v) for k, v in d.get("thresholds", {}).items()},
                   call=d.get("call"), decision=stored_decision(d),
                   positive_call=d.get("positive_call"),
                   positives=list(d.get("positives", [])),
                   cam_label=d.get("cam_label"),
                   boxes=[Box(**b) for b in d.get("boxes", [])],
                   zones=[Zone.from_dict(z) for z in d.get("zones", [])],
                   diffuse=bool(d.get("diffuse", False)))


def call_text(decision: Decision, positive_call: str) -> str:
    """The English display text of a softmax model's decision: "pneumonia", "no pneumonia",
    "indeterminate" (faces translate from the decision, not from this text)."""
    if decision is Decision.POSITIVE:
        return positive_call
    if decision is Decision.NEGATIVE:
        return f"no {positive_call}"
    return "indeterminate"


def stored_decision(d: dict[str, Any]) -> Decision | None:
    """The decision of stored findings: their ``decision`` entry; for findings stored before
    decisions were typed (no entry), what their threshold says of their score, or of their
    positives for a multi-label model."""
    if d.get("decision") is not None:
        return Decision(d["decision"])
    if d.get("multi_label"):
        return Decision.POSITIVE if d.get("positives") else Decision.NEGATIVE
    score, threshold = d.get("abnormal_score"), d.get("threshold")
    if score is None or threshold is None:
        return None
    return Decision.POSITIVE if float(score) >= float(threshold) else Decision.NEGATIVE


def explained_label(probabilities: dict[str, float], negative_label: str | None,
                    positive_call: bool) -> str | None:
    """The finding a heat map shows unless the reader asks for another: the most probable
    label other than the negative one ("normal") when the call is positive; none when it is
    negative (a map of "normal" drawn as suspected regions misleads). Without a negative
    label (no call), the most probable label."""
    if negative_label is None:
        return max(probabilities, key=lambda k: probabilities[k])
    if not positive_call:
        return None
    findings = {k: v for k, v in probabilities.items() if k != negative_label}
    return max(findings, key=lambda k: findings[k]) if findings else None


def split_cam_label(cam_label: str | None, keys: list[str]) -> tuple[str | None, str | None]:
    """(model key, label) of a requested heat map: ``"label"`` is a label of the first model,
    ``"key/label"`` one of the model named ``key``."""
    if cam_label is None:
        return None, None
    key, sep, label = cam_label.partition("/")
    if sep and key in keys:
        return key, label
    return keys[0], cam_label


def label_ref(key: str, label: str, primary: bool) -> str:
    """How a label is asked for (``cam_label``): plain for the primary model, "key/label" for
    another one (``split_cam_label`` reads it back)."""
    return label if primary else f"{key}/{label}"
