"""Peak resident memory of the running benchmark, as the benchmarks print it."""

from __future__ import annotations

TARGET_MB = 1500  # issue 6: peak RSS of the app ≤ 1.5 GB


def peak_rss_line() -> str:
    try:
        import resource  # not on Windows
    except ImportError:
        return "peak RSS: not measured on this platform"
    mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return f"peak RSS {mb:.0f} MB (target ≤ {TARGET_MB:,} MB)"
