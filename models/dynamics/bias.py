"""Per-group reporting bias learned jointly over many moving quantities.

Sources with a stake in a figure report it off the truth by a factor of their own: a side in a
war may overstate the other side's losses and understate its own. With many quantities (loss
types) followed over time by the same groups of sources, that factor can be learned: within a
quantity only the *differences* between the groups' figures say anything about bias, and the
groups meet in many quantities.

Symbols
-------
k = 1…K      : the quantities (questions), each followed by :mod:`models.dynamics.estimator`.
θ_kj         : level of quantity k on its node j, on the working scale (log of the count).
s = 1…S      : the bias groups (e.g. "Ukrainian sources on Russian losses"); s(i) is claim i's.
β_s          : the bias of group s on the working scale: a claim's perceived value is
               θ + b_i + β_s(i) + noise, so e^β_s is the factor by which the group overstates
               (β_s > 0) or understates (β_s < 0) on the log scale.
b_i          : claim i's own bias from its source profile (0 for a graded source).
R            : the reference groups, whose β is fixed at 0.
τ_β          : standard deviation of the weak Normal prior of a free β_s.
σ_i, ρ_i(θ)  : spread of claim i when right, and P(right | θ, y_i), as in :mod:`models.likelihood`.
t_i          : 1/k_u, the claim's tempering for echoes (as in the filter).
δ_k          : a shift of quantity k's whole trajectory (the expanded parameter of PX-EM).

Model
-----
For every quantity the filter's model (:mod:`models.dynamics.estimator`) with each claim's
bias b_i + β_s(i); β_s ~ N(0, τ_β²) for s ∉ R and β_s = 0 for s ∈ R.

Identification. Adding a constant to every θ_kj and subtracting it from every β_s leaves the
likelihood unchanged: bias is only defined against a reference. Fixing β = 0 for the groups in
R says "the reference groups' figures are, on average, right". Each connected component of the
graph linking groups to the quantities they report on needs a reference group of its own; a
component without one is identified only by the prior, and a warning says so. With R empty the
prior alone picks the common level: the free direction is set where Σ_s β_s² is least, i.e.
the (unweighted) mean bias of each component is 0 -- a soft sum-to-zero constraint, much as the
zero-mean hierarchical prior of Radford et al. (2023) does.

Algorithm
---------
Expectation-maximisation (Dempster, Laird & Rubin 1977) over the trajectories and the
right/wrong indicators, with parameter expansion (Liu, Rubin & Wu 1998):

1. E-step: each quantity is fitted by the filter, unchanged, with the claims' bias set to
   b_i + β_s(i) (:class:`~models.likelihood.EncodedClaims` carries a per-claim bias), giving
   the node marginals γ_kj(θ) and ρ_i(θ).
2. M-step: the expected complete-data log-likelihood of the right parts is quadratic in β and
   δ. With the grid weights ω_i(θ_g) = t_i γ_{node(i)}(θ_g) ρ_i(θ_g) / σ_i², the claim's
   information W_i = Σ_g ω_i(θ_g) and its weighted residual M_i = Σ_g ω_i(θ_g)(ū_i(θ_g) − b_i),
   where ū_i(θ) = E[x̃_i − θ | y_i, right, θ] is the figure less the level for a point and the
   truncated-Normal mean for a bound or a range (the perceived value of "at least a" is
   N(θ + b_i + β, σ_i²) cut to [a, ∞): censored-data EM), β and δ solve

       minimise  Σ_i W_i (M_i/W_i − β_s(i) − δ_k(i))² + Σ_{s∉R} β_s² / τ_β²,

   a linear system of S − |R| + K unknowns. δ is then dropped: the next E-step moves the
   trajectories itself. Without δ, EM would crawl: when one group supplies most of a
   quantity's claims, its trajectory follows that group and the residuals return almost the
   old bias (a rate near the group's share of the information); with δ the whole shift is
   taken in one step, and a quantity reported by a single group tells nothing about bias, as
   it should.
3. Repeat until no β moves by more than ``tol``. Wrong claims (ρ → 0) drop out of the
   M-step: the update is a robust, p_wrong-weighted mean of log residuals. Pairs of EM steps
   are extrapolated with SQUAREM (:func:`squarem`; Varadhan & Roland 2008).

Start. The robust likelihood can have several optima: from β = 0, a quantity whose trajectory
is set by the group with most claims can keep it there and call the other groups' figures
wrong. EM therefore starts from :func:`pairwise_start`, the medians of the log ratios of
figures that different groups gave within a few days of each other; ``log_evidence`` compares
the optima reached from different starts.

Drift. The filter learns each quantity's drift on the first pass; later passes average only
the candidate drifts that kept at least ``drift_keep`` of the weight (with many claims, one or
two), which saves most of the time.

Uncertainty. ``se_curvature`` is from the inverse of the M-step's normal matrix (δ profiled
out): the information in the claims given the trajectories' shapes; it ignores that categories
differ in bias. ``se_jackknife`` is the delete-one-quantity jackknife of the M-step at the
trajectories of the fit (Efron 1982): it measures how much the estimate rests on individual
quantities, so it includes the differences between loss types. ``se`` reports the larger.

References
----------
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data
via the EM algorithm. JRSS B 39(1), 1-38. doi:10.1111/j.2517-6161.1977.tb01600.x.
Liu, C., Rubin, D. B. & Wu, Y. N. (1998). Parameter expansion to accelerate EM: the PX-EM
algorithm. Biometrika 85(4), 755-770. doi:10.1093/biomet/85.4.755.
Varadhan, R. & Roland, C. (2008). Simple and globally convergent methods for accelerating
the convergence of any EM algorithm. Scand. J. Statist. 35(2), 335-353.
doi:10.1111/j.1467-9469.2007.00585.x.
Efron, B. (1982). The Jackknife, the Bootstrap and Other Resampling Plans. SIAM.
doi:10.1137/1.9781611970319.
Radford, B. J., Dai, Y., Stoehr, N., Schein, A., Fernandez, M. & Sajid, H. (2023). Estimating
conflict losses and reporting biases. PNAS 120(34), e2307372120. doi:10.1073/pnas.2307372120.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal, get_args

import numpy as np
from scipy.special import log_ndtr, logsumexp

from models.dynamics.estimator import DynamicEstimator, DynamicFit
from models.dynamics.timeline import DayLike, build_timeline
from models.errors import InvalidClaimError, InvalidParameterError
from models.likelihood import (
    KIND_AT_LEAST,
    KIND_AT_MOST,
    KIND_POINT,
    KIND_RANGE,
    EncodedClaims,
    FloatArray,
    IntArray,
    log_likelihood_parts,
    log_normal_interval,
)
from models.result import Warning

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: Ridge on the trajectory shifts δ_k: keeps the M-step's normal matrix invertible when every
#: claim of a quantity is judged wrong (W = 0); far below any claim's information (1/σ² ≥ 1).
_DELTA_RIDGE = 1e-9

Start = Literal["pairs", "zero"]
STARTS: Final[tuple[str, ...]] = get_args(Start)

#: One E-step job: the filter, the claims with their biases, dates, horizons, units, levels.
FitJob = tuple[DynamicEstimator, EncodedClaims, tuple[DayLike | None, ...],
               tuple[str, ...] | None, IntArray | None, tuple[float, ...]]
#: Something that maps a function over jobs, like the builtin ``map`` (or an executor's).
Mapper = Callable[[Callable[[FitJob], DynamicFit], Iterable[FitJob]], Iterable[DynamicFit]]


@dataclass(frozen=True, slots=True)
class BiasQuestion:
    """One moving quantity: its claims on the working scale, their dates and bias groups.

    Attributes
    ----------
    enc : EncodedClaims
        n claims, one credibility hypothesis each (graded or numeric sources).
    as_of : tuple of DayLike or None, length n
        Each claim's date.
    groups : tuple of str, length n
        Each claim's bias group.
    horizons : tuple of {"level", "total"}, length n, or None
        What each claim speaks of (None: all ``level``).
    units : (n,) int or None
        Evidence units 0..U−1 (echoes count once), as for the filter.
    name : str
        A label for reports.
    """

    enc: EncodedClaims
    as_of: tuple[DayLike | None, ...]
    groups: tuple[str, ...]
    horizons: tuple[str, ...] | None = None
    units: IntArray | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class GroupBias:
    """The learned bias of one group.

    Attributes
    ----------
    group : str
    bias : float
        β_s on the working scale (log units for counts); 0 for a reference group.
    se : float
        max(se_curvature, se_jackknife) (the curvature alone when the jackknife is undefined).
    se_curvature, se_jackknife : float
        See the module docstring; the jackknife is NaN when fewer than two quantities inform
        the group, both are 0 for a reference group.
    n_claims : int
        Claims of the group.
    n_questions : int
        Quantities where the group's claims meet another group's (only these inform β_s).
    reference : bool
    """

    group: str
    bias: float
    se: float
    se_curvature: float
    se_jackknife: float
    n_claims: int
    n_questions: int
    reference: bool

    @property
    def factor(self) -> float:
        """e^β: the factor by which the group's figures exceed the truth (log scale)."""
        return math.exp(self.bias)


@dataclass(frozen=True, slots=True)
class BiasFit:
    """Result of :meth:`SourceBiasEstimator.fit`.

    Attributes
    ----------
    groups : tuple of GroupBias
        One per group, sorted by name.
    fits : tuple of DynamicFit
        Each quantity's filter fit with the learned biases applied, in input order.
    iterations : int
        E-steps run (each followed by an M-step).
    converged : bool
        Whether the last EM step moved no β by more than the tolerance.
    changes : (iterations,) float
        max_s |F(β)_s − β_s| at each E-step (F: one EM step).
    log_evidence : float
        Σ_k log p(y_k | β) + Σ_{s∉R} log N(β_s; 0, τ_β²) at the last E-step, each quantity's
        evidence averaged over its (kept) drift candidates: compares fits of the same claims
        from different starts (same filter settings).
    warnings : tuple of Warning
    """

    groups: tuple[GroupBias, ...]
    fits: tuple[DynamicFit, ...]
    iterations: int
    converged: bool
    changes: FloatArray
    log_evidence: float
    warnings: tuple[Warning, ...]

    def of(self, group: str) -> GroupBias:
        """The entry of ``group``.

        Raises
        ------
        KeyError
            For a group not in the fit.
        """
        for entry in self.groups:
            if entry.group == group:
                return entry
        raise KeyError(group)

    @property
    def bias(self) -> dict[str, float]:
        """β_s by group."""
        return {g.group: g.bias for g in self.groups}


def fit_question(job: FitJob) -> DynamicFit:
    """One E-step: the filter on one quantity's claims (a module-level function, so that a
    process pool can run it)."""
    estimator, enc, as_of, horizons, units, levels = job
    return estimator.fit(enc, as_of, horizons, units=units, levels=levels)


def imputed_offset(
    kind: IntArray, a: FloatArray, b: FloatArray, theta: FloatArray, mu: FloatArray,
    sigma: FloatArray,
) -> FloatArray:
    """E[x̃ − θ | claim, right, θ] on a grid: what a right claim says of x̃ − θ.

    Parameters
    ----------
    kind : (n,) int
        KIND_* codes.
    a, b : (n,) float
        The claim's ends on the working scale (a = b for a point; ±inf for an open side).
    theta : (n, G) float
        The grid of each claim's node.
    mu : (n,) float
        The claim's current total bias b_i + β_s(i).
    sigma : (n,) float
        σ_i.

    Returns
    -------
    (n, G) float

    Notes
    -----
    Point: x − θ. Otherwise x̃ − θ ~ N(μ, σ²) cut to [a − θ, b − θ], whose mean is
    μ + σ (φ(α) − φ(β')) / (Φ(β') − Φ(α)) with α = (a − θ − μ)/σ, β' = (b − θ − μ)/σ
    (Johnson, Kotz & Balakrishnan 1994, §10.1). The ratios are taken in log space (log_ndtr)
    so a bound far in its tail gives its limit (the end itself) instead of 0/0; the result is
    clipped to the cut, which it lies in exactly.
    """
    lo = a[:, None] - theta
    hi = b[:, None] - theta
    out = np.array(np.broadcast_to(lo, theta.shape), dtype=np.float64)  # points: x − θ
    # Bounds and ranges are few: the Normal tails are evaluated on their rows only.
    for code in (KIND_AT_LEAST, KIND_AT_MOST, KIND_RANGE):
        rows = np.flatnonzero(kind == code)
        if rows.size == 0:
            continue
        s, m = sigma[rows, None], mu[rows, None]
        alpha = (lo[rows] - m) / s
        beta = (hi[rows] - m) / s
        with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
            log_phi_a = -0.5 * alpha * alpha - _LOG_SQRT_2PI
            log_phi_b = -0.5 * beta * beta - _LOG_SQRT_2PI
            if code == KIND_AT_LEAST:  # [a, ∞): μ + σ φ(α)/Φ(−α)
                mean = m + s * np.exp(log_phi_a - log_ndtr(-alpha))
            elif code == KIND_AT_MOST:  # (−∞, b]: μ − σ φ(β')/Φ(β')
                mean = m - s * np.exp(log_phi_b - log_ndtr(beta))
            else:
                log_mass = log_normal_interval(alpha, beta)
                mean = m + s * (np.exp(log_phi_a - log_mass) - np.exp(log_phi_b - log_mass))
        # The truncated mean lies in the cut; clipping removes the rounding of far tails.
        out[rows] = np.minimum(np.maximum(mean, lo[rows]), hi[rows])
    return out


def claim_statistics(
    enc: EncodedClaims, fit: DynamicFit, temper: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Each claim's information W_i and weighted offset Σ_g ω_i(θ_g) ū_i(θ_g) (module Notes).

    Parameters
    ----------
    enc : EncodedClaims
        The claims with their total biases b_i + β_s(i) in ``enc.bias`` (one row per claim).
    fit : DynamicFit
        The filter's fit of those claims.
    temper : (n,) float
        t_i.

    Returns
    -------
    W, U : (n,) float
        U_i/W_i estimates b_i + β_s(i) + δ_k; the M-step subtracts W_i b_i.
    """
    theta = fit.theta
    right, wrong = log_likelihood_parts(enc, theta)
    rho = np.exp(right - np.logaddexp(right, wrong))
    gamma = fit.marginals[fit.timeline.node]
    omega = (temper / enc.sigma ** 2)[:, None] * gamma * rho
    grid = np.broadcast_to(theta, gamma.shape)
    u = imputed_offset(enc.kind, enc.a, enc.b, grid, enc.bias, enc.sigma)
    return omega.sum(axis=1), np.einsum("ng,ng->n", omega, u)


def solve_m_step(
    w: FloatArray, m: FloatArray, free: IntArray, prior_sd: float,
) -> tuple[FloatArray, FloatArray]:
    """The M-step's linear system for the free biases and the shifts δ.

    Parameters
    ----------
    w, m : (S, K) float
        W_sk = Σ_{i ∈ s, k} W_i and M_sk = Σ_{i ∈ s, k} M_i (profile bias removed).
    free : (F,) int
        The groups whose β is free (the others are fixed at 0).
    prior_sd : float
        τ_β.

    Returns
    -------
    beta : (S,) float
        0 for the fixed groups.
    cov : (F, F) float
        The inverse normal matrix's β block (δ profiled out).
    """
    n_groups, n_questions = w.shape
    f = free.shape[0]
    size = f + n_questions
    h = np.zeros((size, size))
    rhs = np.zeros(size)
    wf = w[free]
    h[:f, :f] = np.diag(wf.sum(axis=1) + 1.0 / prior_sd ** 2)
    h[:f, f:] = wf
    h[f:, :f] = wf.T
    h[f:, f:] = np.diag(w.sum(axis=0) + _DELTA_RIDGE)
    rhs[:f] = m[free].sum(axis=1)
    rhs[f:] = m.sum(axis=0)
    inv = np.linalg.inv(h)
    sol = inv @ rhs
    beta = np.zeros(n_groups)
    beta[free] = sol[:f]
    return beta, np.asarray(inv[:f, :f], dtype=np.float64)


def squarem(b0: FloatArray, b1: FloatArray, b2: FloatArray, max_step: float) -> FloatArray:
    """The SQUAREM extrapolation of two EM steps b0 → b1 → b2 (scheme S3).

    Parameters
    ----------
    b0, b1, b2 : (S,) float
        b1 = F(b0), b2 = F(b1).
    max_step : float
        Largest |α| (≥ 1); α = −1 gives b2, the plain double step.

    Returns
    -------
    (S,) float

    Notes
    -----
    With r = b1 − b0 and v = b2 − 2 b1 + b0, the step is b0 − 2α r + α² v with
    α = −‖r‖/‖v‖, clamped to [−max_step, −1] (Varadhan & Roland 2008,
    doi:10.1111/j.1467-9469.2007.00585.x). EM here contracts slowly because a group that
    supplies most of a quantity's claims drags its trajectory along: α measures that rate and
    jumps ahead along it.
    """
    r = b1 - b0
    v = b2 - b1 - r
    norm_v = float(np.linalg.norm(v))
    alpha = -1.0 if norm_v == 0.0 else -float(np.linalg.norm(r)) / norm_v
    alpha = min(-1.0, max(-max_step, alpha))
    return np.asarray(b0 - 2.0 * alpha * r + alpha * alpha * v, dtype=np.float64)


def pairwise_start(
    questions: Sequence[BiasQuestion], codes: Sequence[IntArray], n_groups: int,
    free: IntArray, prior_sd: float, window: float,
) -> FloatArray:
    """A robust starting point for EM from figures of different groups made close in time.

    Parameters
    ----------
    questions : sequence of BiasQuestion
    codes : sequence of (n_k,) int
        Each claim's group index.
    n_groups : int
    free : (F,) int
        The groups whose β is free.
    prior_sd : float
        τ_β.
    window : float
        Days within which two figures are compared.

    Returns
    -------
    (S,) float

    Notes
    -----
    For each pair of level claims i, j of groups s < t about the same quantity, made at most
    ``window`` days apart, d_ij = (x_i − b_i) − (x_j − b_j) estimates β_s − β_t (a point's
    figure, a range's middle; bounds are left out). With m_st the median of the d_ij and n_st
    their number, the start minimises Σ n_st (m_st − β_s + β_t)² + Σ_{s∉R} β_s²/τ_β².
    The medians keep wrong figures from steering the start; EM from β = 0 can instead settle
    where the most frequent group's figures define the trajectory and the others' are taken
    as wrong (a local optimum of the robust likelihood).
    """
    diffs: dict[tuple[int, int], list[FloatArray]] = {}
    for q, code in zip(questions, codes, strict=True):
        tl = build_timeline(q.as_of, q.horizons)
        enc = q.enc
        pointlike = (enc.kind == KIND_POINT) | (np.isfinite(enc.a) & np.isfinite(enc.b))
        use = np.flatnonzero(pointlike & (tl.node < tl.n_levels))
        if use.size < 2:
            continue
        x = 0.5 * (enc.a[use] + enc.b[use]) - enc.bias[use]
        day, grp = tl.claim_day[use], code[use]
        near = (np.abs(day[:, None] - day[None, :]) <= window) & (grp[:, None] < grp[None, :])
        ii, jj = np.nonzero(near)
        for s, t in set(zip(grp[ii].tolist(), grp[jj].tolist(), strict=True)):
            sel = (grp[ii] == s) & (grp[jj] == t)
            diffs.setdefault((s, t), []).append(x[ii[sel]] - x[jj[sel]])
    position = np.full(n_groups, -1)
    position[free] = np.arange(free.shape[0])
    f = free.shape[0]
    h = np.eye(f) / prior_sd ** 2
    rhs = np.zeros(f)
    for (s, t), parts in diffs.items():
        d = np.concatenate(parts)
        n, med = float(d.size), float(np.median(d))
        ps, pt = int(position[s]), int(position[t])
        # n (med − β_s + β_t)²: a fixed group's β is 0 and drops out.
        if ps >= 0:
            h[ps, ps] += n
            rhs[ps] += n * med
        if pt >= 0:
            h[pt, pt] += n
            rhs[pt] -= n * med
        if ps >= 0 and pt >= 0:
            h[ps, pt] -= n
            h[pt, ps] -= n
    beta = np.zeros(n_groups)
    beta[free] = np.linalg.solve(h, rhs)
    return beta


def _components(presence: np.ndarray) -> list[set[int]]:
    """Connected components of groups linked through shared questions, (S, K) bool."""
    n_groups = presence.shape[0]
    parent = list(range(n_groups))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for col in presence.T:
        members = np.flatnonzero(col).tolist()
        for other in members[1:]:
            parent[root(other)] = root(members[0])
    out: dict[int, set[int]] = {}
    for s in range(n_groups):
        out.setdefault(root(s), set()).add(s)
    return list(out.values())


class SourceBiasEstimator:
    """Each group's reporting bias, learned jointly over many moving quantities (module
    docstring).

    Parameters
    ----------
    reference : sequence of str
        Groups whose bias is fixed at 0 (may be empty: a soft sum-to-zero, see Identification).
    estimator : DynamicEstimator or None
        The filter for every quantity (default ``DynamicEstimator("cumulative")``).
    prior_sd : float
        τ_β > 0 (default 1: a group's factor within e^±2 ≈ ×0.14–×7.4 a priori).
    max_iter : int
        At most this many E-steps (≥ 1).
    tol : float
        Stop when an EM step moves no β by more than this (> 0; working units).
    drift_keep : float
        After the first pass, keep the candidate drifts with at least this weight, in [0, 1).
    levels : sequence of float
        Interval levels of the returned fits, in (0, 1).
    accelerate : bool
        Extrapolate pairs of EM steps with SQUAREM (:func:`squarem`; default True).
    max_step : float
        SQUAREM's largest step length |α| (≥ 1).
    start : {"pairs", "zero"}
        EM's starting point: :func:`pairwise_start` (default) or β = 0.
    pair_window : float
        Days within which :func:`pairwise_start` compares two figures (≥ 0).

    Notes
    -----
    No state changes on :meth:`fit`: one instance can serve concurrent calls.
    """

    def __init__(
        self,
        reference: Sequence[str],
        *,
        estimator: DynamicEstimator | None = None,
        prior_sd: float = 1.0,
        max_iter: int = 30,
        tol: float = 1e-3,
        drift_keep: float = 0.01,
        levels: Sequence[float] = (0.5, 0.9),
        accelerate: bool = True,
        max_step: float = 8.0,
        start: Start = "pairs",
        pair_window: float = 7.0,
    ) -> None:
        if isinstance(reference, str):
            raise InvalidParameterError(
                f"Invalid reference {reference!r}; must be a sequence of group names.",
                "reference")
        self.reference = tuple(str(r) for r in reference)
        self.estimator = estimator or DynamicEstimator("cumulative")
        if isinstance(prior_sd, bool) or not (math.isfinite(prior_sd) and prior_sd > 0.0):
            raise InvalidParameterError(
                f"Invalid prior_sd {prior_sd!r}; must be a positive number.", "prior_sd")
        if isinstance(max_iter, bool) or not (isinstance(max_iter, int) and max_iter >= 1):
            raise InvalidParameterError(
                f"Invalid max_iter {max_iter!r}; must be an integer ≥ 1.", "max_iter")
        if isinstance(tol, bool) or not (math.isfinite(tol) and tol > 0.0):
            raise InvalidParameterError(f"Invalid tol {tol!r}; must be a positive number.",
                                        "tol")
        if isinstance(drift_keep, bool) or not (math.isfinite(drift_keep)
                                                and 0.0 <= drift_keep < 1.0):
            raise InvalidParameterError(
                f"Invalid drift_keep {drift_keep!r}; must lie in [0, 1).", "drift_keep")
        for j, q in enumerate(levels):
            if isinstance(q, bool) or not (math.isfinite(q) and 0.0 < q < 1.0):
                raise InvalidParameterError(f"Invalid level {q!r}; must lie in (0, 1).",
                                            f"levels.{j}")
        if isinstance(max_step, bool) or not (math.isfinite(max_step) and max_step >= 1.0):
            raise InvalidParameterError(
                f"Invalid max_step {max_step!r}; must be a number ≥ 1.", "max_step")
        if start not in STARTS:
            raise InvalidParameterError(
                f"Invalid start {start!r}; must be one of {', '.join(STARTS)}.", "start")
        if isinstance(pair_window, bool) or not (math.isfinite(pair_window)
                                                 and pair_window >= 0.0):
            raise InvalidParameterError(
                f"Invalid pair_window {pair_window!r}; must be a number ≥ 0.", "pair_window")
        self.start: Start = start
        self.pair_window = float(pair_window)
        self.accelerate = bool(accelerate)
        self.max_step = float(max_step)
        self.prior_sd = float(prior_sd)
        self.max_iter = max_iter
        self.tol = float(tol)
        self.drift_keep = float(drift_keep)
        self.levels = tuple(float(q) for q in levels)

    # -- pieces --------------------------------------------------------------------------------

    def _narrowed(self, fit: DynamicFit) -> DynamicEstimator:
        """The filter with only the drift candidates that carried weight in ``fit``."""
        base = self.estimator
        if base.drift_scale is not None:
            return base
        kept = fit.drift_candidates[fit.drift_weights >= self.drift_keep]
        if kept.size == 0:
            kept = np.array([fit.drift_scale])
        return DynamicEstimator(
            base.dynamics, drift_grid=tuple(kept.tolist()), drift_fit=base.drift_fit,
            total_scale=base.total_scale, prior_scale=base.prior_scale,
            grid_size=base.grid_size, max_grid_size=base.max_grid_size,
        )

    @staticmethod
    def _check(questions: Sequence[BiasQuestion]) -> None:
        if len(questions) == 0:
            raise InvalidClaimError("At least one question is required.", "questions")
        for k, q in enumerate(questions):
            n = q.enc.n
            if q.enc.owner.shape[0] != n:
                raise InvalidClaimError(
                    f"Question {k} has claims with several credibility hypotheses; learn "
                    "biases with graded or numeric sources (one hypothesis per claim).",
                    f"questions.{k}",
                )
            if len(q.as_of) != n or len(q.groups) != n:
                raise InvalidClaimError(
                    f"Question {k} has {n} claims but {len(q.as_of)} dates and "
                    f"{len(q.groups)} groups; give one of each per claim.", f"questions.{k}",
                )
            for i, g in enumerate(q.groups):
                if not isinstance(g, str) or not g:
                    raise InvalidClaimError(
                        f"Invalid group {g!r}; must be a non-empty string.",
                        f"questions.{k}.groups.{i}",
                    )

    # -- fit -----------------------------------------------------------------------------------

    def fit(self, questions: Sequence[BiasQuestion], *, mapper: Mapper | None = None
            ) -> BiasFit:
        """Learn the groups' biases and each quantity's trajectory given them.

        Parameters
        ----------
        questions : sequence of BiasQuestion
            K ≥ 1 quantities.
        mapper : callable or None
            ``mapper(fit_question, jobs)`` runs the E-step's filter fits (default: the builtin
            ``map``; an executor's ``map`` runs them in parallel).

        Returns
        -------
        BiasFit

        Raises
        ------
        ReconcileError
            No question, lengths that do not match, claims with several hypotheses, or a
            reference group that no claim belongs to.
        """
        self._check(questions)
        run: Mapper = mapper if mapper is not None else map
        names = sorted({g for q in questions for g in q.groups})
        index = {g: s for s, g in enumerate(names)}
        unknown = [r for r in self.reference if r not in index]
        if unknown:
            raise InvalidParameterError(
                f"Invalid reference {unknown[0]!r}; no claim belongs to it (groups: "
                f"{', '.join(names)}).", "reference")
        is_ref = np.array([g in self.reference for g in names])
        free = np.flatnonzero(~is_ref).astype(np.int64)
        n_groups, n_questions = len(names), len(questions)
        codes = [np.array([index[g] for g in q.groups], dtype=np.int64) for q in questions]
        tempers = [np.ones(q.enc.n) if q.units is None
                   else 1.0 / np.bincount(q.units)[q.units] for q in questions]
        profile_bias = [q.enc.bias.copy() for q in questions]

        presence = np.zeros((n_groups, n_questions), dtype=bool)
        for k, c in enumerate(codes):
            presence[c, k] = True
        shared = presence & (presence.sum(axis=0) >= 2)[None, :]

        def e_step(beta: FloatArray, filters: Sequence[DynamicEstimator]
                   ) -> tuple[list[DynamicFit], list[EncodedClaims]]:
            encs = [replace(q.enc, bias=profile_bias[k] + beta[codes[k]])
                    for k, q in enumerate(questions)]
            jobs: list[FitJob] = [
                (filters[k], encs[k], tuple(q.as_of), q.horizons, q.units, self.levels)
                for k, q in enumerate(questions)
            ]
            return list(run(fit_question, jobs)), encs

        def m_step(fits: Sequence[DynamicFit], encs: Sequence[EncodedClaims]
                   ) -> tuple[FloatArray, FloatArray]:
            w = np.zeros((n_groups, n_questions))
            m = np.zeros((n_groups, n_questions))
            for k in range(n_questions):
                wi, mi = claim_statistics(encs[k], fits[k], tempers[k])
                np.add.at(w[:, k], codes[k], wi)
                np.add.at(m[:, k], codes[k], mi - wi * profile_bias[k])
            return w, m

        filters: list[DynamicEstimator] = [self.estimator] * n_questions

        def update(beta: FloatArray) -> tuple[FloatArray, list[DynamicFit],
                                              list[EncodedClaims]]:
            """One EM map β → F(β), with the filters' fits at β."""
            fits, encs = e_step(beta, filters)
            w, m = m_step(fits, encs)
            return solve_m_step(w, m, free, self.prior_sd)[0], fits, encs

        # β is where the last E-step ran; ``new`` = F(β). The answer is F(β) with the fits at
        # β, which differ by less than ``tol``.
        beta = (pairwise_start(questions, codes, n_groups, free, self.prior_sd,
                               self.pair_window)
                if self.start == "pairs" else np.zeros(n_groups))
        new, fits, encs = update(beta)
        filters = [self._narrowed(f) for f in fits]
        changes = [float(np.max(np.abs(new - beta)))]
        while changes[-1] >= self.tol and len(changes) < self.max_iter:
            if not self.accelerate or len(changes) + 2 > self.max_iter:
                beta = new
                new, fits, encs = update(beta)
                changes.append(float(np.max(np.abs(new - beta))))
                continue
            second, fits2, encs2 = update(new)
            changes.append(float(np.max(np.abs(second - new))))
            if changes[-1] < self.tol:
                beta, new, fits, encs = new, second, fits2, encs2
                break
            beta = squarem(beta, new, second, self.max_step)
            new, fits, encs = update(beta)
            changes.append(float(np.max(np.abs(new - beta))))
        converged = changes[-1] < self.tol
        beta = new

        # Uncertainty at the fit: curvature, and the delete-one-quantity jackknife.
        w, m = m_step(fits, encs)
        _, cov = solve_m_step(w, m, free, self.prior_sd)
        se_curv = np.zeros(n_groups)
        se_curv[free] = np.sqrt(np.maximum(np.diag(cov), 0.0))
        replicates = np.empty((n_questions, n_groups))
        for k in range(n_questions):
            keep = np.arange(n_questions) != k
            replicates[k], _ = solve_m_step(w[:, keep], m[:, keep], free, self.prior_sd)
        spread = replicates - replicates.mean(axis=0)
        se_jack = np.sqrt((n_questions - 1) / n_questions * (spread ** 2).sum(axis=0))
        informed = shared.sum(axis=1)
        se_jack = np.where(informed >= 2, se_jack, np.nan)
        se_jack[is_ref] = 0.0

        groups = tuple(
            GroupBias(
                group=g, bias=float(beta[s]),
                se=float(se_curv[s] if not np.isfinite(se_jack[s])
                         else max(se_curv[s], se_jack[s])),
                se_curvature=float(se_curv[s]), se_jackknife=float(se_jack[s]),
                n_claims=int(sum(int((c == s).sum()) for c in codes)),
                n_questions=int(informed[s]), reference=bool(is_ref[s]),
            )
            for s, g in enumerate(names)
        )
        evidence = sum(float(logsumexp(f.drift_log_evidence))
                       - math.log(f.drift_log_evidence.shape[0]) for f in fits)
        log_prior = float(np.sum(-0.5 * (beta[free] / self.prior_sd) ** 2
                                 - math.log(self.prior_sd) - _LOG_SQRT_2PI))
        return BiasFit(
            groups=groups, fits=tuple(fits), iterations=len(changes), converged=converged,
            changes=np.array(changes), log_evidence=evidence + log_prior,
            warnings=tuple(self._warnings(names, is_ref, shared, converged)),
        )

    def _warnings(self, names: Sequence[str], is_ref: np.ndarray, shared: np.ndarray,
                  converged: bool) -> list[Warning]:
        out: list[Warning] = []
        for comp in _components(shared):
            members = sorted(comp)
            if len(members) > 1 and not is_ref[members].any():
                out.append(Warning(
                    "no_reference",
                    "No reference group among " + ", ".join(names[s] for s in members)
                    + "; their common level is set by the prior (mean bias 0).",
                ))
        lone = [names[s] for s in range(len(names))
                if not is_ref[s] and not shared[s].any()]
        if lone:
            out.append(Warning(
                "bias_not_informed",
                "No quantity has claims of these groups alongside another group's, so their "
                "bias is the prior's 0: " + ", ".join(lone) + ".",
            ))
        if not converged:
            out.append(Warning(
                "not_converged",
                f"The biases still moved by more than {self.tol:g} after {self.max_iter} "
                "iterations.",
            ))
        return out
