"""The shared error per question (models.shared_error): its convolution against quadrature,
its maximum-likelihood estimator against simulated data with a known s, and its effect on a
reconciled answer.

The simulator here draws from the model x_i = θ + δ + ε_i with its own numbers (it imports
nothing from models but the functions under test), and the posteriors it hands the estimator
are computed in the test, from the Gaussian likelihood and a flat prior.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.stats import norm

from models.claims import Claim, Source
from models.errors import InvalidParameterError
from models.reconcile import reconcile
from models.shared_error import (
    convolve,
    fit_shared_error,
    fit_shared_error_gaussian,
    quantile,
)
from tests.tolerances import (
    CONVOLUTION_RTOL,
    GRID_INTERPOLANT_RTOL,
    SHARED_ERROR_FORMS_RTOL,
    SHARED_ERROR_RTOL,
)


def _skewed_grid() -> tuple[np.ndarray, np.ndarray]:
    """Two unequal peaks on an uneven grid (dense near the narrow peak)."""
    theta = np.unique(np.concatenate([np.linspace(-10, 10, 50), np.linspace(2.8, 3.2, 30)]))
    density = 0.7 * norm.pdf(theta, -2.0, 1.5) + 0.3 * norm.pdf(theta, 3.0, 0.05)
    return theta, density


def _quadrature(theta: np.ndarray, density: np.ndarray, x: float, s: float) -> float:
    """∫ p̃(φ) N(x; φ, s²) dφ by adaptive quadrature, one grid cell at a time (p̃ is smooth
    inside a cell); cells beyond 40 s of x add nothing in double precision."""
    total = 0.0
    for a, b in zip(theta[:-1], theta[1:], strict=True):
        if b < x - 40 * s or a > x + 40 * s:
            continue
        value, _ = quad(lambda phi: float(np.interp(phi, theta, density))
                        * float(norm.pdf(x, phi, s)), a, b, epsabs=0.0, epsrel=1e-12)
        total += value
    return total


@pytest.mark.parametrize("s", [0.01, 0.3, 2.0, 25.0])
def test_convolution_matches_quadrature(s: float) -> None:
    theta, density = _skewed_grid()
    grid, out = convolve(theta, density, s)
    # convolve normalises on its own grid: compare the shape, as ratios to one grid point.
    picks = [int(np.argmin(np.abs(grid - x))) for x in (-2.0, -4.0, 0.0, 2.95, 3.0, 6.5)]
    ref_got = float(out[picks[0]])
    ref_want = _quadrature(theta, density, float(grid[picks[0]]), s)
    for j in picks[1:]:
        want = _quadrature(theta, density, float(grid[j]), s) / ref_want
        assert float(out[j]) / ref_got == pytest.approx(want, rel=CONVOLUTION_RTOL, abs=1e-12)


def test_convolution_adds_the_variance() -> None:
    theta = np.linspace(-30, 30, 401)
    grid, out = convolve(theta, norm.pdf(theta, 1.0, 2.0), 1.5)
    mean = np.trapezoid(grid * out, grid)
    var = np.trapezoid((grid - mean) ** 2 * out, grid)
    assert mean == pytest.approx(1.0, abs=GRID_INTERPOLANT_RTOL)
    assert var == pytest.approx(2.0**2 + 1.5**2, rel=GRID_INTERPOLANT_RTOL)
    assert quantile(grid, out, 0.95) == pytest.approx(1.0 + 2.5 * norm.ppf(0.95),
                                                      rel=GRID_INTERPOLANT_RTOL)


def test_zero_is_the_identity_and_bad_s_is_refused() -> None:
    theta, density = _skewed_grid()
    grid, out = convolve(theta, density, 0.0)
    assert np.array_equal(grid, theta)
    assert np.allclose(out * np.trapezoid(density, theta), density)
    for bad in (-1.0, math.inf, math.nan):
        with pytest.raises(InvalidParameterError) as err:
            convolve(theta, density, bad)
        assert err.value.field == "shared_error"


def _simulate(rng: np.random.Generator, s: float, n_questions: int
              ) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """Questions of 2-8 claims with stated sds 1-4, all shifted by one δ ~ N(0, s²)."""
    out = []
    for _ in range(n_questions):
        truth = rng.uniform(-20.0, 20.0)
        delta = rng.normal(0.0, s)
        k = int(rng.integers(2, 9))
        sd = rng.uniform(1.0, 4.0, k)
        x = truth + delta + rng.normal(0.0, sd)
        w = 1.0 / sd**2
        mean, post_sd = float(w @ x / w.sum()), float(1.0 / math.sqrt(w.sum()))
        grid = np.linspace(mean - 10 * post_sd, mean + 10 * post_sd, 201)
        out.append((grid, norm.pdf(grid, mean, post_sd), truth))
    return out


@pytest.mark.parametrize("s_true", [0.0, 1.0, 3.0])
def test_estimator_recovers_a_known_shared_error(s_true: float) -> None:
    questions = _simulate(np.random.default_rng(7), s_true, 400)
    fit = fit_shared_error(questions)
    assert fit.n_questions == 400
    if s_true == 0.0:
        assert fit.s < 0.3  # the questions' own posteriors already explain the misses
    else:
        assert fit.s == pytest.approx(s_true, rel=SHARED_ERROR_RTOL)
        assert fit.log_likelihood > fit.log_likelihood_zero


def test_grid_and_gaussian_forms_agree_on_gaussian_posteriors() -> None:
    questions = _simulate(np.random.default_rng(11), 2.0, 200)
    exact = fit_shared_error(questions)
    means, variances, truths = [], [], []
    for grid, density, truth in questions:
        d = density / np.trapezoid(density, grid)
        m = np.trapezoid(grid * d, grid)
        means.append(m)
        variances.append(np.trapezoid((grid - m) ** 2 * d, grid))
        truths.append(truth)
    gauss = fit_shared_error_gaussian(np.array(means), np.array(variances), np.array(truths))
    assert exact.s == pytest.approx(gauss.s, rel=SHARED_ERROR_FORMS_RTOL)


def test_estimator_refuses_no_questions() -> None:
    with pytest.raises(InvalidParameterError):
        fit_shared_error([])


def _polls() -> tuple[list[Claim], list[Source]]:
    sources = [Source(f"p{i}", reliability="B") for i in range(4)]
    claims = [Claim(f"p{i}", "point", v, sd=3.0) for i, v in enumerate((2.0, 4.0, 3.0, 5.0))]
    return claims, sources


def test_reconcile_widens_by_the_shared_error_robust_and_pooled() -> None:
    claims, sources = _polls()
    for method in ("robust", "random_effects"):
        plain = reconcile(claims, sources, scale="linear", method=method, levels=(0.9,))
        shared = reconcile(claims, sources, scale="linear", method=method, levels=(0.9,),
                           shared_error=4.0)
        lo0, hi0 = plain.estimate.intervals[0].low, plain.estimate.intervals[0].high
        lo1, hi1 = shared.estimate.intervals[0].low, shared.estimate.intervals[0].high
        assert lo0 is not None and hi0 is not None and lo1 is not None and hi1 is not None
        # A near-Gaussian posterior of width w convolved with N(0, 4²): the 90 % range
        # becomes about 2·1.645·√((w/3.29)² + 16).
        expected = 2 * norm.ppf(0.95) * math.hypot((hi0 - lo0) / (2 * norm.ppf(0.95)), 4.0)
        assert hi1 - lo1 == pytest.approx(expected, rel=0.02)
        assert shared.shared_error is not None and shared.shared_error.origin == "request"
        assert plain.shared_error is not None and plain.shared_error.origin == "default"
        assert plain.shared_error.value == 0.0


@pytest.mark.parametrize("scale", ["linear", "log"])
def test_a_shared_error_too_large_for_floating_point_is_refused_by_name(scale: str) -> None:
    claims, sources = _polls()
    if scale == "log":
        claims = [Claim(c.source, "point", abs(c.value or 1.0) + 1.0) for c in claims]
    with pytest.raises(InvalidParameterError) as err:
        reconcile(claims, sources, scale=scale, shared_error=1e300)
    assert err.value.field == "shared_error"


def test_a_shared_error_far_below_the_grid_changes_nothing() -> None:
    claims, sources = _polls()
    plain = reconcile(claims, sources, scale="linear", method="robust")
    tiny = reconcile(claims, sources, scale="linear", method="robust", shared_error=5e-324)
    assert tiny.estimate == plain.estimate
