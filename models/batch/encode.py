"""Encoding of a claim table on the working scale, with its prior and its atoms.

:func:`resolve_scale` picks the working scale (log when every figure is positive);
:func:`encode` turns a :class:`~models.batch.ClaimTable` into the
:class:`~models.batch.state.Encoded` arrays that the EM reads: the figure y_i (the log of the
quantity, or (x − centre_q)/unit_q on the linear scale), the interval [a_i, b_i] of a bound or
range, each point's rounding window [l_i, u_i], the evidence weights t_i, the weakly
informative prior θ_q ~ N(m_q, s_q²) and the atoms (:mod:`models.batch.atoms`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Final

import numpy as np

from models.batch.atoms import find_atoms, sorted_points
from models.batch.common import (
    HEDGE_NONE,
    HEDGE_SPREAD,
    HEDGE_WRONG,
    KIND_AT_LEAST,
    KIND_AT_MOST,
    KIND_POINT,
    KIND_RANGE,
    MIN_WINDOW,
    FloatArray,
    IntArray,
    Scale,
)
from models.batch.kernels import log_norm_pdf, log_normal_interval
from models.batch.state import Encoded
from models.batch.table import ClaimTable, infer_resolution
from models.errors import InvalidClaimError, InvalidParameterError

#: A range at most this wide, relative to max(1, |its low end|) on the working scale, is a
#: point (the single-question model's threshold, :func:`models.encode.encode`).
ZERO_WIDTH: Final = 1e-12
#: Farthest a number may lie from its question's centre on the linear scale, in the question's
#: typical magnitudes (the single-question model refuses figures beyond it,
#: :data:`models.encode.MAX_LINEAR_THETA`; the batch holds them there, :func:`_held`).
MAX_LINEAR_THETA: Final = 1e12


def resolve_scale(table: ClaimTable, scale: str) -> Scale:
    """The working scale: ``scale`` itself, or for ``auto`` log when every figure is positive.

    Parameters
    ----------
    table : ClaimTable
    scale : {"auto", "log", "linear"}

    Returns
    -------
    {"log", "linear"}

    Raises
    ------
    InvalidParameterError
        For another ``scale``.
    InvalidClaimError
        For ``log`` when a figure, bound or range end is zero or negative.
    """
    if scale not in ("auto", "log", "linear"):
        raise InvalidParameterError(
            f"Invalid scale {scale!r}; must be one of auto, log, linear.", "scale"
        )
    if scale == "linear":
        return "linear"
    for name in ("value", "low", "high"):
        column: FloatArray = getattr(table, name)
        bad = np.flatnonzero(column <= 0)
        if bad.size:
            if scale == "log":
                row = int(bad[0])
                raise InvalidClaimError(
                    f"Invalid {name} {float(column[row])!r} on the log scale; values must be "
                    "positive (use scale 'linear' for quantities that can be zero or "
                    "negative).",
                    f"{name}.{row}",
                )
            return "linear"
    return "log"


def archive_scale(parts: Iterable[Scale]) -> Scale:
    """The working scale of an archive from those of its parts (:func:`resolve_scale` each).

    The log scale needs every figure positive, so the archive is on it only when every part
    is; parts resolved with an explicit scale all agree already.
    """
    return "log" if all(scale == "log" for scale in parts) else "linear"


def log1p_square(sd: FloatArray, value: FloatArray) -> FloatArray:
    """log(1 + (sd/value)²), the log-scale variance of a figure with its own sd, as
    logaddexp(0, 2 (log sd − log value)): no overflow when the figure is tiny beside its sd
    (value 5e-324 with sd 1 makes sd/value itself overflow)."""
    # Rows without a figure (ranges, bounds) give nan here and are masked by the caller.
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(np.abs(sd)) - np.log(np.abs(value))
        return np.asarray(np.logaddexp(0.0, 2.0 * log_ratio), dtype=np.float64)


def encode(table: ClaimTable, scale: Scale, rounding: str, prior_scale: float) -> Encoded:
    """The claims on the working scale, with the prior of every θ_q and the atoms.

    On the log scale y_i = log x_i; on the linear scale y_i = (x_i − centre_q)/unit_q with the
    median of the question's numbers as centre and the median of their magnitudes as unit.
    A point's rounding window is [x − step/2, x + step/2] mapped the same way and widened to
    at least ``MIN_WINDOW``·max(1, |y|); its variance as a uniform rounding error is w²/12. The
    prior of θ_q is N(m_q, s_q²) with m_q the mid-range of the question's finite numbers and
    s_q = max(τ₀, their span). A claim's own sd becomes the variance log(1 + (sd/x)²) on the
    log scale, (sd/unit)² on the linear one.

    Parameters
    ----------
    table : ClaimTable
    scale : {"log", "linear"}
        From :func:`resolve_scale`.
    rounding : {"infer", "none"}
        ``infer``: steps from the ``resolution`` column, else from the digits
        (:func:`~models.batch.infer_resolution`); ``none``: every window is the narrowest.
    prior_scale : float
        τ₀.

    Returns
    -------
    Encoded

    Raises
    ------
    InvalidClaimError
        When the figures are too large for the working scale.
    """
    n, n_q = table.n, table.n_questions
    q = table.question
    kind = table.kind
    is_point = kind == KIND_POINT
    figure = np.where(is_point | (kind == KIND_AT_LEAST) | (kind == KIND_AT_MOST),
                      table.value, np.nan)
    raw_lo = np.where(kind == KIND_RANGE, table.low,
                      np.where(kind == KIND_AT_MOST, -np.inf, figure))
    raw_hi = np.where(kind == KIND_RANGE, table.high,
                      np.where(kind == KIND_AT_LEAST, np.inf, figure))
    if rounding == "infer":
        # The estimator has read them already (BatchEstimator.prepare): not again.
        missing = np.isnan(table.resolution)
        step = (np.where(missing, infer_resolution(np.where(is_point, table.value, 1.0)),
                         table.resolution) if missing.any() else table.resolution)
    else:
        step = np.zeros(n)
    all_points = bool(is_point.all())
    no_sd = bool(np.isnan(table.sd).all())
    if scale == "log" and all_points:
        # The common case, kept lean: one log per figure and one per window end.
        centre = np.zeros(n_q)
        unit = np.ones(n_q)
        y = np.log(table.value)
        a = b = y
        win_lo, win_hi = log_windows(y, table.value, step)
        own = np.zeros(n) if no_sd else np.where(
            np.isnan(table.sd), 0.0, log1p_square(np.nan_to_num(table.sd), table.value))
    elif scale == "log":
        centre = np.zeros(n_q)
        unit = np.ones(n_q)
        with np.errstate(divide="ignore"):
            a = np.log(np.where(np.isneginf(raw_lo), 1.0, raw_lo))
            a = np.where(np.isneginf(raw_lo), -np.inf, a)
            b = np.log(np.where(np.isposinf(raw_hi), 1.0, raw_hi))
            b = np.where(np.isposinf(raw_hi), np.inf, b)
        y = np.where(is_point, a, np.nan)
        win_lo, win_hi = log_windows(y, table.value, step)
        with np.errstate(over="ignore"):
            own = np.where(np.isnan(table.sd), 0.0,
                           log1p_square(np.nan_to_num(table.sd), table.value))
    else:
        centre, unit = linear_frame(table)
        cq, uq = centre[q], unit[q]
        # Each term divided first: x − centre overflows for figures of opposite signs near
        # the largest float.
        shift = cq / uq
        with np.errstate(over="ignore", invalid="ignore"):
            a = _held(raw_lo / uq - shift, raw_lo)
            b = _held(raw_hi / uq - shift, raw_hi)
            y = np.where(is_point, a, np.nan)
            half = 0.5 * step / uq
            win_lo = np.clip(y - half, -MAX_LINEAR_THETA, MAX_LINEAR_THETA)
            win_hi = np.clip(y + half, -MAX_LINEAR_THETA, MAX_LINEAR_THETA)
        own = np.where(np.isnan(table.sd), 0.0, (np.nan_to_num(table.sd) / uq) ** 2)
    # The narrowest window still has a width, so that equal figures agree and log w exists.
    if all_points:
        half_floor = 0.5 * MIN_WINDOW * np.maximum(1.0, np.abs(y))
        win_lo = np.minimum(win_lo, y - half_floor)
        win_hi = np.maximum(win_hi, y + half_floor)
        finite = bool(np.isfinite(y).all() and np.isfinite(win_hi - win_lo).all())
    else:
        half_floor = 0.5 * MIN_WINDOW * np.maximum(1.0, np.abs(np.nan_to_num(y)))
        win_lo = np.where(is_point, np.minimum(win_lo, y - half_floor), np.nan)
        win_hi = np.where(is_point, np.maximum(win_hi, y + half_floor), np.nan)
        finite = bool(np.isfinite(np.where(is_point, y, 0.0)).all() and np.isfinite(
            np.where(is_point, win_hi - win_lo, 0.0)).all())
    if not finite:
        raise InvalidClaimError(
            "A figure is too large for the working scale; restate the figures in a larger "
            "unit.",
            "value",
        )
    t = evidence_weights(table)
    point_order = sorted_points(q, y, is_point)
    # Prior of θ_q: mid-range of the question's finite figures, sd max(τ₀, span).
    if all_points:
        # Figures sorted within each question: the ends of each run are its min and max.
        counts = np.bincount(q, minlength=n_q)
        last = np.cumsum(counts) - 1
        lo_q = y[point_order[last - counts + 1]]
        hi_q = y[point_order[last]]
    else:
        ends = np.concatenate([a, b])
        groups = np.concatenate([q, q])
        finite_end = np.isfinite(ends)
        hi_q = np.full(n_q, -np.inf)
        lo_q = np.full(n_q, np.inf)
        np.maximum.at(hi_q, groups[finite_end], ends[finite_end])
        np.minimum.at(lo_q, groups[finite_end], ends[finite_end])
    prior_centre = 0.5 * (lo_q + hi_q)
    prior_sd = np.maximum(prior_scale, hi_q - lo_q)
    plain = bool(np.all(table.hedge == HEDGE_NONE) and no_sd)
    atoms = find_atoms(q, table.source, table.origin, y, win_lo, win_hi, point_order, n_q)
    with np.errstate(invalid="ignore"):
        log_window = np.where(is_point, np.log(win_hi - win_lo), 0.0)
    return Encoded(
        q=q, s=table.source, kind=kind, y=y, a=a, b=b,
        spread_factor=HEDGE_SPREAD[table.hedge], own_var=own,
        log_wrong_factor=np.log(HEDGE_WRONG[table.hedge]), t=t,
        member=atoms.member, all_points=bool(is_point.all()), plain=plain,
        n_questions=n_q, n_sources=table.n_sources,
        prior_centre=prior_centre, prior_sd=prior_sd, centre=centre, unit=unit, scale=scale,
        atom_q=atoms.q, atom_v=atoms.v, atom_lo=atoms.lo, atom_hi=atoms.hi,
        pair_atom=atoms.pair_atom, pair_claim=atoms.pair_claim,
        pair_member=atoms.pair_member, log_window=log_window,
        exact_var=np.where(is_point, (win_hi - win_lo) ** 2 / 12.0, 0.0),
        in_atom_question=np.isin(q, atoms.q),
        log_prior_pred=log_prior_predictive(kind, y, a, b, prior_centre[q], prior_sd[q]),
        point_order=point_order,
    )


def _held(theta: FloatArray, raw: FloatArray) -> FloatArray:
    """θ on the linear scale held within ±MAX_LINEAR_THETA where the number is finite.

    A figure more than 10¹² of its question's typical magnitudes from the centre (possible
    only when the question mixes figures like 5e-324 and 1e308) would overflow the kernels'
    squares and sums; held there it is still a wild figure, and the open end of a bound
    stays infinite.
    """
    return np.asarray(np.where(np.isinf(raw), theta,
                               np.clip(theta, -MAX_LINEAR_THETA, MAX_LINEAR_THETA)),
                      dtype=np.float64)


def log_windows(
    y: FloatArray, value: FloatArray, step: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Ends of each figure's rounding window [x − step/2, x + step/2] on the log scale.

    l = y + log1p(−min(r, 1 − 10⁻¹⁶)) and u = y + log1p(r) with r = step/(2x): the lower end
    stays finite (at most 36.8 log-units below y) when the step reaches past zero, and where
    r overflows (a stated resolution 10³⁰⁰ times the figure) u = log(step/2), to which
    log(x + step/2) rounds there.

    Parameters
    ----------
    y : (n,) float
        log x (NaN where no figure).
    value : (n,) float
        The figures x > 0.
    step : (n,) float
        Rounding steps ≥ 0.

    Returns
    -------
    win_lo, win_hi : (n,) float
    """
    half = 0.5 * step
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = half / value
        win_lo = y + np.log1p(-np.minimum(ratio, 1.0 - 1e-16))
        win_hi = y + np.log1p(ratio)
        if not np.isfinite(ratio[~np.isnan(ratio)]).all():
            win_hi = np.where(np.isposinf(ratio), np.log(half), win_hi)
    return np.asarray(win_lo, dtype=np.float64), np.asarray(win_hi, dtype=np.float64)


def linear_frame(table: ClaimTable) -> tuple[FloatArray, FloatArray]:
    """Centre and unit of every question on the linear scale.

    The centre is the median of the question's numbers (figures, bounds, range ends), the
    unit the median of their magnitudes (else their span, else 1).

    Parameters
    ----------
    table : ClaimTable

    Returns
    -------
    centre, unit : (Q,) float

    Raises
    ------
    InvalidClaimError
        When the figures are too large to compare on the linear scale.
    """
    q, n_q = table.question, table.n_questions
    figure = np.where(table.kind == KIND_RANGE, np.nan, table.value)
    ends = np.concatenate([figure, table.low, table.high])
    groups = np.concatenate([q, q, q])
    finite = ~np.isnan(ends)
    centre = segment_median(ends[finite], groups[finite], n_q)
    magnitude = segment_median(np.abs(ends[finite]), groups[finite], n_q)
    hi_q = np.full(n_q, -np.inf)
    lo_q = np.full(n_q, np.inf)
    np.maximum.at(hi_q, groups[finite], ends[finite])
    np.minimum.at(lo_q, groups[finite], ends[finite])
    with np.errstate(over="ignore"):
        span = hi_q - lo_q
    unit = np.where(magnitude > 0, magnitude, np.where(span > 0, span, 1.0))
    # Figures near the float limit overflow a median of two (1.8e308 + 1.8e308) or a span:
    # halve before adding, so one such question is held rather than refused with the archive.
    with np.errstate(invalid="ignore"):
        centre = np.where(np.isfinite(centre), centre, 0.5 * lo_q + 0.5 * hi_q)
        unit = np.where(np.isfinite(unit) & (unit > 0), unit,
                        np.maximum(np.abs(0.5 * lo_q), np.abs(0.5 * hi_q)))
    if not (np.isfinite(unit).all() and np.isfinite(centre).all()):
        raise InvalidClaimError(
            "The figures are too large to compare on the linear scale; restate them "
            "in a larger unit.",
            "value",
        )
    return np.asarray(centre, dtype=np.float64), np.asarray(unit, dtype=np.float64)


def collapse_ranges(table: ClaimTable, scale: Scale) -> ClaimTable:
    """The table with every zero-width range read as the point figure it states.

    A range [a, b] with b − a ≤ :data:`ZERO_WIDTH` · max(1, |a|) on the working scale
    ("1.0 to 1.0", "5e5 to 5e5") becomes a point at its low end, as in the single-question
    model (:func:`models.encode.encode`): its interval kernel Φ((b − θ − β)/σ) −
    Φ((a − θ − β)/σ) would vanish, floored at e^−700 for every θ, a constant likelihood that
    carries no information yet counted towards the flat prior's propriety
    (:func:`models.batch.panels.flat_prior`), so that a question resting on it had an
    improper posterior and infinite quantiles. As a point it gets a rounding window from
    its digits (or its ``resolution``) and may join an atom like any stated figure.

    Parameters
    ----------
    table : ClaimTable
    scale : {"log", "linear"}

    Returns
    -------
    ClaimTable
        ``table`` itself when no range is degenerate.
    """
    rows = np.flatnonzero(table.kind == KIND_RANGE)
    if rows.size == 0:
        return table
    lo, hi = table.low[rows], table.high[rows]
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if scale == "log":
            a, b = np.log(lo), np.log(hi)
        else:
            centre, unit = linear_frame(table)
            qr = table.question[rows]
            a = (lo - centre[qr]) / unit[qr]
            b = (hi - centre[qr]) / unit[qr]
        narrow = (b - a) <= ZERO_WIDTH * np.maximum(1.0, np.abs(a))
    if not narrow.any():
        return table
    take = rows[narrow]
    kind = table.kind.copy()
    kind[take] = KIND_POINT
    value = table.value.copy()
    value[take] = table.low[take]
    low = table.low.copy()
    low[take] = np.nan
    high = table.high.copy()
    high[take] = np.nan
    return replace(table, kind=kind, value=value, low=low, high=high)


def segment_median(values: FloatArray, groups: IntArray, n_groups: int) -> FloatArray:
    """Median of ``values`` within each group (NaN for an empty group).

    Parameters
    ----------
    values : (m,) float
    groups : (m,) int
        Group of each value, 0..n_groups−1.
    n_groups : int

    Returns
    -------
    (n_groups,) float
        The middle value, or the mean of the two middle values, of each group.
    """
    order = np.lexsort((values, groups))
    g = groups[order]
    v = values[order]
    counts = np.bincount(g, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    out = np.full(n_groups, np.nan)
    has = counts > 0
    lo = starts + (counts - 1) // 2
    hi = starts + counts // 2
    # Halves first: the sum of two figures near the largest float would overflow.
    out[has] = 0.5 * v[lo[has]] + 0.5 * v[hi[has]]
    return out


def evidence_weights(table: ClaimTable) -> FloatArray:
    """t_i = 1/k for the k claims sharing an evidence unit on one question.

    The evidence unit of a claim is its origin when given, else its source, so that echoes
    of one origin count once.

    Parameters
    ----------
    table : ClaimTable

    Returns
    -------
    (n,) float
        t_i in (0, 1].
    """
    # Unit = origin when given, else the source; offset sources past the origins' codes.
    n_origins = int(table.origin.max()) + 1 if table.origin.size else 0
    unit = np.where(table.origin >= 0, table.origin, n_origins + table.source)
    key = table.question.astype(np.int64) * (n_origins + table.n_sources) + unit
    ordered = np.sort(key)
    if not (ordered[1:] == ordered[:-1]).any():
        return np.ones(table.n)  # the common case: one claim per unit and question
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return np.asarray(1.0 / counts[inverse], dtype=np.float64)


def log_prior_predictive(
    kind: IntArray, y: FloatArray, a: FloatArray, b: FloatArray, centre: FloatArray,
    sd: FloatArray,
) -> FloatArray:
    """log density (point) or probability (bound, range) of a claim with θ ~ N(centre, sd²).

    This is log D_i, the claim's predictive density when θ follows the prior: log N(y; m, s²)
    for a point (the kernels' own spread is negligible next to s ≥ τ₀), and
    log(Φ((b − m)/s) − Φ((a − m)/s)) for a bound or range.

    Parameters
    ----------
    kind : (n,) int
    y, a, b : (n,) float
        Figure (NaN unless a point) and interval ends of each claim.
    centre, sd : (n,) float
        m and s of each claim's question.

    Returns
    -------
    (n,) float
    """
    point = kind == KIND_POINT
    out = np.where(point, log_norm_pdf(np.where(point, y, 0.0), centre, sd), 0.0)
    if not point.all():
        other = np.flatnonzero(~point)
        out[other] = log_normal_interval((a[other] - centre[other]) / sd[other],
                                          (b[other] - centre[other]) / sd[other])
    return np.asarray(out, dtype=np.float64)
