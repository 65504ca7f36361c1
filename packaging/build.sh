#!/usr/bin/env bash
# Build the one-folder bundle in dist/RadiAI (Linux), strip it, check it, report its size.
#   bash packaging/build.sh            (from the repository root, in the project's venv)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
"$PY" -m PyInstaller --noconfirm --clean build_installer.spec
# Strip debug symbols from the shared libraries, except the ones auditwheel vendored into
# *.libs folders (stripping numpy's OpenBLAS breaks its ELF alignment: "ELF load command
# address/offset not page-aligned").
find dist/RadiAI/_internal -name '*.so*' -type f -not -path '*.libs/*' -print0 \
  | xargs -0 -r strip --strip-unneeded 2>/dev/null || true
du -sh dist/RadiAI
"$PY" packaging/check_bundle.py dist/RadiAI
