"""Analyse many files one by one (errors kept as results) and write them as a CSV table."""

from __future__ import annotations

import csv
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .anonymize import Pseudonymizer
from .errors import RadiAIError
from .image import iso_date
from .pipeline import Analysis
from .report import ExportError

log = logging.getLogger(__name__)


@dataclass
class BatchItem:
    """One input file: its analysis, or why it has none."""

    path: str
    analysis: Analysis | None = None
    error: str = ""
    kind: str = ""

    @property
    def status(self) -> str:
        return self.analysis.status if self.analysis is not None else "error"

    @property
    def message(self) -> str:
        return self.analysis.message if self.analysis is not None else self.error


def analyse_files(paths: Iterable[str | Path], analyze: Callable[..., Analysis],
                  cam_label: str | None = None,
                  cancel: threading.Event | None = None) -> Iterator[BatchItem]:
    """Yield one BatchItem per path, in order; a file that cannot be analysed becomes an item
    with its error (a bug is logged and reported the same way) and the batch goes on."""
    for path in paths:
        if cancel is not None and cancel.is_set():
            return
        try:
            a = analyze(path) if cam_label is None else analyze(path, cam_label=cam_label)
            yield BatchItem(str(path), analysis=a)
        except RadiAIError as exc:
            yield BatchItem(str(path), error=exc.message, kind=exc.kind)
        except Exception as exc:  # noqa: BLE001 - a bug: log it, report it, keep going
            log.exception("unexpected error analysing %s", path)
            yield BatchItem(str(path), error=f"unexpected error ({type(exc).__name__}: {exc}); "
                            "this is a bug in RadiAI, please report it with the log",
                            kind="bug")


class CsvTable:
    """The batch table: one row per input file (errors included), written and flushed row by
    row so that an interrupted batch keeps what it did. Readable by the user only."""

    def __init__(self, path: str | Path, labels: Sequence[str],
                 pseudonyms: Pseudonymizer | None = None) -> None:
        self.path = Path(path)
        self.labels = list(labels)
        self.pseudonyms = pseudonyms or Pseudonymizer()
        self.columns = ["path", "patient_id", "study_date", "age", "status", "refused_by",
                        "message", *[f"p_{lab}" for lab in self.labels], "call"]
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            self._file = open(fd, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise ExportError(f"cannot be written ({exc.strerror or exc}).", self.path) from None
        self._writer = csv.DictWriter(self._file, self.columns)
        self._writer.writeheader()
        self.rows = 0

    def add(self, item: BatchItem) -> dict[str, Any]:
        row: dict[str, Any] = {"status": item.status, "message": item.message}
        a = item.analysis
        if a is None:
            row["path"] = self.pseudonyms.file_reference(item.path)
        else:
            d = self.pseudonyms.details(a.image.meta)
            row.update(path=d.reference if self.pseudonyms.enabled else item.path,
                       patient_id=d.patient_id, study_date=iso_date(a.image.meta.study_date),
                       call=a.call or "", refused_by=a.refused_by or "",
                       age=a.age.describe() if a.age is not None else "")
            for lab in self.labels:
                if lab in a.probabilities:
                    row[f"p_{lab}"] = f"{a.probabilities[lab]:.6f}"
        self._writer.writerow(row)
        self._file.flush()
        self.rows += 1
        return row

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CsvTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
