"""Benchmark: `analyze` per stage and end to end on the bundled sample radiographs.

Usage (after installing the package): python bench/bench_analyze.py [--repeats 20]

Loads the shipped models once, warms up, then analyses each sample image ``--repeats`` times
and prints the median time per stage and in total, per image and over all images. Target for
issue 3: ≤ 0.2 s median end to end per radiograph on this project's 2-core CPU.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from radiai_core.analysis.models import load_models
from radiai_core.analysis.pipeline import Analyzer

ROOT = Path(__file__).resolve().parents[1]
POSITIVES = sorted((ROOT / "tests/data/kermany/images").glob("person*.jpeg"))[:8]
SAMPLES = sorted((ROOT / "tests/data/kermany/images").glob("*.jpeg"))[:4] + sorted(
    (ROOT / "tests/data/dicom").glob("*.dcm"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    t0 = time.perf_counter()
    analyzer = Analyzer(load_models())
    print(f"models loaded in {time.perf_counter() - t0:.2f} s")
    for path in SAMPLES[:2]:
        analyzer.analyze(path)  # warm-up
    stages: dict[str, list[float]] = {}
    print(f"{'image':<44}{'size':>12}{'load':>8}{'models':>8}{'total':>8}  (median ms)")
    for path in SAMPLES:
        per: dict[str, list[float]] = {}
        for _ in range(args.repeats):
            a = analyzer.analyze(path)
            for k, v in a.timings_ms.items():
                per.setdefault(k, []).append(v)
                stages.setdefault(k, []).append(v)
        med = {k: statistics.median(v) for k, v in per.items()}
        models = med["lung_mask"] + med["classifier"]
        size = f"{a.image.shape[1]}×{a.image.shape[0]}"
        print(f"{path.name[:43]:<44}{size:>12}{med['load']:>8.1f}{models:>8.1f}"
              f"{med['total']:>8.1f}")
    print("all images, median per stage (ms): " + ", ".join(
        f"{k} {statistics.median(v):.1f}" for k, v in stages.items()))
    total = statistics.median(stages["total"])
    print(f"end to end median {total:.0f} ms; target ≤ 200 ms: "
          f"{'met' if total <= 200 else 'NOT met'}")
    # The compute limit (bench_compute.py, next to this script): every model's FLOPs at this
    # machine's GEMM speed; a gate with an inverse-gain bound adds a second lung-mask pass.
    from bench_compute import count_flops, matmul_gflops

    gflops = matmul_gflops()
    seg_f = count_flops(analyzer.models.lung_mask.folder / "lung_mask.tflite")[0]
    classifiers = analyzer.models.classifiers  # every classifier of the set runs once
    clf_f = sum(count_flops(c.folder / c.manifest["runtime"]["litert"])[0] for c in classifiers)
    gate = analyzer.models.gate
    seg_passes = 2 if gate is not None and gate.uses("inverse_gain") else 1
    flops = seg_passes * seg_f + clf_f
    limit = flops / (gflops * 1e9) * 1000
    print(f"compute limit: {flops / 1e9:.2f} GFLOP (lung mask ×{seg_passes}, "
          f"{len(classifiers)} classifier(s) ×1) at "
          f"{gflops:.0f} GFLOP/s = {limit:.1f} ms; end to end = {total / limit:.2f}× the limit "
          f"(target ≤ 3×)")
    explanation_cost(analyzer, args.repeats)
    from memory import peak_rss_line

    print(peak_rss_line())


def explanation_cost(analyzer: Analyzer, repeats: int) -> None:
    """The evidence's cost (issue 28): the median extra time of the heat map, lung zones and
    boxes per positively called image (``timings_ms["explain"]``), on the bundled pneumonia
    samples; a negative call pays nothing. Budget: ≤ 300 ms on this project's 2-core CPU."""
    per_image = []
    for path in POSITIVES:
        times = []
        for _ in range(max(1, repeats // 4)):
            a = analyzer.analyze(path)
            if a.decision is not None and a.decision.value == "positive":
                times.append(a.timings_ms["explain"])
        if times:
            per_image.append(statistics.median(times))
    if not per_image:
        print("explanation: no positively called sample")
        return
    med = statistics.median(per_image)
    print(f"explanation (map + zones + boxes) on {len(per_image)} positive samples: median "
          f"extra {med:.0f} ms per positive image (min {min(per_image):.0f}, max "
          f"{max(per_image):.0f}); budget ≤ 300 ms: {'met' if med <= 300 else 'NOT met'}")


if __name__ == "__main__":
    main()
