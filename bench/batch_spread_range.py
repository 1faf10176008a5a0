"""Batch truth discovery when the sources' spreads span two decades (review finding 13).

    .venv/bin/python bench/batch_spread_range.py [--questions 1500] [--seeds 1 2 3] [--tree DIR]

The archives come from this script's own simulator (not :mod:`models.simulate_batch`): 60
sources with log σ_s uniform on [log 0.003, log 0.3] (log scale), credibility U(0.5, 0.98) and
bias β_s ~ N(0, (σ_s/4)²), sharing the claims in proportion to 1/rank^0.7 (activity
independent of precision); every question has 1-10 claims (uniform) from distinct sources,
each right with probability c_s as θ + β_s + N(0, σ_s²), else wrong (half Cauchy around θ,
half uniform within ×100), six significant digits. It fits
:class:`~models.batch.BatchEstimator` with its defaults and prints, per seed:

* σ learned/true by tier: the median over sources with at least 10 claims of the learned
  spread over the true one, for the precise (σ < 0.014), middle and loose (σ > 0.064) thirds of
  the log range, and (prec<=40) for the precise ones with 10-40 claims;
* question coverage: the share of questions whose 90 % interval holds the truth, by claim
  count (1, 2-5, 6-10);
* err6_10: the median absolute error (log scale) of the questions of 6-10 claims;
* src cov: the share of sources whose 90 % credibility interval holds the true c_s;
* CPU seconds of the fit (with the load average).

``--tree`` puts another checkout first on the import path, so one shell loop can run main's
code and this branch's alternately on the same archives.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

#: The spreads' range on the log scale: two decades.
SPREAD_LOW, SPREAD_HIGH = 0.003, 0.3
#: Tier edges: thirds of the log range.
TIER_EDGES = (SPREAD_LOW * 10 ** (2 / 3), SPREAD_LOW * 10 ** (4 / 3))


def draw(seed: int, n_questions: int, n_sources: int = 60, least: int = 1,
         most: int = 10) -> dict[str, Any]:
    """One archive: columns for ClaimTable.from_columns plus the truths."""
    rng = np.random.default_rng(seed)
    sigma = np.exp(rng.uniform(np.log(SPREAD_LOW), np.log(SPREAD_HIGH), n_sources))
    cred = rng.uniform(0.5, 0.98, n_sources)
    beta = rng.normal(0.0, sigma / 4.0)
    activity = 1.0 / np.arange(1, n_sources + 1) ** 0.7
    activity = rng.permutation(activity) / activity.sum()
    theta = rng.uniform(np.log(10.0), np.log(1e6), n_questions)
    counts = rng.integers(least, most + 1, n_questions)
    src = np.concatenate([rng.choice(n_sources, k, replace=False, p=activity) for k in counts])
    q = np.repeat(np.arange(n_questions), counts)
    n = q.size
    right = rng.random(n) < cred[src]
    far = np.log(100.0)
    wrong = np.where(rng.random(n) < 0.5, np.clip(rng.standard_cauchy(n), -far, far),
                     rng.uniform(-far, far, n))
    noise = beta[src] + sigma[src] * rng.standard_normal(n)
    value = np.exp(theta[q] + np.where(right, noise, wrong))
    value = np.array([float(f"{v:.6g}") for v in value])
    return {"q": [f"q{k}" for k in q.tolist()], "s": [f"s{k}" for k in src.tolist()],
            "value": value, "theta": theta, "counts": counts, "sigma": sigma, "cred": cred}


def measure(data: dict[str, Any]) -> dict[str, float]:
    """Fit with the defaults; the figures listed in the module docstring."""
    from models.batch import BatchEstimator, ClaimTable

    table = ClaimTable.from_columns(data["q"], data["s"], ["point"] * len(data["q"]),
                                    data["value"])
    start = time.process_time()
    fit = BatchEstimator().fit(table, levels=(0.9,), scale="log")
    cpu = time.process_time() - start
    src = fit.sources
    k = np.array([int(i[1:]) for i in src.ids])
    true_sigma, true_c = data["sigma"][k], data["cred"][k]
    ratio = src.spread / true_sigma
    many = src.n_claims >= 10
    out: dict[str, float] = {"cpu": cpu}
    tiers = (true_sigma < TIER_EDGES[0], (true_sigma >= TIER_EDGES[0])
             & (true_sigma <= TIER_EDGES[1]), true_sigma > TIER_EDGES[1])
    for name, tier in zip(("precise", "middle", "loose"), tiers, strict=True):
        out[name] = float(np.median(ratio[tier & many])) if (tier & many).any() else np.nan
    few = tiers[0] & many & (src.n_claims <= 40)
    out["precise_few"] = float(np.median(ratio[few])) if few.any() else np.nan
    qe = fit.questions
    order = np.array([int(i[1:]) for i in qe.ids])
    truth = np.exp(data["theta"][order])
    hit = (qe.low[:, 0] <= truth) & (truth <= qe.high[:, 0])
    counts = data["counts"][order]
    for name, lo, hi in (("cov1", 1, 1), ("cov2_5", 2, 5), ("cov6_10", 6, 10)):
        band = (counts >= lo) & (counts <= hi)
        out[name] = float(hit[band].mean()) if band.any() else np.nan
    out["err6_10"] = float(np.median(np.abs(np.log(qe.value) - data["theta"][order])[counts >= 6]))
    out["src_cov"] = float(np.mean((src.credibility_low <= true_c)
                                   & (true_c <= src.credibility_high)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=1500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--claims", type=int, nargs=2, default=[1, 10],
                        help="least and most claims a question")
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    sys.path.insert(0, str(args.tree))
    print(f"tree {args.tree.name}, load {os.getloadavg()[0]:.2f}")
    columns = ("precise_few", "precise", "middle", "loose", "cov1", "cov2_5", "cov6_10",
               "err6_10", "src_cov", "cpu")
    print("seed " + " ".join(f"{c:>11}" for c in columns))
    for seed in args.seeds:
        r = measure(draw(seed, args.questions, least=args.claims[0], most=args.claims[1]))
        print(f"{seed:>4} " + " ".join(f"{r[c]:>11.4g}" for c in columns))

if __name__ == "__main__":
    main()
