"""Sources that EM moves slowly are shown at their fixed point, not where the loop gave up.

A source whose spread starts too small counts its wider right claims as wrong; EM then widens
σ_s and raises c_s a little each iteration, on a ridge it climbs for tens of E-steps while
every question has settled. The convergence test averaged the sources' moves over the claims,
so a few such sources of 10-60 claims hid behind the settled ones and were shown up to 3 of
their own 90 % half-widths from the fixed point (bench/batch_refine.py; docs/benchmarks.md).
The loop (models/batch/persource.py) now gives every source its own SQUAREM step length and
stops only when every source's estimated remaining distance is small against its own
half-width.

The archives come from a simulator written here (not models.simulate_batch): 30 sources of many
claims and 40 of 5-30, credibility U(0.3, 0.99), spreads log-uniform in [0.01, 0.2], wrong
figures half Cauchy and half uniform within ×100 of the truth, 5 % exact copies of another
claim of the question.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.batch import BatchEstimator, BatchFit, ClaimTable

#: Largest distance of a shown credibility from the fixed point, in its own 90 % half-widths.
GAP = 0.25


def archive(seed: int, n_questions: int, claims: int, copies: float = 0.05) -> ClaimTable:
    """``claims`` point claims on each question (distinct slots, not distinct sources), a
    ``copies`` share of them exact copies of the question's first claim."""
    rng = np.random.default_rng(seed)
    n = n_questions * claims
    small = rng.integers(5, 31, 40)
    n_src = 70
    cred = rng.uniform(0.3, 0.99, n_src)
    spread = np.exp(rng.uniform(np.log(0.01), np.log(0.2), n_src))
    theta = rng.uniform(np.log(10.0), np.log(1e6), n_questions)
    q = np.repeat(np.arange(n_questions), claims)
    # The small sources' claims at random slots; the rest shared by the 30 large ones.
    src = rng.integers(40, n_src, n)
    src[rng.permutation(n)[: small.sum()]] = np.repeat(np.arange(40), small)
    right = rng.random(n) < cred[src]
    far = np.log(100.0)
    wrong = np.where(rng.random(n) < 0.5, np.clip(rng.standard_cauchy(n), -far, far),
                     rng.uniform(-far, far, n))
    value = np.exp(theta[q] + np.where(right, spread[src] * rng.standard_normal(n), wrong))
    first = q * claims
    copy = (rng.random(n) < copies) & (np.arange(n) != first)
    value[copy] = value[first[copy]]
    value = np.array([float(f"{v:.6g}") for v in value])
    return ClaimTable.from_columns([f"q{k}" for k in q.tolist()],
                                   [f"s{k}" for k in src.tolist()], ["point"] * n, value)


def gap(fit: BatchFit, ref: BatchFit) -> float:
    """The largest |shown − fixed-point| credibility over the shown 90 % half-width."""
    src = fit.sources
    half = (src.credibility_high - src.credibility_low) / 2
    return float(np.max(np.abs(src.credibility - ref.sources.credibility) / half))


@pytest.mark.parametrize("seed", [1, 2, 7])
def test_every_source_is_shown_near_its_fixed_point(seed: int) -> None:
    table = archive(seed, 500, 10)
    fit = BatchEstimator().fit(table, levels=(0.9,), scale="log")
    # The fixed point: plain EM until the sources move by less than 1e-6 a step.
    ref = BatchEstimator(accelerate=False, tol=1e-6, max_iter=3000).fit(
        table, levels=(0.9,), scale="log")
    assert fit.converged and ref.converged
    assert gap(fit, ref) < GAP


def test_the_credibility_interval_counts_what_the_spread_leaves_unresolved() -> None:
    # The interval of logit c_s is the marginal of the 2 × 2 observed information of
    # (logit c_s, log σ_s): I_cc − I_cw²/I_ww, with I_cw the missing covariance of the two
    # scores. A source whose claims' labels trade against its spread gets a wider interval
    # than its credibility's own information gives; one whose labels do not, the same.
    from models.batch.result import PopulationPrior
    from models.batch.state import Hyper, SourcePrior
    from models.batch.summary import logit_half_width
    from models.batch.sums import SourceSums

    one = np.ones(2)
    sums = SourceSums(
        n_eff=40 * one, right=30 * one, wrong=10 * one, exact=0 * one, tested=0 * one,
        matched=0 * one, ss=0 * one, dev=0 * one, rp=30 * one, claims=40 * one,
        unsure=np.array([2.0, 2.0]),
        spread_info=np.array([30.0, 30.0]), cross_missing=np.array([0.0, 4.0]),
        spread_missing=np.array([20.0, 20.0]))
    hyper = Hyper(wrong_spread=1.0, prior_scale=2.5, pooled_strength=4.0,
                  graded_strength=12.0, spread_strength=4.0, bias_strength=4.0,
                  learn_bias=True)
    prior = SourcePrior(np.full(2, np.nan), np.full(2, np.nan), np.zeros(2),
                        np.zeros(2, dtype=bool), PopulationPrior(0.7, 0.01, 0.35))
    half = logit_half_width(sums, prior, hyper)
    alpha, beta = 30 + 4 * 0.7, 10 + 4 * 0.3
    info_c = alpha * beta / (alpha + beta) - 2.0
    info_w = 2 * (30 + 4) - 20.0
    assert half[0] == pytest.approx(1.6448536269514722 / np.sqrt(info_c))
    assert half[1] == pytest.approx(1.6448536269514722 / np.sqrt(info_c - 16.0 / info_w))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_credibility_intervals_hold_the_truth_where_credibility_and_spread_trade(
    seed: int,
) -> None:
    # Two claims a question and 5 % exact copies of another claim. Before session 11 the copies
    # inflated the exact share and every spread shrank (an independent review's F1), many
    # sources sat on their credibility-spread ridge, and the shown 90 % intervals held the
    # true credibility for 19-33 % of the 70 sources (seeds 1-8); counting what the spread
    # leaves unresolved, 49-66 %. With the copies fix as well: 83-89 % (seeds 1-6). The bar,
    # 70 %, is three binomial standard errors (about 4 % for 70 sources) below the lowest.
    rng = np.random.default_rng(seed)
    rng.integers(5, 31, 40)
    truth = rng.uniform(0.3, 0.99, 70)  # archive()'s own draw, in the same order
    table = archive(seed, 3000, 2)
    src = BatchEstimator().fit(table, levels=(0.9,), scale="log").sources
    true_c = truth[[int(sid[1:]) for sid in src.ids]]
    held = (src.credibility_low <= true_c) & (true_c <= src.credibility_high)
    assert held.mean() >= 0.7


def test_the_per_source_rule_has_a_budget_and_says_when_it_ran_out(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule no source can meet (GAP = 0) stops at the budget, BUDGET times the E-steps at
    which the averaged test first held, well before ``max_iter``, and says ``converged``
    false with the ``not_converged`` warning; the same archive converges under the shipped
    rule."""
    import models.batch.persource as persource

    table = archive(3, 300, 3)
    shipped = BatchEstimator(max_iter=300).fit(table, levels=(0.9,), scale="log")
    assert shipped.converged
    monkeypatch.setattr(persource, "GAP", 0.0)
    starved = BatchEstimator(max_iter=300).fit(table, levels=(0.9,), scale="log")
    assert not starved.converged
    assert starved.iterations < 300
    assert starved.iterations <= persource.BUDGET * shipped.iterations + 2
    assert any(w.code == "not_converged" for w in starved.warnings)
