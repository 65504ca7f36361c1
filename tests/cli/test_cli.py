"""`radiai inspect`: one line per file, JSON fields, exit status, no traceback."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys

from radiai_core.cli import main

from ..samples import DICOM, KERMANY_DIR, KERMANY_NORMAL


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
    assert lines[-1] == "2 read, 2 failed, 1 ignored (not images)"
    errors = sorted(line for line in lines if line.startswith("ERROR"))
    assert len(errors) == 2
    assert "empty.dcm: is empty (0 bytes)" in errors[0]
    assert "half.dcm: has less pixel data than its header declares" in errors[1]
    # A text file next to the images is plainly not an image: ignored, not a failure.
    assert [line for line in lines if line.startswith("IGNORED")] == [
        f"IGNORED {tmp_path / 'notes.txt'}: is not an image (a .txt file); ignored."]
    assert sum(line.startswith("OK") for line in lines) == 2


def test_a_folder_with_an_index_file_is_not_a_failure(tmp_path) -> None:
    """The README's sample folder holds its index.csv: listed as ignored, exit code 0."""
    shutil.copy(KERMANY_NORMAL, tmp_path / "child.jpeg")
    (tmp_path / "index.csv").write_text("path,label\nchild.jpeg,normal\n")
    (tmp_path / "fake.csv").write_bytes(b"\xff\xd8\xff" + b"\x00" * 64)  # a JPEG named .csv
    code, text = run("analyze", "--no-history", str(tmp_path))
    assert code == 1  # the damaged JPEG named .csv is read as what it is: a failure
    assert "IGNORED" in text and "index.csv: is not an image (a .csv file); ignored." in text
    assert text.splitlines()[-1].startswith("1 analysed, 0 refused, 1 unreadable, 1 ignored")
    (tmp_path / "fake.csv").unlink()
    code, text = run("analyze", "--no-history", "--json", str(tmp_path))
    assert code == 0
    statuses = {json.loads(line)["path"].rsplit("/", 1)[-1]: json.loads(line)["status"]
                for line in text.splitlines()}
    assert statuses == {"child.jpeg": "ok", "index.csv": "ignored"}


def test_inspect_kermany_text() -> None:
    code, text = run("inspect", str(KERMANY_DIR / "images"))
    assert code == 0
    assert text.count("\nOK     ") + text.startswith("OK") == 20
    assert "size               224 × 224" in text
    assert text.splitlines()[-1] == "20 read, 0 failed, 0 ignored (not images)"


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


def _radiai(*argv: str, drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    """The `radiai` entry point (app.main, as installed) in a child process."""
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return subprocess.run([sys.executable, "-m", "app", *argv], capture_output=True, text=True,
                          timeout=300, env=env)


def test_no_display_is_one_line_and_exit_2_not_qts_abort() -> None:
    """Over SSH (no DISPLAY, no QT_QPA_PLATFORM) Qt would abort with exit 134."""
    proc = _radiai(drop=("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "needs a display" in proc.stderr
    assert "radiai analyze" in proc.stderr and "Reinstalling" not in proc.stderr


def test_unknown_words_are_a_usage_error_before_qt(tmp_path) -> None:
    proc = _radiai("analyse", str(KERMANY_NORMAL))
    assert proc.returncode == 2
    assert proc.stderr.startswith("radiai: no such command or file: 'analyse'")
    assert "did you mean 'radiai analyze'" in proc.stderr and "Traceback" not in proc.stderr
    proc = _radiai(str(tmp_path / "missing.dcm"))
    assert proc.returncode == 2 and "missing.dcm" in proc.stderr


def test_version_and_help_through_the_radiai_entry_point() -> None:
    from importlib.metadata import version

    proc = _radiai("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"radiai {version('radiai')}"
    proc = _radiai("--help")
    text = " ".join(proc.stdout.split())  # argparse wraps at the terminal's width
    assert proc.returncode == 0
    assert "usage: radiai [PATH ...]" in text and "PATH ...' with existing files or folders, " \
        "opens the viewer" in text
    proc = _radiai("analyze", "--help")  # a command's usage is its own, not the viewer's
    assert proc.returncode == 0 and proc.stdout.startswith("usage: radiai analyze [-h]")


def test_cam_of_a_label_the_model_lacks_is_a_usage_error_naming_the_labels(tmp_path) -> None:
    """Checked before any file is read: the missing file is not even reported."""
    proc = subprocess.run([sys.executable, "-m", "radiai_core.cli", "analyze", "--no-history",
                           "--cam", "pneumonia", str(tmp_path / "missing.dcm")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == "" and "Traceback" not in proc.stderr and "bug" not in proc.stderr
    assert proc.stderr.strip() == ("radiai analyze: --cam 'pneumonia' is not a label of the "
                                   "models; the labels are: normal, bacterial, viral")
