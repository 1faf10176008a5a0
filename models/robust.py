"""Robust credibility-weighted reconciliation on a 1-D grid.

Symbols
-------
θ       : the true value on the working scale (its log on the log scale).
ℓ_i(θ)  : log-likelihood of claim i (see :mod:`models.likelihood`).
u(i)    : the evidence unit of claim i (its origin, else its source); k_u claims share unit u.
p(θ)    : the posterior, p(θ) ∝ π(θ) Π_i L_i(θ)^{1/k_u(i)}.
w_i     : claim i's weight, its share of the evidence.

Notes
-----
Posterior. Claims of one evidence unit enter with the power 1/k_u (a geometric mean of their
likelihoods), so k outlets repeating one figure count exactly once.

Prior. On the log scale (``support`` given, see :meth:`RobustEstimator.fit`) π is flat in θ,
Jeffreys' dx/x for a positive quantity (Jeffreys 1961), over a window of the figures' mid-range
± :data:`FLAT_REACH` (600 log units, a factor 10^260 either way) inside the doubles' range,
[−708, 709] (widened to a figure beyond it). It is proper, and its only role is numerical: the
window moves with the figures, so answers stay equivariant under a change of unit, and it drops
the Cauchy mass beyond it, about 2(1 − c)σ_w/(π·600) ≈ 1.2e-3 for a lone E point (3.7e-3 for a
hedged "rumour"). The truth is then as free as the documented model says, wherever the claims'
likelihood is proper: when, on each side, the claims' tempered likelihoods together decay faster
than 1/|θ| (:func:`tail_powers`). Why: the earlier prior, a Normal centred on the mid-range of
the figures with sd max(τ₀, span), τ₀ = 10, cut the Cauchy tails of the "wrong" parts, so a lone
claim vouched for itself: the 90 % range of a lone A–E point drawn from the documented model
held the truth 89.7, 89.0, 88.0, 86.5 and 83.6 % of the time (exact, by the closed form of its
coverage; E covered 71 % with τ₀ = 2.5). With the flat prior a lone point's posterior is its own
error mixture, so its range covers 90 % at every grade (tests/models/test_lone_claim_prior.py).
The weak Normal N(mid-range, max(τ₀, span)²) stays where the likelihood is improper: when every
claim is a bound (the value and range then come from :mod:`models.bounds`; the posterior only
serves the weights and shares), when echoes leave a side too open (a point repeated with an
"at least" by one origin decays like 1/θ upwards: the answer would be set by the window's reach,
review r1), for the leave-one-out posteriors that are improper in the same sense, and on the
linear scale (``support`` None), where no window of the quantity is natural
(its unit and zero are arbitrary).

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

Weight. w_i is the sensitivity of the estimate (the posterior median m) to the claim's figure:
moving claim i's figure(s) by δ on the working scale moves m by w_i·δ. With s_i = −ℓ_i'/k_u (the
score of a shift of the claim), w_i = −(∫_{θ≤m} p s_i dθ − ½ E_p[s_i]) / p(m). Because every
likelihood is a location family, shifting all claims and the prior together shifts m one for one,
so Σ_i w_i + w_prior = 1: w_i is a share of the evidence comparable across kinds. A binding bound
has weight, a slack one has none, a precise credible figure has most; for Gaussian claims it is
the familiar inverse-variance share. Negative shares (possible when a figure's own mode sits
beyond another claim's bound, or between two modes) are set to 0 and the claims' shares
renormalised to sum to 1.

Outliers. p_wrong,i is the posterior probability that claim i came from its "wrong" part. A claim
is an outlier when p_wrong,i ≥ 1/2 and the data raised its odds of being wrong at least three-fold
(a Bayes factor ≥ 3, "substantial" on Jeffreys' scale), so a low-credibility source that agrees
with the others is not flagged merely for being low-credibility -- and when its plausible set
(below) misses the estimate while another claim's holds it: when two camps disagree and the
estimate falls between them, neither is "the outlier"; the disagreement is reported instead.

Conflicts. Taken at its word (its right part only), claim i makes θ plausible where its
normalised likelihood is at least t = exp(−2); for two Gaussian claims this means within
2(σ_i + σ_j) of each other. Two claims conflict when their plausible sets do not meet; clusters are
the maximal groups of claims that can all be right at once.

References
----------
Hogg, D. W., Bovy, J. & Lang, D. (2010). Data analysis recipes: Fitting a model to data.
arXiv:1008.4686.
Box, G. E. P. & Tiao, G. C. (1968). A Bayesian approach to some outlier problems.
Biometrika 55(1), 119-129. doi:10.1093/biomet/55.1.119.
Jeffreys, H. (1961). Theory of Probability, 3rd ed., §3.1 (the prior dx/x of a quantity
known to be positive). Oxford University Press. ISBN 978-0-19-850368-2.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import find_peaks

from models.errors import InvalidParameterError
from models.grid import CORE_STEP, aligned, graded, refined_grid
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
from models.mixture_stats import interval_plausible, point_plausible
from models.quadrature import (
    SlopeCoefficients,
    hermite_cdf,
    hermite_weights,
    node_weights,
    normalise_log,
    quantiles,
    slopes,
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


def _ends(values: FloatArray) -> tuple[float, float]:
    """The least and the greatest value (the ufuncs' reductions, without ndarray.min's
    and .max's Python wrappers)."""
    return float(np.minimum.reduce(values)), float(np.maximum.reduce(values))


def _is_proper(below: FloatArray, above: FloatArray) -> BoolArray:
    # A margin for the sums of 1/k: two echoes' halves must count as exactly 1 (improper).
    return np.asarray((below > 1.0 + 1e-9) & (above > 1.0 + 1e-9))

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


@dataclass(frozen=True, slots=True)
class RobustFit:
    """Result of :meth:`RobustEstimator.fit`, on the working scale.

    Attributes
    ----------
    theta : (G,) float
        The fine grid.
    density : (G,) float
        Posterior density on the grid (integrates to 1 by the trapezoidal rule).
    median : float
        Posterior median of θ.
    quantiles : dict of float to (float, float)
        Equal-tailed interval per requested level.
    weights : (n,) float
        Each claim's share of the evidence, summing to 1.
    prior_share : float
        The prior's raw share of the evidence, Σ_i w_i + prior_share = 1 before clipping.
    median_without : (n,) float
        Posterior median without each claim (nan when it was the only evidence).
    median_without_unit : (n,) float
        Posterior median without every claim of each claim's evidence unit (its echoes too;
        nan when that unit was the only evidence). Equals ``median_without`` for a claim that
        is alone in its unit.
    p_wrong : (n,) float
        Posterior probability that each claim is wrong.
    prior_p_wrong : (n,) float
        Prior probability that each claim is wrong.
    outlier : (n,) bool
    plausible : (n, 2) float
        Each claim's plausible set [low, high] taken at its word (±inf when open).
    modes : int
        Number of separated posterior modes.
    """

    theta: FloatArray
    density: FloatArray
    median: float
    quantiles: dict[float, tuple[float, float]]
    weights: FloatArray
    prior_share: float
    median_without: FloatArray
    median_without_unit: FloatArray
    p_wrong: FloatArray
    prior_p_wrong: FloatArray
    outlier: BoolArray
    plausible: FloatArray
    modes: int


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not (math.isfinite(level) and 0.0 < level < 1.0):
        raise InvalidParameterError(f"Invalid level {level!r}; must lie in (0, 1).", "levels")
    return float(level)


class RobustEstimator:
    """Posterior of θ under the claim mixture likelihoods, evaluated on a grid.

    Parameters
    ----------
    grid_size : int
        Most cells of the starting grid over the figures' span (≥ 64; module docstring,
        "Grid").
    coarse_size : int
        Points of the coarse grid that locates the posterior (≥ 32).
    prior_scale : float
        τ₀, the smallest standard deviation of the prior, in working units (> 0); see the
        module docstring for the default of 10.
    compatibility : float
        Threshold t in (0, 1) on a claim's normalised likelihood defining its plausible set.
    outlier_bayes_factor : float
        Minimum increase of the odds of being wrong for an outlier (≥ 1).

    Notes
    -----
    The estimator keeps no state: :meth:`fit` returns a new :class:`RobustFit`, so one instance
    can serve concurrent requests.
    """

    def __init__(
        self,
        grid_size: int = 256,
        coarse_size: int = 64,
        prior_scale: float = 10.0,
        compatibility: float = math.exp(-2.0),
        outlier_bayes_factor: float = 3.0,
    ) -> None:
        if grid_size < 64:
            raise InvalidParameterError(f"Invalid grid_size {grid_size}; must be at least 64.")
        if coarse_size < 32:
            raise InvalidParameterError(
                f"Invalid coarse_size {coarse_size}; must be at least 32."
            )
        if not (math.isfinite(prior_scale) and prior_scale > 0):
            raise InvalidParameterError(f"Invalid prior_scale {prior_scale}; must be positive.")
        if not 0.0 < compatibility < 1.0:
            raise InvalidParameterError(
                f"Invalid compatibility {compatibility}; must lie in (0, 1)."
            )
        if not outlier_bayes_factor >= 1.0:
            raise InvalidParameterError(
                f"Invalid outlier_bayes_factor {outlier_bayes_factor}; must be at least 1."
            )
        self.grid_size = grid_size
        self.coarse_size = coarse_size
        self.prior_scale = prior_scale
        self.compatibility = compatibility
        self.outlier_bayes_factor = outlier_bayes_factor

    # -- pieces -------------------------------------------------------------------------------

    @staticmethod
    def anchors(enc: EncodedClaims) -> FloatArray:
        """Every finite figure of every claim, shifted by the mean bias (for grid placement)."""
        mean_bias = enc.per_claim_mean(enc.bias)
        ends = np.concatenate([enc.a - mean_bias, enc.b - mean_bias])
        return np.asarray(ends[np.isfinite(ends)], dtype=np.float64)

    def prior(self, enc: EncodedClaims, anchors: FloatArray | None = None
              ) -> tuple[float, float]:
        """Centre and standard deviation of the weakly informative Normal prior (``anchors``:
        :meth:`anchors` of ``enc``, when already at hand)."""
        anchors = self.anchors(enc) if anchors is None else anchors
        # The mid-range, unlike the median of the figures, does not move when one figure is
        # echoed by many outlets, and it shifts and scales with the figures.
        low, high = _ends(anchors)
        return 0.5 * (low + high), max(self.prior_scale, high - low)

    def window(self, enc: EncodedClaims, support: tuple[float, float],
               anchors: FloatArray | None = None) -> tuple[float, float]:
        """The flat prior's window: the figures' mid-range ± :data:`FLAT_REACH`, inside
        ``support`` (the doubles' range on the log scale) and widened to every figure."""
        anchors = self.anchors(enc) if anchors is None else anchors
        low, high = _ends(anchors)
        mid = 0.5 * (low + high)
        return (min(max(mid - FLAT_REACH, support[0]), low),
                max(min(mid + FLAT_REACH, support[1]), high))

    @staticmethod
    def _proper_without(powers: tuple[FloatArray, FloatArray], units: IntArray
                        ) -> tuple[BoolArray, BoolArray]:
        """Whether each leave-one-out posterior (claim i out, the rest of its unit re-tempered
        from 1/k_u to 1/(k_u − 1), as :meth:`fit` computes it) and each leave-unit-out
        posterior is proper under the flat prior (:func:`tail_powers`)."""
        if int(np.maximum.reduce(np.bincount(units))) == 1:
            # Every claim its own unit: without claim i (its unit) the powers are the total
            # less its own, and nothing is re-tempered.
            below, above = powers
            out_alone = _is_proper(float(np.add.reduce(below)) - below,
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
        return _is_proper(out[0], out[1]), _is_proper(unit_out[0], unit_out[1])

    @staticmethod
    def _tempering(units: IntArray) -> FloatArray:
        counts = np.bincount(units)
        return np.asarray(1.0 / counts[units], dtype=np.float64)

    def _fine_grid(
        self, enc: EncodedClaims, temper: FloatArray, prior: tuple[float, float],
        anchors: FloatArray | None = None, support: tuple[float, float] | None = None,
    ) -> FloatArray:
        centre, scale = prior
        anchors = self.anchors(enc) if anchors is None else anchors
        if support is None:
            lo = min(float(anchors.min()), centre) - 5.0 * scale
            hi = max(float(anchors.max()), centre) + 5.0 * scale
            coarse = np.linspace(lo, hi, self.coarse_size)
            step = float(coarse[1] - coarse[0])
        else:
            # The flat prior's window (:meth:`window`): the posterior's (Cauchy) tails may
            # reach its ends. The nodes sit at whole steps from the figures' mid-range, so
            # that they move with the figures and the answer stays equivariant.
            lo, hi = support
            step = 2.0 * FLAT_REACH / (self.coarse_size - 1)
            coarse = aligned(centre, lo, hi, step)
        log_post = temper @ log_likelihood_rows(enc, coarse)[0]
        if math.isfinite(scale):  # a flat prior (infinite sd) adds exactly 0
            z = (coarse - centre) / scale
            log_post = log_post - 0.5 * (z * z)
        keep = (log_post >= np.maximum.reduce(log_post) - 30.0).nonzero()[0]
        point_rows = enc.kind == KIND_POINT
        inner = anchors if not point_rows.any() else np.concatenate(
            [anchors, enc.a[point_rows]]
        )
        inner_lo, inner_hi = _ends(inner)
        fine_lo = min(coarse[keep[0]] - step, inner_lo)
        fine_hi = max(coarse[keep[-1]] + step, inner_hi)
        # Widen a degenerate region (all figures equal, posterior narrower than a coarse step).
        if fine_hi - fine_lo < 2 * step:
            fine_lo, fine_hi = fine_lo - step, fine_hi + step
        # The refinement (models.grid) resolves the posterior wherever it lives; with many
        # claims each start node costs a likelihood per claim, so the start is the coarse size.
        if enc.owner.shape[0] > MANY_ROWS:
            if support is None:
                return np.linspace(fine_lo, fine_hi, self.coarse_size)
            return aligned(centre, max(fine_lo, lo), min(fine_hi, hi),
                            (fine_hi - fine_lo) / (self.coarse_size - 1))
        # Few claims: the coarse size's step out in the tails, finer over the figures, where
        # the posterior's mass lies (module docstring, "Grid").
        step = (fine_hi - fine_lo) / (self.coarse_size - 1)
        if support is not None:
            # The flat prior is nil beyond its window; the step is taken before clipping to it.
            fine_lo, fine_hi = max(fine_lo, lo), min(fine_hi, hi)
        step = max(min(step, TAIL_SPREADS * float(enc.sigma_w.max())),
                   (fine_hi - fine_lo) / (self.grid_size - 1))
        return graded(centre, fine_lo, fine_hi, (inner_lo, inner_hi),
                       step, CORE_STEP * float(enc.sigma.min()), self.grid_size)

    def _plausible_sets(self, enc: EncodedClaims) -> FloatArray:
        """[low, high] of each claim's plausible set (±inf when open).

        Closed forms for single-hypothesis points (x − β ± σ√(2 log 1/t)); central quantiles
        for points of unjudged (mixture) sources (:func:`models.mixture_stats.point_plausible`);
        for bounds and ranges the level set of the matched Normal
        (:func:`models.mixture_stats.interval_plausible`), which for one hypothesis is the
        claim's own level set exactly: L − β + σΦ⁻¹(t), U − β − σΦ⁻¹(t), and a range's ends
        solved to machine precision.
        """
        low, high = interval_plausible(enc, self.compatibility)
        points = enc.kind == KIND_POINT
        if points.any():
            first = enc.starts
            half = enc.sigma[first] * math.sqrt(-2.0 * math.log(self.compatibility))
            centre = enc.a - enc.bias[first]
            low = np.where(points, centre - half, low)
            high = np.where(points, centre + half, high)
            # A mixture's density peak is its sharpest hypothesis': mixture points get the
            # central interval of the Gaussian set's probability instead (models.mixture_stats).
            mixed = (points & ~enc.single).nonzero()[0]
            if mixed.size:
                low[mixed], high[mixed] = point_plausible(enc, self.compatibility, mixed)
        return np.stack([low, high], axis=1)

    @staticmethod
    def _count_modes(theta: FloatArray, density: FloatArray) -> int:
        padded = np.concatenate([[0.0], density, [0.0]])
        # Local maxima (plateaus included) are where the non-zero steps turn from rising to
        # falling: with at most one, find_peaks cannot find two modes.
        steps = padded[1:] - padded[:-1]
        rising = steps[steps != 0.0] > 0.0
        if np.count_nonzero(rising[:-1] & ~rising[1:]) <= 1:
            return 1
        peaks, _ = find_peaks(padded, prominence=0.1 * float(density.max()))
        if peaks.size <= 1:
            return max(1, int(peaks.size))
        # A mode counts when the mass of its basin (between neighbouring valleys) is ≥ 5 %.
        cdf = hermite_cdf(theta, density)[2]
        cdf = cdf / cdf[-1]
        idx = peaks - 1
        valleys = [0]
        for left, right in zip(idx[:-1], idx[1:], strict=True):
            valleys.append(int(left + np.argmin(density[left : right + 1])))
        valleys.append(theta.shape[0] - 1)
        masses = np.diff(cdf[valleys])
        return max(1, int(np.sum(masses >= 0.05)))

    # -- fit -----------------------------------------------------------------------------------

    def fit(self, enc: EncodedClaims, units: IntArray, levels: Sequence[float],
            support: tuple[float, float] | None = None) -> RobustFit:
        """Posterior summaries of θ given the encoded claims.

        Parameters
        ----------
        enc : EncodedClaims
            n ≥ 1 claims on the working scale.
        units : (n,) int
            Evidence unit of each claim, coded 0..U−1.
        levels : sequence of float
            Interval levels in (0, 1).
        support : (float, float) or None
            Where θ can lie (:data:`LOG_SUPPORT` on the log scale): the claims then get the flat
            prior over :meth:`window`; None: the weak Normal prior throughout (module
            docstring, "Prior").

        Returns
        -------
        RobustFit
        """
        checked = [_check_level(q) for q in levels]
        temper = self._tempering(units)
        anchors = self.anchors(enc)
        weak = self.prior(enc, anchors)
        # The flat prior only where the tempered likelihood alone is proper (proper_sides).
        powers = tail_powers(enc.kind, temper)
        flat = support is not None and bool(_is_proper(np.add.reduce(powers[0]),
                                                       np.add.reduce(powers[1])))
        # A flat prior is the Normal of infinite sd: its log-density and score vanish.
        prior = (weak[0], math.inf) if flat else weak
        window = self.window(enc, support, anchors) if flat and support is not None else None
        grid = refined_grid(enc, temper, prior, self._fine_grid(
            enc, temper, prior, anchors, window))
        theta, log_post, ell = grid.theta, grid.log_post, grid.ell
        n = enc.n
        # Leave-one-out posteriors whose remaining claims are all bounds are improper under
        # the flat prior: they take the weak Normal, as they did before.

        def weak_log() -> FloatArray:
            # Only evaluated when some leave-out posterior needs it (flat prior only).
            return np.asarray(-0.5 * ((theta - weak[0]) / weak[1]) ** 2, dtype=np.float64)

        # Leave-one-out: drop claim i's likelihood; the rest of its unit is re-tempered to 1.
        # Leave-unit-out: drop the whole unit (Σ_{i∈u} ℓ_i / k_u), so echoes leave together.
        # All these posteriors' quantiles are read in one pass with the posterior's own.
        unit_counts = np.bincount(units)
        counts = unit_counts[units].astype(np.float64)
        echoes = bool(np.maximum.reduce(counts) > 1)
        lone = np.maximum.reduce(units) == 0
        log_rows = [log_post[None, :]]
        if not (lone and not echoes):
            log_loo = log_post[None, :] - temper[:, None] * ell
            if echoes:
                unit_sum = np.zeros((int(units.max()) + 1, theta.shape[0]))
                np.add.at(unit_sum, units, ell)
                rest = unit_sum[units] - ell
                with np.errstate(divide="ignore", invalid="ignore"):
                    regain = np.where(counts > 1, 1.0 / (counts * (counts - 1)), 0.0)
                log_loo += regain[:, None] * rest
            if flat:
                proper_rest, proper_unit_rest = self._proper_without(powers, units)
                if not proper_rest.all():
                    log_loo = np.where(proper_rest[:, None], log_loo, log_loo + weak_log())
            log_rows.append(log_loo)
            if echoes and not lone:
                log_lou = log_post[None, :] - unit_sum / unit_counts[:, None]
                if flat and not proper_unit_rest.all():
                    log_lou = np.where(proper_unit_rest[:, None], log_lou, log_lou + weak_log())
                log_rows.append(log_lou)
        trapezoid = node_weights(theta)
        densities = normalise_log(np.concatenate(log_rows) if len(log_rows) > 1 else
                                  log_rows[0], theta, trapezoid)
        if densities.ndim == 1:
            densities = densities[None, :]
        # The posterior's median and ends (row 0), then every leave-out posterior's median;
        # built as Python lists (a handful of small numpy calls cost more).
        own = [0.5] + [p for q in checked for p in ((1 - q) / 2, (1 + q) / 2)]
        others = densities.shape[0] - 1
        probs = np.array(own + [0.5] * others)
        rows = np.array([0] * len(own) + list(range(1, others + 1)), dtype=np.int64)
        coef = SlopeCoefficients.of(theta)
        found = quantiles(theta, densities, rows, probs, coef)
        density = densities[0]
        median = float(found[0])
        quantiles_found = {q: (float(found[1 + 2 * i]), float(found[2 + 2 * i]))
                           for i, q in enumerate(checked)}
        rest_found = found[1 + 2 * len(checked):]
        if lone and not echoes:
            median_without = np.full(n, np.nan)
        else:
            median_without = rest_found[:n]
        if lone:
            median_without_unit = np.full(n, np.nan)
        elif echoes:
            median_without_unit = rest_found[n:][units]
        else:
            median_without_unit = median_without

        # w_i = ∂m/∂δ_i, the sensitivity of the posterior median m to shifting claim i by δ:
        # with s_i = −ℓ_i'/k_u, ∂m/∂δ_i = −(∫_{θ≤m} p s_i − ½ E_p[s_i]) / p(m). The prior's
        # score is its own closed form, −d/dθ log π = (θ − centre)/scale².
        scores = np.empty((n + 1, theta.shape[0]))
        np.multiply(slopes(theta, ell, coef, out=scores[:n]), -temper[:, None], out=scores[:n])
        scores[n] = (theta - prior[0]) / (prior[1] * prior[1])
        # By cubic Hermite cells, as p_wrong below: fourth order in the step.
        hermite = hermite_weights(theta, median, coef)
        whole, below = ((scores * density[None, :]) @ hermite.T).T
        # A median in a gap between modes has (almost) no density: there the sensitivity is
        # unbounded; a floor scales every raw share alike and leaves their ratios, the
        # weights, as they are.
        dens_m = max(float(np.interp(median, theta, density)), 1e-12 * float(density.max()))
        shares = -(below - 0.5 * whole) / dens_m
        raw, prior_share = shares[:-1], float(shares[-1])
        positive = np.maximum(raw, 0.0)
        total = np.add.reduce(positive)
        weights = positive / total if total > 0 else np.full(n, 1.0 / n)

        # P(claim i wrong | claims) = Σ_k ∫ p π_k (1 − c_ik) f_wrong / L_i: each row's share
        # of the posterior, summed over the claim's rows (no log-sum on the grid needed).
        # The integrals by cubic Hermite cells (trapezoid plus each cell's end correction
        # h²/12 (F'_j − F'_{j+1})), fourth order like the quantiles: the integrand varies on a
        # claim's spread, which can be a few cells where the posterior is wide.
        single = enc.owner.shape[0] == n
        frac = np.exp(grid.log_wrong_rows - (ell if single else ell[enc.owner]))
        p_rows = (frac * density[None, :]) @ hermite[0] / float(density @ hermite[0])
        p_wrong = p_rows if single else np.add.reduceat(p_rows, enc.starts)
        prior_rows = np.exp(enc.log_pi + enc.log_1mc)
        prior_p_wrong = prior_rows if single else np.add.reduceat(prior_rows, enc.starts)
        # Both ≤ 1 over a floored denominator: finite, with no division by zero to silence.
        post_odds = p_wrong / np.maximum(1.0 - p_wrong, 1e-300)
        prior_odds = prior_p_wrong / np.maximum(1.0 - prior_p_wrong, 1e-300)
        plausible = self._plausible_sets(enc)
        # Only a claim standing apart from a core that holds the estimate is an outlier: when
        # two camps disagree and the median falls between them, neither camp is "the outlier".
        holds = (plausible[:, 0] <= median) & (median <= plausible[:, 1])
        outlier = (
            (p_wrong >= 0.5)
            & (post_odds >= self.outlier_bayes_factor * prior_odds)
            & ~holds
            & bool(holds.any())
        )

        return RobustFit(
            theta=theta,
            density=density,
            median=median,
            quantiles=quantiles_found,
            weights=weights,
            prior_share=prior_share,
            median_without=median_without,
            median_without_unit=median_without_unit,
            p_wrong=np.minimum(np.maximum(p_wrong, 0.0), 1.0),
            prior_p_wrong=prior_p_wrong,
            outlier=outlier,
            plausible=plausible,
            modes=self._count_modes(theta, density),
        )


def conflicts_and_clusters(
    plausible: FloatArray, units: IntArray
) -> tuple[list[tuple[int, int]], list[list[int]]]:
    """Pairs of claims whose plausible sets do not meet, and the groups that can all be right.

    Parameters
    ----------
    plausible : (n, 2) float
        [low, high] per claim.
    units : (n,) int
        Evidence units; claims of one unit are never reported against each other.

    Returns
    -------
    conflicts : list of (i, j) with i < j
    clusters : list of lists of claim indices, largest first
        The maximal groups of claims whose plausible sets share a common value, i.e. claims that
        can all be right at once. A claim (a loose bound, say) may sit in several groups.

    Notes
    -----
    On a line, sets that meet pairwise share a common point (Helly's theorem in one dimension),
    so the maximal groups are the sets of intervals open just before some interval closes: one
    sweep over the sorted end points finds them.
    """
    # Starts sort before ends at equal positions, so touching sets count as meeting.
    ends = plausible.tolist()
    events = sorted([(low, 0, i) for i, (low, _) in enumerate(ends)]
                    + [(high, 1, i) for i, (_, high) in enumerate(ends)])
    active: set[int] = set()
    grew = False
    clusters: list[list[int]] = []
    for _, is_end, i in events:
        if not is_end:
            active.add(i)
            grew = True
            continue
        if grew:
            clusters.append(sorted(active))
            grew = False
        active.discard(i)
    clusters.sort(key=lambda c: (-len(c), c[0]))
    lo = plausible[:, 0]
    hi = plausible[:, 1]
    apart = (lo[:, None] > hi[None, :]) | (lo[None, :] > hi[:, None])
    apart &= units[:, None] != units[None, :]
    # The pairs above the diagonal, row by row (as np.triu's non-zeros, without its mask).
    ii, jj = np.nonzero(apart)
    upper = ii < jj
    return list(zip(ii[upper].tolist(), jj[upper].tolist(), strict=True)), clusters
