"""Per-group reporting bias learned jointly over many moving quantities.

Sources with a stake in a figure report it off the truth by a factor of their own: a side in a
war may overstate the other side's losses and understate its own. With many quantities (loss
types) followed over time by the same groups of sources, that factor can be learned: within a
quantity only the *differences* between the groups' figures say anything about bias, and the
groups meet in many quantities.

The model's data (:class:`BiasQuestion`, :class:`BiasFit`) live in
:mod:`models.dynamics.bias_types` and its steps, plain functions of arrays, in
:mod:`models.dynamics.bias_em`; this module ties them together and re-exports them.

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
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy.special import logsumexp

from models.checks import check_levels
from models.dynamics.bias_em import (
    LOG_SQRT_2PI,
    claim_statistics,
    group_components,
    imputed_offset,
    pairwise_start,
    solve_m_step,
    squarem,
)
from models.dynamics.bias_types import (
    STARTS,
    BiasFit,
    BiasQuestion,
    FitJob,
    GroupBias,
    Mapper,
    Start,
    fit_question,
)
from models.dynamics.estimator import DynamicEstimator, DynamicFit
from models.errors import InvalidClaimError, InvalidParameterError
from models.likelihood import EncodedClaims, FloatArray
from models.result import Warning

__all__ = [
    "STARTS",
    "BiasFit",
    "BiasQuestion",
    "FitJob",
    "GroupBias",
    "Mapper",
    "SourceBiasEstimator",
    "Start",
    "claim_statistics",
    "fit_question",
    "imputed_offset",
    "pairwise_start",
    "solve_m_step",
    "squarem",
]


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
        levels = check_levels(levels)
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
        self.levels = levels

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
                                 - math.log(self.prior_sd) - LOG_SQRT_2PI))
        return BiasFit(
            groups=groups, fits=tuple(fits), iterations=len(changes), converged=converged,
            changes=np.array(changes), log_evidence=evidence + log_prior,
            warnings=tuple(self._warnings(names, is_ref, shared, converged)),
        )

    def _warnings(self, names: Sequence[str], is_ref: np.ndarray, shared: np.ndarray,
                  converged: bool) -> list[Warning]:
        out: list[Warning] = []
        for comp in group_components(shared):
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
