"""Estimators of the between-claim variance τ² for random-effects pooling, as R metafor.

DerSimonian–Laird (a moment estimate), Paule–Mandel (the root of the generalized Q) and REML
(Fisher scoring from the Hedges estimate), on inputs validated once by :func:`as_data`, which
also keeps the sums every estimator needs. :class:`models.pooling.RandomEffects` chooses among
them; the formulas are in its docstring and the references in :mod:`models.pooling`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from scipy import optimize

from models.errors import InvalidClaimError, NumericalRangeError

__all__ = [
    "TAU2_METHODS",
    "PoolingData",
    "as_data",
    "generalized_q",
    "tau2_dl",
    "tau2_pm",
    "tau2_reml",
    "tr_p_fixed",
    "weighted_mean",
]

FloatArray = npt.NDArray[np.float64]

#: Estimators of the between-claim variance τ² that :class:`models.pooling.RandomEffects` accepts.
TAU2_METHODS: Final[tuple[str, ...]] = ("DL", "PM", "REML")

# Iterations stop on metafor's absolute criterion |Δτ²| <= tol, or once the step is lost in the
# rounding of a large τ² (a claim in soldiers can have τ² ~ 1e12, where 1e-10 is below one ulp).
_RELATIVE_FLOOR: Final[float] = 1e-13


@dataclass(frozen=True, slots=True)
class PoolingData:
    """Validated inputs with the sums every estimator needs."""

    y: FloatArray
    v: FloatArray
    # y minus its plain mean: metafor centres y too, so that sums of squares of values far from
    # zero (Kacker's 62.x) do not lose digits to cancellation.
    yc: FloatArray
    centre: float

    @property
    def k(self) -> int:
        return int(self.y.shape[0])


def as_data(y: npt.ArrayLike, v: npt.ArrayLike) -> PoolingData:
    try:
        ya = np.array(y, dtype=np.float64)
        va = np.array(v, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InvalidClaimError(f"Effect sizes and variances must be numbers ({exc}).") from exc
    if ya.ndim != 1:
        raise InvalidClaimError(f"Effect sizes must be a 1-d sequence; got shape {ya.shape}.")
    if va.shape != ya.shape:
        raise InvalidClaimError(
            f"Got {ya.shape[0]} effect sizes but variances of shape {va.shape}; "
            "need one variance per effect size."
        )
    k = int(ya.shape[0])
    if k < 1:
        raise InvalidClaimError("Nothing to pool: need at least 1 effect size; got 0.")
    for i in range(k):
        yi, vi = float(ya[i]), float(va[i])
        if not math.isfinite(yi):
            raise InvalidClaimError(
                f"Effect size y[{i}] is {yi!r}; every effect size must be finite."
            )
        if not (math.isfinite(vi) and vi > 0.0):
            raise InvalidClaimError(
                f"Sampling variance v[{i}] is {vi!r}; every sampling variance must be finite "
                "and > 0."
            )
    centre = float(np.mean(ya))
    yc = ya - centre
    # Every later sum is bounded by these: weights never exceed 1/v, squared residuals never
    # exceed 4·max(yc²). Checking them once keeps overflow out of the estimators.
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        w = 1.0 / va
        bounds = (
            float(np.sum(w)),
            float(np.sum(w * w)),
            4.0 * float(np.max(yc * yc)) * float(np.sum(w)),
        )
    if not (np.all(np.isfinite(yc)) and all(math.isfinite(b) for b in bounds)):
        raise NumericalRangeError(
            "Effect sizes or sampling variances are too large or too small to pool in floating "
            "point; rescale the quantity (e.g. use other units) before pooling."
        )
    return PoolingData(y=ya, v=va, yc=yc, centre=centre)


def weighted_mean(yc: FloatArray, w: FloatArray) -> float:
    return float(np.sum(w * yc) / np.sum(w))


def generalized_q(data: PoolingData, tau2: float) -> float:
    """``Σ w_i (y_i − μ̂(τ²))²`` with ``w_i = 1/(v_i + τ²)``; at τ² = 0 this is Cochran's Q."""
    w = 1.0 / (data.v + tau2)
    mu_c = weighted_mean(data.yc, w)
    return float(np.sum(w * (data.yc - mu_c) ** 2))


def tr_p_fixed(v: FloatArray) -> float:
    """``tr(P)`` of the fixed-effect model: ``Σw − Σw²/Σw`` with ``w = 1/v``."""
    w = 1.0 / v
    sw = float(np.sum(w))
    return sw - float(np.sum(w * w)) / sw


def tau2_dl(data: PoolingData) -> float:
    q = generalized_q(data, 0.0)
    raw = (q - (data.k - 1)) / tr_p_fixed(data.v)
    # DL's moment estimate is negative whenever Q < k − 1; a variance cannot be.
    return max(0.0, raw)


def tau2_pm(data: PoolingData, tol: float, max_iter: int) -> tuple[float, int]:
    target = float(data.k - 1)
    if generalized_q(data, 0.0) <= target:
        return 0.0, 0
    # Q(τ²) <= Σ(y − ȳ)² / τ², so at τ² = Σ(y − ȳ)² / (k − 1) the generalized Q is at or below
    # k − 1 and [0, hi] brackets the root. metafor instead searches [0, 100] and fails beyond.
    hi = float(np.sum(data.yc**2)) / target
    f_hi = generalized_q(data, hi) - target
    if f_hi >= 0.0:
        return hi, 0
    try:
        root, result = optimize.brentq(
            lambda t: generalized_q(data, t) - target,
            0.0,
            hi,
            xtol=tol,
            rtol=_RELATIVE_FLOOR,
            maxiter=max_iter,
            full_output=True,
        )
    except RuntimeError as exc:
        raise NumericalRangeError(
            f"Paule–Mandel root search did not converge in {max_iter} iterations."
        ) from exc
    return max(0.0, float(root)), int(result.iterations)


def tau2_reml(data: PoolingData, tol: float, max_iter: int) -> tuple[float, int]:
    k = data.k
    yc, v = data.yc, data.v
    # metafor starts Fisher scoring from the Hedges (HE) estimate, floored at 0; using the same
    # start means the same iterates, so a run with metafor's threshold reproduces its output.
    ybar = float(np.mean(yc))
    he = (float(np.sum((yc - ybar) ** 2)) - float(np.sum(v)) * (k - 1) / k) / (k - 1)
    tau2 = max(0.0, he)
    for iteration in range(1, max_iter + 1):
        w = 1.0 / (v + tau2)
        # Work with u = w / max(w): the step below is invariant to that rescaling, and Σw³ of
        # raw weights overflows long before the inputs do.
        scale = float(np.max(w))
        u = w / scale
        su = float(np.sum(u))
        su2 = float(np.sum(u * u))
        resid = yc - float(np.sum(u * yc)) / su
        # Intercept-only closed forms of metafor's matrix expressions, with P = W − w wᵀ/Σw:
        # Y'PPY = Σ w²(y − μ̂)², tr(P) = Σw − Σw²/Σw, tr(PP) = Σw² − 2Σw³/Σw + (Σw²/Σw)²;
        # in u the first and last carry scale², tr(P) carries scale, hence the division below.
        ypy = float(np.sum(u * u * resid * resid))
        tr_p = (su - su2 / su) / scale
        tr_pp = su2 - 2.0 * float(np.sum(u**3)) / su + (su2 / su) ** 2
        step = (ypy - tr_p) / tr_pp
        if tau2 == 0.0 and step < 0.0:
            # Already on the boundary and pushed outwards: metafor's step halving would shrink
            # this step to nothing, so skip the ~1000 halvings and stay at 0.
            step = 0.0
        while tau2 + step < 0.0:
            step /= 2.0  # step halving, as metafor: never leave the parameter space
        new = tau2 + step
        change = abs(new - tau2)
        tau2 = new
        if not math.isfinite(tau2):
            raise NumericalRangeError("REML Fisher scoring diverged; τ² is not finite.")
        if change <= tol or change <= _RELATIVE_FLOOR * tau2:
            return max(0.0, tau2), iteration
    raise NumericalRangeError(
        f"REML Fisher scoring did not converge in {max_iter} iterations "
        f"(last τ² = {tau2:.6g}); increase max_iter or use tau2_method 'DL' or 'PM'."
    )
