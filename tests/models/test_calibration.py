"""Simulation with known truth: intervals built from the grade table cover at nominal rates."""

from __future__ import annotations

import numpy as np

from models.reconcile import reconcile
from models.simulate import simulate_question

#: 300 questions: the binomial standard error of a 90 % coverage is 0.017 and of a 50 % coverage
#: 0.029; the bands are ±3 standard errors around the nominal rates.
QUESTIONS = 300


def test_intervals_cover_the_truth_at_nominal_rates() -> None:
    rng = np.random.default_rng(20241023)
    hits50 = hits90 = 0
    for _ in range(QUESTIONS):
        q = simulate_question(rng, int(rng.integers(2, 7)))
        iv50, iv90 = reconcile(q.claims, q.sources, levels=(0.5, 0.9)).estimate.intervals
        hits50 += iv50.low <= q.truth <= iv50.high
        hits90 += iv90.low <= q.truth <= iv90.high
    assert 0.85 <= hits90 / QUESTIONS <= 0.95
    assert 0.41 <= hits50 / QUESTIONS <= 0.59


def test_simulation_is_reproducible_from_the_generator() -> None:
    a = simulate_question(np.random.default_rng(1), 4)
    b = simulate_question(np.random.default_rng(1), 4)
    assert a == b
