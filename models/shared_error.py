"""The error all claims of one question share, and how far it widens the answer.

Symbols
-------
θ    : the true value on the working scale.
δ    : the question's shared error, δ ~ N(0, s²): the part of every claim's error that all the
       question's sources make together (all polls of one race miss in the same direction).
φ    : θ + δ, the value the claims' "right" parts actually measure.
x_i  : claim i's right part, x_i = θ + δ + ε_i = φ + ε_i.
s    : the shared error's standard deviation. On the log scale in log units (0.05 ≈ 5 %); on
       the linear scale in the quantity's own units (points of a margin), never relative to
       the figures.

Model
-----
The reconciler's posterior p(φ | claims) treats the claims as independent given φ. With a
broad (flat) prior on θ and δ independent of the claims' own errors,

    p(θ | claims) = ∫ p(φ | claims) N(θ; φ, s²) dφ,

the current posterior convolved with N(0, s²). It is exact for a flat prior; the reconciler's
broad default prior sits on φ rather than θ, an error that grows like s²/τ₀² (2 % of the 90 %
width for a lone claim at s = 2, by an independent review). :func:`convolve` does the
convolution exactly for the piecewise-linear interpolant of a grid posterior (the segment
integrals have a closed form in Φ and ϕ), so it is accurate whether s is far below or far
above the grid spacing.

Learning s
----------
For a resolved question q with truth t_q, the marginal likelihood of s is

    L_q(s) = ∫ p_q(φ | claims) N(t_q; φ, s²) dφ,

evaluated on the question's own grid posterior (again exactly for its piecewise-linear
interpolant; at s = 0 it is p_q(t_q)). :func:`fit_shared_error` maximises Σ_q log L_q(s) over
s ≥ 0 (a log-spaced scan, then Brent's method on log s around the best point).
:func:`fit_shared_error_gaussian` is the Gaussian approximation, p_q ≈ N(m_q, v_q), where
L_q(s) = N(t_q; m_q, v_q + s²): the maximum-likelihood between-study variance of a
random-effects meta-analysis (DerSimonian & Laird 1986; Hardy & Thompson 1996). The store's
learning job uses the grid form, since a question's posterior can be skewed or two-peaked.

References
----------
Shirani-Mehr, H., Rothschild, D., Goel, S. & Gelman, A. (2018). Disentangling bias and variance
in election polls. JASA 113(522), 607-614. doi:10.1080/01621459.2018.1448823.
DerSimonian, R. & Laird, N. (1986). Meta-analysis in clinical trials. Controlled Clinical
Trials 7(3), 177-188. doi:10.1016/0197-2456(86)90046-2.
Hardy, R. J. & Thompson, S. G. (1996). A likelihood approach to meta-analysis with random
effects. Statistics in Medicine 15(6), 619-629.
doi:10.1002/(SICI)1097-0258(19960330)15:6<619::AID-SIM188>3.0.CO;2-A.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import brentq, minimize_scalar
from scipy.special import ndtr

from models.errors import InvalidParameterError, NumericalRangeError
from models.result import Estimate, Interval, SharedErrorUse

if TYPE_CHECKING:
    from models.robust import RobustFit

FloatArray = NDArray[np.float64]

__all__ = [
    "DEFAULT_SHARED_ERROR",
    "MAX_SHARED_ERROR",
    "MIN_QUESTIONS",
    "SharedErrorFit",
    "SharedErrorUse",
    "convolve",
    "fit_shared_error",
    "fit_shared_error_gaussian",
    "quantile",
    "shared_error_use",
    "with_shared_error",
]



#: The shared error used when neither the request nor any resolved question gives one, per
#: working scale. Linear: 0, because an absolute s needs the quantity's unit and no value is
#: right for every unit (a point of a margin, a degree, a dollar). Log: 0, so that a question
#: without history is answered as before, with the claims' errors independent given the truth
#: (the grade table was calibrated that way, bench/calibrate_grades.py).
DEFAULT_SHARED_ERROR: Final[dict[str, float]] = {"log": 0.0, "linear": 0.0}
#: Resolved questions a category needs before its own s is used; with fewer, the pooled s of
#: every category on that scale is used (one question's miss is mostly its claims' own noise).
MIN_QUESTIONS: Final = 5
#: Points of the uniform grid :func:`convolve` adds over the input's span ± 8 s.
_SPAN_POINTS: Final = 257
#: Largest shared error on the working scale: 100 log units (a factor e¹⁰⁰) or 100 typical
#: magnitudes; beyond it the answer would say nothing, and its ends leave floating point.
MAX_SHARED_ERROR: Final = 100.0
_SQRT_2PI: Final = math.sqrt(2.0 * math.pi)
#: Relative tolerance of the root of the likelihood's slope (the least brentq accepts).
_ROOT_RTOL: Final = 4.0 * float(np.finfo(np.float64).eps)


def _check_grid(theta: FloatArray, density: FloatArray) -> None:
    if theta.ndim != 1 or theta.shape != density.shape or theta.size < 2:
        raise InvalidParameterError(
            f"A grid posterior needs matching 1-D theta and density of at least 2 points; got "
            f"shapes {theta.shape} and {density.shape}.", "posterior")
    if not (np.all(np.diff(theta) > 0) and np.all(np.isfinite(density))
            and np.all(density >= 0)):
        raise InvalidParameterError(
            "A grid posterior needs strictly increasing theta and finite, non-negative "
            "density.", "posterior")


def _check_s(s: float) -> float:
    if isinstance(s, bool) or not (math.isfinite(s) and s >= 0.0):
        raise InvalidParameterError(
            f"Invalid shared_error {s!r}; must be a finite number >= 0.", "shared_error")
    return float(s)


def _segment_integrals(theta: FloatArray, density: FloatArray, at: FloatArray,
                       s: float) -> FloatArray:
    """∫ p̃(φ) N(at_j; φ, s²) dφ for each point of ``at``, p̃ the piecewise-linear p.

    Notes
    -----
    On a segment [a, b] with p̃(φ) = α + mφ and u = (φ − x)/s,
    ∫_a^b (α + mφ) N(φ; x, s²) dφ = (α + m x)(Φ(u_b) − Φ(u_a)) + m s (ϕ(u_a) − ϕ(u_b)).
    """
    a, b = theta[:-1], theta[1:]
    m = (density[1:] - density[:-1]) / (b - a)
    alpha = density[:-1] - m * a
    x = at[:, None]
    # A tiny s sends u to ±inf: Φ is then 0 or 1 and ϕ is 0, which is the right limit.
    with np.errstate(over="ignore"):
        ua, ub = (a - x) / s, (b - x) / s
        mass = ndtr(ub) - ndtr(ua)
        phi_a = np.exp(-0.5 * ua * ua) / _SQRT_2PI
        phi_b = np.exp(-0.5 * ub * ub) / _SQRT_2PI
    out = (alpha + m * x) * mass + m * s * (phi_a - phi_b)
    return np.asarray(np.maximum(out.sum(axis=1), 0.0), dtype=np.float64)


def convolve(theta: FloatArray, density: FloatArray, s: float) -> tuple[FloatArray, FloatArray]:
    """The grid posterior ``density`` convolved with N(0, s²).

    Parameters
    ----------
    theta : (G,) float
        Strictly increasing grid.
    density : (G,) float
        Posterior density of φ on the grid (any normalisation; the result integrates to 1).
    s : float
        Shared error's standard deviation, same units as ``theta`` (>= 0).

    Returns
    -------
    theta_out : (G',) float
        The input grid joined with 257 uniform points over its span ± 8 s (unchanged when
        s = 0).
    density_out : (G',) float
        p(θ) = ∫ p̃(φ) N(θ; φ, s²) dφ, p̃ the piecewise-linear interpolant of ``density``,
        normalised by the trapezoidal rule on ``theta_out``.

    Raises
    ------
    InvalidParameterError
        For a malformed grid or a negative or non-finite s.
    """
    theta = np.asarray(theta, dtype=np.float64)
    density = np.asarray(density, dtype=np.float64)
    _check_grid(theta, density)
    s = _check_s(s)
    if s == 0.0:
        return theta.copy(), density / np.trapezoid(density, theta)
    # The input grid resolves p; a uniform grid over its span ± 8 s resolves N(0, s²) when s
    # is wide, so that quantiles never rest on a few coarse tail points.
    grid = np.union1d(theta, np.linspace(theta[0] - 8.0 * s, theta[-1] + 8.0 * s,
                                         _SPAN_POINTS))
    out = _segment_integrals(theta, density, grid, s)
    return grid, out / np.trapezoid(out, grid)


def quantile(theta: FloatArray, density: FloatArray, q: float) -> float:
    """The q-quantile of the piecewise-linear density on ``theta`` (exact for it).

    Notes
    -----
    The CDF is piecewise quadratic: on a cell of width h from density p₀ to p₁ the mass up to
    x is p₀ x + (p₁ − p₀) x² / (2h); the quantile solves that quadratic in the cell.
    """
    h = np.diff(theta)
    cell = 0.5 * (density[:-1] + density[1:]) * h
    cdf = np.concatenate([[0.0], np.cumsum(cell)])
    target = q * cdf[-1]
    k = int(np.clip(np.searchsorted(cdf, target, side="right") - 1, 0, h.size - 1))
    need = target - cdf[k]
    p0, p1, w = float(density[k]), float(density[k + 1]), float(h[k])
    slope = (p1 - p0) / w
    if abs(slope) * w < 1e-12 * max(p0, 1e-300):
        x = need / p0 if p0 > 0 else 0.5 * w
    else:
        # p0 x + slope x²/2 = need, the root in [0, w] (the stable form of the formula).
        disc = max(p0 * p0 + 2.0 * slope * need, 0.0)
        x = 2.0 * need / (p0 + math.sqrt(disc)) if p0 + math.sqrt(disc) > 0 else 0.0
    return float(theta[k] + min(max(x, 0.0), w))


@dataclass(frozen=True, slots=True)
class SharedErrorFit:
    """Maximum-likelihood shared error of one category.

    Attributes
    ----------
    s : float
        The estimate (>= 0), in the units of the grids (or means) it was fitted on.
    n_questions : int
        Resolved questions behind it.
    log_likelihood : float
        Σ_q log L_q(s) at the estimate.
    log_likelihood_zero : float
        The same at s = 0 (the gain says how clearly the questions call for a shared error).
    """

    s: float
    n_questions: int
    log_likelihood: float
    log_likelihood_zero: float


def _maximise(f: Callable[[float], float], scale: float, n: int,
              slope: Callable[[float], float] | None = None) -> SharedErrorFit:
    """Maximise ``f(s)`` (a log-likelihood) over s >= 0: a log-spaced scan over
    1e-4…1e2 × ``scale``, then, between the best point's neighbours, the root of the
    derivative ``slope`` when it changes sign there (Brent's root finder to a few ulps), else
    Brent's method on log s.

    The root is what makes s reproducible: a search on values alone stops anywhere within its
    tolerance (1e-6 on log s), and where it stops depends on the last bits of the values, so
    inputs that differ only by rounding (the same records learned with sums added in another
    order, :mod:`service.batch.dask_records`) would give s differing by up to 1e-6.
    """
    zero = float(f(0.0))
    grid = scale * np.logspace(-4, 2, 61)
    values = np.array([float(f(float(s))) for s in grid])
    best = int(np.argmax(values))
    if values[best] <= zero:
        return SharedErrorFit(0.0, n, zero, zero)
    s_lo, s_hi = float(grid[max(best - 1, 0)]), float(grid[min(best + 1, grid.size - 1)])
    if slope is not None and slope(s_lo) > 0.0 > slope(s_hi):
        s_hat = float(brentq(slope, s_lo, s_hi, xtol=1e-300, rtol=_ROOT_RTOL))
    else:
        found = minimize_scalar(lambda u: -float(f(math.exp(u))),
                                bounds=(math.log(s_lo), math.log(s_hi)),
                                method="bounded", options={"xatol": 1e-6})
        s_hat = math.exp(float(found.x))
    ll = float(f(s_hat))
    if ll < values[best]:
        s_hat, ll = float(grid[best]), float(values[best])
    return SharedErrorFit(s_hat, n, ll, zero)


def fit_shared_error(
    questions: Sequence[tuple[FloatArray, FloatArray, float]],
) -> SharedErrorFit:
    """Maximum-likelihood s from resolved questions' grid posteriors and truths.

    Parameters
    ----------
    questions : sequence of (theta, density, truth)
        Each question's posterior of φ on its grid (``theta`` (G,) increasing, ``density``
        (G,) >= 0, any normalisation) and its true value, all in the same units (log units on
        the log scale, the quantity's units on the linear scale).

    Returns
    -------
    SharedErrorFit

    Raises
    ------
    InvalidParameterError
        When there is no question, a grid is malformed or a truth is not finite.

    Notes
    -----
    Maximises Σ_q log ∫ p̃_q(φ) N(t_q; φ, s²) dφ (see the module docstring); at s = 0 the
    integral is p̃_q(t_q). Each density is normalised on its own grid first. A truth outside
    its grid has L_q(0) = 0, so the fit then always finds s > 0.
    """
    if not questions:
        raise InvalidParameterError("Fitting a shared error needs at least one resolved "
                                    "question.", "questions")
    lefts, rights, d_lefts, d_rights, owner, truths, spread = [], [], [], [], [], [], []
    for q, (theta, density, truth) in enumerate(questions):
        t = np.asarray(theta, dtype=np.float64)
        d = np.asarray(density, dtype=np.float64)
        _check_grid(t, d)
        if not math.isfinite(truth):
            raise InvalidParameterError(f"Invalid truth {truth!r}; must be finite.", "truth")
        d = d / np.trapezoid(d, t)
        lefts.append(t[:-1])
        rights.append(t[1:])
        d_lefts.append(d[:-1])
        d_rights.append(d[1:])
        owner.append(np.full(t.size - 1, q))
        truths.append(float(truth))
        mean = float(np.trapezoid(t * d, t))
        spread.append(math.sqrt(max(float(np.trapezoid((t - mean) ** 2 * d, t)), 0.0))
                      + abs(truth - mean))
    # Every question's cells in one flat array, so that each evaluation of the likelihood is
    # a handful of array operations whatever the number of questions.
    a, b = np.concatenate(lefts), np.concatenate(rights)
    pa, pb = np.concatenate(d_lefts), np.concatenate(d_rights)
    who = np.concatenate(owner)
    x = np.array(truths)[who]
    slope = (pb - pa) / (b - a)
    alpha = pa - slope * a
    inside = (a <= x) & (x <= b)
    # A truth on a node shared by two cells is counted by both: divide by the count.
    at_zero: FloatArray = (
        np.bincount(who, weights=np.where(inside, alpha + slope * x, 0.0), minlength=len(truths))
        / np.maximum(np.bincount(who, weights=inside.astype(np.float64), minlength=len(truths)),
                     1.0))
    # The scan is scaled by the typical size of the misses, so it is unit-free.
    scale = max(float(np.median(spread)), 1e-300)
    floor = 1e-300

    def loglik(s: float) -> float:
        values: FloatArray
        if s == 0.0:
            values = at_zero
        else:
            with np.errstate(over="ignore"):
                ua, ub = (a - x) / s, (b - x) / s
                cell = ((alpha + slope * x) * (ndtr(ub) - ndtr(ua))
                        + slope * s * (np.exp(-0.5 * ua * ua) - np.exp(-0.5 * ub * ub))
                        / _SQRT_2PI)
            values = np.bincount(who, weights=cell, minlength=len(truths)).astype(np.float64)
        return float(np.sum(np.log(np.maximum(values, floor))))

    def loglik_slope(s: float) -> float:
        # d/ds of each cell's integral, with φ the standard normal density:
        # (α + βx)(u_a φ(u_a) − u_b φ(u_b))/s + β[(1 + u_a²) φ(u_a) − (1 + u_b²) φ(u_b)].
        with np.errstate(over="ignore"):
            ua, ub = (a - x) / s, (b - x) / s
            phi_a = np.exp(-0.5 * ua * ua) / _SQRT_2PI
            phi_b = np.exp(-0.5 * ub * ub) / _SQRT_2PI
            cell = ((alpha + slope * x) * (ndtr(ub) - ndtr(ua)) + slope * s * (phi_a - phi_b))
            d_cell = ((alpha + slope * x) * (ua * phi_a - ub * phi_b) / s
                      + slope * ((1.0 + ua * ua) * phi_a - (1.0 + ub * ub) * phi_b))
        values = np.bincount(who, weights=cell, minlength=len(truths))
        d_values = np.bincount(who, weights=d_cell, minlength=len(truths))
        # A question at the floor contributes a constant (log of the floor): no slope.
        kept = values > floor
        return float(np.sum(d_values[kept] / values[kept]))

    return _maximise(loglik, scale, len(truths), loglik_slope)


def fit_shared_error_gaussian(
    means: FloatArray, variances: FloatArray, truths: FloatArray
) -> SharedErrorFit:
    """Maximum-likelihood s when each posterior is taken as N(m_q, v_q).

    Parameters
    ----------
    means, variances, truths : (Q,) float
        Posterior means and variances of φ, and the true values.

    Returns
    -------
    SharedErrorFit

    Notes
    -----
    Maximises Σ_q log N(t_q; m_q, v_q + s²), the ML between-study variance of a random-effects
    model (Hardy & Thompson 1996).
    """
    m = np.asarray(means, dtype=np.float64)
    v = np.asarray(variances, dtype=np.float64)
    t = np.asarray(truths, dtype=np.float64)
    if m.size == 0 or not (m.shape == v.shape == t.shape):
        raise InvalidParameterError("Means, variances and truths must be non-empty and of one "
                                    "length.", "questions")
    if not (np.all(np.isfinite(m)) and np.all(np.isfinite(t)) and np.all(v > 0)
            and np.all(np.isfinite(v))):
        raise InvalidParameterError("Means and truths must be finite and variances positive.",
                                    "questions")
    r2 = (t - m) ** 2

    def loglik(s: float) -> float:
        total_v = v + s * s
        return float(-0.5 * np.sum(np.log(2.0 * math.pi * total_v) + r2 / total_v))

    scale = max(float(np.sqrt(np.median(r2 + v))), 1e-300)
    return _maximise(loglik, scale, int(m.size))


def shared_error_use(
    stated: float | SharedErrorUse | None, scale: str, unit: float = 1.0
) -> SharedErrorUse:
    """The shared error to use: the stated one, or the default of ``scale``.

    ``unit`` is the working scale's unit (the typical magnitude S on the linear scale).

    Raises
    ------
    InvalidParameterError
        When a stated value is negative, not finite, or over MAX_SHARED_ERROR working units.
    """
    if isinstance(stated, SharedErrorUse):
        use = stated
    elif stated is None:
        use = SharedErrorUse(DEFAULT_SHARED_ERROR.get(scale, 0.0), "default")
    else:
        use = SharedErrorUse(_check_s(stated), "request")
    _check_s(use.value)
    if use.value / unit > MAX_SHARED_ERROR:
        what = "log units" if scale == "log" else "times the figures' typical size"
        raise InvalidParameterError(
            f"Invalid shared_error {use.value!r}; it must be at most {MAX_SHARED_ERROR:g} "
            f"{what}, beyond which the answer would say nothing.", "shared_error")
    return use


def with_shared_error(fit: RobustFit, s: float, levels: Sequence[float]) -> RobustFit:
    """The robust fit with its posterior convolved with N(0, s²) (s on the working scale).

    The posterior, its median and its intervals change; each claim's weight, p_wrong and
    estimate_without stay those of p(φ | claims), since δ moves every claim alike.
    """
    # Far below the grid's resolution the convolution is the identity (to rounding).
    if s <= 1e-9 * float(fit.theta[-1] - fit.theta[0]):
        return fit
    theta, density = convolve(fit.theta, fit.density, s)
    quantiles = {
        q: (quantile(theta, density, 0.5 - q / 2.0), quantile(theta, density, 0.5 + q / 2.0))
        for q in levels
    }
    return replace(fit, theta=theta, density=density, median=quantile(theta, density, 0.5),
                   quantiles=quantiles)


def widen_estimate(estimate: Estimate, s: float, scale: str) -> Estimate:
    """A pooled (Gaussian) estimate with N(0, s²) added: each interval's half-width on the
    working scale grows from crit·se to crit·√(se² + s²), crit read from the interval itself
    (z or Knapp-Hartung's t), and se becomes √(se² + s²).

    ``s`` and ``se`` are in log units on the log scale, in the quantity's units on the linear.
    """
    if s <= 0.0 or estimate.value is None or estimate.se is None or estimate.se <= 0.0:
        return estimate

    def fwd(x: float) -> float:
        return math.log(x) if scale == "log" else x

    def back(y: float) -> float:
        try:
            return math.exp(y) if scale == "log" else y
        except OverflowError:
            raise NumericalRangeError(
                "With this shared_error the range exceeds the largest representable number.",
                field="shared_error") from None

    se2 = math.hypot(estimate.se, s)
    centre = fwd(estimate.value)
    out = []
    for iv in estimate.intervals:
        if iv.low is None or iv.high is None:
            out.append(iv)
            continue
        crit = (fwd(iv.high) - fwd(iv.low)) / (2.0 * estimate.se)
        out.append(Interval(iv.level, back(centre - crit * se2), back(centre + crit * se2)))
    return replace(estimate, intervals=tuple(out), se=se2)
