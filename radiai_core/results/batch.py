"""Analyse many files one by one (errors kept as results) and write them as a CSV table."""

from __future__ import annotations

import csv
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..analysis.pipeline import Analysis
from ..errors import ExportError, RadiAIError
from ..reading.anonymize import Pseudonymizer
from ..reading.image import XrayImage, iso_date
from ..reading.io import load_image
from .private_file import open_private

log = logging.getLogger(__name__)


@dataclass
class BatchItem:
    """One input file: its analysis, or why it has none; ``history_id`` when it was stored."""

    path: str
    analysis: Analysis | None = None
    error: str = ""
    kind: str = ""
    history_id: int | None = None

    @property
    def status(self) -> str:
        """"ok" or "rejected" (an analysis), "ignored" (plainly not an image) or "error"."""
        if self.analysis is not None:
            return self.analysis.status
        return "ignored" if self.kind == "ignored" else "error"

    @property
    def message(self) -> str:
        """The analysis's message (a refusal's reason), or why there is no analysis."""
        return self.analysis.message if self.analysis is not None else self.error


class Runner:
    """Analyse, record, report failure: the one policy every face (the CLI, the viewer's
    workers, the CSV export) follows.

    - A file that cannot be analysed becomes an item with its RadiAIError's message; a bug is
      logged with its traceback and reported the same way; the run goes on.
    - Each analysis is recorded in the history (``history_path``; ``record=False`` for none)
      through this runner's own connection, opened on first use in the calling thread. If the
      history cannot store one, ``history_problem`` says why, nothing more is recorded in this
      run, and the analyses go on.
    - ``close()`` (or leaving a ``with`` block) closes the connection, also when a run was
      cancelled half-way.
    """

    def __init__(self, analyze: Callable[..., Analysis], history_path: str | Path | None = None,
                 record: bool = True, cam_label: str | None = None) -> None:
        self.analyze, self.history_path = analyze, history_path
        self.record, self.cam_label = record, cam_label
        self.history_problem = ""
        self._history: Any = None

    def one(self, path: str | Path,
            on_loaded: Callable[[XrayImage], None] | None = None) -> BatchItem:
        """Analyse and record one file (``on_loaded`` sees the image before its analysis)."""
        try:
            source: str | Path | XrayImage = path
            if on_loaded is not None:  # else the analysis loads it (and times the loading)
                source = load_image(path)
                on_loaded(source)
            a = (self.analyze(source) if self.cam_label is None
                 else self.analyze(source, cam_label=self.cam_label))
        except RadiAIError as exc:
            return BatchItem(str(path), error=exc.message, kind=exc.kind)
        except Exception as exc:  # noqa: BLE001 - a bug: log it, report it, keep going
            log.exception("unexpected error analysing %s", path)
            return BatchItem(str(path), error=f"unexpected error ({type(exc).__name__}: {exc}); "
                             "this is a bug in RadiAI, please report it with the log",
                             kind="bug")
        return BatchItem(str(path), analysis=a, history_id=self._store(a))

    def run(self, paths: Iterable[str | Path],
            cancel: threading.Event | None = None) -> Iterator[BatchItem]:
        """``one`` for each path, in order, until ``cancel`` is set."""
        for path in paths:
            if cancel is not None and cancel.is_set():
                return
            yield self.one(path)

    def _store(self, a: Analysis) -> int | None:
        if not self.record:
            return None
        from .history import History

        try:
            if self._history is None:
                self._history = History(self.history_path)
            return self._history.record(a)
        except RadiAIError as exc:
            self.history_problem = str(exc)
            self.record = False
            self.close()
            return None

    @property
    def moved_aside(self) -> Path | None:
        """Where a damaged history was moved when this run opened it, if it was."""
        return getattr(self._history, "moved_aside", None)

    def close(self) -> None:
        """Close this runner's history connection (it is opened again on the next record)."""
        if self._history is not None:
            self._history.close()
            self._history = None

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CsvTable:
    """The batch table: one row per input file (errors included), written and flushed row by
    row so that an interrupted batch keeps what it did. Readable by the user only.

    ``models`` lists each model of the set as (key, labels), the primary one first: its
    columns are ``p_<label>``, ``call``, ``positives``, ``zones`` (the lung zones holding its
    heat map's mass, ``name:share`` joined by ``|``) and ``evidence`` (``focal``, ``diffuse``,
    or empty without a heat map); another model's carry its key,
    ``<key>.p_<label>`` …, so a model set of any size gives one table of the same shape.
    """

    def __init__(self, path: str | Path, models: Sequence[tuple[str, Sequence[str]]],
                 pseudonyms: Pseudonymizer | None = None) -> None:
        self.path = Path(path)
        self.models = [(key, list(labels)) for key, labels in models]
        self.pseudonyms = pseudonyms or Pseudonymizer()
        self.columns = ["path", "patient_id", "study_date", "age", "status", "refused_by",
                        "refused_as", "message"]
        for i, (key, labels) in enumerate(self.models):
            pre = self._prefix(i, key)
            self.columns += [*(f"{pre}p_{lab}" for lab in labels), f"{pre}decision",
                             f"{pre}call", f"{pre}positives", f"{pre}zones",
                             f"{pre}evidence"]
        self.columns.append("model_sha256")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open_private(self.path, encoding="utf-8", newline="")
        except OSError as exc:
            raise ExportError(f"cannot be written ({exc.strerror or exc}).", self.path) from None
        self._writer = csv.DictWriter(self._file, self.columns)
        self._writer.writeheader()
        self.rows = 0

    @staticmethod
    def _prefix(index: int, key: str) -> str:
        return "" if index == 0 else f"{key}."

    def add(self, item: BatchItem) -> dict[str, Any]:
        """Write one row for ``item`` (flushed at once) and return it."""
        row: dict[str, Any] = {"status": item.status,
                               "message": self.pseudonyms.message(item.message, item.path)}
        a = item.analysis
        if a is None:
            row["path"] = self.pseudonyms.file_reference(item.path)
        else:
            d = self.pseudonyms.details(a.image.meta)
            row.update(path=d.reference if self.pseudonyms.enabled else item.path,
                       patient_id=d.patient_id, study_date=iso_date(a.image.meta.study_date),
                       refused_by=a.refused_by or "",
                       refused_as=a.refused_as.label if a.refused_as is not None else "",
                       age=a.age.describe() if a.age is not None else "")
            # The identity of the primary classifier that ran (its files and manifest):
            # the same as the JSON's model.sha256, the history's and the PDF's.
            row["model_sha256"] = a.models[0].sha256 if a.models else ""
            by_key = {f.key: f for f in a.findings}
            for i, (key, labels) in enumerate(self.models):
                f = by_key.get(key)
                if f is None:
                    continue
                pre = self._prefix(i, key)
                row[f"{pre}decision"] = f.decision.value if f.decision is not None else ""
                row[f"{pre}call"] = f.call or ""
                row[f"{pre}positives"] = "|".join(f.positives)
                # where the heat map's mass lies: "right lower:0.52|…|outside the lungs:0.09"
                row[f"{pre}zones"] = "|".join(f"{z.name}:{z.share:.2f}" for z in f.zones)
                row[f"{pre}evidence"] = ("" if f.heatmap is None and not f.zones
                                         else "diffuse" if f.diffuse else "focal")
                for lab in labels:
                    if lab in f.probabilities:
                        row[f"{pre}p_{lab}"] = f"{f.probabilities[lab]:.6f}"
        self._writer.writerow(row)
        self._file.flush()
        self.rows += 1
        return row

    def close(self) -> None:
        """Close the table's file."""
        self._file.close()

    def __enter__(self) -> CsvTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
