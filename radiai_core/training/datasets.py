"""Labelled image tables (CSV) and patient-grouped train/validation splits."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError


@dataclass(frozen=True)
class Sample:
    """One row of a labelled table: image path, label, patient id, split. A multi-label row
    has ``targets`` (0 or 1 per label column) and, as ``label``, its first positive label
    (or "none"), which the split is stratified by."""
    path: Path
    label: str
    patient_id: str
    split: str  # "train", "val", "test" or "" when the table has no split column
    targets: tuple[int, ...] = ()

#: Columns of a multi-label table that are not labels.
NOT_LABELS = ("path", "patient_id", "split")


def read_table(csv_path: str | Path, path_column: str = "path",
               label_column: str = "label") -> list[Sample]:
    """Rows of a CSV with ``path`` (relative to the CSV's folder) and ``label`` columns and,
    optionally, ``patient_id`` and ``split``. Without ``patient_id`` every image is its own
    patient."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError("does not exist or is not a file.", csv_path)
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = {path_column, label_column} - set(reader.fieldnames or [])
        if missing:
            raise DataError(f"has no column(s) {', '.join(sorted(missing))}; found "
                            f"{', '.join(reader.fieldnames or []) or 'none'}.", csv_path)
        rows = list(reader)
    if not rows:
        raise DataError("has a header but no rows.", csv_path)
    root = csv_path.parent
    samples = []
    for i, row in enumerate(rows, start=2):
        rel, label = row[path_column].strip(), row[label_column].strip()
        if not rel or not label:
            raise DataError(f"line {i} has an empty {path_column!r} or {label_column!r}.",
                            csv_path)
        samples.append(Sample(path=root / rel, label=label,
                              patient_id=(row.get("patient_id") or "").strip() or rel,
                              split=(row.get("split") or "").strip().lower()))
    return samples


def read_multilabel_table(csv_path: str | Path) -> tuple[list[str], list[Sample]]:
    """(labels, rows) of a multi-label CSV: ``path`` (relative to the CSV's folder), optional
    ``patient_id`` and ``split``, and one column per label holding 0 or 1; the header gives
    the label set and its order (a label may have no positive row yet).

    Raises
    ------
    DataError
        The file is missing, has no label column, or a cell is not 0 or 1 (line and column
        named).
    """
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise DataError("does not exist or is not a file.", csv_path)
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = list(reader.fieldnames or [])
        rows = list(reader)
    if "path" not in header:
        raise DataError(f"has no column path; found {', '.join(header) or 'none'}.", csv_path)
    labels = [c for c in header if c not in NOT_LABELS]
    if len(labels) < 2:
        raise DataError("has fewer than two label columns; a multi-label table has one 0/1 "
                        "column per label besides path, patient_id and split.", csv_path)
    if not rows:
        raise DataError("has a header but no rows.", csv_path)
    samples = []
    for i, row in enumerate(rows, start=2):
        rel = (row["path"] or "").strip()
        if not rel:
            raise DataError(f"line {i} has an empty 'path'.", csv_path)
        targets = []
        for lab in labels:
            cell = (row[lab] or "").strip()
            if cell not in ("0", "1"):
                raise DataError(f"line {i}, column {lab!r} holds {cell!r}; in a multi-label "
                                "table every column other than path, patient_id and split is "
                                "a label holding 0 or 1.", csv_path)
            targets.append(int(cell))
        first = next((lab for lab, v in zip(labels, targets, strict=True) if v), "none")
        samples.append(Sample(path=csv_path.parent / rel, label=first,
                              patient_id=(row.get("patient_id") or "").strip() or rel,
                              split=(row.get("split") or "").strip().lower(),
                              targets=tuple(targets)))
    return labels, samples


def ordered_labels(labels: list[str]) -> list[str]:
    """Sorted label set with ``normal`` first when present (index 0 = the negative class)."""
    unique = sorted(set(labels))
    if "normal" in unique:
        unique.remove("normal")
        unique.insert(0, "normal")
    return unique


def _bucket(patient_id: str, seed: int) -> float:
    digest = hashlib.sha256(f"{seed}:{patient_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def patient_split(samples: list[Sample], val_fraction: float = 0.1,
                  seed: int = 20261123) -> tuple[list[Sample], list[Sample]]:
    """Split into (train, validation) so that no patient is on both sides.

    Rows marked ``split == "val"`` always go to validation and rows marked ``test`` are
    dropped. The rest are assigned per patient by a seeded hash, stratified by the patient's
    majority label, so the split is reproducible and independent of row order.
    """
    pool = [s for s in samples if s.split not in ("val", "test")]
    fixed_val = [s for s in samples if s.split == "val"]
    by_patient: dict[str, list[Sample]] = {}
    for s in pool:
        by_patient.setdefault(s.patient_id, []).append(s)
    by_label: dict[str, list[str]] = {}
    for pid, rows in by_patient.items():
        labels = [r.label for r in rows]
        major = max(sorted(set(labels)), key=labels.count)
        by_label.setdefault(major, []).append(pid)
    val_patients: set[str] = set()
    for pids in by_label.values():
        ranked = sorted(pids, key=lambda p: _bucket(p, seed))
        n_val = round(len(ranked) * val_fraction)
        val_patients.update(ranked[:n_val])
    train = [s for s in pool if s.patient_id not in val_patients]
    val = fixed_val + [s for s in pool if s.patient_id in val_patients]
    overlap = {s.patient_id for s in train} & {s.patient_id for s in val}
    if overlap:
        raise DataError(f"patients {sorted(overlap)[:5]} appear in both the 'val' rows and the "
                        "training rows; fix the split column.")
    return train, val
