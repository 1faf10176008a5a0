"""The sensitivity check behind loose sources' credibility intervals leaves every question's
answer as it was (review rC, finding 1).

Its E-steps (:meth:`models.batch.BatchEstimator.other_credibility`) once stored their
posterior, so the intervals' E-step started from their modes: on archives of 6-10-claim
questions the answers moved by up to 0.39 τ_q. The fit is compared, bit for bit, with one whose
check is switched off. Wrong claims here are a factor of 3-150 off, so the check does widen the
loose sources' intervals (asserted, or the comparison would be empty).
"""

from __future__ import annotations

import numpy as np
import pytest

from models.batch import BatchEstimator, BatchFit, ClaimTable


def _archive(seed: int) -> ClaimTable:
    rng = np.random.default_rng([131, seed])
    n_s, n_q = 30, 250
    sigma = np.array([0.02, 0.1, 0.3])[np.arange(n_s) % 3]
    cred = rng.uniform(0.6, 0.95, n_s)
    k = rng.integers(6, 11, n_q)
    q = np.repeat(np.arange(n_q), k)
    s = np.concatenate([rng.choice(n_s, size=int(m), replace=False) for m in k])
    theta = rng.uniform(np.log(10.0), np.log(1e6), n_q)
    right = rng.random(q.size) < cred[s]
    off = rng.uniform(np.log(3.0), np.log(150.0), q.size) * rng.choice([-1.0, 1.0], q.size)
    y = theta[q] + np.where(right, sigma[s] * rng.standard_normal(q.size), off)
    return ClaimTable.from_columns([f"q{j}" for j in q], [f"s{j}" for j in s],
                                   ["point"] * q.size, np.exp(y))


def _fit(table: ClaimTable, monkeypatch: pytest.MonkeyPatch | None = None) -> BatchFit:
    if monkeypatch is not None:
        monkeypatch.setattr(BatchEstimator, "other_credibility", lambda *_: None)
    return BatchEstimator().fit(table, levels=(0.5, 0.9), scale="log")


@pytest.mark.parametrize("seed", [1, 2])
def test_questions_answers_do_not_depend_on_the_sensitivity_check(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = _archive(seed)
    checked = _fit(table)
    with monkeypatch.context() as m:
        plain = _fit(table, m)
    # The check ran and widened something, so the comparison below is not vacuous.
    assert np.any(checked.sources.credibility_high > plain.sources.credibility_high)
    got, want = checked.questions, plain.questions
    assert got.ids == want.ids
    for name in ("value", "low", "high", "spread", "p_exact", "n_claims", "n_sources"):
        np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=name)
    np.testing.assert_array_equal(checked.p_wrong, plain.p_wrong)
    # The sources' point estimates are the model's either way.
    for name in ("credibility", "spread", "bias", "exact_share"):
        np.testing.assert_array_equal(getattr(checked.sources, name),
                                      getattr(plain.sources, name), err_msg=name)
    assert checked.iterations == plain.iterations
