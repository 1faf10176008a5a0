"""In-process timing of one reconcile call (robust model), 10 and 1,000 claims.

Prints the median and the 90th percentile over many runs, next to named baselines measured in
the same run:

* ``numpy weighted median`` -- sorting the same figures and taking a credibility-weighted
  median, the cheapest defensible robust estimate (no range, no reasons);
* ``plain numpy posterior`` -- the same claims' mixture likelihoods (Normal right part, Cauchy
  wrong part, the grade table of docs/model.md restated) on one 512-point grid, normalised,
  with its median and 50 %/90 % quantiles read off the cumulative sum: the posterior without
  the extras (no refinement, leave-one-out, weights, plausible sets, outliers, findings, words).
  Issue 15 asks the 10-claim reconcile to cost at most 3× this.

``triangulate posterior`` is :meth:`models.robust.RobustEstimator.fit` alone (posterior, weights,
leave-one-out, plausible sets, outliers) on claims encoded beforehand (their kernel tables
too: built on first use, they are kept with the encoded claims); ``triangulate robust`` is
the whole :func:`models.reconcile.reconcile` call (checks, encoding with its kernel tables,
fit, findings, words).

    .venv/bin/python bench/bench_reconcile.py [--runs N]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import GRADES, timed
from scipy.special import log_ndtr

from models.claims import Claim, Source
from models.credibility import profile_for
from models.encode import encode, working_scale
from models.reconcile import reconcile
from models.robust import LOG_SUPPORT, RobustEstimator

#: docs/model.md, "Grade table" (c, σ on the log scale); F is the equal mixture of A–E.
GRADE_TABLE = {"A": (0.95, 0.10), "B": (0.85, 0.20), "C": (0.70, 0.35), "D": (0.50, 0.55),
               "E": (0.30, 0.80)}


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


def plain_posterior(claims: list[Claim], sources: list[Source], points: int = 512
                    ) -> tuple[float, float, float, float, float]:
    """Median and 50 %/90 % ends of the plain mixture posterior on one uniform grid (numpy)."""
    by_id = {s.id: s for s in sources}
    rows = []
    for c in claims:
        grade = str(by_id[c.source].reliability)
        for g in (GRADE_TABLE if grade == "F" else (grade,)):
            weight = 1.0 / len(GRADE_TABLE) if grade == "F" else 1.0
            rows.append((c, weight, *GRADE_TABLE[g]))
    figs = np.log([x for c in claims for x in (c.value, c.low, c.high) if x is not None])
    t = np.linspace(figs.min() - 3.0, figs.max() + 3.0, points)
    like = np.zeros((len(claims), points))
    index = {id(c): i for i, c in enumerate(claims)}
    for c, weight, cr, sig in rows:
        w = max(1.0, 2 * sig)
        if c.kind == "point":
            z, zw = (np.log(c.value or 1.0) - t) / sig, (np.log(c.value or 1.0) - t) / w
            right = np.exp(-0.5 * z * z) / (sig * 2.5066282746)
            wrong = 1 / (np.pi * w * (1 + zw * zw))
        elif c.kind == "at_least":
            right = np.exp(log_ndtr((t - np.log(c.value or 1.0)) / sig))
            wrong = 0.5 + np.arctan((t - np.log(c.value or 1.0)) / w) / np.pi
        elif c.kind == "at_most":
            right = np.exp(log_ndtr((np.log(c.value or 1.0) - t) / sig))
            wrong = 0.5 + np.arctan((np.log(c.value or 1.0) - t) / w) / np.pi
        else:
            lo, hi = np.log(c.low or 1.0), np.log(c.high or 1.0)
            right = np.exp(log_ndtr((hi - t) / sig)) - np.exp(log_ndtr((lo - t) / sig))
            wrong = (np.arctan((hi - t) / w) - np.arctan((lo - t) / w)) / np.pi
        like[index[id(c)]] += weight * (cr * right + (1 - cr) * wrong)
    log_post = np.log(like).sum(axis=0)
    cdf = np.cumsum(np.exp(log_post - log_post.max()))
    q = np.interp([0.5, 0.25, 0.75, 0.05, 0.95], cdf / cdf[-1], t)
    return float(q[0]), float(q[1]), float(q[2]), float(q[3]), float(q[4])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    print(f"{'case':<14}{'method':<26}{'median ms':>10}{'p90 ms':>10}{'ratio':>9}"
          f"{'cpu ms':>9}{'cpu ratio':>10}")
    for n, runs in ((10, args.runs), (1000, max(20, args.runs // 20))):
        claims, sources = make_case(n)
        profiles = {s.id: profile_for(s.reliability) for s in sources}
        enc = encode(claims, profiles, working_scale(claims, "log"))
        units = np.arange(n)
        estimator = RobustEstimator()
        rows = [
            ("numpy weighted median", lambda c=claims, s=sources: weighted_median(c, s)),
            ("plain numpy posterior", lambda c=claims, s=sources: plain_posterior(c, s)),
            ("triangulate posterior",
             lambda e=enc, u=units, m=estimator: m.fit(e, u, (0.5, 0.9), LOG_SUPPORT)),
            ("triangulate robust",
             lambda c=claims, s=sources: reconcile(c, s, levels=(0.5, 0.9))),
        ]
        base = base_cpu = 0.0
        for name, fn in rows:
            med, p90 = timed(fn, runs)
            # CPU time too: on a shared machine wall time mostly measures the other processes.
            cpu, _ = timed(fn, runs, clock=time.process_time)
            if name == "plain numpy posterior":
                base, base_cpu = med, cpu
            ratio = f"{med / base:>9.1f}" if base else f"{'':>9}"
            cpu_ratio = f"{cpu / base_cpu:>10.1f}" if base_cpu else f"{'':>10}"
            print(f"{n:>5} claims   {name:<26}{med:>10.3f}{p90:>10.3f}{ratio}{cpu:>9.3f}"
                  f"{cpu_ratio}", flush=True)
    print("ratio: to the plain numpy posterior of the same claims, measured in the same run "
          "(wall, then CPU)")


if __name__ == "__main__":
    main()
