"""What the bundle relies on: the files its spec lists exist, and the app's whole runtime path
(viewer, analysis, history, PDF) never imports what the spec leaves out."""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from radiai_core.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "build_installer.spec"


def spec_list(name: str) -> list[str]:
    match = re.search(rf"^{name} = (\[.*?\])$", SPEC.read_text(), re.S | re.M)
    assert match, name
    return ast.literal_eval(match.group(1))


def test_every_file_the_spec_bundles_exists() -> None:
    for f in spec_list("MODEL_FILES"):
        assert (ROOT / "models" / f).is_file(), f
    for s in spec_list("SAMPLES"):
        assert (ROOT / "tests" / "data" / "dicom" / s).is_file(), s
    assert (ROOT / "packaging" / "entry.py").is_file()
    # The models the app loads are all in the list (LiteRT weights, not the Keras files).
    for kind in ("classifier", "lung_mask"):
        m = json.loads((ROOT / "models" / kind / "manifest.json").read_text())
        assert f"{kind}/{m['runtime']['litert']}" in spec_list("MODEL_FILES")
    gate = json.loads((ROOT / "models" / "gate" / "manifest.json").read_text())
    for key in ("atypicality", "inversion", "scope_heads"):  # the gate's data files
        assert f"gate/{gate[key]}" in spec_list("MODEL_FILES")


def test_the_bundle_keeps_qts_own_korean() -> None:
    """Qt's file dialogs and standard buttons in Korean (``app.i18n`` loads qtbase_ko.qm from
    PyQt5's Qt5/translations): the spec bundles the file from the venv's PyQt5, to that
    folder, and its drop of Qt's other translations spares it."""
    import importlib.util

    spec = importlib.util.find_spec("PyQt5")
    if spec is None:
        pytest.skip("PyQt5 is not installed (a core-only environment)")
    folder = Path(spec.origin).parent / "Qt5" / "translations"
    assert spec_list("QT_TRANSLATIONS") == ["qtbase_ko.qm"]
    for f in spec_list("QT_TRANSLATIONS"):
        assert (folder / f).is_file(), f
    text = SPEC.read_text()
    assert '"PyQt5/Qt5/translations") for f in QT_TRANSLATIONS]' in text
    assert 'dest.endswith(f"PyQt5/Qt5/translations/{f}") for f in QT_TRANSLATIONS' in text


@pytest.mark.slow
def test_runtime_path_never_imports_what_the_bundle_leaves_out(tmp_path) -> None:
    excluded = [m for m in spec_list("EXCLUDES") if not m.startswith("PyQt5.")]
    code = f"""
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["RADIAI_DATA_DIR"] = {str(tmp_path)!r}
from PyQt5.QtWidgets import QApplication
app = QApplication([])
from app.main_window import MainWindow
from radiai_core.analysis.pipeline import analyze
from radiai_core.results.history import History
from radiai_core.results.report import write_pdf
from radiai_core.cli import main
a = analyze({str(ROOT / "tests/data/dicom" / spec_list("SAMPLES")[0])!r})
with History() as h:
    h.record(a)
write_pdf([a], {str(tmp_path / "x.pdf")!r})
main(["analyze", "--json", {str(ROOT / "tests/data/kermany/images")!r}], out=open(os.devnull, "w"))
w = MainWindow()
loaded = [m for m in {excluded!r} if m in sys.modules]
w.shutdown()  # as closing the window does: its workers (the History list) end first
print("LOADED", loaded)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "LOADED []" in proc.stdout, proc.stdout


def test_model_building_commands_explain_what_is_missing(monkeypatch, capsys) -> None:
    for name in ["sklearn"] + [m for m in sys.modules if m.startswith("sklearn.")]:
        monkeypatch.setitem(sys.modules, name, None)  # as in the bundle
    code = main(["evaluate", "--csv", str(ROOT / "tests/data/kermany/index.csv")],
                out=io.StringIO())
    assert code == 1
    err = capsys.readouterr().err
    assert "model-building tools" in err and "sklearn" in err and "source checkout" in err
    assert "pip install -e '.[train]'" in err
