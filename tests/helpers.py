"""Helpers shared by the tests and the benchmarks (``bench/_common.py`` imports them): the
founding troop case as core objects, the processes a server started, and client threads."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any, Self

from models.claims import Claim, Source
from models.result import Estimate

#: The founding case: NIS B point 1,500; Zelensky C up to 10,000; anonymous about 12,000.
TROOP_SOURCES = (
    Source("nis", "South Korea NIS", "intelligence_agency", "B"),
    Source("zelensky", "Volodymyr Zelensky", "head_of_state", "C"),
    Source("anon-media", "Sources to South Korean media", "anonymous", "F"),
)
TROOP_CLAIMS = (
    Claim("nis", "point", 1500.0),
    Claim("zelensky", "at_most", 10000.0),
    Claim("anon-media", "point", 12000.0, hedge="about"),
)
TROOP_TEXT = {"question": "North Korean soldiers in Russia", "unit": "soldiers"}

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def reconcile_bodies() -> list[Path]:
    """Every fixture holding a body of ``POST /v1/reconcile`` (its ``input``): robust, pooling,
    moving, bounds only."""
    return sorted(
        path for path in FIXTURES.rglob("*.json") if "input" in json.loads(path.read_text())
    )


def estimate_numbers(estimate: Estimate) -> list[float | None]:
    """The value and every interval end, in order; None where the answer leaves them open."""
    out: list[float | None] = [estimate.value]
    for interval in estimate.intervals:
        out += [interval.low, interval.high]
    return out


def same_estimate(first: Estimate, second: Estimate, rel: float, factor: float = 1.0) -> bool:
    """True when ``second`` is ``factor`` × ``first``: the same ends open (None), every number
    within ``rel``."""
    pairs = zip(estimate_numbers(first), estimate_numbers(second), strict=True)
    return all(
        (a is None and b is None)
        or (a is not None and b is not None and abs(b - factor * a) <= rel * abs(factor * a))
        for a, b in pairs
    )


def troop_case() -> tuple[list[Claim], list[Source], dict[str, Any]]:
    """The troop case as (claims, sources, question and unit), fresh lists to change freely."""
    return list(TROOP_CLAIMS), list(TROOP_SOURCES), dict(TROOP_TEXT)


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (a gunicorn arbiter's workers), from Linux /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return sorted(found)


class ClientThreads:
    """``count`` client threads, each running ``self._run(number)`` until ``stop`` is set:
    started on entering a ``with`` block, stopped and joined (``join_timeout`` seconds each at
    most) on leaving it. ``lock`` guards what the threads record."""

    join_timeout = 30.0

    def __init__(self, count: int) -> None:
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(count)]

    def _run(self, number: int) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(self.join_timeout)
