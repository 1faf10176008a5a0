"""The sensitivity check behind loose sources' credibility intervals leaves every question's
answer as it was (review rC, finding 1), and widens nothing where the wrong claims follow the
model's own law (finding 3).

Its E-steps (:meth:`models.batch.BatchEstimator.other_credibility`) once stored their
posterior, so the intervals' E-step started from their modes: on archives of 6-10-claim
questions the answers moved by up to 0.39 τ_q. The fit is compared, bit for bit, with one whose
check is switched off. Wrong claims here are a factor of 3-150 off, so the check does widen the
loose sources' intervals (asserted, or the comparison would be empty). Under the model's own
law (wrong claims θ + Cauchy(0, max(1, 2σ_s))) the near-truth ratio reads about 0.92, and a
check that widened at any κ < 1 widened nearly every fit; the significance test must not.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.batch import BatchEstimator, BatchFit, ClaimTable


def _archive(seed: int, law: str = "far", n_q: int = 250) -> ClaimTable:
    rng = np.random.default_rng([131, seed])
    n_s = 30
    sigma = np.array([0.02, 0.1, 0.3])[np.arange(n_s) % 3]
    cred = rng.uniform(0.6, 0.95, n_s)
    k = rng.integers(6, 11, n_q)
    q = np.repeat(np.arange(n_q), k)
    s = np.concatenate([rng.choice(n_s, size=int(m), replace=False) for m in k])
    theta = rng.uniform(np.log(10.0), np.log(1e6), n_q)
    right = rng.random(q.size) < cred[s]
    if law == "far":
        off = rng.uniform(np.log(3.0), np.log(150.0), q.size) * rng.choice([-1.0, 1.0], q.size)
    else:
        off = np.clip(np.maximum(1.0, 2.0 * sigma[s]) * rng.standard_cauchy(q.size), -12, 12)
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
    assert "credibility_widened" in {w.code for w in checked.warnings}
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


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_nothing_is_widened_under_the_models_own_wrong_part(seed: int) -> None:
    fit = _fit(_archive(seed, "cauchy", 500))
    assert "credibility_widened" not in {w.code for w in fit.warnings}
