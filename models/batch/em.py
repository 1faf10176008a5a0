"""The EM steps of batch truth discovery, as plain functions of the EM state.

:func:`e_step` computes every question's posterior and every claim's responsibilities given the
source parameters: exactly for small or contested questions (:mod:`models.batch.exact`), else
by a Gaussian approximation whose leave-one-out (cavity) part, :func:`loo_responsibilities`,
gives the P(right | data) with θ integrated out that teaches the sources; :func:`mix_atoms`
mixes the continuous posterior with the atoms of agreed figures. The M-step, an additive
reduction of per-source sums, is in :mod:`models.batch.sums`.
The formulas are in the docstring of :mod:`models.batch`.
"""

from __future__ import annotations

import numpy as np

from models.batch.common import KIND_POINT, LOG_SQRT_2PI, FloatArray, IntArray
from models.batch.exact import exact_posterior, select
from models.batch.kernels import (
    claim_kernels,
    claim_spread,
    irls,
    log_coefficients,
    log_mix,
    log_norm_pdf,
    plugin,
)
from models.batch.mode import hop as hop_modes
from models.batch.mode import is_contested, newton
from models.batch.panels import ClaimKernels, Panels, flat_prior
from models.batch.state import Encoded, Hyper, Params, Posterior

# --------------------------------------------------------------------------------------------
# E-step
# --------------------------------------------------------------------------------------------


def e_step(
    enc: Encoded, p: Params, mu: FloatArray, hop: bool, hyper: Hyper, keep_panels: bool = False
) -> tuple[Posterior, int]:
    """The posterior given the source parameters: responsibilities, then one IRLS step.

    Questions of at most ``hyper.exact_claims`` claims, and larger ones that
    :func:`~models.batch.mode.is_contested` flags at the current μ_q, take the exact
    posterior (:func:`~models.batch.exact.exact_posterior`): responsibilities, spread and
    bias sums, log Z_q, and a rough median and τ_q for the convergence test. For the others,
    responsibilities integrate θ out (:func:`loo_responsibilities`), the continuous part of
    each θ_q's posterior is N(μ_q, τ_q²) with 1/τ_q² = Σ t_i h_i + 1/s_q² at the current μ_q,
    and its log Laplace mass is

        log Z_q = log π(μ_q) + Σ_i t_i ℓ_i(μ_q) + log √(2π) + log τ_q,

    with ℓ_i(θ) the log of claim i's continuous likelihood. Then μ_q takes one IRLS step
    (:func:`~models.batch.mode.newton`) and, when ``hop``, may move to a rival mode
    (:func:`~models.batch.mode.hop`). Questions with atoms mix in the atoms
    (:func:`mix_atoms`).

    Parameters
    ----------
    enc : Encoded
    p : Params
        The source parameters, held fixed.
    mu : (Q,) float
        The current modes.
    hop : bool
        Whether to look for rival modes (a pass over pairs of claims).
    hyper : Hyper
    keep_panels : bool
        Whether the posterior keeps the exact questions' panels for its quantiles
        (:class:`~models.batch.panels.Panels`; memory of the order of the exact claims
        times a few hundred nodes).

    Returns
    -------
    Posterior
        With the new μ, τ (and log Z of the current μ, or of the rival mode after a hop).
    int
        How many questions hopped modes.
    """
    n_q = enc.n_questions
    q = enc.q
    t = enc.t
    sig, beta_c = claim_spread(enc, p)
    log_exact, coef_r, coef_w = log_coefficients(enc, p)
    theta = mu[q]
    zero = np.zeros(q.shape[0])
    # Plug-in pass at μ: ℓ_i(μ) for the Laplace mass; IRLS pieces for the step, which
    # climbs to a mode with the responsibilities at the current θ (EM for a posterior
    # mode of θ_q).
    lr, lw, score, info = claim_kernels(enc, None, theta, zero, sig, beta_c, True,
                                        hyper.wrong_spread)
    ell, r0 = log_mix(lr + coef_r, lw + coef_w)
    grad, hess = irls(enc, None, theta, r0, score, info, sig, hyper.wrong_spread)
    prior_prec = 1.0 / (enc.prior_sd * enc.prior_sd)
    h_q = np.bincount(q, weights=t * hess, minlength=n_q) + prior_prec
    # Small questions, and larger ones whose claims form camps, take the exact posterior.
    chosen = select(enc, hyper.exact_claims)
    if hyper.exact_claims > 0 and hyper.exact_contested:
        chosen |= is_contested(enc, coef_r, r0, sig)
    # The others' claims take the leave-one-out responsibilities (the exact ones' would be
    # overwritten: no need to compute them).
    gauss = np.flatnonzero(~chosen[q]) if chosen.any() else None
    r_gauss, w_gauss = loo_responsibilities(enc, gauss, theta, grad, hess, h_q, prior_prec,
                                            sig, beta_c, coef_r, coef_w, hyper.wrong_spread)
    if gauss is None:
        r_right, r_wrong = r_gauss, w_gauss
    else:
        # The exact claims' entries (and r_wrong) are filled in below.
        r_right = np.zeros(q.shape[0])
        r_right[gauss] = r_gauss
    tau = np.sqrt(1.0 / h_q)
    log_z = (log_norm_pdf(mu, enc.prior_centre, enc.prior_sd)
             + np.bincount(q, weights=t * ell, minlength=n_q) + LOG_SQRT_2PI + np.log(tau))
    is_point = enc.kind == KIND_POINT
    tau2 = (tau * tau)[q]
    resid = enc.y - theta
    if enc.all_points:
        d_cont = resid - p.beta[enc.s]
        ss = r_right * (d_cont * d_cont + tau2)
        dev = r_right * resid
    else:
        resid = np.where(is_point, resid, 0.0)
        d_cont = np.where(is_point, resid - p.beta[enc.s], 0.0)
        ss = np.where(is_point, r_right * (d_cont * d_cont + tau2), 0.0)
        dev = r_right * resid
    new_mu, new_tau = newton(q, n_q, mu, grad, hess, t, enc.prior_centre, enc.prior_sd,
                             hyper.prior_scale)
    hops = 0
    panels = None
    r_narrow = None
    if hop:
        new_mu, new_tau, log_z, hops = hop_modes(enc, sig, beta_c, coef_r, coef_w, r0, new_mu,
                                                 new_tau, log_z, hyper.wrong_spread,
                                                 hyper.prior_scale, skip=chosen)
    if chosen.any():
        # Small questions: the exact posterior replaces the Gaussian one and its
        # leave-one-out responsibilities (models.batch.exact).
        kern = ClaimKernels.split(enc, p, sig, beta_c, coef_r, coef_w, hyper.wrong_spread)
        part = exact_posterior(enc, chosen, kern, keep=keep_panels)
        if keep_panels:
            # A copy of the parameters (S floats each), so that the check before reuse
            # cannot be fooled by arrays changed in place afterwards.
            panels = Panels(Params(*(np.array(getattr(p, name)) for name in Params.__slots__)),
                            hyper.wrong_spread, part.blocks)
        # r_right, ss and dev are this step's own arrays: filled in place.
        r_right[part.claims] = part.r_right
        r_wrong = 1.0 - r_right
        if kern.narrow:
            r_narrow = np.zeros(q.shape[0])
            r_narrow[part.claims] = part.r_narrow
        # The atoms of an exact question weigh its claims with the exact path's kernels, as
        # its continuous mass log Z_q does.
        on_exact = chosen[q]
        sig = np.where(on_exact, kern.sig, sig)
        coef_r = np.where(on_exact, kern.coef_r, coef_r)
        ss[part.claims] = part.ss
        dev[part.claims] = part.dev
        new_mu = new_mu.copy()
        new_mu[part.questions] = part.mu
        new_tau = new_tau.copy()
        new_tau[part.questions] = part.tau
        log_z = log_z.copy()
        log_z[part.questions] = part.log_z
    continuous = Posterior(
        mu=new_mu, tau=new_tau, log_z=log_z, log_m=np.zeros(0), p_cont=np.ones(n_q),
        p_atom=np.zeros(0), r_exact=np.zeros(q.shape[0]), r_right=r_right,
        r_wrong=r_wrong, ss=ss, dev=dev, exact=chosen, panels=panels, r_narrow=r_narrow,
    )
    if enc.atom_q.shape[0] == 0:
        return continuous, hops
    return mix_atoms(enc, p, continuous, sig, beta_c, log_exact, coef_r, coef_w,
                     hyper.wrong_spread), hops


def loo_responsibilities(
    enc: Encoded, rows: IntArray | None, theta: FloatArray, grad: FloatArray,
    hess: FloatArray, h_q: FloatArray, prior_prec: FloatArray, sig: FloatArray,
    beta_c: FloatArray, coef_r: FloatArray, coef_w: FloatArray, wrong_spread: float,
) -> tuple[FloatArray, FloatArray]:
    """P(claim i right | data) and P(wrong | data) with θ integrated out over the cavity.

    Source learning needs the responsibilities with θ integrated out over the *cavity*
    p_{−i}, the posterior without claim i; evaluating at the plug-in θ = μ would let a claim
    vouch for itself (a lone claim would always look right). With the Gaussian continuous
    part,

        p_{−i} = N(μ − t_i g_i/h_{−i}, 1/h_{−i}),    h_{−i} = max(h_q − t_i h_i, 1/s_q²),

    (g_i, h_i claim i's IRLS score and information), and with probability
    π_i = Π_{j≠i} ω_j^{t_j} every other claim is wrong, a branch the Gaussian cavity misses.
    There θ follows the other claims' wrong parts; claim i's wrong part is then read against
    the prior N(m_q, s_q²) with the predictive density D_i, and so is its right part when the
    question has at most two claims:

        P(right) ∝ c_i [(1 − π_i) ∫ f_right p_{−i} dθ + π_i D_i 1{n_q ≤ 2}],
        P(wrong) ∝ (1 − c_i) [(1 − π_i) ∫ f_wrong p_{−i} dθ + π_i D_i].

    With one other claim the branch keeps two contradicting claims from condemning each other
    outright (and a lone claim's P(right) at c). With two or more, claim i could be right in
    the branch only where the others' wrong parts put θ, c_i Π_{j≠i} ω_j ∫ f_right,i
    Π_{j≠i} f_wrong,j dθ, a product of Cauchy tails at y_i that vanishes as claim i moves away
    from them; D_i, read off a prior as wide as the claims' span, instead *grows* relative to
    the wrong part with the distance (project issue 13: a wild claim's P(right) rose from
    0.17 at 2 log-units to 0.69 at 30, exact 0.003 and 1e-5), and r_i (y_i − θ)² then swamps
    the spreads. That right part is dropped: where claim i agrees with the others the cavity
    term dominates it anyway. Small questions take the exact posterior instead
    (:mod:`models.batch.exact`); this path serves the larger ones.

    Parameters
    ----------
    enc : Encoded
    rows : (m,) int or None
        The claims evaluated, all the claims of each of their questions, in order (None: all
        n); the arrays over claims below are over all n.
    theta : (n,) float
        μ of each claim's question.
    grad, hess : (n,) float
        g_i and h_i at θ = μ.
    h_q : (Q,) float
        Σ t_i h_i + 1/s_q², the posterior precision of each question.
    prior_prec : (Q,) float
        1/s_q².
    sig, beta_c, coef_r, coef_w : (n,) float
        Each claim's right-kernel spread and bias and its log right and wrong coefficients.
    wrong_spread : float
        σ_wrong.

    Returns
    -------
    r_right, r_wrong : (m,) float
        P(right | data) and 1 − P(right | data) of the continuous part, per row.
    """
    if rows is not None:
        theta, grad, hess = theta[rows], grad[rows], hess[rows]
        sig, beta_c, coef_r, coef_w = sig[rows], beta_c[rows], coef_r[rows], coef_w[rows]
    q = enc.q if rows is None else enc.q[rows]
    t = enc.t if rows is None else enc.t[rows]
    n_q = enc.n_questions
    h_cav = np.maximum(h_q[q] - t * hess, prior_prec[q])
    mu_cav = theta - t * grad / h_cav
    lr_c, lw_c, _, _ = claim_kernels(enc, rows, mu_cav, 1.0 / h_cav, sig, beta_c, False,
                                     wrong_spread)
    # In the all-wrong branch θ follows the prior: log π_i + log D_i (D_i precomputed).
    # Whole questions in order: the sums over each question are those over all claims.
    t_log_w = t * coef_w
    log_pi = np.minimum(np.bincount(q, weights=t_log_w, minlength=n_q)[q] - t_log_w, 0.0)
    branch = log_pi + (enc.log_prior_pred if rows is None else enc.log_prior_pred[rows])
    # Mix in linear space after one common shift: three exponentials per claim.
    peak = np.maximum(np.maximum(lr_c, lw_c), branch)
    stay = -np.expm1(log_pi)  # 1 − π
    from_branch = np.exp(branch - peak)
    pair = (np.bincount(q, minlength=n_q) <= 2)[q]
    right_lin = stay * np.exp(lr_c - peak) + np.where(pair, from_branch, 0.0)
    wrong_lin = stay * np.exp(lw_c - peak) + from_branch
    odds = np.exp(np.clip(coef_w - coef_r, -700.0, 700.0)) * wrong_lin
    r_right = right_lin / (right_lin + odds)
    r_wrong = 1.0 - r_right
    return np.asarray(r_right, dtype=np.float64), np.asarray(r_wrong, dtype=np.float64)


def mix_atoms(
    enc: Encoded, p: Params, cont: Posterior, sig: FloatArray, beta_c: FloatArray,
    log_exact: FloatArray, coef_r: FloatArray, coef_w: FloatArray, wrong_spread: float,
) -> Posterior:
    """The posterior as a mixture of the continuous part and the atoms of agreed figures.

    Every claim of an atom's question is evaluated at θ = v (a fixed θ, so the plug-in
    responsibilities are exact there); the atom's log mass is

        log M_v = log π(v) + log(u_v − l_v) + Σ_{i ∈ A_v} t_i (log ε_i − log w_i)
                  + Σ_{j ∉ A_v} t_j ℓ_j(v),

    and each question's continuous part and atoms are normalised together,
    P(continuous) = Z_q/(Z_q + Σ_v M_v), P(atom v) = M_v/(Z_q + Σ_v M_v). The claims'
    responsibilities and spread and bias sums are the mixtures of the continuous part's and
    each atom's (a member of the atom is exact there).

    Parameters
    ----------
    enc : Encoded
        With at least one atom.
    p : Params
    cont : Posterior
        The continuous part from :func:`e_step` (no atoms).
    sig, beta_c, log_exact, coef_r, coef_w : (n,) float
        Each claim's right-kernel spread and bias and its log exact, right and wrong
        coefficients.
    wrong_spread : float
        σ_wrong.

    Returns
    -------
    Posterior
    """
    n_q = enc.n_questions
    q = enc.q
    t = enc.t
    k = enc.atom_q.shape[0]
    pc = enc.pair_claim
    pa = enc.pair_atom
    v = enc.atom_v[pa]
    cont_p, r_right_p, _, _ = plugin(enc, pc, v, sig[pc], beta_c[pc], coef_r[pc], coef_w[pc],
                                     wrong_spread)
    member = enc.pair_member
    term = np.where(member, log_exact[pc] - enc.log_window[pc], cont_p) * t[pc]
    # The prior at v: the exact path's flat prior where it applies (models.batch.exact),
    # else N(m_q, s_q²) -- the prior the continuous part's mass log Z_q was computed with.
    log_prior = np.asarray(np.where((cont.exact & flat_prior(enc))[enc.atom_q], 0.0,
                                    log_norm_pdf(enc.atom_v, enc.prior_centre[enc.atom_q],
                                                 enc.prior_sd[enc.atom_q])),
                           dtype=np.float64)
    with np.errstate(divide="ignore"):
        # Members' windows that meet only at v leave the atom no width: log 0 = −inf, mass 0.
        log_width = np.log(enc.atom_hi - enc.atom_lo)
    log_m = np.bincount(pa, weights=term, minlength=k) + log_width + log_prior
    # Normalise per question: log-sum-exp over the continuous part and the atoms.
    log_z = cont.log_z
    peak = log_z.copy()
    np.maximum.at(peak, enc.atom_q, log_m)
    mass_c = np.exp(log_z - peak)
    mass_a = np.exp(log_m - peak[enc.atom_q])
    norm = mass_c + np.bincount(enc.atom_q, weights=mass_a, minlength=n_q)
    p_cont = mass_c / norm
    p_atom = mass_a / norm[enc.atom_q]
    # Responsibilities: mix the continuous part's with each atom's.
    w_pair = p_atom[pa]
    r_right_p = np.where(member, 0.0, r_right_p)
    r_wrong_p = np.where(member, 0.0, 1.0 - r_right_p)
    n = q.shape[0]
    pcq = p_cont[q]
    r_exact = np.asarray(np.bincount(pc, weights=w_pair * member, minlength=n),
                         dtype=np.float64)
    r_right_m = pcq * cont.r_right + np.bincount(pc, weights=w_pair * r_right_p, minlength=n)
    r_wrong_m = pcq * cont.r_wrong + np.bincount(pc, weights=w_pair * r_wrong_p, minlength=n)
    is_point = enc.kind == KIND_POINT
    pt = is_point[pc]
    d_atom = np.where(pt, enc.y[pc] - v - p.beta[enc.s[pc]], 0.0)
    ss_m = pcq * cont.ss + np.bincount(pc, weights=w_pair * r_right_p * d_atom * d_atom,
                                       minlength=n)
    dev_m = pcq * cont.dev + np.bincount(
        pc, weights=w_pair * r_right_p * np.where(pt, enc.y[pc] - v, 0.0), minlength=n
    )
    return Posterior(
        mu=cont.mu, tau=cont.tau, log_z=log_z, log_m=log_m, p_cont=p_cont, p_atom=p_atom,
        r_exact=r_exact, r_right=r_right_m, r_wrong=r_wrong_m,
        ss=np.where(is_point, ss_m, 0.0), dev=np.where(is_point, dev_m, 0.0), exact=cont.exact,
        panels=cont.panels, r_narrow=None if cont.r_narrow is None else pcq * cont.r_narrow,
    )
