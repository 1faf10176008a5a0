"""The Anderson tail of the batch fit (models/batch/persource.py) on archives of 1-10 claims.

An independent review found the tail walking away from the fixed point the per-source SQUAREM
loop had reached: once its residual grew at every step, every step restarted Anderson's history
and the tail was plain EM from a worse point, ending `not_converged` up to 1.9 half-widths from
plain EM's fixed point where the loop without the tail converged 0.009 from it. And on the
Gaussian path (questions of more than ``exact_claims`` claims), where each μ_q rides from one
E-step to the next, EM is not a map of the sources alone and the tail cost E-steps. The tail
now runs only where every question is exact, and gives itself up at its best iterate.

The archives come from a simulator written here (not models.simulate_batch): sources used with
Zipf-like weights (some seen a few times), log-spreads from 0.003 to 0.5, credibility
U(0.55, 0.98), a wrong claim the truth times a log-uniform factor within 20, 1-10 claims a
question, figures to seven significant digits.
"""

from __future__ import annotations

import numpy as np
import pytest

import models.batch.persource as persource
from models.batch import BatchEstimator, BatchFit, ClaimTable
from tests.tolerances import BATCH_TAIL_HALF_WIDTH


def _mixed_archive(seed: int, n_questions: int, n_sources: int = 60) -> ClaimTable:
    """1-10 point claims a question by distinct sources (see the module docstring)."""
    rng = np.random.default_rng(seed)
    use = rng.permutation(1.0 / np.arange(1, n_sources + 1) ** 1.1)
    use /= use.sum()
    sigma = np.exp(rng.uniform(np.log(0.003), np.log(0.5), n_sources))
    cred = rng.uniform(0.55, 0.98, n_sources)
    beta = rng.normal(0.0, 0.01, n_sources)
    counts = rng.integers(1, 11, n_questions)
    question = np.repeat(np.arange(n_questions), counts)
    source = np.concatenate([rng.choice(n_sources, k, replace=False, p=use) for k in counts])
    theta = rng.normal(np.log(1e4), 3.0, n_questions)[question]
    n = question.size
    right = rng.random(n) < cred[source]
    value = np.where(right, theta + beta[source] + sigma[source] * rng.standard_normal(n),
                     theta + rng.uniform(-np.log(20.0), np.log(20.0), n))
    shown = [float(f"{v:.7g}") for v in np.exp(value)]
    return ClaimTable.from_columns([f"q{k}" for k in question.tolist()],
                                   [f"s{k}" for k in source.tolist()], ["point"] * n, shown)


def _off(fit: BatchFit, ref: BatchFit) -> float:
    """Largest distance of a question's value (in its 90 % half-widths) or a source's
    credibility (in its 90 % interval's half-width) from the reference fit's."""
    q, s = ref.questions, ref.sources
    half_q = np.log(q.high[:, 0] / q.low[:, 0]) / 2
    half_c = (s.credibility_high - s.credibility_low) / 2
    return float(max(np.max(np.abs(np.log(fit.questions.value / q.value)) / half_q),
                     np.max(np.abs(fit.sources.credibility - s.credibility) / half_c)))


@pytest.mark.parametrize("seed", [1, 2])
def test_the_tail_ends_near_plain_ems_fixed_point_on_a_mixed_archive(seed: int) -> None:
    # Every question on the exact path (exact_claims=10), so the tail runs: it must end
    # converged, near where plain EM goes (tol 1e-7). A guard of the bound: on this simulator
    # the code before the fix converged too (seeds 1-14, 31-53 E-steps); the walk the review
    # measured (its own simulator, 85 E-steps, `not_converged`, 0.78 of a half-width from the
    # loop without the tail) takes 57 E-steps, `converged`, 0.008 from it now.
    table = _mixed_archive(seed, 1500)
    fit = BatchEstimator(exact_claims=10).fit(table, levels=(0.9,), scale="log")
    ref = BatchEstimator(exact_claims=10, accelerate=False, tol=1e-7, max_iter=3000).fit(
        table, levels=(0.9,), scale="log")
    assert ref.converged
    assert fit.converged
    off = _off(fit, ref)
    assert off < BATCH_TAIL_HALF_WIDTH, off


def test_no_tail_where_questions_ride_the_gaussian_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # Questions of 9-10 claims take the Gaussian path at the default exact_claims=8: the fit
    # ends in the per-source SQUAREM loop without ever entering the tail.
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the Anderson tail ran with questions on the Gaussian path")

    monkeypatch.setattr(persource, "_anderson_tail", refuse)
    for seed in (1, 2):
        fit = BatchEstimator().fit(_mixed_archive(seed, 300), levels=(0.9,), scale="log")
        assert fit.iterations > 0
