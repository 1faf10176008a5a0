"""A loose source's 90 % credibility interval holds its true credibility (session 13).

Review finding 12 (branch s12rQ): where wrong claims are unrelated to the truth (a figure for
something else, a wrong unit), sources whose right claims scatter by 0.3 in log were learned
0.09-0.13 below their credibility, and their intervals held the truth for 11-48 % of them.
The model's wrong part is a Cauchy centred on the truth, which puts half its mass within one
log unit of it; how much of a loose source's scatter is wrong then rests on that assumption,
which the archive cannot check. The interval now spans the credibility under a wrong part
ten times wider too (:mod:`models.batch.sensitivity`).

The simulator is this test's own and reads nothing of the model's parameters: sources in
three tiers of spread, credibilities uniform on [0.6, 0.97], right claims N(log truth + bias,
σ_s²), wrong ones 1 to 5 log units off either way; 60 % of the questions have 1-3 claims (news),
the rest 6-10.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.batch import BatchEstimator, ClaimTable
from tests.tolerances import LOOSE_CREDIBILITY_COVERAGE, LOOSE_CREDIBILITY_WIDTH

#: Spreads of the three tiers (log scale): precise, middle, loose.
TIERS = (0.02, 0.1, 0.3)
N_SOURCES = 45
N_QUESTIONS = 400
SEEDS = (1, 2, 3)


def _archive(seed: int) -> tuple[ClaimTable, np.ndarray, np.ndarray]:
    """A table, and each of its sources' true credibility and tier (in the table's order)."""
    rng = np.random.default_rng([13, seed])
    tier = np.arange(N_SOURCES) % 3
    sigma = np.array(TIERS)[tier]
    cred = rng.uniform(0.6, 0.97, N_SOURCES)
    activity = np.exp(rng.normal(0.0, 0.5, N_SOURCES))
    activity /= activity.sum()
    many = rng.random(N_QUESTIONS) < 0.4
    k = np.where(many, rng.integers(6, 11, N_QUESTIONS), rng.integers(1, 4, N_QUESTIONS))
    q = np.repeat(np.arange(N_QUESTIONS), k)
    s = np.concatenate([rng.choice(N_SOURCES, size=int(n), replace=False, p=activity)
                        for n in k])
    theta = rng.uniform(np.log(100.0), np.log(1e7), N_QUESTIONS)
    bias = 0.2 * sigma * rng.standard_normal(N_SOURCES)
    right = rng.random(q.size) < cred[s]
    off = rng.uniform(1.0, 5.0, q.size) * rng.choice([-1.0, 1.0], q.size)
    y = theta[q] + np.where(right, bias[s] + sigma[s] * rng.standard_normal(q.size), off)
    value = np.exp(y)
    step = 10.0 ** (np.floor(np.log10(value)) - 5)  # six significant digits
    table = ClaimTable.from_columns([f"q{j}" for j in q], [f"s{j}" for j in s],
                                    ["point"] * q.size, np.round(value / step) * step,
                                    resolution=step)
    order = np.array([int(name[1:]) for name in table.source_ids])
    return table, cred[order], tier[order]


@pytest.mark.slow
def test_credibility_intervals_hold_the_truth_in_every_tier_of_spread() -> None:
    held: dict[int, list[bool]] = {0: [], 1: [], 2: []}
    width: list[float] = []
    for seed in SEEDS:
        table, cred, tier = _archive(seed)
        src = BatchEstimator().fit(table, levels=(0.9,), scale="log").sources
        inside = (src.credibility_low <= cred) & (cred <= src.credibility_high)
        for t in held:
            held[t].extend(inside[tier == t].tolist())
        width.extend((src.credibility_high - src.credibility_low)[tier == 2].tolist())
    coverage = {t: float(np.mean(h)) for t, h in held.items()}
    # Main: 0.36 for the loose tier pooled over these seeds (see tests/tolerances.py).
    assert min(coverage.values()) >= LOOSE_CREDIBILITY_COVERAGE, coverage
    # Not by giving up: the loose tier's ranges stay informative.
    assert float(np.median(width)) <= LOOSE_CREDIBILITY_WIDTH, np.median(width)
