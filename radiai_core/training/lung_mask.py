"""Train the U-Net lung-mask model (segmentation-models, encoder from scratch), resumable."""

from __future__ import annotations

import csv
import datetime as _dt
import hashlib
import json
import logging
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..analysis.manifest import sha256_file
from ..analysis.preprocess import Preprocessing, Resize
from ..errors import DataError, RadiAIError
from ..reading.io import load_image
from .common import (
    file_logger,
    load_state,
    plot_curves,
    run_eagerly,
    save_state,
    setup_tensorflow,
)

log = logging.getLogger(__name__)

CANONICAL_SIZE = 224


@dataclass
class LungMaskConfig:
    """The lung-mask training recipe's settings."""
    size: int = 192
    encoder: str = "mobilenetv2"
    decoder_filters: tuple[int, ...] = (128, 64, 32, 16, 8)
    epochs: int = 40
    batch_size: int = 16
    lr: float = 2e-3
    val_fraction: float = 0.15
    seed: int = 20261123
    limit: int | None = None


@dataclass(frozen=True)
class MaskPair:
    """One image with its lung mask and patient."""
    image: Path
    mask: Path
    patient_id: str
    dataset: str


def read_pairs(csv_path: str | Path) -> list[MaskPair]:
    """Rows with ``image_path`` and ``mask_path`` relative to the CSV (as in the shared
    lung_masks/index.csv), optionally ``patient_id`` and ``dataset``."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError("does not exist or is not a file.", csv_path)
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {"image_path", "mask_path"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"has no column(s) {', '.join(sorted(missing))}.", csv_path)
        rows = list(reader)
    root = csv_path.parent
    return [MaskPair(root / r["image_path"], root / r["mask_path"],
                     r.get("patient_id") or r["image_path"], r.get("dataset") or "")
            for r in rows]


def split_pairs(pairs: list[MaskPair], val_fraction: float,
                seed: int) -> tuple[list[MaskPair], list[MaskPair]]:
    """Held-out pairs by patient, per dataset, with a seeded hash (order independent)."""
    def bucket(pid: str) -> float:
        return int.from_bytes(hashlib.sha256(f"{seed}:{pid}".encode()).digest()[:8], "big") / 2**64

    val_ids: set[str] = set()
    for ds in sorted({p.dataset for p in pairs}):
        ids = sorted({p.patient_id for p in pairs if p.dataset == ds}, key=bucket)
        val_ids.update(ids[: round(len(ids) * val_fraction)])
    return ([p for p in pairs if p.patient_id not in val_ids],
            [p for p in pairs if p.patient_id in val_ids])


def mask_preprocessing(size: int) -> Preprocessing:
    """The U-Net's input chain: the one definition its manifest records and serving reads."""
    return Preprocessing(input_size=size, canonical_size=CANONICAL_SIZE)


def mask_input(pixels: np.ndarray, size: int) -> np.ndarray:
    """Image → U-Net input before standardisation: squash to the canonical 224, CLAHE, resize."""
    chain = mask_preprocessing(size)
    return chain.resize(chain.front(pixels))


def load_pairs(pairs: list[MaskPair], size: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs' images (preprocessed for the lung model) and their binary masks, at
    ``size``, as (n, size, size, 1) float32 arrays."""
    x = np.empty((len(pairs), size, size, 1), np.float32)
    y = np.empty((len(pairs), size, size, 1), np.float32)
    for i, p in enumerate(pairs):
        x[i, ..., 0] = mask_input(load_image(p.image).pixels, size)
        m = load_image(p.mask).pixels
        y[i, ..., 0] = (Resize(size, size)(m) >= 0.5).astype(np.float32)
    return x, y


def segmentation_models():
    """segmentation-models on Keras 3: SM_FRAMEWORK must be set before its first import."""
    os.environ.setdefault("SM_FRAMEWORK", "tf.keras")
    import segmentation_models as sm

    return sm


def build_unet(cfg: LungMaskConfig):
    """The U-Net (segmentation-models) on one grey channel, sigmoid output."""
    return segmentation_models().Unet(cfg.encoder, encoder_weights=None,
                                      input_shape=(cfg.size, cfg.size, 1), classes=1,
                                      activation="sigmoid",
                                      decoder_filters=tuple(cfg.decoder_filters))


def dice(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """Per-image Dice of binary masks (1.0 when both are empty)."""
    p = pred.reshape(len(pred), -1).astype(bool)
    t = truth.reshape(len(truth), -1).astype(bool)
    inter = (p & t).sum(1)
    total = p.sum(1) + t.sum(1)
    return np.where(total == 0, 1.0, 2 * inter / np.maximum(total, 1))


def _dataset(x: np.ndarray, y: np.ndarray, cfg: LungMaskConfig, epoch: int):
    import keras
    import tensorflow as tf

    from .common import standardise

    s = cfg.seed + 97 * epoch
    aug = keras.Sequential([
        keras.layers.RandomRotation(0.04, fill_mode="constant", seed=s),
        keras.layers.RandomZoom((-0.12, 0.12), fill_mode="constant", seed=s + 1),
        keras.layers.RandomTranslation(0.06, 0.06, fill_mode="constant", seed=s + 2),
    ])
    gen = tf.random.Generator.from_seed(s)

    def augment(xb, yb):
        both = aug(tf.concat([xb, yb], axis=-1), training=True)  # same transform for both
        xb, yb = both[..., :1], tf.cast(both[..., 1:] >= 0.5, tf.float32)
        gamma = tf.exp(gen.uniform((tf.shape(xb)[0], 1, 1, 1), -0.25, 0.25))
        xb = tf.pow(tf.clip_by_value(xb, 1e-6, 1.0), gamma)
        return standardise(xb), yb

    ds = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=s)
    return ds.batch(cfg.batch_size, drop_remainder=True).map(augment).prefetch(2)


def predict_masks(model, x: np.ndarray, batch_size: int = 32) -> np.ndarray:
    """Lung probability maps of a Keras lung-mask model for preprocessed images."""
    import tensorflow as tf

    from .common import standardise

    out = [model(standardise(tf.constant(x[i:i + batch_size])), training=False).numpy()
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out)


def train_lung_mask(csv_path: str | Path, out: str | Path, cfg: LungMaskConfig,
                    resume: bool = False) -> Path:
    """Train the lung-mask U-Net from a pairs table into ``out`` (checkpoints, resume, curves);
    return the run folder."""
    out = Path(out)
    handler = file_logger(out, "train_lung_mask")
    try:
        return _train(Path(csv_path), out, cfg, resume)
    finally:
        logging.getLogger("radiai_core").removeHandler(handler)
        handler.close()


def _train(csv_path: Path, out: Path, cfg: LungMaskConfig, resume: bool) -> Path:
    setup_tensorflow(cfg.seed)
    import keras

    sm = segmentation_models()

    ckpt_dir = out / "checkpoint"
    state_path = ckpt_dir / "state.json"
    state = load_state(state_path) if resume else None
    if resume and state is None:
        raise RadiAIError(f"has no checkpoint to resume from ({state_path} is missing).", out)
    if state is not None:
        cfg = LungMaskConfig(**{**state["config"], "epochs": cfg.epochs})
    pairs = read_pairs(csv_path)
    train, val = split_pairs(pairs, cfg.val_fraction, cfg.seed)
    if cfg.limit:
        train, val = train[: cfg.limit], val[: max(cfg.limit // 4, 2)]
    log.info("%d training pairs, %d held-out pairs", len(train), len(val))
    x_tr, y_tr = load_pairs(train, cfg.size)
    x_va, y_va = load_pairs(val, cfg.size)
    steps = len(x_tr) // cfg.batch_size
    if steps == 0:
        raise DataError("has fewer training pairs than one batch.", csv_path)
    model = build_unet(cfg)
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, steps * cfg.epochs - steps), warmup_target=cfg.lr,
        warmup_steps=steps, alpha=0.01)
    model.compile(keras.optimizers.Adam(schedule),
                  loss=sm.losses.bce_dice_loss, metrics=[sm.metrics.iou_score])
    start, history = 0, []
    if state is not None:
        # segmentation-models losses do not deserialise: restore weights and optimizer state.
        model.optimizer.build(model.trainable_variables)
        model.load_weights(ckpt_dir / "unet.weights.h5")
        opt_vars = np.load(ckpt_dir / "optimizer.npz")
        for var, key in zip(model.optimizer.variables, sorted(opt_vars, key=int), strict=True):
            var.assign(opt_vars[key])
        start, history = state["epochs_done"], state["history"]
        log.info("resuming after epoch %d of %d", start, cfg.epochs)
    model.run_eagerly = run_eagerly(steps, cfg.epochs)
    if model.run_eagerly:
        log.info("%d training steps in all: run eagerly (tracing the training graph would "
                 "take longer)", steps * cfg.epochs)
    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        fit = model.fit(_dataset(x_tr, y_tr, cfg, epoch), epochs=epoch + 1,
                        initial_epoch=epoch, verbose=2)
        probs = predict_masks(model, x_va)
        d = dice(probs >= 0.5, y_va >= 0.5)
        row = {"epoch": epoch + 1, "train_loss": float(fit.history["loss"][-1]),
               "val_dice": float(d.mean()), "val_dice_min": float(d.min()),
               "seconds": time.perf_counter() - t0}
        history.append(row)
        log.info("epoch %d/%d %s", epoch + 1, cfg.epochs,
                 " ".join(f"{k}={v:.4f}" for k, v in row.items() if k != "epoch"))
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        model.save_weights(ckpt_dir / "unet.weights.h5")
        np.savez(ckpt_dir / "optimizer.npz",
                 **{str(i): v.numpy() for i, v in enumerate(model.optimizer.variables)})
        save_state(state_path, {"config": asdict(cfg), "epochs_done": epoch + 1,
                                "history": history})
        plot_curves(history, ["loss", "dice"], out / "curves.png",
                    f"U-Net lung mask, {cfg.size} px")
    return _export(model, out, cfg, history, val, d, csv_path)


def _export(model, out: Path, cfg: LungMaskConfig, history: list[dict], val: list[MaskPair],
            val_dice: np.ndarray, csv_path: Path) -> Path:
    import keras

    model_dir = out / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    clean = build_unet(cfg)
    clean.set_weights(model.get_weights())
    weights = model_dir / "lung_mask.keras"
    clean.save(weights)
    with open(model_dir / "validation_dice.csv", "w", encoding="utf-8") as f:
        f.write("image,patient_id,dataset,dice\n")
        for p, dv in zip(val, val_dice, strict=True):
            f.write(f"{p.image.name},{p.patient_id},{p.dataset},{dv:.5f}\n")
    manifest = {
        "name": "radiai-unet-lungs",
        "kind": "lung_mask",
        "version": _dt.date.today().strftime("%Y.%m.%d"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "architecture": f"U-Net (segmentation-models 1.0.1), {cfg.encoder} encoder from scratch, "
                        f"decoder filters {list(cfg.decoder_filters)}",
        "weights": weights.name,
        "sha256": sha256_file(weights),
        "labels": ["lungs"],
        "input": {"size": cfg.size, "channels": 1},
        "threshold": 0.5,
        "preprocessing": mask_preprocessing(cfg.size).to_manifest(),
        "training": {"csv": csv_path.name, "config": asdict(cfg), "keras": keras.__version__,
                     "history": history, "n_validation": len(val)},
        "metrics": {"val_dice_mean": float(val_dice.mean()),
                    "val_dice_median": float(np.median(val_dice)),
                    "val_dice_min": float(val_dice.min())},
    }
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    log.info("exported %s", weights)
    return model_dir
