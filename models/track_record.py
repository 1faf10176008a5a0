"""Learn each source's credibility from claims on questions whose true value became known.

Symbols
-------
r_i     : residual of claim i on the working scale, x_i − t (log x − log t on the log scale;
          (x − t)/P_i on the linear scale, P_i the claim's absolute precision as the reconciler
          reads it: its own sd, else the question's ``precision``, else |t|; see
          :mod:`models.encode`). A linear-scale truth of 0 is fine given P_i.
h_i     : the claim's hedge spread factor; f_i its factor on the odds of being wrong.
s_i     : the claim's own standard deviation on the working scale (from its sd or CI; the
          question's precision for a linear-scale claim without one, as the reconciler).
s_q     : the claim's question's shared error (``ResolvedClaim.shared``, on the working scale;
          :mod:`models.shared_error`): every claim of the question shares its miss δ_q, so it
          is part of the residual like the claim's own error, r_i = β_k + δ_q + h_i e_i + u_i,
          and s_i² above stands for s_i² + s_q² throughout (0 when the question has none).
          Left out, each source's spread absorbs s_q (the store learns s and the records
          together, :mod:`service.store.learning`).
w_i     : 1 / (claims of the same source on the same question): one source's claims on one
          question are one piece of evidence, not several (they share its view of the truth).
k       : a hypothesis about the source, one component of its prior profile (one for a grade or
          a number; five, A–E, for a source whose grade cannot be judged).
c_k     : probability that a claim is right; after the hedge c'_ik = c_k / (c_k + f_i(1 − c_k)).
σ_k     : spread of a right claim; β_k : systematic bias. A right point claim lies
          r_i ~ N(β_k, v_ik) with v_ik = (σ_k h_i)² + s_i²; a wrong one Cauchy(0, max(1, 2√v_ik)).
g_ik    : posterior probability that claim i was right under hypothesis k (EM responsibility).

These are the reconciler's σ and odds (:func:`models.encode.encode`), so a claim is judged by
the same likelihood when it teaches its source as when it is reconciled.

Model
-----
The reconciler's two-part mixture (:mod:`models.likelihood`). A bound or range is right with
probability Φ-of-the-gap as in the likelihood; it informs c_k (and calibration), not σ_k or β_k.

Empirical Bayes (after Cooke's classical model, which scores experts on seed questions, but
continuous and shrunk): each hypothesis k of source s gets a conjugate-style prior centred on

    m_k = (1 − λ) · (its grade's value) + λ · (its type's pooled value),  λ = ½ · n_T / (n_T + 20),

where the type's pooled value is the same EM run on all claims of sources of that type and n_T
their weight Σ w_i: a type's record can move a source's prior at most half-way from its grade.
Prior strengths are n₀ = 6 pseudo-questions for c and σ, κ₀ = 6 for β. With n_s = Σ_i w_i the
MAP updates are (EM; Dempster, Laird & Rubin 1977)

    logit c_k : Σ w_i g_ik + n₀ m_c = Σ w_i c'_ik + n₀ c_k    (concave in logit c; bisection;
                                                                 closed form when every f_i = 1)
    β_k  = (Σ_pt w_i g_ik ρ_ik r_i + κ₀ m_β) / (Σ_pt w_i g_ik ρ_ik + κ₀),   ρ_ik = σ_k² / v_ik
    σ_k² = (Σ_pt w_i g_ik E[e_i²] + n₀ m_σ²) / (Σ_pt w_i g_ik + n₀)   (then ECME, below),

where e_i ~ N(0, σ_k²) is the source's own error in r_i = β_k + h_i e_i + u_i, u_i ~ N(0, s_i²)
the error the claim itself stated: E[e_i²] = (σ_k² h_i (r_i − β_k) / v_ik)² + σ_k² s_i² / v_ik
(EM for variance components), so a miss the claim's own sd explains does not widen σ_k. With
h_i = 1, s_i = 0 and f_i = 1 these are the textbook updates. That σ step crawls when
s_i ≫ σ_k h_i (a precise source on questions with a shared error), so it is followed by an
ECME step (Liu & Rubin 1994): safeguarded Newton steps on log σ_k of the observed-data
objective whose stationary point is the same fixed point (:func:`_update_sigma`). One lucky
hit moves an E source only from 0.30 to 0.40, never to "A".

A posterior over hypotheses. The learned profile keeps every hypothesis of the prior, each with
its MAP parameters, weighted by

    P(k | record) ∝ π_k Π_i p_k(r_i)^{w_i},

with p_k the claim's likelihood at the hypothesis' prior centre m_k: an unjudged source stays
the A–E mixture, reweighted by its record (a miss by a factor 2 moves weight to D and E and
widens it), until its record singles one grade out.

How good a source is. ``quality`` is :meth:`SourceProfile.equivalent_credibility` of the learned
profile: the credibility of a rated source whose figures miss by as much on average (capped at
a factor e), so credibility, spread, bias and the uncertainty over hypotheses count together.

References
----------
Cooke, R. M. (1991). Experts in Uncertainty. Oxford University Press.
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data via
the EM algorithm. JRSS B 39(1), 1-38. doi:10.1111/j.2517-6161.1977.tb01600.x.
Liu, C. & Rubin, D. B. (1994). The ECME algorithm: a simple extension of EM and ECM with faster
monotone convergence. Biometrika 81(4), 633-648. doi:10.1093/biomet/81.4.633.
Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and its generalizations.
JASA 70(350), 311-319. doi:10.1080/01621459.1975.10479864.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from typing import Any, Final

import numpy as np
from scipy.special import ndtri

from models.claims import HEDGES, Claim
from models.credibility import CredibilityComponent, SourceProfile
from models.encode import WorkingScale, claim_sd
from models.errors import InvalidClaimError
from models.likelihood import FloatArray
from models.track_record_sums import (
    Grouping,
    LocalRows,
    Residuals,
    RowSums,
    count_sums,
    e_step_sums,
    evidence_sums,
    hedge_sums,
    sigma_em_sums,
    sigma_q_sums,
    totals_sums,
)

#: Prior strength (pseudo-questions) for c and σ, and for β.
PRIOR_CLAIMS = 6.0
PRIOR_BIAS_CLAIMS = 6.0
#: Weight of a type's claims at which its pooled record moves members' priors a quarter of the
#: way (λ = ½ · n_T / (n_T + 20)).
TYPE_HALF_WEIGHT = 20.0
#: EM stops for a group when none of its c, log σ, β moves by more than EM_TOL in an
#: iteration; after EM_MAX_ITERATIONS the fit reports ``converged`` False.
EM_TOL = 1e-7
EM_MAX_ITERATIONS = 500
#: Safeguarded Newton steps on log σ per EM iteration (the ECME σ step, see :func:`_update_sigma`).
SIGMA_NEWTON_STEPS = 4
#: Relative loss of that objective taken as rounding when judging a Newton step.
Q_ROUNDING = 1e-12
#: Newton steps on logit c per EM iteration when hedges change the odds, and the bound on
#: |logit c| (c within about [1e-3, 1 − 1e-3], as C_MIN).
NEWTON_STEPS = 2
LOGIT_LIMIT = 7.0
#: c is kept inside [C_MIN, 1 − C_MIN]: the profile constructor refuses the end points.
C_MIN = 1e-3
#: A hypothesis whose posterior weight falls below this is dropped from the learned profile
#: (its log-weight would be -inf in the reconciler).
MIN_WEIGHT = 1e-9


@dataclass(frozen=True, slots=True)
class ResolvedClaim:
    """One claim on a resolved question: the claim as made, and what the resolution adds.

    Attributes
    ----------
    claim : Claim
        The claim, as :class:`models.claims.Claim` declares it (its source, kind, numbers and
        hedge; learning ignores its origin, date and horizon).
    truth : float
        The question's resolved value.
    scale : {"log", "linear"}
        The question's scale.
    question : str
        Id of the question (claims of one question by one source are one record).
    precision : float or None
        Linear scale: the absolute unit P_i of a claim without its own sd or interval (the
        reconciler's fallback, the question's typical magnitude). None: |truth|, which a truth
        of 0 cannot use.
    shared : float
        The question's shared error s_q (log units on the log scale, the quantity's units on
        the linear; :mod:`models.shared_error`): part of the residual's variance that every
        claim of the question has, so it is not charged to the source's spread. 0: none.
    """

    claim: Claim
    truth: float
    scale: str
    question: str
    precision: float | None = None
    shared: float = 0.0


@dataclass(frozen=True, slots=True)
class LearnedValues:
    """The numbers a source's resolved claims teach about it: what is stored of a track record
    and what ``GET /v1/sources/{id}`` reports of it.

    Attributes
    ----------
    n_resolved : int
        Resolved claims used.
    credibility : float or None
        Learned probability that a claim is right, Σ_k π_k c_k, in (0, 1); None before any
        resolution.
    spread : float or None
        Learned spread of right claims on the working scale (geometric mean over hypotheses).
    bias : float or None
        Learned systematic offset on the working scale (log units: +0.1 ≈ inflates by 10 %).
    hit_rate : float or None
        Learned probability that a figure lands within about ±25 % of the truth
        (:meth:`models.credibility.SourceProfile.hit_rate`), comparable with the prior's.
    observed_hit_rate : float or None
        The raw share of the source's resolved point figures within that tolerance.
    calibration : float or None
        Share of the source's stated intervals (bounds, ranges, CIs) that contained the truth.
    n_calibration : int
        Number of stated intervals behind ``calibration``.
    """

    n_resolved: int
    credibility: float | None
    spread: float | None
    bias: float | None
    hit_rate: float | None
    observed_hit_rate: float | None
    calibration: float | None
    n_calibration: int


#: The values of a source none of whose claims was resolved yet.
NOTHING_LEARNED: Final = LearnedValues(
    n_resolved=0, credibility=None, spread=None, bias=None, hit_rate=None,
    observed_hit_rate=None, calibration=None, n_calibration=0,
)


@dataclass(frozen=True, slots=True)
class TrackRecord(LearnedValues):
    """What a source's resolved claims say about it: the :class:`LearnedValues`, the profile
    they come from and how the learning run went.

    Attributes
    ----------
    source : str
    profile : SourceProfile
        The profile to reconcile with: learned when n_resolved > 0, else the prior.
    quality : float or None
        How good the source is on the grade scale: the credibility of a rated source whose
        figures miss by as much (:meth:`SourceProfile.equivalent_credibility`).
    n_questions : int
        Resolved questions its claims are about (the evidence counts once per question).
    iterations : int
        EM iterations of the learning run (the larger of the type and the source fits).
    converged : bool
        Whether both EM fits of the learning run met their tolerance.
    """

    source: str
    profile: SourceProfile
    quality: float | None = None
    n_questions: int = 0
    iterations: int = 0
    converged: bool = True


@dataclass(frozen=True, slots=True)
class _Fit:
    c: FloatArray
    sigma: FloatArray
    beta: FloatArray
    iterations: int
    converged: bool


def _precision(rec: ResolvedClaim) -> float:
    """P_i of a linear-scale claim: its own sd, else its precision, else |truth|."""
    c = rec.claim
    if c.sd is not None and c.sd > 0:
        return c.sd
    if c.ci_low is not None and c.ci_high is not None and c.ci_high > c.ci_low:
        return (c.ci_high - c.ci_low) / (2.0 * float(ndtri(0.5 + c.ci_level / 2.0)))
    if rec.precision is not None and rec.precision > 0:
        return rec.precision
    return abs(rec.truth)


def _working_scale(rec: ResolvedClaim) -> WorkingScale:
    # Residuals against the truth: log x − log t, or (x − t)/P_i on the linear scale.
    if rec.scale == "log":
        return WorkingScale("log")
    return WorkingScale("linear", rec.truth, _precision(rec))


def residuals(records: Sequence[ResolvedClaim], index: Mapping[str, int]) -> Residuals:
    """The rows of ``records`` on their working scales, grouped by ``index`` of their source.

    ``records`` must hold every claim of each of their questions (the weights w_i count a
    source's claims on one question). Raises InvalidClaimError for an unusable resolution or
    shared error, KeyError for a source not in ``index`` (:func:`check_sources`).
    """
    n = len(records)
    group = np.empty(n, dtype=np.int64)
    point = np.zeros(n, dtype=bool)
    r = np.zeros(n)
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    h = np.ones(n)
    log_f = np.zeros(n)
    s2 = np.zeros(n)
    contains = np.zeros(n, dtype=bool)
    has_interval = np.zeros(n, dtype=bool)
    per_question: dict[tuple[str, str], int] = {}
    for rec in records:
        key = (rec.claim.source, rec.question)
        per_question[key] = per_question.get(key, 0) + 1
    weight = np.array([1.0 / per_question[(rec.claim.source, rec.question)]
                       for rec in records])
    for i, rec in enumerate(records):
        ws = _working_scale(rec)
        if not (math.isfinite(rec.truth) and (rec.truth > 0 if rec.scale == "log"
                                              else math.isfinite(ws.unit) and ws.unit > 0)):
            raise InvalidClaimError(
                f"Invalid resolution {rec.truth!r} for a {rec.scale}-scale question "
                f"{rec.question!r}; learning needs a positive truth (log) or, for a truth of "
                "0 (linear), a claim sd or the question's precision.",
                field="value",
            )
        if isinstance(rec.shared, bool) or not (math.isfinite(rec.shared)
                                                and rec.shared >= 0.0):
            raise InvalidClaimError(
                f"Invalid shared error {rec.shared!r} for question {rec.question!r}; it must "
                "be a finite number >= 0.", field="shared_error")
        claim = rec.claim
        group[i] = index[claim.source]
        hedge = HEDGES[claim.hedge]
        h[i], log_f[i] = hedge.spread_factor, math.log(hedge.wrong_factor)
        t = rec.truth
        origin = ws.forward(t)
        # The reconciler's own sd on the working scale (models.encode.claim_sd and
        # precision_units): on the linear scale a claim without one takes the question's
        # precision, which is then its unit.
        own = claim_sd(claim, ws)
        if own <= 0.0 and rec.scale == "linear" and rec.precision is not None \
                and rec.precision > 0:
            own = 1.0
        # The shared error is in every claim's residual x_i − t = β + δ_q + e_i + u_i, like
        # the claim's own stated error; left out, each source's spread absorbs it.
        shared = rec.shared / ws.unit if rec.scale == "linear" else rec.shared
        s2[i] = own ** 2 + shared ** 2
        if claim.kind == "point" and claim.value is not None:
            point[i] = True
            r[i] = ws.forward(claim.value) - origin
            if claim.ci_low is not None and claim.ci_high is not None:
                has_interval[i] = True
                contains[i] = claim.ci_low <= t <= claim.ci_high
            elif claim.sd is not None:
                half = 1.959963984540054 * claim.sd
                has_interval[i] = True
                contains[i] = claim.value - half <= t <= claim.value + half
            continue
        if claim.kind == "at_least" and claim.value is not None:
            lo[i] = ws.forward(claim.value) - origin
            contains[i] = t >= claim.value
        elif claim.kind == "at_most" and claim.value is not None:
            hi[i] = ws.forward(claim.value) - origin
            contains[i] = t <= claim.value
        elif claim.kind == "range" and claim.low is not None and claim.high is not None:
            lo[i] = ws.forward(claim.low) - origin
            hi[i] = ws.forward(claim.high) - origin
            contains[i] = claim.low <= t <= claim.high
        has_interval[i] = True
    return Residuals(group, weight, point, r, lo, hi, h, log_f, s2, contains, has_interval)


def _newton_c(logit: FloatArray, target: FloatArray, got_rows: FloatArray,
              slope_rows: FloatArray) -> FloatArray:
    """One Newton step on ℓ = logit c towards the MAP c with hedge odds (module docstring).

    F(ℓ) = Σ w c'_i(ℓ) + n₀ c(ℓ) − target rises with ℓ and F' = Σ w c'(1 − c') + n₀ c(1 − c) > 0;
    ``got_rows`` and ``slope_rows`` are the sums Σ w c' and Σ w c'(1 − c') at c = σ(ℓ)
    (:func:`~models.track_record_sums.hedge_sums`). NEWTON_STEPS such steps from the current c
    make a generalised EM step: each M-step need only improve the objective, and the fixed
    point is the same. Without hedge odds the closed form target / (n + n₀) is used instead.
    """
    cc = _sigmoid(logit)
    got = got_rows + PRIOR_CLAIMS * cc
    slope = slope_rows + PRIOR_CLAIMS * cc * (1.0 - cc)
    return np.asarray(np.clip(logit - (got - target) / slope, -LOGIT_LIMIT, LOGIT_LIMIT),
                      dtype=np.float64)


def _sigmoid(logit: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)


def _update_sigma(rows: RowSums, grouping: Grouping, at: tuple[FloatArray, ...],
                  sigma_em: FloatArray, m_sigma: FloatArray) -> FloatArray:
    """ECME σ step: σ per group maximising the responsibility-weighted observed-data objective.

    Given g and the new β, with u = log σ, v_i = σ² h_i² + s_i², d_i = r_i − β and
    a_i = σ² h_i² / v_i (point claims only, γ_i = w_i g_i),

        Q(u) = Σ γ_i [−½ log v_i − ½ d_i² / v_i] − n₀ u − n₀ m_σ² / (2σ²),
        Q'(u) = Σ γ_i a_i (d_i² / v_i − 1) − n₀ + n₀ m_σ² / σ²,
        Q''(u) = Σ γ_i [2 a_i (1 − a_i)(d_i² / v_i − 1) − 2 a_i² d_i² / v_i] − 2 n₀ m_σ² / σ².

    Q'(u) = 0 is exactly the fixed point of the EM update of the module docstring: with
    E[e_i²] = (σ² h_i d_i / v_i)² + σ² s_i² / v_i and σ² − σ² s_i² / v_i = σ⁴ h_i² / v_i, the
    EM fixed point σ²(Σγ + n₀) = Σ γ E[e²] + n₀ m_σ² rearranges to Q'(u) = 0. Both ignore
    that the wrong claims' Cauchy width max(1, 2√v) also depends on σ, as before. EM treats
    the source's own error e_i as missing and moves σ only by the share of the residual
    variance that is σ's (slow when s_i ≫ σ h_i); ECME maximises Q itself (Liu & Rubin
    1994), so a precise source converges in a few iterations. The step starts from the EM
    value (which already raises Q) and takes safeguarded Newton steps on u (only where Q is
    concave, at most a factor e each), each kept for a group only when it does not lower Q
    there beyond rounding, so the iteration stays monotone up to rounding.

    The claims' parts of Q, Q' and Q'' are sums over claims (:func:`sigma_q_sums`, with γ_i
    and d_i from ``at`` = (c, σ, β, β_new) of the iteration), taken at each trial u in one
    pass, so that a distributed engine needs one reduction per Newton step.

    References
    ----------
    Liu, C. & Rubin, D. B. (1994). The ECME algorithm: a simple extension of EM and ECM with
    faster monotone convergence. Biometrika 81(4), 633-648. doi:10.1093/biomet/81.4.633.
    """

    def objective(u: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        q_rows, grad_rows, hess_rows = rows(grouping, sigma_q_sums, *at, u)
        s2 = np.exp(2.0 * u)
        return (q_rows - PRIOR_CLAIMS * (u + 0.5 * m_sigma**2 * np.exp(-2.0 * u)),
                grad_rows - PRIOR_CLAIMS + PRIOR_CLAIMS * m_sigma**2 / s2,
                hess_rows - 2.0 * PRIOR_CLAIMS * m_sigma**2 / s2)

    u = np.log(sigma_em)
    q, grad, hess = objective(u)
    for _ in range(SIGMA_NEWTON_STEPS):
        # Only where Q is concave; at most a factor e per step (a safeguard, not a line search).
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(hess < 0.0, np.clip(-grad / hess, -1.0, 1.0), 0.0)
        trial = u + step
        q_trial, grad_trial, hess_trial = objective(trial)
        # Near the maximum a Newton step changes Q by less than its rounding error; comparing
        # bare values would keep or drop it at random (results differing by ~1e-8 between
        # residuals that agree to 1e-13), so a loss within rounding counts as no loss.
        better = np.isfinite(q_trial) & (q_trial >= q - Q_ROUNDING * (1.0 + np.abs(q)))
        u = np.where(better, trial, u)
        q = np.where(better, q_trial, q)
        grad = np.where(better, grad_trial, grad)
        hess = np.where(better, hess_trial, hess)
    return np.asarray(np.exp(u), dtype=np.float64)


def _em(
    rows: RowSums, grouping: Grouping, m_c: FloatArray, m_sigma: FloatArray,
    m_beta: FloatArray
) -> _Fit:
    """MAP (c, σ, β) per group by EM, each step's sums taken by ``rows``."""
    n_groups = grouping.size
    c, sigma, beta = m_c.copy(), m_sigma.copy(), m_beta.copy()
    n, abs_log_f = rows(grouping, totals_sums)
    hedged = bool(np.any(abs_log_f))
    converged = False
    done = np.zeros(n_groups, dtype=bool)
    iterations = 0
    for iterations in range(1, EM_MAX_ITERATIONS + 1):  # noqa: B007 (reported after the loop)
        # The hedge Newton steps on c need sums at each step's c: the first two ride along
        # with the E-step's and the σ step's reductions (one pass over the claims fewer each).
        logit = np.log(c) - np.log1p(-c)
        newton = NEWTON_STEPS if hedged else 0
        wg, beta_num, beta_den, *hedge = rows(grouping, e_step_sums, c, sigma, beta,
                                              _sigmoid(logit) if newton > 0 else None)
        target = wg + PRIOR_CLAIMS * m_c
        if newton > 0:
            logit = _newton_c(logit, target, *hedge)
        beta_new = (beta_num + PRIOR_BIAS_CLAIMS * m_beta) / (beta_den + PRIOR_BIAS_CLAIMS)
        e2_sum, gp_sum, *hedge = rows(grouping, sigma_em_sums, c, sigma, beta, beta_new,
                                      _sigmoid(logit) if newton > 1 else None)
        if newton > 1:
            logit = _newton_c(logit, target, *hedge)
        for _ in range(newton - 2):
            logit = _newton_c(logit, target, *rows(grouping, hedge_sums, _sigmoid(logit)))
        c_new = np.clip(_sigmoid(logit) if hedged else target / (n + PRIOR_CLAIMS),
                        C_MIN, 1 - C_MIN)
        sigma_em = np.sqrt((e2_sum + PRIOR_CLAIMS * m_sigma**2) / (gp_sum + PRIOR_CLAIMS))
        sigma_new = _update_sigma(rows, grouping, (c, sigma, beta, beta_new), sigma_em,
                                  m_sigma)
        # Each group stops on its own: its result then depends on its own claims only, not
        # on how long other groups take (a source's stored record moves only when its data do).
        step = np.maximum(np.maximum(np.abs(c_new - c), np.abs(np.log(sigma_new / sigma))),
                          np.abs(beta_new - beta))
        c = np.where(done, c, c_new)
        sigma = np.where(done, sigma, sigma_new)
        beta = np.where(done, beta, beta_new)
        done |= step < EM_TOL
        if done.all():
            converged = True
            break
    return _Fit(c, sigma, beta, iterations, converged)


def learn_track_records(
    records: Sequence[ResolvedClaim],
    priors: Mapping[str, SourceProfile],
    source_types: Mapping[str, str],
) -> dict[str, TrackRecord]:
    """Empirical-Bayes track records for every source in ``priors``.

    Parameters
    ----------
    records : sequence of ResolvedClaim
    priors : mapping of source id to SourceProfile
        Each source's prior (from its grade); every source in ``records`` must be here.
    source_types : mapping of source id to source type
        For pooling the record of sources of one type.

    Returns
    -------
    dict of source id to TrackRecord
        One per source in ``priors``; sources without resolved claims keep their prior
        (``credibility`` None).

    Raises
    ------
    InvalidClaimError
        When a record names an unknown source or a resolution unusable on its scale.
    """
    ids = list(priors)
    index = {sid: k for k, sid in enumerate(ids)}
    check_sources(records, index)
    if not records:
        return {sid: _unlearned(sid, priors[sid]) for sid in ids}
    return fit_track_records(LocalRows([residuals(records, index)]), priors, source_types)


def check_sources(records: Sequence[ResolvedClaim], index: Mapping[str, int]) -> None:
    """Refuse a record whose source is not in ``index`` (InvalidClaimError naming ``source``)."""
    for rec in records:
        if rec.claim.source not in index:
            raise InvalidClaimError(f"Unknown source {rec.claim.source!r} in a resolved claim.",
                                    field="source")


def fit_track_records(
    rows: RowSums,
    priors: Mapping[str, SourceProfile],
    source_types: Mapping[str, str],
) -> dict[str, TrackRecord]:
    """:func:`learn_track_records` from residual rows however they are held.

    Parameters
    ----------
    rows : RowSums
        Sums over the rows of :func:`residuals` (grouped by the position of each source in
        ``priors``), in one part or in several, each of whole questions
        (:mod:`models.track_record_sums`; a distributed engine's parts on its workers).
    priors, source_types
        As :func:`learn_track_records`.

    Returns
    -------
    dict of source id to TrackRecord
        As :func:`learn_track_records`; the same numbers up to the order of the additions.
    """
    ids = list(priors)
    n_src = len(ids)
    n_resolved, n_questions, n_cal, hits, n_points, near = rows(
        Grouping("source", n_src), count_sums)
    if not n_resolved.any():
        return {sid: _unlearned(sid, priors[sid]) for sid in ids}
    # Hypotheses: the components of each source's prior, contiguous per source.
    comps = [priors[s].components for s in ids]
    count = np.array([len(k) for k in comps], dtype=np.int64)
    start = np.cumsum(count) - count
    owner = np.repeat(np.arange(n_src, dtype=np.int64), count)
    flat: list[CredibilityComponent] = [k for ks in comps for k in ks]
    log_pi = np.log([k.weight for k in flat])
    h_c = np.array([k.c for k in flat])
    h_sigma = np.array([k.sigma for k in flat])
    h_beta = np.array([k.bias for k in flat])

    # Type-pooled records: the same EM with one group per source type, from the sources'
    # summary priors.
    m_c = np.array([priors[s].credibility for s in ids])
    m_sigma = np.array([priors[s].spread for s in ids])
    m_beta = np.bincount(owner, weights=np.exp(log_pi) * h_beta, minlength=n_src).astype(
        np.float64)
    types = sorted({source_types.get(s, "other") for s in ids})
    t_index = np.array([types.index(source_types.get(s, "other")) for s in ids])
    by_type = Grouping("type", len(types), type_of=t_index)
    n_type = rows(by_type, totals_sums)[0]
    members = np.maximum(np.bincount(t_index, minlength=len(types)), 1)

    def type_mean(v: FloatArray) -> FloatArray:
        return np.bincount(t_index, weights=v, minlength=len(types)) / members

    tfit = _em(rows, by_type, type_mean(m_c), type_mean(m_sigma), type_mean(m_beta))
    lam = (0.5 * n_type / (n_type + TYPE_HALF_WEIGHT))[t_index[owner]]
    t_of = t_index[owner]
    prior_c = (1 - lam) * h_c + lam * tfit.c[t_of]
    prior_sigma = np.exp((1 - lam) * np.log(h_sigma) + lam * np.log(tfit.sigma[t_of]))
    prior_beta = (1 - lam) * h_beta + lam * tfit.beta[t_of]

    expanded = Grouping("hypothesis", int(count.sum()), start=start, count=count)
    fit = _em(rows, expanded, prior_c, prior_sigma, prior_beta)
    # Posterior over hypotheses, each taken at its prior centre (see the module docstring).
    log_post = log_pi + rows(expanded, evidence_sums, prior_c, prior_sigma, prior_beta)[0]
    top = np.full(n_src, -np.inf)
    np.maximum.at(top, owner, log_post)
    post = np.exp(log_post - top[owner])
    post /= np.bincount(owner, weights=post, minlength=n_src)[owner]

    iterations = max(tfit.iterations, fit.iterations)
    converged = tfit.converged and fit.converged
    out: dict[str, TrackRecord] = {}
    for k, sid in enumerate(ids):
        if n_resolved[k] == 0:
            out[sid] = replace(_unlearned(sid, priors[sid]), iterations=iterations,
                               converged=converged)
            continue
        hyps = range(int(start[k]), int(start[k] + count[k]))
        kept = [j for j in hyps if post[j] >= MIN_WEIGHT]
        total = float(sum(post[j] for j in kept))
        profile = SourceProfile(tuple(
            CredibilityComponent(float(post[j]) / total, float(fit.c[j]), float(fit.sigma[j]),
                                 float(fit.beta[j]))
            for j in kept
        ), "learned")
        out[sid] = TrackRecord(
            source=sid,
            n_resolved=int(n_resolved[k]),
            credibility=profile.credibility,
            spread=profile.spread,
            bias=float(sum(comp.weight * comp.bias for comp in profile.components)),
            hit_rate=profile.hit_rate(),
            observed_hit_rate=float(near[k] / n_points[k]) if n_points[k] > 0 else None,
            calibration=float(hits[k] / n_cal[k]) if n_cal[k] > 0 else None,
            n_calibration=int(n_cal[k]),
            profile=profile,
            quality=profile.equivalent_credibility(),
            n_questions=int(round(n_questions[k])),
            iterations=iterations,
            converged=converged,
        )
    return out


def _unlearned(source: str, prior: SourceProfile) -> TrackRecord:
    return TrackRecord(**learned_fields(NOTHING_LEARNED), source=source, profile=prior)


def learned_fields(values: object) -> dict[str, Any]:
    """The :class:`LearnedValues` fields of ``values`` (a record, a stored row) by name."""
    return {f.name: getattr(values, f.name) for f in fields(LearnedValues)}
