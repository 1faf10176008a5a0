"""A warm-started batch fit ends at the full table's fixed point (models/batch/estimator.py).

A large table is first fitted on a sample of its questions; the full table then iterates until
EM's convergence test holds there. Two fixed iterations, which it replaced, left the estimates
up to a quarter of their 90 % half-width from where the next iteration moved them.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.batch import BatchEstimator, ClaimTable, SourceParameters
from models.batch.encode import encode
from models.batch.loop import LocalQuestions, run_em
from models.batch.spread import predictive_spread
from models.batch.state import Params
from models.batch.sums import source_change
from models.simulate_batch import simulate_archive
from tests.tolerances import BATCH_FIXED_POINT_HALF_WIDTH, BATCH_FIXED_POINT_SOURCE_TOLS


def _table(n_questions: int, n_sources: int, seed: int) -> ClaimTable:
    archive = simulate_archive(np.random.default_rng(seed), n_questions=n_questions,
                               claims_per_question=8, n_sources=n_sources)
    n = archive.question.size
    return ClaimTable.from_columns([f"q{k}" for k in archive.question.tolist()],
                                   [f"s{k}" for k in archive.source.tolist()], ["point"] * n,
                                   archive.value)


@pytest.mark.parametrize(("n_questions", "n_sources", "seed"), [(400, 40, 5), (600, 30, 7)])
def test_one_more_iteration_moves_no_estimate(n_questions: int, n_sources: int,
                                              seed: int) -> None:
    table = _table(n_questions, n_sources, seed)
    est = BatchEstimator(warm_start_claims=100)
    # The table takes a warm start (on every k-th question), else the test tests nothing.
    assert est.warm_stride(table.n, table.n_sources) > 1
    fit = est.fit(table, levels=(0.9,), scale="log")
    assert fit.converged

    # One more EM iteration over every claim from the fit's sources: an E-step at them (exact
    # here: 8 claims a question take the exact path), an M-step, the recentring, an E-step.
    sources = fit.sources
    params = Params(sources.credibility, sources.exact_share, sources.spread, sources.bias)
    _, prior = est.initial(table.source_ids, None)
    local = LocalQuestions(encode(est.prepare(table, "log"), "log", est.rounding,
                                  est.hyper.prior_scale))
    out = run_em(local, params, prior, est.hyper, done=0, max_iter=1, refine_iter=1,
                 tol=est.tol)
    moved = source_change(out.sums.claims, params, out.params, spreads=True)
    assert moved < BATCH_FIXED_POINT_SOURCE_TOLS * est.tol

    before = est.posterior(table, SourceParameters(params.c, params.eta, params.sigma,
                                                   params.beta), levels=(0.9,), scale="log")
    # The check's own premise: the fit's answer is the E-step at its sources' spreads widened
    # by their uncertainty (models.batch.spread.predictive_spread, from the sums of an E-step
    # at the fit's sources; every question here is on the exact path, whose posterior depends
    # on the sources alone, so the two agree to rounding).
    sums = LocalQuestions(local.enc).start(params, est.hyper).sums
    centre = np.log(np.full(table.n_sources, fit.population.spread))
    wide = predictive_spread(params.sigma, sums.spread_info, sums.spread_missing, sums.rp,
                             fit.population.spread_dispersion, est.hyper.bias_strength, centre)
    answer = est.posterior(table, SourceParameters(params.c, params.eta, wide, params.beta),
                           levels=(0.9,), scale="log")
    np.testing.assert_allclose(answer.value, fit.questions.value, rtol=1e-9)
    np.testing.assert_allclose(answer.high, fit.questions.high, rtol=1e-9)
    new = out.params
    after = est.posterior(table, SourceParameters(new.c, new.eta, new.sigma, new.beta),
                          levels=(0.9,), scale="log")
    half = np.log(before.high[:, 0] / before.low[:, 0]) / 2
    step = np.abs(np.log(after.value / before.value)) / half
    assert step.max() < BATCH_FIXED_POINT_HALF_WIDTH
