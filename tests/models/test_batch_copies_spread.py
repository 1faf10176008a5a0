"""Batch truth discovery when a few claims repeat another claim's figure unsaid.

News outlets repeat each other's figures without saying so. With as few as 1 % of the claims
such copies, the batch model once learned every source's spread σ_s at its floor (1e-4): the
copied pairs formed atoms; the pooled exact share was counted only on questions that have an
atom, where nearly every right claim is in it (η̄ ≈ 0.7); and an unmatched figure's right part,
a Gaussian of variance ≈ (1 − η)σ², had lighter tails than the spike-plus-noise mixture it
stood for, so σ shrank by about √(1 − η) an EM iteration (``bench/batch_copies.py``). The
credibilities then fell by a third and most sources' 90 % intervals missed their truth.

The archives here are simulated from rates written in this file (not
:mod:`models.simulate_batch`): 900 questions of one to three point claims by 40 sources, each
right with probability c_s ~ U(0.5, 0.95) as θ + N(0, σ_s²) with σ_s log-uniform on
[0.02, 0.1] (log scale), else wrong (half Cauchy around θ, half uniform within ×50), figures
at four significant digits; then a share of the claims on questions of two or more are
replaced by another claim's figure on the same question (inheriting whether it was right).
The checks are seed-robust (three seeds each) and read only what the model could know.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from models.batch import BatchEstimator, BatchFit, ClaimTable

#: Sources and questions of the simulated archives.
N_SOURCES, N_QUESTIONS = 40, 900
#: The learned spreads' median against the true one: measured 0.86-1.12 with the fix over
#: three seeds and 0-5 % copies (each source's σ_s from ~25 noisy-right claims, the median of
#: 40 to a few per cent); before it 0.5-0.57 with 1 % copies and 0.002-0.005 with 5 % (the
#: floor, 1e-4).
SPREAD_FACTOR = 1.5
#: Share of sources whose 90 % credibility interval covers their true c_s: measured 0.90-0.95
#: with the fix (intervals from ~45 claims a source; c_s itself a draw around which the
#: realised share scatters), 0.15-0.17 before it with 5 % copies.
SOURCE_COVERAGE_MIN = 0.70
#: 90 % coverage of the questions with no copied figure (about 800 of them, binomial SE
#: 1 %): measured 0.84-0.88 with the fix, 0.76-0.79 before it with 1 % copies. Questions
#: whose figure was copied are read as exact agreement (no copy model yet:
#: tests/models/test_batch_copies.py) and are left out.
QUESTION_COVERAGE_MIN = 0.80
#: Mean learned credibility minus the truth: measured −0.02 to +0.02 with the fix, −0.05 to
#: −0.09 before it with 1 % copies and −0.38 with 5 %.
CREDIBILITY_BIAS_MAX = 0.08
#: Spearman correlation of the learned spreads with the true ones over the sources of 20
#: claims or more (about 40): measured 0.64-0.84 with the fix over five seeds and 0-5 %
#: copies; a fit that gave every source one spread (the floor) has none. The median check
#: above cannot tell that apart.
SPREAD_RANK_MIN = 0.5


def _round4(x: np.ndarray) -> np.ndarray:
    """Round to four significant digits."""
    mag = np.floor(np.log10(np.abs(x)))
    unit = 10.0 ** (3 - mag)
    return np.asarray(np.round(x * unit) / unit, dtype=np.float64)


def _archive(seed: int, copies: float, official: float = 0.0
             ) -> tuple[ClaimTable, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A news-like archive: the table, θ and c_s, σ_s in the table's order, and which
    questions hold a copied figure.

    ``copies`` of the claims (on questions of two or more) repeat another claim's figure;
    ``official`` of the right claims state the truth itself (rounded), as where sources
    repeat an official figure.
    """
    rng = np.random.default_rng([seed, 13])
    k = rng.choice([1, 2, 3], size=N_QUESTIONS, p=[0.3, 0.4, 0.3])
    theta = rng.uniform(math.log(1e2), math.log(1e6), N_QUESTIONS)
    c = rng.uniform(0.5, 0.95, N_SOURCES)
    sigma = np.exp(rng.uniform(math.log(0.02), math.log(0.1), N_SOURCES))
    weight = 1.0 / np.arange(1, N_SOURCES + 1) ** 0.5
    q = np.repeat(np.arange(N_QUESTIONS), k)
    # Distinct sources per question, drawn in proportion to their weights (Gumbel top-k).
    keys = np.log(weight)[None, :] + rng.gumbel(size=(N_QUESTIONS, N_SOURCES))
    ranked = np.argsort(-keys, axis=1)
    s = np.concatenate([ranked[j, :k[j]] for j in range(N_QUESTIONS)])
    right = rng.random(q.size) < c[s]
    y = theta[q] + sigma[s] * rng.standard_normal(q.size)
    y = np.where(rng.random(q.size) < official, theta[q], y)
    wild = np.where(rng.random(q.size) < 0.5,
                    np.clip(rng.standard_cauchy(q.size), -30.0, 30.0),
                    rng.uniform(-math.log(50.0), math.log(50.0), q.size))
    y = np.where(right, y, theta[q] + wild)
    copied = np.zeros(N_QUESTIONS, dtype=bool)
    starts = np.concatenate([[0], np.cumsum(k)[:-1]])
    for i in np.flatnonzero((rng.random(q.size) < copies) & (k[q] >= 2)):
        j = starts[q[i]] + rng.integers(k[q[i]] - 1)
        j += j >= i  # another claim of the same question
        y[i] = y[j]
        copied[q[i]] = True
    table = ClaimTable.from_columns([f"q{j}" for j in q], [f"s{j}" for j in s],
                                    ["point"] * q.size, _round4(np.exp(y)).tolist())
    q_order = np.array([int(name[1:]) for name in table.question_ids])
    s_order = np.array([int(name[1:]) for name in table.source_ids])
    return table, theta[q_order], c[s_order], sigma[s_order], copied[q_order]


def _fit(table: ClaimTable) -> BatchFit:
    return BatchEstimator().fit(table, levels=(0.9,), scale="log")


def _covered(fit: BatchFit, theta: np.ndarray) -> np.ndarray:
    low = np.log(fit.questions.low[:, 0])
    high = np.log(fit.questions.high[:, 0])
    return np.asarray((low <= theta) & (theta <= high), dtype=bool)


@pytest.mark.parametrize("copies", [0.0, 0.01, 0.05])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_undeclared_copies_leave_the_sources_spreads_and_credibilities(
    copies: float, seed: int
) -> None:
    table, theta, c, sigma, copied = _archive(seed, copies)
    fit = _fit(table)
    src = fit.sources
    ratio = float(np.median(src.spread) / np.median(sigma))
    assert 1.0 / SPREAD_FACTOR <= ratio <= SPREAD_FACTOR, ratio
    many = src.n_claims >= 20
    rank = float(spearmanr(src.spread[many], sigma[many]).statistic)
    assert rank >= SPREAD_RANK_MIN, rank
    inside = (src.credibility_low <= c) & (c <= src.credibility_high)
    assert inside.mean() >= SOURCE_COVERAGE_MIN, inside.mean()
    assert abs(float(np.mean(src.credibility - c))) <= CREDIBILITY_BIAS_MAX
    assert _covered(fit, theta)[~copied].mean() >= QUESTION_COVERAGE_MIN


@pytest.mark.parametrize("seed", [1, 2])
def test_agreement_on_an_official_figure_still_counts(seed: int) -> None:
    """Where 60 % of the right claims state the official (true) figure, agreement pins the
    answer: the questions answered more accurately than by the same claims with every
    figure nudged past its fourth digit (no two agree, so no atom: the exact part silent),
    and the spreads still learned from the noisy 40 % of right claims (before the fix they
    fell to the floor here too: 0.002-0.003 of the truth)."""
    table, theta, _, sigma, _ = _archive(seed, copies=0.0, official=0.6)
    fit = _fit(table)
    # The same claims, each figure moved by a distinct part in 10⁵ (below its rounding,
    # above the window of an unrounded figure): the figures keep their meaning but none
    # agree.
    nudge = 1.0 + 1e-5 * (1.0 + np.arange(table.n) / table.n)
    apart = ClaimTable.from_columns(
        [table.question_ids[j] for j in table.question], [table.source_ids[j] for j in
                                                          table.source],
        ["point"] * table.n, (table.value * nudge).tolist())
    assert apart.question_ids == table.question_ids
    fit_apart = _fit(apart)
    err = np.abs(np.log(fit.questions.value) - theta)
    err_apart = np.abs(np.log(fit_apart.questions.value) - theta)
    several = fit.questions.n_claims >= 2
    # Measured 2e-3-9e-3 against 1.0e-2-1.2e-2 apart (three seeds).
    assert np.median(err[several]) <= np.median(err_apart[several])
    ratio = float(np.median(fit.sources.spread) / np.median(sigma))
    assert 1.0 / SPREAD_FACTOR <= ratio <= SPREAD_FACTOR, ratio
