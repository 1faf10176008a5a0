"""Put claims on the working scale and attach their sources' credibility.

Working scale
-------------
* log    : θ = log(value). A claim's own standard deviation s becomes √log(1 + (s/x)²), the
           log-normal spread with the same coefficient of variation; a confidence interval
           [l, h] at level γ becomes (log h − log l) / (2 z_{(1+γ)/2}).
* linear : θ = (value − m) / S with m the median of the stated figures and S their typical
           magnitude (the median of the non-zero |figure|, else 1), which keeps the arithmetic
           in a safe floating-point range. Figures more than MAX_LINEAR_THETA typical
           magnitudes from m are refused.

Precision on the linear scale
-----------------------------
A grade's spreads (σ_k, and the wrong part's WRONG_SPREAD) are fractions of a *precision* P_i.
On the log scale P_i = 1 log unit, so "A: ±10 %" is relative, as it should be for counts. On
the linear scale the zero may be arbitrary (°C, a margin, a date), so P_i must be absolute:

1. the claim's own stated uncertainty s_i (its sd, or its confidence interval's sd), else
2. the request's ``precision``: the sd of a claim that states none, in the quantity's units
   (it then also serves as that claim's s_i), else
3. the figures' typical magnitude S -- relative, the former behaviour (with s_i = 0): 20 °C
   against 21 °C then reads differently from 293.15 K against 294.15 K.
   :func:`relative_precision` says when this fallback was used, so the answer can warn.

A right claim's spread is then √((σ_k h_i P_i)² + s_i²) and a wrong one's Cauchy scale
max(WRONG_SPREAD P_i, 2 σ_ik), both divided by S on the working scale; a learned bias β_k is a
multiple of P_i too. Track records measure linear-scale errors in the same P_i
(:mod:`models.track_record`), so learned and graded sources read alike, and a true value of 0
is as good as any other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from models.claims import HEDGES, Claim, Scale
from models.credibility import SourceProfile
from models.errors import InvalidParameterError, NumericalRangeError
from models.likelihood import KIND_CODES, KIND_POINT, EncodedClaims, FloatArray
from models.result import Warning
from models.wording import count_words

#: Spread of a wrong claim's Cauchy part in working units, at least twice a right claim's spread.
#: On the log scale, one unit is a factor e ≈ 2.7: half of all wrong figures are within a factor
#: 2.7 of the truth, a quarter are off by more than a factor 11.
WRONG_SPREAD = 1.0

#: A claim's own standard deviation is capped at this many working units (a factor e¹⁰⁰⁰ on the
#: log scale, a thousand typical magnitudes on the linear one): beyond it the claim says nothing
#: anyway, and the cap keeps squares and Cauchy scales finite.
MAX_OWN_SD = 1000.0

#: Farthest a figure may lie from the centre on the linear scale, in typical magnitudes. The
#: grid must resolve a precise source's spread (0.05 of the typical magnitude) at every figure;
#: beyond 1e12 the spacing of doubles there (2⁻¹³ ≈ 1e-4 at 1e12, 0.125 at 1e15) comes close
#: to it. The log scale needs no such bound (|log x| < 745).
MAX_LINEAR_THETA = 1e12

#: Smallest precision P_i on the linear scale, in typical magnitudes: a stated sd of 1e-124
#: beside figures near 1e37 would make every spread of the claim underflow. Below a millionth
#: of the figures' size a claim's own sd still counts in full (s_i); only the grade's and the
#: wrong part's spreads stop shrinking with it.
MIN_PRECISION = 1e-6


@dataclass(frozen=True, slots=True)
class WorkingScale:
    """The map between a quantity and its working scale θ."""

    scale: Scale
    centre: float = 0.0
    unit: float = 1.0

    def forward(self, x: float) -> float:
        if self.scale == "log":
            return math.log(x)
        return (x - self.centre) / self.unit

    def backward(self, theta: float) -> float:
        """Back to the quantity's units; raises when the result is not a finite float."""
        try:
            x = math.exp(theta) if self.scale == "log" else self.centre + self.unit * theta
        except OverflowError:
            x = math.inf
        if not math.isfinite(x):
            raise NumericalRangeError(
                "The reconciled range exceeds the largest representable number; "
                "restate the figures in a larger unit (e.g. thousands).",
                field="claims",
            )
        return x

    def sd_forward(self, value: float, sd: float, cap: float = math.inf) -> float:
        """A standard deviation on the working scale, at most ``cap``."""
        if self.scale == "log":
            ratio = sd / value
            # log1p(r²) = 2 log r + log1p(r⁻²) keeps r² from overflowing for huge sd.
            var = math.log1p(ratio * ratio) if ratio < 1e150 else 2.0 * math.log(ratio)
            return min(math.sqrt(var), cap)
        return min(sd / self.unit, cap)


def working_scale(claims: Sequence[Claim], scale: Scale) -> WorkingScale:
    """The working scale for ``claims`` (see module docstring)."""
    if scale == "log":
        return WorkingScale("log")
    figures = np.array([x for c in claims for x in (c.value, c.low, c.high) if x is not None])
    with np.errstate(over="ignore", invalid="ignore"):
        # Figures near ±1.8e308 overflow the span; that case is refused just below.
        centre = float(np.median(figures))
        # Zeros say nothing about the quantity's size ("0 to 12,000 casualties"): the typical
        # magnitude is that of the figures that are not zero.
        nonzero = np.abs(figures[figures != 0.0])
        magnitude = float(np.median(nonzero)) if nonzero.size else 0.0
        span = float(figures.max() - figures.min())
    unit = magnitude if magnitude > 0 else (span if span > 0 else 1.0)
    if not (math.isfinite(unit) and math.isfinite(centre) and math.isfinite(span)):
        raise NumericalRangeError(
            "The figures are too large to compare on the linear scale; restate them in a larger "
            "unit.",
            field="claims",
        )
    with np.errstate(over="ignore"):
        farthest = float(np.max(np.abs(figures - centre)) / unit)
    if not farthest <= MAX_LINEAR_THETA:
        raise NumericalRangeError(
            f"On the linear scale the figures lie up to {farthest:.3g} times their typical "
            f"magnitude ({unit:.3g}) apart, more than the {MAX_LINEAR_THETA:.0e} the model can "
            "compare; drop the stray figure or use the log scale for positive quantities.",
            field="claims",
        )
    return WorkingScale("linear", centre, unit)


def claim_sd(claim: Claim, ws: WorkingScale, cap: float = MAX_OWN_SD) -> float:
    """The claim's own standard deviation on the working scale (0 when it states none).

    The robust model caps it at ``MAX_OWN_SD``; pooling passes ``cap=inf`` and refuses
    variances that floating point cannot hold instead of altering them.
    """
    if claim.sd is not None and claim.value is not None:
        return ws.sd_forward(claim.value, claim.sd, cap)
    if claim.ci_low is not None and claim.ci_high is not None:
        z = float(ndtri(0.5 + claim.ci_level / 2.0))
        width = ws.forward(claim.ci_high) - ws.forward(claim.ci_low)
        # A level so small that z rounds to 0 makes the interval say nothing: the cap.
        return min(width / (2.0 * z), cap) if math.isfinite(width) and z > 0.0 else cap
    return 0.0


def precision_units(
    claims: Sequence[Claim], ws: WorkingScale, precision: float | None = None
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Each claim's precision P_i and own sd s_i on the working scale (see the module
    docstring), and whether P_i fell back to the typical magnitude S.

    Parameters
    ----------
    claims : sequence of Claim
    ws : WorkingScale
    precision : float or None
        The request's absolute precision, in the quantity's units (> 0): the sd of the claims
        that state no uncertainty of their own.

    Returns
    -------
    p : (n,) float
        P_i / S on the linear scale; 1 on the log scale.
    own : (n,) float
        s_i / S (the request's precision for claims without their own); 0 when none.
    relative : (n,) bool
        True where neither the claim nor the request gave an absolute precision, so P_i = S.
    """
    n = len(claims)
    own = np.array([claim_sd(c, ws) for c in claims], dtype=np.float64)
    if ws.scale == "log":
        return np.ones(n), own, np.zeros(n, dtype=bool)
    if precision is not None:
        own = np.where(own > 0.0, own, min(precision / ws.unit, MAX_OWN_SD))
    relative = own <= 0.0
    return np.where(relative, 1.0, np.maximum(own, MIN_PRECISION)), own, relative


def relative_precision(
    claims: Sequence[Claim], ws: WorkingScale, precision: float | None = None
) -> tuple[int, ...]:
    """Indices of the linear-scale claims whose spread had to be read relative to the figures'
    typical magnitude (no sd or interval of their own, no request ``precision``)."""
    return tuple(int(i) for i in np.flatnonzero(precision_units(claims, ws, precision)[2]))


#: Units whose zero is arbitrary (an interval scale): a spread relative to the figures' size,
#: or a ratio of two figures, means nothing for them. Compared in lower case.
INTERVAL_SCALE_UNITS: Final = frozenset({
    "°c", "°f", "c", "f", "degc", "degf", "deg c", "deg f", "celsius", "fahrenheit",
    "degrees celsius", "degrees fahrenheit", "℃", "℉",
})


def check_precision(precision: float | None) -> float | None:
    """The request's precision, or a refusal naming ``precision``."""
    if precision is None:
        return None
    if isinstance(precision, bool) or not (math.isfinite(precision) and precision > 0):
        raise InvalidParameterError(
            f"Invalid precision {precision!r}; must be a positive number in the quantity's "
            "units.", "precision")
    return float(precision)


def precision_warnings(
    claims: Sequence[Claim], ws: WorkingScale, precision: float | None, unit: str | None
) -> list[Warning]:
    """An ``interval_scale`` warning when the unit's zero is arbitrary (°C, °F) and the answer
    reads spreads relative to the figures' size: on the log scale, or on the linear scale for
    a claim with no sd or interval of its own and no request ``precision``."""
    check_precision(precision)
    if unit is None or unit.strip().lower() not in INTERVAL_SCALE_UNITS:
        return []
    if ws.scale == "log":
        return [Warning(
            "interval_scale",
            f"The zero of {unit.strip()} is arbitrary, so ratios of these figures mean "
            "nothing; use the linear scale and give each claim its sd or the request a "
            "precision.",
            tuple(range(len(claims))),
        )]
    relative = relative_precision(claims, ws, precision)
    if not relative:
        return []
    k, n = len(relative), len(claims)
    if n == 1:
        which, spread, each = "the claim states no uncertainty", "its spread was", "the claim"
    elif k == n:
        which, spread, each = ("no claim states its uncertainty", "their spreads were",
                               "each claim")
    else:
        verb = "states" if k == 1 else "state"
        which = f"{count_words(k)} of the {count_words(n)} claims {verb} no uncertainty"
        spread, each = ("its spread was" if k == 1 else "their spreads were"), "each claim"
    return [Warning(
        "interval_scale",
        f"The zero of {unit.strip()} is arbitrary, but {which}, so {spread} read relative to "
        f"the figures' size; give {each} its sd or the request a precision.",
        relative,
    )]


def _given(x: float | None) -> float:
    if x is None:  # validate_claim has run; reaching this is a bug, not bad input
        raise TypeError("claim figure missing after validation")
    return x


def encode(
    claims: Sequence[Claim], profiles: Mapping[str, SourceProfile], ws: WorkingScale,
    precision: float | None = None,
) -> EncodedClaims:
    """Arrays of the claims' likelihood parameters on the working scale.

    Parameters
    ----------
    claims : sequence of Claim
        Validated claims (every source id present in ``profiles``).
    profiles : mapping of source id to SourceProfile
    ws : WorkingScale
    precision : float or None
        Linear scale: the request's absolute precision (see the module docstring).

    Returns
    -------
    EncodedClaims
    """
    n = len(claims)
    p_unit, own_sd, _ = precision_units(claims, ws, precision)
    kind = np.empty(n, dtype=np.int64)
    a = np.empty(n)
    b = np.empty(n)
    owner: list[int] = []
    pi: list[float] = []
    c: list[float] = []
    sigma: list[float] = []
    bias: list[float] = []
    spread_factor = np.ones(n)
    wrong_factor = np.ones(n)
    for i, claim in enumerate(claims):
        code = KIND_CODES[claim.kind]
        if claim.kind == "range":
            lo, hi = ws.forward(_given(claim.low)), ws.forward(_given(claim.high))
            if hi - lo <= 1e-12 * max(1.0, abs(lo)):
                # A zero-width range is a point figure; the interval kernel would vanish.
                code, lo, hi = KIND_POINT, lo, lo
        else:
            x = ws.forward(_given(claim.value))
            lo, hi = (x, x) if code == KIND_POINT else (
                (x, math.inf) if claim.kind == "at_least" else (-math.inf, x)
            )
        kind[i] = code
        a[i], b[i] = lo, hi
        hedge = HEDGES[claim.hedge]
        spread_factor[i] = hedge.spread_factor
        wrong_factor[i] = hedge.wrong_factor
        for comp in profiles[claim.source].components:
            owner.append(i)
            pi.append(comp.weight)
            c.append(comp.c)
            sigma.append(comp.sigma)
            bias.append(comp.bias)
    own = np.array(owner, dtype=np.int64)
    c_arr = np.array(c)
    # The hedge multiplies the odds of being wrong: (1 − c')/c' = f (1 − c)/c.
    # In log space, so a credibility as small as 1e-300 (legal: anything in (0, 1)) cannot
    # overflow the odds.
    log_odds = np.log(wrong_factor[own]) + np.log1p(-c_arr) - np.log(c_arr)
    log_1p_odds = np.logaddexp(0.0, log_odds)
    p_row = p_unit[own]
    sig: FloatArray = np.sqrt((np.array(sigma) * spread_factor[own] * p_row) ** 2
                              + own_sd[own] ** 2)
    starts = np.flatnonzero(np.append(True, own[1:] != own[:-1])).astype(np.int64)
    return EncodedClaims(
        kind=kind, a=a, b=b, owner=own, starts=starts,
        log_pi=np.log(np.array(pi)),
        log_c=-log_1p_odds,
        log_1mc=log_odds - log_1p_odds,
        sigma=sig,
        sigma_w=np.maximum(WRONG_SPREAD * p_row, 2.0 * sig),
        bias=np.array(bias) * p_row,
    )
