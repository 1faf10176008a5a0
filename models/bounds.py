"""Ranges from bounds alone: set by the bounds and their grades, never by the prior.

Symbols
-------
θ       : the true value on the working scale.
a_i     : the figure of bound i ("at least a_i" or "at most a_i") on the working scale.
σ_i     : its softness, the spread of a right claim (the source's grade × the hedge).
c_i     : the chance it is right (grade and hedge), 1 − c_i the chance it is wrong.
R_i(θ)  : bound i's *right* likelihood scaled to 1 on its open side:
          Φ((θ − a_i)/σ_i) for "at least", Φ((a_i − θ)/σ_i) for "at most" (mixed over the
          credibility hypotheses of an unjudged source, as in :mod:`models.likelihood`).

Notes
-----
Why. A bound's likelihood is a step: it says nothing about how far beyond it the truth lies.
When every claim the answer keeps is a bound, the full posterior beyond the bounds is the prior's
tail (weighted by the chance that a bound is wrong), so its equal-tailed range is set by the
prior's width, not by the evidence: two B-graded bounds "at least 2,000" and "at most 3,000" gave
a 90 % range of 457 to 13,132. The rule below replaces that range.

Rule. Only the bounds the answer keeps enter (a bound judged probably wrong is left out, as in the
findings). Then, on the working scale:

* Bounds on both sides: p(θ) ∝ Π_i R_i(θ), flat between them; the value is its median and the
  level-q range its equal-tailed quantiles. Softness widens the range beyond the figures: a
  lower end A-graded bound moves the range's end by about 0.1 on the log scale, an E-graded one by
  about 0.8.
* Bounds on one side only: there is no central value (``None``), and the side with no bound is
  open (``None``). For lower bounds the level-q range starts at t = max_i t_i with
  R_i(t_i) = (1 − q)/2: a right "at least a_i" means the source's perceived value
  x̃ = θ + ε ≥ a_i, so θ < t needs ε > a_i − t, of probability Φ((t − a_i)/σ_i) = R_i(t).
  Upper bounds mirror this.
* The chance of being wrong. Bounds alone cannot say how far wrong a wrong bound is, so a bound's
  chance of being wrong does not stretch the range towards the prior's tail. It acts twice:
  through the model's judgement of which bounds to keep (a bound the evidence makes probably
  wrong drops out, and its side opens), and as the stated probability that the range's
  premises hold, P(all bounds it rests on are right) = Π_i c_i (``p_hold``, by the grades
  and hedges, before seeing the data): every kept bound when both sides are bounded, only
  those setting the end when one side is. Echoes of one origin count once, as everywhere:
  each enters the density and ``p_hold`` with the power 1/k_u.

The rule is used only when no kept claim states a figure (a point or a stated range): a figure
anchors the posterior, whose range is then the evidence's own.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.signal import fftconvolve
from scipy.special import ndtr

from models.likelihood import (
    KIND_AT_LEAST,
    KIND_AT_MOST,
    EncodedClaims,
    FloatArray,
    IntArray,
    log_right_normalised,
)

__all__ = ["BoundsJudgement", "BoundsRange", "bounds_range", "is_bounds_only", "judge_bounds"]

#: The grid reaches this many softnesses beyond the outermost bound: Φ(−12) ≈ 2e-33, so the
#: steps are flat at both ends of it.
REACH = 12.0
#: Grid points: the quantiles interpolate a CDF whose density is smooth on the scale σ; with
#: 4,097 points over (span + 24 σ) the step stays below σ/100 unless bounds are more than
#: about 40 softnesses apart, where the error is still under 1 % of the gap.
GRID_POINTS = 4097


@dataclass(frozen=True, slots=True)
class BoundsRange:
    """The answer of :func:`bounds_range`, on the working scale.

    Attributes
    ----------
    median : float or None
        The centre when bounds close both sides; None when only one side is bounded.
    quantiles : dict of float to (float or None, float or None)
        Per level, the range's ends; None for an open side.
    p_hold : float
        Π_i c_i over the bounds the range rests on: the chance, by their grades and hedges,
        that all of them hold.
    claims : (k,) int
        The bounds the range rests on: every kept bound when both sides are bounded, else
        those that set the range's end at some level.
    """

    median: float | None
    quantiles: dict[float, tuple[float | None, float | None]]
    p_hold: float
    claims: IntArray


def is_bounds_only(enc: EncodedClaims, kept: IntArray) -> bool:
    """True when every kept claim is an "at least" or "at most" bound."""
    kinds = enc.kind[kept]
    return bool(kinds.size) and bool(((kinds == KIND_AT_LEAST) | (kinds == KIND_AT_MOST)).all())


@dataclass(frozen=True, slots=True)
class BoundsJudgement:
    """Which bounds hold when every claim is a bound (:func:`judge_bounds`).

    Attributes
    ----------
    wrong : (n,) bool
        Bounds left out: each conflicts with a more credible bound that is kept.
    p_wrong : (n,) float
        For a bound left out, the chance it is the wrong one of its conflict,
        (1 − c_i) c_j / ((1 − c_i) c_j + c_i (1 − c_j)) against the kept bound j; for a kept
        bound, its prior chance 1 − c_i (bounds that agree cannot tell more); ½ for the two of
        an even split.
    split : bool
        Two equally credible bounds conflict: the evidence splits and no range is closed.
    """

    wrong: NDArray[np.bool_]
    p_wrong: FloatArray
    split: bool


def chance_right(enc: EncodedClaims) -> FloatArray:
    """c_i: each claim's prior chance of being right, after its grade and hedge."""
    return np.asarray(np.exp(enc.per_claim_logsumexp(enc.log_pi + enc.log_c)), dtype=np.float64)


def judge_bounds(enc: EncodedClaims) -> BoundsJudgement:
    """Which of a set of bounds hold, without the prior (every claim must be a bound).

    The model's posterior would decide through the prior's tail beyond the bounds (a wider
    prior makes a tight pair "at least 1,000", "at most 1,020" look wrong). Here a lower bound
    a_i and an upper bound b_j conflict when they cross (a_i > b_j): both cannot be stated as
    true, and no range "between" them can be printed, even where their softness would let
    them meet. Bounds are kept most credible first (c_i, then the figure) unless they conflict
    with one already kept. Bounds on one side never conflict.
    """
    c = chance_right(enc)
    lower = enc.kind == KIND_AT_LEAST
    figure = np.where(lower, enc.a, enc.b)
    order = sorted(range(enc.n), key=lambda i: (-c[i], bool(lower[i]), float(figure[i])))
    kept: list[int] = []
    wrong = np.zeros(enc.n, dtype=bool)
    p_wrong = 1.0 - c
    split = False

    def conflict(i: int, j: int) -> bool:
        lo, hi = (i, j) if lower[i] else (j, i)
        return bool(lower[lo] != lower[hi] and figure[lo] > figure[hi])

    for i in order:
        rivals = [j for j in kept if conflict(i, j)]
        if not rivals:
            kept.append(i)
            continue
        j = max(rivals, key=lambda k: c[k])
        wrong[i] = True
        if c[i] == c[j]:
            split = True
            p_wrong[i] = p_wrong[j] = 0.5
        else:
            odds = (1.0 - c[i]) * c[j]
            p_wrong[i] = odds / (odds + c[i] * (1.0 - c[j]))
    if split:
        # An even split: no side is judged wrong, and the range stays open on both.
        wrong[:] = False
    return BoundsJudgement(wrong, np.asarray(p_wrong, dtype=np.float64), split)


def _edges(enc: EncodedClaims) -> tuple[float, float, float]:
    """Lowest and highest bound figure (with any bias) and the largest softness."""
    figures = np.where(enc.kind == KIND_AT_LEAST, enc.a, enc.b)[enc.owner] - enc.bias
    return float(figures.min()), float(figures.max()), float(enc.sigma.max())


def _grid(enc: EncodedClaims) -> FloatArray:
    low, high, sigma = _edges(enc)
    return np.linspace(low - REACH * sigma, high + REACH * sigma, GRID_POINTS)


def _one_sided_ends(enc: EncodedClaims, tails: Sequence[float], lower: bool
                    ) -> list[tuple[float, list[int]]]:
    """Per tail: max_i t_i (lower bounds) or min_i t_i (upper bounds) with R_i(t_i) = tail,
    and every i that reaches it (ties all count, so the answer never depends on the claims'
    order). The bounds' right parts are evaluated once for all tails."""
    theta = _grid(enc)
    log_r = log_right_normalised(enc, theta)
    # R_i is monotone; read t_i off it where it rises (or falls) through the target.
    order = theta if lower else theta[::-1]
    rising = [np.maximum.accumulate(row if lower else row[::-1]) for row in log_r]
    out = []
    for tail in tails:
        target = math.log(tail)
        ends = [float(np.interp(target, values, order)) for values in rising]
        best = max(ends) if lower else min(ends)
        out.append((best, [i for i, t in enumerate(ends)
                           if abs(t - best) <= 1e-12 * max(1.0, abs(best))]))
    return out


def _two_sided(enc: EncodedClaims, temper: FloatArray, levels: Sequence[float],
               shared: float = 0.0
               ) -> tuple[float, dict[float, tuple[float | None, float | None]]]:
    theta = _grid(enc)
    log_p = temper @ log_right_normalised(enc, theta)
    density = np.exp(log_p - log_p.max())
    cdf = np.concatenate(([0.0], np.cumsum(0.5 * (density[1:] + density[:-1]) * np.diff(theta))))
    cdf /= cdf[-1]
    if shared > 0.0:
        theta, cdf = _convolved(theta, cdf, shared)

    def quantile(p: float) -> float:
        return float(np.interp(p, cdf, theta))

    ranges: dict[float, tuple[float | None, float | None]] = {
        q: (quantile(0.5 * (1.0 - q)), quantile(0.5 * (1.0 + q))) for q in levels}
    return quantile(0.5), ranges


def _convolved(theta: FloatArray, cdf: FloatArray, s: float) -> tuple[FloatArray, FloatArray]:
    """The CDF on a uniform grid convolved with N(0, s²) (θ = φ − δ, δ shared).

    Each cell's mass is spread over the cells by the Normal's mass in each of them
    (Φ((k + ½)h/s) − Φ((k − ½)h/s) at offset k), by FFT, on a grid padded by REACH·s.
    """
    h = float(theta[1] - theta[0])
    pad = int(math.ceil(REACH * s / h))
    offsets = np.arange(-pad, pad + 1, dtype=np.float64)
    kernel = ndtr((offsets + 0.5) * h / s) - ndtr((offsets - 0.5) * h / s)
    mass = np.concatenate((np.zeros(pad), np.diff(cdf), np.zeros(pad)))
    spread = np.maximum(fftconvolve(mass, kernel, mode="same"), 0.0)
    edges = theta[0] - pad * h + h * np.arange(spread.shape[0] + 1)
    out = np.concatenate(([0.0], np.cumsum(spread)))
    return edges, out / out[-1]


def bounds_range(enc: EncodedClaims, kept: IntArray, units: IntArray,
                 levels: Sequence[float], shared: float = 0.0) -> BoundsRange:
    """The value and ranges that bounds alone support (rule in the module docstring).

    Parameters
    ----------
    enc : EncodedClaims
        All claims, encoded.
    kept : (k,) int
        Increasing indices of the bounds the answer keeps; every one is a bound
        (:func:`is_bounds_only`).
    units : (n,) int
        Each claim's evidence unit: echoes of one origin count once (power 1/k_u, as in the
        posterior of :mod:`models.robust`), in the density and in ``p_hold``.
    levels : sequence of float
        Range levels in (0, 1).
    shared : float
        s, the error all the claims share, on the working scale (:mod:`models.shared_error`):
        the bounds speak of θ + δ with δ ~ N(0, s²), so θ's density is theirs convolved with
        N(0, s²). With one side only, each bound's right part R_i(θ + δ) averaged over δ is
        R_i with every hypothesis' σ widened to √(σ² + s²) (exact for its Normal CDF).

    Returns
    -------
    BoundsRange
    """
    sub = enc.subset(kept)
    kept_units = np.unique(units[kept], return_inverse=True)[1]
    temper = 1.0 / np.bincount(kept_units)[kept_units]
    log_right = temper * np.log(chance_right(sub))
    lower = sub.kind == KIND_AT_LEAST
    if lower.any() and not lower.all():
        median, ranges = _two_sided(sub, temper, levels, shared)
        # fsum: exactly rounded, so the chance does not depend on the claims' order (a product
        # of 0.5 · 0.5 · 0.7 printed 17 % in one order and 18 % in another).
        return BoundsRange(median, ranges, math.exp(math.fsum(log_right)), kept)
    if shared > 0.0:
        sub = replace(sub, sigma=np.sqrt(sub.sigma ** 2 + shared ** 2))
    side = bool(lower.all())
    ranges = {}
    setting: set[int] = set()
    ends = _one_sided_ends(sub, [0.5 * (1.0 - q) for q in levels], side)
    for q, (end, reaching) in zip(levels, ends, strict=True):
        setting.update(reaching)
        ranges[q] = (end, None) if side else (None, end)
    # Only the bounds that set an end matter: a slack "at least 2,000" beside "at least
    # 5,000" can be wrong without moving the range.
    rest = np.array(sorted(setting), dtype=np.int64)
    # An end set by an echo rests on its whole origin, counted once.
    origin = np.isin(kept_units, kept_units[rest])
    return BoundsRange(None, ranges, math.exp(math.fsum(log_right[origin])), kept[origin])
