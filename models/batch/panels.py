"""Panels of the exact posterior: each claim's kernels, the blocks of questions of one shape,
their integration panels (breakpoints at every claim's own scales, mapped tails) and the
normalised density on Gauss-Legendre nodes. Used by :mod:`models.batch.exact`, whose docstring
gives the maths."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from models.batch.common import (
    KIND_AT_MOST,
    KIND_POINT,
    KIND_RANGE,
    LOG_FLOOR,
    LOG_PI,
    LOG_SQRT_2PI,
    BoolArray,
    FloatArray,
    IntArray,
)
from models.batch.kernels import (
    claim_kernels,
    claim_spread,
    log_coefficients,
    log_mix,
    log_norm_pdf,
    split_right,
)
from models.batch.state import Encoded, Params

#: Gauss-Legendre nodes per panel.
NODES = 6
_X, _W = np.polynomial.legendre.leggauss(NODES)
#: Breakpoints around a right kernel's centre, in its σ_i.
RIGHT_STEPS = np.array([-7.0, -3.5, -1.5, 0.0, 1.5, 3.5, 7.0])
#: Ratio of the geometric ladder of breakpoints around a wrong kernel's centre, whose first
#: rungs are at ±1 σ_w,i.
WRONG_RATIO = 2.5
#: The tails' maps start this many σ_w beyond the outermost claim.
TAIL_START = 20.0
#: Breakpoints of the Normal prior, in s_q.
PRIOR_STEPS = np.array([-8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0])
#: A breakpoint closer to the last one kept than this share of either's scale is dropped.
THIN = 0.5
#: Largest block of (questions × claims × nodes) evaluated at once, unless BLOCK_QUESTIONS
#: questions exceed it (see models.batch.exact).
BLOCK = 1 << 16
#: Least questions in a block.
BLOCK_QUESTIONS = 64
#: Claims' ends (questions × slots) whose breakpoints are placed at once (:func:`_blocks`).
EDGE_SLOTS = 1 << 14
#: Bisection steps of a quantile of a posterior with atoms (resolution P·2⁻⁶⁰ panels).
BISECTIONS = 60
#: Newton steps that polish a quantile on the exactly integrated CDF.
POLISH = 3
#: Probabilities of the median and of the central 68.27 % interval (τ as its half-width).
ONE_SD = np.array([0.5, NormalDist().cdf(-1.0), NormalDist().cdf(1.0)])


def _primitive_coefficients() -> FloatArray:
    """(NODES, NODES + 1) coefficients: ∫_{−1}^{s} ℓ_j(v) dv = Σ_d coef[j, d] s^d.

    ℓ_j is the Lagrange basis polynomial of Gauss-Legendre node j; its primitive from −1,
    at s = 1, is the node's weight.
    """
    basis = np.linalg.solve(np.vander(_X, NODES, increasing=True), np.eye(NODES))
    coef = np.zeros((NODES, NODES + 1))
    for d in range(NODES):  # ℓ_j(s) = Σ_d basis[d, j] s^d
        coef[:, d + 1] = basis[d] / (d + 1)
        coef[:, 0] -= basis[d] * (-1.0) ** (d + 1) / (d + 1)
    return coef


_PRIMITIVE = _primitive_coefficients()
#: Where :func:`_solve` first samples a panel's CDF.
_SAMPLES = np.linspace(-1.0, 1.0, 33)



def flat_prior(enc: Encoded) -> BoolArray:
    """Whether each question's exact posterior takes the flat prior (see the module docstring).

    Parameters
    ----------
    enc : Encoded

    Returns
    -------
    (Q,) bool
        True when the question's point and range claims carry evidence weight ≥ 1.
    """
    proper = (enc.kind == KIND_POINT) | (enc.kind == KIND_RANGE)
    weight = np.bincount(enc.q, weights=np.where(proper, enc.t, 0.0),
                         minlength=enc.n_questions)
    return np.asarray(weight >= 1.0 - 1e-9, dtype=bool)


@dataclass(frozen=True, slots=True)
class ClaimKernels:
    """Each claim's kernel parameters at given source parameters, arrays over claims.

    Attributes
    ----------
    sig, beta_c : (n,) float
        The right kernel's spread and bias (:func:`~models.batch.kernels.claim_spread`).
    coef_r, coef_w : (n,) float
        The log coefficients of the continuous right and the wrong part
        (:func:`~models.batch.kernels.log_coefficients`).
    beta_s : (n,) float
        The bias of the claim's source, about which the M-step's sums are taken.
    wrong_spread : float
        σ_wrong.
    sig_n, coef_n : (n,) float
        The exact (narrow) component of a point outside the atoms, centred on its figure
        with no bias: spread √(w²/12 + sd²) and log coefficient (−inf where none); ``sig``
        and ``coef_r`` are then its noisy component (:func:`~models.batch.kernels.
        split_right`).
    narrow : bool
        Whether any claim has an exact component (``coef_n`` finite somewhere).
    """

    sig: FloatArray
    beta_c: FloatArray
    coef_r: FloatArray
    coef_w: FloatArray
    beta_s: FloatArray
    wrong_spread: float
    sig_n: FloatArray
    coef_n: FloatArray
    # Read for every block: computed once (a pass over all n claims each time took 2 % of an
    # E-step of the 100,000-claim bench).
    narrow: bool

    @classmethod
    def of(cls, enc: Encoded, p: Params, wrong_spread: float) -> ClaimKernels:
        """The kernels that the source parameters ``p`` imply."""
        sig, beta_c = claim_spread(enc, p)
        _, coef_r, coef_w = log_coefficients(enc, p)
        return cls.split(enc, p, sig, beta_c, coef_r, coef_w, wrong_spread)

    @classmethod
    def split(
        cls, enc: Encoded, p: Params, sig: FloatArray, beta_c: FloatArray, coef_r: FloatArray,
        coef_w: FloatArray, wrong_spread: float,
    ) -> ClaimKernels:
        """The exact path's kernels from the Laplace path's (:func:`split_right`)."""
        sig_e, coef_e, sig_n, coef_n = split_right(enc, p, sig, coef_r)
        return cls(sig_e, beta_c, coef_e, coef_w, p.beta[enc.s], wrong_spread, sig_n, coef_n,
                   bool(np.isfinite(coef_n).any()))



@dataclass(frozen=True, slots=True)
class _Block:
    """Questions of one shape with their panels and the normalised density on them.

    Panel 0 is the lower tail, panels 1..E−1 lie between consecutive ``edges`` and panel E is
    the upper tail; θ rises with the local coordinate s ∈ [−1, 1] in each. ``g`` (B, E + 1,
    NODES) is f_q(θ(s)) dθ/ds / Z_q at the Gauss-Legendre nodes, so Σ_panels Σ_j W_j g_j = 1.
    """

    questions: IntArray
    rows: IntArray  # (B, n) claims
    flat: bool  # the flat prior (else N(m_q, s_q²))
    log_z: FloatArray  # (B,)
    edges: FloatArray  # (B, E) ascending breakpoints
    s_lo: FloatArray  # (B,) scale of the lower tail's map
    s_hi: FloatArray
    g: FloatArray


@dataclass(frozen=True, slots=True)
class Panels:
    """One E-step's blocks of exact questions and the source parameters they were built at.

    The estimate and intervals of an exact question are read off f_q at the final source
    parameters, which are the last E-step's: its blocks serve the quantiles again instead of
    being rebuilt (:func:`models.batch.exact.exact_quantiles`), the same numbers at a fifth
    less of the fit's time.
    """

    params: Params
    wrong_spread: float
    blocks: tuple[_Block, ...]

    def built_at(self, p: Params, wrong_spread: float) -> bool:
        """Whether these blocks are those that ``p`` and ``wrong_spread`` give."""
        return wrong_spread == self.wrong_spread and all(
            np.array_equal(getattr(p, name), getattr(self.params, name))
            for name in Params.__slots__
        )


# --------------------------------------------------------------------------------------------
# Blocks: grouping, panels, evaluation
# --------------------------------------------------------------------------------------------


def _blocks(
    enc: Encoded, chosen: BoolArray, kern: ClaimKernels
) -> Iterator[tuple[_Block, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]]:
    """Every block of chosen questions with its claims' r, ss, dev and r_n (the exact
    component's share), (B, n) each, and its nodes θ (B, (E + 1) NODES) in ascending
    order."""
    sel = np.flatnonzero(chosen)
    if sel.size == 0:
        return
    counts = np.bincount(enc.q, minlength=enc.n_questions)
    ranges = np.bincount(enc.q, weights=(enc.kind == KIND_RANGE).astype(np.float64),
                         minlength=enc.n_questions).astype(np.int64)
    flat = flat_prior(enc)
    order = np.argsort(enc.q, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    n_max = int(counts[sel].max())
    key = (counts[sel] * (n_max + 1) + ranges[sel]) * 2 + flat[sel]
    for k in np.unique(key):
        group = sel[key == k]
        n = int(counts[group[0]])
        slots = n + int(ranges[group[0]])
        is_flat = bool(flat[group[0]])
        rows = order[starts[group][:, None] + np.arange(n)[None, :]]
        # The breakpoints of a slice of the group at a time, whose few hundred candidates a
        # question stay in cache (46,784 questions of ten claims at once took twice as
        # long); each slice pads its rows with their last breakpoint, as the group would.
        step = max(1, EDGE_SLOTS // slots)
        pieces = [_edges(enc, kern, group[a:a + step], rows[a:a + step], slots, is_flat)
                  for a in range(0, group.size, step)]
        kept = np.concatenate([piece[1] for piece in pieces])
        wide = int(kept.max())
        edges = np.concatenate([np.pad(piece[0], ((0, 0), (0, wide - piece[0].shape[1])),
                                       mode="edge") for piece in pieces])
        # Blocks of questions with similar numbers of panels, each within BLOCK entries.
        by_size = np.argsort(kept, kind="stable")
        lo = 0
        while lo < group.size:
            per_block = max(BLOCK_QUESTIONS,
                            BLOCK // (n * (int(kept[by_size[lo]]) + 1) * NODES))
            take = by_size[lo:lo + per_block]
            width = int(kept[take].max())
            yield _evaluate(enc, kern, group[take], rows[take], edges[take, :width], is_flat)
            lo += take.size


def _edges(
    enc: Encoded, kern: ClaimKernels, qs: IntArray, rows: IntArray, slots: int,
    is_flat: bool,
) -> tuple[FloatArray, IntArray]:
    """The panels' breakpoints of a group of questions (see the module docstring).

    Each breakpoint carries a scale, the gap to its neighbour on its own ladder. Those
    beyond TAIL_START σ_w of every claim are dropped (the tails' maps take over there), and
    so is a breakpoint closer to the last one kept than THIN times the smaller of their
    scales (the next gap is then judged at the smaller scale).

    Returns
    -------
    edges : (G, E) float
        Each question's kept breakpoints in ascending order, padded with its last one.
    kept : (G,) int
        How many each question kept.
    """
    b_n = rows.shape[0]
    flat_rows = rows.ravel()
    kind = enc.kind[flat_rows]
    two = kind == KIND_RANGE
    # Each claim's finite ends: a point's figure, a bound's bound, a range's two ends.
    first = np.where(kind == KIND_AT_MOST, enc.b[flat_rows], enc.a[flat_rows])
    if slots == rows.shape[1]:  # no ranges: one end a claim
        claim_of_end = flat_rows
        ends = first.reshape(b_n, slots)
    else:
        reps = np.where(two, 2, 1)
        claim_of_end = np.repeat(flat_rows, reps)
        second = np.zeros(claim_of_end.size, dtype=bool)
        second[np.cumsum(reps) - 1] = two
        ends = np.where(second, enc.b[claim_of_end], np.repeat(first, reps)).reshape(b_n,
                                                                                   slots)
    sd = kern.sig[claim_of_end].reshape(b_n, slots)
    sd_w = np.maximum(kern.wrong_spread, 2.0 * sd)
    bias = kern.beta_c[claim_of_end].reshape(b_n, slots)
    reach = TAIL_START * sd_w.max(axis=1)
    lo_clip = ends.min(axis=1) - reach
    hi_clip = ends.max(axis=1) + reach
    if not is_flat:
        centre, spread = enc.prior_centre[qs], enc.prior_sd[qs]
        lo_clip = np.minimum(lo_clip, centre - PRIOR_STEPS[-1] * spread)
        hi_clip = np.maximum(hi_clip, centre + PRIOR_STEPS[-1] * spread)
    # The ladder reaches from each end to the far clip, in rungs of ratio WRONG_RATIO.
    longest = float(np.max((hi_clip - lo_clip)[:, None] / sd_w))
    rungs = WRONG_RATIO ** np.arange(int(np.ceil(np.log(max(longest, 1.0))
                                                 / np.log(WRONG_RATIO))) + 1)
    ladder = np.concatenate([-rungs[::-1], [0.0], rungs])
    points = [((ends - bias)[:, :, None] + sd[:, :, None] * RIGHT_STEPS).reshape(b_n, -1),
              (ends[:, :, None] + sd_w[:, :, None] * ladder).reshape(b_n, -1),
              lo_clip[:, None], hi_clip[:, None]]
    scales = [(sd[:, :, None] * _gaps(RIGHT_STEPS)).reshape(b_n, -1),
              (sd_w[:, :, None] * _gaps(ladder)).reshape(b_n, -1),
              reach[:, None], reach[:, None]]
    if not is_flat:
        points.append(centre[:, None] + spread[:, None] * PRIOR_STEPS)
        scales.append(spread[:, None] * _gaps(PRIOR_STEPS))
    if kern.narrow:
        # The exact component's own scale around the figure (none: dropped, +inf).
        sd_n = kern.sig_n[claim_of_end].reshape(b_n, slots)
        has = np.isfinite(kern.coef_n[claim_of_end]).reshape(b_n, slots)
        points.append(np.where(has[:, :, None], ends[:, :, None] + sd_n[:, :, None]
                               * RIGHT_STEPS, np.inf).reshape(b_n, -1))
        scales.append((sd_n[:, :, None] * _gaps(RIGHT_STEPS)).reshape(b_n, -1))
    x = np.concatenate(points, axis=1)
    x = np.where((x >= lo_clip[:, None]) & (x <= hi_clip[:, None]), x, np.inf)
    return _thin(x, np.concatenate(scales, axis=1))


def _thin(x: FloatArray, h: FloatArray) -> tuple[FloatArray, IntArray]:
    """Each row's breakpoints ``x`` (+inf: dropped) thinned by their scales ``h`` (G, C each).

    In ascending order, a breakpoint closer to the last one kept than THIN times the smaller
    of their scales is dropped, and the next gap is then judged at the smaller scale; the
    first (lowest) is kept. Returns the kept ones, padded with each row's last, and how many.
    """
    b_n, n_cols = x.shape
    # Sorted by position, each with its scale. The order among equal positions does not
    # matter: after such a run of ties the thinning below has kept the position once or not
    # at all, by the smallest of their scales either way, and carries that smallest scale on.
    order = np.argsort(x, axis=1)
    # Up to every row's last finite breakpoint, gathered straight into (columns, questions)
    # so that each column is contiguous.
    width = int(np.isfinite(x).sum(axis=1).max())
    at = (order[:, :width] + (np.arange(b_n) * n_cols)[:, None]).T
    x = x.ravel()[at]
    # The dropped ones become NaN, which fails every comparison below (NaN sorts slowly).
    x[np.isinf(x)] = np.nan
    # THIN times the scales (a power of two: exactly the products the test below compares).
    h = h.ravel()[at]
    h *= THIN
    # Greedy thinning, one column at a time (vectorised over questions). Every group is
    # thinned, however small: a question's panels, hence its answer, must not depend on how
    # many other questions share its shape (an archive split into partitions gives the same
    # answers), and thinning small groups too made fits faster (27 s against 60 s on a
    # 6,500-claim archive).
    keep = np.zeros(x.shape, dtype=bool)
    keep[0] = True
    last = x[0].copy()
    last_h = h[0].copy()
    for j in range(1, x.shape[0]):
        xj = x[j]
        least = np.minimum(h[j], last_h)
        ok = np.greater_equal(xj - last, least, out=keep[j])
        np.copyto(last, xj, where=ok)
        last_h = np.where(ok, h[j], least)
    kept = keep.sum(axis=0)
    # The kept breakpoints moved to the front of each row (in row order, as a boolean mask
    # reads them), padded with the last one.
    out = np.repeat(last[:, None], int(kept.max()), axis=1)
    out[np.arange(out.shape[1])[None, :] < kept[:, None]] = x.T[keep.T]
    return out, kept


def _gaps(steps: FloatArray) -> FloatArray:
    """Scale of each rung of a ladder symmetric about 0: the gap to its inner neighbour."""
    gap = np.diff(steps)
    above = np.concatenate([gap[:1], gap])  # a rung above 0: the gap below it
    below = np.concatenate([gap, gap[-1:]])  # a rung below 0: the gap above it
    return np.asarray(np.where(steps > 0, above, np.where(steps < 0, below, gap.min())),
                      dtype=np.float64)


def _take(block: _Block, idx: IntArray) -> _Block:
    """The questions ``idx`` (positions in the block) of a block."""
    return _Block(questions=block.questions[idx], rows=block.rows[idx], flat=block.flat,
                  log_z=block.log_z[idx], edges=block.edges[idx], s_lo=block.s_lo[idx],
                  s_hi=block.s_hi[idx], g=block.g[idx])


def _panel_map(
    edges: FloatArray, s_lo: FloatArray, s_hi: FloatArray, k: IntArray, s: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """θ and dθ/ds at panel k, local coordinate s, per question (arrays (B, m) or (B,)).

    Tails: θ = B − S(1/u − 1) below the lowest breakpoint B (u = (s + 1)/2) and
    θ = B + S(1/u − 1) above the highest (u = (1 − s)/2); dθ/ds = S/(2u²).
    """
    last = edges.shape[1]  # the upper tail's panel
    expand = (slice(None),) + (None,) * (s.ndim - 1)
    rows = np.arange(edges.shape[0])[expand]
    inner = np.clip(k, 1, last - 1)
    left = edges[rows, inner - 1]
    width = edges[rows, inner] - left
    # u ≥ 10⁻¹⁵⁰ keeps θ and dθ/ds finite at a tail's far end.
    u_lo = np.maximum(0.5 * (s + 1.0), 1e-150)
    u_hi = np.maximum(0.5 * (1.0 - s), 1e-150)
    lo_scale, hi_scale = s_lo[expand], s_hi[expand]
    # Every form is evaluated everywhere; a tail's at an inner panel's s = ±1 may overflow,
    # and np.where drops it.
    with np.errstate(over="ignore"):
        theta = np.where(k == 0, edges[rows, 0] - lo_scale * (1.0 / u_lo - 1.0),
                         np.where(k == last,
                                  edges[rows, last - 1] + hi_scale * (1.0 / u_hi - 1.0),
                                  left + 0.5 * (s + 1.0) * width))
        slope = np.where(k == 0, lo_scale / (2.0 * u_lo * u_lo),
                         np.where(k == last, hi_scale / (2.0 * u_hi * u_hi), 0.5 * width))
    return np.asarray(theta, dtype=np.float64), np.asarray(slope, dtype=np.float64)


def _nodes(edges: FloatArray, s_lo: FloatArray, s_hi: FloatArray
           ) -> tuple[FloatArray, FloatArray]:
    """Nodes θ and dθ/ds (B, E + 1, NODES) of every panel of a block (:func:`_panel_map`)."""
    width = np.diff(edges, axis=1)
    inner = edges[:, :-1, None] + (0.5 * (_X + 1.0)) * width[:, :, None]
    inner_jac = np.broadcast_to(0.5 * width[:, :, None], inner.shape)
    u_lo = 0.5 * (_X + 1.0)
    u_hi = 0.5 * (1.0 - _X)
    low = edges[:, :1] - s_lo[:, None] * (1.0 / u_lo - 1.0)
    high = edges[:, -1:] + s_hi[:, None] * (1.0 / u_hi - 1.0)
    theta = np.concatenate([low[:, None, :], inner, high[:, None, :]], axis=1)
    jac = np.concatenate([(s_lo[:, None] / (2.0 * u_lo * u_lo))[:, None, :], inner_jac,
                          (s_hi[:, None] / (2.0 * u_hi * u_hi))[:, None, :]], axis=1)
    return theta, jac


def _log_density(
    enc: Encoded, kern: ClaimKernels, qs: IntArray, rows: IntArray, flat: bool,
    theta: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray | None, FloatArray, FloatArray]:
    """log C_i(θ), ρ_i(θ), the exact component's share ρ_n,i(θ) (B, n, m), log f_q(θ)
    (B, m) and the residuals (B, n, m) at θ (B, m).

    ρ_i is the right part's share of C_i (both components), ρ_n,i its exact component's (None
    when no claim has one: ``kern.narrow`` false). The residuals are y_i − θ for point claims
    and −θ for the others (whose sums are not used).
    """
    b_n, n = rows.shape
    m = theta.shape[1]
    t = enc.t[rows]
    if bool((enc.kind[rows] == KIND_POINT).all()):
        ell, rho, rho_n, resid = _point_kernels(enc, kern, rows, theta)
    else:
        idx = np.broadcast_to(rows[:, :, None], (b_n, n, m)).ravel()
        at = np.broadcast_to(theta[:, None, :], (b_n, n, m)).ravel()
        lr, lw, _, _ = claim_kernels(enc, idx, at, np.zeros(idx.size), kern.sig[idx],
                                     kern.beta_c[idx], False, kern.wrong_spread)
        lr = lr + kern.coef_r[idx]
        point = enc.kind[rows] == KIND_POINT
        if kern.narrow:
            # The exact component, a Normal about the figure (points only; −inf elsewhere).
            with np.errstate(invalid="ignore"):
                ln = np.where(np.isfinite(kern.coef_n[idx]),
                              kern.coef_n[idx] + log_norm_pdf(np.nan_to_num(enc.y[idx]), at,
                                                              kern.sig_n[idx]), -np.inf)
            lr_all = np.logaddexp(lr, ln)
        else:
            ln = np.full(idx.size, -np.inf)
            lr_all = lr
        ell, rho = log_mix(lr_all.reshape(b_n, n, m),
                           (lw + kern.coef_w[idx]).reshape(b_n, n, m))
        rho_n = np.exp(ln.reshape(b_n, n, m) - ell) if kern.narrow else None
        resid = np.where(point, enc.y[rows], 0.0)[:, :, None] - theta[:, None, :]
    # Evidence weights of 1 (no echoes) need no products.
    log_f = ell.sum(axis=1) if bool((t == 1.0).all()) else np.einsum("bn,bnm->bm", t, ell)
    if not flat:
        log_f += log_norm_pdf(theta, enc.prior_centre[qs][:, None], enc.prior_sd[qs][:, None])
    return ell, rho, rho_n, log_f, resid


def _point_kernels(
    enc: Encoded, kern: ClaimKernels, rows: IntArray, theta: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray | None, FloatArray]:
    """log C_i(θ), ρ_i(θ), ρ_n,i(θ) (None without exact components) and y_i − θ of point
    claims (B, n) at θ (B, m).

    The kernels of :func:`models.batch.kernels.claim_kernels` in linear space, with their
    constants per claim: e^{coef_r} N(y; θ + β, σ²) (which may underflow to 0 far from y),
    where the claim has one its exact component e^{coef_n} N(y; θ, σ_n²), and
    e^{coef_w} Cauchy(y; θ, σ_w) (which cannot underflow: 1 − c ≥ 10⁻⁹), so that a
    (claim, node) costs one exponential (two with an exact component) and one logarithm.
    All read the residual y − θ, computed once and returned for the M-step's sums; the
    constants fold into one factor per claim (−1/(2σ²), and e^{coef_w}/(π σ_w) as the
    numerator of the Cauchy part).
    """
    sd = kern.sig[rows]
    y = enc.y[rows]
    resid = y[:, :, None] - theta[:, None, :]
    d = resid - kern.beta_c[rows][:, :, None]
    d *= d
    d *= (-0.5 / (sd * sd))[:, :, None]
    # Floored at e^LOG_FLOOR of the peak, as a bound's kernel is (a third of these nodes lie
    # beyond 37σ of the claim): numpy's exp takes a scalar path, twice as slow, for a result
    # that underflows. Beside the wrong part (≥ 1e-9 of its own peak) it cannot count.
    np.maximum(d, LOG_FLOOR, out=d)
    right = np.exp(d, out=d)
    right *= (np.exp(kern.coef_r[rows] - LOG_SQRT_2PI) / sd)[:, :, None]
    inv_w = 1.0 / np.maximum(kern.wrong_spread, 2.0 * sd)
    dw = resid * inv_w[:, :, None]
    dw *= dw
    dw += 1.0
    wrong = np.divide((np.exp(kern.coef_w[rows] - LOG_PI) * inv_w)[:, :, None], dw, out=dw)
    if kern.narrow:
        sd_n = kern.sig_n[rows]
        z = resid * (1.0 / sd_n)[:, :, None]
        z *= z
        z *= -0.5
        np.maximum(z, LOG_FLOOR, out=z)
        narrow = np.exp(z, out=z)
        narrow *= (np.exp(kern.coef_n[rows] - LOG_SQRT_2PI) / sd_n)[:, :, None]
        right += narrow
        total = np.add(right, wrong, out=wrong)
        rho_n = narrow / total
    else:
        total = np.add(right, wrong, out=wrong)
        rho_n = None
    rho = np.divide(right, total, out=right)
    ell = np.log(total, out=total)
    return ell, rho, rho_n, resid


def _evaluate(
    enc: Encoded, kern: ClaimKernels, qs: IntArray, rows: IntArray, edges: FloatArray,
    flat: bool,
) -> tuple[_Block, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """f_q on a block's nodes, each claim's r, ss, dev and r_n (see the module docstring),
    and the nodes."""
    mid = 0.5 * (edges[:, 0] + edges[:, -1])
    s_lo = mid - edges[:, 0]
    s_hi = edges[:, -1] - mid
    theta, jac = _nodes(edges, s_lo, s_hi)
    b_n, n = rows.shape
    nodes = theta.reshape(b_n, -1)
    ell, rho, rho_n, log_f, resid = _log_density(enc, kern, qs, rows, flat, nodes)
    weight = (jac * _W).reshape(b_n, -1)
    peak = log_f.max(axis=1)
    mass = np.exp(log_f - peak[:, None]) * weight
    z = mass.sum(axis=1)
    # Each claim's right part weighed over θ, ∫ ρ_i f C_i^{1 − t_i} dθ, and the M-step's sums
    # with the residuals y_i − θ taken at every node: moments about one centre per question
    # would subtract numbers of order (y − centre)² to get a spread of order σ², which loses
    # everything when the claims span 10¹⁰ spreads (a wild range beside a point: σ_s came out
    # 10³ times the truth and sank every other question).
    t = enc.t[rows]
    if np.all(t == 1.0):
        # One set of node masses for every claim.
        wn = None if rho_n is None else rho_n * mass[:, None, :]
        wr = np.multiply(rho, mass[:, None, :], out=rho)
        den = z[:, None]
    else:
        # f C_i^{1 − t_i}, normalised per claim before exponentiating.
        log_u = log_f[:, None, :] + (1.0 - t)[:, :, None] * ell
        wr = np.exp(log_u - log_u.max(axis=2, keepdims=True)) * weight[:, None, :]
        den = wr.sum(axis=2)
        wn = None if rho_n is None else wr * rho_n
        wr *= rho
    m0 = wr.sum(axis=2)
    if wn is None:
        m_n = np.zeros_like(m0)
    else:
        m_n = wn.sum(axis=2)
        # The spread and bias sums read the noisy component alone: the exact one has none.
        wr -= wn
    point = enc.kind[rows] == KIND_POINT
    dev = np.where(point, _row_dot(wr, resid) / den, 0.0)
    resid -= kern.beta_s[rows][:, :, None]
    resid *= resid
    ss = np.where(point, _row_dot(wr, resid) / den, 0.0)
    g = (mass / z[:, None]).reshape(theta.shape) / _W
    block = _Block(questions=qs, rows=rows, flat=flat, log_z=peak + np.log(z), edges=edges,
                   s_lo=s_lo, s_hi=s_hi, g=g)
    return block, m0 / den, ss, dev, m_n / den, nodes


def _row_dot(a: FloatArray, b: FloatArray) -> FloatArray:
    """Σ_g a[b, n, g] b[b, n, g], (B, n): as one batched matrix product, three times faster
    than the equivalent einsum on the blocks' shapes (bench: 10 claims × 110 nodes)."""
    return np.asarray(np.matmul(a[:, :, None, :], b[:, :, :, None])[:, :, 0, 0],
                      dtype=np.float64)
