"""Benchmark: a history of 100,000 analyses. Targets: search ≤ 100 ms, opening it (what the
viewer does at start-up) as fast as with an empty history, and the viewer's start-up with it:
the window shown, then the History list's first page listed (read in a worker), with the GUI
thread's longest stall meanwhile.

Usage (after installing the package): python bench/bench_history.py [--n 100000] [--patients 5000]
[--startup-only]

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
    db.execute("INSERT INTO image_paths (image_key, path, first_seen, last_seen) "
                "SELECT image_key, path, analysed_at, analysed_at FROM analyses")
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


PROBE = r"""
import json, os, sys, tempfile, time
t0 = time.perf_counter()
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_XCB_GL_INTEGRATION", "none")
from pathlib import Path
from PyQt5.QtCore import QElapsedTimer, QSettings, QTimer
from PyQt5.QtWidgets import QApplication
app = QApplication(["radiai"])
from app.main_window import MainWindow
settings = QSettings(str(Path(tempfile.mkdtemp()) / "s.ini"), QSettings.IniFormat)
events, gaps = {}, [0.0]
clock = QElapsedTimer()
def tick():
    if clock.isValid():
        gaps[0] = max(gaps[0], clock.elapsed())
    clock.restart()
timer = QTimer()
timer.setInterval(10)
timer.timeout.connect(tick)
w = MainWindow(make_analyzer=lambda: None, settings=settings, history_path=Path(sys.argv[1]))
def listed():
    events.setdefault("listed", time.perf_counter() - t0)
    events["patients"] = len(w.history_panel.patient_titles())
    events["analyses"] = len(w.history_panel.analysis_items())
    QTimer.singleShot(50, finish)
def finish():
    events["gui_max_gap_ms"] = gaps[0]
    print(json.dumps(events))
    w.shutdown()
    app.quit()
w.history_panel.loaded.connect(listed)
w.show()
events["shown"] = time.perf_counter() - t0
timer.start()
QTimer.singleShot(0, lambda: events.setdefault("painted", time.perf_counter() - t0))
app.exec_()
"""


def startup(path: Path, runs: int = 3) -> dict[str, float]:
    """The viewer started on ``path`` in fresh processes (offscreen): seconds from the start of
    the process to the window shown and to the History list's first page listed, and the GUI
    thread's longest stall (ms, a 10 ms timer) until then; medians of ``runs``."""
    import json
    import os

    results = [json.loads(subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, check=True,
        cwd=ROOT, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}).stdout.splitlines()[-1])
        for _ in range(runs)]
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


def print_startup(name: str, path: Path) -> None:
    s = startup(path)
    print(f"viewer start-up, {name}: window shown {s['shown']:.2f} s, first page listed "
          f"{s['listed']:.2f} s ({s['patients']:.0f} patients, {s['analyses']:.0f} analyses), "
          f"longest GUI stall {s['gui_max_gap_ms']:.0f} ms")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--patients", type=int, default=5_000)
    ap.add_argument("--startup-only", action="store_true",
                    help="only the viewer's start-up figures (no search timings)")
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
        print_startup("empty history", empty)
        print_startup(f"{args.n:,} analyses", path)
        with History(path) as h:
            from app.history_view import PAGE_SIZE

            ms = median_ms(lambda: h.page(limit=PAGE_SIZE))
            print(f"the History list's first page ({PAGE_SIZE} patients, in the worker): "
                  f"{ms:.0f} ms")
            t = time.perf_counter()
            for p in h.patients():  # how the list was read before: a query per patient
                h.analyses(patient_key=p.key)
            print(f"every patient with a query each (the list before pages): "
                  f"{time.perf_counter() - t:.1f} s, in the GUI thread")
        if args.startup_only:
            return
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
