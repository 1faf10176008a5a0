"""SQUAREM in the batch fit (models/batch/squarem.py): fewer E-steps to the same fixed point.

Where every question takes the exact path, EM is a map of the sources' parameters alone and
SQUAREM's extrapolation reaches its fixed point in half the E-steps. Where questions take the
Gaussian path (ten claims each here), they carry μ_q between E-steps and the loop is plain EM,
step for step.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.batch import BatchEstimator, ClaimTable
from models.errors import InvalidParameterError
from models.simulate_batch import simulate_archive
from tests.tolerances import BATCH_SQUAREM_HALF_WIDTH, BATCH_SQUAREM_MAX_ESTEPS


def _table(n_questions: int, claims: int, seed: int) -> ClaimTable:
    archive = simulate_archive(np.random.default_rng(seed), n_questions=n_questions,
                               claims_per_question=claims, n_sources=30)
    n = archive.question.size
    return ClaimTable.from_columns([f"q{k}" for k in archive.question.tolist()],
                                   [f"s{k}" for k in archive.source.tolist()], ["point"] * n,
                                   archive.value)


def test_reaches_the_fixed_point_in_fewer_e_steps() -> None:
    table = _table(1500, 2, 2)
    fit = BatchEstimator().fit(table, levels=(0.9,), scale="log")
    assert fit.converged
    assert fit.iterations <= BATCH_SQUAREM_MAX_ESTEPS

    # The fixed point: plain EM until the sources move by less than 1e-7 a step.
    ref = BatchEstimator(accelerate=False, tol=1e-7, max_iter=2000).fit(
        table, levels=(0.9,), scale="log")
    assert ref.converged
    # Plain EM to the estimator's tol needs many more (the premise of the test).
    plain = BatchEstimator(accelerate=False).fit(table, levels=(0.9,), scale="log")
    assert plain.iterations > BATCH_SQUAREM_MAX_ESTEPS
    half = np.log(ref.questions.high[:, 0] / ref.questions.low[:, 0]) / 2
    off = np.abs(np.log(fit.questions.value / ref.questions.value)) / half
    assert off.max() < BATCH_SQUAREM_HALF_WIDTH
    width = np.log(fit.questions.high[:, 0] / fit.questions.low[:, 0]) / 2
    assert np.abs(width / half - 1).max() < BATCH_SQUAREM_HALF_WIDTH


def test_gaussian_questions_keep_plain_em() -> None:
    # Ten claims a question: the Gaussian path, where the accelerator must not extrapolate.
    table = _table(300, 10, 4)
    fast = BatchEstimator().fit(table, levels=(0.9,), scale="log")
    plain = BatchEstimator(accelerate=False).fit(table, levels=(0.9,), scale="log")
    assert fast.iterations == plain.iterations
    np.testing.assert_array_equal(fast.questions.value, plain.questions.value)
    np.testing.assert_array_equal(fast.sources.credibility, plain.sources.credibility)


@pytest.mark.parametrize("bad", ["yes", 1, None])
def test_accelerate_must_be_a_bool(bad: object) -> None:
    with pytest.raises(InvalidParameterError, match="accelerate"):
        BatchEstimator(accelerate=bad)  # type: ignore[arg-type]
