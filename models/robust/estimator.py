"""The robust estimator: the posterior of θ and what it says of each claim.

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
(:mod:`models.robust.disagreement`) misses the estimate while another claim's holds it: when two
camps disagree and the estimate falls between them, neither is "the outlier"; the disagreement is
reported instead.

References
----------
Hogg, D. W., Bovy, J. & Lang, D. (2010). Data analysis recipes: Fitting a model to data.
arXiv:1008.4686.
Box, G. E. P. & Tiao, G. C. (1968). A Bayesian approach to some outlier problems.
Biometrika 55(1), 119-129. doi:10.1093/biomet/55.1.119.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.errors import InvalidParameterError
from models.grid import refined_grid
from models.likelihood import EncodedClaims, FloatArray, IntArray
from models.quadrature import (
    SlopeCoefficients,
    hermite_weights,
    node_weights,
    normalise_log,
    quantiles,
    slopes,
)
from models.robust.disagreement import count_modes, plausible_sets
from models.robust.prior import (
    BoolArray,
    anchors,
    flat_window,
    is_proper,
    proper_without,
    starting_grid,
    tail_powers,
    weak_prior,
)


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
        Most cells of the starting grid over the figures' span (≥ 64;
        :mod:`models.robust.prior`, "Grid").
    coarse_size : int
        Points of the coarse grid that locates the posterior (≥ 32).
    prior_scale : float
        τ₀, the smallest standard deviation of the prior, in working units (> 0); see
        :mod:`models.robust.prior` for the default of 10.
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
        """Every finite figure of every claim, shifted by the mean bias (for grid placement;
        :func:`models.robust.prior.anchors`)."""
        return anchors(enc)

    def prior(self, enc: EncodedClaims, anchors: FloatArray | None = None
              ) -> tuple[float, float]:
        """Centre and standard deviation of the weakly informative Normal prior (``anchors``:
        :meth:`anchors` of ``enc``, when already at hand;
        :func:`models.robust.prior.weak_prior`)."""
        return weak_prior(enc, self.prior_scale, anchors)

    def window(self, enc: EncodedClaims, support: tuple[float, float],
               anchors: FloatArray | None = None) -> tuple[float, float]:
        """The flat prior's window: the figures' mid-range
        ± :data:`~models.robust.prior.FLAT_REACH`, inside ``support`` (the doubles' range on the
        log scale) and widened to every figure (:func:`models.robust.prior.flat_window`)."""
        return flat_window(enc, support, anchors)

    @staticmethod
    def _tempering(units: IntArray) -> FloatArray:
        counts = np.bincount(units)
        return np.asarray(1.0 / counts[units], dtype=np.float64)

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
            Where θ can lie (:data:`~models.robust.prior.LOG_SUPPORT` on the log scale): the
            claims then get the flat prior over :meth:`window`; None: the weak Normal prior
            throughout (:mod:`models.robust.prior`, "Prior").

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
        flat = support is not None and bool(is_proper(np.add.reduce(powers[0]),
                                                      np.add.reduce(powers[1])))
        # A flat prior is the Normal of infinite sd: its log-density and score vanish.
        prior = (weak[0], math.inf) if flat else weak
        window = self.window(enc, support, anchors) if flat and support is not None else None
        grid = refined_grid(enc, temper, prior, starting_grid(
            enc, temper, prior, anchors, window, self.coarse_size, self.grid_size))
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
                proper_rest, proper_unit_rest = proper_without(powers, units)
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
        plausible = plausible_sets(enc, self.compatibility)
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
            modes=count_modes(theta, density),
        )
