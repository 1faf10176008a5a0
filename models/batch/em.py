"""The EM steps of batch truth discovery, as plain functions of the EM state.

:func:`e_step` computes every question's posterior and every claim's responsibilities given the
source parameters: exactly for small or contested questions (:mod:`models.batch.exact`), else
by a Gaussian approximation whose leave-one-out (cavity) part, :func:`loo_responsibilities`,
gives the P(right | data) with θ integrated out that teaches the sources; :func:`mix_atoms`
mixes the continuous posterior with the atoms of agreed figures. :func:`m_step` re-estimates the
sources' parameters under their hierarchical prior, and :func:`recentre` pins the biases' common
level.
The formulas are in the docstring of :mod:`models.batch`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from models.batch.common import EPS, KIND_POINT, LOG_SQRT_2PI, MIN_SPREAD, FloatArray
from models.batch.exact import exact_posterior, select
from models.batch.kernels import (
    claim_kernels,
    claim_spread,
    irls,
    log_coefficients,
    log_mix,
    log_norm_pdf,
    noise_share,
    plugin,
)
from models.batch.mode import hop as hop_modes
from models.batch.mode import is_contested, newton
from models.batch.panels import ClaimKernels, flat_prior
from models.batch.result import PopulationPrior
from models.batch.state import Encoded, Hyper, Params, Posterior, SourcePrior

# --------------------------------------------------------------------------------------------
# E-step
# --------------------------------------------------------------------------------------------


def e_step(
    enc: Encoded, p: Params, mu: FloatArray, hop: bool, hyper: Hyper
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
    r_right, r_wrong = loo_responsibilities(enc, theta, grad, hess, h_q, prior_prec, sig,
                                            beta_c, coef_r, coef_w, hyper.wrong_spread)
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
    # Small questions, and larger ones whose claims form camps, take the exact posterior.
    chosen = select(enc, hyper.exact_claims)
    if hyper.exact_claims > 0 and hyper.exact_contested:
        chosen |= is_contested(enc, coef_r, r0, sig)
    hops = 0
    if hop:
        new_mu, new_tau, log_z, hops = hop_modes(enc, sig, beta_c, coef_r, coef_w, r0, new_mu,
                                                 new_tau, log_z, hyper.wrong_spread,
                                                 hyper.prior_scale, skip=chosen)
    if chosen.any():
        # Small questions: the exact posterior replaces the Gaussian one and its
        # leave-one-out responsibilities (models.batch.exact).
        part = exact_posterior(enc, chosen, ClaimKernels(sig, beta_c, coef_r, coef_w,
                                                         p.beta[enc.s], hyper.wrong_spread))
        r_right = r_right.copy()
        r_right[part.claims] = part.r_right
        r_wrong = 1.0 - r_right
        ss = ss.copy()
        ss[part.claims] = part.ss
        dev = dev.copy()
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
        r_wrong=r_wrong, ss=ss, dev=dev, exact=chosen,
    )
    if enc.atom_q.shape[0] == 0:
        return continuous, hops
    return mix_atoms(enc, p, continuous, sig, beta_c, log_exact, coef_r, coef_w,
                     hyper.wrong_spread), hops


def loo_responsibilities(
    enc: Encoded, theta: FloatArray, grad: FloatArray, hess: FloatArray, h_q: FloatArray,
    prior_prec: FloatArray, sig: FloatArray, beta_c: FloatArray, coef_r: FloatArray,
    coef_w: FloatArray, wrong_spread: float,
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
    r_right, r_wrong : (n,) float
        P(right | data) and 1 − P(right | data) of the continuous part.
    """
    q = enc.q
    t = enc.t
    n_q = enc.n_questions
    h_cav = np.maximum(h_q[q] - t * hess, prior_prec[q])
    mu_cav = theta - t * grad / h_cav
    lr_c, lw_c, _, _ = claim_kernels(enc, None, mu_cav, 1.0 / h_cav, sig, beta_c, False,
                                     wrong_spread)
    # In the all-wrong branch θ follows the prior: log π_i + log D_i (D_i precomputed).
    t_log_w = t * coef_w
    log_pi = np.minimum(np.bincount(q, weights=t_log_w, minlength=n_q)[q] - t_log_w, 0.0)
    branch = log_pi + enc.log_prior_pred
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
    )


# --------------------------------------------------------------------------------------------
# M-step
# --------------------------------------------------------------------------------------------


def m_step(
    enc: Encoded, post: Posterior, p: Params, prior: SourcePrior, hyper: Hyper
) -> tuple[Params, PopulationPrior]:
    """Posterior means of every source's c_s, η_s, σ_s and β_s under its prior.

    With expected counts weighted by t_i -- R_s right claims among n_s, E_s exact ones, T_s
    right claims on questions with an atom -- and spread and bias sums over noisy-right
    points,

        c_s = (R_s + κ_s c̄_s) / (n_s + κ_s),          η_s = (E_s + κ_η η̄) / (T_s + κ_η),
        β_s = (Σ r_i E[y_i − θ] + λ β̄_s) / (Σ r_i + λ),
        η̄ = (Σ_s E_s + κ_η η₀) / (Σ_s T_s + κ_η),
        σ_s² = (Σ r_i E[(y_i − θ − β_s)²] / h_i² + ν σ̄_s²) / (Σ r_i + ν),

    where a rated source's prior centre is its own (strength κ_graded) and an unrated one's
    the population's (strength κ_pooled): the precision-weighted means of the unrated
    sources' raw credibility and log-spread, with weights n/(n + κ_pooled) and
    Σr/(Σr + ν), re-estimated here. η̄ is the pooled exact share, the MAP under its
    Beta(1 + κ_η η₀, 1 + κ_η (1 − η₀)) prior (``hyper.exact_share``, ``exact_strength``),
    and η → 0 where no figures agree anywhere (T = 0).

    Only the noise part of a residual teaches σ_s and β_s. A right point's residual
    d_i = y_i − θ is read as n_i + u_i: the source's noise n_i ~ N(β_s, N_i), N_i = (σ_s h_i)²,
    and what the claim states of itself, u_i ~ N(0, K_i), K_i = sd_i² plus η_s w_i²/12 where
    the right kernel folds the rounding window in (:func:`~models.batch.kernels.noise_share`).
    With (θ, n_i) as complete data this is EM for variance components: given d_i,

        n_i ~ N(β_s + λ_i (d_i − β_s), λ_i K_i),      λ_i = N_i/(N_i + K_i),

    at the E-step's β_s and σ_s, so the sums above take, in place of r E[d − β_s] and
    r E[(d − β_s)²],

        r E[n − β_s] = λ_i r E[d − β_s],    r E[(n − β_s)²] = λ_i² r E[(d − β_s)²] + r λ_i K_i.

    A claim that states nothing of itself (K = 0) counts in full, as before. One whose
    window or sd dwarfs its source's noise teaches it almost nothing however far it lies:
    a round "1000000" among figures near 1 (a window 10⁶ of the question's units) kept
    P(right) near 1 under its widened kernel, and r d² = 10¹² had made σ_s 10⁵ and every
    other question's answer 400 times its claims. The same residual in expectation,
    E[d²] = N + K, gives λ² (N + K) + λ K = N: unbiased, like the sd² it replaces (once
    subtracted as a moment, which a single far residual leaves at d² − sd² ≫ σ_s²).

    Parameters
    ----------
    enc : Encoded
    post : Posterior
        From the E-step.
    p : Params
        The parameters of that E-step (its sums are at the old β_s, moved here to the new).
    prior : SourcePrior
    hyper : Hyper

    Returns
    -------
    Params
    PopulationPrior
        The re-estimated population centre.
    """
    n_s = enc.n_sources
    s = enc.s
    t = enc.t
    right = post.r_exact + post.r_right
    n_eff = np.bincount(s, weights=t, minlength=n_s)
    right_s = np.bincount(s, weights=t * right, minlength=n_s)
    # Exact vs noisy is only testable on questions with an atom (an agreed figure): there
    # a right claim outside the atom is noisy. Elsewhere the split is the prior's.
    in_atom_q = enc.in_atom_question
    exact_s = np.bincount(s, weights=t * post.r_exact, minlength=n_s)
    tested_s = np.bincount(s, weights=t * np.where(in_atom_q, right, 0.0), minlength=n_s)
    # Spread and bias learn from right, not exact, point claims; an unmatched claim's
    # right part is noisy with probability 1 − η_s.
    is_point = enc.kind == KIND_POINT
    noisy_share = np.where(enc.member | in_atom_q, 1.0, 1.0 - p.eta[s])
    w_noisy = t * noisy_share * np.where(is_point, 1.0, 0.0)
    # Only the noise part of a residual teaches σ_s and β_s; the part that the claim's own
    # rounding window and sd explain does not (variance components; see the docstring).
    share, cond_var = noise_share(enc, p)
    beta_old = p.beta[s]
    ss_noise = share * share * post.ss + post.r_right * cond_var
    dev_noise = share * post.dev + (1.0 - share) * post.r_right * beta_old
    hedge2 = enc.spread_factor * enc.spread_factor
    ss_s = np.bincount(s, weights=w_noisy * ss_noise / hedge2, minlength=n_s)
    dev_s = np.bincount(s, weights=w_noisy * dev_noise, minlength=n_s)
    rp_s = np.bincount(s, weights=w_noisy * post.r_right, minlength=n_s)

    # Empirical-Bayes population centre from the unrated sources, each weighted by the
    # precision of its own estimate, n/(n + κ) (the beta-binomial shrinkage weight).
    unrated = ~prior.rated
    raw_c = np.where(n_eff > 0, right_s / np.maximum(n_eff, 1e-300), 0.0)
    w_c = np.where(unrated, n_eff / (n_eff + hyper.pooled_strength), 0.0)
    pop_c = (float(np.clip((w_c @ raw_c) / w_c.sum(), 0.02, 0.98)) if w_c.sum() > 0
             else prior.population.credibility)
    tested = float(tested_s.sum())
    # The pooled share under its Beta prior (MAP): a lone pair of coincident figures on a
    # sparse archive is E ≈ T ≈ 2, whose raw share ≈ 1 made every source a copier, every
    # unmatched figure near-exact and every spread collapse to MIN_SPREAD. No agreed figure
    # anywhere: no evidence of exact copying at all, so η → 0 (the estimator also starts there).
    kappa_eta = hyper.exact_strength
    pop_eta = (float(np.clip((exact_s.sum() + kappa_eta * hyper.exact_share)
                             / (tested + kappa_eta), EPS, 1.0 - EPS)) if tested > 0 else EPS)
    raw_sigma = np.sqrt(np.where(rp_s > 0, ss_s / np.maximum(rp_s, 1e-300), 0.0))
    w_sig = np.where(unrated & (raw_sigma > 0), rp_s / (rp_s + hyper.spread_strength), 0.0)
    pop_sigma = (float(np.exp((w_sig @ np.log(np.maximum(raw_sigma, MIN_SPREAD)))
                              / w_sig.sum())) if w_sig.sum() > 0
                 else prior.population.spread)
    population = PopulationPrior(pop_c, pop_eta, pop_sigma)

    c0 = np.where(prior.rated, prior.c0, pop_c)
    sigma0 = np.where(prior.rated, prior.sigma0, pop_sigma)
    kappa = np.where(prior.rated, hyper.graded_strength, hyper.pooled_strength)
    c = np.clip((right_s + kappa * c0) / (n_eff + kappa), EPS, 1.0 - EPS)
    # Each source's share is shrunk to the pooled one with the pooled prior's weight: one
    # source's lone coincidence (E_s = T_s = 1) must not make it a copier either.
    a = hyper.exact_strength
    eta = np.clip((exact_s + a * pop_eta) / (tested_s + a), EPS, 1.0 - EPS)
    nu = hyper.spread_strength
    lam = hyper.bias_strength
    if hyper.learn_bias:
        beta = (dev_s + lam * prior.beta0) / (rp_s + lam)
        # E[(y − θ − β)²] was computed at the previous β; move it to the new one.
        delta = p.beta - beta
        ss_s = np.maximum(ss_s + rp_s * delta * delta + 2.0 * delta * (dev_s - rp_s * p.beta),
                          0.0)
    else:
        beta = prior.beta0.copy()
    sigma = np.maximum(np.sqrt((ss_s + nu * sigma0 * sigma0) / (rp_s + nu)), MIN_SPREAD)
    return Params(c, eta, sigma, beta), population


def recentre(
    enc: Encoded, p: Params, prior: SourcePrior, hyper: Hyper
) -> tuple[Params, float]:
    """Move every bias and every θ_q by one common amount so that biases average zero.

    Continuous claims only see θ_q + β_s, so shifting all biases up and all truths down
    leaves the fit unchanged: the archive alone cannot say where "unbiased" is. We anchor
    it where the sources are unbiased on average -- each source counted once, weighted by
    n_s/(n_s + λ) so that a source with a handful of claims counts little, and a rated
    source's bias measured from its prior bias (a track record). EM would drift along
    this flat ridge for many iterations, pulled by whichever precise sources are biased.

    The shift is δ = Σ_s w_s (β_s − β̄_s) / Σ_s w_s with w_s = n_s/(n_s + λ); β_s becomes
    β_s − δ, and the caller moves every μ_q by +δ.

    Parameters
    ----------
    enc : Encoded
    p : Params
    prior : SourcePrior
    hyper : Hyper

    Returns
    -------
    Params
        With the shifted biases (``p`` itself when biases are not learned).
    float
        δ.
    """
    if not hyper.learn_bias:
        return p, 0.0
    n_s = np.bincount(enc.s, weights=enc.t, minlength=enc.n_sources)
    weight = n_s / (n_s + hyper.bias_strength)
    total = float(weight.sum())
    if total <= 0:
        return p, 0.0
    shift = float(weight @ (p.beta - prior.beta0) / total)
    return replace(p, beta=p.beta - shift), shift
