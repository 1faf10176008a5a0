"""The grid on which the single-question posterior is evaluated, refined by the posterior itself.

Symbols
-------
θ        : the true value on the working scale; θ_0 < … < θ_{G−1} the grid's nodes.
ℓ_i(θ)   : log-likelihood of claim i; t_i = 1/k_u its tempering (:mod:`models.robust`).
λ(θ)     : the log-posterior up to a constant, log π(θ) + Σ_i t_i ℓ_i(θ).
h_j      : the width of cell j = [θ_j, θ_{j+1}].
M        : the highest λ on the nodes.

Notes
-----
Why. The posterior's width is about σ/√n for n claims of spread σ: a grid whose step follows
each claim's σ (as this one did) has a step √n times the posterior's width once claims are many,
so that with 10,000 claims the whole posterior fell inside one or two cells (its 90 % range came
out 3–8× too wide) while patches around every wild figure cost seconds. Here the refinement
follows the posterior: cells are bisected where λ is not yet resolved and the posterior may hold
mass, and nowhere else.

Start. A grid over the region the coarse pass finds (:meth:`models.robust.RobustEstimator`
places it over every point figure and the part of the prior where λ is within 30 nats of its
coarse maximum): with few claims :func:`graded`, 63 cells across the region in the tails (at
most four wrong-part spreads wide) and :data:`CORE_STEP` of the sharpest claim's spread over
the figures' span, on nested dyadic lattices so that neighbouring cells differ at most two-fold
(a uniform 256-point start spent most of its nodes, and of every later pass's, in the tails, at
a step the Cauchy tails do not need); with many, a uniform grid of the coarse size.

Hidden peaks. A claim whose spread is smaller than a cell can peak between two nodes without
either showing it. A point claim's likelihood peaks at its figure, a range's in its middle (less
the bias of each credibility hypothesis). With c a peak of claim i inside cell j, the gain
g_ij = t_i (ℓ_i(c) − min(ℓ_i(θ_j), ℓ_i(θ_{j+1}))) ≥ 0 bounds how far λ can rise inside the cell
above the chord by that claim, so

    U_j = max(λ_j, λ_{j+1}) + Σ_i g_ij

bounds λ inside cell j (claims without a peak in the cell are monotone across it, their rise is
seen at the nodes). When the peaks are few (:data:`SHARED_PEAKS`), ℓ_i at them is computed
once, as extra columns of the starting grid's pass (a kernel's value at a point does not depend
on the other points evaluated with it), and at the cells' ends read off the grid's own
evaluation. A cell *may hold mass* when U_j ≥ M − :data:`LIVE_NATS`. Sixty nats, not thirty:
the leave-one-out posteriors p/L_i^{t_i} live where p does, unless claim i's likelihood changes
by more than 30 nats between there and the posterior's mode.

Refinement. A cell with U_j ≥ M − :data:`RESOLVE_NATS` is bisected while any of these holds:
the rise across it |λ_{j+1} − λ_j| exceeds :data:`SLOPE_NATS`; its bend max(|κ_j|, |κ_{j+1}|)
h_j²/8 (the largest gap between a parabola of curvature κ and its chord; κ the divided second
difference of λ at a node) exceeds :data:`BEND_NATS`; its hidden gains Σ_i g_ij exceed
:data:`SLOPE_NATS`. After marking, neighbours are bisected too until adjacent cells differ at most
two-fold (the slopes np.gradient takes and the Hermite CDF stay accurate on such grids). Only the
new midpoints are evaluated, each round. A marked cell is cut into 2^k pieces at once, enough
for its excess to fall below the thresholds (at most 16); with few likelihood rows
(:data:`BOLD_ROWS`) one level more (at most 32) where the excess asks for more than a halving,
because there an extra round, a fixed cost of some sixty array operations, costs more than the
nodes: the 10-claim benchmark then needs one round instead of two. A cell whose excess is at
most 2 is only halved (its rise and gain halve, its bend falls four-fold: below the thresholds
for a smooth λ), bolder or not. For a Gaussian posterior of width s the rules give a step of
about s/4 at the centre and s/(2x) at x widths out: about a hundred nodes whatever n.
The CDF is then integrated by cubic Hermite cells (fourth order); against quadrature the
quantiles agree to about 1e-5 of the posterior's width.

References
----------
Press, W. H., Teukolsky, S. A., Vetterling, W. T. & Flannery, B. P. (2007). Numerical Recipes,
3rd ed., §4.7 (adaptive quadrature). Cambridge University Press. ISBN 978-0-521-88068-8.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from models.errors import NumericalRangeError
from models.likelihood import (
    KIND_POINT,
    KIND_RANGE,
    EncodedClaims,
    FloatArray,
    IntArray,
    log_likelihood_per_claim,
    log_likelihood_rows,
)

__all__ = ["CORE_STEP", "GridEvaluation", "aligned", "graded", "refined_grid"]

#: Most points the refinement may add (cost grows with claims × points).
MAX_EXTRA_POINTS = 20_000
#: Cells whose bound U_j lies within this many nats of M may hold (leave-one-out) mass.
LIVE_NATS = 60.0
#: Cells within this many nats of M are resolved: e^−25 ≈ 1e-11 of the peak density.
RESOLVE_NATS = 25.0
#: Largest rise of λ across a resolved cell, and largest hidden gain.
SLOPE_NATS = 0.5
#: Largest bend of λ inside a resolved cell: 0.01 nats is a step of about s/3.5 at the centre
#: of a Gaussian posterior of width s.
BEND_NATS = 0.01
#: Up to this many likelihood rows (claims × hypotheses) the refinement cuts one level bolder.
BOLD_ROWS = 64
#: Up to this many claims the hidden-peak check evaluates every claim rather than a subset.
SMALL_CLAIMS = 64
#: Bisection rounds at most: each halves the cells it touches, so 60 rounds reach 2^−60 of the
#: starting step, beyond any double's resolution.
MAX_ROUNDS = 60


#: The starting grid's step over the figures, as a fraction of the sharpest claim's spread σ
#: (the refinement cuts further where the posterior needs it).
CORE_STEP = 0.125
#: Most halvings between the starting grid's step in the tails and over the figures.
MAX_LEVELS = 10


def aligned(origin: float, lo: float, hi: float, step: float) -> FloatArray:
    """The nodes origin + k·step inside (lo, hi), with lo and hi as the end nodes; a node
    closer than a quarter step to an end is dropped (no sliver cells)."""
    first = math.ceil((lo - origin) / step + 0.25)
    last = math.floor((hi - origin) / step - 0.25)
    inner = origin + step * np.arange(first, last + 1, dtype=np.float64)
    return np.concatenate([[lo], inner, [hi]])


def _steps_out(start: int, top: int, direction: int) -> list[int]:
    """Lattice positions from ``start`` outwards (``direction`` ±1), one per level: a step of
    each size 1, 2, 4, … below ``top``, taken while the position is off the next coarser
    lattice."""
    out = [start]
    size = 1
    while size < top:
        if out[-1] % (2 * size):
            out.append(out[-1] + direction * size)
        size *= 2
    return out


def graded(origin: float, lo: float, hi: float, core: tuple[float, float], step: float,
            target: float, most: int) -> FloatArray:
    """Nodes over [lo, hi] (both end nodes) with a step of ``step`` / 2^L over ``core`` and
    ``step`` beyond it, doubling once per level in between.

    L is the least level whose core step is at most ``target``, lowered until the core holds
    at most ``most`` cells. Every node lies on the lattice origin + k·``step`` / 2^L and each
    level's nodes on its own, coarser lattice, so neighbouring cells differ at most two-fold
    and the nodes move with ``origin``; a node closer than a quarter of its cell to an end is
    dropped (no sliver cells), as in :func:`aligned`.
    """
    core_lo, core_hi = max(core[0], lo), min(core[1], hi)
    if core_lo > core_hi:  # the figures beyond the region (cannot happen; kept safe)
        core_lo = core_hi = min(max(0.5 * (core[0] + core[1]), lo), hi)
    levels = min(max(math.ceil(math.log2(step / target)), 0), MAX_LEVELS) if target > 0 else 0
    while levels > 0 and (core_hi - core_lo) * 2.0**levels / step > most:
        levels -= 1
    top = 1 << levels
    fine = step / top
    first = math.floor((core_lo - origin) / fine)
    last = math.ceil((core_hi - origin) / fine)
    # Integer positions (in fine steps): the core, then one step per level outwards as long as
    # the position is not on the next coarser lattice, then the coarse lattice to the ends.
    right = _steps_out(last, top, 1)
    left = _steps_out(first, top, -1)
    k_lo = math.floor((lo - origin) / fine)
    k_hi = math.ceil((hi - origin) / fine)
    positions = np.concatenate([
        np.arange(left[-1] - top, k_lo, -top)[::-1], left[:0:-1],
        np.arange(first, last + 1), right[1:], np.arange(right[-1] + top, k_hi, top)])
    inner = origin + fine * positions.astype(np.float64)
    inner = inner[(inner > lo) & (inner < hi)]
    if inner.size >= 2:
        if inner[0] - lo < 0.25 * (inner[1] - inner[0]):
            inner = inner[1:]
        if inner.size >= 2 and hi - inner[-1] < 0.25 * (inner[-1] - inner[-2]):
            inner = inner[:-1]
    return np.concatenate([[lo], inner, [hi]])


@dataclass(frozen=True, slots=True)
class GridEvaluation:
    """The refined grid with each claim's log-likelihood parts on it.

    Attributes
    ----------
    theta : (G,) float
        Increasing nodes.
    ell : (n, G) float
        log L_i on the nodes, the log-sum of the parts
        :func:`models.likelihood.log_likelihood_parts` returns.
    log_wrong_rows : (R, G) float
        The log of each row's wrong part, log π_k (1 − c_ik) f_wrong (a claim's wrong part is
        the sum over its rows; :meth:`models.robust.RobustEstimator.fit` sums each row's
        posterior probability instead of combining the rows on the grid).
    log_post : (G,) float
        λ on the nodes.
    """

    theta: FloatArray
    ell: FloatArray
    log_wrong_rows: FloatArray
    log_post: FloatArray


def _too_many() -> NumericalRangeError:
    return NumericalRangeError(
        "The claims are too many and too far apart for their precision to be resolved (more "
        f"than {MAX_EXTRA_POINTS} extra grid points needed); drop the stray figures or give "
        "the precise ones an sd.",
        field="claims",
    )


#: Up to this many distinct peak places the claims' likelihoods at every peak are evaluated with
#: the starting grid (as extra columns of its one likelihood pass) rather than separately.
SHARED_PEAKS = 32


def _distinct(values: FloatArray) -> FloatArray:
    """The distinct values, increasing (np.unique's result, at a fraction of its overhead)."""
    flat = np.sort(values, axis=None)
    return np.asarray(flat[np.concatenate([[True], flat[1:] != flat[:-1]])], dtype=np.float64)


@dataclass(slots=True)
class _Peaks:
    """Where claims' likelihoods can peak: (n, m) places per claim, with a validity mask.

    ``places`` are the distinct places of all claims (increasing) and ``slot`` each claim's
    peaks' indices among them; ``ell`` (set by :func:`refined_grid` when the places are few,
    :data:`SHARED_PEAKS`) is log L_i at claim i's own peaks, computed once with the starting
    grid: a kernel's value at a point does not depend on the other points evaluated with it.
    """

    where: FloatArray
    valid: np.ndarray
    temper: FloatArray  # (n, 1)
    sigma: FloatArray  # (n, 1), the smallest spread of each claim's hypotheses
    places: FloatArray
    slot: IntArray
    ell: FloatArray | None = None
    #: Set once no peak lies in a cell wide enough to need evaluating: refinement only narrows
    #: the cells that hold peaks (new nodes fall inside the grid), so none ever will again.
    settled: bool = False

    @staticmethod
    def of(enc: EncodedClaims, temper: FloatArray) -> _Peaks:
        sigma = np.asarray(np.minimum.reduceat(enc.sigma, enc.starts)[:, None], dtype=np.float64)
        if not enc.bias.any():
            # No hypothesis has a bias (graded and unjudged sources): each point or range
            # peaks at one place, its figure or its middle.
            peaked = (enc.kind == KIND_POINT) | (enc.kind == KIND_RANGE)
            # A bound's middle is infinite (one end is), never nan; it is discarded.
            where = np.where(peaked, 0.5 * (enc.a + enc.b), 0.0)[:, None]
            places = _distinct(where)
            return _Peaks(where, peaked[:, None], temper[:, None], sigma, places,
                          places.searchsorted(where))
        kind_rows = enc.kind[enc.owner]
        rows = ((kind_rows == KIND_POINT) | (kind_rows == KIND_RANGE)).nonzero()[0]
        claim = enc.owner[rows]
        place = 0.5 * (enc.a + enc.b)[claim] - enc.bias[rows]
        order = np.lexsort((place, claim))
        claim, place = claim[order], place[order]
        # One peak per distinct place of a claim (an unjudged source's hypotheses share one).
        keep = np.append(True, (claim[1:] != claim[:-1]) | (place[1:] != place[:-1]))
        claim, place = claim[keep[: claim.size]], place[keep[: claim.size]]
        start = (np.append(True, claim[1:] != claim[:-1]).nonzero()[0] if claim.size
                 else claim)
        slot = np.arange(claim.size) - np.repeat(start, np.append(start[1:], claim.size) - start)
        m = int(slot.max()) + 1 if claim.size else 1
        where = np.zeros((enc.n, m))
        valid = np.zeros((enc.n, m), dtype=bool)
        where[claim, slot] = place
        valid[claim, slot] = True
        places = _distinct(where)
        return _Peaks(where, valid, temper[:, None], sigma, places,
                      places.searchsorted(where))

    def hidden(self, enc: EncodedClaims, theta: FloatArray,
               ell_at: Callable[[IntArray], FloatArray]) -> FloatArray:
        """Σ_i g_ij per cell j of ``theta`` (see the module docstring).

        Only peaks in cells wider than a quarter of the claim's spread are evaluated: in a
        narrower cell a peak rises at most (h/2)²/(2σ²) < 0.01 nats above the nodes, which the
        bend test already bounds; so a resolved grid costs no likelihood evaluation here.
        ``ell_at(nodes)``: log L_i at the nodes ``nodes[i, :]`` of ``theta``, for every claim i
        (read off the grid's own evaluation, used when :attr:`ell` is set).
        """
        out = np.zeros(theta.shape[0] - 1)
        if self.settled:
            return out
        # np.minimum/np.maximum rather than np.clip, whose wrapper costs more on small arrays.
        cell = np.minimum(np.maximum(theta.searchsorted(self.where, side="right") - 1, 0),
                          theta.shape[0] - 2)
        width = theta[cell + 1] - theta[cell]
        need = (self.valid & (self.where >= theta[0]) & (self.where <= theta[-1])
                & (width > 0.25 * self.sigma))
        some = np.logical_or.reduce(need, axis=1)
        if not np.logical_or.reduce(some):
            self.settled = True
            return out
        m = self.where.shape[1]
        if self.ell is not None:
            # Every claim's likelihood at its peaks and at the cells' ends is known already.
            c, mask, temper = cell, need, self.temper
            ell = np.concatenate([self.ell, ell_at(cell), ell_at(cell + 1)], axis=1) * temper
        else:
            if enc.n <= SMALL_CLAIMS or 2 * int(some.sum()) >= enc.n:
                # Few claims: evaluating every claim reuses the claim set's kernel blocks,
                # cheaper than building a subset (whose blocks would be gathered again).
                c, where, temper, mask, sub = cell, self.where, self.temper, need, enc
            else:
                claims = some.nonzero()[0]
                c, where, temper, mask = cell[claims], self.where[claims], \
                    self.temper[claims], need[claims]
                sub = enc.subset(claims)
            ell = log_likelihood_per_claim(sub, np.concatenate(
                [where, theta[c], theta[c + 1]], axis=1)) * temper
        gain = np.maximum(ell[:, :m] - np.minimum(ell[:, m:2 * m], ell[:, 2 * m:]), 0.0)
        gain = np.where(mask, gain, 0.0)
        return np.asarray(np.bincount(c.ravel(), weights=gain.ravel(), minlength=out.shape[0]),
                          dtype=np.float64)


def _cell_bend(h: FloatArray, lp: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Rise |λ_{j+1} − λ_j| and bend max(|κ_j|, |κ_{j+1}|) h_j²/8 of every cell of widths h."""
    d = lp[1:] - lp[:-1]
    slope = d / h
    k = np.zeros(lp.shape[0])
    # |2 (s_j − s_{j−1}) / (h_{j−1} + h_j)|, each step as written, in k's interior.
    inner = np.subtract(slope[1:], slope[:-1], out=k[1:-1])
    inner *= 2.0
    inner /= h[1:] + h[:-1]
    np.abs(inner, out=inner)
    bend = np.maximum(k[:-1], k[1:])
    bend *= h * h / 8.0
    np.abs(d, out=d)
    return d, bend


def _balanced(h: FloatArray, parts: IntArray, matter: np.ndarray) -> IntArray:
    """``parts`` (pieces each cell is cut into, 1 = kept) raised until adjacent cells that
    ``matter`` differ at most two-fold after cutting from their neighbours; every count a power
    of two, so the nodes stay dyadic."""
    parts = parts.copy()
    # The widths of each cell's left and right neighbours, ∞ beyond either end.
    left = np.full(h.shape[0], np.inf)
    right = np.full(h.shape[0], np.inf)
    while True:
        w = h / parts
        left[1:] = w[:-1]
        right[:-1] = w[1:]
        more = matter & (w > 2.0 * np.minimum(left, right) * (1.0 + 1e-9))
        if not np.logical_or.reduce(more):
            return parts
        parts[more] *= 2


def refined_grid(
    enc: EncodedClaims, temper: FloatArray, prior: tuple[float, float], base: FloatArray
) -> GridEvaluation:
    """The grid refined by the posterior's own width, with the likelihood parts on it.

    Parameters
    ----------
    enc : EncodedClaims
        n claims.
    temper : (n,) float
        t_i = 1/k_u of each claim.
    prior : (float, float)
        Centre and standard deviation of the Normal prior.
    base : (G₀,) float
        A uniform starting grid over the region the posterior may occupy.

    Returns
    -------
    GridEvaluation

    Raises
    ------
    NumericalRangeError
        When more than :data:`MAX_EXTRA_POINTS` points would be needed.
    """
    centre, scale = prior
    # With few likelihood rows an extra refinement round costs more than the nodes a bolder
    # cut adds: cells are then cut one level finer than their excess asks.
    bolder = 1 if enc.owner.shape[0] <= BOLD_ROWS else 0

    def evaluate(theta: FloatArray, extra: FloatArray | None = None
                 ) -> tuple[FloatArray, FloatArray, FloatArray]:
        if extra is None:
            ell, wrong_rows = log_likelihood_rows(enc, theta)
        else:
            # ``extra`` points ride along with the pass (:class:`_Peaks`); their likelihoods
            # are kept apart, and the posterior is summed over the grid's own columns in an
            # array of their own (a product with more columns can round its last ones
            # differently).
            both, wrong_rows = log_likelihood_rows(enc, np.concatenate([theta, extra]))
            peaks.ell = both[:, theta.shape[0]:][claim_rows, peaks.slot]
            ell = np.ascontiguousarray(both[:, :theta.shape[0]])
            wrong_rows = wrong_rows[:, :theta.shape[0]]
        lp = temper @ ell
        if math.isfinite(scale):  # a flat prior (infinite sd) adds exactly 0
            z = (theta - centre) / scale
            lp = lp - 0.5 * (z * z)
        return ell, wrong_rows, np.asarray(lp, dtype=np.float64)

    peaks = _Peaks.of(enc, temper)
    claim_rows = np.arange(enc.n)[:, None]
    g0 = base.shape[0]
    shared = peaks.places.shape[0] <= SHARED_PEAKS
    # With few peaks, the peaks ride along with the starting grid's pass.
    ell, wrong, lp = evaluate(base, peaks.places if shared else None)
    thetas, ells, wrongs, lps = [base], [ell], [wrong], [lp]
    theta = base
    # log L_i at nodes of the current (sorted) grid: the grid's own evaluation read back.
    order = np.arange(g0)

    def ell_at(nodes: IntArray) -> FloatArray:
        whole = ells[0] if len(ells) == 1 else np.concatenate(ells, axis=1)
        return np.asarray(whole[claim_rows, order[nodes]], dtype=np.float64)

    hidden = peaks.hidden(enc, theta, ell_at)
    patch: FloatArray = np.empty(0)
    added = 0
    for _ in range(MAX_ROUNDS):
        if patch.size:
            ell, wrong, lp_new = evaluate(patch)
            thetas.append(patch)
            ells.append(ell)
            wrongs.append(wrong)
            lps.append(lp_new)
            added += patch.shape[0]
            if added > MAX_EXTRA_POINTS:
                raise _too_many()
            all_theta = np.concatenate(thetas)
            order = all_theta.argsort(kind="stable")
            theta = all_theta[order]
            lp = np.concatenate(lps)[order]
            hidden = peaks.hidden(enc, theta, ell_at)
        h = theta[1:] - theta[:-1]
        rise, bend = _cell_bend(h, lp)
        top = float(np.maximum.reduce(lp))
        bound = np.maximum(lp[:-1], lp[1:]) + hidden
        resolve = bound >= top - RESOLVE_NATS
        split = (resolve & ((rise > SLOPE_NATS) | (bend > BEND_NATS)
                            | (hidden > SLOPE_NATS))).nonzero()[0]
        if not split.size:
            break
        # Cut a cell into 2^k pieces, enough for the excess to fall below the thresholds
        # (rise and gain fall like the step, bend like its square), at most 16 at once
        # (32 when bolder; a cell that one halving resolves is only halved).
        excess = np.maximum(np.maximum(rise[split], hidden[split]) / SLOPE_NATS,
                            np.sqrt(bend[split] / BEND_NATS))
        levels = np.minimum(np.ceil(np.log2(np.maximum(excess, 2.0))), 4.0).astype(np.int64)
        if bolder:
            levels = levels + (levels > 1)
        parts = np.ones(h.shape[0], dtype=np.int64)
        parts[split] = np.left_shift(1, levels)
        parts = _balanced(h, parts, resolve)
        cells = (parts > 1).nonzero()[0]
        count = parts[cells]
        # The new nodes θ_j + h_j k/count_j, k = 1 … count_j − 1, of every cut cell j.
        extra = count - 1
        cell = cells.repeat(extra)
        ends = extra.cumsum()
        k = np.arange(1, ends[-1] + 1) - (ends - extra).repeat(extra)
        new = theta[cell] + h[cell] * (k / count.repeat(extra))
        # A piece too narrow for floating point is dropped (new nodes come out sorted).
        fresh = (new > theta[cell]) & (new < theta[cell + 1])
        fresh[1:] &= new[1:] > new[:-1]
        patch = new[fresh]
        if patch.size == 0:
            break
    # theta, lp and order are those of every node evaluated, sorted (the last round's).
    # Both ends beyond the cells that may hold mass carry nothing any posterior needs (and
    # would cost claims × nodes in every later pass): keep one dead node either side.
    live = (bound >= top - LIVE_NATS).nonzero()[0]
    keep = slice(max(int(live[0]) - 1, 0), int(live[-1]) + 3)
    order = order[keep]
    if len(thetas) == 1 and order.shape[0] == base.shape[0]:
        ell, wrong_rows = ells[0], wrongs[0]
        theta_out, lp_out = base, lps[0]
    else:
        theta_out, lp_out = theta[keep], lp[keep]
        ell = np.concatenate(ells, axis=1)[:, order]
        wrong_rows = np.concatenate(wrongs, axis=1)[:, order]
    return GridEvaluation(
        np.asarray(theta_out, dtype=np.float64), np.asarray(ell, dtype=np.float64),
        np.asarray(wrong_rows, dtype=np.float64), np.asarray(lp_out, dtype=np.float64),
    )
