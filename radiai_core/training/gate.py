"""Fit the chest-radiograph gate on chest images only, then measure it on held-out chest
images and on non-chest images that ship with installed packages."""

from __future__ import annotations

import datetime as _dt
import gzip
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..datasets import patient_split, read_table
from ..errors import RadiAIError
from ..gate import RULES, Atypicality, ChestGate, GateFeatures
from ..image import ImageMeta, XrayImage
from ..io import load_image
from ..models import Classifier, LungSegmenter, ModelSet
from ..pipeline import Analyzer
from .lung_mask import read_pairs, split_pairs

log = logging.getLogger(__name__)

#: Share of training chest radiographs allowed outside each learned bound.
TAIL = 0.002
#: Fixed physical bounds (not learned): grey radiographs have colourfulness 0 and JPEG chroma
#: noise stays far below 0.02; a blank image has a grey-level standard deviation near 0, and
#: any radiograph is far above 0.02. (A learned percentile bound for "blank" refused real
#: low-contrast radiographs as blank.) No radiograph is under 128 pixels on a side (the
#: shared pediatric images, already reduced, are 224).
FIXED_BOUNDS = {("colourfulness", "max"): 0.02, ("contrast", "min"): 0.02,
                ("min_side", "min"): 128.0}


def _features(analyzer: Analyzer, image: XrayImage) -> tuple[GateFeatures, np.ndarray]:
    m = analyzer.models
    front = m.classifier.front(image.pixels)
    prob = m.lung_mask.predict(front)
    from ..regions import clean_lung_mask

    mask = clean_lung_mask(prob, m.lung_mask.threshold)
    _, feats = m.classifier.predict(front)
    return (analyzer.gate_features(image, front, prob, mask, feats, front),
            feats.mean(axis=(0, 1)))


def chest_sets(kermany_csv: Path, masks_csv: Path, seed: int, n_kermany_fit: int
               ) -> dict[str, list[Path]]:
    """Training (fit) and held-out (measure) chest images, with the same patient splits as
    the classifier and the lung-mask model."""
    k_train, k_val = patient_split(read_table(kermany_csv), 0.1, seed)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(k_train), min(n_kermany_fit, len(k_train)), replace=False)
    m_train, m_val = split_pairs(read_pairs(masks_csv), 0.15, seed)
    return {"fit_pediatric": [k_train[i].path for i in sorted(pick)],
            "fit_adult": [p.image for p in m_train],
            "heldout_pediatric": [s.path for s in k_val],
            "heldout_adult": [p.image for p in m_val]}


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
             seed: int = 20261123, n_kermany_fit: int = 1500, n_components: int = 32,
             limit: int | None = None) -> Path:
    """Fit bounds and the atypicality model on chest training images; write ``out`` (a gate
    folder with manifest.json, atypicality.npz and gate_report.json). ``limit`` caps every
    image set (smoke runs)."""
    from sklearn.decomposition import PCA

    out.mkdir(parents=True, exist_ok=True)
    analyzer = Analyzer(ModelSet(Classifier(models_root / "classifier"),
                                 LungSegmenter(models_root / "lung_mask"), gate=None))
    sets = chest_sets(kermany_csv, masks_csv, seed, n_kermany_fit)
    if limit:
        sets = {k: v[:limit] for k, v in sets.items()}
        n_components = min(n_components, 2 * limit - 1)
    feats: dict[str, list[GateFeatures]] = {}
    pooled: dict[str, list[np.ndarray]] = {}
    for name, paths in sets.items():
        feats[name], pooled[name] = [], []
        for p in paths:
            f, v = _features(analyzer, load_image(p))
            feats[name].append(f)
            pooled[name].append(v)
        log.info("%s: %d images", name, len(paths))
    fit_pooled = np.array(pooled["fit_pediatric"] + pooled["fit_adult"])
    pca = PCA(n_components=n_components, random_state=seed).fit(fit_pooled)
    atyp = Atypicality(pca.mean_, pca.components_, np.sqrt(pca.explained_variance_))
    atyp.save(out / "atypicality.npz")
    fit = feats["fit_pediatric"] + feats["fit_adult"]
    fit_atyp = atyp(fit_pooled)
    table = {k: np.array([getattr(f, k) for f in fit]) for k in asdict(fit[0])}
    table["atypicality"] = fit_atyp
    bounds: dict[str, dict[str, float]] = {}
    for feature, side, _ in RULES:
        if (feature, side) in FIXED_BOUNDS:
            bounds.setdefault(feature, {})[side] = FIXED_BOUNDS[(feature, side)]
            continue
        q = TAIL * 100 if side == "min" else 100 - TAIL * 100
        bounds.setdefault(feature, {})[side] = float(np.percentile(table[feature], q))
    manifest = {
        "name": "radiai-chest-gate", "kind": "gate",
        "version": _dt.date.today().strftime("%Y.%m.%d"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "bounds": bounds, "atypicality": "atypicality.npz",
        "fit": {"images": {k: len(v) for k, v in sets.items() if k.startswith("fit")},
                "tail_per_bound": TAIL, "pca_components": n_components,
                "classifier_sha256": analyzer.models.classifier.info.sha256,
                "note": "bounds are percentiles of chest radiographs only; no non-chest image "
                        "was used to fit them"},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return measure_gate(models_root, out, sets, analyzer)


def measure_gate(models_root: Path, gate_dir: Path, sets: dict[str, list[Path]],
                 analyzer: Analyzer) -> Path:
    """Refusal rates on held-out chest images and on non-chest images → gate_report.json."""
    gate = ChestGate(gate_dir)
    analyzer.models.gate = gate
    rows = []

    def decide(group: str, image: XrayImage) -> None:
        f, _ = _features(analyzer, image)
        reason = gate.check(f)
        rows.append({"group": group, "image": image.meta.path, "refused": reason is not None,
                     "reason": reason, **f.to_dict()})

    for group in ("heldout_pediatric", "heldout_adult"):
        for p in sets[group]:
            img = load_image(p)
            decide(f"chest/{group}", img)
            inv = _grey(f"{p.name} (inverted)", 1.0 - img.pixels)
            decide("non_chest/inverted_chest", inv)
    for img in non_chest_images():
        try:
            decide("non_chest/" + img.meta.path.split("/")[0], img)
        except RadiAIError as exc:
            rows.append({"group": "non_chest/error", "image": img.meta.path, "refused": True,
                         "reason": exc.message})
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
