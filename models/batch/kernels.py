"""Likelihood kernels of the batch model, vectorised over claims.

Primitives on arrays (a Normal log density, a two-part log-sum, and the censored Normal and
Cauchy interval probabilities, which are shared with the single-question path in
:mod:`models.likelihood`), and the kernels of a claim table at given θ: each claim's right and
wrong log kernels with the right kernel's score and information (:func:`claim_kernels`), their
IRLS combination (:func:`irls`, :func:`plugin`), and the per-claim spread, bias and mixture
coefficients that the source parameters imply (:func:`claim_spread`,
:func:`log_coefficients`).

A claim's likelihood at θ (see :mod:`models.batch`) is, for a point,

    L_i(θ) = c_i N(y_i; θ + β_i, σ_i²) + (1 − c_i) Cauchy(y_i; θ, σ_w,i),
    σ_w,i = max(σ_wrong, 2σ_i),

and for a bound or range [a_i, b_i] the probabilities of that interval under the same two
parts (censoring): Φ((b − θ − β)/σ) − Φ((a − θ − β)/σ) and the Cauchy-CDF difference.
"""

from __future__ import annotations

import numpy as np

from models.batch.common import (
    KIND_POINT,
    LOG_FLOOR,
    LOG_PI,
    LOG_SQRT_2PI,
    BoolArray,
    FloatArray,
    IntArray,
)
from models.batch.state import Encoded, Params

# --------------------------------------------------------------------------------------------
# Primitives
# --------------------------------------------------------------------------------------------


def log_mix(a: FloatArray, b: FloatArray) -> tuple[FloatArray, FloatArray]:
    """log(e^a + e^b) and e^a/(e^a + e^b), with one exponential and one log1p.

    With d = |a − b|: log(e^a + e^b) = max(a, b) + log(1 + e^−d), and the share of e^a is
    1/(1 + e^−d) when a ≥ b, else e^−d/(1 + e^−d).

    Parameters
    ----------
    a, b : (m,) float
        Two log terms, e.g. a claim's log right and log wrong part.

    Returns
    -------
    total : (m,) float
        log(e^a + e^b).
    share : (m,) float
        e^a/(e^a + e^b).
    """
    small = np.exp(-np.abs(a - b))
    total = np.maximum(a, b) + np.log1p(small)
    share = np.where(a >= b, 1.0, small) / (1.0 + small)
    return np.asarray(total, dtype=np.float64), np.asarray(share, dtype=np.float64)


def log_norm_pdf(x: FloatArray, centre: FloatArray, sd: FloatArray) -> FloatArray:
    """log N(x; centre, sd²) = −z²/2 − log sd − log √(2π), z = (x − centre)/sd.

    Parameters
    ----------
    x, centre, sd : float arrays
        Broadcast against each other; sd > 0.

    Returns
    -------
    float array
    """
    z = (x - centre) / sd
    return np.asarray(-0.5 * z * z - np.log(sd) - LOG_SQRT_2PI, dtype=np.float64)


def log_normal_interval(lo: FloatArray, hi: FloatArray) -> FloatArray:
    """log(Φ(hi) − Φ(lo)) for lo ≤ hi, accurate in both tails, at least :data:`LOG_FLOOR`.

    The kernel of :func:`models.likelihood.log_normal_interval` (one implementation for both
    paths), floored at −700 so that a vanishing probability keeps sums of logs finite; an
    empty interval (a range with low = high) gets the floor.

    Parameters
    ----------
    lo, hi : (m,) float
        Standardised ends; −inf / +inf for an open end.

    Returns
    -------
    (m,) float
    """
    # Imported here: models.likelihood imports scipy, which only bounds and ranges need.
    from models.likelihood import log_normal_interval as shared

    return shared(lo, hi, floor=LOG_FLOOR)


def log_cauchy_interval(lo: FloatArray, hi: FloatArray) -> FloatArray:
    """log P(lo ≤ X ≤ hi) for standard Cauchy X (open ends as ±inf), at least −700 − log π.

    The kernel of :func:`models.likelihood.log_cauchy_interval` (one implementation for both
    paths), with the floor of :func:`log_normal_interval` on P·π.

    Parameters
    ----------
    lo, hi : (m,) float
        Standardised ends, lo ≤ hi, not both infinite.

    Returns
    -------
    (m,) float
    """
    from models.likelihood import log_cauchy_interval as shared

    return shared(lo, hi, floor=LOG_FLOOR - LOG_PI)


# --------------------------------------------------------------------------------------------
# Kernels of a claim table
# --------------------------------------------------------------------------------------------


def claim_spread(enc: Encoded, p: Params) -> tuple[FloatArray, FloatArray]:
    """Spread and bias of each claim's continuous right kernel.

    A claim in an atom: its noisy part, σ_i² = (σ_s h_i)² + sd_i², bias β_s. Any other claim's
    right part is exact with probability η_s and noisy otherwise, the mixture
    η_s U(y_i; θ ± w_i/2) + (1 − η_s) N(y_i; θ + β_s, σ_i²); it is read as one Gaussian that
    keeps the noisy component's tails and covers the rounding window,

        σ_i² = (σ_s h_i)² + sd_i² + η_s w_i²/12,    bias β_s.

    The moment-matched Gaussian of that mixture, variance η_s w_i²/12 + (1 − η_s)σ_i², had
    tails lighter than the mixture's by the factor (1 − η_s) in variance: a right claim
    1.5-2 σ off lost P(right) to the wrong part, the M-step's σ_s shrank about √(1 − η_s) an
    iteration, the population spread followed, and with a few undeclared copies among the
    claims (η̄ ≈ 0.5) every source's σ_s fell to MIN_SPREAD within 20 iterations
    (``bench/batch_copies.py``). The full variance can only over-state the mixture's tail, by
    at most 1/(1 − η_s) in density, so the fall has nothing to feed on. Near-exact agreement
    still counts through the atoms (:func:`models.batch.em.mix_atoms`).

    Parameters
    ----------
    enc : Encoded
        The claims: their source, hedge spread factor h_i, own variance sd_i², rounding
        variance w_i²/12 and whether they sit in an atom.
    p : Params
        The sources' η_s, σ_s and β_s.

    Returns
    -------
    sig, beta : (n,) float
        σ_i and the bias of each claim's right kernel.

    References
    ----------
    Hogg, D. W., Bovy, J. & Lang, D. (2010). Data analysis recipes: Fitting a model to data.
    arXiv:1008.4686 (the mixture of a good and a bad component that the right and wrong
    parts follow).
    """
    s = enc.s
    if enc.plain and enc.atom_q.shape[0] == 0 and float(p.eta.max()) < 1e-6:
        # No agreed figure anywhere (η ≈ 0): every right kernel is the noisy one.
        return np.asarray(p.sigma[s], dtype=np.float64), np.asarray(p.beta[s],
                                                                    dtype=np.float64)
    if enc.plain:
        noisy2 = p.sigma[s] ** 2
    else:
        noisy2 = (p.sigma[s] * enc.spread_factor) ** 2 + enc.own_var
    # The window adds to, rather than replaces, the noisy variance: see the docstring.
    sig2 = noisy2 + np.where(enc.member, 0.0, p.eta[s] * enc.exact_var)
    return np.asarray(np.sqrt(sig2), dtype=np.float64), np.asarray(p.beta[s], dtype=np.float64)


def noise_share(
    enc: Encoded, p: Params, split: BoolArray | None = None
) -> tuple[FloatArray, FloatArray]:
    """λ_i = N_i/(N_i + K_i), the share of a right claim's residual variance that is noise.

    The M-step reads a right point's residual y_i − θ as the source's noise, N(β_s, N_i)
    with N_i = (σ_s h_i)², plus what the claim itself states, N(0, K_i): its own sd, and its
    rounding window where the right kernel folds it in (:func:`claim_spread`),
    K_i = sd_i² + η_s w_i²/12 for a claim outside an atom and K_i = sd_i² in one, or where the
    exact path splits the right part (``split``, :func:`split_right`: its noisy component
    holds no window). Only the noise teaches σ_s and β_s
    (:func:`models.batch.sums.update_sources`).

    Parameters
    ----------
    enc : Encoded
        The claims: their source, h_i, sd_i², w_i²/12 and atom membership.
    p : Params
        The sources' η_s and σ_s.
    split : (n,) bool, optional
        Claims on the exact path.

    Returns
    -------
    share : (n,) float
        λ_i in (0, 1]; 1 where K_i = 0.
    cond_var : (n,) float
        λ_i K_i = N_i K_i/(N_i + K_i), the noise's variance given the residual.
    """
    s = enc.s
    if enc.plain and enc.atom_q.shape[0] == 0 and float(p.eta.max()) < 1e-6:
        # claim_spread's shortcut: no sd, no hedge, no window folded in (K = 0).
        return np.ones(s.shape[0]), np.zeros(s.shape[0])
    noise = (p.sigma[s] * enc.spread_factor) ** 2
    folded = ~enc.member if split is None else ~enc.member & ~split
    stated = enc.own_var + np.where(folded, p.eta[s] * enc.exact_var, 0.0)
    # σ_s ≥ MIN_SPREAD and h_i > 0: the noise is positive, so is the sum.
    share = noise / (noise + stated)
    return np.asarray(share, dtype=np.float64), np.asarray(share * stated, dtype=np.float64)


def log_coefficients(enc: Encoded, p: Params) -> tuple[FloatArray, FloatArray, FloatArray]:
    """log of the exact, continuous-right and wrong coefficients of each claim.

    The hedge multiplies the odds of being wrong. A claim in an atom keeps its exact part
    (c η) for the atom and its noisy part (c (1 − η)) for the continuous posterior; any
    other claim's right part (c) is continuous as a whole. A hedge with factor f on the
    odds of being wrong turns c into c' with (1 − c')/c' = f (1 − c)/c.

    Parameters
    ----------
    enc : Encoded
        The claims: their source, the hedge's log factor on the odds of being wrong and
        atom membership.
    p : Params
        The sources' c_s and η_s.

    Returns
    -------
    log_exact, log_right, log_wrong : (n,) float
        log c' η_s, log c' (1 − η_s) for a claim in an atom else log c', and log(1 − c').
    """
    # Logs per source (S of them), then gathered: far cheaper than logs per claim.
    log_c = np.log(p.c)
    log_w = np.log1p(-p.c)
    log_eta = np.log(p.eta)
    if enc.plain:
        log_right = log_c[enc.s]
        log_wrong = log_w[enc.s]
    else:
        # (1 − c')/c' = f (1 − c)/c with the hedge's factor f.
        log_odds = (log_w - log_c)[enc.s] + enc.log_wrong_factor
        log_right = -np.logaddexp(0.0, log_odds)
        log_wrong = log_odds + log_right
    if enc.atom_q.shape[0] == 0:
        return log_right + log_eta[enc.s], log_right, log_wrong
    log_exact = log_right + log_eta[enc.s]
    log_noisy = log_right + np.log1p(-p.eta)[enc.s]
    return log_exact, np.where(enc.member, log_noisy, log_right), log_wrong


def claim_kernels(
    enc: Encoded, rows: IntArray | None, theta: FloatArray, var_extra: FloatArray,
    sig: FloatArray, beta_c: FloatArray, want_newton: bool, wrong_spread: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """log right and wrong kernels at θ, and the right kernel's score and information.

    ``rows`` selects claims (None: all); every other array is already per selected row.
    ``var_extra`` widens both kernels for a θ that is itself uncertain (the cavity
    variance; 0 at a fixed θ): the right part exactly (σ² + v), the wrong part by using
    the Cauchy scale √(σ_w² + v). Score and information are those of the right kernel at
    v = 0 (for the IRLS step), when ``want_newton``.

    For a point, with d = y − θ − β and d_w = y − θ,

        log f_right = −d²/(2(σ² + v)) − ½ log(σ² + v) − log √(2π),
        log f_wrong = −log(1 + d_w²/(σ_w² + v)) − ½ log(σ_w² + v) − log π,

    score d/σ² and information 1/σ². For a bound or range [a, b], with u = (· − θ − β)/σ,
    f_right = Φ(u_b) − Φ(u_a) and f_wrong the Cauchy probability of [a, b]; the censored
    normal's score is (r_a − r_b)/σ and its information (u_b r_b − u_a r_a + (r_a − r_b)²)/σ²
    with r = φ(u)/(Φ(u_b) − Φ(u_a)).

    Parameters
    ----------
    enc : Encoded
    rows : (m,) int or None
        Claims evaluated (None: all n, in order).
    theta, var_extra, sig, beta_c : (m,) float
        θ, the extra variance v, the right kernel's spread σ_i and bias per row.
    want_newton : bool
        Whether to compute the score and information.
    wrong_spread : float
        σ_wrong; σ_w,i = max(σ_wrong, 2σ_i).

    Returns
    -------
    log_right, log_wrong : (m,) float
        log f_right and log f_wrong.
    score, info : (m,) float
        The right kernel's score and information; empty when every claim is a point and
        ``want_newton`` is false, and zero for bounds and ranges unless ``want_newton``.
    """
    kind = enc.kind if rows is None else enc.kind[rows]
    y = enc.y if rows is None else enc.y[rows]
    sig_w = np.maximum(wrong_spread, 2.0 * sig)
    if enc.all_points:
        d = y - theta - beta_c
        var = sig * sig + var_extra
        log_right = -0.5 * d * d / var - 0.5 * np.log(var) - LOG_SQRT_2PI
        dw = y - theta
        var_w = sig_w * sig_w + var_extra
        log_wrong = -np.log1p(dw * dw / var_w) - 0.5 * np.log(var_w) - LOG_PI
        if want_newton:
            inv = 1.0 / (sig * sig)
            return log_right, log_wrong, d * inv, inv
        return log_right, log_wrong, np.zeros(0), np.zeros(0)
    n = theta.shape[0]
    log_right = np.empty(n)
    log_wrong = np.empty(n)
    score = np.zeros(n)
    info = np.zeros(n)
    point = kind == KIND_POINT
    ip = np.flatnonzero(point)
    if ip.size:
        d = y[ip] - theta[ip] - beta_c[ip]
        sp = sig[ip]
        var = sp * sp + var_extra[ip]
        log_right[ip] = -0.5 * d * d / var - 0.5 * np.log(var) - LOG_SQRT_2PI
        dw = y[ip] - theta[ip]
        var_w = sig_w[ip] ** 2 + var_extra[ip]
        log_wrong[ip] = -np.log1p(dw * dw / var_w) - 0.5 * np.log(var_w) - LOG_PI
        score[ip] = d / (sp * sp)
        info[ip] = 1.0 / (sp * sp)
    other = np.flatnonzero(~point)
    if other.size:
        a = (enc.a if rows is None else enc.a[rows])[other]
        b = (enc.b if rows is None else enc.b[rows])[other]
        th = theta[other]
        bc = beta_c[other]
        so = sig[other]
        sd_pred = np.sqrt(so * so + var_extra[other])
        log_right[other] = log_normal_interval((a - th - bc) / sd_pred,
                                                (b - th - bc) / sd_pred)
        sw = np.sqrt(sig_w[other] ** 2 + var_extra[other])
        log_wrong[other] = log_cauchy_interval((a - th) / sw, (b - th) / sw)
        if want_newton:
            u1 = (a - th - bc) / so
            u2 = (b - th - bc) / so
            log_p = log_normal_interval(u1, u2)
            with np.errstate(invalid="ignore", over="ignore"):
                r1 = np.where(np.isfinite(u1),
                              np.exp(-0.5 * u1 * u1 - LOG_SQRT_2PI - log_p), 0.0)
                r2 = np.where(np.isfinite(u2),
                              np.exp(-0.5 * u2 * u2 - LOG_SQRT_2PI - log_p), 0.0)
                u1f = np.where(np.isfinite(u1), u1, 0.0)
                u2f = np.where(np.isfinite(u2), u2, 0.0)
                # d/dθ log P = (r1 − r2)/σ; −d²/dθ² log P = (u2 r2 − u1 r1 + (r1 − r2)²)/σ².
                sc = (r1 - r2) / so
                inf_ = (u2f * r2 - u1f * r1 + (r1 - r2) ** 2) / (so * so)
            score[other] = np.nan_to_num(sc, nan=0.0, posinf=0.0, neginf=0.0)
            info[other] = np.clip(np.nan_to_num(inf_, nan=0.0, posinf=0.0), 0.0, None)
    return log_right, log_wrong, score, info


def irls(
    enc: Encoded, rows: IntArray | None, theta: FloatArray, r: FloatArray,
    score: FloatArray, info: FloatArray, sig: FloatArray, wrong_spread: float,
) -> tuple[FloatArray, FloatArray]:
    """IRLS score and (positive) information of each claim at θ.

    Right and wrong parts are weighted by their responsibilities: the right kernel's own
    score and information (1/σ² for a point; censored-normal for a bound) and, for a
    wrong point, the Cauchy's IRLS weight 2/(σ_w² + d²). A wrong bound pulls nowhere:

        g_i = r_i score_i + (1 − r_i) w_i d_i,     h_i = r_i info_i + (1 − r_i) w_i,

    with w_i = 2/(σ_w² + d_i²) and d_i = y_i − θ.

    Parameters
    ----------
    enc : Encoded
    rows : (m,) int or None
        Claims evaluated (None: all n, in order).
    theta, r, score, info, sig : (m,) float
        θ, P(right | θ), the right kernel's score and information, and its spread σ_i.
    wrong_spread : float
        σ_wrong.

    Returns
    -------
    grad, hess : (m,) float
        g_i and h_i.
    """
    kind = enc.kind if rows is None else enc.kind[rows]
    y = enc.y if rows is None else enc.y[rows]
    sig_w = np.maximum(wrong_spread, 2.0 * sig)
    if enc.all_points:
        dw = y - theta
        w_wrong = 2.0 / (sig_w * sig_w + dw * dw)
    else:
        is_point = kind == KIND_POINT
        dw = np.where(is_point, y - theta, 0.0)
        w_wrong = np.where(is_point, 2.0 / (sig_w * sig_w + dw * dw), 0.0)
    wrong = 1.0 - r
    return r * score + wrong * w_wrong * dw, r * info + wrong * w_wrong


def plugin(
    enc: Encoded, rows: IntArray, theta: FloatArray, sig: FloatArray, beta_c: FloatArray,
    coef_r: FloatArray, coef_w: FloatArray, wrong_spread: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """ℓ_i(θ), P(right | θ) and the IRLS pieces at a fixed θ, for selected rows.

    ℓ_i(θ) = log(e^{coef_r + log f_right} + e^{coef_w + log f_wrong}) is the log of claim
    i's continuous likelihood, and P(right | θ) = e^{coef_r + log f_right − ℓ_i}.

    Parameters
    ----------
    enc : Encoded
    rows : (m,) int
        The claims evaluated (a claim may appear several times, e.g. once per atom).
    theta, sig, beta_c, coef_r, coef_w : (m,) float
        θ, the right kernel's spread and bias, and the log coefficients of the right and
        wrong parts, per row.
    wrong_spread : float
        σ_wrong.

    Returns
    -------
    ell, r, grad, hess : (m,) float
        ℓ_i(θ), P(right | θ), and the IRLS score and information (see :func:`irls`).
    """
    zero = np.zeros(rows.shape[0])
    lr, lw, score, info = claim_kernels(enc, rows, theta, zero, sig, beta_c, True,
                                        wrong_spread)
    lr = lr + coef_r
    lw = lw + coef_w
    ell = np.logaddexp(lr, lw)
    r = np.exp(lr - ell)
    grad, hess = irls(enc, rows, theta, r, score, info, sig, wrong_spread)
    return ell, r, grad, hess





def split_right(
    enc: Encoded, p: Params, sig: FloatArray, coef_r: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The exact path's right part of a point outside the atoms: narrow and noisy components.

    The model's right part of such a claim is c (η_s · exact + (1 − η_s) · noisy); the exact
    component is read as the Gaussian of its rounding window and own sd,

        c η_s N(y_i; θ, w_i²/12 + sd_i²) + c (1 − η_s) N(y_i; θ + β_s, (σ_s h_i)² + sd_i²),

    a proper two-component mixture whose tails are the noisy component's whatever η_s (the
    single Gaussian of :func:`claim_spread` serves the Laplace path, which cannot hold a
    spike at every figure). Its narrow part is a small atom at the claim's own figure: an
    unmatched figure of a source that copies exact figures weighs as the near-exact figure it
    probably is, and the posterior of θ picks among rival figures rather than averaging them
    (the Wikipedia populations, ``bench/batch_population.py``). Members of atoms keep their
    noisy part (their exact part is the atom), bounds and ranges their whole right part.

    Parameters
    ----------
    enc : Encoded
    p : Params
    sig, coef_r : (n,) float
        The Laplace path's right kernel spread (:func:`claim_spread`) and log coefficient
        (:func:`log_coefficients`).

    Returns
    -------
    sig_wide, coef_wide : (n,) float
        The noisy component's spread and log coefficient (``sig`` and ``coef_r`` where no
        split applies).
    sig_narrow, coef_narrow : (n,) float
        The exact component's spread and log coefficient (−inf where none).

    References
    ----------
    Hogg, D. W., Bovy, J. & Lang, D. (2010). Data analysis recipes: Fitting a model to data.
    arXiv:1008.4686.
    """
    n = enc.s.shape[0]
    lone = (enc.kind == KIND_POINT) & ~enc.member
    eta = p.eta[enc.s]
    if not bool(lone.any()) or float(p.eta.max()) < 1e-6:
        return sig, coef_r, np.ones(n), np.full(n, -np.inf)
    if enc.plain:
        noisy = p.sigma[enc.s]
    else:
        noisy = np.sqrt((p.sigma[enc.s] * enc.spread_factor) ** 2 + enc.own_var)
    sig_wide = np.where(lone, noisy, sig)
    coef_wide = np.where(lone, coef_r + np.log1p(-eta), coef_r)
    # Bounds and ranges have no window (w = 0): a unit spread keeps their unused kernel finite.
    sig_narrow = np.where(lone, np.sqrt(enc.exact_var + enc.own_var), 1.0)
    coef_narrow = np.where(lone, coef_r + np.log(eta), -np.inf)
    return (np.asarray(sig_wide, dtype=np.float64), np.asarray(coef_wide, dtype=np.float64),
            np.asarray(sig_narrow, dtype=np.float64), np.asarray(coef_narrow, dtype=np.float64))
