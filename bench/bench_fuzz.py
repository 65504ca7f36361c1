"""Benchmark: the seeded fuzz corpus (tests/fuzz.py) through the header scan and the full
analysis, per file. Target: every file answered within 2 s, peak memory bounded.

Usage (after installing the package, from the repository root):
    python bench/bench_fuzz.py [--n 1050]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

from memory import peak_rss_line

from radiai_core.analysis.pipeline import default_analyzer
from radiai_core.errors import RadiAIError
from radiai_core.reading.studies import scan

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the corpus generator lives with the tests

from tests.fuzz import build_fuzz_corpus  # noqa: E402

TARGET_S = 2.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1050)
    args = ap.parse_args()
    analyzer = default_analyzer()
    analyzer.warm_up()
    with tempfile.TemporaryDirectory() as tmp:
        files = build_fuzz_corpus(Path(tmp) / "corpus", args.n)
        t = time.perf_counter()
        result = scan(Path(tmp) / "corpus")
        print(f"header scan of {len(files)} files: {time.perf_counter() - t:.2f} s, "
              f"{len(result.skipped)} skipped with a reason, "
              f"{sum(k == 'bug' for k in (s.kind for s in result.skipped))} bugs")
        times, outcome = [], Counter()
        for path in files:
            t = time.perf_counter()
            try:
                outcome[analyzer.analyze(path).status] += 1
            except RadiAIError as exc:
                outcome[exc.kind] += 1
            except Exception:  # noqa: BLE001 - RadiAI's own bug: counted and shown, not hidden
                outcome["bug"] += 1
                traceback.print_exc()
            times.append(time.perf_counter() - t)
        worst = max(times)
        print(f"analyze per file: median {statistics.median(times) * 1000:.0f} ms, max "
              f"{worst * 1000:.0f} ms (target ≤ {TARGET_S:.0f} s)"
              f"{'' if worst <= TARGET_S else '  OVER TARGET'}")
        print("answers: " + ", ".join(f"{k} {v}" for k, v in outcome.most_common())
              + f"; bugs (not the file's fault) {outcome['bug']}")
    print(peak_rss_line())


if __name__ == "__main__":
    main()
