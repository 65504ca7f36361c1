"""Release check of the Windows installer, under Wine on Linux: install it silently in a fresh
Wine prefix, run the installed ``radiai-cli.exe analyze --json`` on its samples with no network
and compare with the source pipeline, start the installed ``RadiAI.exe`` on a sample (time to
the first result on screen, and a screenshot), uninstall silently and list what is left.

    python packaging/windows/check_windows.py dist/RadiAI-0.1.0-setup.exe [--screenshot PNG]

Needs wine64, and for the viewer an X display (Xvfb is started when DISPLAY is unset) and
ImageMagick's ``import``. Exit status 0 when every step passes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "packaging"))

from check_bundle import TOLERANCE, compare, offline  # noqa: E402

SAMPLE = "person1946_bacteria_4874.jpeg"  # a child's pneumonia: a call, a heat map and boxes


def wine(args: list[str], env: dict[str, str], timeout: float = 600,
         capture: bool = True) -> subprocess.CompletedProcess:
    """Run a Windows program under Wine. Its output is piped: Wine's console refuses a plain
    file as stdout."""
    return subprocess.run(["wine", *args], env=env, timeout=timeout, text=True,
                          capture_output=capture, stdin=subprocess.DEVNULL)


def winpath(path: Path, env: dict[str, str]) -> str:
    """The Windows path of a Linux path (Wine's Z: drive)."""
    return subprocess.run(["winepath", "-w", str(path)], env=env, capture_output=True,
                          text=True, check=True).stdout.strip()


def tree_size(folder: Path) -> int:
    """Bytes in a folder, recursively."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def start_display(env: dict[str, str]) -> subprocess.Popen | None:
    """An Xvfb display when none is set."""
    if env.get("DISPLAY"):
        return None
    display = ":97"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten",
                             "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env["DISPLAY"] = display
    time.sleep(1.5)
    return xvfb


def first_result(exe: Path, sample: Path, env: dict[str, str]) -> dict[str, float]:
    """Seconds from launching the installed viewer on one sample to the window, the models and
    the first result on screen (the app's RADIAI_STARTUP_PROBE hook notes them and quits)."""
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.json"
        run_env = {**env, "RADIAI_STARTUP_PROBE": winpath(probe, env)}
        t0 = time.time()
        wine([str(exe), winpath(sample, env)], run_env, timeout=180)
        events = json.loads(probe.read_text(encoding="utf-8"))
    return {k: events[k] - t0 for k in ("window_shown", "models_loaded", "first_result")}


def screenshot(exe: Path, sample: Path, env: dict[str, str], out: Path, wait: float) -> None:
    """Start the installed viewer on ``sample``, wait for the result, grab the screen, close."""
    proc = subprocess.Popen(["wine", str(exe), winpath(sample, env)], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        time.sleep(wait)
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["import", "-window", "root", str(out)], env=env, check=True,
                       timeout=60)
    finally:
        proc.terminate()
        subprocess.run(["wineserver", "-k"], env=env, timeout=60)
        proc.wait(timeout=60)


def leftovers(prefix: Path, env: dict[str, str]) -> list[str]:
    """What RadiAI left in the prefix: files under the user's folders and registry keys."""
    found = []
    users = prefix / "drive_c" / "users"
    for pattern in ("*/AppData/Local/Programs/RadiAI", "*/AppData/Local/RadiAI",
                    "*/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/RadiAI",
                    "*/Desktop/RadiAI.lnk"):
        for p in users.glob(pattern):
            n = sum(1 for f in p.rglob("*") if f.is_file()) if p.is_dir() else 1
            found.append(f"{p.relative_to(prefix)} ({n} file(s))")
    for key in (r"HKCU\Software\RadiAI",
                r"HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall\RadiAI"):
        q = wine(["reg", "query", key, "/s"], env, timeout=60)
        if q.returncode == 0:
            subkeys = sorted({line.strip() for line in q.stdout.splitlines()
                              if line.strip().startswith("HKEY")})
            found.append(f"registry {key}: {', '.join(subkeys)}")
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("setup", type=Path, help="RadiAI-<version>-setup.exe")
    p.add_argument("--screenshot", type=Path, default=ROOT / "build" / "windows" /
                   "screenshot-wine.png")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "radiai"
    p.add_argument("--prefix", type=Path, default=cache / "wine-check",
                   help="the fresh Wine prefix to install into (emptied first; outside the "
                        "checkout, since a prefix links to / as drive Z:)")
    args = p.parse_args(argv)
    if not args.setup.is_file():
        print(f"{args.setup}: no such installer; build it: bash packaging/windows/"
              "build-on-linux.sh")
        return 2
    shutil.rmtree(args.prefix, ignore_errors=True)
    env = {**os.environ, "WINEPREFIX": str(args.prefix), "WINEARCH": "win64",
           "WINEDEBUG": "-all"}
    for k in ("RADIAI_MODELS", "RADIAI_DATA_DIR", "RADIAI_LOG_DIR", "PYTHONPATH"):
        env.pop(k, None)
    xvfb = start_display(env)
    failures = []
    try:
        subprocess.run(["wineboot", "-i"], env=env, capture_output=True, timeout=300)
        subprocess.run(["wineserver", "-w"], env=env, timeout=300)
        print(f"installer {args.setup.name}: {args.setup.stat().st_size / 1e6:.0f} MB")

        t0 = time.time()
        r = wine([str(args.setup), "/S"], env, timeout=900)
        subprocess.run(["wineserver", "-w"], env=env, timeout=300)
        app = next((args.prefix / "drive_c" / "users").glob("*/AppData/Local/Programs/RadiAI"),
                   None)
        if r.returncode != 0 or app is None or not (app / "RadiAI.exe").is_file():
            print(f"  FAILED silent install (exit {r.returncode}); nothing in "
                  "AppData\\Local\\Programs\\RadiAI")
            return 1
        print(f"silent install (/S): {time.time() - t0:.1f} s into {app.relative_to(args.prefix)}"
              f" ({tree_size(app) / 1e6:.0f} MB)")
        users = args.prefix / "drive_c" / "users"
        missing = [p for p in ("*/AppData/Roaming/Microsoft/Windows/Start Menu/Programs/RadiAI/"
                               "RadiAI.lnk", "*/Desktop/RadiAI.lnk") if not any(users.glob(p))]
        if missing:
            failures.append(f"missing shortcut(s): {missing}")

        samples = app / "_internal" / "samples"
        command, no_network = offline(["wine", str(app / "radiai-cli.exe"), "analyze",
                                       "--json", "--no-history", winpath(samples, env)])
        t0 = time.time()
        proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600,
                              stdin=subprocess.DEVNULL)
        records = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
        print(f"radiai-cli.exe analyze --json on {len(records)} samples: exit "
              f"{proc.returncode}, {time.time() - t0:.1f} s "
              f"({'no network: unshare -n' if no_network else 'network namespace not available'})")
        problems = compare(records, samples)
        for line in problems:
            print("  DIFFERENT", line)
        if proc.returncode != 0 or problems:
            failures.append("the installed CLI differs from the source pipeline")
        else:
            print(f"  same results as the source pipeline (probabilities within {TOLERANCE}, "
                  "same calls, boxes and models)")

        exe = app / "RadiAI.exe"
        for launch in ("first launch", "second launch"):  # the first one fills Wine's caches
            times = first_result(exe, samples / SAMPLE, env)
            print(f"RadiAI.exe on {SAMPLE}, {launch}: " + ", ".join(
                f"{k.replace('_', ' ')} {v:.2f} s" for k, v in times.items()) + " after launch")
        screenshot(exe, samples / SAMPLE, env, args.screenshot,
                   wait=times["first_result"] + 4.0)
        print(f"screenshot of the installed viewer: {args.screenshot}")

        uninstaller = app / "uninstall.exe"
        wine([str(uninstaller), "/S"], env, timeout=300)
        subprocess.run(["wineserver", "-w"], env=env, timeout=300)
        left = leftovers(args.prefix, env)
        print("after the silent uninstall (/S), RadiAI left:")
        for line in left or ["nothing"]:
            print("  " + line)
        if any("Programs/RadiAI" in line or "Uninstall" in line for line in left):
            failures.append("the uninstaller left the program behind")
    finally:
        subprocess.run(["wineserver", "-k"], env=env, capture_output=True, timeout=60)
        if xvfb is not None:
            xvfb.terminate()
    for f in failures:
        print("FAILED", f)
    print("windows check: " + ("passed" if not failures else "FAILED"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
