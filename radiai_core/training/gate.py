"""Fit the chest-radiograph gate on chest images only, then measure it on held-out chest
images and on non-chest images that ship with installed packages."""

from __future__ import annotations

import datetime as _dt
import gzip
import itertools
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

from ..datasets import patient_split, read_table
from ..errors import RadiAIError
from ..gate import RULES, Atypicality, ChestGate, GateFeatures, Inversion
from ..image import ImageMeta, XrayImage
from ..io import load_image
from ..models import Classifier, LungSegmenter, ModelSet
from ..pipeline import Analyzer
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


def chest_sets(kermany_csv: Path, masks_csv: Path, seed: int, n_kermany_fit: int | None = None
               ) -> dict[str, list[tuple[Path, str]]]:
    """Training (fit) and held-out (measure) chest images with their patient ids, with the
    same patient splits as the classifier and the lung-mask model."""
    k_train, k_val = patient_split(read_table(kermany_csv), 0.1, seed)
    if n_kermany_fit is not None and n_kermany_fit < len(k_train):
        rng = np.random.default_rng(seed)
        k_train = [k_train[i] for i in sorted(rng.choice(len(k_train), n_kermany_fit,
                                                         replace=False))]
    m_train, m_val = split_pairs(read_pairs(masks_csv), 0.15, seed)
    return {"fit_pediatric": [(s.path, s.patient_id) for s in k_train],
            "fit_adult": [(p.image, p.patient_id) for p in m_train],
            "heldout_pediatric": [(s.path, s.patient_id) for s in k_val],
            "heldout_adult": [(p.image, p.patient_id) for p in m_val]}


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
    from ..raster_io import colourfulness

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


def fit_gate(models_root: Path, kermany_csv: Path, masks_csv: Path, out: Path,
             seed: int = 20261123, n_kermany_fit: int | None = None, n_components: int = 32,
             limit: int | None = None) -> Path:
    """Fit bounds, the atypicality model and the inversion head on chest training images and
    their negatives; write ``out`` (a gate folder with manifest.json, atypicality.npz,
    inversion.npz and gate_report.json). ``limit`` caps every image set (smoke runs)."""
    out.mkdir(parents=True, exist_ok=True)
    analyzer = Analyzer(ModelSet(Classifier(models_root / "classifier"),
                                 LungSegmenter(models_root / "lung_mask"), gate=None))
    sets = chest_sets(kermany_csv, masks_csv, seed, n_kermany_fit)
    if limit:
        sets = {k: v[:limit] for k, v in sets.items()}
    populations = ("fit_pediatric", "fit_adult")
    feats: dict[str, list[GateFeatures]] = {}
    pooled: dict[str, list[np.ndarray]] = {}
    for name in populations:
        for kind in ("", "/negated"):
            feats[name + kind], pooled[name + kind] = [], []
        for path, _ in sets[name]:
            image = load_image(path)
            for kind, img in (("", image), ("/negated", _negated(image))):
                f, v = _features(analyzer, img)
                feats[name + kind].append(f)
                pooled[name + kind].append(v)
        log.info("%s: %d images and their negatives", name, len(sets[name]))
    upright = np.array([v for n in populations for v in pooled[n]])
    negated = np.array([v for n in populations for v in pooled[n + "/negated"]])
    atyp = Atypicality.fit([np.array(pooled[n]) for n in populations], n_components, seed)
    atyp.save(out / "atypicality.npz")
    groups = [f"{n}:{pid}" for n in populations for _, pid in sets[n]]
    head, oof_up, oof_neg = _inversion_head(upright, negated, groups)
    head.save(out / "inversion.npz")

    def table(name: str, oof: np.ndarray) -> dict[str, np.ndarray]:
        fs = feats[name]
        t = {k: np.array([getattr(f, k) for f in fs], dtype=float)
             for k in asdict(fs[0]) if k not in ("atypicality", "inversion")}
        t["atypicality"] = atyp(np.array(pooled[name]))
        t["inversion"] = oof
        return t

    offsets = np.cumsum([0] + [len(sets[n]) for n in populations])
    up = {n: table(n, oof_up[offsets[i]:offsets[i + 1]]) for i, n in enumerate(populations)}
    neg = {n: table(n + "/negated", oof_neg[offsets[i]:offsets[i + 1]])
           for i, n in enumerate(populations)}
    # Leave the inverse-gain rule (and its extra lung-model pass) out when the other rules
    # already refuse the negated fit images; decided on training images only.
    rules = [r for r in RULES if r[0] != "inverse_gain"]
    bounds = _bounds(up, _learned(rules))
    caught = {n: float(_refused(neg[n], bounds).mean()) for n in populations}
    with_gain = min(caught.values()) < INVERTED_CATCH
    if with_gain:
        rules = list(RULES)
        bounds = _bounds(up, _learned(rules))
    fit_refused = {n: float(_refused(up[n], bounds).mean()) for n in populations}
    negated_refused = {n: float(_refused(neg[n], bounds).mean()) for n in populations}
    log.info("inverse-gain rule %s: negatives refused without it %s",
             "kept" if with_gain else "left out", caught)
    manifest = {
        "name": "radiai-chest-gate", "kind": "gate",
        "version": _dt.date.today().strftime("%Y.%m.%d"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "bounds": bounds, "atypicality": "atypicality.npz", "inversion": "inversion.npz",
        "fit": {"images": {n: len(sets[n]) for n in populations},
                "refusal_budget": REFUSAL_BUDGET,
                "tail_per_bound": REFUSAL_BUDGET / len(_learned(rules)),
                "pca_components": int(atyp.components.shape[1]),
                "atypicality": "per population (pediatric, adult) whitened PCA; the distance "
                               "to the nearer one",
                "inversion_head": "logistic regression (C = 0.1) on standardised pooled "
                                  "classifier features, fit images vs their negatives; its "
                                  "bound is taken on out-of-fold log-odds (5 folds by patient)",
                "negatives_refused_without_inverse_gain": caught,
                "inverse_gain_rule": with_gain,
                "fit_images_refused": fit_refused,
                "fit_negatives_refused": negated_refused,
                "classifier_sha256": analyzer.models.classifier.info.sha256,
                "note": "bounds are percentiles of chest radiographs only; the inversion head "
                        "also saw their negatives; no other non-chest image was used"},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return measure_gate(out, {k: [p for p, _ in v] for k, v in sets.items()}, analyzer,
                        limit=limit)


def _negated(image: XrayImage) -> XrayImage:
    return _grey(f"{image.meta.path} (inverted)", 1.0 - image.pixels)


def measure_gate(gate_dir: Path, sets: dict[str, list[Path]], analyzer: Analyzer,
                 limit: int | None = None) -> Path:
    """Refusal rates on held-out chest images and on non-chest images → gate_report.json."""
    gate = ChestGate(gate_dir)
    analyzer.models.gate = gate
    rows = []

    def decide(group: str, image: XrayImage, name: str | None = None) -> None:
        f, _ = _features(analyzer, image)  # the features analyze() computes, and more
        reason = gate.check(f)
        rows.append({"group": group, "image": name or image.meta.path,
                     "refused": reason is not None, "reason": reason, **f.to_dict()})

    for group in ("heldout_pediatric", "heldout_adult"):
        for p in sets[group]:
            img = load_image(p)
            name = f"{p.parent.name}/{p.name}"  # no local folders in the report
            decide(f"chest/{group}", img, name)
            decide("non_chest/inverted_chest", _negated(img), f"{name} (inverted)")
    for img in itertools.islice(non_chest_images(), limit):
        try:
            decide("non_chest/" + img.meta.path.split("/")[0], img)
        except RadiAIError as exc:
            rows.append({"group": "non_chest/error", "image": img.meta.path, "refused": True,
                         "reason": exc.message})
    # A stress set, reported apart from the non-chest figure: the face crops enlarged to
    # 256 px, so that the size rule alone does not refuse them (blurred natural images).
    import skimage.data

    faces = np.load(Path(skimage.data.__file__).parent / "lfw_subset.npy")
    for i, face in enumerate(faces[:limit]):
        big = cv2.resize(face.astype(np.float32), (256, 256), interpolation=cv2.INTER_CUBIC)
        decide("stress/faces_256px", _grey(f"skimage/lfw_subset[{i}] at 256 px",
                                           np.clip(big, 0.0, 1.0)))
    summary = {}
    for group in sorted({r["group"] for r in rows}):
        sel = [r for r in rows if r["group"] == group]
        summary[group] = {"n": len(sel), "refused": sum(r["refused"] for r in sel)}
    chest = [r for r in rows if r["group"].startswith("chest/")]
    other = [r for r in rows if r["group"].startswith("non_chest/")]
    summary["chest_refusal_rate"] = sum(r["refused"] for r in chest) / max(1, len(chest))
    summary["non_chest_refusal_rate"] = sum(r["refused"] for r in other) / max(1, len(other))
    report = gate_dir / "gate_report.json"
    report.write_text(json.dumps({"summary": summary, "images": rows}, indent=1),
                      encoding="utf-8")
    log.info("gate: %s", json.dumps(summary))
    return gate_dir
