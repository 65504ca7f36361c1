"""The gate's age head on adult sources it never saw: leave one adult source out at a time.

    python bench/gate_sources.py --cache GATE_CACHE [--data ../shared/data] [--out FILE.json]

``GATE_CACHE`` is the feature cache of a gate fit (``radiai train gate ... --cache DIR``; the
features of the models the gate was fitted on). For each adult source (adult_cxr's ``source``
column, and Montgomery and Shenzhen of lung_masks), the age head of the shipped recipe (the
same network and inputs as ``training.gate.fit_scope_heads``; standardised on these fit
images, not on every category) is fitted on the fit side of the pediatric images and of
every *other* adult source; its threshold is the
out-of-fold percentile of the pediatric images at the shipped budget (``HEAD_BUDGET``, 5 folds
grouped by patient). Reported per source: the share of its adults (every image of the source)
that the head calls adult, and the share of the held-out children (the classifier's
validation patients) it calls adult. The age head alone: the bounds and the body head refuse
a few more of an unseen source in the full gate.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from radiai_core.analysis.gate import GateFeatures, scope_vector  # noqa: E402
from radiai_core.training.gate import HEAD_BUDGET, _logit, _mlp, _oof, gate_items  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, required=True, help="a gate fit's --cache folder")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, help="write the figures as JSON")
    args = ap.parse_args()
    with np.load(args.cache / "features.npz", allow_pickle=False) as d:
        cached = {str(k): (g, v) for k, g, v in zip(d["keys"], d["gate"], d["pooled"],
                                                   strict=True)}
    names = [f.name for f in fields(GateFeatures)]
    items, rows = [], []
    for it in gate_items(args.data):
        key = str(it.path)
        if it.category not in ("pediatric", "adult") or key not in cached:
            continue
        g, v = cached[key]
        f = GateFeatures(**{n: None if np.isnan(x) else float(x)
                            for n, x in zip(names, g, strict=True)})
        items.append(it)
        rows.append(scope_vector(v, f))
    if not items:
        sys.exit(f"{args.cache / 'features.npz'} holds none of the images under {args.data}: "
                 "run from the folder the gate was fitted from, with its --data")
    x = np.array(rows)
    cat = np.array([i.category for i in items])
    src = np.array([i.source for i in items])
    side = np.array([i.split for i in items])
    grp = np.array([i.group for i in items])
    y = (cat == "adult").astype(int)
    children = (cat == "pediatric") & (side == "heldout")
    result: dict[str, dict[str, float | int]] = {}
    for source in sorted(set(src[cat == "adult"])):
        fit = (side == "fit") & (src != source)
        mean, scale = x[fit].mean(axis=0), x[fit].std(axis=0)
        scale[scale < 1e-8] = 1.0
        z = (x - mean) / scale
        oof = _logit(_oof(_mlp, z[fit], y[fit], grp[fit])[:, 1])
        cut = np.percentile(oof[cat[fit] == "pediatric"],
                            100 - 100 * HEAD_BUDGET["adult_logodds_max"])
        head = _mlp().fit(z[fit], y[fit])
        unseen = (cat == "adult") & (src == source)
        adult = _logit(head.predict_proba(z[unseen])[:, 1]) > cut
        kids = _logit(head.predict_proba(z[children])[:, 1]) > cut
        result[source] = {"adults": int(unseen.sum()), "refused_as_adult": float(adult.mean()),
                          "children_held_out": int(children.sum()),
                          "children_called_adult": float(kids.mean())}
        print(f"{source:12s} {unseen.sum():5d} adults: {adult.mean():6.1%} called adult; "
              f"held-out children called adult {kids.mean():.2%}", flush=True)
    mean_refused = float(np.mean([r["refused_as_adult"] for r in result.values()]))
    print(f"mean over sources: {mean_refused:.1%}")
    if args.out:
        args.out.write_text(json.dumps({"cache": str(args.cache), "per_source": result,
                                        "mean_refused_as_adult": mean_refused}, indent=2))


if __name__ == "__main__":
    main()
