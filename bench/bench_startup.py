"""Cold start of the viewer: process launch → window shown → models loaded → first analysis on
screen, from the source checkout and from the PyInstaller bundle, with peak memory.

    QT_QPA_PLATFORM=offscreen python bench/bench_startup.py [--runs 5] [--bundle dist/RadiAI]

Each run is a new process given one sample radiograph on its command line; the app notes the
times through its RADIAI_STARTUP_PROBE hook and quits. Medians over the runs are printed (the
first run of each is also shown: it may find the files outside the disk cache).
Targets: window ≤ 2 s, first result ≤ 4 s after launch, peak RSS ≤ 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "tests" / "data" / "dicom" / "dx_chest_sc_nih__dicom_00000001_000.dcm"


def one_run(command: list[str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.json"
        env = {**os.environ, "RADIAI_STARTUP_PROBE": str(probe),
               "RADIAI_DATA_DIR": str(Path(tmp) / "data"), "RADIAI_LOG_DIR": tmp,
               "XDG_CONFIG_HOME": tmp}
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        t0 = time.time()
        subprocess.run(command + [str(SAMPLE)], env=env, timeout=120, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        ev = json.loads(probe.read_text())
    out = {k: ev[k] - t0 for k in ("main", "window_shown", "models_loaded", "first_result")}
    out["peak_rss_mb"] = ev.get("peak_rss_mb", float("nan"))
    return out


def report(name: str, command: list[str], runs: int) -> None:
    results = [one_run(command) for _ in range(runs)]
    print(f"{name}: {' '.join(command)}  ({runs} runs)")
    for key, label in (("main", "Python reaches RadiAI"), ("window_shown", "window shown"),
                       ("models_loaded", "models loaded"), ("first_result", "first result")):
        vals = [r[key] for r in results]
        print(f"  {label:<22} median {statistics.median(vals):5.2f} s   first run "
              f"{vals[0]:5.2f} s   max {max(vals):5.2f} s")
    print(f"  {'peak RSS':<22} median {statistics.median(r['peak_rss_mb'] for r in results):5.0f}"
          " MB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--bundle", type=Path, default=ROOT / "dist" / "RadiAI",
                   help="the built one-folder bundle (skipped when absent)")
    args = p.parse_args()
    report("source", [sys.executable, "-m", "app.main"], args.runs)
    exe = args.bundle / ("RadiAI.exe" if os.name == "nt" else "RadiAI")
    if exe.exists():
        report("bundle", [str(exe)], args.runs)
    else:
        print(f"bundle: {exe} not built (bash packaging/build.sh); skipped")


if __name__ == "__main__":
    main()
