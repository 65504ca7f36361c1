"""Train a DenseNet121 radiograph classifier from a labelled CSV (one label per image, softmax;
or 0/1 label columns, multi-label), resumable per epoch."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..analysis.lung_input import lung_view
from ..analysis.manifest import sha256_file
from ..analysis.preprocess import Preprocessing
from ..errors import DataError, RadiAIError
from ..reading.io import load_image
from .common import (
    file_logger,
    load_state,
    plot_curves,
    run_eagerly,
    save_state,
    setup_tensorflow,
    standardise,
)
from .datasets import Sample, ordered_labels, patient_split, read_multilabel_table, read_table
from .evaluate import multilabel_metrics, validation_metrics

log = logging.getLogger(__name__)

CANONICAL_SIZE = 224
FEATURE_LAYER = "features"  # last conv block output (after DenseNet's final BN + ReLU)


@dataclass
class ClassifierConfig:
    """The classifier training recipe's settings (size, epochs, schedule, split, lung input…)."""
    size: int = 160
    epochs: int = 8
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    val_fraction: float = 0.1
    seed: int = 20261123
    clahe_clip: float = 2.0
    clahe_tiles: int = 8
    limit: int | None = None  # use only this many training images (smoke tests)
    lung_input: str = "plain"  # plain | masked | crop (see radiai_core.analysis.lung_input)
    lung_model: str | None = None  # lung-mask model folder for masked/crop (default: shipped)
    init_weights: str | None = None  # start from this .keras model's weights (fresh schedule)
    fine_map: bool = False  # last transition without pooling: a 2x finer feature map
    framing: bool = False  # augment framing: black or white borders, crops, contrast
    photometric: bool = False  # augment acquisition: exposure curves, blur, noise, resolution
    label_smoothing: float = 0.0
    mixup: float = 0.0  # Beta(a, a) mixing of image pairs and their labels (0: off)
    multi_label: bool = False  # one sigmoid per label column (else one softmax over labels)


def build_model(size: int, n_classes: int, fine_map: bool = False, multi_label: bool = False):
    """DenseNet121 (random init) on one grey channel, global average pooling, a softmax head
    (a sigmoid per label with ``multi_label``).

    The last feature map is exposed as a layer named ``features`` so that Grad-CAM needs no
    second pass: with GAP + dense, CAM of class c is the feature map weighted by c's weights.
    With ``fine_map`` the last transition keeps its 1x1 convolution but not its 2x2 average
    pooling, so the last dense block runs at 1/16 of the input (10x10 at 160 px) instead of
    1/32: the same weights, a map twice as fine in each direction.
    """
    import keras

    inp = keras.Input((size, size, 1), name="image")
    backbone = keras.applications.DenseNet121(include_top=False, weights=None,
                                              input_tensor=inp, pooling=None)
    if fine_map:
        backbone = keras.models.clone_model(
            backbone, input_tensors=[inp],
            clone_function=lambda layer: (keras.layers.Identity(name=layer.name)
                                          if layer.name == "pool4_pool"
                                          else layer.__class__.from_config(layer.get_config())))
    feats = keras.layers.Identity(name=FEATURE_LAYER)(backbone.output)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(feats)
    x = keras.layers.Dropout(0.2, name="dropout")(x)
    out = keras.layers.Dense(n_classes, activation="sigmoid" if multi_label else "softmax",
                             name="predictions")(x)
    return keras.Model(inp, out, name="densenet121_cxr")


def preprocessing(cfg: ClassifierConfig) -> Preprocessing:
    """The input chain of a training config: the one definition the manifest records and
    serving reads back (``Preprocessing.from_manifest``)."""
    return Preprocessing(input_size=cfg.size, canonical_size=CANONICAL_SIZE,
                         clip_limit=cfg.clahe_clip, tile_grid=(cfg.clahe_tiles, cfg.clahe_tiles),
                         lung_input=cfg.lung_input)


def preprocess_samples(samples: list[Sample], cfg: ClassifierConfig) -> np.ndarray:
    """Load and preprocess (squash to 224, CLAHE, lung view, resize) without the final
    standardisation, which runs after augmentation (``common.standardise`` is the same
    per-image standardisation as ``Preprocessing.back``). Unreadable files stop training
    with their message."""
    chain = preprocessing(cfg)
    front, back = chain.front, chain.resize  # Normalize comes after augmentation
    seg = None
    if cfg.lung_input != "plain":
        from ..analysis.models import LungSegmenter
        from ..resources import models_dir

        seg = LungSegmenter(cfg.lung_model or models_dir() / "lung_mask")
    out = np.empty((len(samples), cfg.size, cfg.size, 1), dtype=np.float32)
    for i, s in enumerate(samples):
        raw = load_image(s.path).pixels
        x = front(raw)
        mask = seg.mask(raw, x, front) if seg is not None else None
        out[i, ..., 0] = back(lung_view(x, mask, cfg.lung_input).pixels)
    return out


def _augmenter(seed: int):
    import keras

    return keras.Sequential([
        keras.layers.RandomRotation(0.03, fill_mode="reflect", seed=seed),
        keras.layers.RandomZoom((-0.1, 0.1), fill_mode="reflect", seed=seed + 1),
        keras.layers.RandomTranslation(0.06, 0.06, fill_mode="reflect", seed=seed + 2),
    ], name="augment")


def _framing(seed: int):
    """Augmentation aimed at acquisition framing (the shortcut the stress suite found: borders
    and collimation tell cohorts apart): per image, a black border (a quarter of the images),
    a white one (a tenth), a crop into the field (a quarter), or none; then a contrast change.
    Blur, noise, resolution, aspect and erased corners are left out, so those stresses stay
    untouched evidence."""
    import keras
    import tensorflow as tf

    out_black = keras.layers.RandomZoom((0.05, 0.3), fill_mode="constant", fill_value=0.0,
                                        seed=seed)
    out_white = keras.layers.RandomZoom((0.05, 0.2), fill_mode="constant", fill_value=1.0,
                                        seed=seed + 1)
    crop = keras.layers.RandomZoom((-0.2, -0.05), fill_mode="reflect", seed=seed + 2)
    gen = tf.random.Generator.from_seed(seed + 3)

    def apply(xb):
        n = tf.shape(xb)[0]
        u = gen.uniform((n, 1, 1, 1))
        xb = tf.where(u < 0.25, out_black(xb, training=True),
                      tf.where(u < 0.35, out_white(xb, training=True),
                               tf.where(u < 0.6, crop(xb, training=True), xb)))
        c = gen.uniform((n, 1, 1, 1), 0.7, 1.3)
        mean = tf.reduce_mean(xb, axis=[1, 2, 3], keepdims=True)
        return tf.clip_by_value((xb - mean) * c + mean, 0.0, 1.0)

    return apply


def _photometric(seed: int):
    """Augmentation aimed at acquisition (the look that tells a cohort of normals apart:
    exposure, processing, detector): per image, a wide gamma, a window (black and white points
    moved by up to 10 %), a blur or an unsharp mask, Gaussian noise, and, for a third of the
    batches, a resolution loss (down to 40-80 % of the size and back)."""
    import tensorflow as tf

    gen = tf.random.Generator.from_seed(seed)
    kernel = tf.constant([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0
    kernel = tf.reshape(tf.tensordot(kernel, kernel, axes=0), (5, 5, 1, 1))

    def apply(xb):
        n = tf.shape(xb)[0]
        size = tf.shape(xb)[1:3]
        shape = (n, 1, 1, 1)
        lo = gen.uniform(shape, -0.1, 0.1)
        hi = gen.uniform(shape, 0.9, 1.1)
        xb = tf.clip_by_value((xb - lo) / (hi - lo), 0.0, 1.0)
        xb = tf.pow(tf.clip_by_value(xb, 1e-6, 1.0), tf.exp(gen.uniform(shape, -0.5, 0.5)))
        blurred = tf.nn.conv2d(tf.pad(xb, [[0, 0], [2, 2], [2, 2], [0, 0]], "SYMMETRIC"),
                               kernel, 1, "VALID")
        # a in [-1, 1.5]: negative sharpens (unsharp mask), positive blurs
        a = gen.uniform(shape, -1.0, 1.5)
        xb = xb + a * (blurred - xb)
        xb = xb + gen.uniform(shape, 0.0, 0.03) * gen.normal(tf.shape(xb))
        f = gen.uniform((), 0.4, 0.8)
        small = tf.cast(tf.cast(size, tf.float32) * f, tf.int32)
        lowres = tf.image.resize(tf.image.resize(xb, small, "area"), size, "bilinear")
        xb = tf.cond(gen.uniform(()) < 1.0 / 3.0, lambda: lowres, lambda: xb)
        return tf.clip_by_value(xb, 0.0, 1.0)

    return apply


def _mixup(alpha: float, seed: int):
    """Mixup (Zhang et al. 2018): each image of a batch is blended with another of the same
    batch by a weight drawn from Beta(alpha, alpha), and so are its label and sample weight,
    so that the model is asked for proportionate answers between two films instead of
    confident ones on the features a cohort happens to share."""
    import tensorflow as tf

    gen = tf.random.Generator.from_seed(seed)

    def apply(xb, yb, wb):
        n = tf.shape(xb)[0]
        a = gen.uniform((), 0, 2**31 - 1, dtype=tf.int64)
        g1 = tf.random.stateless_gamma((n,), tf.stack([a, 1]), alpha)
        g2 = tf.random.stateless_gamma((n,), tf.stack([a, 2]), alpha)
        lam = g1 / (g1 + g2)
        order = tf.argsort(gen.uniform((n,)))
        mix_x = tf.reshape(lam, (-1, 1, 1, 1))
        mix_y = tf.reshape(lam, (-1, 1))
        xb = mix_x * xb + (1.0 - mix_x) * tf.gather(xb, order)
        yb = mix_y * yb + (1.0 - mix_y) * tf.gather(yb, order)
        wb = lam * wb + (1.0 - lam) * tf.gather(wb, order)
        return xb, yb, wb

    return apply


def _train_dataset(x: np.ndarray, y: np.ndarray, w: np.ndarray, cfg: ClassifierConfig,
                   epoch: int):
    import tensorflow as tf

    aug = _augmenter(cfg.seed + 97 * epoch)
    framing = _framing(cfg.seed + 89 * epoch) if cfg.framing else None
    photometric = _photometric(cfg.seed + 83 * epoch) if cfg.photometric else None
    mixup = _mixup(cfg.mixup, cfg.seed + 79 * epoch) if cfg.mixup > 0 else None
    gen = tf.random.Generator.from_seed(cfg.seed + epoch)

    def augment(xb, yb, wb):
        xb = aug(xb, training=True)
        if framing is not None:
            xb = framing(xb)
        if photometric is not None:
            xb = photometric(xb)
        # Gamma jitter: a non-linear exposure change that standardisation does not undo.
        gamma = tf.exp(gen.uniform((tf.shape(xb)[0], 1, 1, 1), -0.2, 0.2))
        xb = tf.pow(tf.clip_by_value(xb, 1e-6, 1.0), gamma)
        xb = standardise(xb)
        if mixup is not None:
            xb, yb, wb = mixup(xb, yb, wb)
        return xb, yb, wb

    ds = tf.data.Dataset.from_tensor_slices((x, y, w))
    ds = ds.shuffle(len(x), seed=cfg.seed + epoch, reshuffle_each_iteration=False)
    ds = ds.batch(cfg.batch_size, drop_remainder=True).map(augment, num_parallel_calls=1)
    return ds.prefetch(2)


def _load_init_weights(model, path: Path) -> None:
    """Copy the weights of a trained classifier with the same labels (a second training stage
    with its own schedule; the input size may differ, the weights do not depend on it); a file
    with other weights stops training with a clear message."""
    import keras

    if not path.is_file():
        raise RadiAIError("cannot be read: no such file (--init-weights expects a .keras "
                          "classifier).", path)
    source = keras.models.load_model(path, compile=False)
    shapes = [w.shape for w in source.get_weights()]
    if shapes != [w.shape for w in model.get_weights()]:
        raise DataError("has another architecture or label count than this training run; "
                        "--init-weights needs a RadiAI classifier trained on the same labels.",
                        path)
    model.set_weights(source.get_weights())
    log.info("initialised from %s (sha256 %s)", path, sha256_file(path)[:12])


def predict_probabilities(model, x: np.ndarray, batch_size: int = 64) -> np.ndarray:
    """Probabilities of a Keras classifier for preprocessed images, in batches."""
    import tensorflow as tf

    probs = []
    for i in range(0, len(x), batch_size):
        probs.append(model(standardise(tf.constant(x[i:i + batch_size])), training=False).numpy())
    return np.concatenate(probs) if probs else np.zeros((0, model.output_shape[-1]))


def class_weights(y: np.ndarray, n_classes: int) -> np.ndarray:
    """Inverse-frequency weights, mean 1 over the training set."""
    counts = np.bincount(y, minlength=n_classes).astype(np.float64)
    if (counts == 0).any():
        raise DataError("every label needs at least one training image; missing: "
                        f"{[i for i, c in enumerate(counts) if c == 0]}")
    return (len(y) / (n_classes * counts)).astype(np.float32)


def train_classifier(csv_path: str | Path, out: str | Path, cfg: ClassifierConfig,
                     resume: bool = False, display_names: dict[str, str] | None = None,
                     title: str | None = None, name: str = "radiai-densenet121-cxr") -> Path:
    """Train, checkpointing after every epoch into ``out/checkpoint``; returns the folder of
    the exported model (``out/model``) with weights, manifest and validation predictions.
    ``name`` identifies the model (manifest, history); ``title`` is how the faces name it
    (default: its name).

    Raises
    ------
    DataError
        The table is missing, malformed, or too small for one batch and a validation split.
    RadiAIError
        ``resume`` without a checkpoint; an image of the table cannot be read.
    """
    out = Path(out)
    handler = file_logger(out, "train_classifier")
    try:
        return _train(Path(csv_path), out, cfg, resume, display_names or {}, title, name)
    finally:
        logging.getLogger("radiai_core").removeHandler(handler)
        handler.close()


def _train(csv_path: Path, out: Path, cfg: ClassifierConfig, resume: bool,
           display_names: dict[str, str], title: str | None, name: str) -> Path:
    setup_tensorflow(cfg.seed)
    import keras

    ckpt_dir = out / "checkpoint"
    state_path = ckpt_dir / "state.json"
    state = load_state(state_path) if resume else None
    if resume and state is None:
        raise RadiAIError(f"has no checkpoint to resume from ({state_path} is missing); "
                          "run without --resume to start.", out)
    if state is not None:
        cfg = ClassifierConfig(**{**state["config"], "epochs": cfg.epochs})
    if cfg.multi_label:
        labels, samples = read_multilabel_table(csv_path)
    else:
        samples = read_table(csv_path)
        labels = ordered_labels([s.label for s in samples])
    train, val = patient_split(samples, cfg.val_fraction, cfg.seed)
    if cfg.limit:
        rng = np.random.default_rng(cfg.seed)
        train = [train[i] for i in sorted(rng.choice(len(train), min(cfg.limit, len(train)),
                                                      replace=False))]
        val = val[: max(cfg.limit // 4, 4)]
    if not val:
        raise DataError("leaves no validation images; add rows or raise --val-fraction.",
                        csv_path)
    log.info("labels %s (%s); %d training images (%d patients), %d validation (%d patients)",
             labels, "multi-label" if cfg.multi_label else "one per image", len(train),
             len({s.patient_id for s in train}), len(val), len({s.patient_id for s in val}))
    t0 = time.perf_counter()
    x_tr, x_va = preprocess_samples(train, cfg), preprocess_samples(val, cfg)
    log.info("preprocessed in %.1f s", time.perf_counter() - t0)
    if cfg.multi_label:
        y_tr_1h = np.array([s.targets for s in train], np.float32)
        y_va = np.array([s.targets for s in val], np.float32)
        w_tr = np.ones(len(train), np.float32)
        counts = dict(zip(labels, y_tr_1h.sum(0).astype(int).tolist(), strict=True))
        log.info("positive training images per label %s", counts)
        for lab, n in counts.items():
            if n == 0:
                log.warning("label %r has no positive training image: the model will learn "
                            "to say no to it", lab)
    else:
        y_tr = np.array([labels.index(s.label) for s in train])
        y_va = np.array([labels.index(s.label) for s in val])
        cw = class_weights(y_tr, len(labels))
        log.info("class weights %s", dict(zip(labels, np.round(cw, 3).tolist(), strict=True)))
        w_tr = cw[y_tr]
        y_tr_1h = keras.utils.to_categorical(y_tr, len(labels)).astype(np.float32)
    steps_per_epoch = len(x_tr) // cfg.batch_size
    if steps_per_epoch == 0:
        raise DataError(f"has fewer training images ({len(x_tr)}) than one batch "
                        f"({cfg.batch_size}).", csv_path)

    if state is not None:
        model = keras.models.load_model(ckpt_dir / "model.keras")
        start, history = state["epochs_done"], state["history"]
        log.info("resuming after epoch %d of %d", start, cfg.epochs)
    else:
        model = build_model(cfg.size, len(labels), cfg.fine_map, cfg.multi_label)
        if cfg.init_weights:
            _load_init_weights(model, Path(cfg.init_weights))
        schedule = keras.optimizers.schedules.CosineDecay(
            0.0, decay_steps=max(1, steps_per_epoch * cfg.epochs - steps_per_epoch // 2),
            warmup_target=cfg.lr, warmup_steps=steps_per_epoch // 2, alpha=0.01)
        model.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay),
                      loss=(keras.losses.BinaryCrossentropy if cfg.multi_label
                            else keras.losses.CategoricalCrossentropy)(
                          label_smoothing=cfg.label_smoothing),
                      weighted_metrics=[keras.metrics.BinaryAccuracy(name="accuracy")
                                        if cfg.multi_label else "accuracy"])
        start, history = 0, []
    model.run_eagerly = run_eagerly(steps_per_epoch, cfg.epochs)
    if model.run_eagerly:
        log.info("%d training steps in all: run eagerly (tracing the training graph would "
                 "take longer)", steps_per_epoch * cfg.epochs)

    for epoch in range(start, cfg.epochs):
        t0 = time.perf_counter()
        ds = _train_dataset(x_tr, y_tr_1h, w_tr, cfg, epoch)
        fit = model.fit(ds, epochs=epoch + 1, initial_epoch=epoch, verbose=2)
        train_time = time.perf_counter() - t0
        probs = predict_probabilities(model, x_va)
        vm = (multilabel_metrics if cfg.multi_label else validation_metrics)(probs, y_va, labels)
        row = {"epoch": epoch + 1, "train_loss": float(fit.history["loss"][-1]),
               "train_accuracy": float(fit.history["accuracy"][-1]),
               "images_per_s": steps_per_epoch * cfg.batch_size / train_time,
               **{f"val_{k}": v for k, v in vm.items()}}
        history.append(row)
        log.info("epoch %d/%d %s", epoch + 1, cfg.epochs,
                 " ".join(f"{k}={v:.4f}" for k, v in row.items() if k != "epoch"))
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        model.save(ckpt_dir / "model.tmp.keras")
        (ckpt_dir / "model.tmp.keras").replace(ckpt_dir / "model.keras")
        save_state(state_path, {"config": asdict(cfg), "epochs_done": epoch + 1,
                                "history": history, "labels": labels})
        plot_curves(history, ["loss", "accuracy",
                              "auc_macro" if cfg.multi_label else "auc_abnormal"],
                    out / "curves.png",
                    f"DenseNet121 classifier, {cfg.size} px")

    return _export(model, out, cfg, labels, display_names, history, val, probs, csv_path, title,
                   name)


def _export(model, out: Path, cfg: ClassifierConfig, labels: list[str],
            display_names: dict[str, str], history: list[dict], val: list[Sample],
            probs: np.ndarray, csv_path: Path, title: str | None, name: str) -> Path:
    import keras

    model_dir = out / "model"
    model_dir.mkdir(parents=True, exist_ok=True)
    clean = build_model(cfg.size, len(labels), cfg.fine_map, cfg.multi_label)
    clean.set_weights(model.get_weights())
    weights = model_dir / "classifier.keras"
    clean.save(weights)
    # Validation predictions, kept so thresholds, calibration and intervals can be recomputed.
    with open(model_dir / "validation_predictions.csv", "w", encoding="utf-8") as f:
        f.write("path,patient_id,label," + ",".join(f"p_{lab}" for lab in labels) + "\n")
        for s, p in zip(val, probs, strict=True):
            truth = ("|".join(lab for lab, v in zip(labels, s.targets, strict=True) if v)
                     if cfg.multi_label else s.label)
            f.write(f"{s.path.name},{s.patient_id},{truth},"
                    + ",".join(f"{v:.6f}" for v in p) + "\n")
    manifest = {
        "name": name,
        "title": title or name,
        "kind": "classifier",
        "version": _dt.date.today().strftime("%Y.%m.%d"),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "architecture": ("DenseNet121 (random init"
                         + ("; last transition without pooling: 1/16 feature map" if cfg.fine_map
                            else "") + ") + global average pooling + "
                         + ("one sigmoid per label" if cfg.multi_label else "softmax")),
        "weights": weights.name,
        "sha256": sha256_file(weights),
        "labels": labels,
        "display_names": {lab: display_names.get(lab, lab) for lab in labels},
        "negative_label": "normal" if "normal" in labels else None,
        "multi_label": cfg.multi_label,
        "input": {"size": cfg.size, "channels": 1},
        "feature_layer": FEATURE_LAYER,
        "preprocessing": preprocessing(cfg).to_manifest(),
        "training": {"csv": csv_path.name, "config": asdict(cfg),
                     "keras": keras.__version__, "history": history,
                     "n_validation": len(val)},
    }
    (model_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    log.info("exported %s (sha256 %s)", weights, str(manifest["sha256"])[:12])
    return model_dir
