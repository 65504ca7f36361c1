"""The architecture holds: a Qt-free core in packages that layer without cycles; lint passes."""

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


def test_the_import_graph_has_no_cycles() -> None:
    """No module imports, through any chain, a module that imports it (type-checking imports
    aside): the packages layer (import-linter above), and so do the modules inside them."""
    import grimp

    graph = grimp.build_graph("radiai_core", "app", exclude_type_checking_imports=True)
    cycles = sorted({tuple(sorted((m, imported)))
                     for m in graph.modules
                     for imported in graph.find_modules_directly_imported_by(m)
                     if graph.find_shortest_chain(importer=imported, imported=m)})
    assert len(graph.modules) > 40 and cycles == []


def test_the_viewers_modules_import_in_one_direction_even_for_type_checking() -> None:
    """Inside the viewer (``app``) not even a type-checking import closes a cycle: a module
    that needs something of the window gets it through a narrow interface it declares (the
    exports take an ``ExportContext``), not by importing the window back."""
    import grimp

    graph = grimp.build_graph("app", exclude_type_checking_imports=False)
    cycles = sorted({tuple(sorted((m, imported)))
                     for m in graph.modules
                     for imported in graph.find_modules_directly_imported_by(m)
                     if graph.find_shortest_chain(importer=imported, imported=m)})
    assert len(graph.modules) > 8 and cycles == [], cycles
    # What the window's modules import from each other: nobody imports the window.
    assert graph.find_modules_that_directly_import("app.main_window") <= {"app.main"}


def test_no_private_name_is_imported_across_modules() -> None:
    """A leading underscore means "this module's own": no module of the core or the viewer
    imports one from another module (tests may; they look inside)."""
    import ast

    crossings = []
    for path in sorted([*(ROOT / "radiai_core").rglob("*.py"), *(ROOT / "app").rglob("*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module != "__future__":
                crossings += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}"
                              for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    assert crossings == []


def test_every_package_declares_its_public_names() -> None:
    """Each package of the core says what it offers (``__all__``), and every name it lists is
    there: the flow of the data shows in the folders."""
    import importlib
    import importlib.util

    for name in ("radiai_core", "radiai_core.reading", "radiai_core.analysis",
                 "radiai_core.results", "radiai_core.training", "radiai_core.node",
                 "radiai_core.cli"):
        package = importlib.import_module(name)
        assert package.__doc__ and package.__all__, name
        for public in package.__all__:
            assert (hasattr(package, public)
                    or importlib.util.find_spec(f"{name}.{public}") is not None), (name, public)
    flat = sorted(p.name for p in (ROOT / "radiai_core").glob("*.py"))
    assert flat == ["__init__.py", "errors.py", "i18n.py", "limits.py", "resources.py"]
