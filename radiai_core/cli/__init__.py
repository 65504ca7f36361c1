"""The `radiai` command line: inspect, analyze, evaluate, train (``main``)."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from ..errors import RadiAIError
from ..reading.privacy import protect
from .analyze import cmd_analyze, cmd_inspect
from .evaluate import cmd_evaluate
from .listen import add_listen_parser
from .models import add_models_parser
from .trace import add_trace_parser
from .train import cmd_train

__all__ = ["build_parser", "main", "version"]


def _primary_on_its_split(p: argparse.ArgumentParser) -> None:
    """--models and --csv of a command that works on the primary classifier's own
    validation split (threshold, calibrate)."""
    p.add_argument("--models", required=True, type=Path, help="the models folder")
    p.add_argument("--csv", required=True, type=Path,
                   help="the training table (its validation split is re-carved)")


def _run_arguments(p: argparse.ArgumentParser, size: int, epochs: int, batch: int, lr: float,
                   val: float) -> None:
    """Options every training run has, with that model's defaults."""
    p.add_argument("--out", required=True, type=Path, help="run folder (checkpoints, log, model)")
    p.add_argument("--size", type=int, default=size, help="network input size in pixels")
    p.add_argument("--epochs", type=int, default=epochs)
    p.add_argument("--batch-size", type=int, default=batch)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--val-fraction", type=float, default=val,
                   help="share of patients held out for validation")
    p.add_argument("--seed", type=int, default=20261123)
    p.add_argument("--limit", type=int, help="train on this many items only (smoke runs)")
    p.add_argument("--resume", action="store_true", help="continue from the last checkpoint")


def version() -> str:
    """RadiAI's version, from the installed package's metadata (pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed_version

    try:
        return installed_version("radiai")
    except PackageNotFoundError:  # run from sources that were never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The ``radiai`` argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="radiai", usage="radiai [PATH ...]  |  radiai [-v] COMMAND ...",
        description="RadiAI chest radiograph reading assistant (decision support, not a "
                    "diagnosis). 'radiai' alone, or 'radiai PATH ...' with existing files or "
                    "folders, opens the viewer (on those images); a COMMAND below runs in the "
                    "terminal without a window.",
        epilog="'radiai COMMAND --help' says more about one command.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    parser.add_argument("-V", "--version", action="version", version=f"radiai {version()}")
    # Subcommands' usage lines start "radiai COMMAND", not with the viewer's usage above.
    sub = parser.add_subparsers(dest="command", prog="radiai")
    p = sub.add_parser("inspect", help="print metadata and pixel statistics of files/folders")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("analyze", help="analyse radiographs with the shipped models")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--cam", metavar="LABEL", help="heat map for this label (default: the top "
                   "positive finding); MODEL/LABEL for a label of another model of the set")
    p.add_argument("--csv", type=Path, metavar="OUT.csv",
                   help="write one row per file found (errors included); progress on stderr")
    p.add_argument("--pdf-dir", type=Path, metavar="DIR",
                   help="write a PDF snapshot per analysed image into DIR")
    p.add_argument("--anonymize", action="store_true",
                   help="leave patient name, id, birth date, institution, study description, "
                        "UIDs and source paths out of everything written; each patient is "
                        "'Patient 7F3K2-QX9AB', the same in every export on this computer "
                        "('radiai trace' tells whom and which file a reference names)")
    p.add_argument("--no-history", action="store_true",
                   help="do not store the analyses in the local history database")
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("evaluate", help="metrics of the shipped pipeline on a labelled CSV")
    p.add_argument("--csv", required=True, type=Path,
                   help="table with path (relative to the CSV) and label, optionally "
                        "patient_id and split")
    p.add_argument("--model", metavar="KEY",
                   help="evaluate this model of the set (its folder name, e.g. findings7) "
                        "instead of the primary classifier; a multi-label model reads a table "
                        "of 0/1 label columns")
    p.add_argument("--split", help="use only rows with this split value (e.g. val)")
    p.add_argument("--holdout", action="store_true",
                   help="use only the patient-grouped validation split the shipped classifier "
                        "was tuned on (re-carved with the seed in its manifest)")
    p.add_argument("--json", action="store_true", help="end with one JSON object of metrics")
    p.add_argument("--out", type=Path, help="folder for roc.png and confusion.png")
    p.add_argument("--protocol", action="store_true",
                   help="also the model-selection protocol: the stress suite, the cohorts and "
                        "where the heat maps point (concentration on the lungs)")
    p.add_argument("--boxes", type=Path,
                   help="with --protocol: radiologists' boxes (path, finding, x, y, w, h) for "
                        "the pointing game, e.g. adult_cxr/nih_boxes.csv (the gate is "
                        "bypassed for that figure only)")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("train", help="train a model from a labelled CSV")
    tsub = p.add_subparsers(dest="what", required=True)
    c = tsub.add_parser("classifier", help="DenseNet121 radiograph classifier")
    c.add_argument("--csv", required=True, type=Path,
                   help="table with path (relative to the CSV) and label, optionally "
                        "patient_id and split; with --multi-label, one 0/1 column per label "
                        "instead of label (see docs/train-your-own.md)")
    c.add_argument("--multi-label", action="store_true",
                   help="one sigmoid per label column (findings that co-occur) instead of "
                        "one softmax over the label column's values")
    c.add_argument("--title", help="how the viewer, PDF and CSV name this model "
                                   "(e.g. 'Pediatric findings, 7 classes')")
    c.add_argument("--name", default="radiai-densenet121-cxr",
                   help="the model's name in its manifest, the history and the PDF's model list")
    _run_arguments(c, size=160, epochs=8, batch=32, lr=1e-3, val=0.1)
    c.add_argument("--display-name", action="append", default=[], metavar="LABEL=NAME",
                   help="how a label is shown, e.g. bacterial='bacterial pneumonia'")
    c.add_argument("--lung-input", choices=["plain", "masked", "crop"], default="plain",
                   help="what the classifier sees: the plain image, the lungs masked, or a "
                        "crop to the lung box (masks from the lung-mask model)")
    c.add_argument("--lung-model", type=Path,
                   help="lung-mask model folder for --lung-input masked/crop (default: shipped)")
    c.add_argument("--init-weights", type=Path, metavar="MODEL.keras",
                   help="start from a trained classifier's weights (same labels; the size may "
                        "differ) with a fresh warm-up and cosine schedule: a second stage")
    c.add_argument("--fine-map", action="store_true",
                   help="drop the last transition's pooling: a feature map (and heat map) twice "
                        "as fine, 10x10 at 160 px; --init-weights may come from either kind")
    c.add_argument("--framing", action="store_true",
                   help="augment framing: black or white borders, crops, contrast")
    c.add_argument("--photometric", action="store_true",
                   help="augment acquisition: exposure curves, window, blur or sharpening, "
                        "noise, resolution loss")
    c.add_argument("--label-smoothing", type=float, default=0.0, metavar="EPS",
                   help="label smoothing of the cross-entropy (e.g. 0.1)")
    c.add_argument("--mixup", type=float, default=0.0, metavar="ALPHA",
                   help="mixup: blend image pairs and their labels by Beta(ALPHA, ALPHA) "
                        "weights (e.g. 0.2; 0 = off)")
    c.set_defaults(func=cmd_train)
    u = tsub.add_parser("lung-mask", help="U-Net lung mask (encoder trained from scratch)")
    u.add_argument("--csv", required=True, type=Path,
                   help="table with image_path and mask_path (relative to the CSV), "
                        "optionally patient_id and dataset")
    _run_arguments(u, size=192, epochs=40, batch=16, lr=2e-3, val=0.15)
    u.set_defaults(func=cmd_train)
    g = tsub.add_parser("gate", help="fit the scope gate (chest radiograph? frontal? a "
                        "child?) and measure it per category on held-out images")
    g.add_argument("--models", required=True, type=Path,
                   help="folder with classifier/ and lung_mask/ (finalized)")
    g.add_argument("--data", required=True, type=Path,
                   help="the shared data folder (kermany/, lung_masks/, adult_cxr/, nonchest/)")
    g.add_argument("--out", required=True, type=Path, help="gate folder to write")
    g.add_argument("--limit", type=int, help="cap each category and side (smoke runs)")
    g.add_argument("--cache", type=Path, help="keep the measured features here for refits")
    g.add_argument("--hold-out-source", action="append", default=[], metavar="SRC",
                   dest="holdout_sources",
                   help="hold every image of this adult_cxr source out of the fit and report "
                        "its adults as adult_unseen_source (repeatable), e.g. figure1")
    g.set_defaults(func=cmd_train)
    k = tsub.add_parser("compare", help="compare finalized classifiers on their shared "
                        "validation split (paired patient bootstrap), e.g. an ablation")
    k.add_argument("models", nargs="+", metavar="NAME=MODEL_FOLDER")
    k.add_argument("--csv", required=True, type=Path, help="the training table of the runs")
    k.add_argument("--reference", help="the model the others are compared to (default: first)")
    k.add_argument("--n-boot", type=int, default=1000)
    k.add_argument("--json-out", type=Path, help="write the comparison as JSON")
    k.add_argument("--ensembles", action="store_true",
                   help="also evaluate the mean probabilities of every combination of models")
    k.set_defaults(func=cmd_train)
    f = tsub.add_parser("finalize", help="export a training run as a shipped model folder")
    f.add_argument("kind", choices=["classifier", "lung-mask"])
    f.add_argument("--run", required=True, type=Path, help="the training run folder")
    f.add_argument("--dest", required=True, type=Path, help="model folder to write")
    f.add_argument("--csv", type=Path, required=True,
                   help="the training table the run used (to re-carve its validation split)")
    f.add_argument("--positive-call",
                   help="what a positive decision of a classifier with a negative label is "
                        "named (e.g. pneumonia, abnormal); required for such a classifier")
    f.add_argument("--negative-label",
                   help="the label that means no finding (default: the run's, 'normal' when "
                        "the labels have it)")
    f.set_defaults(func=cmd_train)
    q = tsub.add_parser("quantize", help="replace a finalized classifier's or lung mask's "
                        "float32 LiteRT file by an int8 one and record what changed on its "
                        "validation split")
    q.add_argument("--model", required=True, type=Path, help="the finalized model folder")
    q.add_argument("--csv", required=True, type=Path,
                   help="the table it was trained from (labelled table or mask pairs)")
    q.add_argument("--precision", choices=["int8", "dynamic-int8"], default="int8",
                   help="int8: weights and activations (ranges from training images); "
                        "dynamic-int8: weights only, activations quantized at each inference")
    q.add_argument("--images", type=int, default=256,
                   help="training images that set the activation ranges (int8; default 256)")
    q.set_defaults(func=cmd_train)
    h = tsub.add_parser("threshold", help="choose the primary classifier's threshold by the "
                        "card's rule on its validation split and write it, with where it came "
                        "from, into its manifest")
    _primary_on_its_split(h)
    h.add_argument("--rule", choices=["stress", "youden"], default="stress",
                   help="stress: the highest threshold whose median sensitivity over the "
                        "stress suite is at least 0.95 (the card's rule); youden: max J")
    h.set_defaults(func=cmd_train)
    k = tsub.add_parser("calibrate", help="calibrate the primary classifier on cohort-held-out "
                        "predictions of its recipe and set its three-way band (positive, "
                        "indeterminate, negative) in its manifest")
    _primary_on_its_split(k)
    k.add_argument("--holdout", required=True, type=Path,
                   help="a candidate folder of bench/cohort_holdout.py (both directions)")
    k.set_defaults(func=cmd_train)
    add_listen_parser(sub)
    add_trace_parser(sub)
    add_models_parser(sub)
    return parser


def _utf8_when_redirected() -> None:
    """Write UTF-8 into pipes and files. On Windows, Python encodes redirected output in the
    ANSI code page (cp1252, cp949), where a Korean name or a dash cannot always be written;
    a console gets Unicode from Python either way."""
    for stream in (sys.stdout, sys.stderr):
        if (stream is not None and hasattr(stream, "reconfigure") and not stream.isatty()
                and (stream.encoding or "").lower().replace("-", "") != "utf8"):
            stream.reconfigure(encoding="utf-8", errors="replace")


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one ``radiai`` command; RadiAIErrors become one line on stderr and exit code 1."""
    _utf8_when_redirected()
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    # Libraries' warnings about a damaged file (pydicom's "invalid value for VR", ...) are
    # chatter next to RadiAI's own line naming the file and the problem: logged with -v only.
    # pydicom logs each decoder failure at ERROR with a traceback; RadiAI names the file and
    # the problem itself, so those records are for -v.
    logging.captureWarnings(True)
    if not args.verbose:
        logging.getLogger("py.warnings").setLevel(logging.ERROR)
        logging.getLogger("pydicom").setLevel(logging.CRITICAL)
    for handler in logging.getLogger().handlers:
        protect(handler)
    if args.command is None:
        parser.print_help(out)
        return 2
    try:
        return args.func(args, out)
    except RadiAIError as exc:
        sys.stderr.write(f"radiai: {exc}\n")
        return 1
    except ModuleNotFoundError as exc:
        if args.command not in ("evaluate", "train"):
            raise
        sys.stderr.write(f"radiai: {args.command} needs the model-building tools ({exc.name} is "
                         "missing), which the installed app leaves out; run it from a source "
                         "checkout with them: pip install -e '.[train]'.\n")
        return 1
    except BrokenPipeError:  # output closed early (e.g. piped into head)
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("radiai: interrupted\n")
        return 130
