"""Sources' learned credibility and its 90 % interval by tier, in news-sized archives.

    .venv/bin/python bench/batch_credibility_tiers.py [--seeds 1 2 ... 8] [--graded]
        [--wrong t2|cauchy|far|wide] [--questions 300] [--claims 1 3] [--population tiers|beta]
        [--pooled-strength 4]

The archives come from this script's own simulator (nothing of the model's code or parameters):
36 sources, 12 a tier, of credibility 0.9 / 0.6 / 0.3 (± U(0.05)) and log spread
log-uniform in [0.05, 0.1] / [0.15, 0.25] / [0.4, 0.6] (``--population beta``: credibility
Beta(2.4, 1.6), spread log-uniform in [0.05, 0.5], and the tiers are c > 0.8 / between /
c < 0.45). A source's activity is log-uniform over a factor 20, so at 300 questions of 1-3
claims it makes about 3 to 60 claims. Truths are log-uniform in [100, 10⁷]; a right claim is
θ + N(0, σ_s²) on the log scale, a wrong one θ plus a Student t of 2 degrees of freedom
(``t2``), a standard Cauchy, ±U(0.5, 3) (``far``) or N(0, 1.5²) (``wide``). ``--graded``
gives every source its tier's grade (A / C / E) as a prior.

Per tier (sources of at least 3 claims, pooled over the seeds): the mean error of the learned
credibility, the coverage of its 90 % interval with a 90 % Wilson interval, the interval's
mean width and the mean log ratio of the learned to the true spread; above them, the
questions' mean and median |log error|, their 90 % intervals' coverage and the sources' RMSE
of credibility.
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np

from models.batch import BatchEstimator, ClaimTable
from models.credibility import profile_for

#: Tier: (credibility, least and largest spread, grade).
TIERS = {"precise": (0.9, 0.05, 0.10, "A"), "middle": (0.6, 0.15, 0.25, "C"),
         "loose": (0.3, 0.4, 0.6, "E")}
PER_TIER = 12


def simulate(seed: int, n_q: int, k: tuple[int, int], wrong: str, population: str,
             ) -> dict[str, Any]:
    """Sources, truths and claims of one archive."""
    rng = np.random.default_rng([77, seed])
    names = [f"{t}{j}" for t in TIERS for j in range(PER_TIER)]
    tier = np.array([t for t in TIERS for _ in range(PER_TIER)])
    cred = np.array([TIERS[t][0] for t in tier]) + 0.05 * rng.uniform(-1, 1, len(names))
    spread = np.exp(rng.uniform(np.log([TIERS[t][1] for t in tier]),
                                np.log([TIERS[t][2] for t in tier])))
    if population == "beta":
        cred = rng.beta(2.4, 1.6, len(names))
        spread = np.exp(rng.uniform(math.log(0.05), math.log(0.5), len(names)))
        tier = np.where(cred > 0.8, "precise", np.where(cred < 0.45, "loose", "middle"))
    activity = np.exp(rng.uniform(0.0, math.log(20.0), len(names)))
    activity /= activity.sum()
    theta = rng.uniform(math.log(100.0), math.log(1e7), n_q)
    q: list[str] = []
    s: list[str] = []
    v: list[float] = []
    for j in range(n_q):
        for i in rng.choice(len(names), size=int(rng.integers(k[0], k[1] + 1)), replace=False,
                            p=activity):
            if rng.random() < cred[i]:
                off = spread[i] * rng.standard_normal()
            elif wrong == "t2":
                off = rng.standard_t(2.0)
            elif wrong == "cauchy":
                off = rng.standard_cauchy()
            elif wrong == "far":
                off = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 3.0)
            else:
                off = 1.5 * rng.standard_normal()
            q.append(f"q{j}")
            s.append(names[i])
            v.append(math.exp(theta[j] + float(np.clip(off, -30.0, 30.0))))
    return {"names": names, "cred": cred, "spread": spread, "tier": tier, "theta": theta,
            "table": ClaimTable.from_columns(q, s, ["point"] * len(q), v)}


def wilson(k: int, n: int, z: float = 1.6448536269514722) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion k/n."""
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return centre - half, centre + half


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", nargs="+", type=int, default=list(range(1, 9)))
    ap.add_argument("--graded", action="store_true")
    ap.add_argument("--wrong", choices=("t2", "cauchy", "far", "wide"), default="t2")
    ap.add_argument("--questions", type=int, default=300)
    ap.add_argument("--claims", nargs=2, type=int, default=[1, 3])
    ap.add_argument("--population", choices=("tiers", "beta"), default="tiers")
    ap.add_argument("--pooled-strength", type=float, default=4.0)
    args = ap.parse_args()
    rows: dict[str, list[tuple[float, bool, float, float]]] = {t: [] for t in TIERS}
    q_err: list[float] = []
    q_cover: list[bool] = []
    cpu = time.process_time()
    for seed in args.seeds:
        sim = simulate(seed, args.questions, (args.claims[0], args.claims[1]), args.wrong,
                       args.population)
        priors = ({n: profile_for(TIERS[t][3]) for n, t in zip(sim["names"], sim["tier"],
                                                               strict=True)}
                  if args.graded else None)
        fit = BatchEstimator(rounding="none", pooled_strength=args.pooled_strength).fit(
            sim["table"], levels=(0.9,), scale="log", priors=priors)
        theta = sim["theta"][[int(i[1:]) for i in fit.questions.ids]]
        q_err.extend(np.abs(np.log(fit.questions.value) - theta))
        q_cover.extend((np.log(fit.questions.low[:, 0]) <= theta)
                       & (theta <= np.log(fit.questions.high[:, 0])))
        src = fit.sources
        index = {n: i for i, n in enumerate(sim["names"])}
        for j, name in enumerate(src.ids):
            i = index[name]
            if src.n_claims[j] < 3:
                continue
            c = sim["cred"][i]
            rows[sim["tier"][i]].append((
                src.credibility[j] - c,
                bool(src.credibility_low[j] <= c <= src.credibility_high[j]),
                src.credibility_high[j] - src.credibility_low[j],
                math.log(src.spread[j] / sim["spread"][i])))
    cpu = time.process_time() - cpu
    errors = [r[0] for t in TIERS for r in rows[t]]
    print(f"{'graded' if args.graded else 'ungraded'}, wrong {args.wrong}, {args.questions} "
          f"questions of {args.claims[0]}-{args.claims[1]} claims, {args.population}, "
          f"κ_pooled {args.pooled_strength}, seeds {args.seeds}; CPU {cpu:.1f} s")
    print(f"questions: |log error| mean {np.mean(q_err):.4f} median {np.median(q_err):.4f}, "
          f"90 % coverage {np.mean(q_cover):.3f}; sources' credibility RMSE "
          f"{math.sqrt(np.mean(np.square(errors))):.4f}")
    print("tier     sources  c error  cov90 [Wilson 90 %]  width  log σ ratio")
    for t, r in rows.items():
        if not r:
            continue
        covered = sum(x[1] for x in r)
        low, high = wilson(covered, len(r))
        print(f"{t:8s} {len(r):7d}  {np.mean([x[0] for x in r]):+.3f}   {covered / len(r):.2f} "
              f"[{low:.2f}, {high:.2f}]       {np.mean([x[2] for x in r]):.3f}  "
              f"{np.mean([x[3] for x in r]):+.3f}")


if __name__ == "__main__":
    main()
