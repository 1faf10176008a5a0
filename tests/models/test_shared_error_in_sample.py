"""The shared error learned the way the store's job learns it (review r2, issue 13).

The job learns track records from resolved questions, then reconciles the same questions with
them and no shared error, and fits s (service/store/shared_errors.py). Track records measure
each claim's residual x_i − t, which holds the shared error δ, so a source's spread learned
without it absorbs s² (≈ √(σ² + s²)) and the fit then finds about s·√(1 − 1/n) for n claims
per question. Giving each resolved claim its question's s (``ResolvedClaim.shared``) and
alternating the two fits, as the job now does (service/store/learning.py,
``_learn_jointly``), recovers both s and the sources' own spread σ.

The simulator is the test's own: x_i = t + δ + ε_i, δ ~ N(0, s²), ε_i ~ N(0, σ²), log scale.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.claims import Claim, Source
from models.credibility import profile_from_grade
from models.reconcile import reconcile
from models.shared_error import fit_shared_error
from models.track_record import ResolvedClaim, learn_track_records
from tests.tolerances import SHARED_ERROR_RTOL

N_SOURCES, N_QUESTIONS, PER_QUESTION, S_TRUE, SIGMA = 20, 400, 2, 0.2, 0.1
#: Rounds of the alternating fit: each moves s² half the remaining way at two claims a question.
ROUNDS = 8


def _archive(seed: int) -> tuple[list[str], list[tuple[float, list[tuple[str, float]]]]]:
    rng = np.random.default_rng(seed)
    ids = [f"s{i}" for i in range(N_SOURCES)]
    questions = []
    for _ in range(N_QUESTIONS):
        t = float(rng.normal(math.log(1000.0), 1.0))
        delta = float(rng.normal(0.0, S_TRUE))
        who = rng.choice(N_SOURCES, PER_QUESTION, replace=False)
        questions.append((t, [(ids[k], math.exp(t + delta + float(rng.normal(0.0, SIGMA))))
                              for k in who]))
    return ids, questions


def _round(ids: list[str], questions: list[tuple[float, list[tuple[str, float]]]],
           s: float) -> tuple[float, dict[str, float]]:
    """One round of the job: track records with each claim's residual holding s, then s."""
    records = [ResolvedClaim(Claim(sid, "point", value=v), truth=math.exp(t), scale="log",
                             question=str(q), shared=s)
               for q, (t, claims) in enumerate(questions) for sid, v in claims]
    learned = learn_track_records(records, {sid: profile_from_grade("B") for sid in ids},
                                  {sid: "other" for sid in ids})
    profiles = {sid: r.profile for sid, r in learned.items()}
    items = []
    for t, claims in questions:
        result = reconcile([Claim(sid, "point", v) for sid, v in claims],
                           [Source(sid, reliability="B") for sid, _ in claims], scale="log",
                           profiles=profiles, shared_error=0.0, levels=(0.5,))
        assert result.posterior is not None
        items.append((np.log(np.array(result.posterior.values)),
                      np.array(result.posterior.density), t))
    spreads = {sid: float(r.spread) for sid, r in learned.items() if r.spread is not None}
    return fit_shared_error(items).s, spreads


@pytest.mark.slow
def test_the_job_recovers_the_shared_error_with_in_sample_track_records() -> None:
    ids, questions = _archive(20261205)
    s, first = _round(ids, questions, 0.0)
    # One round, as the job did before: s·√(1 − 1/2) ≈ 0.14, well short of 0.2.
    assert s < S_TRUE * (1.0 - SHARED_ERROR_RTOL)
    spreads = first
    for _ in range(ROUNDS):
        s, spreads = _round(ids, questions, s)
    assert s == pytest.approx(S_TRUE, rel=SHARED_ERROR_RTOL)
    # The sources' spreads no longer hold the shared error. Each is shrunk towards the B
    # prior's by n₀ = 6 of its ~46 pseudo-claims, so compare the squares' excess over that
    # prior's share: learned without s it holds s² + σ² ≈ 0.05, with s about σ² = 0.01.
    def own(spread: dict[str, float]) -> float:
        return float(np.median(list(spread.values()))) ** 2

    assert own(spreads) < own(first) - 0.5 * S_TRUE ** 2 * PER_QUESTION * N_QUESTIONS / (
        PER_QUESTION * N_QUESTIONS + 6.0 * N_SOURCES)
