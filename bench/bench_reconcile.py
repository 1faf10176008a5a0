"""In-process timing of one reconcile call (robust model), 10 and 1,000 claims.

Prints the median and the 90th percentile over many runs, next to a named baseline measured in
the same run: ``numpy weighted median`` -- sorting the same figures and taking a
credibility-weighted median, the cheapest defensible robust estimate (no range, no reasons).

    .venv/bin/python bench/bench_reconcile.py [--runs N]
"""

from __future__ import annotations

import argparse

import numpy as np
from _common import GRADES, timed

from models.claims import Claim, Source
from models.reconcile import reconcile


def make_case(n: int, seed: int = 7) -> tuple[list[Claim], list[Source]]:
    """n claims of mixed kinds from n sources of mixed grades around a true value of 5,000."""
    rng = np.random.default_rng(seed)
    sources = [Source(f"s{i}", reliability=GRADES[i % 6]) for i in range(n)]
    claims: list[Claim] = []
    for i in range(n):
        x = float(5000 * np.exp(rng.normal(0, 0.3)))
        kind = ("point", "point", "point", "at_least", "at_most", "range")[i % 6]
        if kind == "range":
            claims.append(Claim(f"s{i}", "range", low=x * 0.8, high=x * 1.25))
        elif kind == "at_least":
            claims.append(Claim(f"s{i}", "at_least", x * 0.7))
        elif kind == "at_most":
            claims.append(Claim(f"s{i}", "at_most", x * 1.5))
        else:
            claims.append(Claim(f"s{i}", "point", x))
    return claims, sources


def weighted_median(claims: list[Claim], sources: list[Source]) -> float:
    weight = {"A": 0.95, "B": 0.85, "C": 0.7, "D": 0.5, "E": 0.3, "F": 0.66}
    by_id = {s.id: s for s in sources}
    x = np.array([c.value if c.value is not None else np.sqrt((c.low or 1) * (c.high or 1))
                  for c in claims])
    w = np.array([weight[str(by_id[c.source].reliability)] for c in claims])
    order = np.argsort(x)
    cum = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cum, cum[-1] / 2)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    print(f"{'case':<14}{'method':<26}{'median ms':>10}{'p90 ms':>10}{'ratio':>9}")
    for n, runs in ((10, args.runs), (1000, max(20, args.runs // 20))):
        claims, sources = make_case(n)
        base, base90 = timed(lambda c=claims, s=sources: weighted_median(c, s), runs)
        ours, ours90 = timed(lambda c=claims, s=sources: reconcile(c, s, levels=(0.5, 0.9)), runs)
        print(f"{n:>5} claims   {'numpy weighted median':<26}{base:>10.3f}{base90:>10.3f}"
              f"{1.0:>9.1f}")
        print(f"{n:>5} claims   {'triangulate robust':<26}{ours:>10.3f}{ours90:>10.3f}"
              f"{ours / base:>9.1f}")


if __name__ == "__main__":
    main()
