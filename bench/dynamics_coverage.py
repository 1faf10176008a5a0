"""Coverage of the filter over time (models/dynamics) on simulated trajectories with known truth.

The simulator below is written independently of the model: it imports no model parameter. Its
truths are random walks on the log scale (``drifting``) and growing counts whose daily
increments are folded Gaussians (``cumulative``) that keep growing for 30 days after the last
claim towards an eventual total. Each question gets 1-20 claims on scattered days (for
cumulative questions a quarter of them about the eventual total), by sources graded A-F. The
grades mean what docs/model.md's grade table says, re-declared here; an F source is a source of
a random grade A-E that the model is not told. A right claim is the truth times e^(σ·N(0, 1))
(×1.5 the spread when hedged "about"); a wrong claim is the truth times e^(t₂), a Student t
with 2 degrees of freedom (not the model's Cauchy). The model learns the drift itself.

For every question and every claim day (and the total) we check whether the 50 % and 90 %
intervals hold the truth on that day, and report the shares by time of the question and by
number of claims.

A disaster's toll is reported on a few days while it grows many-fold (a flood's count went
from 150 to 2,300 in two days): ``--drift-range 0.3 2.5 --days 5`` draws such questions.

    .venv/bin/python bench/dynamics_coverage.py [--questions N] [--seed S]
        [--drift-range LOW HIGH] [--days D]
"""

from __future__ import annotations

import argparse
import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from models.claims import Claim, Source
from models.dynamics import reconcile_dynamic

#: The grade table of docs/model.md, re-declared: (share of right figures, spread in log units).
GRADES = {"A": (0.95, 0.10), "B": (0.85, 0.20), "C": (0.70, 0.35), "D": (0.50, 0.55),
          "E": (0.30, 0.80)}
#: Days over which claims are made; the eventual total is the level this many days later.
CLAIM_DAYS = 60
TOTAL_AFTER = 30
#: Daily drift (log units per √day) of the simulated truths, drawn log-uniformly.
DRIFT_RANGE = (0.005, 0.15)
#: Share of a cumulative question's claims about the eventual total; share hedged "about".
TOTAL_SHARE = 0.25
ABOUT_SHARE = 0.2
#: Spread of a wrong claim (log units), the scale of its Student t (2 df).
WRONG_SCALE = 1.0


@dataclass(frozen=True)
class Question:
    claims: list[Claim]
    sources: list[Source]
    horizons: list[str]
    truth: np.ndarray  # level on days 0..CLAIM_DAYS-1
    total: float


def simulate(rng: np.random.Generator, dynamics: str,
             drift_range: tuple[float, float] = DRIFT_RANGE, claim_days: int = CLAIM_DAYS,
             total_after: int = TOTAL_AFTER) -> Question:
    q = math.exp(rng.uniform(math.log(drift_range[0]), math.log(drift_range[1])))
    start = rng.uniform(math.log(100.0), math.log(1e6))
    steps = rng.normal(0.0, q, claim_days + total_after - 1)
    if dynamics == "cumulative":
        steps = np.abs(steps)
    path = start + np.r_[0.0, np.cumsum(steps)]
    n = int(rng.integers(1, 21))
    days = rng.integers(0, claim_days, n)
    claims, sources, horizons = [], [], []
    for i in range(n):
        shown = str(rng.choice(list(GRADES) + ["F"]))
        grade = shown if shown != "F" else str(rng.choice(list(GRADES)))
        c, sigma = GRADES[grade]
        about = rng.random() < ABOUT_SHARE
        total = dynamics == "cumulative" and rng.random() < TOTAL_SHARE
        truth = path[-1] if total else path[days[i]]
        if rng.random() < c:
            figure = truth + sigma * (1.5 if about else 1.0) * rng.normal()
        else:
            figure = truth + WRONG_SCALE * rng.standard_t(2)
        sources.append(Source(f"s{i}", reliability=shown))
        claims.append(Claim(f"s{i}", "point", float(math.exp(figure)),
                            hedge="about" if about else "none", as_of=int(days[i])))
        horizons.append("total" if total else "level")
    return Question(claims, sources, horizons, np.exp(path[:claim_days]), float(math.exp(path[-1])))


def claims_bucket(n: int) -> str:
    return "1-3 claims" if n <= 3 else ("4-10 claims" if n <= 10 else "11-20 claims")


def run(questions: int, seed: int, drift_range: tuple[float, float] = DRIFT_RANGE,
        claim_days: int = CLAIM_DAYS) -> None:
    # The total is the level as long after the last claim day as the claims span, at most 30.
    total_after = min(TOTAL_AFTER, claim_days)
    print(f"{questions} simulated questions per dynamics, 1-20 claims each on days 0-"
          f"{claim_days - 1}, drift {drift_range[0]:g}-{drift_range[1]:g} a √day, seed {seed}")
    print(f"{'dynamics':<12}{'group':<16}{'nodes':>7}{'cover 50%':>11}{'cover 90%':>11}")
    for dynamics in ("cumulative", "drifting"):
        rng = np.random.default_rng([seed, len(dynamics)])
        hits: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
        started = time.perf_counter()
        for _ in range(questions):
            qn = simulate(rng, dynamics, drift_range, claim_days, total_after)
            r = reconcile_dynamic(qn.claims, qn.sources, dynamics=dynamics,  # type: ignore[arg-type]
                                  horizons=qn.horizons)  # type: ignore[arg-type]
            bucket = claims_bucket(len(qn.claims))
            nodes = [(t, float(qn.truth[int(t.day or 0)]), f"days {15 * (int(t.day or 0) // 15)}-"
                      f"{15 * (int(t.day or 0) // 15) + 14}") for t in r.trajectory]
            if r.total is not None:
                nodes.append((r.total, qn.total, "eventual total"))
            for est, truth, group in nodes:
                iv50, iv90 = est.intervals
                hit = ((iv50.low or 0.0) <= truth <= (iv50.high or math.inf),
                       (iv90.low or 0.0) <= truth <= (iv90.high or math.inf))
                for key in (group, bucket, "all"):
                    hits[key].append(hit)
        elapsed = time.perf_counter() - started
        order = sorted(k for k in hits if k.startswith("days")) + [
            k for k in ("eventual total", "1-3 claims", "4-10 claims", "11-20 claims", "all")
            if k in hits]
        for key in order:
            arr = np.array(hits[key], dtype=float)
            print(f"{dynamics:<12}{key:<16}{arr.shape[0]:>7}{arr[:, 0].mean():>11.3f}"
                  f"{arr[:, 1].mean():>11.3f}")
        print(f"{dynamics:<12}{'time':<16}{elapsed:>7.1f} s ({1e3 * elapsed / questions:.0f} ms "
              "per question)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20241018)
    parser.add_argument("--drift-range", type=float, nargs=2, default=DRIFT_RANGE,
                        metavar=("LOW", "HIGH"), help="the truths' drift, log units a √day")
    parser.add_argument("--days", type=int, default=CLAIM_DAYS, help="days claims are made on")
    args = parser.parse_args()
    run(args.questions, args.seed, tuple(args.drift_range), args.days)


if __name__ == "__main__":
    main()
