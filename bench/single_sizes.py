"""Coverage and time of the single-question reconcile by number of claims, 1 to 10,000.

    .venv/bin/python bench/single_sizes.py [--seed 3] [--scale 1.0]

Project issues 13 (point 3) and 15. For questions of 1, 2, 3, 5, 10, 100, 1,000 and 10,000
point claims it prints the share of 50 % and 90 % ranges of :func:`models.reconcile.reconcile`
that hold the truth (with a 95 % Wilson interval for the share), the median wall-clock and CPU
time of one reconcile call (the whole product path: checks, encoding, posterior, leave-one-out,
findings and words), and the CPU time of the posterior alone
(:meth:`models.robust.RobustEstimator.fit` on claims encoded beforehand: grid, posterior,
weights, leave-one-out, plausible sets, outliers).

The claims come from the world the model *documents* (docs/model.md, "Grade table"), drawn here
without importing anything from ``models``: the grade table is the one
``bench/independent_sim.py`` restates from the documentation. A source's grade is drawn from
A–E; a claim is right with the grade's chance c and then lies N(0, σ) from log θ, else it is
wrong and lies Cauchy(0, max(1, 2σ)) away (squashed into ±30 log units, a factor 10¹³, so
that the figure stays a float). log θ is uniform between log 50 and log 5,000,000. Coverage
should then be near nominal at every size (87–93 % at 90 %); a grid too coarse for the
posterior shows up as over-coverage at large sizes with ranges too wide.

Load: the machine is shared (2 cores); times are per call, on whatever load the run meets, and
the CPU time (process time) is printed beside the wall time for that reason.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.independent_sim import DOCUMENTED_GRADES, GRADE_LETTERS  # noqa: E402
from models.claims import Claim, Source  # noqa: E402
from models.credibility import profile_for  # noqa: E402
from models.encode import encode, working_scale  # noqa: E402
from models.reconcile import reconcile  # noqa: E402
from models.robust import RobustEstimator  # noqa: E402

#: (claims per question, questions at --scale 1).
SIZES: tuple[tuple[int, int], ...] = (
    (1, 600), (2, 600), (3, 600), (5, 600), (10, 400), (100, 200), (1000, 60), (10_000, 20))
LOG_TRUTH = (math.log(50.0), math.log(5e6))


def draw_question(rng: np.random.Generator, n: int) -> tuple[float, list[Claim], list[Source]]:
    """Truth, claims and sources of one question of ``n`` point claims (module docstring)."""
    log_truth = float(rng.uniform(*LOG_TRUTH))
    grades = rng.integers(0, len(GRADE_LETTERS), n)
    c = np.array([DOCUMENTED_GRADES[GRADE_LETTERS[g]][0] for g in grades])
    sigma = np.array([DOCUMENTED_GRADES[GRADE_LETTERS[g]][1] for g in grades])
    right = rng.random(n) < c
    off = np.where(right, rng.normal(0.0, sigma),
                   30.0 * np.tanh(np.maximum(1.0, 2 * sigma) * rng.standard_cauchy(n) / 30.0))
    values = np.exp(log_truth + off)
    sources = [Source(f"s{i}", reliability=GRADE_LETTERS[g]) for i, g in enumerate(grades)]
    claims = [Claim(f"s{i}", "point", float(v)) for i, v in enumerate(values)]
    return math.exp(log_truth), claims, sources


def wilson(k: int, n: int) -> tuple[float, float]:
    """95 % Wilson interval of a share k/n."""
    z = 1.959964
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the number of questions per size")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{'claims':>7}{'questions':>10}{'cover 50%':>11}{'cover 90%':>11}"
          f"{'90% 95%-CI':>15}{'wall ms':>10}{'cpu ms':>9}{'fit cpu ms':>12}")
    estimator = RobustEstimator()
    for n, count in SIZES:
        q = max(5, int(count * args.scale))
        hit50 = hit90 = 0
        walls, cpus, fits = [], [], []
        for _ in range(q):
            truth, claims, sources = draw_question(rng, n)
            w0, c0 = time.perf_counter(), time.process_time()
            result = reconcile(claims, sources, scale="log", levels=(0.5, 0.9))
            walls.append(time.perf_counter() - w0)
            cpus.append(time.process_time() - c0)
            enc = encode(claims, {s.id: profile_for(s.reliability) for s in sources},
                         working_scale(claims, "log"))
            c0 = time.process_time()
            estimator.fit(enc, np.arange(n), (0.5, 0.9))
            fits.append(time.process_time() - c0)
            iv50, iv90 = result.estimate.intervals
            hit50 += bool((iv50.low or 0.0) <= truth <= (iv50.high or math.inf))
            hit90 += bool((iv90.low or 0.0) <= truth <= (iv90.high or math.inf))
        lo, hi = wilson(hit90, q)
        print(f"{n:>7}{q:>10}{hit50 / q:>11.1%}{hit90 / q:>11.1%}"
              f"{f'{lo:.0%}–{hi:.0%}':>15}{statistics.median(walls) * 1e3:>10.1f}"
              f"{statistics.median(cpus) * 1e3:>9.1f}{statistics.median(fits) * 1e3:>12.1f}",
              flush=True)


if __name__ == "__main__":
    main()
