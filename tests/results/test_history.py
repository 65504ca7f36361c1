"""The SQLite history: rows per analysis, no duplicates, verdicts, search, delete, reopen,
private file, migration and a damaged file moved aside."""

from __future__ import annotations

import sqlite3
import stat

import numpy as np
import pytest

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer
from radiai_core.errors import HistoryError
from radiai_core.results.history import SCHEMA_VERSION, History

from ..conftest import PHI
from ..samples import DICOM, KERMANY_BACTERIAL, KERMANY_NORMAL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(load_models())


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "data" / "history.sqlite"


def _sha12(path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_images_without_patient_data_never_merge(analyzer, db_path, tmp_path) -> None:
    """Thirty JPEGs were all filed under one patient: each is now a patient of its own, and a
    DICOM without a Patient ID (a name only, e.g. "Anonymized") merges with nobody either."""
    from ..conftest import write_pediatric_dicom

    noid = write_pediatric_dicom(tmp_path / "noid.dcm", PatientID="", PatientName="Anonymized")
    noid2 = write_pediatric_dicom(tmp_path / "noid2.dcm", KERMANY_BACTERIAL, PatientID="",
                                  PatientName="Anonymized")
    with History(db_path) as h:
        for p in (KERMANY_NORMAL, KERMANY_BACTERIAL, noid, noid2):
            h.record(analyzer.analyze(p))
        patients = h.patients()
    assert len(patients) == 4 and all(p.n_analyses == 1 for p in patients)
    assert all(p.patient_id.startswith("(no patient ID) ") for p in patients)


def test_records_survive_a_restart_without_duplicates(analyzer, db_path, phi_dicom) -> None:
    a = analyzer.analyze(phi_dicom)
    with History(db_path) as h:
        first = h.record(a)
        again = h.record(analyzer.analyze(phi_dicom))  # same image, same model
        h.record(analyzer.analyze(KERMANY_NORMAL))
    assert again == first
    with History(db_path) as h:  # a new process would do exactly this
        rows = h.db.execute("SELECT COUNT(*) FROM analyses").fetchone()[0]
        assert rows == 2
        patients = h.patients()
        # The JPEG has no patient data: a patient of its own, never merged with anyone.
        assert {p.patient_id for p in patients} == {
            PHI["PatientID"], f"(no patient ID) {KERMANY_NORMAL.name} [{_sha12(KERMANY_NORMAL)}]"}
        entry = h.entry(first)
    assert entry.patient_name == PHI["PatientName"]
    assert entry.probabilities == pytest.approx(a.probabilities)
    assert entry.model.sha256 == a.models[0].sha256
    assert entry.call == a.call and entry.threshold == a.threshold
    assert [b.to_dict() for b in entry.boxes] == [b.to_dict() for b in a.boxes]
    assert entry.study_date == "" or len(entry.study_date) == 10  # ISO date


def test_the_same_image_under_another_path_is_one_analysis(analyzer, db_path, tmp_path) -> None:
    copy = tmp_path / "copy.jpeg"
    copy.write_bytes(KERMANY_NORMAL.read_bytes())  # a plain image: identified by its hash
    with History(db_path) as h:
        one = h.record(analyzer.analyze(KERMANY_NORMAL))
        two = h.record(analyzer.analyze(copy))
        assert one == two
        assert h.entry(one).path == str(copy.resolve())  # the latest place it was seen


def test_verdicts_search_and_delete(analyzer, db_path, phi_dicom) -> None:
    with History(db_path) as h:
        aid = h.record(analyzer.analyze(phi_dicom))
        other = h.record(analyzer.analyze(DICOM["nih_cardiomegaly"]))
        h.set_verdict(aid, "viral", "disagree", "looks bacterial to me")
        h.set_verdict(aid, "normal", "agree")
        h.set_verdict(aid, "viral", "agree", "on second look")  # changed, not duplicated
        assert h.entry(aid).verdicts == {"viral": ("agree", "on second look"),
                                         "normal": ("agree", "")}
        with pytest.raises(ValueError):
            h.set_verdict(aid, "viral", "maybe")
        # Search by name (any case, part of it), by id, by date.
        assert [p.patient_id for p in h.patients("müller")] == [PHI["PatientID"]]
        assert [p.patient_id for p in h.patients("7340")] == [PHI["PatientID"]]
        assert h.patients("nobody") == []
        day = h.entry(other).study_date or h.entry(other).analysed_at[:10]
        assert other in [e.id for e in h.analyses(date_from=day, date_to=day)]
        assert h.analyses(date_from="2999-01-01") == []
        # Deleting one analysis removes its verdicts; deleting a patient removes everything.
        patient = h.patients(PHI["PatientID"])[0].key
        h.delete_analysis(aid)
        assert h.db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 0
        assert h.patients(PHI["PatientID"]) == []  # nothing left of that patient
        with pytest.raises(HistoryError):
            h.set_verdict(aid, "viral", "agree")
        nih = h.patients()[0]
        h.delete_patient(nih.key)
        assert h.db.execute("SELECT COUNT(*) FROM analyses").fetchone()[0] == 0
        assert h.db.execute("SELECT COUNT(*) FROM patients").fetchone()[0] == 0
        assert patient != nih.key
        assert h.integrity() == "ok"


def test_reopen_gives_back_image_and_stored_overlays(analyzer, db_path, pediatric_dicom) -> None:
    a = analyzer.analyze(pediatric_dicom)
    with History(db_path) as h:
        again = h.reopen(h.record(a))
    assert again.image.shape == a.image.shape
    assert np.array_equal(again.image.pixels, a.image.pixels)
    assert again.heatmap.shape == a.heatmap.shape
    assert np.abs(again.heatmap - a.heatmap).mean() < 0.02  # stored at 256 px, 8 bits
    assert (again.mask == a.mask).mean() > 0.98
    assert again.boxes == a.boxes and again.probabilities == pytest.approx(a.probabilities)
    assert again.models == a.models


def test_database_and_folder_are_private_and_in_wal_mode(db_path) -> None:
    with History(db_path) as h:
        assert h.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert h.schema_version == SCHEMA_VERSION
    assert stat.S_IMODE(db_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(db_path.parent.stat().st_mode) == 0o700


def test_an_older_schema_is_migrated_and_a_newer_one_refused(db_path) -> None:
    db_path.parent.mkdir(parents=True)
    sqlite3.connect(db_path).close()  # an empty database: schema version 0
    with History(db_path) as h:
        assert h.schema_version == SCHEMA_VERSION
        tables = {r[0] for r in h.db.execute("SELECT name FROM sqlite_master")}
        assert {"patients", "analyses", "verdicts"} <= tables
        h.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(HistoryError, match="newer RadiAI"):
        History(db_path)


def test_a_version_1_database_with_rows_is_migrated_keeping_them(analyzer, db_path) -> None:
    from radiai_core.results.history import MIGRATIONS

    with History(db_path) as h:
        aid = h.record(analyzer.analyze(KERMANY_BACTERIAL))  # positive: it has a heat map
        h.set_verdict(aid, "normal", "agree", "kept across the upgrade")
    # Put the file back to schema version 1, as an older RadiAI left it.
    raw = sqlite3.connect(db_path)
    raw.executescript("""
        DROP INDEX analyses_study_date;
        DROP INDEX analyses_analysed_at;
        DROP INDEX analyses_patient_time;
        DROP INDEX analyses_day;
        ALTER TABLE analyses ADD COLUMN heatmap_png BLOB;
        ALTER TABLE analyses ADD COLUMN mask_png BLOB;
        UPDATE analyses SET
            heatmap_png = (SELECT heatmap_png FROM overlays WHERE analysis = analyses.id),
            mask_png = (SELECT mask_png FROM overlays WHERE analysis = analyses.id);
        DROP TABLE overlays;
        ALTER TABLE analyses DROP COLUMN refused_by;
        ALTER TABLE analyses DROP COLUMN age;
        ALTER TABLE analyses DROP COLUMN findings;
        DROP TABLE IF EXISTS image_paths;
        DROP TABLE IF EXISTS deliveries;
    """)
    raw.execute("PRAGMA user_version = 1")
    raw.commit()
    raw.close()
    with History(db_path) as h:
        assert h.schema_version == len(MIGRATIONS) == SCHEMA_VERSION
        indexes = {r[0] for r in h.db.execute("SELECT name FROM sqlite_master WHERE type = "
                                              "'index'")}
        assert {"analyses_study_date", "analyses_analysed_at"} <= indexes
        assert h.entry(aid).verdicts["normal"] == ("agree", "kept across the upgrade")
        assert h.entry(aid).age is None  # not recorded by the older RadiAI
        assert h.integrity() == "ok"
        again = h.reopen(aid)  # the overlays moved to their own table
        assert again.heatmap is not None and again.mask is not None and again.mask.any()
        columns = {r[1] for r in h.db.execute("PRAGMA table_info(analyses)")}
        assert "heatmap_png" not in columns and {"refused_by", "age", "findings"} <= columns
        # Rows from before schema 4 read their one model's findings from its columns.
        (old,) = h.entry(aid).findings
        assert old.call == "pneumonia" and old.cam_label == again.cam_label is not None
        assert set(old.probabilities) == {"normal", "bacterial", "viral"}


def test_a_damaged_file_is_moved_aside_and_a_fresh_one_started(db_path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not an SQLite database, it is a damaged file" * 100)
    with History(db_path) as h:
        assert h.moved_aside is not None and h.moved_aside.exists()
        assert h.moved_aside.read_bytes().startswith(b"this is not an SQLite")
        assert h.patients() == [] and h.integrity() == "ok"


def test_a_failed_upgrade_keeps_the_file_as_it_was(analyzer, db_path) -> None:
    """A migration that cannot run (here: a table it creates is already there) is reported,
    and the history stays where and as it was; it is not moved aside as damaged."""
    with History(db_path) as h:
        h.record(analyzer.analyze(KERMANY_NORMAL))
    raw = sqlite3.connect(db_path)
    raw.execute("PRAGMA user_version = 2")  # as if v3 had not run; its overlays table exists
    raw.commit()
    raw.close()
    with pytest.raises(HistoryError, match="could not be upgraded to schema version 3"):
        History(db_path)
    raw = sqlite3.connect(db_path)
    assert raw.execute("PRAGMA user_version").fetchone()[0] == 2
    assert raw.execute("SELECT COUNT(*) FROM analyses").fetchone()[0] == 1
    raw.close()
    assert not list(db_path.parent.glob("*.damaged-*"))
