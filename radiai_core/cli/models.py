"""``radiai models``: the model set as RadiAI loads it, to check that a dropped-in model is in."""

from __future__ import annotations

import argparse
import json
from typing import Any, TextIO


def add_models_parser(sub: argparse._SubParsersAction) -> None:
    """The ``models`` subcommand's options."""
    p = sub.add_parser("models", help="list the models RadiAI loads from its models folder "
                       "(RADIAI_MODELS when set), every file checked against its manifest")
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.set_defaults(func=cmd_models)


def model_rows() -> tuple[str, list[dict[str, Any]]]:
    """(the models folder, one row per model as an analysis reports them: the classifiers'
    groups, the primary first, then the lung mask and the gate).

    Raises
    ------
    ModelError
        A model cannot be loaded (the message names its folder).
    """
    from ..analysis.models import load_models
    from ..resources import models_dir

    folder = models_dir()
    models = load_models(folder)
    rows: list[dict[str, Any]] = []
    for i, group in enumerate(models.groups):
        lead = group.lead
        rows.append({"key": group.key, "kind": "classifier",
                     "role": "primary" if i == 0 else "added",
                     "title": lead.title, "name": lead.info.name,
                     "version": lead.info.version, "sha256": lead.info.sha256,
                     "labels": list(lead.labels), "multi_label": lead.multi_label,
                     "folders": [c.folder.name for c in group.members]})
    for kind, model in (("lung_mask", models.lung_mask), ("gate", models.gate)):
        if model is not None:
            rows.append({"key": model.folder.name, "kind": kind, "role": kind,
                         "title": None, "name": model.info.name,
                         "version": model.info.version, "sha256": model.info.sha256,
                         "labels": [], "multi_label": False, "folders": [model.folder.name]})
    return str(folder), rows


def cmd_models(args: argparse.Namespace, out: TextIO) -> int:
    """``radiai models``: every model loaded, or the one line saying which cannot be (exit 1
    through ``main``)."""
    folder, rows = model_rows()
    if args.json:
        out.write(json.dumps({"folder": folder, "models": rows}, ensure_ascii=False) + "\n")
        return 0
    out.write(f"models folder: {folder}\n")
    for r in rows:
        what = f"{r['name']} {r['version']}"
        if r["kind"] == "classifier":
            kind = "multi-label" if r["multi_label"] else "one label per image"
            out.write(f"  {r['key']:<12} classifier ({r['role']}, {kind}): {r['title']}, "
                      f"{what}\n")
            out.write(f"  {'':<12} labels: {', '.join(r['labels'])}\n")
            if len(r["folders"]) > 1:
                out.write(f"  {'':<12} ensemble of {', '.join(r['folders'])}\n")
        else:
            kind = {"lung_mask": "lung mask", "gate": "scope gate"}[r["kind"]]
            out.write(f"  {r['key']:<12} {kind}: {what}\n")
    out.write(f"{len(rows)} models loaded; every file matches its manifest's sha256.\n")
    return 0
