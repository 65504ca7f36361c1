"""Release check of a built bundle: its `radiai-cli analyze --json` on the bundled samples must
give the source pipeline's results (probabilities to 1e-4, the same calls and boxes), with no
network (inside `unshare -n` where the system allows it).

    python packaging/check_bundle.py dist/RadiAI

Exit status 0 when the bundle passes; every difference is printed otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path, PureWindowsPath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TOLERANCE = 1e-4


def offline(command: list[str]) -> tuple[list[str], bool]:
    """``command`` inside ``unshare -n`` (no network) where the system allows it."""
    ok = shutil.which("unshare") and subprocess.run(
        ["unshare", "-n", "true"], capture_output=True).returncode == 0
    return (["unshare", "-n", *command], True) if ok else (command, False)


def compare(records: list[dict], samples: Path) -> list[str]:
    """Differences between a bundle's JSON records and the source pipeline on ``samples``
    (records are matched by file name; Windows paths are understood)."""
    from radiai_core.analysis.pipeline import analyze

    got = {PureWindowsPath(r["path"]).name if "\\" in r["path"] else Path(r["path"]).name: r
           for r in records}
    problems = []
    for path in sorted(samples.iterdir()):
        want = analyze(path).to_dict()
        have = got.get(path.name)
        if have is None:
            problems.append(f"{path.name}: no output from the bundle")
            continue
        if have["status"] != want["status"] or have["call"] != want["call"]:
            problems.append(f"{path.name}: {have['status']}/{have['call']} from the bundle, "
                            f"{want['status']}/{want['call']} from source")
        for label, p in want["probabilities"].items():
            if abs(have["probabilities"].get(label, -1) - p) > TOLERANCE:
                problems.append(f"{path.name}: p({label}) {have['probabilities'].get(label)} "
                                f"vs {p}")
        if have["boxes"] != want["boxes"]:
            problems.append(f"{path.name}: boxes differ: {have['boxes']} vs {want['boxes']}")
        if have["model"] != want["model"]:
            problems.append(f"{path.name}: model differs: {have['model']} vs {want['model']}")
    return problems


def main(bundle: Path) -> int:
    exe = bundle / ("radiai-cli.exe" if os.name == "nt" else "radiai-cli")
    samples = bundle / "_internal" / "samples"
    if not exe.exists() or not samples.is_dir():
        print(f"{bundle}: not a RadiAI bundle (no {exe.name} or samples); build it first")
        return 2
    command, no_network = offline([str(exe), "analyze", "--json", "--no-history", str(samples)])
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RADIAI_DATA_DIR": tmp, "RADIAI_LOG_DIR": tmp}
        env.pop("PYTHONPATH", None)
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)
    if proc.returncode != 0:
        print(f"bundle exited with {proc.returncode}:\n{proc.stderr[-2000:]}")
        return 1
    records = [json.loads(line) for line in proc.stdout.splitlines()]
    problems = compare(records, samples)
    print(f"bundle check: {len(records)} samples analysed by {exe} "
          f"({'no network: unshare -n' if no_network else 'network namespace not available'})")
    for p in problems:
        print("  DIFFERENT", p)
    if not problems:
        print(f"  same results as the source pipeline (probabilities within {TOLERANCE})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist" / "RadiAI"))
