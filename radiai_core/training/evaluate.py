"""Metrics of the shipped pipeline on a labelled table: the numbers a model card reports."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, RadiAIError
from .datasets import Sample, read_multilabel_table, read_table

log = logging.getLogger(__name__)


@dataclass
class Predictions:
    """Per-image probabilities of one model over a labelled set."""

    labels: list[str]  # the model's label order
    samples: list[Sample]
    probs: np.ndarray  # (n, classes)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    rejected: list[tuple[str, str]] = field(default_factory=list)

    @property
    def y(self) -> np.ndarray:
        """The true label index of each sample, in the model's label order."""
        return np.array([self.labels.index(s.label) for s in self.samples], dtype=int)


def _abnormal(pred: Predictions, negative: str) -> tuple[np.ndarray, np.ndarray]:
    neg = pred.labels.index(negative)
    return (pred.y != neg).astype(int), 1.0 - pred.probs[:, neg]


def metrics(pred: Predictions, threshold: float, negative: str | None = "normal",
            positive_pair: tuple[str, str] | None = ("bacterial", "viral")) -> dict[str, Any]:
    """Classification metrics; AUC of abnormal (1 − p(negative)) vs negative; sensitivity and
    specificity at ``threshold``; AUC between the two labels of ``positive_pair``."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support, roc_auc_score

    y, p = pred.y, pred.probs
    k = len(pred.labels)
    out: dict[str, Any] = {"n": int(len(y)), "labels": pred.labels,
                           "accuracy_top1": float((p.argmax(1) == y).mean()) if len(y) else None}
    prec, rec, f1, sup = precision_recall_fscore_support(y, p.argmax(1), labels=list(range(k)),
                                                         zero_division=0)
    out["per_class"] = {lab: {"precision": float(prec[i]), "recall": float(rec[i]),
                              "f1": float(f1[i]), "support": int(sup[i])}
                        for i, lab in enumerate(pred.labels)}
    out["confusion_matrix"] = confusion_matrix(y, p.argmax(1), labels=list(range(k))).tolist()
    out["threshold"] = float(threshold)
    if negative in pred.labels:
        truth, score = _abnormal(pred, negative)
        called = score >= threshold
        if 0 < truth.sum() < len(truth):
            out["auc"] = float(roc_auc_score(truth, score))
        out["accuracy"] = float((called == truth).mean())
        out["sensitivity"] = float(called[truth == 1].mean()) if truth.sum() else None
        out["specificity"] = float((~called)[truth == 0].mean()) if (truth == 0).sum() else None
    if positive_pair and set(positive_pair) <= set(pred.labels):
        a, b = (pred.labels.index(x) for x in positive_pair)
        sel = np.isin(y, [a, b])
        if sel.any() and len(set(y[sel])) == 2:
            pa = p[sel, a] / np.clip(p[sel, a] + p[sel, b], 1e-12, None)
            out[f"auc_{positive_pair[0]}_vs_{positive_pair[1]}"] = float(
                roc_auc_score(y[sel] == a, pa))
    return out


def bootstrap_ci(pred: Predictions, threshold: float, keys: tuple[str, ...],
                 n_boot: int = 1000, seed: int = 0, negative: str = "normal") -> dict[str, list]:
    """95 % intervals by resampling *patients* with replacement (images of one patient are
    not independent)."""
    rng = np.random.default_rng(seed)
    by_patient: dict[str, list[int]] = {}
    for i, s in enumerate(pred.samples):
        by_patient.setdefault(s.patient_id, []).append(i)
    groups = list(by_patient.values())
    draws: dict[str, list[float]] = {k: [] for k in keys}
    for _ in range(n_boot):
        idx = np.concatenate([groups[j] for j in rng.integers(0, len(groups), len(groups))])
        sub = Predictions(pred.labels, [pred.samples[i] for i in idx], pred.probs[idx])
        m = metrics(sub, threshold, negative)
        for k in keys:
            if m.get(k) is not None:
                draws[k].append(m[k])
    return {k: [float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))]
            for k, v in draws.items() if v}


#: The rules a shipped threshold may be chosen by, as the model card words them.
RULES = {
    "stress": ("among thresholds whose sensitivity, as the median over the stress suite "
               "(radiai_core.training.protocol.STRESSES, on the validation split), is at least "
               "0.95, the highest"),
    "youden": "Youden J (max sensitivity + specificity − 1) on the validation split",
}

#: Said wherever figures are shown that were measured on the images that chose the threshold.
SAME_IMAGES = ("measured on the validation images that chose the threshold: optimistic, not "
               "an estimate for new patients (the cohort holdout is: see the model card)")


def threshold_provenance(rule: str, threshold: float, cfg: dict[str, Any],
                         csv_path: str | Path, n_images: int,
                         figures: dict[str, float]) -> dict[str, Any]:
    """Where a threshold came from, for its manifest: the rule (a key of ``RULES``) and its
    words, the split it was chosen on (the training config's seed and fraction, grouped by
    patient), the figures there flagged as measured on those same images, and when."""
    import datetime as _dt

    return {
        "rule": rule, "rule_text": RULES[rule], "threshold": threshold,
        "chosen_on": {"split": "validation", "csv": Path(csv_path).name,
                      "seed": cfg["seed"], "val_fraction": cfg["val_fraction"],
                      "grouped_by": "patient_id", "n_images": n_images},
        "figures_there": figures, "figures_note": SAME_IMAGES,
        "chosen_at": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "command": (f"radiai train threshold --models MODELS --csv {Path(csv_path).name} "
                    f"--rule {rule}" if rule == "stress"
                    else "radiai train finalize classifier (Youden)"),
    }


def youden_threshold(pred: Predictions, negative: str = "normal") -> float:
    """Threshold on 1 − p(negative) maximising sensitivity + specificity − 1."""
    from sklearn.metrics import roc_curve

    truth, score = _abnormal(pred, negative)
    fpr, tpr, thr = roc_curve(truth, score)
    best = int(np.argmax(tpr - fpr))
    return float(min(max(thr[best], 0.0), 1.0))


def select_rows(csv_path: str | Path, split: str | None = None,
                multi_label: bool = False) -> list[Sample]:
    """Rows of a table (a multi-label one: 0/1 label columns), optionally only those of one
    ``split``."""
    samples = read_multilabel_table(csv_path)[1] if multi_label else read_table(csv_path)
    if split:
        samples = [s for s in samples if s.split == split]
        if not samples:
            raise DataError(f"has no rows with split == {split!r}.", csv_path)
    return samples


def predict_table(analyze: Callable[[Path], Any], labels: list[str], samples: list[Sample],
                  csv_path: str | Path = "",
                  progress: Callable[[int, int], None] | None = None,
                  model: str | None = None) -> Predictions:
    """Run ``analyze`` (path → Analysis) on every sample and keep the probabilities of
    ``model`` (a key of the model set; default: the primary classifier); errors and refusals
    are kept apart. A multi-label sample's truth is its ``targets``, not checked here."""
    unknown = sorted({s.label for s in samples if not s.targets} - set(labels))
    if unknown:
        raise DataError(f"has labels {unknown} that the model does not know ({labels}).",
                        csv_path)
    kept, probs, errors, rejected = [], [], [], []
    for i, s in enumerate(samples):
        try:
            a = analyze(s.path)
        except RadiAIError as exc:
            errors.append((str(s.path), exc.message))
            continue
        if a.status != "ok":
            rejected.append((str(s.path), a.message))
            continue
        kept.append(s)
        found = (a.findings[0] if model is None
                 else next(f for f in a.findings if f.key == model))
        probs.append([found.probabilities[lab] for lab in labels])
        if progress:
            progress(i + 1, len(samples))
    return Predictions(labels, kept, np.array(probs).reshape(-1, len(labels)), errors, rejected)


def per_label_metrics(y: np.ndarray, probs: np.ndarray, labels: list[str],
                      thresholds: dict[str, float] | None = None
                      ) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    """A multi-label model's figures, label by label, against 0/1 ``y``: positives, AUC where
    both classes are present, sensitivity and specificity at its threshold. Without
    ``thresholds`` each is chosen here (Youden J where both classes are present, else 0.5, and
    the rule is said). Returns (figures per label, thresholds used)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    used: dict[str, float] = {}
    per_label: dict[str, dict[str, Any]] = {}
    for j, lab in enumerate(labels):
        truth, score = y[:, j], probs[:, j]
        row: dict[str, Any] = {"positives": int(truth.sum()), "n": len(truth)}
        both = 0 < truth.sum() < len(truth)
        if both:
            row["auc"] = float(roc_auc_score(truth, score))
        if thresholds is not None:
            used[lab] = float(thresholds.get(lab, 0.5))
        elif both:
            fpr, tpr, thr = roc_curve(truth, score)
            used[lab] = float(min(max(thr[int(np.argmax(tpr - fpr))], 0.0), 1.0))
            row["threshold_rule"] = "Youden J on the validation split"
        else:
            used[lab] = 0.5
            row["threshold_rule"] = ("0.5: the validation split has no "
                                     + ("positive" if truth.sum() == 0 else "negative")
                                     + " image of this label")
        called = score >= used[lab]
        if truth.sum():
            row["sensitivity"] = float(called[truth == 1].mean())
        if (truth == 0).any():
            row["specificity"] = float((~called[truth == 0]).mean())
        per_label[lab] = row
    return per_label, used


def plot_roc_and_confusion(pred: Predictions, m: dict[str, Any], out_dir: Path,
                           negative: str = "normal", title: str = "") -> list[Path]:
    """Write roc.png and confusion.png for ``pred`` into ``out_dir``; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    if negative in pred.labels and "auc" in m:
        truth, score = _abnormal(pred, negative)
        fpr, tpr, _ = roc_curve(truth, score)
        fig, ax = plt.subplots(figsize=(4.2, 4))
        ax.plot(fpr, tpr, lw=2, label=f"AUC {m['auc']:.3f}")
        spec, sens = m.get("specificity"), m.get("sensitivity")
        if spec is not None and sens is not None:
            ax.plot([1 - spec], [sens], "o", label=f"threshold {m['threshold']:.2f}")
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set(xlabel="1 − specificity", ylabel="sensitivity",
               title=f"abnormal vs {negative} {title}".strip())
        ax.legend(loc="lower right")
        fig.tight_layout()
        written.append(out_dir / "roc.png")
        fig.savefig(written[-1], dpi=110)
        plt.close(fig)
    cm = np.array(m["confusion_matrix"])
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, str(v), ha="center", va="center",
                color="white" if v > cm.max() / 2 else "black")
    ax.set_xticks(range(len(pred.labels)), pred.labels, rotation=30)
    ax.set_yticks(range(len(pred.labels)), pred.labels)
    ax.set(xlabel="predicted (top class)", ylabel="true", title=f"confusion {title}".strip())
    fig.tight_layout()
    written.append(out_dir / "confusion.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    return written


def plot_calibration(pred: Predictions, out_png: Path, negative: str = "normal",
                     bins: int = 10) -> dict[str, float]:
    """Reliability diagram of the abnormal score; returns the expected calibration error."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    truth, score = _abnormal(pred, negative)
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(score, edges) - 1, 0, bins - 1)
    xs, ys, ns = [], [], []
    ece = 0.0
    for b in range(bins):
        sel = which == b
        if sel.any():
            xs.append(score[sel].mean())
            ys.append(truth[sel].mean())
            ns.append(int(sel.sum()))
            ece += sel.mean() * abs(score[sel].mean() - truth[sel].mean())
    fig, ax = plt.subplots(figsize=(4.2, 4))
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.plot(xs, ys, "o-")
    for x, y, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, -10), fontsize=7)
    ax.set(xlabel="predicted abnormal score", ylabel="observed fraction abnormal",
           title=f"calibration (ECE {ece:.3f})")
    fig.tight_layout()
    fig.savefig(out_png, dpi=110)
    plt.close(fig)
    return {"ece": float(ece)}


def validation_metrics(probs: np.ndarray, y: np.ndarray, labels: list[str]) -> dict[str, float]:
    """Metrics of validation probabilities against the true labels (loss, accuracy, AUC…),
    logged per epoch while training (``metrics`` is the shipped pipeline's full report)."""
    from sklearn.metrics import log_loss, roc_auc_score

    m: dict[str, float] = {
        "loss": float(log_loss(y, np.clip(probs, 1e-7, 1), labels=list(range(len(labels))))),
        "accuracy": float((probs.argmax(1) == y).mean()),
    }
    if "normal" in labels:
        neg = labels.index("normal")
        abnormal = (y != neg).astype(int)
        if 0 < abnormal.sum() < len(y):
            m["auc_abnormal"] = float(roc_auc_score(abnormal, 1 - probs[:, neg]))
            m["accuracy_abnormal"] = float(((1 - probs[:, neg] >= 0.5) == abnormal).mean())
    if {"bacterial", "viral"} <= set(labels):
        b, v = labels.index("bacterial"), labels.index("viral")
        sel = np.isin(y, [b, v])
        if sel.any() and len(set(y[sel])) == 2:
            pb = probs[sel, b] / np.clip(probs[sel, b] + probs[sel, v], 1e-7, None)
            m["auc_bacterial_vs_viral"] = float(roc_auc_score(y[sel] == b, pb))
    return m


def multilabel_metrics(probs: np.ndarray, y: np.ndarray, labels: list[str]
                       ) -> dict[str, float]:
    """Metrics of a multi-label model's validation probabilities against 0/1 targets: mean
    binary cross-entropy, per-label accuracy at 0.5, and the AUC of every label with both
    classes present (their mean as ``auc_macro``)."""
    from sklearn.metrics import roc_auc_score

    p = np.clip(probs, 1e-7, 1 - 1e-7)
    m: dict[str, float] = {
        "loss": float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()),
        "accuracy": float(((probs >= 0.5) == (y >= 0.5)).mean()),
    }
    aucs = {}
    for j, lab in enumerate(labels):
        if 0 < y[:, j].sum() < len(y):
            aucs[lab] = float(roc_auc_score(y[:, j], probs[:, j]))
            m[f"auc_{lab}"] = aucs[lab]
    if aucs:
        m["auc_macro"] = float(np.mean(list(aucs.values())))
    return m
