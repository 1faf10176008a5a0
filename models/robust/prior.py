"""The prior of θ and the starting grid that spans it.

Prior. On the log scale (``support`` given, see :meth:`models.robust.RobustEstimator.fit`) π is
flat in θ, Jeffreys' dx/x for a positive quantity (Jeffreys 1961), over a window of the figures'
mid-range ± :data:`FLAT_REACH` (600 log units, a factor 10^260 either way) inside the doubles'
range, [−708, 709] (widened to a figure beyond it). It is proper, and its only role is numerical:
the window moves with the figures, so answers stay equivariant under a change of unit, and it drops
the Cauchy mass beyond it, about 2(1 − c)σ_w/(π·600) ≈ 1.2e-3 for a lone E point (3.7e-3 for a
hedged "rumour"). The truth is then as free as the documented model says, wherever the claims'
likelihood is proper: when, on each side, the claims' tempered likelihoods together decay faster
than 1/|θ| (:func:`tail_powers`). Why: the earlier prior, a Normal centred on the mid-range of the
figures with sd max(τ₀, span), τ₀ = 10, cut the Cauchy tails of the "wrong" parts, so a lone claim
vouched for itself: the 90 % range of a lone A–E point drawn from the documented model held the
truth 89.7, 89.0, 88.0, 86.5 and 83.6 % of the time (exact, by the closed form of its coverage; E
covered 71 % with τ₀ = 2.5). With the flat prior a lone point's posterior is its own error mixture,
so its range covers 90 % at every grade (tests/models/test_lone_claim_prior.py). The weak Normal
N(mid-range, max(τ₀, span)²) stays where the likelihood is improper: when every claim is a bound
(the value and range then come from :mod:`models.bounds`; the posterior only serves the weights and
shares), when echoes leave a side too open (a point repeated with an "at least" by one origin
decays like 1/θ upwards: the answer would be set by the window's reach, review r1), for the
leave-one-out posteriors that are improper in the same sense, and on the linear scale (``support``
None), where no window of the quantity is natural (its unit and zero are arbitrary).

Grid. The posterior is evaluated on a coarse grid (64 points) spanning the figures and the
prior's tails (the flat prior's window, with nodes at whole steps from the figures' mid-range),
then on a starting grid over the region where the coarse log-posterior is within 30 nats of
its maximum, widened to every point figure (the Cauchy "wrong" tails keep each claim's
neighbourhood in play, and the leave-one-out posteriors need it): 63 cells across that region
in the tails (each at most :data:`TAIL_SPREADS` wrong-part spreads wide) and, over the
figures' span, a step of 1/8 of the sharpest claim's σ (at most 256 cells there), halving level
by level in between (:func:`models.grid.graded`); beyond :data:`MANY_ROWS` likelihood rows a
uniform 64-point grid, each node then costing a likelihood per claim. That grid is then refined
by the posterior itself
(:mod:`models.grid`): cells that may hold mass are cut where the log-posterior rises, bends or
may hide a claim's peak by more than a small fraction of a nat, so the step follows the
posterior's own width (about σ/√n with n claims), not each claim's σ. The CDF integrates the
cubic Hermite interpolant of the density (trapezoid plus Euler–Maclaurin end correction) and
quantiles solve that cubic by Newton steps, so they are fourth-order accurate in the grid step:
against brute force the quantiles agree to about 1e-4 of the 90 % range's width from 1 to
10,000 claims (tests/models/test_grid_reference.py).

The starting grid lives here with the prior because its coarse pass is laid over the prior's
window (:data:`FLAT_REACH`), node for node.

References
----------
Jeffreys, H. (1961). Theory of Probability, 3rd ed., §3.1 (the prior dx/x of a quantity
known to be positive). Oxford University Press. ISBN 978-0-19-850368-2.
"""

from __future__ import annotations

import math
import sys

import numpy as np
from numpy.typing import NDArray

from models.grid import CORE_STEP, aligned, graded
from models.likelihood import (
    KIND_AT_LEAST,
    KIND_AT_MOST,
    KIND_POINT,
    KIND_RANGE,
    EncodedClaims,
    FloatArray,
    IntArray,
    log_likelihood_rows,
)

BoolArray = NDArray[np.bool_]


def tail_powers(kind: IntArray, weight: FloatArray) -> tuple[FloatArray, FloatArray]:
    """How fast each claim's tempered likelihood L_i^{w_i} decays below and above the claims.

    A claim's "wrong" part is a Cauchy kernel (:mod:`models.likelihood`): a point's or a
    range's falls like |θ|^-2 on both sides, a bound's like |θ|^-1 on its closed side (below an
    "at least", above an "at most") and not at all on its open side; the "right" parts fall
    faster. So Π_i L_i^{w_i} falls like |θ|^-a on each side, with

        a_below = Σ_i w_i (2 [point, range] + 1 [at least]),
        a_above = Σ_i w_i (2 [point, range] + 1 [at most]),

    and the posterior under a flat prior is proper when both exceed 1.

    Parameters
    ----------
    kind : (n,) int
        Claim kinds (:data:`~models.likelihood.KIND_POINT`, …).
    weight : (n,) float
        Each claim's power w_i (1/k_u for a unit of k echoes).

    Returns
    -------
    (n,) float, (n,) float
        Each claim's term of a_below and of a_above.
    """
    return weight * _DECAY_BELOW[kind], weight * _DECAY_ABOVE[kind]


#: Each kind's tail power of its wrong part below and above the claims (indexed by the KIND_*
#: codes; :func:`tail_powers`).
_DECAY_BELOW = np.zeros(4)
_DECAY_ABOVE = np.zeros(4)
_DECAY_BELOW[[KIND_POINT, KIND_RANGE, KIND_AT_LEAST]] = 2.0, 2.0, 1.0
_DECAY_ABOVE[[KIND_POINT, KIND_RANGE, KIND_AT_MOST]] = 2.0, 2.0, 1.0


#: The flat prior's window on the log scale: the logs of the smallest normal and the largest
#: positive double (module docstring, "Prior").
#: Whole numbers inside, so that e^θ of every grid node and quantile is a finite, normal double.
LOG_SUPPORT: tuple[float, float] = (float(math.ceil(math.log(sys.float_info.min))),
                                    float(math.floor(math.log(sys.float_info.max))))

#: How far the flat prior's window reaches either side of the figures' mid-range, in working
#: units (module docstring, "Prior"): e^±600 ≈ 10^±260, so the window lies inside the doubles
#: for any mid-range between about 1e-47 and 1e47, and moves with the figures there.
FLAT_REACH = 600.0

#: Above this many likelihood rows (claims × credibility hypotheses) the refinement starts
#: from the coarse grid's size rather than the fine one's.
MANY_ROWS = 1024

#: The starting grid's step in the tails is at most this many times the widest wrong part's
#: spread σ_w: across a wide region (a lone claim's Cauchy tails fill the flat prior's window)
#: 63 cells alone leave the far quantiles to the refinement's thresholds. (Never finer than
#: the region over ``grid_size`` cells, the uniform start's step.)
TAIL_SPREADS = 4.0


def extremes(values: FloatArray) -> tuple[float, float]:
    """The least and the greatest value (the ufuncs' reductions, without ndarray.min's
    and .max's Python wrappers)."""
    return float(np.minimum.reduce(values)), float(np.maximum.reduce(values))


def is_proper(below: FloatArray, above: FloatArray) -> BoolArray:
    """Whether a posterior whose tail powers sum to ``below`` and ``above`` (:func:`tail_powers`)
    is proper under the flat prior: both must exceed 1."""
    # A margin for the sums of 1/k: two echoes' halves must count as exactly 1 (improper).
    return np.asarray((below > 1.0 + 1e-9) & (above > 1.0 + 1e-9))


def proper_without(powers: tuple[FloatArray, FloatArray], units: IntArray
                   ) -> tuple[BoolArray, BoolArray]:
    """Whether each leave-one-out posterior (claim i out, the rest of its unit re-tempered
    from 1/k_u to 1/(k_u − 1), as :meth:`~models.robust.RobustEstimator.fit` computes it) and
    each leave-unit-out posterior is proper under the flat prior (:func:`tail_powers`)."""
    if int(np.maximum.reduce(np.bincount(units))) == 1:
        # Every claim its own unit: without claim i (its unit) the powers are the total
        # less its own, and nothing is re-tempered.
        below, above = powers
        out_alone = is_proper(float(np.add.reduce(below)) - below,
                              float(np.add.reduce(above)) - above)
        order = units.argsort()
        return out_alone, out_alone[order]
    k = np.bincount(units)[units].astype(np.float64)
    regain = np.where(k > 1, k / np.maximum(k - 1, 1), 0.0)
    out: list[FloatArray] = []
    unit_out: list[FloatArray] = []
    for side in powers:
        unit_sum = np.bincount(units, weights=side)
        total = float(side.sum())
        rest = unit_sum[units] - side
        out.append(np.asarray(total - unit_sum[units] + rest * regain, dtype=np.float64))
        unit_out.append(np.asarray(total - unit_sum, dtype=np.float64))
    return is_proper(out[0], out[1]), is_proper(unit_out[0], unit_out[1])


def anchors(enc: EncodedClaims) -> FloatArray:
    """Every finite figure of every claim, shifted by the mean bias (for grid placement)."""
    mean_bias = enc.per_claim_mean(enc.bias)
    ends = np.concatenate([enc.a - mean_bias, enc.b - mean_bias])
    return np.asarray(ends[np.isfinite(ends)], dtype=np.float64)


def weak_prior(enc: EncodedClaims, prior_scale: float, figures: FloatArray | None = None
               ) -> tuple[float, float]:
    """Centre and standard deviation of the weakly informative Normal prior, the figures'
    mid-range and max(τ₀ = ``prior_scale``, their span) (``figures``: :func:`anchors` of
    ``enc``, when already at hand)."""
    figures = anchors(enc) if figures is None else figures
    # The mid-range, unlike the median of the figures, does not move when one figure is
    # echoed by many outlets, and it shifts and scales with the figures.
    low, high = extremes(figures)
    return 0.5 * (low + high), max(prior_scale, high - low)


def flat_window(enc: EncodedClaims, support: tuple[float, float],
                figures: FloatArray | None = None) -> tuple[float, float]:
    """The flat prior's window: the figures' mid-range ± :data:`FLAT_REACH`, inside
    ``support`` (the doubles' range on the log scale) and widened to every figure."""
    figures = anchors(enc) if figures is None else figures
    low, high = extremes(figures)
    mid = 0.5 * (low + high)
    return (min(max(mid - FLAT_REACH, support[0]), low),
            max(min(mid + FLAT_REACH, support[1]), high))


def starting_grid(
    enc: EncodedClaims, temper: FloatArray, prior: tuple[float, float], figures: FloatArray,
    support: tuple[float, float] | None, coarse_size: int, grid_size: int,
) -> FloatArray:
    """The grid the refinement (:func:`models.grid.refined_grid`) starts from (module
    docstring, "Grid").

    Parameters
    ----------
    enc : EncodedClaims
        The claims.
    temper : (n,) float
        Each claim's power 1/k_u.
    prior : (float, float)
        Centre and sd of the prior (sd infinite for the flat prior).
    figures : (m,) float
        :func:`anchors` of ``enc``.
    support : (float, float) or None
        The flat prior's window (:func:`flat_window`), or None under the weak Normal.
    coarse_size, grid_size : int
        Points of the coarse grid; most cells of the starting grid over the figures' span.

    Returns
    -------
    (G,) float
        Increasing nodes on the working scale.
    """
    centre, scale = prior
    if support is None:
        lo = min(float(figures.min()), centre) - 5.0 * scale
        hi = max(float(figures.max()), centre) + 5.0 * scale
        coarse = np.linspace(lo, hi, coarse_size)
        step = float(coarse[1] - coarse[0])
    else:
        # The flat prior's window (:func:`flat_window`): the posterior's (Cauchy) tails may
        # reach its ends. The nodes sit at whole steps from the figures' mid-range, so
        # that they move with the figures and the answer stays equivariant.
        lo, hi = support
        step = 2.0 * FLAT_REACH / (coarse_size - 1)
        coarse = aligned(centre, lo, hi, step)
    log_post = temper @ log_likelihood_rows(enc, coarse)[0]
    if math.isfinite(scale):  # a flat prior (infinite sd) adds exactly 0
        z = (coarse - centre) / scale
        log_post = log_post - 0.5 * (z * z)
    keep = (log_post >= np.maximum.reduce(log_post) - 30.0).nonzero()[0]
    point_rows = enc.kind == KIND_POINT
    inner = figures if not point_rows.any() else np.concatenate(
        [figures, enc.a[point_rows]]
    )
    inner_lo, inner_hi = extremes(inner)
    fine_lo = min(coarse[keep[0]] - step, inner_lo)
    fine_hi = max(coarse[keep[-1]] + step, inner_hi)
    # Widen a degenerate region (all figures equal, posterior narrower than a coarse step).
    if fine_hi - fine_lo < 2 * step:
        fine_lo, fine_hi = fine_lo - step, fine_hi + step
    # The refinement (models.grid) resolves the posterior wherever it lives; with many
    # claims each start node costs a likelihood per claim, so the start is the coarse size.
    if enc.owner.shape[0] > MANY_ROWS:
        if support is None:
            return np.linspace(fine_lo, fine_hi, coarse_size)
        return aligned(centre, max(fine_lo, lo), min(fine_hi, hi),
                       (fine_hi - fine_lo) / (coarse_size - 1))
    # Few claims: the coarse size's step out in the tails, finer over the figures, where
    # the posterior's mass lies (module docstring, "Grid").
    step = (fine_hi - fine_lo) / (coarse_size - 1)
    if support is not None:
        # The flat prior is nil beyond its window; the step is taken before clipping to it.
        fine_lo, fine_hi = max(fine_lo, lo), min(fine_hi, hi)
    step = max(min(step, TAIL_SPREADS * float(enc.sigma_w.max())),
               (fine_hi - fine_lo) / (grid_size - 1))
    return graded(centre, fine_lo, fine_hi, (inner_lo, inner_hi),
                  step, CORE_STEP * float(enc.sigma.min()), grid_size)
