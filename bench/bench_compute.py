"""The compute limit: each shipped model's FLOPs (counted from its LiteRT graph) divided by this
machine's measured float32 matrix-multiply speed, beside the measured inference time.

    python bench/bench_compute.py [--repeats 30]

Prints, per model and for one radiograph (lung mask + classifier): GFLOPs, the compute limit in
ms, the measured median LiteRT invoke time, and the ratio (target: end to end ≤ 3× the limit).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radiai_core.resources import models_dir  # noqa: E402


def count_flops(path: Path) -> tuple[float, dict[str, float]]:
    """Floating-point operations of one inference (a multiply-add counts as 2), by op type."""
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path))
    it.allocate_tensors()
    shapes = {d["index"]: tuple(d["shape"]) for d in it.get_tensor_details()}
    by_op: dict[str, float] = {}
    for op in it._get_ops_details():  # noqa: SLF001 - the public API has no graph walk
        name, ins, outs = op["op_name"], list(op["inputs"]), list(op["outputs"])
        if not outs or outs[0] < 0 or outs[0] not in shapes:
            continue
        out = shapes[outs[0]]
        n_out = float(np.prod(out))
        if name == "CONV_2D":
            cout, kh, kw, cin = shapes[ins[1]]
            f = 2.0 * n_out * kh * kw * cin
        elif name == "DEPTHWISE_CONV_2D":
            _, kh, kw, _ = shapes[ins[1]]
            f = 2.0 * n_out * kh * kw
        elif name == "TRANSPOSE_CONV":
            cout, kh, kw, cin = shapes[ins[1]]
            inp = shapes[ins[2]]
            f = 2.0 * float(np.prod(inp)) * kh * kw * cout
        elif name == "FULLY_CONNECTED":
            units, fan_in = shapes[ins[1]]
            f = 2.0 * units * fan_in * (n_out / units)
        elif name in ("ADD", "MUL", "SUB", "RELU", "RELU6", "LOGISTIC", "MAXIMUM", "MINIMUM"):
            f = n_out
        elif name in ("AVERAGE_POOL_2D", "MAX_POOL_2D", "MEAN"):
            f = float(np.prod(shapes[ins[0]]))
        else:
            continue
        by_op[name] = by_op.get(name, 0.0) + f
    return sum(by_op.values()), by_op


def matmul_gflops(n: int = 2048, repeats: int = 7) -> float:
    """Best float32 GEMM speed of this machine through NumPy's BLAS, in GFLOP/s."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def invoke_ms(path: Path, repeats: int) -> float:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_path=str(path), num_threads=os.cpu_count() or 2)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    x = np.random.default_rng(0).standard_normal(inp["shape"]).astype(np.float32)
    it.set_tensor(inp["index"], x)
    it.invoke()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        it.set_tensor(inp["index"], x)
        it.invoke()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--end-to-end-ms", type=float,
                   help="measured end-to-end median (bench_analyze.py) to compare as well")
    args = p.parse_args()
    gflops = matmul_gflops()
    print(f"machine: {os.cpu_count()} CPU(s); float32 matmul (NumPy BLAS, 2048²): "
          f"{gflops:.1f} GFLOP/s")
    total_f, total_ms = 0.0, 0.0
    for name, rel in (("lung mask", "lung_mask/lung_mask.tflite"),
                      ("classifier", "classifier/classifier.tflite")):
        path = models_dir() / rel
        f, by_op = count_flops(path)
        limit = f / (gflops * 1e9) * 1000
        ms = invoke_ms(path, args.repeats)
        total_f, total_ms = total_f + f, total_ms + ms
        main_ops = ", ".join(f"{k} {v / 1e9:.2f}" for k, v in
                             sorted(by_op.items(), key=lambda kv: -kv[1])[:3])
        print(f"{name:<11} {f / 1e9:6.2f} GFLOP ({main_ops})  limit {limit:6.1f} ms  "
              f"LiteRT median {ms:6.1f} ms  ratio {ms / limit:4.2f}×")
    limit = total_f / (gflops * 1e9) * 1000
    print(f"one radiograph (both models): {total_f / 1e9:.2f} GFLOP, compute limit "
          f"{limit:.1f} ms; both invokes {total_ms:.1f} ms = {total_ms / limit:.2f}× the limit")
    if args.end_to_end_ms:
        print(f"end to end {args.end_to_end_ms:.1f} ms = {args.end_to_end_ms / limit:.2f}× the "
              "limit (target ≤ 3×)")


if __name__ == "__main__":
    main()
