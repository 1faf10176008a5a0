"""When the batch fit may say it has converged: the questions' answers have stopped moving.

The EM loop moves every μ_q by the bias recentring's shift δ before each E-step
(:func:`models.batch.sums.recentre_sources`). Where the sources have settled, the E-step takes
that shift back, so a question's answer does not move; measuring a question's move from its
shifted centre counted a steady δ as a move for ever, and a fit whose parameters and answers
had settled ran to ``max_iter`` and reported ``converged=False`` (an independent reviewer's
archive of mixed question sizes: 100 E-steps, not converged, against 40 and converged with
the same estimates).

The archive is simulated from rates written here (not :mod:`models.simulate_batch`): 1,000
questions of 1, 2, 3, 6 or 10 claims by 60 sources of heavy-tailed activity, credibility
U(0.4, 0.98), spreads log-uniform over 0.003-0.5 (log scale), small biases, and half the
sources stating the official (true, rounded) figure a share U(0.1, 0.6) of the time they are
right; wrong figures half Cauchy, half uniform within ×100; four significant digits.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.batch import BatchEstimator, ClaimTable

#: Iterations a settled fit of these archives needs: measured 40 and 46 E-steps with the fix
#: (seeds 1 and 6; 100, the cap, unconverged before it: of the four seeds tried, these two hit
#: the defect and seeds 2 and 3 converged in 24-25 either way).
SETTLED_ITERATIONS_MAX = 80


def _round4(x: np.ndarray) -> np.ndarray:
    mag = np.floor(np.log10(np.abs(x)))
    unit = 10.0 ** (3 - mag)
    return np.asarray(np.round(x * unit) / unit, dtype=np.float64)


def _mixed_archive(seed: int) -> ClaimTable:
    rng = np.random.default_rng([seed, 9001])
    n_q, n_s = 1000, 60
    k = rng.choice([1, 2, 3, 6, 10], size=n_q, p=[0.25, 0.3, 0.25, 0.1, 0.1])
    activity = rng.pareto(1.2, n_s) + 0.3
    c = rng.uniform(0.4, 0.98, n_s)
    sigma = np.exp(rng.uniform(math.log(0.003), math.log(0.5), n_s))
    beta = rng.normal(0.0, sigma / 3.0)
    official = np.where(rng.random(n_s) < 0.5, 0.0, rng.uniform(0.1, 0.6, n_s))
    truth = np.round(10.0 ** rng.uniform(2, 7, n_q))
    weight = activity / activity.sum()
    s = np.concatenate([rng.choice(n_s, size=kq, replace=False, p=weight) for kq in k])
    q = np.repeat(np.arange(n_q), k)
    right = rng.random(q.size) < c[s]
    exact = right & (rng.random(q.size) < official[s])
    noisy = _round4(truth[q] * np.exp(beta[s] + sigma[s] * rng.standard_normal(q.size)))
    wild = np.where(rng.random(q.size) < 0.5, np.clip(rng.standard_cauchy(q.size), -40, 40),
                    rng.uniform(-math.log(100.0), math.log(100.0), q.size))
    wrong = _round4(truth[q] * np.exp(wild))
    value = np.where(exact, truth[q], np.where(right, noisy, wrong))
    return ClaimTable.from_columns([f"q{j}" for j in q], [f"s{j}" for j in s],
                                   ["point"] * q.size, value.tolist())


@pytest.mark.parametrize("seed", [1, 6])
def test_a_settled_fit_says_so_within_the_cap(seed: int) -> None:
    table = _mixed_archive(seed)
    fit = BatchEstimator(max_iter=100).fit(table, levels=(0.9,), scale="log")
    assert fit.converged
    assert fit.iterations <= SETTLED_ITERATIONS_MAX
