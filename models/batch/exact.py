"""The exact posterior of small questions: quadrature over θ instead of one Gaussian.

For a question with few claims the Gaussian (Laplace) posterior of :mod:`models.batch.mode` and
the leave-one-out responsibilities of :func:`models.batch.em.loo_responsibilities` fail: a
claim's cavity is the posterior of one or two other claims, which is not Gaussian at all, and
two camps make the posterior bimodal (project issue 13). Here the continuous part of θ_q's
posterior,

    f_q(θ) = π_q(θ) Π_j C_j(θ)^{t_j},    C_j = e^{coef_r,j} f_right,j + e^{coef_w,j} f_wrong,j

(C_j the continuous -- right plus wrong -- likelihood of claim j, :mod:`models.batch.kernels`;
for a point outside the atoms its right part has two components, e^{coef_n} N(y_j; θ, σ_n,j²)
exact and e^{coef_r} f_right,j noisy, :func:`~models.batch.kernels.split_right`, whose
breakpoints are placed at σ_n,j as well), is integrated numerically, and so is every claim's
responsibility

    r_i = ∫ e^{coef_r,i} f_right,i(θ) f_q(θ)/C_i(θ)^{t_i} dθ / ∫ C_i(θ) f_q(θ)/C_i(θ)^{t_i} dθ,

which for t_i = 1 is P(claim i right | every claim of the question) = E[ρ_i(θ)] with
ρ_i(θ) = e^{coef_r,i} f_right,i/C_i the plug-in responsibility at θ (for an echo, t_i < 1, it
is the responsibility of one whole copy of the claim against the rest of the evidence). The
M-step's spread and bias sums take the expectation over θ of the same integrand:

    ss_i = ∫ (y_i − θ − β_s)² e^{coef_r,i} f_right,i f_q/C_i^{t_i} dθ / (denominator),
    dev_i = ∫ (y_i − θ) e^{coef_r,i} f_right,i f_q/C_i^{t_i} dθ / (denominator),

i.e. r_i E[(y_i − θ − β_s)² | i right, data] and r_i E[y_i − θ | i right, data]: the posterior
spread of θ enters the learned spread, with no Gaussian assumed. Where a claim's right part
has an exact component, these sums take its noisy component alone, and that component's
share of r_i, r_n,i (the posterior probability that the claim is exact), teaches η_s.

Prior. π_q is *flat* (improper, π ≡ 1) whenever that leaves a proper posterior: when the point
and range claims of the question carry evidence weight Σ t ≥ 1, so that f_q decays at least
like θ^{−2} (a point's or a range's wrong part is a Cauchy tail). A flat prior is built from no
claim, so no claim can vouch for itself through it: a lone point keeps P(right) = c exactly
(∫ f_right dθ = ∫ f_wrong dθ = 1), and a wild claim's P(right) falls with its distance from
the others. The weakly informative N(m_q, s_q²) of :mod:`models.batch.encode` is centred on
the mid-range of the claims and as wide as their span: with one or two claims it is centred on
the very claims it judges (a lone point under it would get P(right) ≈ 0.79 for c = 0.7). Only
questions of bounds alone (or of points carrying weight < 1, echoes mixed with bounds) keep
it, since a flat prior leaves their posterior improper; a lone bound sits at the centre of
that prior, which is symmetric about it, so it too keeps P(right) ≈ c. Questions on the
Laplace path keep N(m_q, s_q²) as before: with many claims it does not matter. The atoms of
agreed figures (:func:`models.batch.em.mix_atoms`) take the same prior as the continuous part.

Quadrature. θ's axis is cut into panels at breakpoints placed around every claim's features
(:func:`_edges`): its right kernel's centre (figure or bound less the bias) ± {0, 1.5, 3.5, 7}
σ_i, a geometric ladder of ratio 2.5 from ±1 σ_w,i around its wrong kernel's centre out to the
farthest claim, and with the Normal prior m_q ± {0, 1, 2, 4, 8} s_q; a range contributes both
ends. Breakpoints closer than half their scale to the previous one are merged. Each panel gets
a 6-point Gauss-Legendre rule, and the two half-lines beyond TAIL_START σ_w past the outermost
claims are mapped onto (0, 1] by θ = B ± S(1/u − 1), where a θ^{−2k} tail becomes a polynomial
in u. So every feature is resolved at its own scale, from a precise source's σ = 10⁻⁴ to a
wild figure e^{±300} away. Against adaptive quadrature the responsibilities agree to ~1e-8
(``tests/models/test_batch_exact.py``). Quantiles: the panel that holds one is read off the
panels' masses, the CDF inside it is inverted through the Lagrange interpolant of the panel's
nodes, and the result is polished by Newton steps on the CDF integrated afresh by
Gauss-Legendre up to the point (agreement with quadrature ~1e-8 on the working scale). A
question whose one claim is a point needs no quadrature: under the flat prior its posterior
is that claim's likelihood, c N(y − β, σ²) + (1 − c) Cauchy(y, σ_w).

Vectorisation. Questions are grouped by (number of claims, number of range claims, prior), so
that each group is a block of arrays (questions, claims, nodes); blocks hold about 65,000
(question, claim, node) entries, which keeps the arrays in cache, but at least 64 questions:
a block's few dozen numpy calls cost about 0.2 ms whatever its size, which with ten claims a
question (about 20 questions a block) was a tenth of the fit.
"""


from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from models.batch.common import (
    KIND_POINT,
    BoolArray,
    FloatArray,
    IntArray,
)
from models.batch.panels import (
    _PRIMITIVE,
    _SAMPLES,
    _W,
    _X,
    BISECTIONS,
    NODES,
    ONE_SD,
    POLISH,
    ClaimKernels,
    _Block,
    _blocks,
    _log_density,
    _panel_map,
    _take,
)
from models.batch.state import Encoded


@dataclass(frozen=True, slots=True)
class ExactPart:
    """The exact posterior's contribution to the E-step, for the chosen questions.

    Attributes
    ----------
    questions : (Qe,) int
        The questions computed here.
    claims : (m,) int
        Their claims.
    r_right, ss, dev : (m,) float
        P(right | data) of the continuous part, r E[(y − θ − β_s)² | right] and
        r E[y − θ | right] (0 for bounds and ranges).
    log_z, mu, tau : (Qe,) float
        log ∫ f_q dθ, the median of f_q and half its central 68.27 % interval.
    r_narrow : (m,) float
        P(the claim is right through its exact component | data), part of r_right
        (:func:`~models.batch.kernels.split_right`; 0 where it has none).
    blocks : tuple of _Block
        The blocks of panels the part was computed on, when asked to keep them (else empty).
    """

    questions: IntArray
    claims: IntArray
    r_right: FloatArray
    ss: FloatArray
    dev: FloatArray
    log_z: FloatArray
    mu: FloatArray
    tau: FloatArray
    r_narrow: FloatArray
    blocks: tuple[_Block, ...] = ()




def select(enc: Encoded, max_claims: int) -> BoolArray:
    """The questions with at most ``max_claims`` claims (none for 0).

    Parameters
    ----------
    enc : Encoded
    max_claims : int

    Returns
    -------
    (Q,) bool
    """
    counts = np.bincount(enc.q, minlength=enc.n_questions)
    return np.asarray((counts >= 1) & (counts <= max_claims), dtype=bool)


def exact_posterior(
    enc: Encoded, chosen: BoolArray, kern: ClaimKernels, keep: bool = False
) -> ExactPart:
    """Responsibilities, M-step sums and posterior summaries of the chosen questions.

    Parameters
    ----------
    enc : Encoded
    chosen : (Q,) bool
        The questions to compute.
    kern : ClaimKernels
    keep : bool
        Whether to return the blocks too (for :func:`exact_quantiles` at the same ``kern``).

    Returns
    -------
    ExactPart
        μ and τ are rough (:func:`_rough_quantiles`; for a lone point the right part's
        centre and spread): they only steer the convergence test, while the estimate,
        intervals and spread come from :func:`exact_quantiles`.
    """
    lone = _lone_points(enc, chosen)
    parts = [_lone_part(enc, kern, np.flatnonzero(lone))]
    blocks = []
    for block, r, ss, dev, r_n, nodes in _blocks(enc, chosen & ~lone, kern):
        quant = _rough_quantiles(block, nodes, ONE_SD)
        parts.append(ExactPart(block.questions, block.rows.ravel(), r.ravel(), ss.ravel(),
                               dev.ravel(), block.log_z, quant[:, 0],
                               0.5 * (quant[:, 2] - quant[:, 1]), r_n.ravel()))
        if keep:
            blocks.append(block)
    joined = {name: np.concatenate([getattr(part, name) for part in parts])
              for name in ExactPart.__slots__[:-1]}  # all but the blocks
    return ExactPart(**joined, blocks=tuple(blocks))


def exact_quantiles(
    enc: Encoded, chosen: BoolArray, kern: ClaimKernels, probs: FloatArray,
    p_cont: FloatArray, p_atom: FloatArray, blocks: tuple[_Block, ...] | None = None,
) -> tuple[IntArray, FloatArray]:
    """Quantiles of the chosen questions' posteriors: the exact continuous part and the atoms.

    The posterior's CDF is P(continuous) F_q(θ) + Σ_v P(v) clip((θ − l_v)/(u_v − l_v), 0, 1)
    with F_q the CDF of f_q.

    Parameters
    ----------
    enc : Encoded
    chosen : (Q,) bool
    kern : ClaimKernels
        At the final source parameters.
    probs : (P,) float
        Probabilities in (0, 1).
    p_cont : (Q,) float
        Posterior probability of the continuous part.
    p_atom : (K,) float
        Posterior probability of each atom.
    blocks : tuple of _Block, optional
        The blocks of the chosen questions (less the lone points) at ``kern``, kept by
        :func:`exact_posterior`; rebuilt when not given.

    Returns
    -------
    questions : (Qe,) int
    quantiles : (Qe, P) float
        On the working scale.
    """
    lone = _lone_points(enc, chosen)
    questions = [np.flatnonzero(lone)]
    parts = [_lone_quantiles(enc, kern, questions[0], probs)]
    with_atoms = np.zeros(enc.n_questions, dtype=bool)
    if enc.atom_q.shape[0]:
        with_atoms[enc.atom_q[p_atom > 0]] = True
    # Built one at a time when not kept, so that they need not all be held at once.
    each: Iterable[_Block] = (blocks if blocks is not None else
                              (block for block, *_ in _blocks(enc, chosen & ~lone, kern)))
    for block in each:
        quant = _quantiles(enc, kern, block, probs, polish=True)
        mixed = np.flatnonzero(with_atoms[block.questions])
        if mixed.size:
            sub = _take(block, mixed)
            local = np.full(enc.n_questions, -1)
            local[sub.questions] = np.arange(mixed.size)
            keep = (local[enc.atom_q] >= 0) & (p_atom > 0)
            atoms = _Atoms(local[enc.atom_q[keep]], enc.atom_lo[keep], enc.atom_hi[keep],
                           p_atom[keep], p_cont[sub.questions])
            quant[mixed] = _quantiles(enc, kern, sub, probs, polish=True, atoms=atoms)
        questions.append(block.questions)
        parts.append(quant)
    return np.concatenate(questions), np.concatenate(parts)


# --------------------------------------------------------------------------------------------
# A lone point: the posterior in closed form
# --------------------------------------------------------------------------------------------


def _lone_points(enc: Encoded, chosen: BoolArray) -> BoolArray:
    """The chosen questions whose only claim is a point (flat prior; no atom)."""
    counts = np.bincount(enc.q, minlength=enc.n_questions)
    points = np.bincount(enc.q, weights=(enc.kind == KIND_POINT).astype(np.float64),
                         minlength=enc.n_questions)
    return np.asarray(chosen & (counts == 1) & (points == 1), dtype=bool)


def _lone_claims(enc: Encoded, questions: IntArray) -> IntArray:
    """The claim of each lone question."""
    claim = np.zeros(enc.n_questions, dtype=np.int64)
    claim[enc.q] = np.arange(enc.q.shape[0])
    return np.asarray(claim[questions], dtype=np.int64)


def _lone_part(enc: Encoded, kern: ClaimKernels, questions: IntArray) -> ExactPart:
    """The exact E-step of questions with one point claim, in closed form.

    Under the flat prior f_q = C: with R = e^{coef_r}, N = e^{coef_n} (the exact component,
    0 where none) and W = e^{coef_w}, each part integrates to its coefficient, so
    Z = R + N + W, r = (R + N)/Z and r_n = N/Z; given that the claim is noisy-right
    θ ~ N(y − β_c, σ²), so dev = (R/Z) β_c and ss = (R/Z)(σ² + (β_c − β_s)²). μ and τ are the
    right part's centre y − β_c and spread σ (they only steer the convergence test; the
    estimate and intervals come from :func:`_lone_quantiles`).
    """
    i = _lone_claims(enc, questions)
    right, wrong, narrow = np.exp(kern.coef_r[i]), np.exp(kern.coef_w[i]), np.exp(kern.coef_n[i])
    z = right + wrong + narrow
    r = right / z
    sd, bias = kern.sig[i], kern.beta_c[i]
    return ExactPart(questions=questions, claims=i, r_right=r + narrow / z,
                     ss=r * (sd * sd + (bias - kern.beta_s[i]) ** 2), dev=r * bias,
                     log_z=np.log(z), mu=enc.y[i] - bias, tau=sd, r_narrow=narrow / z)


def _lone_quantiles(
    enc: Encoded, kern: ClaimKernels, questions: IntArray, probs: FloatArray
) -> FloatArray:
    """Quantiles (Q1, P) of e^{coef_r} N(θ; y − β_c, σ²) + e^{coef_n} N(θ; y, σ_n²)
    + e^{coef_w} Cauchy(θ; y, σ_w), /Z.

    Bisection on φ with θ = y + σ_w tan φ (which covers the line), then Newton steps.
    """
    i = _lone_claims(enc, questions)[:, None]
    right, wrong, narrow = np.exp(kern.coef_r[i]), np.exp(kern.coef_w[i]), np.exp(kern.coef_n[i])
    z = right + wrong + narrow
    y, centre, sd, sd_n = enc.y[i], enc.y[i] - kern.beta_c[i], kern.sig[i], kern.sig_n[i]
    scale = np.maximum(kern.wrong_spread, 2.0 * sd)

    def cdf(theta: FloatArray) -> FloatArray:
        return np.asarray((right * _normal_cdf((theta - centre) / sd)
                           + narrow * _normal_cdf((theta - y) / sd_n)
                           + wrong * (0.5 + np.arctan((theta - y) / scale) / np.pi)) / z,
                          dtype=np.float64)

    lo = np.full((i.shape[0], probs.size), -0.5 * np.pi)
    hi = -lo
    for _ in range(BISECTIONS):
        mid = 0.5 * (lo + hi)
        below = cdf(y + scale * np.tan(mid)) < probs
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    theta = y + scale * np.tan(0.5 * (lo + hi))
    for _ in range(POLISH):
        u = (theta - centre) / sd
        v = (theta - y) / sd_n
        w = (theta - y) / scale
        dens = (right * np.exp(-0.5 * u * u) / (sd * np.sqrt(2.0 * np.pi))
                + narrow * np.exp(-0.5 * v * v) / (sd_n * np.sqrt(2.0 * np.pi))
                + wrong / (np.pi * scale * (1.0 + w * w))) / z
        theta = theta - np.where(dens > 0, (cdf(theta) - probs) / np.where(dens > 0, dens, 1.0),
                                 0.0)
    return np.asarray(theta, dtype=np.float64)


def _normal_cdf(x: FloatArray) -> FloatArray:
    """Φ(x) by the Chebyshev fit of erfc in Numerical Recipes (relative error < 1.2e-7).

    numpy has no erf, and scipy stays out of a fit of plain points (start-up time).
    """
    a = np.abs(x) / np.sqrt(2.0)
    t = 1.0 / (1.0 + 0.5 * a)
    poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (
        -0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (
            -0.82215223 + t * 0.17087277))))))))
    tail = 0.5 * t * np.exp(-a * a + poly)  # Φ(−|x|)
    return np.asarray(np.where(x < 0, tail, 1.0 - tail), dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Quantiles
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Atoms:
    """The atoms of a block's questions: local question, window, probability; P(continuous)."""

    q: IntArray
    lo: FloatArray
    hi: FloatArray
    p: FloatArray
    p_cont: FloatArray


def _quantiles(
    enc: Encoded, kern: ClaimKernels, block: _Block, probs: FloatArray, polish: bool,
    atoms: _Atoms | None = None,
) -> FloatArray:
    """Quantiles (B, P) of each question's posterior: f_q, mixed with ``atoms`` when given.

    Within a panel the CDF is first read off the Lagrange interpolant through the panel's
    nodes, Σ_j g_j ∫_{−1}^{s} ℓ_j. Without atoms the panel that holds a quantile comes from
    the panels' masses and the interpolant is inverted in it (:func:`_solve`); with atoms
    the mixture's CDF is bisected over the panel coordinate z ∈ [0, P] (panel ⌊z⌋,
    s = 2(z − ⌊z⌋) − 1), on which it is monotone. ``polish`` then takes Newton steps on the
    CDF integrated exactly from the panel's start (:func:`_polish`).
    """
    g = block.g
    b_n, n_panels, _ = g.shape
    mass = g @ _W
    cum = np.concatenate([np.zeros((b_n, 1)), np.cumsum(mass, axis=1)], axis=1)
    rows = np.arange(b_n)[:, None]
    if atoms is None:
        want = probs[None, :] * cum[:, -1:]
        k = np.minimum((cum[:, None, 1:-1] <= want[:, :, None]).sum(axis=2), n_panels - 1)
        base = np.take_along_axis(cum, k, axis=1)
        coef = np.einsum("bpj,jd->bpd", g[rows, k], _PRIMITIVE)
        s = _solve(coef.reshape(-1, NODES + 1), (want - base).ravel()).reshape(k.shape)
    else:
        lo = np.zeros((b_n, probs.size))
        hi = np.full((b_n, probs.size), float(n_panels))
        powers = np.arange(NODES + 1)
        for _ in range(BISECTIONS):
            z = 0.5 * (lo + hi)
            k = np.minimum(z.astype(np.int64), n_panels - 1)
            s = 2.0 * (z - k) - 1.0
            inside = np.einsum("bpj,jd,bpd->bp", g[rows, k], _PRIMITIVE,
                               s[:, :, None] ** powers)
            cdf = _mixed_cdf(block, atoms, cum[rows, k] + inside, k, s)[0]
            below = cdf < probs[None, :]
            lo = np.where(below, z, lo)
            hi = np.where(below, hi, z)
        z = 0.5 * (lo + hi)
        k = np.minimum(z.astype(np.int64), n_panels - 1)
        s = 2.0 * (z - k) - 1.0
        base = cum[rows, k]
    if polish:
        s = _polish(enc, kern, block, probs, k, s, base, atoms)
    return _panel_map(block.edges, block.s_lo, block.s_hi, k, s)[0]


def _rough_quantiles(block: _Block, theta: FloatArray, probs: FloatArray) -> FloatArray:
    """Quantiles (B, P) to the resolution of the nodes ``theta`` (B, m): the CDF interpolated
    linearly.

    The nodes run in ascending θ; the CDF at node j is the mass of the nodes before it plus
    half its own.
    """
    g = block.g
    b_n = g.shape[0]
    mass = (g * _W).reshape(b_n, -1)
    cdf = np.cumsum(mass, axis=1) - 0.5 * mass
    cdf /= cdf[:, -1:] + 0.5 * mass[:, -1:]
    m = cdf.shape[1]
    j = np.clip((cdf[:, None, :] < probs[None, :, None]).sum(axis=2), 1, m - 1)
    # Flat positions of node j and its predecessor in each row.
    at = j + (np.arange(b_n) * m)[:, None]
    c0 = cdf.ravel()[at - 1]
    c1 = cdf.ravel()[at]
    t0 = theta.ravel()[at - 1]
    t1 = theta.ravel()[at]
    frac = np.clip((probs[None, :] - c0) / np.maximum(c1 - c0, 1e-300), 0.0, 1.0)
    return np.asarray(t0 + frac * (t1 - t0), dtype=np.float64)


def _mixed_cdf(
    block: _Block, atoms: _Atoms | None, cont: FloatArray, k: IntArray, s: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The posterior's CDF given the continuous part's, and d(atoms' CDF)/ds, at (k, s)."""
    if atoms is None:
        return cont, np.zeros_like(cont)
    theta, slope = _panel_map(block.edges, block.s_lo, block.s_hi, k, s)
    width = np.maximum(atoms.hi - atoms.lo, 1e-300)[:, None]
    at = theta[atoms.q]
    frac = np.clip((at - atoms.lo[:, None]) / width, 0.0, 1.0)
    rate = np.where((at > atoms.lo[:, None]) & (at < atoms.hi[:, None]), 1.0 / width, 0.0)
    n_b, n_p = cont.shape
    extra = np.zeros((n_b, n_p))
    np.add.at(extra, atoms.q, atoms.p[:, None] * frac)
    d_extra = np.zeros((n_b, n_p))
    np.add.at(d_extra, atoms.q, atoms.p[:, None] * rate * slope[atoms.q])
    return atoms.p_cont[:, None] * cont + extra, d_extra


def _polish(
    enc: Encoded, kern: ClaimKernels, block: _Block, probs: FloatArray, k: IntArray,
    s: FloatArray, base: FloatArray, atoms: _Atoms | None,
) -> FloatArray:
    """Newton steps in s on the CDF, integrated exactly over [−1, s] of panel k.

    ∫_{−1}^{s} g du is a Gauss-Legendre sum over [−1, s] of f_q(θ(u)) θ'(u)/Z_q, evaluated
    afresh (NODES + 1 points per quantile), so the result no longer rests on the panel's
    interpolant; s stays in [−1, 1].
    """
    b_n, n_p = k.shape
    target = np.broadcast_to(probs[None, :], (b_n, n_p))
    if atoms is None:
        target = target * (block.g @ _W).sum(axis=1)[:, None]
    kk = np.repeat(k[:, :, None], NODES + 1, axis=2)
    # Inside the panel by a hair, so that a tail's far end (θ = ±∞) is never evaluated.
    s = np.clip(s, -1.0 + 1e-12, 1.0 - 1e-12)
    for _ in range(POLISH):
        # Nodes of [−1, s] and the point s itself.
        u = np.concatenate([-1.0 + 0.5 * (s[:, :, None] + 1.0) * (_X + 1.0),
                            s[:, :, None]], axis=2)
        theta, slope = _panel_map(block.edges, block.s_lo, block.s_hi, kk, u)
        log_f = _log_density(enc, kern, block.questions, block.rows, block.flat,
                             theta.reshape(b_n, -1))[3].reshape(theta.shape)
        dens = np.exp(log_f - block.log_z[:, None, None]) * slope
        inside = 0.5 * (s + 1.0) * (dens[:, :, :NODES] @ _W)
        cdf, d_atoms = _mixed_cdf(block, atoms, base + inside, k, s)
        rate = dens[:, :, NODES] * (1.0 if atoms is None else atoms.p_cont[:, None]) + d_atoms
        step = np.where(rate > 0, (cdf - target) / np.where(rate > 0, rate, 1.0), 0.0)
        s = np.clip(s - step, -1.0 + 1e-12, 1.0 - 1e-12)
    return s


def _solve(coef: FloatArray, target: FloatArray) -> FloatArray:
    """s ∈ [−1, 1] with Σ_d coef_d s^d = target, per row: a panel's interpolated CDF inverted.

    The polynomial is sampled at 33 points, the bracketing pair interpolated linearly, and
    the result polished by two Newton steps kept inside the bracket.
    """
    values = coef @ (_SAMPLES[:, None] ** np.arange(NODES + 1)).T
    j = np.clip((values < target[:, None]).sum(axis=1), 1, _SAMPLES.size - 1)
    rows = np.arange(coef.shape[0])
    s_a, s_b = _SAMPLES[j - 1], _SAMPLES[j]
    f_a, f_b = values[rows, j - 1], values[rows, j]
    rise = f_b - f_a
    s = np.where(rise > 0, s_a + (target - f_a) / np.where(rise > 0, rise, 1.0) * (s_b - s_a),
                 0.5 * (s_a + s_b))
    for _ in range(2):
        # Horner for the polynomial and its derivative at once.
        f = coef[:, NODES].copy()
        slope = np.zeros_like(f)
        for d in range(NODES - 1, -1, -1):
            slope = slope * s + f
            f = f * s + coef[:, d]
        step = np.where(slope > 0, (f - target) / np.where(slope > 0, slope, 1.0), 0.0)
        s = np.clip(s - step, s_a, s_b)
    return np.asarray(s, dtype=np.float64)
