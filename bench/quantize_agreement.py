"""What an int8 runtime changes on children's films: two model folders (float32 reference,
quantized candidate) side by side on the primary classifier's pediatric validation split.

    python bench/quantize_agreement.py --reference OLD_MODELS --candidate NEW_MODELS \
        --csv ../shared/data/kermany/index.csv --out models/classifier/quantization.json

Per film, through the one inference path (``Analyzer.measure``, gate not asked): the cleaned
lung masks' Dice and lung fractions, the abnormality scores, and the decisions (each folder
with its own calibration and band). Printed and written as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radiai_core.analysis.models import load_models  # noqa: E402
from radiai_core.analysis.pipeline import Analyzer  # noqa: E402
from radiai_core.reading.io import load_image  # noqa: E402
from radiai_core.training.finalize import holdout_samples  # noqa: E402


def _measure(analyzer: Analyzer, path: Path) -> tuple[np.ndarray, float, str]:
    clf = analyzer.models.classifier
    m = analyzer.measure(load_image(path))
    score = clf.abnormal_score(m.probs)
    calibrated = clf.abnormal_score(clf.calibrate(m.probs))
    assert score is not None and calibrated is not None
    return m.mask.astype(bool), score, clf.decide(calibrated).value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reference", type=Path, required=True)
    ap.add_argument("--candidate", type=Path, required=True)
    ap.add_argument("--csv", type=Path, required=True)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    ref, cand = Analyzer(load_models(args.reference)), Analyzer(load_models(args.candidate))
    samples = holdout_samples(args.csv, cand.models.classifier.manifest)
    rows = []
    for s in samples:
        ma, sa, da = _measure(ref, s.path)
        mb, sb, db = _measure(cand, s.path)
        dice = 2 * (ma & mb).sum() / max(1, ma.sum() + mb.sum())
        rows.append({"image": s.path.name, "label": s.label, "dice": float(dice),
                     "fraction_ref": float(ma.mean()), "fraction_cand": float(mb.mean()),
                     "score_ref": sa, "score_cand": sb, "decision_ref": da, "decision_cand": db})
    dice = np.array([r["dice"] for r in rows])
    dfrac = np.array([abs(r["fraction_ref"] - r["fraction_cand"]) for r in rows])
    dscore = np.array([abs(r["score_ref"] - r["score_cand"]) for r in rows])
    changed = [r for r in rows if r["decision_ref"] != r["decision_cand"]]
    summary = {
        "reference": str(args.reference), "candidate": str(args.candidate),
        "films": len(rows),
        "lung_mask_dice": {"median": float(np.median(dice)), "p01": float(np.percentile(dice, 1)),
                           "min": float(dice.min()),
                           "worst": min(rows, key=lambda r: r["dice"])["image"]},
        "lung_fraction_abs_change": {"median": float(np.median(dfrac)),
                                     "max": float(dfrac.max())},
        "abnormality_score_abs_change": {"median": float(np.median(dscore)),
                                         "p99": float(np.percentile(dscore, 99)),
                                         "max": float(dscore.max())},
        "decisions_changed": len(changed),
        "changed": [{k: r[k] for k in ("image", "label", "score_ref", "score_cand",
                                       "decision_ref", "decision_cand")} for r in changed],
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
