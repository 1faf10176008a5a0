"""When the near-truth check widens loose sources' credibility intervals (review rC, finding 3).

    .venv/bin/python bench/sensitivity_trigger.py [--laws cauchy far] [--seeds 1 2 3]
        [--questions 1500]

The archives come from this script's own simulator: 60 sources, a third in each tier of log
spread 0.02 / 0.1 / 0.3 (jittered by exp(N(0, 0.1²))), credibility U(0.5, 0.95), 6-10 claims a
question from distinct sources. Right claims are θ + N(0, σ_s²); wrong ones follow ``cauchy``,
the model's own law θ + Cauchy(0, max(1, 2σ_s)) (clipped at ±12), or ``far``, a factor of
3-100 off either way. Per archive it prints the near-truth counts O and E, κ = O/E, the factor
that testing κ < 1 gave (the branch before this fix) and the one the significance test
(:func:`models.batch.sensitivity.wrong_factor`) gives, and the 90 % credibility interval's
coverage of the true c_s by tier with the check switched off (main's intervals) and on.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import numpy as np

import models.batch.estimator as estimator_mod
from models.batch import BatchEstimator, ClaimTable
from models.batch.sensitivity import MAX_WRONG_FACTOR, NEAR_PSEUDO, wrong_factor

TIERS = (0.02, 0.1, 0.3)


def draw(law: str, seed: int, n_q: int, n_s: int = 60) -> tuple[ClaimTable, Any, Any]:
    """A table, and its sources' true credibility and tier (in the table's order)."""
    rng = np.random.default_rng([2013, seed])
    tier = rng.permutation(np.arange(n_s) % 3)
    sigma = np.array(TIERS)[tier] * np.exp(0.1 * rng.standard_normal(n_s))
    cred = rng.uniform(0.5, 0.95, n_s)
    k = rng.integers(6, 11, n_q)
    q = np.repeat(np.arange(n_q), k)
    s = np.concatenate([rng.choice(n_s, size=int(m), replace=False) for m in k])
    theta = rng.uniform(np.log(10.0), np.log(1e6), n_q)
    right = rng.random(q.size) < cred[s]
    if law == "cauchy":
        wrong = np.clip(np.maximum(1.0, 2 * sigma[s]) * rng.standard_cauchy(q.size), -12, 12)
    else:
        wrong = rng.uniform(np.log(3.0), np.log(100.0), q.size) * rng.choice([-1, 1], q.size)
    y = theta[q] + np.where(right, sigma[s] * rng.standard_normal(q.size), wrong)
    table = ClaimTable.from_columns([f"q{j}" for j in q], [f"s{j}" for j in s],
                                    ["point"] * q.size, np.exp(y))
    order = np.array([int(name[1:]) for name in table.source_ids])
    return table, cred[order], tier[order]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--laws", nargs="+", default=["cauchy", "far"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    ap.add_argument("--questions", type=int, default=1500)
    args = ap.parse_args()
    seen_sums: list[Any] = []

    def recording(near: Any) -> float:
        seen_sums.append(near)
        return wrong_factor(near)

    estimator_mod.wrong_factor = recording  # type: ignore[assignment]
    print(f"load {os.getloadavg()[0]:.2f}")
    for law in args.laws:
        for seed in args.seeds:
            table, cred, tier = draw(law, seed, args.questions)
            seen_sums.clear()
            on = BatchEstimator().fit(table, levels=(0.9,), scale="log").sources
            seen, expected = seen_sums[0].sum(axis=0)
            old = float(np.clip((expected + NEAR_PSEUDO) / (seen + NEAR_PSEUDO), 1.0,
                                MAX_WRONG_FACTOR))
            new = wrong_factor(seen_sums[0])
            saved = BatchEstimator.other_credibility
            BatchEstimator.other_credibility = lambda *_: None  # type: ignore[assignment,method-assign]
            off = BatchEstimator().fit(table, levels=(0.9,), scale="log").sources
            BatchEstimator.other_credibility = saved  # type: ignore[method-assign]
            cov = []
            for src in (off, on):
                inside = (src.credibility_low <= cred) & (cred <= src.credibility_high)
                cov.append(" / ".join(f"{np.mean(inside[tier == t]):.2f}" for t in range(3)))
            print(f"{law} seed {seed}: O {seen:.0f} E {expected:.0f} kappa {seen / expected:.2f}"
                  f" factor(kappa<1) {old:.2f} factor(test) {new:.2f}"
                  f" coverage off {cov[0]} on {cov[1]}", flush=True)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
