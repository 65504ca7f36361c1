"""`radiai inspect`: one line per file, JSON fields, exit status, no traceback."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys

from radiai_core.cli import main

from .samples import DICOM, KERMANY_DIR, KERMANY_NORMAL


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), out=out)
    return code, out.getvalue()


def test_inspect_json_on_the_real_dicoms() -> None:
    code, text = run("inspect", "--json", *map(str, DICOM.values()))
    assert code == 0
    recs = {rec["path"]: rec for rec in map(json.loads, text.splitlines())}
    assert len(recs) == 5
    for rec in recs.values():
        assert rec["status"] == "ok"
        assert {"path", "status", "message", "modality", "rows", "columns", "photometric",
                "patient_id", "study_uid"} <= set(rec)
    j2k = recs[str(DICOM["j2k_mono1"])]
    assert (j2k["modality"], j2k["rows"], j2k["columns"], j2k["photometric"]) == (
        "CR", 1955, 1841, "MONOCHROME1")
    assert j2k["patient_id"] == "9RG1"
    assert j2k["study_uid"] == "1.3.6.1.4.1.5962.1.2.9.20040826185059.5457"
    assert "inverted" in j2k["message"]
    assert 0.0 <= j2k["pixels"]["min"] < j2k["pixels"]["mean"] < j2k["pixels"]["max"] <= 1.0


def test_inspect_folder_of_junk_reports_every_file(tmp_path) -> None:
    shutil.copy(DICOM["nih_cardiomegaly"], tmp_path / "good.dcm")
    shutil.copy(KERMANY_NORMAL, tmp_path / "good.jpeg")
    (tmp_path / "empty.dcm").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "half.dcm").write_bytes(DICOM["nih_nofinding"].read_bytes()[:500_000])
    code, text = run("inspect", str(tmp_path))
    lines = text.splitlines()
    assert code == 1
    assert lines[-1] == "2 read, 3 failed"
    errors = sorted(line for line in lines if line.startswith("ERROR"))
    assert len(errors) == 3
    assert "empty.dcm: is empty (0 bytes)" in errors[0]
    assert "half.dcm: has less pixel data than its header declares" in errors[1]
    assert "notes.txt: is not a DICOM file or an image" in errors[2]
    assert sum(line.startswith("OK") for line in lines) == 2


def test_inspect_kermany_text() -> None:
    code, text = run("inspect", str(KERMANY_DIR / "images"))
    assert code == 0
    assert text.count("\nOK     ") + text.startswith("OK") == 20
    assert "size               224 × 224" in text
    assert text.splitlines()[-1] == "20 read, 0 failed"


def test_entry_point_exit_status_and_no_traceback(tmp_path) -> None:
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\x00" * 10)
    proc = subprocess.run([sys.executable, "-m", "radiai_core.cli", "inspect", "--json",
                           str(bad), str(KERMANY_NORMAL)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    recs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["status"] for r in recs] == ["error", "ok"]
    assert recs[0]["message"].startswith("is not a DICOM file")


def test_no_subcommand_prints_help() -> None:
    code, text = run()
    assert code == 2 and "inspect" in text
