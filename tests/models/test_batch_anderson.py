"""Anderson acceleration (models/batch/anderson.py) on maps whose answer is known.

The batch EM's slow tail is a direction shared by several sources: spread traded between precise
sources that answer the same questions, at a rate near 1 an E-step. A linear map with such a
direction has a known fixed point; Anderson's multisecant step removes the direction once its
differences span it, where plain iteration needs hundreds of steps.
"""

from __future__ import annotations

import numpy as np
import pytest

from models.batch.anderson import Anderson
from models.batch.common import FloatArray


def _linear_map(seed: int, n: int, slow: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """G(u) = u* + J (u − u*), J symmetric with one eigenvalue ``slow`` along a direction that
    several coordinates share and the others spread over [0, 0.6]."""
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((n, n)))
    rates = np.concatenate(([slow], rng.uniform(0.0, 0.6, n - 1)))
    jac = basis @ np.diag(rates) @ basis.T
    return jac, rng.standard_normal(n), rng.standard_normal(n)


def _iterate(jac: FloatArray, fixed: FloatArray, start: FloatArray, accelerate: bool,
             tol: float) -> int:
    """Steps (evaluations of G) until ‖G(u) − u‖ < tol."""
    history = Anderson()
    u = start
    for k in range(1, 5000):
        g = fixed + jac @ (u - fixed)
        if np.linalg.norm(g - u) < tol:
            return k
        history.push(u, g)
        step = history.step() if accelerate else None
        u = g if step is None else step
    return 5000


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_shared_slow_direction_is_removed_in_a_few_steps(seed: int) -> None:
    # Rate 0.985, the spread mode measured on test_batch_squarem's archive: plain iteration
    # needs some 900-1,000 steps to bring the residual under 1e-8 (measured, seeds 1-5);
    # Anderson about 25.
    jac, fixed, start = _linear_map(seed, 40, 0.985)
    plain = _iterate(jac, fixed, start, False, 1e-8)
    fast = _iterate(jac, fixed, start, True, 1e-8)
    assert plain > 500
    assert fast < 60


def test_a_growing_residual_restarts_the_history() -> None:
    history = Anderson(memory=3)
    history.push(np.zeros(2), np.array([1.0, 0.0]))
    assert history.push(np.ones(2), np.array([1.5, 1.0]))
    assert history.pairs == 2
    assert history.step() is not None
    # A residual larger than the smallest since the restart: the history starts over, and the
    # next step is G's own.
    assert not history.push(np.zeros(2), np.array([3.0, 0.0]))
    assert history.pairs == 1
    assert history.step() is None


def test_the_history_keeps_memory_plus_one_pairs() -> None:
    history = Anderson(memory=2)
    for k in range(6):
        history.push(np.full(3, float(k)), np.full(3, k + 0.5 ** k))
    assert history.pairs == 3


def test_memory_must_be_positive() -> None:
    with pytest.raises(ValueError, match="memory"):
        Anderson(memory=0)


def test_memory_is_read_only() -> None:
    history = Anderson(memory=2)
    with pytest.raises(AttributeError):
        history.memory = 4  # type: ignore[misc]
    assert history.memory == 2
