"""``radiai trace``: the patient and files behind a pseudonym, on the machine that made it."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

from ..reading.anonymize import person_name


def add_trace_parser(sub: argparse._SubParsersAction) -> None:
    """The ``trace`` subcommand's options."""
    p = sub.add_parser(
        "trace", help="the patient and files behind a pseudonym or reference of an anonymised "
        "export made on this computer ('Patient 7F3K2-QX9AB', "
        "'Patient-7F3K2-QX9AB_image-4D2AE-9KQ1M', 'file-…')")
    p.add_argument("reference", nargs="+", help="the pseudonym, reference or code, as exported")
    p.add_argument("--in", dest="folders", action="append", default=[], type=Path,
                   metavar="FOLDER", help="search this folder's files as well (for files the "
                   "history does not hold: unreadable ones, runs with --no-history)")
    p.set_defaults(func=cmd_trace)


def cmd_trace(args: argparse.Namespace, out: TextIO) -> int:
    """``radiai trace``: print what the reference names; exit 1 when nothing here has it."""
    from ..results.trace import codes_in, trace

    text = " ".join(args.reference)
    if not codes_in(text):
        out.write(f"radiai trace: no pseudonym code in {text!r} (a code is 10 letters and "
                  "digits, e.g. 7F3K2-QX9AB)\n")
        return 2
    hits = trace(text, folders=args.folders)
    if not hits:
        out.write(f"nothing on this computer has the code(s) {', '.join(codes_in(text))}: "
                  "pseudonyms are made with this installation's key (in its data folder), and "
                  "only images in its history (or in --in folders) can be found.\n")
        return 1
    for hit in hits:
        who = ", ".join(x for x in (f"patient ID {hit.patient_id}" if hit.patient_id else
                                    "no patient ID", person_name(hit.patient_name)) if x)
        when = f"; last analysed {hit.analysed_at[:10]}" if hit.analysed_at else ""
        out.write(f"{hit.what} {hit.code}: Patient {hit.patient_code or '-'} = {who}{when}\n")
        for path in hit.paths:
            out.write(f"    {path}\n")
    return 0
