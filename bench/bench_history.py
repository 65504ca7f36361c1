"""Benchmark: a history of 100,000 analyses. Targets: search ≤ 100 ms, opening it (what the
viewer does at start-up) as fast as with an empty history.

Usage (after installing the package): python bench/bench_history.py [--n 100000] [--patients 5000]

Real analyses of the bundled samples (tests/data) are recorded first, through the shipped
pipeline; their rows (overlays included, so the file has its real size) are then copied in SQL
to ``--n`` analyses of ``--patients`` patients with distinct names, ids, images and dates. Each
figure is the median of 5 runs; the first open of a file in a process runs SQLite's
quick_check, and both the first and a later open are printed.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from memory import peak_rss_line

from radiai_core.analysis.pipeline import default_analyzer
from radiai_core.results.history import History

ROOT = Path(__file__).resolve().parents[1]
SEARCH_TARGET_MS = 100.0
OPEN_ONCE = ("import sys, time; t = time.perf_counter(); from radiai_core.results.history import "
             "History; h = History(sys.argv[1]); print((time.perf_counter() - t) * 1000)")


def build(path: Path, n: int, n_patients: int) -> None:
    analyzer = default_analyzer()
    samples = sorted((ROOT / "tests/data/kermany/images").glob("*.jpeg"))[:10]
    with History(path) as h:
        for p in samples:
            h.record(analyzer.analyze(p))
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    db.execute("DELETE FROM verdicts")
    template = db.execute("SELECT * FROM analyses ORDER BY id").fetchall()
    overlays = db.execute("SELECT heatmap_png, mask_png FROM overlays ORDER BY analysis"
                          ).fetchall()
    cols = [d[0] for d in db.execute("SELECT * FROM analyses LIMIT 0").description]
    db.execute("DELETE FROM overlays")
    db.execute("DELETE FROM analyses")
    db.execute("DELETE FROM patients")
    db.executemany("INSERT INTO patients (id, patient_id, name, birth_date, sex) "
                   "VALUES (?, ?, ?, ?, ?)",
                   [(i + 1, f"PID{i:07d}", f"Surname{i % 977}^Given{i}", "2021-01-01",
                     "FM"[i % 2]) for i in range(n_patients)])
    rows: list[tuple] = []
    pictures: list[tuple] = []

    def flush() -> None:
        db.executemany(f"INSERT INTO analyses VALUES ({', '.join('?' * len(cols))})", rows)
        db.executemany("INSERT INTO overlays VALUES (?, ?, ?)", pictures)
        rows.clear()
        pictures.clear()

    for i in range(n):
        r = dict(zip(cols, template[i % len(template)], strict=True))
        r.update(id=i + 1, patient=i % n_patients + 1, image_key=f"sop:1.2.3.{i}",
                 path=f"/archive/{i % n_patients}/{i}.dcm",
                 analysed_at=f"20{20 + i % 7}-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+00:00",
                 study_date=f"20{20 + i % 7}-{1 + i % 12:02d}-{1 + i % 28:02d}")
        rows.append(tuple(r[c] for c in cols))
        pictures.append((i + 1, *overlays[i % len(overlays)]))
        if len(rows) == 5000:
            flush()
    flush()
    db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def median_ms(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def first_open_ms(path: Path) -> float:
    """Opening the file in a fresh process (the viewer at start-up), quick_check included."""
    return statistics.median(float(subprocess.run(
        [sys.executable, "-c", OPEN_ONCE, str(path)], capture_output=True, text=True,
        check=True).stdout) for _ in range(3))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--patients", type=int, default=5_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        empty = Path(tmp) / "empty.sqlite"
        History(empty).close()
        path = Path(tmp) / "history.sqlite"
        t = time.perf_counter()
        build(path, args.n, args.patients)
        print(f"built {args.n:,} analyses of {args.patients:,} patients in "
              f"{time.perf_counter() - t:.1f} s; file {path.stat().st_size / 1e6:.0f} MB")
        print(f"open at start-up (fresh process, start-up checks included): empty history "
              f"{first_open_ms(empty):.1f} ms, this one {first_open_ms(path):.1f} ms")
        with History(path) as h:
            figures = {
                "all patients (no filter)": lambda: h.patients(),
                "patients by name fragment 'surname12'": lambda: h.patients("surname12"),
                "patients by id 'PID00042'": lambda: h.patients("PID00042"),
                "patients by date range (one month)":
                    lambda: h.patients("", "2023-03-01", "2023-03-31"),
                "one patient's analyses": lambda: h.analyses(patient_key=4242),
                "analyses by name fragment 'given4242'": lambda: h.analyses(text="given4242"),
            }
            for name, fn in figures.items():
                ms = median_ms(fn)
                flag = "" if ms <= SEARCH_TARGET_MS else "  OVER TARGET"
                print(f"{name:<42} {ms:8.1f} ms (target ≤ {SEARCH_TARGET_MS:.0f} ms){flag}")
    print(peak_rss_line())


if __name__ == "__main__":
    main()
