"""`radiai evaluate`: a classifier's metrics on a labelled table (the primary one, or any model
of the set with --model), and the model-selection protocol."""

from __future__ import annotations

import argparse
import json
from functools import partial
from typing import Any, TextIO


def cmd_evaluate(args: argparse.Namespace, out: TextIO) -> int:
    """``radiai evaluate``: the shipped pipeline's metrics on a labelled table, and with
    ``--protocol`` the model-selection protocol."""
    from ..analysis.pipeline import default_analyzer
    from ..training.evaluate import metrics, plot_roc_and_confusion, predict_table, select_rows

    analyzer = default_analyzer()
    if args.model is not None:
        return _evaluate_model(args, analyzer, out)
    clf = analyzer.models.classifier
    if args.holdout:
        from ..training.finalize import holdout_samples

        samples = holdout_samples(args.csv, clf.manifest)
    else:
        samples = select_rows(args.csv, args.split)
    # Probabilities only: no model explains (the protocol measures the maps itself).
    pred = predict_table(partial(analyzer.analyze, explain=False), clf.labels, samples,
                         args.csv)
    m = metrics(pred, clf.threshold, clf.negative_label)
    m["errors"] = [{"path": p, "message": msg} for p, msg in pred.errors]
    m["rejected"] = [{"path": p, "message": msg} for p, msg in pred.rejected]
    if args.out:
        m["plots"] = [str(p) for p in plot_roc_and_confusion(pred, m, args.out,
                                                             clf.negative_label or "normal")]
    if not args.json:
        out.write(f"n = {m['n']} images ({len(pred.errors)} unreadable, {len(pred.rejected)} "
                  "refused by the gate)\n")
        out.write(f"{'label':<12}{'precision':>10}{'recall':>8}{'F1':>8}{'n':>6}\n")
        for lab, v in m["per_class"].items():
            out.write(f"{lab:<12}{v['precision']:>10.3f}{v['recall']:>8.3f}{v['f1']:>8.3f}"
                      f"{v['support']:>6}\n")
        out.write("confusion matrix (rows true, columns predicted): "
                  f"{m['confusion_matrix']}\n")
        out.write(f"top-1 accuracy {m['accuracy_top1']:.3f}\n")
        if "auc" in m:
            out.write(f"abnormal vs {clf.negative_label}: AUC {m['auc']:.4f}; at threshold "
                      f"{m['threshold']:.3f}: accuracy {m['accuracy']:.3f}, sensitivity "
                      f"{m['sensitivity']:.3f}, specificity {m['specificity']:.3f}\n")
        for key in [k for k in m if k.startswith("auc_")]:
            out.write(f"{key[4:].replace('_', ' ')}: AUC {m[key]:.4f}\n")
        for e in m["errors"]:
            out.write(f"ERROR  {e['path']}: {e['message']}\n")
        for e in m["rejected"]:
            out.write(f"REFUSED {e['path']}: {e['message']}\n")
    if args.protocol:
        m["protocol"] = _protocol(args, analyzer, samples, out)
    if args.json:
        out.write(json.dumps(m) + "\n")
    return 0


def _evaluate_model(args: argparse.Namespace, analyzer: Any, out: TextIO) -> int:
    """``--model KEY``: one model of the set on a table of its labels; a multi-label model on
    a table of 0/1 label columns, label by label at the thresholds in its manifest."""
    import numpy as np

    from ..errors import DataError, RadiAIError
    from ..training.evaluate import metrics, per_label_metrics, predict_table, select_rows

    groups = {g.key: g for g in analyzer.models.groups}
    if args.model not in groups:
        raise RadiAIError(f"the model set has no model {args.model!r}; it has "
                          f"{', '.join(groups)}.")
    if args.protocol:
        raise RadiAIError("--protocol measures the primary classifier only; leave out --model.")
    lead = groups[args.model].lead
    if args.holdout:
        from ..training.finalize import holdout_samples

        samples = holdout_samples(args.csv, lead.manifest)
    else:
        samples = select_rows(args.csv, args.split, multi_label=lead.multi_label)
    if lead.multi_label:
        from ..training.datasets import read_multilabel_table

        columns = read_multilabel_table(args.csv)[0]
        if columns != lead.labels:
            raise DataError(f"has the label columns {columns}; model {args.model!r} has "
                            f"{lead.labels} (same names, same order).", args.csv)
    pred = predict_table(partial(analyzer.analyze, explain=False), lead.labels, samples,
                         args.csv, model=args.model)
    m: dict[str, Any] = {"model": args.model, "n": len(pred.samples)}
    if lead.multi_label:
        y = np.array([s.targets for s in pred.samples], float).reshape(-1, len(lead.labels))
        m["per_label"], m["thresholds"] = per_label_metrics(y, pred.probs, lead.labels,
                                                            lead.thresholds)
    else:
        m.update(metrics(pred, lead.threshold, lead.negative_label))
    m["errors"] = [{"path": p, "message": msg} for p, msg in pred.errors]
    m["rejected"] = [{"path": p, "message": msg} for p, msg in pred.rejected]
    if args.json:
        out.write(json.dumps(m) + "\n")
        return 0
    out.write(f"model {args.model} ({lead.title}): n = {m['n']} images ({len(pred.errors)} "
              f"unreadable, {len(pred.rejected)} refused by the gate)\n")
    if lead.multi_label:
        out.write(f"{'label':<16}{'positives':>10}{'AUC':>8}{'threshold':>11}{'sens':>7}"
                  f"{'spec':>7}\n")
        for lab, v in m["per_label"].items():
            cells = [f"{v[k]:.3f}" if k in v else "—" for k in ("auc", "sensitivity",
                                                                 "specificity")]
            out.write(f"{lab:<16}{v['positives']:>10}{cells[0]:>8}"
                      f"{m['thresholds'][lab]:>11.3f}{cells[1]:>7}{cells[2]:>7}\n")
    else:
        out.write(f"top-1 accuracy {m['accuracy_top1']:.3f}\n")
        if "auc" in m:
            out.write(f"abnormal vs {lead.negative_label}: AUC {m['auc']:.4f}; at threshold "
                      f"{m['threshold']:.3f}: sensitivity {m['sensitivity']:.3f}, "
                      f"specificity {m['specificity']:.3f}\n")
    for e in m["errors"]:
        out.write(f"ERROR  {e['path']}: {e['message']}\n")
    for e in m["rejected"]:
        out.write(f"REFUSED {e['path']}: {e['message']}\n")
    return 0


def _protocol(args: argparse.Namespace, analyzer: Any, samples: list, out: TextIO
              ) -> dict[str, Any]:
    """The protocol's figures (radiai_core.training.protocol), printed unless --json."""
    from ..analysis.models import ModelSet
    from ..analysis.pipeline import Analyzer
    from ..training.protocol import (
        cohort_figures,
        lung_concentration,
        pointing_game,
        read_boxes,
        rule_threshold,
        stress_suite,
    )

    scores: dict = {}
    result: dict[str, Any] = {"stress": stress_suite(analyzer, samples, scores=scores),
                              "rule_threshold": rule_threshold(scores),
                              "cohorts": cohort_figures(analyzer, samples),
                              "heat_map_on_lungs": lung_concentration(analyzer, samples)}
    if args.boxes is not None:
        models = analyzer.models
        ungated = Analyzer(ModelSet([models.classifier], models.lung_mask, gate=None))
        result["pointing_game"] = pointing_game(ungated, read_boxes(args.boxes))
    if not args.json:
        out.write("\nstress suite (pneumonia vs normal; at the shipped threshold)\n")
        out.write(f"{'stress':<36}{'n':>5}{'AUC':>8}{'sens':>7}{'spec':>7}{'refused':>9}\n")
        for name, v in result["stress"].items():
            auc = f"{v['auc']:.4f}" if v.get("auc") is not None else "  —"
            out.write(f"{name:<36}{v['n']:>5}{auc:>8}{v['sensitivity']:>7.3f}"
                      f"{v['specificity']:>7.3f}{v['refused']:>9}\n")
        r = result["rule_threshold"]
        out.write(f"threshold by the card's rule (median sensitivity over the stresses >= "
                  f"{r['min_sensitivity']}): {r['threshold']:.3f} (median sensitivity "
                  f"{r['median_sensitivity']:.3f}, specificity {r['median_specificity']:.3f}); "
                  f"shipped {analyzer.models.classifier.threshold:.3f}\n")
        out.write("\ncohorts\n")
        for name, v in result["cohorts"].items():
            out.write(f"  {name:<28} " + ", ".join(f"{k} {x:.3f}" if isinstance(x, float)
                                                   else f"{k} {x}" for k, x in v.items()) + "\n")
        h = result["heat_map_on_lungs"]
        if h.get("n"):
            out.write(f"\nheat maps of {h['n']} pneumonia images: mass on the lungs "
                      f"{h['median_mass_in_lungs']:.2f} (median) for a lung share of "
                      f"{h['median_lung_share']:.2f}: {h['median_concentration']:.2f}x chance; "
                      f"peak inside the lungs {h['peak_in_lungs']:.0%}\n")
            d = h["faithfulness"]
            medians = (f"ratio of medians {d['deletion_ratio_of_medians']:.2f}x"
                       if d["median_random_drop"] > 0 else
                       f"median drop {d['median_drop']:.2f} while random regions raise the "
                       f"score at the median ({-d['median_random_drop']:.2f})")
            out.write(f"deletion test: the map's top 15 % blurred drops the pneumonia log-odds "
                      f"{d['deletion_ratio_median']:.2f}x as much as random regions (median; "
                      f"{medians}), beating every "
                      f"random draw in {d['deletion_beats_every_random']:.0%} of images; "
                      f"insertion: gain {d['median_gain']:.2f} vs {d['median_random_gain']:.2f} "
                      f"for random regions (medians), beating every random draw in "
                      f"{d['insertion_beats_every_random']:.0%}\n")
            out.write("definitions: " + h["definitions"] + "\n")
        g = result.get("pointing_game")
        if g:
            out.write(f"pointing game (gate bypassed): peak inside the box for {g['hits']} of "
                      f"{g['n']}; mass in the box {g['median_mass_in_box']:.2f} (median) for a "
                      f"box share of {g['median_box_share']:.2f}\n")
    return result
