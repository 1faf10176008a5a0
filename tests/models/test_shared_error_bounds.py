"""A shared error must widen an answer that rests on bounds alone (review r2, issue 13).

Each claim's perceived value is θ + δ + ε_i with δ ~ N(0, s²) shared (docs/model.md, "Shared
error"), bounds included. When every claim is a bound the answer comes from models.bounds,
which reads the bounds as statements about φ = θ + δ; the range of θ is then that density
convolved with N(0, s²). The reference here is computed in the test with numpy and scipy only.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from models.claims import Claim, Source
from models.reconcile import reconcile
from tests.tolerances import SHARED_BOUNDS_RTOL

#: Grade B's spread on the log scale (the grade table in docs/model.md).
SIGMA_B = 0.20
SHARED = 0.5


def _convolved_quantiles(log_density: np.ndarray, grid: np.ndarray, s: float,
                         probs: tuple[float, ...]) -> list[float]:
    h = float(grid[1] - grid[0])
    k = np.arange(-int(10 * s / h), int(10 * s / h) + 1) * h
    p = np.exp(log_density - log_density.max())
    out = np.convolve(p, norm.pdf(k, 0.0, s), mode="same")
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (out[1:] + out[:-1]) * h)])
    cdf /= cdf[-1]
    return [float(np.interp(q, cdf, grid)) for q in probs]


def test_two_bounds_alone_widen_by_the_shared_error() -> None:
    a, b = math.log(2000.0), math.log(3000.0)
    sources = [Source("lo", reliability="B"), Source("hi", reliability="B")]
    claims = [Claim("lo", "at_least", 2000.0), Claim("hi", "at_most", 3000.0)]
    got = reconcile(claims, sources, scale="log", levels=(0.9,), shared_error=SHARED)
    grid = np.arange(a - 8.0, b + 8.0, 2e-4)
    log_phi = norm.logcdf((grid - a) / SIGMA_B) + norm.logcdf((b - grid) / SIGMA_B)
    low, high = _convolved_quantiles(log_phi, grid, SHARED, (0.05, 0.95))
    iv = got.estimate.intervals[0]
    assert iv.low is not None and iv.high is not None
    assert math.log(iv.low) == pytest.approx(low, rel=SHARED_BOUNDS_RTOL)
    assert math.log(iv.high) == pytest.approx(high, rel=SHARED_BOUNDS_RTOL)


def test_a_lone_bound_opens_further_by_the_shared_error() -> None:
    # "At least a": the perceived value θ + δ + ε ≥ a with ε ~ N(0, σ²), δ ~ N(0, s²), so the
    # level-q range starts at a·exp(−z √(σ² + s²)), z = Φ⁻¹((1 + q)/2).
    sources = [Source("s", reliability="B")]
    claims = [Claim("s", "at_least", 100_000.0)]
    got = reconcile(claims, sources, scale="log", levels=(0.9,), shared_error=SHARED)
    iv = got.estimate.intervals[0]
    assert iv.low is not None
    expected = math.log(100_000.0) - norm.ppf(0.95) * math.hypot(SIGMA_B, SHARED)
    assert math.log(iv.low) == pytest.approx(expected, rel=SHARED_BOUNDS_RTOL)
