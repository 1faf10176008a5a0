"""Claims made at different times about a quantity that grows or drifts: a filter over time.

Symbols
-------
θ_j      : the quantity's level on day t_j, on the working scale (log of it on the log scale);
           j = 1…T over the distinct claim days and the requested day.
θ_∞      : the eventual total, a node after t_T (present when some claim speaks of it).
ℓ_i(θ)   : log-likelihood of claim i (:mod:`models.likelihood`: right part Normal, wrong part
           Cauchy), identical to the static model's, so a claim means the same in both.
k_u      : claims sharing claim i's evidence unit (echoes); claim i enters with the power 1/k_u.
q        : drift scale, the standard deviation of a day's change of θ.
τ_∞      : scale of the step from θ_T to θ_∞.

Model
-----
θ_1 ~ N(m_0, s_0²), the static model's weak prior (mid-range of the figures, standard deviation
max(τ₀, span of the figures)). Between days, θ_{j+1} − θ_j ~ N(0, q²Δ_j) (``drifting``) or
|N(0, q²Δ_j)| (``cumulative``: never decreasing), Δ_j = t_{j+1} − t_j days; θ_∞ − θ_T ~ N(0, τ_∞²)
or |N(0, τ_∞²)|. Claim i about the level on day t enters only the node of day t; a claim about
the total enters only θ_∞:

    p(θ_1 … θ_T, θ_∞ | y) ∝ π(θ_1) Π_j K(θ_j, θ_{j+1}) K_∞(θ_T, θ_∞)
                             × Π_i L_i(θ_{node(i)})^{1/k_u(i)}.

The node marginals come from forward–backward on a θ grid (:mod:`models.dynamics.filter`,
Rabiner 1989). Each claim's probability of being wrong is its "wrong" part's posterior share,
averaged over its node's marginal, p_wrong,i = Σ_g γ_{node(i)}(g) w_i(θ_g)/L_i(θ_g), as in the
static model (Hogg, Bovy & Lang 2010).

Drift. A stated q is used as given. Otherwise q is learned from the claims over the candidate
grid q_1 … q_K by its marginal likelihood p(y | q_k) = Σ_paths (the filter's normaliser): with
``drift_fit="average"`` (the default) the answer averages over the candidates with weights
∝ p(y | q_k) (a uniform prior on log q over the grid), so a drift the claims cannot pin down
(one or two dates) widens the range rather than being guessed; ``"maximum"`` uses the single
maximum-marginal-likelihood q̂ (type-II maximum likelihood). Either way q̂ is reported.

Grid. A first pass on :data:`~models.dynamics.kernels.COARSE_POINTS` points spans the figures and
the prior ± 5 s_0; the fine grid keeps where some node's marginal (for some candidate q) is within
25 nats of its peak, widened to every figure, with a step of at most half the smallest right
claim's spread and, for ``cumulative``, at most the mean step over the median gap between
dates of the smallest drift with 1 % of the first pass's weight, where the lattice step keeps
the continuous step's mean and variance (``grid_size`` ≤ G ≤ ``max_grid_size``; see
:func:`~models.dynamics.kernels.resolving_step`). The transitions are banded, so a finer grid
costs O(G) per node rather than O(G²).

With every claim on one day and none about the total, there is one node and no transition: the
posterior is the static model's, prior × Π L_i^{1/k_u}, on this module's grid.

References
----------
Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected applications in speech
recognition. Proceedings of the IEEE 77(2), 257-286. doi:10.1109/5.18626.
Hogg, D. W., Bovy, J. & Lang, D. (2010). Data analysis recipes: Fitting a model to data.
arXiv:1008.4686.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, get_args

import numpy as np

from models.checks import check_levels
from models.dynamics.filter import forward_backward
from models.dynamics.kernels import (
    COARSE_POINTS,
    KEEP_NATS,
    ToeplitzStep,
    fine_range,
    fine_size,
    log_prior,
    resolving_step,
    step_operator,
    wide_range,
)
from models.dynamics.timeline import DayLike, Timeline, build_timeline
from models.errors import InvalidClaimError, InvalidParameterError
from models.likelihood import EncodedClaims, FloatArray, IntArray, log_likelihood_parts
from models.robust import RobustEstimator

Dynamics = Literal["cumulative", "drifting"]
DYNAMICS: Final[tuple[str, ...]] = get_args(Dynamics)
DriftFit = Literal["average", "maximum"]
DRIFT_FITS: Final[tuple[str, ...]] = get_args(DriftFit)

#: Candidate drift scales q, working units per √day, log-spaced, each about twice the last: from
#: 0.2 % a day (a figure nearly constant over a year moves by ±4 %) to 2 a √day (a factor 7.4 from
#: one day to the next at one standard deviation). A disaster's toll grows that fast while it is
#: counted: a flood's official count went from 150 to 2,300 in two days (Derna, September 2023),
#: 1.9 a √day. With 0.5 at the top such a series read the early count as "probably wrong"
#: (92 %), and ranges on simulated fast series covered 77 % at 90 % (89 % now:
#: ``bench/dynamics_coverage.py --drift-range 0.3 2.5 --days 5``); on slow series the two
#: candidates added change coverage by under 0.5 point.
DRIFT_GRID: Final[tuple[float, ...]] = tuple(
    float(x) for x in np.geomspace(0.002, 2.0, 11)
)

#: A candidate drift with at least this share of the first pass's weight sets the fine step of a
#: cumulative quantity (:func:`~models.dynamics.kernels.resolving_step`).
RESOLVE_WEIGHT: Final = 0.01


@dataclass(frozen=True, slots=True)
class DynamicFit:
    """Result of :meth:`DynamicEstimator.fit`, on the working scale.

    Attributes
    ----------
    timeline : Timeline
        The level nodes' days, which node each claim entered, the requested node.
    theta : (G,) float
        The uniform grid.
    marginals : (N, G) float
        Posterior probability of each grid point at each node (rows sum to 1): the T level
        nodes, then θ_∞ when ``timeline.has_total``.
    medians : (N,) float
        Posterior median per node.
    intervals : (N, L, 2) float
        Equal-tailed interval [low, high] per node and level, in ``levels`` order.
    levels : tuple of float
    p_wrong : (n,) float
        Posterior probability that each claim is wrong.
    prior_p_wrong : (n,) float
        Its prior probability (credibility and hedge only).
    drift_scale : float
        The stated q, or the maximum-marginal-likelihood q̂ among the candidates.
    drift_learned : bool
    drift_candidates : (K,) float
        The candidates (one: the stated q).
    drift_log_evidence : (K,) float
        log p(y | q_k); -inf for a candidate whose evidence in the first pass was under
        e^-KEEP_NATS of the others' (it is not run on the fine grid).
    drift_weights : (K,) float
        The weight each candidate got in the answer (one 1 with ``"maximum"``).
    """

    timeline: Timeline
    theta: FloatArray
    marginals: FloatArray
    medians: FloatArray
    intervals: FloatArray
    levels: tuple[float, ...]
    p_wrong: FloatArray
    prior_p_wrong: FloatArray
    drift_scale: float
    drift_learned: bool
    drift_candidates: FloatArray
    drift_log_evidence: FloatArray
    drift_weights: FloatArray

    @property
    def total(self) -> int | None:
        """Index of the θ_∞ node, or None."""
        return self.timeline.n_levels if self.timeline.has_total else None


def grid_quantiles(theta: FloatArray, mass: FloatArray, probs: FloatArray) -> FloatArray:
    """Quantiles of the distribution with node masses ``mass`` on the uniform grid ``theta``.

    The density p_g = m_g / h is interpolated linearly between nodes, so within the cell
    holding probability q the CDF is quadratic and is inverted exactly.

    Parameters
    ----------
    theta : (G,) float
    mass : (G,) float
        Non-negative, any total.
    probs : (k,) float
        Probabilities in (0, 1).

    Returns
    -------
    (k,) float
    """
    h = float(theta[1] - theta[0])
    cells = 0.5 * (mass[1:] + mass[:-1])
    cdf = np.r_[0.0, np.cumsum(cells)]
    target = probs * cdf[-1]
    j = np.clip(np.searchsorted(cdf, target, side="left") - 1, 0, theta.shape[0] - 2)
    need = (target - cdf[j]) / np.where(cells[j] > 0, cells[j], 1.0)
    p0, p1 = mass[j], mass[j + 1]
    # Share t of the cell with ∫₀ᵗ ((1 − s) p0 + s p1) ds / ((p0 + p1)/2) = need:
    # (p1 − p0) t² / 2 + p0 t = need (p0 + p1)/2, solved in the cancellation-free form.
    a = 0.5 * (p1 - p0)
    rhs = need * 0.5 * (p0 + p1)
    disc = np.sqrt(np.maximum(p0 * p0 + 4.0 * a * rhs, 0.0))
    denom = p0 + disc
    t = np.where(denom > 0, 2.0 * rhs / np.where(denom > 0, denom, 1.0), need)
    return np.asarray(theta[j] + np.clip(t, 0.0, 1.0) * h, dtype=np.float64)


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not (math.isfinite(value) and value > 0.0):
        raise InvalidParameterError(f"Invalid {name} {value!r}; must be a positive number.",
                                    name)
    return float(value)


class DynamicEstimator:
    """Level of a moving quantity on each claim day, and its eventual total (module docstring).

    Parameters
    ----------
    dynamics : {"cumulative", "drifting"}
        ``cumulative`` never decreases; ``drifting`` is a random walk on the working scale.
    drift_scale : float or None
        q in working units per √day (> 0); None (default) learns it over ``drift_grid``.
    drift_grid : sequence of float
        Candidate q when learning (each > 0; default :data:`DRIFT_GRID`).
    drift_fit : {"average", "maximum"}
        How a learned q enters the answer (see the module docstring).
    total_scale : float or None
        τ_∞ (> 0); None (default) uses ``prior_scale``: the eventual total is only weakly tied
        to the last level (for ``cumulative``, only bounded below by it).
    prior_scale : float
        τ₀, the least standard deviation of the first node's prior (> 0), as in the static
        model.
    grid_size, max_grid_size : int
        Least and most points of the fine grid (32 ≤ grid_size ≤ max_grid_size).

    Notes
    -----
    The estimator keeps no state: :meth:`fit` returns a new :class:`DynamicFit`, so one instance
    can serve concurrent requests.
    """

    def __init__(
        self,
        dynamics: Dynamics,
        *,
        drift_scale: float | None = None,
        drift_grid: Sequence[float] = DRIFT_GRID,
        drift_fit: DriftFit = "average",
        total_scale: float | None = None,
        prior_scale: float = 2.5,
        grid_size: int = 160,
        max_grid_size: int = 960,
    ) -> None:
        if dynamics not in DYNAMICS:
            raise InvalidParameterError(
                f"Invalid dynamics {dynamics!r}; must be one of {', '.join(DYNAMICS)} (static "
                "questions go through models.reconcile).", "dynamics"
            )
        if drift_fit not in DRIFT_FITS:
            raise InvalidParameterError(
                f"Invalid drift_fit {drift_fit!r}; must be one of {', '.join(DRIFT_FITS)}.",
                "drift_fit",
            )
        if len(drift_grid) == 0:
            raise InvalidParameterError("Invalid drift_grid (); must hold a candidate.",
                                        "drift_grid")
        if not 32 <= grid_size <= max_grid_size:
            raise InvalidParameterError(
                f"Invalid grid_size {grid_size} or max_grid_size {max_grid_size}; must satisfy "
                "32 ≤ grid_size ≤ max_grid_size.", "grid_size"
            )
        self.dynamics: Dynamics = dynamics
        self.drift_scale = None if drift_scale is None else _positive("drift_scale",
                                                                      drift_scale)
        self.drift_grid = tuple(_positive("drift_grid", q) for q in drift_grid)
        self.drift_fit: DriftFit = drift_fit
        self.prior_scale = _positive("prior_scale", prior_scale)
        self.total_scale = (self.prior_scale if total_scale is None
                            else _positive("total_scale", total_scale))
        self.grid_size = grid_size
        self.max_grid_size = max_grid_size

    # -- pieces -------------------------------------------------------------------------------

    def transitions(self, timeline: Timeline, theta: FloatArray, q: float) -> list[ToeplitzStep]:
        """K between consecutive nodes for drift scale q (then K_∞ when there is a total).

        Parameters
        ----------
        timeline : Timeline
        theta : (G,) float
            A uniform grid.
        q : float

        Returns
        -------
        list of ToeplitzStep
            N − 1 row-stochastic transitions (``.dense()`` gives the matrices).
        """
        monotone = self.dynamics == "cumulative"
        size, step = theta.shape[0], float(theta[1] - theta[0])
        cache: dict[float, ToeplitzStep] = {}
        out = []
        for gap in np.diff(timeline.days).tolist():
            if gap not in cache:
                cache[gap] = step_operator(size, step, q * math.sqrt(gap), monotone)
            out.append(cache[gap])
        if timeline.has_total:
            out.append(step_operator(size, step, self.total_scale, monotone))
        return out

    @staticmethod
    def node_log_evidence(
        timeline: Timeline, ell: FloatArray, temper: FloatArray
    ) -> FloatArray:
        """log e_j(θ_g) = Σ_{i at node j} ℓ_i(θ_g)/k_u(i), shape (N, G)."""
        out = np.zeros((timeline.n_nodes, ell.shape[1]))
        np.add.at(out, timeline.node, temper[:, None] * ell)
        return out

    def _passes(
        self, timeline: Timeline, theta: FloatArray, ell: FloatArray, temper: FloatArray,
        prior: tuple[float, float], candidates: Sequence[float],
    ) -> tuple[FloatArray, FloatArray]:
        """Marginals (K, N, G) and log p(y | q_k) (K,) for every candidate."""
        log_ev = self.node_log_evidence(timeline, ell, temper)
        lp = log_prior(theta, *prior)
        marg = np.empty((len(candidates), timeline.n_nodes, theta.shape[0]))
        log_z = np.empty(len(candidates))
        for k, q in enumerate(candidates):
            chain = forward_backward(lp, log_ev, self.transitions(timeline, theta, q))
            marg[k] = chain.marginals
            log_z[k] = chain.log_evidence
        return marg, log_z

    # -- fit -----------------------------------------------------------------------------------

    def fit(
        self,
        enc: EncodedClaims,
        as_of: Sequence[DayLike | None],
        horizons: Sequence[str] | None = None,
        *,
        units: IntArray | None = None,
        levels: Sequence[float] = (0.5, 0.9),
        at: DayLike | None = None,
    ) -> DynamicFit:
        """Posterior of the level on every node and of the eventual total.

        Parameters
        ----------
        enc : EncodedClaims
            n ≥ 1 claims on the working scale (:func:`models.encode.encode`).
        as_of : sequence of DayLike or None, length n
            Each claim's date (:mod:`models.dynamics.timeline`; None: the latest date).
        horizons : sequence of {"level", "total"}, length n, or None
            What each claim speaks of (None: all ``level``).
        units : (n,) int or None
            Evidence unit of each claim, 0..U−1 (None: every claim its own unit).
        levels : sequence of float
            Interval levels in (0, 1).
        at : DayLike or None
            The day of the estimate (None: the latest claim day); it becomes a node.

        Returns
        -------
        DynamicFit

        Raises
        ------
        ReconcileError
            Bad dates, horizons, levels, or lengths that do not match ``enc``.
        """
        checked = check_levels(levels)
        timeline = build_timeline(as_of, horizons, at)
        if timeline.node.shape[0] != enc.n:
            raise InvalidClaimError(
                f"Got {timeline.node.shape[0]} dates for {enc.n} claims; give one per claim.",
                "claims",
            )
        if units is None:
            temper = np.ones(enc.n)
        else:
            if units.shape[0] != enc.n:
                raise InvalidClaimError(
                    f"Got {units.shape[0]} evidence units for {enc.n} claims.", "claims")
            temper = 1.0 / np.bincount(units)[units]
        prior = RobustEstimator(prior_scale=self.prior_scale).prior(enc)
        learned = self.drift_scale is None
        candidates = self.drift_grid if self.drift_scale is None else (self.drift_scale,)

        # First pass: where is the posterior, for any candidate?
        coarse = np.linspace(*wide_range(enc, *prior), COARSE_POINTS)
        right, wrong = log_likelihood_parts(enc, coarse)
        marg, log_z = self._passes(timeline, coarse, np.logaddexp(right, wrong), temper, prior,
                                   candidates)
        carried = np.exp(log_z - log_z.max())
        carried /= carried.sum()
        # A drift whose evidence is under e^-KEEP_NATS of the rest's adds under that much to the
        # averaged marginals: it does not widen the fine grid's region. (On a long slow series
        # the fastest drift's marginals span tens of log units; its evidence, ~e^-300.)
        weighty = carried >= math.exp(-KEEP_NATS)
        lo, hi = fine_range(enc, coarse, marg[weighty].reshape(-1, coarse.shape[0]))
        # The drifts that carry weight in the first pass set the step a cumulative walk needs.
        step = resolving_step(np.diff(timeline.days),
                              np.array(candidates)[carried >= RESOLVE_WEIGHT],
                              self.dynamics == "cumulative")
        theta = np.linspace(lo, hi, fine_size(enc, hi - lo, self.grid_size,
                                              self.max_grid_size, step))

        right, wrong = log_likelihood_parts(enc, theta)
        ell = np.logaddexp(right, wrong)
        # The drifts that do not count (above) are not run again: their weight is 0 and their
        # evidence -inf, under e^-KEEP_NATS of the others' in the first pass.
        marg = np.zeros((len(candidates), timeline.n_nodes, theta.shape[0]))
        log_z = np.full(len(candidates), -np.inf)
        counted = [q for q, w in zip(candidates, weighty.tolist(), strict=True) if w]
        marg[weighty], log_z[weighty] = self._passes(timeline, theta, ell, temper, prior, counted)
        best = int(np.argmax(log_z))
        if self.drift_fit == "average":
            weights = np.exp(log_z - log_z[best])
            weights /= weights.sum()
        else:
            weights = np.zeros(len(candidates))
            weights[best] = 1.0
        marginals = np.einsum("k,kng->ng", weights, marg)

        probs = np.array([0.5] + [p for q in checked for p in ((1 - q) / 2, (1 + q) / 2)])
        found = np.array([grid_quantiles(theta, m, probs) for m in marginals])
        responsibility = np.exp(wrong - ell)  # P(wrong | θ) per claim, (n, G)
        p_wrong = np.einsum("ng,ng->n", responsibility, marginals[timeline.node])
        prior_p_wrong = np.exp(enc.per_claim_logsumexp(enc.log_pi + enc.log_1mc))
        return DynamicFit(
            timeline=timeline,
            theta=theta,
            marginals=marginals,
            medians=found[:, 0],
            intervals=found[:, 1:].reshape(marginals.shape[0], len(checked), 2),
            levels=checked,
            p_wrong=np.clip(p_wrong, 0.0, 1.0),
            prior_p_wrong=prior_p_wrong,
            drift_scale=float(candidates[best]),
            drift_learned=learned,
            drift_candidates=np.array(candidates, dtype=np.float64),
            drift_log_evidence=log_z,
            drift_weights=weights,
        )
