"""The MAP fit of each group's (c, σ, β) from its residual rows: EM (Dempster, Laird & Rubin
1977) with Newton steps on logit c where hedges change the odds, and an ECME step on σ (Liu &
Rubin 1994). The updates are stated in :mod:`models.track_record` ("Empirical Bayes"); each
step's sums over the rows are taken by a :class:`~models.track_record_sums.RowSums`, in one part
or on a distributed engine's workers.

References
----------
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data via
the EM algorithm. JRSS B 39(1), 1-38. doi:10.1111/j.2517-6161.1977.tb01600.x.
Liu, C. & Rubin, D. B. (1994). The ECME algorithm: a simple extension of EM and ECM with faster
monotone convergence. Biometrika 81(4), 633-648. doi:10.1093/biomet/81.4.633.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.likelihood import FloatArray
from models.track_record_sums import (
    Grouping,
    RowSums,
    e_step_sums,
    hedge_sums,
    sigma_em_sums,
    sigma_q_sums,
    totals_sums,
)

#: Prior strength (pseudo-questions) for c and σ, and for β.
PRIOR_CLAIMS = 6.0
PRIOR_BIAS_CLAIMS = 6.0
#: EM stops for a group when none of its c, log σ, β moves by more than EM_TOL in an
#: iteration; after EM_MAX_ITERATIONS the fit reports ``converged`` False.
EM_TOL = 1e-7
EM_MAX_ITERATIONS = 500
#: Safeguarded Newton steps on log σ per EM iteration (the ECME σ step, see :func:`update_sigma`).
SIGMA_NEWTON_STEPS = 4
#: Relative loss of that objective taken as rounding when judging a Newton step.
Q_ROUNDING = 1e-12
#: Newton steps on logit c per EM iteration when hedges change the odds, and the bound on
#: |logit c| (c within about [1e-3, 1 − 1e-3], as C_MIN).
NEWTON_STEPS = 2
LOGIT_LIMIT = 7.0
#: c is kept inside [C_MIN, 1 − C_MIN]: the profile constructor refuses the end points.
C_MIN = 1e-3


@dataclass(frozen=True, slots=True)
class MapFit:
    """(c, σ, β) per group, and how the EM run went."""

    c: FloatArray
    sigma: FloatArray
    beta: FloatArray
    iterations: int
    converged: bool


def newton_c(logit: FloatArray, target: FloatArray, got_rows: FloatArray,
              slope_rows: FloatArray) -> FloatArray:
    """One Newton step on ℓ = logit c towards the MAP c with hedge odds (module docstring).

    F(ℓ) = Σ w c'_i(ℓ) + n₀ c(ℓ) − target rises with ℓ and F' = Σ w c'(1 − c') + n₀ c(1 − c) > 0;
    ``got_rows`` and ``slope_rows`` are the sums Σ w c' and Σ w c'(1 − c') at c = σ(ℓ)
    (:func:`~models.track_record_sums.hedge_sums`). NEWTON_STEPS such steps from the current c
    make a generalised EM step: each M-step need only improve the objective, and the fixed
    point is the same. Without hedge odds the closed form target / (n + n₀) is used instead.
    """
    cc = sigmoid(logit)
    got = got_rows + PRIOR_CLAIMS * cc
    slope = slope_rows + PRIOR_CLAIMS * cc * (1.0 - cc)
    return np.asarray(np.clip(logit - (got - target) / slope, -LOGIT_LIMIT, LOGIT_LIMIT),
                      dtype=np.float64)


def sigmoid(logit: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-logit)), dtype=np.float64)


def update_sigma(rows: RowSums, grouping: Grouping, at: tuple[FloatArray, ...],
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


def map_fit(
    rows: RowSums, grouping: Grouping, m_c: FloatArray, m_sigma: FloatArray,
    m_beta: FloatArray
) -> MapFit:
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
                                              sigmoid(logit) if newton > 0 else None)
        target = wg + PRIOR_CLAIMS * m_c
        if newton > 0:
            logit = newton_c(logit, target, *hedge)
        beta_new = (beta_num + PRIOR_BIAS_CLAIMS * m_beta) / (beta_den + PRIOR_BIAS_CLAIMS)
        e2_sum, gp_sum, *hedge = rows(grouping, sigma_em_sums, c, sigma, beta, beta_new,
                                      sigmoid(logit) if newton > 1 else None)
        if newton > 1:
            logit = newton_c(logit, target, *hedge)
        for _ in range(newton - 2):
            logit = newton_c(logit, target, *rows(grouping, hedge_sums, sigmoid(logit)))
        c_new = np.clip(sigmoid(logit) if hedged else target / (n + PRIOR_CLAIMS),
                        C_MIN, 1 - C_MIN)
        sigma_em = np.sqrt((e2_sum + PRIOR_CLAIMS * m_sigma**2) / (gp_sum + PRIOR_CLAIMS))
        sigma_new = update_sigma(rows, grouping, (c, sigma, beta, beta_new), sigma_em,
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
    return MapFit(c, sigma, beta, iterations, converged)

