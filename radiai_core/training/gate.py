"""Fit the scope gate (chest radiograph? frontal? a child?) on the shared data, then measure
it per category on held-out images, split by patient or group."""

from __future__ import annotations

import csv
import datetime as _dt
import gzip
import hashlib
import itertools
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.gate import (
    QUESTIONS,
    RULES,
    Atypicality,
    ChestGate,
    GateDecision,
    GateFeatures,
    Inversion,
    ScopeHeads,
    scope_vector,
)
from ..analysis.manifest import sha256_file
from ..analysis.models import Classifier, LungSegmenter, ModelSet
from ..analysis.pipeline import Analyzer
from ..errors import DataError, RadiAIError
from ..reading.image import ImageMeta, XrayImage
from ..reading.io import load_image
from .datasets import patient_split, read_table
from .lung_mask import read_pairs, split_pairs

log = logging.getLogger(__name__)

#: Share of each population of training chest radiographs (pediatric, adult) that all learned
#: bounds together may refuse; each learned bound gets an equal part of it. Chosen before any
#: held-out image was looked at, half of the target of refusing at most 1 % of radiographs,
#: to leave room for radiographs unlike the fit images.
REFUSAL_BUDGET = 0.005
#: Without the inverse-gain rule (one more lung-model pass), the other rules must refuse at
#: least this share of the negated fit images (out of fold) for the rule to be left out.
INVERTED_CATCH = 0.995
#: Fixed physical bounds (not learned): grey radiographs have colourfulness 0 and JPEG chroma
#: noise stays far below 0.02; a blank image has a grey-level standard deviation near 0, and
#: any radiograph is far above 0.02. (A learned percentile bound for "blank" refused real
#: low-contrast radiographs as blank.) No radiograph is under 128 pixels on a side (the
#: shared pediatric images, already reduced, are 224).
FIXED_BOUNDS = {("colourfulness", "max"): 0.02, ("contrast", "min"): 0.02,
                ("min_side", "min"): 128.0}


def _features(analyzer: Analyzer, image: XrayImage) -> tuple[GateFeatures, np.ndarray]:
    """Every gate feature of ``image`` (the inverse gain included) and the classifier's
    pooled features, from the same pass as ``Analyzer.analyze``."""
    m = analyzer.measure(image, inverse_gain=True)
    return m.features, m.feats.mean(axis=(0, 1))


@dataclass(frozen=True)
class Item:
    """One image of the gate's data: its category, patient group, source and side."""

    path: Path
    category: str  # pediatric, adult, adolescent, lateral, ct, mri, ultrasound, other_radiograph
    group: str
    source: str
    split: str  # "fit" or "heldout"
    age: float | None = None
    #: An image of an adult_cxr source held out whole (``holdout_sources``): never fitted.
    unseen_source: bool = False


#: Category of each nonchest/ subfolder (nonchest/index.csv ``category``).
NONCHEST = {"ct_chest": "ct", "ct_head": "ct", "mri_brain": "mri", "ultrasound": "ultrasound",
            "knee_xray": "other_radiograph", "lateral_cxr": "lateral"}
#: Body-head class of each category.
BODY = {"pediatric": "frontal_chest", "adult": "frontal_chest", "adolescent": "frontal_chest",
        "lateral": "lateral_chest", "ct": "ct", "mri": "mri", "ultrasound": "ultrasound",
        "other_radiograph": "other_radiograph", "inverted": "inverted"}
BODY_CLASSES = ["frontal_chest", "lateral_chest", "ct", "mri", "ultrasound",
                "other_radiograph", "inverted"]
#: The age head: one hidden layer of this many ReLU units (chosen over a logistic regression
#: by out-of-fold adult recall on the fit images: 0.954 vs 0.894 at 0.2 % of children).
AGE_HIDDEN = 64
#: Share of a group-hashed source that is held out (never fitted).
HELDOUT_FRACTION = 0.2
#: Report category of the adults of the adult_cxr sources held out whole (``holdout_sources``).
UNSEEN_SOURCE = "adult_unseen_source"
#: Intended use: patients under this age (years). The classifier's training children are
#: 1–5 years old; 18 is where pediatrics ends, so a film the header dates at 18 or more is
#: refused, and 6–17-year-olds are read with a caution in the findings.
MAX_AGE_YEARS = 18.0
TRAINED_AGE_YEARS = (1.0, 5.0)
#: Share of the pediatric fit images (out of fold) each scope head may refuse, set before any
#: held-out image was scored: with the bounds' 0.5 % the worst case is 0.8 %, under the 1 %
#: target for pediatric radiographs.
HEAD_BUDGET = {"frontal_probability_min": 0.001, "adult_logodds_max": 0.002}


def _side(group: str, seed: int) -> str:
    digest = hashlib.sha256(f"{seed}:gate:{group}".encode()).digest()
    return "heldout" if int.from_bytes(digest[:8], "big") / 2**64 < HELDOUT_FRACTION else "fit"


def _rows(csv_path: Path) -> list[dict[str, str]]:
    if not csv_path.is_file():
        raise DataError("does not exist or is not a file.", csv_path)
    with open(csv_path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def gate_items(data_root: Path, seed: int = 20261123,
               holdout_sources: Sequence[str] = ()) -> list[Item]:
    """Every image the gate learns from or is measured on, from the shared data folder.

    Kermany (the classifier's own patient split: its validation patients are held out), the
    lung-mask adults (that model's split), adult_cxr and nonchest (80/20 by ``group``, the
    same group always on the same side, e.g. a CheXpert patient's frontal and lateral).

    Parameters
    ----------
    data_root : Path
        The shared data folder (kermany/, lung_masks/, adult_cxr/, nonchest/).
    seed : int
        Seed of the patient and group splits.
    holdout_sources : sequence of str
        adult_cxr sources (its ``source`` column) held out whole: every image of them is on
        the held-out side with ``unseen_source`` set (adolescents keep their category).

    Returns
    -------
    list of Item
        Every image with its category, group, source and side.

    Raises
    ------
    DataError
        A table is missing or malformed, or a held-out source is not in adult_cxr/index.csv.
    """
    items: list[Item] = []
    k_train, k_val = patient_split(read_table(data_root / "kermany" / "index.csv"), 0.1, seed)
    for split, samples in (("fit", k_train), ("heldout", k_val)):
        items += [Item(s.path, "pediatric", f"kermany:{s.patient_id}", "kermany", split)
                  for s in samples]
    m_train, m_val = split_pairs(read_pairs(data_root / "lung_masks" / "index.csv"), 0.15, seed)
    for split, pairs in (("fit", m_train), ("heldout", m_val)):
        items += [Item(p.image, "adult", f"masks:{p.patient_id}", p.dataset or "lung_masks",
                       split) for p in pairs]
    adult_csv = data_root / "adult_cxr" / "index.csv"
    adult_rows = _rows(adult_csv)
    unseen = _check_sources(holdout_sources, adult_rows, adult_csv)
    for r in adult_rows:
        age = _age(r.get("age") or "", adult_csv)
        category = "adolescent" if age is not None and age < MAX_AGE_YEARS else "adult"
        group = f"{r['source']}:{r['group']}"
        if r["source"] in unseen:
            items.append(Item(adult_csv.parent / r["path"], category, group, r["source"],
                              "heldout", age, unseen_source=True))
            continue
        items.append(Item(adult_csv.parent / r["path"], category, group, r["source"],
                          _split(r, seed, adult_csv), age))
    nonchest_csv = data_root / "nonchest" / "index.csv"
    for r in _rows(nonchest_csv):
        if r["category"] not in NONCHEST:
            raise DataError(f"has an unknown category {r['category']!r}; known: "
                            f"{', '.join(NONCHEST)}.", nonchest_csv)
        items.append(Item(nonchest_csv.parent / r["path"], NONCHEST[r["category"]],
                          f"{r['category']}:{r['group']}", r["category"],
                          _split(r, seed, nonchest_csv)))
    return items


def _check_sources(names: Sequence[str], rows: list[dict[str, str]], csv_path: Path
                   ) -> set[str]:
    """The held-out source names, each checked against the table's ``source`` column."""
    known = sorted({r["source"] for r in rows})
    unknown = [n for n in names if n not in known]
    if unknown:
        raise DataError(f"has no source {', '.join(map(repr, unknown))} to hold out; known "
                        f"sources: {', '.join(known)}.", csv_path)
    return set(names)


def _age(text: str, csv_path: Path) -> float | None:
    """A table's age in years; a text that is no number ("mid 50s") is an unknown age,
    logged, never a stop (the source's category stands)."""
    try:
        return float(text) if text.strip() else None
    except ValueError:
        log.warning("%s: age %r is not a number of years; read as unknown", csv_path, text)
        return None


def _split(row: dict[str, str], seed: int, csv_path: Path) -> str:
    """A row's side: its ``split`` column when the table has one ("fit" or "heldout"), else
    the seeded hash of its group."""
    split = (row.get("split") or "").strip()
    if not split:
        return _side(row["group"], seed)
    if split not in ("fit", "heldout"):
        raise DataError(f"has split {split!r}; use 'fit' or 'heldout'.", csv_path)
    return split


class FeatureCache:
    """Gate features and pooled classifier features per image (and per negated image), kept
    in ``folder/features.npz`` so that refitting the heads does not rerun the models."""

    def __init__(self, analyzer: Analyzer, folder: Path | None) -> None:
        self.analyzer, self.folder = analyzer, folder
        self.data: dict[str, tuple[GateFeatures, np.ndarray]] = {}
        self._new = 0
        if folder is not None and (folder / "features.npz").is_file():
            with np.load(folder / "features.npz", allow_pickle=False) as d:
                keys, gate, pooled = list(d["keys"]), d["gate"], d["pooled"]
            names = [f.name for f in fields(GateFeatures)]
            for k, g, v in zip(keys, gate, pooled, strict=True):
                vals: dict[str, Any] = {n: (None if np.isnan(x) else float(x))
                                        for n, x in zip(names, g, strict=True)}
                self.data[str(k)] = (GateFeatures(**vals), v)

    def get(self, item_path: Path, negated: bool = False) -> tuple[GateFeatures, np.ndarray]:
        """The gate features and pooled features of one image (or its negative), measured once."""
        key = f"{item_path}{' (inverted)' if negated else ''}"
        if key not in self.data:
            image = load_image(item_path)
            self.data[key] = _features(self.analyzer, _negated(image) if negated else image)
            self._new += 1
            if self._new % 500 == 0:
                log.info("features of %d images measured", self._new)
                self.save()
        return self.data[key]

    def save(self) -> None:
        """Write the cache to ``features.npz``."""
        if self.folder is None or not self.data:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        keys = list(self.data)
        gate = np.array([[np.nan if v is None else v for v in asdict(self.data[k][0]).values()]
                         for k in keys], np.float64)
        pooled = np.stack([self.data[k][1] for k in keys]).astype(np.float32)
        np.savez(self.folder / "features.npz", keys=np.array(keys), gate=gate, pooled=pooled)


def _learned(rules: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(f, side) for f, side, _ in rules if (f, side) not in FIXED_BOUNDS]


def _bounds(tables: dict[str, dict[str, np.ndarray]], learned: list[tuple[str, str]]
            ) -> dict[str, dict[str, float]]:
    """Fixed bounds, and for each learned one the loosest of the populations' percentiles at
    their share of the refusal budget (so that no population pays for the other's range)."""
    tail = REFUSAL_BUDGET / max(1, len(learned)) * 100
    bounds: dict[str, dict[str, float]] = {}
    for (feature, side), value in FIXED_BOUNDS.items():
        bounds.setdefault(feature, {})[side] = value
    for feature, side in learned:
        per = [float(np.percentile(t[feature], tail if side == "min" else 100 - tail))
               for t in tables.values()]
        bounds.setdefault(feature, {})[side] = min(per) if side == "min" else max(per)
    return bounds


def _refused(table: dict[str, np.ndarray], bounds: dict[str, dict[str, float]]) -> np.ndarray:
    n = len(next(iter(table.values())))
    out = np.zeros(n, bool)
    for feature, sides in bounds.items():
        if "min" in sides:
            out |= table[feature] < sides["min"]
        if "max" in sides:
            out |= table[feature] > sides["max"]
    return out


def _inversion_head(upright: np.ndarray, negated: np.ndarray, groups: list[str]
                    ) -> tuple[Inversion, np.ndarray, np.ndarray]:
    """Logistic regression radiograph (0) vs its negative (1) on pooled features; returns the
    head fitted on all images and the out-of-fold log-odds of the upright and negated images
    (5 folds grouped by patient, so a patient's images and their negatives share a fold)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.concatenate([upright, negated])
    y = np.r_[np.zeros(len(upright)), np.ones(len(negated))]
    g = np.array(groups + groups)
    model = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=5000))
    folds = min(5, len(set(groups)))
    oof = cross_val_predict(model, x, y, groups=g, cv=GroupKFold(folds),
                            method="decision_function")
    model.fit(x, y)
    scaler, lr = model[0], model[1]
    head = Inversion(scaler.mean_, scaler.scale_, lr.coef_[0], float(lr.intercept_[0]))
    return head, oof[:len(upright)], oof[len(upright):]


def _grey(name: str, pixels: np.ndarray, colour: float | None = None) -> XrayImage:
    pixels = np.ascontiguousarray(pixels, dtype=np.float32)
    meta = ImageMeta(path=name, format="array", rows=pixels.shape[0], columns=pixels.shape[1],
                     colourfulness=colour)
    return XrayImage(pixels=pixels, meta=meta, values=pixels)


def _from_rgb(name: str, arr: np.ndarray) -> XrayImage:
    from ..reading.raster_io import colourfulness

    arr = np.asarray(arr)
    top = 65535.0 if arr.dtype == np.uint16 else (255.0 if arr.dtype == np.uint8 else None)
    if arr.ndim == 3 and arr.shape[-1] >= 3:
        colour = colourfulness(arr)
        grey = arr[..., 0] * 0.299 + arr[..., 1] * 0.587 + arr[..., 2] * 0.114
    else:
        colour, grey = None, arr.astype(np.float64)
    if top is None:
        lo, hi = float(grey.min()), float(grey.max())
        grey = (grey - lo) / (hi - lo) if hi > lo else grey * 0
    else:
        grey = grey / top
    return _grey(name, grey, colour)


def non_chest_images() -> Iterator[XrayImage]:
    """Images that are not chest radiographs, from packages installed with RadiAI: the
    scikit-image samples and face crops, pydicom's test images (CT, MR, ultrasound, photos;
    read for their pixels even when the modality tag alone would refuse them), matplotlib's
    sample pictures and MR slice, and synthetic blank/noise images."""
    import matplotlib
    import pydicom
    import skimage.data
    from PIL import Image

    skdir = Path(skimage.data.__file__).parent
    for p in sorted(skdir.glob("*.png")) + sorted(skdir.glob("*.jpg")):
        with Image.open(p) as im:
            yield _from_rgb(f"skimage/{p.name}", np.asarray(im.convert("RGB")
                                                            if im.mode not in ("L", "I;16")
                                                            else im))
    faces = np.load(skdir / "lfw_subset.npy")
    for i, face in enumerate(faces):
        yield _grey(f"skimage/lfw_subset[{i}]", face)
    pdir = Path(pydicom.__file__).parent / "data" / "test_files"
    for p in sorted(pdir.glob("*.dcm")):
        try:
            ds = pydicom.dcmread(p, force=True)
            arr = ds.pixel_array
        except Exception:  # noqa: BLE001 - many are deliberately broken test files
            continue
        if ds.get("NumberOfFrames", 1) and int(ds.get("NumberOfFrames", 1) or 1) > 1:
            arr = arr[0]
        if arr.ndim not in (2, 3) or min(arr.shape[:2]) < 16:
            continue
        if ds.get("PhotometricInterpretation") == "MONOCHROME1":
            arr = arr.max() - arr
        yield _from_rgb(f"pydicom/{p.name} ({ds.get('Modality', '?')})", arr)
    mdir = Path(matplotlib.get_data_path()) / "sample_data"
    for name in ("grace_hopper.jpg", "Minduka_Present_Blue_Pack.png", "logo2.png"):
        with Image.open(mdir / name) as im:
            yield _from_rgb(f"matplotlib/{name}", np.asarray(im.convert("RGB")))
    with gzip.open(mdir / "s1045.ima.gz") as f:
        mr = np.frombuffer(f.read(), np.uint16).reshape(256, 256)
    yield _from_rgb("matplotlib/s1045.ima (MR)", mr)
    rng = np.random.default_rng(0)
    for v in (0.0, 0.5, 1.0):
        yield _grey(f"synthetic/constant {v}", np.full((512, 512), v))
    yield _grey("synthetic/uniform noise", rng.random((512, 512)))
    yield _grey("synthetic/gaussian blobs", np.clip(
        0.5 + 0.2 * np.sin(np.arange(512)[:, None] / 40) * np.cos(np.arange(512) / 55), 0, 1))


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion k / n."""
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _lr():  # noqa: ANN202 - a scikit-learn estimator
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=0.1, max_iter=5000, class_weight="balanced")


def _mlp():  # noqa: ANN202 - a scikit-learn estimator
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier((AGE_HIDDEN,), alpha=1e-2, max_iter=500, random_state=0)


def _oof(make, x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Out-of-fold probabilities (5 folds grouped by patient), (n, classes)."""
    from sklearn.model_selection import GroupKFold, cross_val_predict

    return cross_val_predict(make(), x, y, groups=groups,
                             cv=GroupKFold(min(5, len(set(groups.tolist())))),
                             method="predict_proba")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-12, 1 - 1e-12)
    return np.log(p / (1 - p))


def fit_scope_heads(x: np.ndarray, items: list[Item]
                    ) -> tuple[ScopeHeads, dict[str, float], dict[str, np.ndarray]]:
    """The scope heads on the fit items' scope vectors ``x``, and their thresholds: each at
    the out-of-fold percentile that refuses ``HEAD_BUDGET`` of the pediatric fit images.
    Returns the heads, the thresholds and the out-of-fold scores."""
    cats = np.array([i.category for i in items])
    upright = cats != "inverted"  # the standardisation is that of real images
    mean, scale = x[upright].mean(axis=0), x[upright].std(axis=0)
    scale[scale < 1e-8] = 1.0
    z = (x - mean) / scale
    groups = np.array([i.group for i in items])
    ped = cats == "pediatric"

    y_body = np.array([BODY_CLASSES.index(BODY[c]) for c in cats])
    body = _lr().fit(z, y_body)
    oof_frontal = _oof(_lr, z, y_body, groups)[:, 0]

    sel = np.isin(cats, ["pediatric", "adult"])
    y_age = (cats[sel] == "adult").astype(int)
    age = _mlp().fit(z[sel], y_age)
    oof_adult = np.full(len(items), np.nan)
    oof_adult[sel] = _logit(_oof(_mlp, z[sel], y_age, groups[sel])[:, 1])

    b = HEAD_BUDGET
    thresholds = {
        "frontal_probability_min": float(np.percentile(oof_frontal[ped],
                                                       100 * b["frontal_probability_min"])),
        "adult_logodds_max": float(np.percentile(oof_adult[ped],
                                                 100 - 100 * b["adult_logodds_max"])),
    }
    heads = ScopeHeads({"mean": mean, "scale": scale, "body_coef": body.coef_,
                        "body_intercept": body.intercept_, "age_w1": age.coefs_[0],
                        "age_b1": age.intercepts_[0], "age_w2": age.coefs_[1][:, 0],
                        "age_b2": age.intercepts_[1]}, BODY_CLASSES)
    return heads, thresholds, {"frontal_probability": oof_frontal, "adult_logodds": oof_adult}


def fit_gate(models_root: Path, data_root: Path, out: Path, seed: int = 20261123,
             n_components: int = 32, limit: int | None = None,
             cache: Path | None = None, holdout_sources: Sequence[str] = ()) -> Path:
    """Fit the scope gate and measure it.

    Bounds, the atypicality model and the inversion head on chest radiographs (pediatric and
    adult) and their negatives, then the scope heads on every fit image of ``data_root``;
    write ``out`` (manifest.json, atypicality.npz, inversion.npz, scope.npz,
    gate_report.json).

    Parameters
    ----------
    models_root : Path
        Folder with classifier/ and lung_mask/ (finalized); the gate is bound to that
        classifier.
    data_root : Path
        The shared data folder (kermany/, lung_masks/, adult_cxr/, nonchest/).
    out : Path
        The gate folder to write.
    seed : int
        Seed of the splits and the atypicality model.
    n_components : int
        Principal components of the atypicality model.
    limit : int, optional
        Caps each category and side (smoke runs); the images of held-out sources are a side
        of their own.
    cache : Path, optional
        Keeps the measured features for refits.
    holdout_sources : sequence of str
        adult_cxr sources held out whole (never fitted): their adults are reported as
        ``adult_unseen_source``, their adolescents in ``adolescent``; recorded in the
        manifest's ``fit.holdout_sources``.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    DataError
        A table is missing or malformed, or a held-out source is not in adult_cxr/index.csv.
    """
    out.mkdir(parents=True, exist_ok=True)
    models_root_classifier = models_root / "classifier"
    analyzer = Analyzer(ModelSet([Classifier(models_root_classifier)],
                                 LungSegmenter(models_root / "lung_mask"), gate=None))
    items = gate_items(data_root, seed, holdout_sources)
    if limit:
        kept: dict[tuple[str, str, bool], int] = {}
        capped = []
        for it in items:
            key = (it.category, it.split, it.unseen_source)
            if kept.get(key, 0) < limit:
                kept[key] = kept.get(key, 0) + 1
                capped.append(it)
        items = capped
    features = FeatureCache(analyzer, cache)
    measured: list[tuple[Item, GateFeatures, np.ndarray]] = []
    unreadable: list[dict[str, str]] = []
    for it in items:
        try:
            f, v = features.get(it.path)
        except RadiAIError as exc:
            unreadable.append({"image": _short(it.path), "reason": exc.message})
            continue
        measured.append((it, f, v))
    fit = [m for m in measured if m[0].split == "fit"]
    populations = {"fit_pediatric": [m for m in fit if m[0].category == "pediatric"],
                   "fit_adult": [m for m in fit if m[0].category == "adult"]}
    negated = {n: [features.get(m[0].path, negated=True) for m in ms]
               for n, ms in populations.items()}
    features.save()
    log.info("features: %d images measured (%d unreadable)", len(measured), len(unreadable))

    upright = np.array([m[2] for ms in populations.values() for m in ms])
    neg_pooled = np.array([v for n in populations for _, v in negated[n]])
    atyp = Atypicality.fit([np.array([m[2] for m in ms]) for ms in populations.values()],
                           n_components, seed)
    atyp.save(out / "atypicality.npz")
    groups = [m[0].group for ms in populations.values() for m in ms]
    head, oof_up, oof_neg = _inversion_head(upright, neg_pooled, groups)
    head.save(out / "inversion.npz")

    def table(fs: list[GateFeatures], pooled: np.ndarray, oof: np.ndarray
              ) -> dict[str, np.ndarray]:
        t = {k: np.array([getattr(f, k) for f in fs], dtype=float)
             for k in asdict(fs[0]) if k not in ("atypicality", "inversion")}
        t["atypicality"] = atyp(pooled)
        t["inversion"] = oof
        return t

    offsets = np.cumsum([0] + [len(ms) for ms in populations.values()])
    up, neg = {}, {}
    for i, (n, ms) in enumerate(populations.items()):
        sl = slice(offsets[i], offsets[i + 1])
        up[n] = table([m[1] for m in ms], np.array([m[2] for m in ms]), oof_up[sl])
        neg[n] = table([f for f, _ in negated[n]], np.array([v for _, v in negated[n]]),
                       oof_neg[sl])
    # Leave the inverse-gain rule (and its extra lung-model pass) out when the other rules
    # already refuse the negated fit images; decided on training images only.
    rules = [r for r in RULES if r[0] != "inverse_gain"]
    bounds = _bounds(up, _learned(rules))
    caught = {n: float(_refused(neg[n], bounds).mean()) for n in populations}
    with_gain = min(caught.values()) < INVERTED_CATCH
    if with_gain:
        rules = list(RULES)
        bounds = _bounds(up, _learned(rules))

    x_fit = np.array([scope_vector(v, f) for _, f, v in fit])
    fit_items = [m[0] for m in fit]
    # The negatives of the fit radiographs teach the body head "inverted", so that an inverted
    # image is not called a lateral view (they share the patient's group).
    for ms in populations.values():
        fit_items += [replace(m[0], category="inverted") for m in ms]
    x_fit = np.concatenate([x_fit, [scope_vector(v, f) for n in populations
                                    for f, v in negated[n]]])
    heads, thresholds, oof = fit_scope_heads(x_fit, fit_items)
    heads.save(out / "scope.npz")
    oof_summary = _oof_summary(fit_items, oof, thresholds)

    files = {name: sha256_file(out / name)
             for name in ("atypicality.npz", "inversion.npz", "scope.npz")}
    overall = hashlib.sha256("".join(files[k] for k in sorted(files)).encode()).hexdigest()
    counts: dict[str, int] = {}
    for it, _, _ in fit:
        counts[it.category] = counts.get(it.category, 0) + 1
    manifest = {
        "name": "radiai-scope-gate", "kind": "gate", "version": "4." + _dt.date.today()
        .strftime("%Y%m%d"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "sha256": overall, "files": files,
        "bounds": bounds, "atypicality": "atypicality.npz", "inversion": "inversion.npz",
        "scope_heads": "scope.npz",
        "scope": {"body_classes": BODY_CLASSES, "thresholds": thresholds,
                  "max_age_years": MAX_AGE_YEARS, "trained_age_years": list(TRAINED_AGE_YEARS),
                  "head_budget": HEAD_BUDGET,
                  "heads": "body: softmax logistic regression (C = 0.1, balanced classes); "
                           f"age: one hidden layer of {AGE_HIDDEN} ReLU units (alpha 0.01); "
                           "both on the standardised pooled classifier features and five lung "
                           "measurements; thresholds at out-of-fold percentiles of the "
                           "pediatric fit images (5 folds grouped by patient)",
                  "out_of_fold": oof_summary},
        "fit": {"images": counts, "populations": {n: len(ms) for n, ms in populations.items()},
                "refusal_budget": REFUSAL_BUDGET,
                "tail_per_bound": REFUSAL_BUDGET / len(_learned(rules)),
                "pca_components": int(atyp.components.shape[1]),
                "negatives_refused_without_inverse_gain": caught,
                "inverse_gain_rule": with_gain,
                # What the gate is bound to (analysis.models.check_gate_binding).
                "classifier_folder": models_root_classifier.name,
                "classifier_sha256": analyzer.models.classifier.manifest.get("sha256"),
                "classifier_litert_sha256": analyzer.models.classifier.litert_sha256,
                "lung_mask_folder": analyzer.models.lung_mask.folder.name,
                "lung_mask_litert_sha256": analyzer.models.lung_mask.litert_sha256,
                "seed": seed,
                # adult_cxr sources held out whole, never fitted (report: adult_unseen_source).
                "holdout_sources": sorted(set(holdout_sources))},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return measure_gate(out, measured, analyzer, unreadable, limit=limit)


def _negated(image: XrayImage) -> XrayImage:
    return _grey(f"{image.meta.path} (inverted)", 1.0 - image.pixels)


def _oof_summary(items: list[Item], oof: dict[str, np.ndarray],
                 thresholds: dict[str, float]) -> dict[str, dict[str, float]]:
    """Out-of-fold refusal rates per category of the fit images, per head: the evidence for
    the laterals, of which few are held out."""
    cats = np.array([i.category for i in items])
    out: dict[str, dict[str, float]] = {}
    for c in sorted(set(cats.tolist())):
        sel = cats == c
        row = {"n": int(sel.sum()),
               "body_head_refused": float((oof["frontal_probability"][sel]
                                           < thresholds["frontal_probability_min"]).mean())}
        if c in ("pediatric", "adult"):
            row["age_head_refused"] = float((oof["adult_logodds"][sel]
                                             > thresholds["adult_logodds_max"]).mean())
        out[c] = row
    return out


def _short(path: Path) -> str:
    """The image's folder and name only: no local folders in the report."""
    return f"{path.parent.name}/{path.name}"


def _decide(gate: ChestGate, f: GateFeatures, pooled: np.ndarray, meta: ImageMeta
            ) -> GateDecision:
    """The gate's decision on measured features, as ``Analyzer.analyze`` makes it (the
    atypicality and inversion read off the pooled features by this gate)."""
    f = replace(f, atypicality=float(gate.atypicality(pooled)[0]),
                inversion=(float(gate.inversion(pooled)[0]) if gate.inversion is not None
                           else 0.0))
    return gate.decide(f, pooled, meta)


def measure_gate(gate_dir: Path, measured: list[tuple[Item, GateFeatures, np.ndarray]],
                 analyzer: Analyzer, unreadable: list[dict[str, str]],
                 limit: int | None = None) -> Path:
    """Refusal rates per category on the held-out images (with 95 % Wilson intervals), on
    non-chest pictures that ship with installed packages and on inverted held-out
    radiographs, by the question that refused them → gate_report.json. The adults of
    adult_cxr sources held out whole get their own row, ``adult_unseen_source``, with the
    sources' names and counts per source."""
    gate = ChestGate(gate_dir)
    rows: list[dict[str, Any]] = []

    def record(group: str, name: str, d: GateDecision, f: GateFeatures | None = None,
               extra: dict[str, Any] | None = None) -> None:
        rows.append({"group": group, "image": name, "refused": d.question is not None,
                     "question": d.question, "reason": d.reason,
                     "age": d.age.to_dict() if d.age is not None else None,
                     **(extra or {}), **(f.to_dict() if f is not None else {})})

    for it, f, v in measured:
        if it.split != "heldout":
            continue
        meta = ImageMeta(path=str(it.path), format="JPEG", rows=0, columns=0)
        group = UNSEEN_SOURCE if it.unseen_source and it.category == "adult" else it.category
        record(group, _short(it.path), _decide(gate, f, v, meta), f,
               {"source": it.source, "true_age": it.age})
        if it.category == "pediatric":
            image = _negated(load_image(it.path))
            fn, vn = _features(analyzer, image)
            record("inverted_chest", _short(it.path) + " (inverted)",
                   _decide(gate, fn, vn, image.meta), fn)
    for img in itertools.islice(non_chest_images(), limit):
        try:
            fp, vp = _features(analyzer, img)
            record("package_pictures", img.meta.path, _decide(gate, fp, vp, img.meta), fp)
        except RadiAIError as exc:
            rows.append({"group": "package_pictures", "image": img.meta.path, "refused": True,
                         "question": "chest", "reason": exc.message})
    summary: dict[str, Any] = {}
    for group in sorted({r["group"] for r in rows}):
        sel = [r for r in rows if r["group"] == group]
        k = sum(r["refused"] for r in sel)
        by_q = {q: sum(r.get("question") == q for r in sel) for q in QUESTIONS}
        lo, hi = _wilson(k, len(sel))
        summary[group] = {"n": len(sel), "refused": k, "rate": k / len(sel),
                          "ci95": [round(lo, 4), round(hi, 4)], "by_question": by_q}
        if group == UNSEEN_SOURCE:
            fitted = json.loads((gate_dir / "manifest.json").read_text(encoding="utf-8"))
            summary[group]["sources"] = fitted["fit"].get("holdout_sources", [])
            summary[group]["by_source"] = {
                s: {"n": sum(r["source"] == s for r in sel),
                    "refused": sum(r["refused"] for r in sel if r["source"] == s)}
                for s in sorted({r["source"] for r in sel})}
    summary["unreadable"] = len(unreadable)
    report = gate_dir / "gate_report.json"
    report.write_text(json.dumps({"summary": summary, "images": rows,
                                  "unreadable": unreadable}, indent=1), encoding="utf-8")
    log.info("gate: %s", json.dumps(summary))
    return gate_dir
