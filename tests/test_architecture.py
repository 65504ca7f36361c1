"""The architecture holds: radiai_core is Qt-free (checked two ways) and the lint rules pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_importing_every_core_module_loads_no_qt() -> None:
    code = (
        "import importlib, pkgutil, sys, radiai_core\n"
        "for m in pkgutil.walk_packages(radiai_core.__path__, 'radiai_core.'):\n"
        "    importlib.import_module(m.name)\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PyQt5', 'PyQt6', 'PySide2', 'PySide6'))\n"
        "print(len([m for m in sys.modules if m.startswith('radiai_core')]), qt)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    n_modules, qt = proc.stdout.split(" ", 1)
    assert int(n_modules) >= 10
    assert qt.strip() == "[]"


def test_import_linter_contract() -> None:
    proc = subprocess.run([sys.executable, "-c",
                           "import sys; from importlinter.cli import lint_imports;"
                           "sys.exit(lint_imports())"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "radiai_core never imports Qt KEPT" in proc.stdout


def test_ruff_finds_nothing() -> None:
    """The lint rules in pyproject.toml hold for every Python file we ship or run."""
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                           "radiai_core", "app", "tests", "bench", "packaging"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All checks passed" in proc.stdout
