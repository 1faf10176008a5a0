"""The mode of each question's continuous posterior: IRLS steps, mode hopping, the start.

The continuous part of θ_q's posterior is approximated by N(μ_q, τ_q²) at a posterior mode.
:func:`newton` takes one damped IRLS (Newton) step per question, :func:`hop` moves μ_q to a
rival mode with a larger Laplace mass when the claims form two camps, and
:func:`initial_centre` starts μ_q at the weighted median of the question's figures.
"""

from __future__ import annotations

import numpy as np

from models.batch.atoms import question_pairs
from models.batch.common import (
    KIND_AT_LEAST,
    KIND_AT_MOST,
    KIND_POINT,
    LOG_SQRT_2PI,
    BoolArray,
    FloatArray,
    IntArray,
)
from models.batch.kernels import log_norm_pdf, plugin
from models.batch.state import Encoded, Params


def newton(
    q: IntArray, n: int, mu: FloatArray, grad: FloatArray, hess: FloatArray, t: FloatArray,
    centre: FloatArray, sd: FloatArray, max_step: float,
) -> tuple[FloatArray, FloatArray]:
    """One IRLS step per group (question or candidate): new centre and its τ.

    With the claims' IRLS pieces g_i, h_i (:func:`~models.batch.kernels.irls`) weighted by
    t_i and the prior N(m, s²),

        G = Σ t_i g_i + (m − μ)/s²,     H = Σ t_i h_i + 1/s²,
        μ' = μ + clip(G/H, ±max_step),  τ = 1/√H.

    Parameters
    ----------
    q : (m,) int
        Group of each claim row, 0..n−1.
    n : int
        Number of groups.
    mu : (n,) float
        Current centres.
    grad, hess, t : (m,) float
        g_i, h_i and t_i per claim row.
    centre, sd : (n,) float
        The prior's m and s per group.
    max_step : float
        Largest step (τ₀).

    Returns
    -------
    mu, tau : (n,) float
    """
    prior_prec = 1.0 / (sd * sd)
    g = np.bincount(q, weights=t * grad, minlength=n) + (centre - mu) * prior_prec
    h = np.bincount(q, weights=t * hess, minlength=n) + prior_prec
    # Damping: one step never exceeds τ₀, so a wild iteration cannot throw μ out of the
    # region the claims span.
    step = np.clip(g / h, -max_step, max_step)
    return mu + step, np.sqrt(1.0 / h)


def hop(
    enc: Encoded, sig: FloatArray, beta_c: FloatArray, coef_r: FloatArray, coef_w: FloatArray,
    r: FloatArray, mu: FloatArray, tau: FloatArray, log_z: FloatArray, wrong_spread: float,
    max_step: float, skip: BoolArray | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray, int]:
    """Move μ_q to a better mode when one exists.

    IRLS climbs to the nearest mode; when a question's claims form two camps it can stay
    on the lesser one. Every claim the current mode explains as wrong proposes a mode (a
    point its figure less its source's bias, a bound a value one spread inside it, a range
    its middle); the proposal takes one IRLS step and its Laplace mass
    π(θ) Π C_i(θ)^{t_i} √(2π)/√h is compared with the current one. The search runs only
    on questions where the rejected claims carry a third of the credibility.

    Parameters
    ----------
    enc : Encoded
    sig, beta_c, coef_r, coef_w : (n,) float
        Each claim's right-kernel spread and bias and its log right and wrong coefficients.
    r : (n,) float
        P(right | θ = μ) of each claim at the current mode.
    mu, tau, log_z : (Q,) float
        The current modes, their τ and their log Laplace masses.
    wrong_spread : float
        σ_wrong.
    max_step : float
        Largest IRLS step (τ₀).
    skip : (Q,) bool, optional
        Questions to leave alone (those whose posterior is exact, :mod:`models.batch.exact`).

    Returns
    -------
    mu, tau, log_z : (Q,) float
        Updated where a rival mode's mass exceeds the current one by 0.1 nat (new arrays
        then; the inputs otherwise).
    hops : int
        Number of questions that moved.
    """
    # A rival mode can only win where the claims the current mode rejects carry a fair
    # share (a third) of the question's credibility; elsewhere skip the search.
    contested = is_contested(enc, coef_r, r)
    if skip is not None:
        contested &= ~skip
    flagged = np.flatnonzero((r < 0.5) & contested[enc.q])
    if flagged.size == 0:
        return mu, tau, log_z, 0
    cand_q = enc.q[flagged]
    # A point proposes its figure; a bound a value one spread inside it; a range its middle.
    kind = enc.kind[flagged]
    a, b, sg = enc.a[flagged], enc.b[flagged], sig[flagged]
    inside = np.where(kind == KIND_AT_LEAST, a + sg,
                      np.where(kind == KIND_AT_MOST, b - sg, 0.5 * (a + b)))
    theta = np.where(kind == KIND_POINT, enc.y[flagged], inside) - beta_c[flagged]
    pa, pc = question_pairs(cand_q, enc.q, enc.n_questions)
    k = flagged.size
    centre = enc.prior_centre[cand_q]
    sd = enc.prior_sd[cand_q]
    args = (sig[pc], beta_c[pc], coef_r[pc], coef_w[pc])
    _, _, grad, hess = plugin(enc, pc, theta[pa], *args, wrong_spread)
    theta, tau_c = newton(pa, k, theta, grad, hess, enc.t[pc], centre, sd, max_step)
    ell, _, _, _ = plugin(enc, pc, theta[pa], *args, wrong_spread)
    mass = (log_norm_pdf(theta, centre, sd)
            + np.bincount(pa, weights=enc.t[pc] * ell, minlength=k)
            + LOG_SQRT_2PI + np.log(tau_c))
    best = np.full(enc.n_questions, -np.inf)
    np.maximum.at(best, cand_q, mass)
    # Hop only for a clear gain (0.1 nat), so that near-ties do not make μ oscillate.
    better = np.flatnonzero(best > log_z + 0.1)
    if better.size == 0:
        return mu, tau, log_z, 0
    winner = np.full(enc.n_questions, -1)
    is_best = mass >= best[cand_q]
    winner[cand_q[is_best]] = np.flatnonzero(is_best)
    w = winner[better]
    mu = mu.copy()
    tau = tau.copy()
    log_z = log_z.copy()
    mu[better] = theta[w]
    tau[better] = tau_c[w]
    log_z[better] = mass[w]
    return mu, tau, log_z, int(better.size)


def is_contested(
    enc: Encoded, coef_r: FloatArray, r: FloatArray, sig: FloatArray | None = None
) -> BoolArray:
    """Questions whose current mode rejects claims carrying a third of their credibility, or,
    given the claims' spreads, a tenth of their precision-weighted credibility.

    With P(right | θ = μ_q) = r_i, a question is contested when
    Σ_i t_i c_i (1 − r_i) ≥ Σ_i t_i c_i / 3: its claims form camps, and a rival mode may hold
    much of the posterior. With ``sig`` also when Σ_i w_i (1 − r_i) ≥ Σ_i w_i / 10 for
    w_i = t_i c_i / σ_i²: one precise, credible claim the mode rejects can carry a sharp rival
    mode that a single Laplace approximation drops (nine claims, one of them precise and far
    off: the Gaussian 90 % interval was a fifth of the exact one's width).

    Parameters
    ----------
    enc : Encoded
    coef_r : (n,) float
        Each claim's log right coefficient (log c_i).
    r : (n,) float
        P(right | θ = μ) of each claim at the current mode.
    sig : (n,) float, optional
        Each claim's spread σ_i on the working scale.

    Returns
    -------
    (Q,) bool
    """
    c_claim = np.exp(coef_r) * enc.t
    rejected = np.bincount(enc.q, weights=c_claim * (1.0 - r), minlength=enc.n_questions)
    total = np.bincount(enc.q, weights=c_claim, minlength=enc.n_questions)
    contested = rejected >= total / 3.0
    if sig is not None:
        w = c_claim / (sig * sig)
        sharp = np.bincount(enc.q, weights=w * (1.0 - r), minlength=enc.n_questions)
        contested |= sharp >= np.bincount(enc.q, weights=w, minlength=enc.n_questions) / 10.0
    return np.asarray(contested, dtype=bool)


def initial_centre(enc: Encoded, p: Params) -> FloatArray:
    """Weighted median of each question's point figures (weights c/σ²), else the prior.

    Each figure enters as y_i − β_s with weight t_i c_s/σ_s²; a question without point
    claims starts at its prior centre m_q.

    Parameters
    ----------
    enc : Encoded
        The point figures y_i in (question, figure) order, their weights t_i and each
        question's prior centre m_q.
    p : Params
        The sources' c_s, σ_s and β_s.

    Returns
    -------
    (Q,) float
        The starting μ_q.
    """
    order = enc.point_order
    mu = enc.prior_centre.copy()
    if order.size == 0:
        return mu
    s = enc.s[order]
    qs = enc.q[order]
    # Figures in (question, figure) order; the source's bias moves each figure but, with
    # the prior's zero biases at the start, not the order.
    ys = enc.y[order] - p.beta[s]
    ws = enc.t[order] * p.c[s] / (p.sigma[s] ** 2)
    cum = np.cumsum(ws)
    totals = np.bincount(qs, weights=ws, minlength=enc.n_questions)
    starts = np.concatenate([[0.0], np.cumsum(totals)[:-1]])
    # The first figure at which the question's cumulative weight passes half its total.
    passed = np.flatnonzero((cum - starts[qs]) >= 0.5 * totals[qs] * (1.0 - 1e-12))
    first = passed[np.r_[True, qs[passed][1:] != qs[passed][:-1]]]
    mu[qs[first]] = ys[first]
    return mu
