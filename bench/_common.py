"""Helpers shared by the benchmark scripts: timing, the grades, and (from ``tests/helpers.py``,
shared with the tests) the founding troop case and a server's worker processes."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.helpers import child_pids, troop_case  # noqa: E402

__all__ = ["GRADES", "ROOT", "child_pids", "timed", "troop_case"]

GRADES = ["A", "B", "C", "D", "E", "F"]


def timed(
    fn: Callable[[], object], runs: int, clock: Callable[[], float] = time.perf_counter
) -> tuple[float, float]:
    """(median, 90th percentile) of ``runs`` calls of ``fn`` in milliseconds, after one call to
    warm caches and lazy imports. ``clock``: wall time by default; ``time.process_time`` for
    CPU time (all threads), which a shared machine's other processes do not inflate."""
    fn()
    samples = []
    for _ in range(runs):
        start = clock()
        fn()
        samples.append(clock() - start)
    samples.sort()
    return statistics.median(samples) * 1e3, samples[int(0.9 * (len(samples) - 1))] * 1e3
