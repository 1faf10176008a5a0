"""The steps of the per-group bias EM: the E-step's claim statistics, the M-step's linear
system, the SQUAREM extrapolation and the pairwise start.

Plain functions of arrays; :class:`models.dynamics.bias.SourceBiasEstimator` ties them
together. The model, the symbols (W_i, M_i, ū_i, β_s, δ_k, τ_β) and the references are in
:mod:`models.dynamics.bias`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import log_ndtr

from models.dynamics.bias_types import BiasQuestion
from models.dynamics.estimator import DynamicFit
from models.dynamics.timeline import build_timeline
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

LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)
#: Ridge on the trajectory shifts δ_k: keeps the M-step's normal matrix invertible when every
#: claim of a quantity is judged wrong (W = 0); far below any claim's information (1/σ² ≥ 1).
_DELTA_RIDGE = 1e-9


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
            log_phi_a = -0.5 * alpha * alpha - LOG_SQRT_2PI
            log_phi_b = -0.5 * beta * beta - LOG_SQRT_2PI
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


def group_components(presence: np.ndarray) -> list[set[int]]:
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
