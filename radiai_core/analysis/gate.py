"""Scope gate: is it a chest radiograph, a frontal view, a child? Else refused, with the reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..errors import ModelError
from ..reading.age import describe_years, header_age
from ..reading.image import ImageMeta
from .manifest import Ledger, read_manifest


@dataclass(frozen=True)
class GateFeatures:
    """Measurements the gate decides on (all cheap, from one pass of each model)."""

    contrast: float  # standard deviation of the [0, 1] pixels (on a ≤ 512 px subsample)
    min_side: float  # the image's shorter side in pixels
    colourfulness: float  # 0 for grey sources
    lung_fraction: float  # share of the image covered by the cleaned lung mask
    lung_balance: float  # smaller / larger lung area (0 with fewer than two lungs)
    mask_confidence: float  # mean |2p − 1| of the lung probability map
    polarity: float  # mean grey between/below the lungs minus mean grey inside them
    atypicality: float  # distance of the classifier's pooled features from training images
    inversion: float  # log-odds that the image is a negative, from the classifier's features
    # Lung confidence on the negated image minus on the image itself: one more lung-model
    # pass, so measured only when the gate has a bound for it (None otherwise).
    inverse_gain: float | None = None

    def to_dict(self) -> dict[str, float | None]:
        """The features rounded for JSON (None where not measured)."""
        return {k: None if v is None else round(float(v), 5) for k, v in asdict(self).items()}


def contrast(pixels: np.ndarray) -> float:
    """Grey-level standard deviation on a regular subsample (at most ~512 px a side): the same
    figure as on all pixels for any real image, at a fraction of the cost on large ones."""
    step = max(1, max(pixels.shape) // 512)
    return float(pixels[::step, ::step].std())


def lung_confidence(lung_prob: np.ndarray) -> float:
    """How sure the lung model is of the lungs it finds: mean |2p − 1| where p > 0.5 (0 when it
    finds none). Unlike the whole-image confidence it is not swamped by a confident "no lung"
    over the background."""
    inside = lung_prob > 0.5
    return float(np.abs(2.0 * lung_prob[inside] - 1.0).mean()) if inside.any() else 0.0


def lung_features(lung_prob: np.ndarray, mask: np.ndarray, front: np.ndarray
                  ) -> tuple[float, float, float, float]:
    """(lung_fraction, lung_balance, mask_confidence, polarity) on the mask grid."""
    fraction = float(mask.mean())
    confidence = float(np.abs(2.0 * lung_prob - 1.0).mean())
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    areas = sorted(stats[1:, cv2.CC_STAT_AREA].tolist(), reverse=True)
    balance = float(areas[1] / areas[0]) if len(areas) >= 2 else 0.0
    if not mask.any():
        return fraction, balance, confidence, 0.0
    grey = cv2.resize(front, (mask.shape[1], mask.shape[0]), interpolation=cv2.INTER_AREA)
    ys, xs = np.nonzero(mask)
    box = np.zeros_like(mask)
    box[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True
    between = box & ~mask
    polarity = float(grey[between].mean() - grey[mask].mean()) if between.any() else 0.0
    return fraction, balance, confidence, polarity


class Atypicality:
    """Distance of pooled classifier features from the training radiographs: per population
    of fit images (pediatric, adult), the RMS of the whitened PCA coordinates; the image's
    atypicality is its distance to the nearest population (``atypicality.npz`` holds each
    population's mean, components and scales, stacked)."""

    def __init__(self, mean: np.ndarray, components: np.ndarray, scales: np.ndarray) -> None:
        # One population is stored without the leading axis (gates fitted before v3).
        self.mean = mean if mean.ndim == 2 else mean[None]
        self.components = components if components.ndim == 3 else components[None]
        self.scales = scales if scales.ndim == 2 else scales[None]

    @classmethod
    def load(cls, path: Path) -> Atypicality:
        """Read an atypicality model from its .npz file."""
        d = np.load(path)
        return cls(d["mean"], d["components"], d["scales"])

    @classmethod
    def fit(cls, populations: list[np.ndarray], n_components: int, seed: int) -> Atypicality:
        """Fit one whitened PCA per population of pooled features."""
        from sklearn.decomposition import PCA

        k = min([n_components] + [len(x) - 1 for x in populations])
        pcas = [PCA(n_components=k, random_state=seed).fit(x) for x in populations]
        return cls(np.stack([p.mean_ for p in pcas]), np.stack([p.components_ for p in pcas]),
                   np.stack([np.sqrt(p.explained_variance_) for p in pcas]))

    def save(self, path: Path) -> None:
        """Write the model to a .npz file."""
        np.savez(path, mean=self.mean.astype(np.float32),
                 components=self.components.astype(np.float32),
                 scales=self.scales.astype(np.float32))

    def __call__(self, pooled: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(pooled)
        d = [np.sqrt(((((x - m) @ c.T) / s) ** 2).mean(axis=1))
             for m, c, s in zip(self.mean, self.components, self.scales, strict=True)]
        return np.min(d, axis=0)


class Inversion:
    """Logistic regression on the classifier's pooled features, standardised, that tells a
    radiograph from its negative (coefficients stored in ``inversion.npz``): returns the
    log-odds of "negative"."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray, coef: np.ndarray,
                 intercept: float) -> None:
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, float(intercept)

    @classmethod
    def load(cls, path: Path) -> Inversion:
        """Read the inversion head from its .npz file."""
        d = np.load(path)
        return cls(d["mean"], d["scale"], d["coef"], float(d["intercept"]))

    def save(self, path: Path) -> None:
        """Write the head to a .npz file."""
        np.savez(path, mean=self.mean.astype(np.float32), scale=self.scale.astype(np.float32),
                 coef=self.coef.astype(np.float32), intercept=np.float32(self.intercept))

    def __call__(self, pooled: np.ndarray) -> np.ndarray:
        z = (np.atleast_2d(pooled) - self.mean) / self.scale
        return z @ self.coef + self.intercept


# Each rule: feature, bound side, and the plain-words reason shown to the reader. The first
# rule that fails gives the reason, so "inverted" comes last: it is only said of an image that
# otherwise looks like a chest radiograph.
RULES: list[tuple[str, str, str]] = [
    ("contrast", "min", "is almost uniform (blank or nearly blank); there is no radiograph to "
                        "analyse"),
    ("min_side", "min", "is too small to be a radiograph (fewer than 128 pixels on a side)"),
    ("colourfulness", "max", "is a colour image (a photograph or screenshot?), not a radiograph"),
    ("lung_fraction", "min", "shows no lung fields; it does not look like a frontal chest "
                             "radiograph"),
    ("lung_fraction", "max", "does not look like a frontal chest radiograph (implausible lung "
                             "fields)"),
    ("mask_confidence", "min", "does not look like a frontal chest radiograph (the lung fields "
                               "cannot be found with confidence)"),
    ("atypicality", "max", "is unlike the chest radiographs RadiAI was trained on; it is probably "
                           "not a frontal chest radiograph"),
    ("inversion", "max", "does not look like a frontal chest radiograph with the usual grey "
                         "levels (dark lungs, bright bones): it may be a negative (inverted) "
                         "image, or not a radiograph"),
    ("inverse_gain", "max", "looks like a chest radiograph only when its grey levels are "
                            "reversed; the image is probably inverted (negative)"),
    ("polarity", "min", "shows the lungs brighter than the tissue around them; the image is "
                        "probably inverted (negative)"),
]


class RefusedAs(StrEnum):
    """What a refused image is, as the gate saw it (the typed answer; ``label`` words it
    for the reader: "refused: CT slice"). ``refused_by`` keeps the question that failed."""

    ADULT = "adult"
    CT = "ct"
    MRI = "mri"
    ULTRASOUND = "ultrasound"
    LATERAL = "lateral"
    OTHER_BODY_PART = "other_radiograph"
    INVERTED = "inverted"
    NOT_CHEST = "not_chest"
    BLANK = "blank"
    TOO_SMALL = "too_small"
    COLOUR = "colour"

    @property
    def label(self) -> str:
        """The image's kind in a few English words ("CT slice", "lateral view")."""
        return REFUSED_LABELS[self]

    @property
    def text(self) -> str:
        """The short refusal shown in lists: "refused: adult", "refused: CT slice"."""
        return f"refused: {self.label}"


REFUSED_LABELS = {
    RefusedAs.ADULT: "adult", RefusedAs.CT: "CT slice", RefusedAs.MRI: "MRI",
    RefusedAs.ULTRASOUND: "ultrasound", RefusedAs.LATERAL: "lateral view",
    RefusedAs.OTHER_BODY_PART: "another body part", RefusedAs.INVERTED: "inverted image",
    RefusedAs.NOT_CHEST: "not a chest radiograph", RefusedAs.BLANK: "blank image",
    RefusedAs.TOO_SMALL: "image too small", RefusedAs.COLOUR: "colour image",
}

#: What an image refused by a feature bound is: (feature, side) → kind.
RULE_KINDS = {
    ("contrast", "min"): RefusedAs.BLANK, ("min_side", "min"): RefusedAs.TOO_SMALL,
    ("colourfulness", "max"): RefusedAs.COLOUR, ("lung_fraction", "min"): RefusedAs.NOT_CHEST,
    ("lung_fraction", "max"): RefusedAs.NOT_CHEST, ("mask_confidence", "min"): RefusedAs.NOT_CHEST,
    ("atypicality", "max"): RefusedAs.NOT_CHEST, ("inversion", "max"): RefusedAs.INVERTED,
    ("inverse_gain", "max"): RefusedAs.INVERTED, ("polarity", "min"): RefusedAs.INVERTED,
}

#: What an image refused by the body head is: body class → kind.
BODY_KINDS = {
    "lateral_chest": RefusedAs.LATERAL, "ct": RefusedAs.CT, "mri": RefusedAs.MRI,
    "ultrasound": RefusedAs.ULTRASOUND, "other_radiograph": RefusedAs.OTHER_BODY_PART,
    "inverted": RefusedAs.INVERTED,
}


def refusal_text(refused_as: RefusedAs | str | None) -> str:
    """"refused: <what the image is>" for lists (the study tree, the CSV, History); plain
    "refused" when the kind is not known (analyses stored before it was recorded)."""
    try:
        return RefusedAs(refused_as).text if refused_as else "refused"
    except ValueError:
        return "refused"


def refused_as_of(reason: str) -> RefusedAs | None:
    """What an image refused with the gate's ``reason`` is, for refusals stored before the
    gate said so itself (the reasons are the gate's own fixed sentences); None if unknown."""
    for feature, side, text in RULES:
        if reason == text:
            return RULE_KINDS[(feature, side)]
    for body, text in BODY_REASONS.items():
        if reason == text:
            return BODY_KINDS.get(body, RefusedAs.NOT_CHEST)
    if reason.startswith(LATERAL_REASON):
        return RefusedAs.LATERAL
    if reason.startswith(("is of a patient aged ", "looks like a radiograph of an adult")):
        return RefusedAs.ADULT
    return None


#: The physical bounds (blank, too small, colour): fixed, not learned; asked first.
FIXED_RULES = [r for r in RULES if r[0] in ("contrast", "min_side", "colourfulness")]
#: The learned bounds, asked after the body head and the header's view.
LEARNED_RULES = [r for r in RULES if r not in FIXED_RULES]

#: The three questions, in the order they are asked; a refusal names the one that failed.
QUESTIONS = ("chest", "frontal", "child")

#: Reasons of the scope heads' refusals (the body head names what the image looks like).
BODY_REASONS = {
    "ct": "looks like a CT slice, not a radiograph; RadiAI reads frontal chest radiographs only",
    "mri": "looks like an MR image, not a radiograph; RadiAI reads frontal chest radiographs "
           "only",
    "ultrasound": "looks like an ultrasound image, not a radiograph; RadiAI reads frontal chest "
                  "radiographs only",
    "other_radiograph": "looks like a radiograph of another part of the body, not of the chest; "
                        "RadiAI reads frontal chest radiographs only",
    "inverted": "looks like a chest radiograph with its grey levels reversed (dark bones, "
                "bright lungs); the image is probably inverted (negative)",
    "other": "does not look like a frontal chest radiograph",
}
LATERAL_REASON = ("is a lateral view; RadiAI's models read frontal (AP or PA) chest radiographs "
                  "only")
#: DICOM View Position (0018,5101) values that are not frontal (PS3.3 C.8.11.5 uses "LL", "RL"
#: and their decubitus variants for lateral projections).
LATERAL_VIEWS = {"LL", "RL", "LLD", "RLD", "LATERAL", "LAT", "LAO", "RAO", "LPO", "RPO"}


def scope_vector(pooled: np.ndarray, f: GateFeatures) -> np.ndarray:
    """What the scope heads read: the classifier's pooled features and the lung measurements."""
    return np.concatenate([np.asarray(pooled, np.float64).ravel(),
                           [f.lung_fraction, f.lung_balance, f.mask_confidence, f.polarity,
                            f.contrast]])


class ScopeHeads:
    """Two heads on the standardised ``scope_vector`` (``scope.npz``): the body head, a
    softmax over what the image shows (a frontal chest radiograph, a lateral one, CT, MR,
    ultrasound, a radiograph of another part), and the age head, a one-hidden-layer network
    (ReLU) whose output is the log-odds that the patient is an adult."""

    def __init__(self, arrays: dict[str, np.ndarray], body_classes: list[str]) -> None:
        self.mean = arrays["mean"].astype(np.float64)
        self.scale = arrays["scale"].astype(np.float64)
        self.body_coef = arrays["body_coef"].astype(np.float64)  # (classes, d)
        self.body_intercept = arrays["body_intercept"].astype(np.float64)
        self.age_w1 = arrays["age_w1"].astype(np.float64)  # (d, hidden)
        self.age_b1 = arrays["age_b1"].astype(np.float64)
        self.age_w2 = arrays["age_w2"].astype(np.float64).ravel()  # (hidden,)
        self.age_b2 = float(np.asarray(arrays["age_b2"]).ravel()[0])
        self.body_classes = list(body_classes)
        if self.body_coef.shape[0] != len(self.body_classes):
            raise ValueError("body head and its class list disagree")

    @classmethod
    def load(cls, path: Path, body_classes: list[str]) -> ScopeHeads:
        """Read the heads from ``scope.npz`` (``body_classes`` from the manifest)."""
        with np.load(path) as d:
            return cls({k: d[k] for k in d.files}, body_classes)

    def save(self, path: Path) -> None:
        """Write the heads to a .npz file (float32)."""
        arrays: dict[str, Any] = {k: np.asarray(getattr(self, k), np.float32) for k in (
            "mean", "scale", "body_coef", "body_intercept", "age_w1", "age_b1", "age_w2",
            "age_b2")}
        np.savez(path, **arrays)

    def scores(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Per row of ``x`` (n, d): ``body`` probabilities (n, classes) and ``adult``
        log-odds (n,)."""
        z = (np.atleast_2d(x) - self.mean) / self.scale
        logits = z @ self.body_coef.T + self.body_intercept
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        hidden = np.maximum(z @ self.age_w1 + self.age_b1, 0.0)
        return {"body": p / p.sum(axis=1, keepdims=True),
                "adult": hidden @ self.age_w2 + self.age_b2}


@dataclass(frozen=True)
class Age:
    """The patient's age as the gate used it: from the header when it tells, else estimated
    from the image (``estimate`` is then the gate's reading, "child" or "adult")."""

    years: float | None  # from the DICOM header; None when the header does not tell
    adult_probability: float | None  # the image estimate (None when the header decided)
    estimate: str | None  # "child" or "adult" from the image; None when the header decided
    max_years: float  # the age limit of the models' intended use
    trained_years: tuple[float, float]  # ages of the training patients
    # The adult score over which the image is refused as an adult's (None: not recorded).
    adult_cutoff: float | None = None

    @property
    def source(self) -> str:
        """"header" when the DICOM header gave the age, else "image"."""
        return "header" if self.years is not None else "image"

    def describe(self) -> str:
        """Plain words for the findings panel, the PDF and the CSV."""
        if self.years is not None:
            text = f"{describe_years(self.years)} (from the DICOM header)"
            lo, hi = self.trained_years
            if self.years < self.max_years and not lo <= self.years < hi + 1:
                text += (f"; outside the ages of the training patients ({lo:g}–{hi:g} years): "
                         "read the findings with extra caution")
            return text
        if self.adult_probability is None:
            return "unknown"
        # The score is the age head's: a child's image may score 0.87 and still be under the
        # cut-off (set on children's images), so the line names the cut-off it was held to.
        score = f"adult score {self.adult_probability:.2f}"
        if self.adult_cutoff is not None:
            side = "over" if self.estimate == "adult" else "not over"
            score += f", {side} the cut-off {self.adult_cutoff:.2f} for refusing an adult"
        return f"unknown (not in the file); estimated from the image: {self.estimate} ({score})"

    def to_dict(self) -> dict[str, Any]:
        """The age for JSON and the history, with the plain-words text."""
        return {"years": None if self.years is None else round(self.years, 2),
                "source": self.source, "estimate": self.estimate,
                "adult_probability": (None if self.adult_probability is None
                                      else round(self.adult_probability, 4)),
                "adult_cutoff": (None if self.adult_cutoff is None
                                 else round(self.adult_cutoff, 4)),
                "max_years": self.max_years, "trained_years": list(self.trained_years),
                "text": self.describe()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Age:
        """The inverse of ``to_dict`` (the history stores it)."""
        lo, hi = d.get("trained_years") or (1.0, 5.0)
        return cls(d.get("years"), d.get("adult_probability"), d.get("estimate"),
                   float(d.get("max_years", 18.0)), (float(lo), float(hi)),
                   d.get("adult_cutoff"))


@dataclass(frozen=True)
class GateDecision:
    """The gate's answer: ``question`` is None when the image passed, else the question it
    failed ("chest", "frontal" or "child"), ``refused_as`` what the image is (an adult's, a CT
    slice, a lateral view…) and ``reason`` says why in plain words."""

    question: str | None
    reason: str | None
    age: Age | None = None
    refused_as: RefusedAs | None = None


class ChestGate:
    """The scope gate (``radiai train gate``): bounds per feature learned from chest
    radiographs, and, from version 4, the scope heads that tell CT, MR, ultrasound and other
    body parts, lateral views and adults from the pediatric frontal radiographs the
    classifier was made for."""

    def __init__(self, folder: str | Path) -> None:
        folder = Path(folder)
        m = read_manifest(folder, "gate", required=("name", "version", "bounds"))
        self.manifest = m
        self.folder = folder
        self.bounds: dict[str, dict[str, float]] = m["bounds"]
        ledger = Ledger(folder)
        self.atypicality = Atypicality.load(ledger.listed(m, "atypicality"))
        self.inversion = (Inversion.load(ledger.listed(m, "inversion"))
                          if "inversion" in m else None)
        self.scope: dict[str, Any] | None = m.get("scope")
        self.heads: ScopeHeads | None = None
        if self.scope is not None:
            try:
                self.heads = ScopeHeads.load(ledger.listed(m, "scope_heads"),
                                             list(self.scope["body_classes"]))
            except (KeyError, ValueError, OSError) as exc:
                raise ModelError(f"has a scope entry that cannot be used ({exc}).",
                                 folder) from None
        self.info = ledger.info(m, "gate")

    def uses(self, feature: str) -> bool:
        """Whether any rule of this gate has a bound on ``feature``."""
        return bool(self.bounds.get(feature))

    def check(self, f: GateFeatures, rules: list[tuple[str, str, str]] | None = None
              ) -> str | None:
        """The feature bounds (all of them, or ``rules``): None when the image passes, else
        the reason of the first it fails."""
        rule = self.failed_rule(f, rules)
        return None if rule is None else rule[2]

    def _refuse(self, f: GateFeatures, rules: list[tuple[str, str, str]]) -> GateDecision | None:
        """A "chest" refusal by the first of ``rules`` the image fails, or None."""
        rule = self.failed_rule(f, rules)
        if rule is None:
            return None
        return GateDecision("chest", rule[2], refused_as=RULE_KINDS[(rule[0], rule[1])])

    def failed_rule(self, f: GateFeatures, rules: list[tuple[str, str, str]] | None = None
                    ) -> tuple[str, str, str] | None:
        """The first rule (of all, or of ``rules``) whose bound the image fails, or None."""
        values: dict[str, Any] = asdict(f)
        for feature, side, reason in RULES if rules is None else rules:
            bound = self.bounds.get(feature, {}).get(side)
            if bound is None:
                continue
            v = values[feature]
            if v is None:
                raise ValueError(f"the gate has a bound on {feature!r} but it was not measured")
            if (side == "min" and v < bound) or (side == "max" and v > bound):
                return feature, side, reason
        return None

    def decide(self, f: GateFeatures, pooled: np.ndarray, meta: ImageMeta) -> GateDecision:
        """Ask the three questions in order. A chest radiograph and a frontal view: the fixed
        bounds (blank, tiny, colour), then the body head (which names CT, MR, ultrasound,
        another body part or a lateral view), the DICOM View Position when it says lateral,
        then the learned bounds (lung fields, atypicality, inversion). A child: the header's
        age when it tells, else the age head."""
        refused = self._refuse(f, FIXED_RULES)
        if refused is not None:
            return refused
        scores = None
        if self.heads is not None and self.scope is not None:
            scores = self.heads.scores(scope_vector(pooled, f))
            body = scores["body"][0]
            classes = self.heads.body_classes
            frontal = classes.index("frontal_chest")
            if body[frontal] < float(self.scope["thresholds"]["frontal_probability_min"]):
                other = classes[max((i for i in range(len(body)) if i != frontal),
                                    key=lambda i: body[i])]
                kind = BODY_KINDS.get(other, RefusedAs.NOT_CHEST)
                if other == "lateral_chest":
                    return GateDecision("frontal", LATERAL_REASON, refused_as=kind)
                return GateDecision("chest", BODY_REASONS.get(other, BODY_REASONS["other"]),
                                    refused_as=kind)
        view = (meta.view_position or "").strip().upper()
        if view in LATERAL_VIEWS:
            return GateDecision("frontal", f"{LATERAL_REASON} (View Position {view} in the "
                                           "DICOM header)", refused_as=RefusedAs.LATERAL)
        refused = self._refuse(f, LEARNED_RULES)  # the fixed ones passed above
        if refused is not None:
            return refused
        if scores is None or self.scope is None:
            return GateDecision(None, None)
        s = self.scope
        limit = float(s["max_age_years"])
        trained = tuple(float(v) for v in s.get("trained_age_years", (1, 5)))
        years = header_age(meta)
        if years is not None:
            age = Age(years, None, None, limit, trained)  # type: ignore[arg-type]
            if years >= limit:
                return GateDecision("child", f"is of a patient aged {describe_years(years)} "
                                    f"(DICOM header); {ADULT_REASON.format(limit=limit)}", age,
                                    RefusedAs.ADULT)
            return GateDecision(None, None, age)
        logodds = float(scores["adult"][0])
        p_adult = float(1.0 / (1.0 + np.exp(-np.clip(logodds, -50, 50))))
        cut = float(s["thresholds"]["adult_logodds_max"])
        adult = logodds > cut
        age = Age(None, p_adult, "adult" if adult else "child", limit,
                  trained, float(1.0 / (1.0 + np.exp(-cut))))  # type: ignore[arg-type]
        if adult:
            return GateDecision("child", "looks like a radiograph of an adult (the age is not "
                                "in the file and was estimated from the image); "
                                f"{ADULT_REASON.format(limit=limit)}", age, RefusedAs.ADULT)
        return GateDecision(None, None, age)


ADULT_REASON = ("RadiAI's classifier was made for children (under {limit:g} years; trained on "
                "children aged 1–5) and gives no findings for adults")
