"""The two parts of a claim's error mixture, one number at a time: log densities of a point and
log masses of an interval under the Normal ("right") and the Cauchy ("wrong") part.

The grid's kernels (:mod:`models.likelihood.kernels`) evaluate the same forms block by block;
these element-wise versions serve the track record (:mod:`models.track_record_sums`), which
reads residuals against known truths, and the batch model (:mod:`models.batch.kernels`).
"""

from __future__ import annotations

from typing import Final

import numpy as np
from scipy.special import log_ndtr

from models.likelihood.common import LOG_FLOOR, LOG_PI, LOG_SQRT_2PI, FloatArray, bounded


def log_normal_interval(
    lo: FloatArray, hi: FloatArray, floor: float = LOG_FLOOR
) -> FloatArray:
    """log(Φ(hi) − Φ(lo)) for lo ≤ hi (either end may be infinite, not both), both tails accurate.

    In the upper tail the survival form Φ(−lo) − Φ(−hi) avoids cancellation near 1; the
    difference is then l₁ + log(1 − e^{l₂ − l₁}) with l₂ ≤ l₁, never a difference of logs.
    Far out in a tail the two logs can round to the same number although the interval has
    mass; there the mass is φ(mid)·(hi − lo) to first order (the density is nearly flat across
    so narrow an interval, relative to its distance), and the result never falls below
    ``floor``. An empty interval (lo = hi) gets ``floor``.

    Shared by the single-question grid (whose range kernel, in
    :mod:`models.likelihood.kernels`, reflects its ends), the track record and the batch model
    (:mod:`models.batch.kernels`), which floors at −700 instead.

    Parameters
    ----------
    lo, hi : float arrays
        Standardised ends (broadcast against each other).
    floor : float
        Least value returned; the default :data:`LOG_FLOOR` is finite yet e^floor = 0.

    Returns
    -------
    float array
        log(Φ(hi) − Φ(lo)), at least ``floor``.
    """
    lo = bounded(lo)
    hi = bounded(hi)
    upper = (lo + hi) > 0
    l1 = log_ndtr(np.where(upper, -lo, hi))
    l2 = log_ndtr(np.where(upper, -hi, lo))
    with np.errstate(invalid="ignore"):
        gap = l2 - l1  # nan when both ends lie beyond log_ndtr's range
    separated = gap < -1e-12
    exact = l1 + np.log1p(-np.exp(np.where(separated, gap, -1.0)))
    if separated.all():
        # With ends within ±Z_MAX, exact ≥ log Φ(−Z_MAX) − 28 > LOG_FLOOR: only a higher
        # floor can bind.
        if floor > LOG_FLOOR:
            exact = np.maximum(exact, floor)
        return np.asarray(exact, dtype=np.float64)
    mid = 0.5 * lo + 0.5 * hi
    with np.errstate(divide="ignore"):
        width = np.log(hi - lo)
    flat = -0.5 * mid * mid - LOG_SQRT_2PI + width
    return np.asarray(np.maximum(np.where(separated, exact, flat), floor), dtype=np.float64)


#: Standardised ends beyond which the Cauchy interval mass avoids products of the ends.
_BIG_END: Final = 1e150


def log_cauchy_interval(
    lo: FloatArray, hi: FloatArray, floor: float = -np.inf
) -> FloatArray:
    """log P(lo ≤ X ≤ hi) for standard Cauchy X (open ends as ±inf).

    arctan(hi) − arctan(lo) = atan2(hi − lo, 1 + lo·hi) has no cancellation in either tail.
    Shared by the track record and the batch model (:mod:`models.batch.kernels`).

    Parameters
    ----------
    lo, hi : float arrays
        Standardised ends, lo ≤ hi (broadcast against each other).
    floor : float
        Least value returned (default none: an empty interval gives −inf).

    Returns
    -------
    float array
        log((arctan hi − arctan lo)/π), at least ``floor``.
    """
    lo_f = np.where(np.isfinite(lo), lo, 0.0)
    hi_f = np.where(np.isfinite(hi), hi, 0.0)
    # Infinite ends are zeroed (NaN kept) so that 0·inf cannot warn; their rows use the
    # one-sided forms below.
    lo_i = np.where(np.isinf(lo), 0.0, lo)
    hi_i = np.where(np.isinf(hi), 0.0, hi)
    # arctan hi − arctan lo as one atan2 (accurate for narrow intervals), except where the
    # product or the difference would overflow: there the ends are far from 0, and with one
    # sign arctan(1/lo) − arctan(1/hi) is the same difference without cancellation.
    big = (np.abs(lo_i) > _BIG_END) | (np.abs(hi_i) > _BIG_END)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        inner = np.arctan2(hi_i - lo_i, 1.0 + lo_i * hi_i)
        if big.any():  # rare: the far form is computed only when some end needs it
            far_form = np.where(
                lo_i * hi_i > 0.0, np.arctan(1.0 / lo_i) - np.arctan(1.0 / hi_i),
                np.arctan(hi_i) - np.arctan(lo_i),
            )
            inner = np.where(big, far_form, inner)
    # One open end: P = 1/2 ± arctan(.)/π, written with atan2 so the far tail stays accurate.
    only_lo = np.arctan2(1.0, lo_f)  # P(X ≥ lo)·π
    only_hi = np.arctan2(1.0, -hi_f)  # P(X ≤ hi)·π
    prob_pi = np.where(
        np.isinf(lo) & np.isinf(hi), np.pi,
        np.where(np.isinf(hi), only_lo, np.where(np.isinf(lo), only_hi, inner)),
    )
    with np.errstate(divide="ignore"):
        log_p = np.log(np.maximum(prob_pi, 0.0)) - LOG_PI
    return np.asarray(np.maximum(log_p, floor), dtype=np.float64)


def log_normal_point(z: FloatArray, sigma: FloatArray) -> FloatArray:
    """log of a right point's density, −z²/2 − log √(2π) − log σ, at z = (x − θ − β)/σ.

    The right part of the mixture (module docstring) for a point; shared by the grid's kernels
    and the track record (:mod:`models.track_record`), which reads residuals against known
    truths. ``z`` is clipped by the caller where it may overflow when squared.
    """
    return np.asarray(-0.5 * z * z - LOG_SQRT_2PI - np.log(sigma), dtype=np.float64)


def log_cauchy_point(z: FloatArray, sigma_w: FloatArray) -> FloatArray:
    """log of a wrong point's density, −log π − log σ_w − log(1 + z²), at z = (x − centre)/σ_w.

    The wrong part of the mixture for a point, shared as :func:`log_normal_point` is.
    """
    return np.asarray(-LOG_PI - np.log(sigma_w) - np.log1p(z * z), dtype=np.float64)

