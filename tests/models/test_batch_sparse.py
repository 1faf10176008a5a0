"""Batch truth discovery on sparse archives: the exact share's prior.

Project issue 13, point 1: one pair of coincident figures on an archive of two claims per
question made the pooled exact share η̄ ≈ 1 and every spread collapse to its floor.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.batch import BatchEstimator, ClaimTable
from models.errors import InvalidParameterError

#: The sources' true spread on the log scale in the simulated archive.
TRUE_SPREAD = 0.1
#: The median of 20 sources' learned spreads (each from ~60 claims on two-claim questions,
#: which scatter by ±35 % at worst) came within 2-4 % of the truth; 10 % leaves room, and
#: the collapse put every spread at 1e-4.
SPREAD_RTOL = 0.1
#: 90 % coverage of 600 questions: binomial standard error 1.2 %, so ±4 points is ±3 SE.
COVERAGE_BAND = (0.86, 0.94)


def _sparse_archive(coincide: bool) -> tuple[ClaimTable, np.ndarray]:
    """600 questions × 2 claims by 20 sources, σ = 0.1 on the log scale, figures at full
    precision (no two agree), and optionally one question whose two figures are equal."""
    rng = np.random.default_rng(5)
    n_q, k, n_s = 600, 2, 20
    theta = rng.uniform(math.log(100.0), math.log(1e6), n_q)
    src = np.argsort(rng.random((n_q, n_s)), axis=1)[:, :k].reshape(-1)
    q = np.repeat(np.arange(n_q), k)
    value = np.exp(theta[q] + TRUE_SPREAD * rng.standard_normal(q.size))
    if coincide:
        value[1] = value[0]
    table = ClaimTable.from_columns([f"q{j}" for j in q], [f"s{j}" for j in src],
                                    ["point"] * q.size, value.tolist())
    order = np.array([int(name[1:]) for name in table.question_ids])
    return table, theta[order]


@pytest.mark.parametrize("coincide", [False, True])
def test_one_coincident_pair_does_not_make_every_source_a_copier(coincide: bool) -> None:
    table, theta = _sparse_archive(coincide)

    fit = BatchEstimator().fit(table, levels=(0.9,), scale="log")

    # Before the prior: η̄ = 1 − 1e-9, every σ_s = 1e-4 and credibility 0.34.
    assert fit.population.exact_share < 0.05
    assert float(np.median(fit.sources.spread)) == pytest.approx(TRUE_SPREAD, rel=SPREAD_RTOL)
    assert float(fit.sources.spread.min()) > 0.5 * TRUE_SPREAD
    low, high = np.log(fit.questions.low[:, 0]), np.log(fit.questions.high[:, 0])
    cover = float(np.mean((low <= theta) & (theta <= high)))
    assert COVERAGE_BAND[0] <= cover <= COVERAGE_BAND[1]


@pytest.mark.parametrize(("field", "bad"), [("exact_share", 0.0), ("exact_share", 1.0),
                                            ("exact_share", math.nan),
                                            ("exact_strength", 0.0),
                                            ("exact_strength", math.inf)])
def test_the_exact_share_prior_is_checked(field: str, bad: float) -> None:
    with pytest.raises(InvalidParameterError, match=field):
        BatchEstimator(**{field: bad})
