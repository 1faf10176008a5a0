"""Sources whose spreads span two decades keep their own spread (review finding 13).

The spread prior was a scaled-inverse-χ² with ν = 4 pseudo-claims at the population's spread
σ̄, σ_s² = (Σ r e² + ν σ̄²)/(Σ r + ν): additive in σ², so a source of spread 0.003 among
sources centred near 0.03 was shown at 2.7-3.8 times its spread (300 questions of 1-10 claims,
four seeds, ``bench/batch_spread_range.py``). log σ_s now has a Normal prior whose variance v is
learned from the sources' scatter (:mod:`models.batch.spread`), and the questions' intervals
integrate each source's spread and bias over their posteriors (plug-in spreads covered 0.83
and 0.79 of 2-5- and 6-10-claim questions' truths).

The archives come from a simulator written here (not models.simulate_batch): 60 sources with
log σ uniform on [log 0.003, log 0.3], credibility U(0.5, 0.98), bias N(0, (σ/4)²), activity
1/rank^0.7 in random order, 1-10 claims a question from distinct sources, wrong claims half
Cauchy and half uniform within ×100 of the truth, six significant digits.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.batch import BatchEstimator, BatchFit, ClaimTable
from models.batch.common import MIN_SPREAD
from models.batch.spread import (
    dispersion_floor,
    predictive_spread,
    spread_dispersion,
    spread_map,
)
from models.errors import InvalidParameterError

#: Most factor between a precise source's learned spread and its true one (median over the
#: precise third of the log range, sources of at least 10 claims). Measured 0.81-0.99 with the
#: learned prior and 2.7-3.8 before, on four seeds; 1.6 leaves room for the sampling scatter
#: of a median of a dozen sources with 10-90 claims each while failing the old pull.
SPREAD_FACTOR = 1.6
#: Least 90 % coverage of the questions of 2-5 and of 6-10 claims, pooled over the three seeds
#: (about 360 and 300 questions: a binomial standard error of 0.016-0.017 at 0.90). With every
#: parameter at its true value the posterior covers 0.87-0.92 and 0.88-0.91 per seed; with
#: plug-in learned spreads 0.79-0.86 and 0.78-0.81 (0.83 and 0.79 pooled), with the spreads
#: and biases integrated over their posteriors (models.batch.spread.predictive_spread)
#: 0.88-0.90 and 0.84-0.90 (0.89 and 0.88 pooled). 0.85 is three standard errors under the
#: nominal 0.90, and fails the plug-in intervals; see docs/batch.md.
COVERAGE = 0.85
#: Most median absolute error (log scale) of the questions of 6-10 claims, pooled over seeds:
#: 0.0025-0.0054 per seed with the learned prior, 0.0038-0.0107 before (precise claims
#: under-weighted).
ERROR_6_10 = 0.0055
PRECISE = 0.003 * 10 ** (2 / 3)
Fits = list[tuple[BatchFit, dict[str, np.ndarray]]]


def archive(seed: int, n_questions: int = 300) -> tuple[ClaimTable, dict[str, np.ndarray]]:
    rng = np.random.default_rng(seed)
    n_src = 60
    sigma = np.exp(rng.uniform(np.log(0.003), np.log(0.3), n_src))
    cred = rng.uniform(0.5, 0.98, n_src)
    beta = rng.normal(0.0, sigma / 4.0)
    activity = 1.0 / np.arange(1, n_src + 1) ** 0.7
    activity = rng.permutation(activity) / activity.sum()
    theta = rng.uniform(np.log(10.0), np.log(1e6), n_questions)
    counts = rng.integers(1, 11, n_questions)
    src = np.concatenate([rng.choice(n_src, k, replace=False, p=activity) for k in counts])
    q = np.repeat(np.arange(n_questions), counts)
    n = q.size
    right = rng.random(n) < cred[src]
    far = np.log(100.0)
    wrong = np.where(rng.random(n) < 0.5, np.clip(rng.standard_cauchy(n), -far, far),
                     rng.uniform(-far, far, n))
    value = np.exp(theta[q] + np.where(right, beta[src] + sigma[src] * rng.standard_normal(n),
                                       wrong))
    value = np.array([float(f"{v:.6g}") for v in value])
    table = ClaimTable.from_columns([f"q{k}" for k in q.tolist()],
                                    [f"s{k}" for k in src.tolist()], ["point"] * n, value)
    return table, {"sigma": sigma, "theta": theta, "counts": counts}


@pytest.fixture(scope="module")
def fits() -> Fits:
    out: Fits = []
    for seed in (1, 2, 3):
        table, truth = archive(seed)
        out.append((BatchEstimator().fit(table, levels=(0.9,), scale="log"), truth))
    return out


def test_precise_sources_keep_their_own_spread(fits: Fits) -> None:
    for fit, truth in fits:
        src = fit.sources
        k = np.array([int(i[1:]) for i in src.ids])
        precise = (truth["sigma"][k] < PRECISE) & (src.n_claims >= 10)
        ratio = float(np.median(src.spread[precise] / truth["sigma"][k][precise]))
        assert 1 / SPREAD_FACTOR < ratio < SPREAD_FACTOR


def test_many_claim_questions_are_closer_and_covered(fits: Fits) -> None:
    hits: dict[tuple[int, int], list[np.ndarray]] = {(2, 5): [], (6, 10): []}
    errors = []
    for fit, truth in fits:
        qe = fit.questions
        order = np.array([int(i[1:]) for i in qe.ids])
        theta = truth["theta"][order]
        counts = truth["counts"][order]
        hit = (np.log(qe.low[:, 0]) <= theta) & (theta <= np.log(qe.high[:, 0]))
        for (least, most), got in hits.items():
            got.append(hit[(counts >= least) & (counts <= most)])
        errors.append(np.abs(np.log(qe.value) - theta)[counts >= 6])
    for got in hits.values():
        assert float(np.concatenate(got).mean()) >= COVERAGE
    assert float(np.median(np.concatenate(errors))) < ERROR_6_10


def test_the_predictive_spread_integrates_the_spread_posterior() -> None:
    # Under a flat prior the equivalent chi-square experiment of R right claims gives
    # σ² ~ S/χ²-like inverse gamma: E[σ²]/σ̂² = R/(R − 2) with σ̂² = S/R, the mode of log σ.
    r = np.array([6.0, 10.0, 40.0])
    sigma = np.array([0.01, 0.2, 3.0])
    got = predictive_spread(sigma, r, np.zeros(3), r, 1e8, None, np.log(sigma))
    assert got / sigma == pytest.approx(np.sqrt(r / (r - 2)), rel=1e-3)
    # No information at all: the prior's E[e^{2(w − m)}] = e^{2v}, and the bias's 1/λ.
    for v in (0.125, 2.0):
        got = predictive_spread(sigma, np.zeros(3), np.zeros(3), np.zeros(3), v, 4.0,
                                np.log(sigma))
        assert got / sigma == pytest.approx(np.sqrt(np.exp(2 * v) + 0.25), rel=1e-3)
    # A source that is its own reference (missing information = complete) is the same.
    got = predictive_spread(sigma, r, 2 * r, r, 2.0, None, np.log(sigma))
    assert got / sigma == pytest.approx(np.full(3, np.exp(2.0)), rel=1e-3)


def test_a_source_seen_once_keeps_a_spread() -> None:
    # A lone right claim that sits on its question's value (SS = 0) is the worst case: the
    # root of ℓ' lies above m − R v, so the spread is at least e^{−v} σ̄ (models.batch.spread).
    centre = np.log(np.array([0.05, 0.05, 0.05]))
    for v in (dispersion_floor(4.0), 1.0, 2.0):
        sigma = spread_map(np.array([0.0, 1e-12, 0.05 ** 2]), np.ones(3), centre, v)
        assert sigma[0] == pytest.approx(0.05 * np.exp(-v), rel=1e-9)
        assert np.all(sigma >= 0.05 * np.exp(-v) * (1 - 1e-9))


def test_the_spread_solves_its_score_equation() -> None:
    rng = np.random.default_rng(4)
    ss = rng.exponential(1e-3, 200) * rng.integers(0, 50, 200)
    rp = rng.uniform(0.0, 60.0, 200)
    centre = rng.normal(np.log(0.03), 1.0, 200)
    for v in (0.125, 1.7):
        sigma = spread_map(ss, rp, centre, v)
        w = np.log(sigma)
        score = -rp + ss * np.exp(-2 * w) - (w - centre) / v
        # Below the floor MIN_SPREAD (no right claim off the value, many right claims) the
        # root is clipped; everywhere else the score vanishes.
        free = sigma > MIN_SPREAD
        assert free.sum() > 150
        assert np.max(np.abs(score[free]) / (rp[free] + 1)) < 1e-8


def test_the_prior_width_follows_the_sources_scatter() -> None:
    rng = np.random.default_rng(5)
    rp = rng.uniform(5.0, 80.0, 300)
    for true_sd, floor in ((0.0, 0.125), (np.log(100.0) / np.sqrt(12.0), 0.125)):
        w = np.log(0.03) + true_sd * rng.standard_normal(300)
        ss = np.exp(2 * w) * rng.chisquare(rp)
        v = spread_dispersion(ss, rp, np.full(300, np.log(0.03)), floor, 2.0)
        # Agreeing sources keep the old pull (the floor); two decades give their variance.
        assert v == pytest.approx(max(true_sd ** 2, floor), rel=0.2)


def test_the_cap_must_be_positive() -> None:
    with pytest.raises(InvalidParameterError):
        BatchEstimator(spread_dispersion_max=0.0)
