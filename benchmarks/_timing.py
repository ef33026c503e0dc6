"""Timing shared by the benchmarks: the median of repeated calls after one warm-up call."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_time(function: Callable[[], object], repeats: int) -> float:
    """Median seconds of ``repeats`` calls, after one warm-up call (imports, allocations, thread pools)."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def median_ms(function: Callable[[], object], repeats: int) -> float:
    """:func:`median_time` in milliseconds."""
    return 1000 * median_time(function, repeats)
