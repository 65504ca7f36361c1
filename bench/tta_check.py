"""Does test-time augmentation help a classifier? Validation split only (by patient, as in
training): AUCs of each single variant and of the averaged probabilities.

    python bench/tta_check.py --csv ../shared/data/kermany/index.csv [--models models/classifier]

Variants of the front image (squashed, CLAHE): identity, shifts of ±4 % along x and y, zoom
0.93 and 1.07, rotation ±5° (reflect padding). Prints pneumonia-vs-normal and
bacterial-vs-viral AUC per variant and for the means.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from sklearn.metrics import roc_auc_score

from radiai_core.analysis.models import Classifier
from radiai_core.reading.io import load_image
from radiai_core.resources import models_dir
from radiai_core.training.datasets import patient_split, read_table

VARIANTS = {"identity": {}, "shift +x": {"dx": 0.04}, "shift -x": {"dx": -0.04},
            "shift +y": {"dy": 0.04}, "shift -y": {"dy": -0.04}, "zoom 0.93": {"s": 0.93},
            "zoom 1.07": {"s": 1.07}, "rotate +5": {"rot": 5.0}, "rotate -5": {"rot": -5.0}}


def warp(img: np.ndarray, dx: float = 0.0, dy: float = 0.0, s: float = 1.0,
         rot: float = 0.0) -> np.ndarray:
    h, w = img.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), rot, s)
    m[0, 2] += dx * w
    m[1, 2] += dy * h
    return cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", required=True, type=Path, help="the classifier's training table")
    ap.add_argument("--models", type=Path, default=models_dir() / "classifier")
    ap.add_argument("--seed", type=int, default=20261123, help="the training run's split seed")
    args = ap.parse_args()
    clf = Classifier(args.models)
    _, val = patient_split(read_table(args.csv), 0.1, args.seed)
    probs = {k: [] for k in VARIANTS}
    for s in val:
        front = clf.front(load_image(s.path).pixels)
        for k, kw in VARIANTS.items():
            probs[k].append(clf.predict(warp(front, **kw) if kw else front)[0])
    y = np.array([clf.labels.index(s.label) for s in val])
    n, b, v = (clf.labels.index(lab) for lab in ("normal", "bacterial", "viral"))
    sel = np.isin(y, [b, v])

    def aucs(p: np.ndarray) -> str:
        pb = p[sel, b] / (p[sel, b] + p[sel, v])
        return (f"pneumonia-vs-normal {roc_auc_score(y != n, 1 - p[:, n]):.4f}  "
                f"bacterial-vs-viral {roc_auc_score(y[sel] == b, pb):.4f}")

    print(f"{len(val)} validation images")
    arrays = {k: np.array(p) for k, p in probs.items()}
    for k, p in arrays.items():
        print(f"{k:<12}{aucs(p)}")
    print(f"{'mean of all':<12}{aucs(np.mean(list(arrays.values()), axis=0))}")
    shifts = [arrays[k] for k in VARIANTS if k == "identity" or k.startswith("shift")]
    print(f"{'mean shifts':<12}{aucs(np.mean(shifts, axis=0))}")


if __name__ == "__main__":
    main()
