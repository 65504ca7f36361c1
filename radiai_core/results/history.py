"""Local history of analyses in SQLite: patients, analyses, overlays and the reader's verdicts."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ..analysis.findings import Decision, Findings, stored_decision
from ..analysis.gate import Age, RefusedAs, refused_as_of
from ..analysis.manifest import ModelInfo
from ..analysis.pipeline import Analysis
from ..analysis.regions import Box
from ..errors import HistoryError
from ..reading.identity import image_key
from ..reading.image import ImageMeta, iso_date
from ..reading.io import load_image
from ..reading.studies import NO_PATIENT_ID
from ..resources import data_dir

log = logging.getLogger(__name__)

_CHECKED: set[str] = set()  # databases already checked by this process
OVERLAY_SIDE = 256  # heat maps and masks are stored at most this many pixels on a side
VERDICTS = ("agree", "disagree")
#: What a verdict is on: the model's call (its decision, or what a multi-label model called).
CALL = "@call"


def call_ref(key: str, primary: bool) -> str:
    """The verdict label of a model's call: ``@call`` for the primary model, ``key/@call``
    for another model of the set (as ``label_ref`` names a label)."""
    return CALL if primary else f"{key}/{CALL}"


def _v1(db: sqlite3.Connection) -> None:
    db.executescript("""
        CREATE TABLE patients (
            id INTEGER PRIMARY KEY,
            patient_id TEXT NOT NULL UNIQUE,     -- '' for images without a patient id
            name TEXT, birth_date TEXT, sex TEXT
        );
        CREATE TABLE analyses (
            id INTEGER PRIMARY KEY,
            patient INTEGER NOT NULL REFERENCES patients(id) ON DELETE CASCADE,
            image_key TEXT NOT NULL,             -- 'sop:<SOP Instance UID>' or 'sha256:<file>'
            path TEXT NOT NULL,
            analysed_at TEXT NOT NULL,           -- ISO 8601, UTC
            study_uid TEXT, study_date TEXT, study_description TEXT, institution TEXT,
            modality TEXT, rows INTEGER, columns INTEGER,
            model_name TEXT NOT NULL, model_version TEXT NOT NULL, model_sha256 TEXT NOT NULL,
            models TEXT NOT NULL,                -- JSON list of every model used
            status TEXT NOT NULL, message TEXT NOT NULL,
            labels TEXT NOT NULL, display_names TEXT NOT NULL, probabilities TEXT NOT NULL,
            abnormal_score REAL, threshold REAL, call TEXT, cam_label TEXT,
            boxes TEXT NOT NULL,
            heatmap_png BLOB, mask_png BLOB,
            UNIQUE (image_key, model_sha256)
        );
        CREATE INDEX analyses_patient ON analyses(patient);
        CREATE TABLE verdicts (
            analysis INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE,
            label TEXT NOT NULL,
            verdict TEXT CHECK (verdict IN ('agree', 'disagree')),
            note TEXT NOT NULL DEFAULT '',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (analysis, label)
        );
    """)


def _v2(db: sqlite3.Connection) -> None:
    """Indexes for the history view's date search and newest-first listing."""
    db.executescript("""
        CREATE INDEX analyses_study_date ON analyses(study_date);
        CREATE INDEX analyses_analysed_at ON analyses(analysed_at);
    """)


#: The day an analysis is searched by: its study date, else the day it was analysed (an
#: expression index on it serves the date-range search).
DAY = "COALESCE(NULLIF(study_date, ''), substr(analysed_at, 1, 10))"


def _v3(db: sqlite3.Connection) -> None:
    """The scope gate's answer (which question refused an image; the patient's age as the gate
    read it, JSON) and the overlays in a table of their own: a search reads the small analysis
    rows only, never the pictures (with them inline, listing 100,000 analyses walked 1.6 GB)."""
    db.executescript(f"""
        ALTER TABLE analyses ADD COLUMN refused_by TEXT;
        ALTER TABLE analyses ADD COLUMN age TEXT;
        CREATE TABLE overlays (
            analysis INTEGER PRIMARY KEY REFERENCES analyses(id) ON DELETE CASCADE,
            heatmap_png BLOB, mask_png BLOB
        );
        INSERT INTO overlays (analysis, heatmap_png, mask_png)
            SELECT id, heatmap_png, mask_png FROM analyses;
        ALTER TABLE analyses DROP COLUMN heatmap_png;
        ALTER TABLE analyses DROP COLUMN mask_png;
        CREATE INDEX analyses_patient_time ON analyses(patient, analysed_at);
        CREATE INDEX analyses_day ON analyses({DAY});
    """)


def _v4(db: sqlite3.Connection) -> None:
    """Every model's findings (JSON list of ``Findings.to_dict``): a model set of any size. The
    primary model's columns stay filled; rows from before have NULL here and are read from
    them."""
    db.executescript("ALTER TABLE analyses ADD COLUMN findings TEXT;")


def _image_paths(db: sqlite3.Connection) -> None:
    """Every path an image was seen under (byte-identical copies, a moved folder): shown with
    its analysis and searchable by any of its names."""
    db.executescript("""
        CREATE TABLE IF NOT EXISTS image_paths (
            image_key TEXT NOT NULL,
            path TEXT NOT NULL,
            first_seen TEXT NOT NULL,            -- ISO 8601, UTC
            last_seen TEXT NOT NULL,
            PRIMARY KEY (image_key, path)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO image_paths (image_key, path, first_seen, last_seen)
            SELECT image_key, path, MIN(analysed_at), MAX(analysed_at) FROM analyses
            GROUP BY image_key, path;
    """)


def _deliveries(db: sqlite3.Connection) -> None:
    """What the DICOM node sent back to the PACS: each result object (SR, secondary capture)
    of an image, where to, when it was queued and when the PACS kept it."""
    db.executescript("""
        CREATE TABLE deliveries (
            sop_uid TEXT PRIMARY KEY,            -- the result object's SOP Instance UID
            source_uid TEXT NOT NULL,            -- the analysed image's SOP Instance UID
            analysis INTEGER REFERENCES analyses(id) ON DELETE SET NULL,
            kind TEXT NOT NULL,                  -- 'sr' or 'capture'
            destination TEXT NOT NULL,           -- AET@HOST:PORT
            queued_at TEXT NOT NULL,             -- ISO 8601, UTC
            sent_at TEXT,                        -- NULL while it waits in the outbox
            attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX deliveries_source ON deliveries(source_uid);
    """)


def _refused_as(db: sqlite3.Connection) -> None:
    """What a refused image is (``RefusedAs``: adult, CT slice, lateral view…), beside the
    question that refused it; refusals stored before are read off the gate's reason."""
    if "refused_as" not in {r[1] for r in db.execute("PRAGMA table_info(analyses)")}:
        db.execute("ALTER TABLE analyses ADD COLUMN refused_as TEXT")
    rows = db.execute("SELECT id, message FROM analyses WHERE status = 'rejected'").fetchall()
    db.executemany("UPDATE analyses SET refused_as = ? WHERE id = ?",
                   [(kind.value, i) for i, message in rows
                    if (kind := refused_as_of(message or "")) is not None])


#: MIGRATIONS[i] takes a database at schema version i to version i + 1.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_v1, _v2, _v3, _v4, _image_paths,
                                                          _refused_as, _deliveries]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass
class PatientSummary:
    """One patient in the history list: key, id, name, number of analyses, last analysis."""
    key: int
    patient_id: str
    name: str
    n_analyses: int
    last_analysed: str


#: The file name of ``path`` in SQL (after the last / or \\): what a search matches.
_FILE_NAME = ("replace(replace(path, '\\', '/'), rtrim(replace(path, '\\', '/'), "
              "replace(replace(path, '\\', '/'), '/', '')), '')")

#: Columns of ``History._SELECT`` read by name; at most this many values in one ``IN (…)``.
_KEY_COLUMN, _PATIENT_COLUMN, _CHUNK = 23, 24, 500


@dataclass
class HistoryEntry:
    """One stored analysis (no pixels): what the history view lists and the exports use.
    ``findings`` holds every model's; ``labels`` … ``call`` are the primary model's."""

    id: int
    patient_id: str
    patient_name: str
    path: str
    analysed_at: str
    study_date: str
    study_description: str
    status: str
    message: str
    labels: list[str]
    display_names: dict[str, str]
    probabilities: dict[str, float]
    call: str | None
    threshold: float | None
    model: ModelInfo
    boxes: list[Box]
    refused_by: str | None = None
    age: Age | None = None
    #: What a refused image is (None when analysed, or stored without it and not known).
    refused_as: RefusedAs | None = None
    verdicts: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    findings: list[Findings] = field(default_factory=list)
    #: Every path the image was seen under, the latest first (``path`` is the latest).
    paths: list[str] = field(default_factory=list)
    #: Every model that ran (the classifiers, the lung mask, the scope gate); ``model`` is the
    #: primary classifier. A refused image was stopped by the gate named here.
    models: list[ModelInfo] = field(default_factory=list)


@dataclass
class DeliveryRecord:
    """One result object the DICOM node queued for the PACS (``sent_at`` None: still waiting)."""

    sop_uid: str
    source_uid: str
    analysis_id: int | None
    kind: str
    destination: str
    queued_at: str
    sent_at: str | None
    attempts: int


@dataclass
class HistoryPage:
    """One page of the history list: its patients, each one's analyses (newest first, the
    filters applied), and whether more patients follow (``offset`` is where it starts)."""

    patients: list[PatientSummary]
    analyses: dict[int, list[HistoryEntry]]
    more: bool
    offset: int = 0


def _legacy_findings(e: HistoryEntry, score: float | None, cam_label: str | None) -> Findings:
    """The one model's findings of an analysis stored before schema 4, from its columns."""
    negative = "normal" if "normal" in e.labels and score is not None else None
    decision = stored_decision({"abnormal_score": score, "threshold": e.threshold})
    positive = decision is Decision.POSITIVE
    return Findings(key="classifier", title=e.model.name, labels=e.labels,
                    display_names=e.display_names, probabilities=e.probabilities,
                    negative_label=negative, abnormal_score=score, threshold=e.threshold,
                    call=e.call, decision=decision,
                    positives=[cam_label] if positive and cam_label else [],
                    cam_label=cam_label, boxes=e.boxes)


def patient_key(meta: ImageMeta, key: str) -> str:
    """The history's patient for an image: its Patient ID, else one of its own made from the
    file name and the image's identity (``image_key``), under ``NO_PATIENT_ID``: a patient of
    its own, never merged with another image or with a real patient (a name alone, e.g.
    "Anonymized", identifies no one)."""
    if meta.patient_id:
        return meta.patient_id
    return f"{NO_PATIENT_ID} {Path(meta.path).name} [{key.split(':', 1)[-1][:12]}]"


def _png(array: np.ndarray | None, binary: bool = False) -> bytes | None:
    if array is None:
        return None
    h, w = array.shape
    scale = min(1.0, OVERLAY_SIDE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if binary:
        small = cv2.resize(array.astype(np.uint8) * 255, size, interpolation=cv2.INTER_NEAREST)
    else:
        small = cv2.resize(np.clip(array, 0, 1).astype(np.float32), size,
                           interpolation=cv2.INTER_AREA)
        small = np.round(small * 255).astype(np.uint8)
    ok, buf = cv2.imencode(".png", small)
    return buf.tobytes() if ok else None


def _unpng(blob: bytes | None, shape: tuple[int, int], binary: bool = False) -> np.ndarray | None:
    if blob is None:
        return None
    small = cv2.imdecode(np.frombuffer(blob, np.uint8), cv2.IMREAD_GRAYSCALE)
    if small is None:
        return None
    interp = cv2.INTER_NEAREST if binary else cv2.INTER_CUBIC
    big = cv2.resize(small, (shape[1], shape[0]), interpolation=interp)
    if binary:
        return big > 127
    return np.clip(big.astype(np.float32) / 255.0, 0.0, 1.0)


def _now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")


def db_path(db: sqlite3.Connection) -> str:
    """The file of a connection's main database."""
    return next((row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"), "")


def default_path() -> Path:
    """The history database in the user's data folder (``RADIAI_DATA_DIR`` overrides it)."""
    return data_dir() / "history.sqlite"


class History:
    """The analysis history. One instance per thread (SQLite connections are not shared).

    The file is created readable by its owner only, in WAL mode; older schema versions are
    migrated on open. A file that is not a usable database is moved aside (``moved_aside`` then
    holds where to) and a fresh one is started.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_path()
        self.moved_aside: Path | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.db = self._open()
        except sqlite3.OperationalError as exc:  # locked, unreadable: not damage, left alone
            raise HistoryError(f"cannot be opened as the history database ({exc}).",
                               self.path) from None
        except sqlite3.DatabaseError as exc:
            self.moved_aside = self._move_aside(exc)
            try:
                self.db = self._open()
            except sqlite3.Error as exc2:
                raise HistoryError(f"cannot be used as the history database ({exc2}).",
                                   self.path) from None
        except (OSError, sqlite3.Error) as exc:
            raise HistoryError(f"cannot be opened as the history database ({exc}).",
                               self.path) from None

    def _open(self) -> sqlite3.Connection:
        if not self.path.exists():
            # Create it private first: SQLite gives its -wal and -shm files the same mode.
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        if str(self.path) not in _CHECKED:  # once per process
            self._check_read_only()
            _CHECKED.add(str(self.path))
        db = sqlite3.connect(self.path, timeout=10.0, isolation_level=None)
        try:
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            self._migrate(db)
        except BaseException:
            db.close()
            raise
        return db

    def _check_read_only(self) -> None:
        """``_check`` through a read-only connection. Closing a read-write connection to a
        damaged file would copy its write-ahead log into it and delete the ``-wal`` file
        (SQLite's checkpoint on close); a read-only one changes nothing, so a file moved aside
        keeps its ``-wal`` and ``-shm`` beside it, as they were."""
        ro = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=10.0)
        try:
            self._check(ro)
        finally:
            ro.close()

    @staticmethod
    def _check(db: sqlite3.Connection) -> None:
        """What can be checked without reading the whole file, so that a history of 100,000
        analyses opens as fast as a new one: the file is a database whose schema can be read,
        and the patients and verdicts tables (small) pass SQLite's quick_check. Damage in the
        analyses or their overlays is found when they are read: every read then raises a
        HistoryError saying so (``integrity()`` checks everything on demand)."""
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = "
                                           "'table'")}
        for table in sorted(tables & {"patients", "verdicts"}):
            check = db.execute(f"PRAGMA quick_check({table})").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {check}")

    def _move_aside(self, exc: Exception) -> Path:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        log.error("history database %s is damaged (%s); moved to %s", self.path, exc, target)
        self.path.replace(target)
        for suffix in ("-wal", "-shm"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                side.replace(target.with_name(target.name + suffix))
        return target

    @staticmethod
    def _migrate(db: sqlite3.Connection) -> None:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"was written by a newer RadiAI (schema {version}, this one "
                               f"knows {SCHEMA_VERSION}); update RadiAI.")
        for v in range(version, SCHEMA_VERSION):
            try:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    MIGRATIONS[v](db)
                    db.execute(f"PRAGMA user_version = {v + 1}")
            except sqlite3.OperationalError as exc:  # kept as it is (the migration rolled back)
                log.exception("history schema migration to version %d failed", v + 1)
                raise HistoryError(f"could not be upgraded to schema version {v + 1} ({exc}); "
                                   "it was left as it was. Please report this with the log.",
                                   db_path(db)) from None
            log.info("history schema migrated to version %d", v + 1)

    @property
    def schema_version(self) -> int:
        """The schema version of the open database."""
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def close(self) -> None:
        """Close the connection."""
        self.db.close()

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ------------------------------------------------------------------------------
    def record(self, a: Analysis) -> int:
        """Store an analysis (one transaction); the same image analysed again with the same
        model replaces its row (verdicts are kept). Returns the analysis id.

        Raises
        ------
        HistoryError
            The database cannot be written (full disk, locked for too long, damaged).
        FileAccessError
            The image's file cannot be read to identify it (no SOP Instance UID).
        """
        m = a.image.meta
        model = a.models[0] if a.models else ModelInfo("", "", "", "")
        key = image_key(m)
        pid = patient_key(m, key)
        row = {
            "image_key": key, "path": str(Path(m.path).resolve()), "analysed_at": _now(),
            "study_uid": m.study_uid, "study_date": iso_date(m.study_date),
            "study_description": m.study_description, "institution": m.institution,
            "modality": m.modality, "rows": m.rows, "columns": m.columns,
            "model_name": model.name, "model_version": model.version,
            "model_sha256": model.sha256, "models": json.dumps([i.to_dict() for i in a.models]),
            "status": a.status, "message": a.message, "labels": json.dumps(a.labels),
            "display_names": json.dumps(a.display_names),
            "probabilities": json.dumps(a.probabilities),
            "abnormal_score": a.abnormal_score, "threshold": a.threshold, "call": a.call,
            "cam_label": a.cam_label, "boxes": json.dumps([asdict(b) for b in a.boxes]),
            "refused_by": a.refused_by,
            "refused_as": None if a.refused_as is None else a.refused_as.value,
            "age": json.dumps(a.age.to_dict()) if a.age is not None else None,
            "findings": json.dumps([f.to_dict(exact=True) for f in a.findings]),
        }
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                self.db.execute(
                    "INSERT INTO patients (patient_id, name, birth_date, sex) VALUES (?,?,?,?) "
                    "ON CONFLICT(patient_id) DO UPDATE SET "
                    "name = COALESCE(excluded.name, name), "
                    "birth_date = COALESCE(excluded.birth_date, birth_date), "
                    "sex = COALESCE(excluded.sex, sex)",
                    (pid, m.patient_name, iso_date(m.patient_birth_date) or None,
                     m.patient_sex))
                (patient,) = self.db.execute("SELECT id FROM patients WHERE patient_id = ?",
                                             (pid,)).fetchone()
                cols = ["patient", *row]
                self.db.execute(
                    f"INSERT INTO analyses ({', '.join(cols)}) "
                    f"VALUES ({', '.join('?' * len(cols))}) "
                    "ON CONFLICT(image_key, model_sha256) DO UPDATE SET "
                    + ", ".join(f"{c} = excluded.{c}" for c in cols if c != "image_key"),
                    (patient, *row.values()))
                (aid,) = self.db.execute(
                    "SELECT id FROM analyses WHERE image_key = ? AND model_sha256 = ?",
                    (key, model.sha256)).fetchone()
                self.db.execute(
                    "INSERT OR REPLACE INTO overlays (analysis, heatmap_png, mask_png) "
                    "VALUES (?, ?, ?)", (aid, _png(a.heatmap), _png(a.mask, binary=True)))
                self.db.execute(
                    "INSERT INTO image_paths (image_key, path, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(image_key, path) DO UPDATE SET "
                    "last_seen = excluded.last_seen",
                    (key, row["path"], row["analysed_at"], row["analysed_at"]))
        except sqlite3.Error as exc:
            raise HistoryError(f"could not store the analysis of {m.path} ({exc}).",
                               self.path) from None
        return aid

    def _write(self, what: str, work: Callable[[sqlite3.Connection], object]) -> None:
        """Run ``work`` in one write transaction; a database that cannot take it (locked,
        read-only, full, damaged) is a HistoryError that says ``what`` was not done."""
        try:
            with self.db:
                self.db.execute("BEGIN IMMEDIATE")
                work(self.db)
        except sqlite3.Error as exc:
            raise HistoryError(f"could not {what} ({exc}); nothing was changed.",
                               self.path) from None

    def set_verdict(self, analysis_id: int, label: str, verdict: str | None,
                    note: str = "") -> None:
        """The reader's verdict on a finding (``CALL`` for a model's call): 'agree',
        'disagree' or None, with a note.

        Raises
        ------
        ValueError
            ``verdict`` is none of those.
        HistoryError
            No such analysis (deleted?), or the database cannot be written.
        """
        if verdict not in (*VERDICTS, None):
            raise ValueError(f"verdict must be one of {VERDICTS} or None, not {verdict!r}")

        def work(db: sqlite3.Connection) -> None:
            if db.execute("SELECT 1 FROM analyses WHERE id = ?",
                          (analysis_id,)).fetchone() is None:
                raise HistoryError(f"has no analysis {analysis_id} (deleted?).", self.path)
            db.execute(
                "INSERT INTO verdicts (analysis, label, verdict, note, updated_at) "
                "VALUES (?,?,?,?,?) ON CONFLICT(analysis, label) DO UPDATE SET "
                "verdict = excluded.verdict, note = excluded.note, "
                "updated_at = excluded.updated_at",
                (analysis_id, label, verdict, note, _now()))

        self._write("store the verdict", work)

    def delete_analysis(self, analysis_id: int) -> None:
        """Delete one analysis (and its verdicts); a patient left with none goes too.

        Raises
        ------
        HistoryError
            The database cannot be written.
        """
        def work(db: sqlite3.Connection) -> None:
            row = db.execute("SELECT patient FROM analyses WHERE id = ?",
                             (analysis_id,)).fetchone()
            db.execute("DELETE FROM analyses WHERE id = ?", (analysis_id,))
            if row is not None:
                db.execute("DELETE FROM patients WHERE id = ? AND NOT EXISTS "
                           "(SELECT 1 FROM analyses WHERE patient = ?)", (row[0], row[0]))

        self._write("delete the analysis", work)

    def delete_patient(self, patient_key: int) -> None:
        """Delete a patient with all their analyses and verdicts.

        Raises
        ------
        HistoryError
            The database cannot be written.
        """
        self._write("delete the patient",
                    lambda db: db.execute("DELETE FROM patients WHERE id = ?", (patient_key,)))

    # --- reading ------------------------------------------------------------------------------
    def patients(self, text: str = "", date_from: str | None = None,
                 date_to: str | None = None, limit: int | None = None,
                 offset: int = 0) -> list[PatientSummary]:
        """Patients whose name or id contains ``text`` (case-insensitive), or with an image
        seen under a path that contains it, and who have an analysis whose study date (or,
        without one, analysis date) lies in the range (YYYY-MM-DD, inclusive); newest first,
        ``limit`` of them from ``offset`` (all by default)."""
        where, args = self._filters(text, date_from, date_to)
        page = ""
        if limit is not None:
            page = " LIMIT ? OFFSET ?"
            args += [limit, offset]
        rows = self._query(
            "SELECT p.id, p.patient_id, COALESCE(p.name, ''), COUNT(a.id), MAX(a.analysed_at) "
            "FROM patients p JOIN analyses a ON a.patient = p.id "
            f"WHERE {where} GROUP BY p.id ORDER BY MAX(a.analysed_at) DESC, p.id DESC{page}",
            args)
        return [PatientSummary(*r) for r in rows]

    def page(self, text: str = "", date_from: str | None = None, date_to: str | None = None,
             offset: int = 0, limit: int = 100) -> HistoryPage:
        """One page of the history list: ``limit`` patients from ``offset`` (as
        ``patients``), each with its analyses matching the filters, their verdicts and
        paths, in four queries whatever the page holds.

        Raises
        ------
        HistoryError
            The file is damaged where it is read.
        """
        found = self.patients(text, date_from, date_to, limit + 1, offset)
        patients, more = found[:limit], len(found) > limit
        analyses: dict[int, list[HistoryEntry]] = {p.key: [] for p in patients}
        where, args = self._filters(text, date_from, date_to)
        rows: list[tuple[Any, ...]] = []
        keys = list(analyses)
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i:i + _CHUNK]
            rows += self._query(
                f"{self._SELECT} WHERE {where} AND a.patient IN ({', '.join('?' * len(chunk))})"
                " ORDER BY a.analysed_at DESC, a.id DESC", [*args, *chunk])
        verdicts, paths = self._verdicts_and_paths(rows)
        for r in rows:
            analyses[r[_PATIENT_COLUMN]].append(
                self._entry(r, verdicts.get(r[0], {}), paths.get(r[_KEY_COLUMN], [])))
        return HistoryPage(patients, analyses, more, offset)

    def _verdicts_and_paths(self, rows: Sequence[tuple[Any, ...]]
                            ) -> tuple[dict[int, dict[str, tuple[str | None, str]]],
                                       dict[str, list[str]]]:
        """The verdicts (by analysis id) and the paths (by image key) of ``rows``."""
        verdicts: dict[int, dict[str, tuple[str | None, str]]] = {}
        paths: dict[str, list[str]] = {}
        ids = [r[0] for r in rows]
        keys = sorted({r[_KEY_COLUMN] for r in rows})
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            for aid, label, verdict, note in self._query(
                    "SELECT analysis, label, verdict, note FROM verdicts WHERE analysis IN "
                    f"({', '.join('?' * len(chunk))})", chunk):
                verdicts.setdefault(aid, {})[label] = (verdict, note)
        for i in range(0, len(keys), _CHUNK):
            chunk = keys[i:i + _CHUNK]
            for key, path in self._query(
                    "SELECT image_key, path FROM image_paths WHERE image_key IN "
                    f"({', '.join('?' * len(chunk))}) ORDER BY last_seen DESC, path", chunk):
                paths.setdefault(key, []).append(path)
        return verdicts, paths

    def images(self) -> list[tuple[str, str, str, list[str], str]]:
        """Every image the history holds: (image key, patient id as filed, patient name,
        every path it was seen under, when it was last analysed); for ``radiai trace``.

        Raises
        ------
        HistoryError
            The file is damaged where it is read.
        """
        rows = self._query(
            "SELECT a.image_key, p.patient_id, COALESCE(p.name, ''), MAX(a.analysed_at) "
            "FROM analyses a JOIN patients p ON a.patient = p.id GROUP BY a.image_key, p.id")
        paths: dict[str, list[str]] = {}
        for key, path in self._query("SELECT image_key, path FROM image_paths "
                                     "ORDER BY last_seen DESC, path"):
            paths.setdefault(key, []).append(path)
        return [(key, pid, name, paths.get(key, []), when) for key, pid, name, when in rows]

    def _query(self, sql: str, args: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows of a read; a damaged page met on the way is a HistoryError, not a crash."""
        try:
            return self.db.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise HistoryError(f"cannot be read ({exc}); the history file is damaged. Close "
                               "RadiAI and move it aside to start a new one.",
                               self.path) from None

    def analyses(self, patient_key: int | None = None, text: str = "",
                 date_from: str | None = None, date_to: str | None = None) -> list[HistoryEntry]:
        """Analyses, newest first, of one patient or of all patients matching the filters."""
        where, args = self._filters(text, date_from, date_to)
        if patient_key is not None:
            where += " AND p.id = ?"
            args.append(patient_key)
        rows = self._query(f"{self._SELECT} WHERE {where} ORDER BY a.analysed_at DESC, "
                           "a.id DESC", args)
        verdicts, paths = self._verdicts_and_paths(rows)
        return [self._entry(r, verdicts.get(r[0], {}), paths.get(r[_KEY_COLUMN], []))
                for r in rows]

    def verdicts_of(self, a: Analysis) -> dict[str, tuple[str | None, str]]:
        """The reader's verdicts on a stored analysis of ``a``'s image by ``a``'s primary
        model (empty when it is not stored).

        Raises
        ------
        HistoryError
            The file is damaged where it is read.
        FileAccessError
            The image's file cannot be read to identify it.
        """
        model = a.models[0].sha256 if a.models else ""
        rows = self._query(
            "SELECT v.label, v.verdict, v.note FROM verdicts v JOIN analyses a ON a.id = "
            "v.analysis WHERE a.image_key = ? AND a.model_sha256 = ?",
            (image_key(a.image.meta), model))
        return {label: (verdict, note) for label, verdict, note in rows}

    def entry(self, analysis_id: int) -> HistoryEntry:
        """One stored analysis, without pixels.

        Raises
        ------
        HistoryError
            No such analysis (deleted?), or the file is damaged.
        """
        row = next(iter(self._query(f"{self._SELECT} WHERE a.id = ?", (analysis_id,))), None)
        if row is None:
            raise HistoryError(f"has no analysis {analysis_id} (deleted?).", self.path)
        return self._entry(row)

    def reopen(self, analysis_id: int) -> Analysis:
        """The stored analysis over its image, read again from its path: the overlays are the
        ones stored (as the reader saw them), not recomputed.

        Raises
        ------
        HistoryError
            No such analysis, or the history file is damaged where it is read.
        RadiAIError
            The image can no longer be read (moved, deleted, damaged): ``load_image``'s kinds.
        """
        e = self.entry(analysis_id)
        image = load_image(e.path)
        try:
            row = self.db.execute(
                "SELECT o.heatmap_png, o.mask_png, a.abnormal_score, a.cam_label, a.models "
                "FROM analyses a LEFT JOIN overlays o ON o.analysis = a.id WHERE a.id = ?",
                (analysis_id,)).fetchone()
        except sqlite3.DatabaseError as exc:  # a damaged page, found when it is read
            raise HistoryError(f"cannot give back analysis {analysis_id} ({exc}); the history "
                               "file is damaged.", self.path) from None
        shape = image.shape
        findings = e.findings
        shown = next((f for f in findings if f.cam_label), None)
        if shown is not None:
            shown.heatmap = _unpng(row[0], shape)
        return Analysis(
            image=image, status=e.status, message=e.message, findings=findings,
            mask=_unpng(row[1], shape, binary=True),
            models=[ModelInfo(**d) for d in json.loads(row[4])],
            refused_by=e.refused_by, age=e.age, refused_as=e.refused_as)

    _SELECT = ("SELECT a.id, p.patient_id, COALESCE(p.name, ''), a.path, a.analysed_at, "
               "COALESCE(a.study_date, ''), COALESCE(a.study_description, ''), a.status, "
               "a.message, a.labels, a.display_names, a.probabilities, a.call, a.threshold, "
               "a.model_name, a.model_version, a.model_sha256, a.boxes, a.refused_by, a.age, "
               "a.findings, a.abnormal_score, a.cam_label, a.image_key, a.patient, "
               "a.refused_as, a.models "
               "FROM analyses a JOIN patients p ON a.patient = p.id")

    def _entry(self, r: tuple[Any, ...],
               verdicts: dict[str, tuple[str | None, str]] | None = None,
               paths: list[str] | None = None) -> HistoryEntry:
        """A row of ``_SELECT`` as an entry; its verdicts and paths are read unless given."""
        if verdicts is None or paths is None:
            by_id, by_key = self._verdicts_and_paths([r])
            verdicts, paths = by_id.get(r[0], {}), by_key.get(r[_KEY_COLUMN], [])
        e = HistoryEntry(
            id=r[0], patient_id=r[1], patient_name=r[2], path=r[3], analysed_at=r[4],
            study_date=r[5], study_description=r[6], status=r[7], message=r[8],
            labels=json.loads(r[9]), display_names=json.loads(r[10]),
            probabilities=json.loads(r[11]), call=r[12], threshold=r[13],
            model=ModelInfo(r[14], r[15], r[16], "classifier"),
            boxes=[Box(**b) for b in json.loads(r[17])], refused_by=r[18],
            age=Age.from_dict(json.loads(r[19])) if r[19] else None, verdicts=verdicts,
            paths=paths or [r[3]])
        if r[25] in set(RefusedAs):
            e.refused_as = RefusedAs(r[25])
        if r[26]:
            e.models = [ModelInfo(**d) for d in json.loads(r[26])]
        if r[20] is not None:
            e.findings = [Findings.from_dict(d) for d in json.loads(r[20])]
        elif e.status == "ok":  # stored before schema 4: the primary model's columns
            e.findings = [_legacy_findings(e, r[21], r[22])]
        return e

    @staticmethod
    def _filters(text: str, date_from: str | None, date_to: str | None
                 ) -> tuple[str, list[Any]]:
        where, args = ["1 = 1"], []
        if text.strip():
            # Patients first (a few), then their analyses through the patient index; a join
            # filtered afterwards walked every analysis newest first (217 ms for 100,000).
            # An image is found by the name of any file it was seen as, too (not by its
            # folders: a folder named after a patient would find every image in it).
            like = f"%{text.strip().lower()}%"
            where.append("(a.patient IN (SELECT id FROM patients WHERE "
                         "lower(COALESCE(name, '')) LIKE ? OR lower(patient_id) LIKE ?) "
                         "OR a.image_key IN (SELECT image_key FROM image_paths WHERE "
                         f"lower({_FILE_NAME}) LIKE ?))")
            args += [like, like, like]
        day = DAY.replace("study_date", "a.study_date").replace("analysed_at", "a.analysed_at")
        if date_from:
            where.append(f"{day} >= ?")
            args.append(date_from)
        if date_to:
            where.append(f"{day} <= ?")
            args.append(date_to)
        return " AND ".join(where), args

    # --- the DICOM node's deliveries ---------------------------------------------------------
    def record_delivery(self, sop_uid: str, kind: str, destination: str, source_uid: str,
                        analysis_id: int | None = None) -> None:
        """Note a result object put into the node's outbox (again: its row is renewed).

        Raises
        ------
        HistoryError
            The database cannot be written.
        """
        self._write("record the delivery", lambda db: db.execute(
            "INSERT INTO deliveries (sop_uid, source_uid, analysis, kind, destination, "
            "queued_at) VALUES (?,?,?,?,?,?) ON CONFLICT(sop_uid) DO UPDATE SET "
            "analysis = excluded.analysis, destination = excluded.destination, "
            "queued_at = excluded.queued_at, sent_at = NULL",
            (sop_uid, source_uid, analysis_id, kind, destination, _now())))

    def mark_delivered(self, sop_uid: str, sent_at: float, attempts: int) -> None:
        """Note that the PACS kept a result object (``sent_at``: a POSIX time).

        Raises
        ------
        HistoryError
            The database cannot be written.
        """
        when = _dt.datetime.fromtimestamp(sent_at, _dt.UTC).isoformat(timespec="seconds")
        self._write("record that the PACS kept it", lambda db: db.execute(
            "UPDATE deliveries SET sent_at = ?, attempts = ? WHERE sop_uid = ?",
            (when, attempts, sop_uid)))

    def deliveries(self, source_uid: str | None = None) -> list[DeliveryRecord]:
        """The result objects queued for the PACS (of one image), oldest first."""
        where, args = ("WHERE source_uid = ?", [source_uid]) if source_uid else ("", [])
        rows = self._query("SELECT sop_uid, source_uid, analysis, kind, destination, "
                           f"queued_at, sent_at, attempts FROM deliveries {where} "
                           "ORDER BY queued_at, sop_uid", args)
        return [DeliveryRecord(*r) for r in rows]

    def integrity(self) -> str:
        """SQLite's full integrity check of the whole file ("ok" when sound); slow on a large
        history."""
        return self.db.execute("PRAGMA integrity_check").fetchone()[0]
