"""The state grid, the prior of the first node and the transitions between nodes.

Symbols
-------
θ_g = θ_0 + g h : the uniform grid, step h.
q               : the drift scale, the standard deviation of a day's change of θ on the working
                  scale (log units on the log scale: q = 0.05 is about ±5 % a day).
Δ               : days between two nodes; s = q √Δ the scale of the change over them.
τ_∞             : scale of the change from the last level node to the eventual total.

Transitions
-----------
``drifting`` is a Gaussian random walk, θ_{j+1} = θ_j + ε, ε ~ N(0, s²). ``cumulative`` only
grows: ε ~ |N(0, s²)| (a half-Normal, the same walk folded onto increases), so a fall has
probability 0 and a later lower figure can only be explained by its error. On the grid, each
continuous step is split between the two grid offsets around it in the proportions that keep
its value (a tent, linear interpolation), and the result is mixed with the mean step alone so
that the lattice step has the continuous step's mean and variance whatever s/h
(:func:`step_cells`). Long daily series need this: a day's step is often far below the grid
step, and rounding each step to the nearest cell (the bin-integrated kernel used before) made
a half-Normal walk stay put (mean step ≈ 0 instead of 0.8 s) and a Gaussian walk stiffer than
its s, so late levels depended on the grid. For ``cumulative``, no lattice kernel with the
mean step can have a variance below f(1 − f) step² (f the mean's fractional part); the
estimator therefore refines the grid to the mean daily step (:func:`resolving_step`). Each row
is then renormalised: the little mass a walk from near the grid's edge would carry off the
grid stays on it (the grid covers the posterior's tails, see :func:`state_grid`, so this
touches only negligible mass).

The eventual total θ_∞ follows the last level node by the same kind of step with scale τ_∞ (no
days elapse): ``total ≥ level`` for ``cumulative``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from models.likelihood import EncodedClaims, FloatArray

#: Coarse grid points of the first pass that locates the posterior (see :func:`state_grid`).
COARSE_POINTS = 96
#: The fine grid keeps the region where some node's coarse log-marginal is within this many nats
#: of its maximum: e^-25 ≈ 1e-11 of the peak, far below the quantiles we report.
KEEP_NATS = 25.0
#: Fine step at most a right claim's spread over this many (the trapezoid rule on a Gaussian of
#: spread σ with step σ/2 is accurate to far better than 1e-6).
STEPS_PER_SIGMA = 2.0
#: The band of a step's transition reaches this many of its scales. The mass beyond,
#: 2Φ(−10) ≈ 1.5e-23, is below the rounding of any row it would join (every row holds the
#: step's peak), and a wider band only costs time: the convolutions are O(G × band).
BAND_SCALES = 10.0


@dataclass(frozen=True, slots=True)
class ToeplitzStep:
    """A row-renormalised Toeplitz transition, applied without forming the G × G matrix.

    K_{gk} = κ_{k−g} / n_g with κ the cell probabilities of the offsets d = k − g and
    n_g = Σ_k κ_{k−g} the row sums on the grid. Only the band of offsets ``first`` … ``first``
    + B − 1 where κ can be non-zero is kept (it always holds offset 0): a day's step covers a
    few cells, so both products are one convolution of cost O(G B) rather than O(G²), with no
    matrix in memory: (vK)_k = Σ_g (v_g/n_g) κ_{k−g}, (Kv)_g = Σ_k κ_{k−g} v_k / n_g.

    Attributes
    ----------
    cells : (B,) float
        κ_d for d = first … first + B − 1.
    first : int
        The band's first offset, ≤ 0 (and first + B − 1 ≥ 0).
    norm : (G,) float
        n_g.
    """

    cells: FloatArray
    first: int
    norm: FloatArray

    @property
    def size(self) -> int:
        return int(self.norm.shape[0])

    def push(self, v: FloatArray) -> FloatArray:
        """v K (the forward pass), shape (G,)."""
        g, lo = self.size, -self.first
        return np.asarray(np.convolve(v / self.norm, self.cells)[lo : lo + g], dtype=np.float64)

    def pull(self, v: FloatArray) -> FloatArray:
        """K v (the backward pass), shape (G,)."""
        # With the grid reversed (g' = G − 1 − g), Σ_k κ_{k−g} v_k = Σ_k' κ_{g'−k'} v_{G−1−k'}:
        # the same convolution as the push.
        g, lo = self.size, -self.first
        out = np.convolve(v[::-1], self.cells)[lo : lo + g][::-1] / self.norm
        return np.asarray(out, dtype=np.float64)

    def dense(self) -> FloatArray:
        """The (G, G) matrix K."""
        g = self.size
        d = np.arange(g)[None, :] - np.arange(g)[:, None] - self.first
        inside = (d >= 0) & (d < self.cells.shape[0])
        k = np.where(inside, self.cells[np.clip(d, 0, self.cells.shape[0] - 1)], 0.0)
        return np.asarray(k / self.norm[:, None], dtype=np.float64)


def _tent_cells(ratio: float, reach: int) -> FloatArray:
    """t_d = E[Λ(ε − d)] for ε ~ N(0, ratio²) and d = 0 … reach (t_{−d} = t_d).

    Λ(x) = max(0, 1 − |x|) is the tent: a step ε (in grid steps) lands on its two neighbouring
    grid offsets with weights that keep its value, so Σ_d d t_d = E[ε] exactly. Each side of
    the tent is ∫_a^b (y − r) N(y; 0, σ²) dy = σ (φ(a/σ) − φ(b/σ)) − r P(a < ε < b), taken with
    the upper-tail form of P (every a ≥ 0) so that far cells keep their relative precision.
    """
    d = np.arange(reach + 1, dtype=np.float64)

    def ramp(a: FloatArray, b: FloatArray, r: FloatArray) -> FloatArray:
        alpha, beta = a / ratio, b / ratio
        mass = ndtr(-alpha) - ndtr(-beta)
        dens = np.exp(-0.5 * alpha * alpha) - np.exp(-0.5 * beta * beta)
        return np.asarray(ratio * dens / math.sqrt(2.0 * math.pi) - r * mass, dtype=np.float64)

    right = -ramp(d, d + 1.0, d + 1.0)             # ∫_d^{d+1} (d + 1 − y) N(y) dy
    left = ramp(np.maximum(d - 1.0, 0.0), d, d - 1.0)  # ∫_{d−1}^d (y − d + 1) N(y) dy, d ≥ 1
    left[0] = right[0]                              # ∫_{−1}^0 (y + 1) N(y) dy, by symmetry
    return np.asarray(np.maximum(left + right, 0.0), dtype=np.float64)


def step_cells(ratio: float, monotone: bool) -> tuple[FloatArray, int]:
    """Cell probabilities κ_d of a (folded) Gaussian step of ``ratio`` grid steps.

    Parameters
    ----------
    ratio : float
        s/h ≥ 0, the step's scale in grid steps (0: stay).
    monotone : bool
        Fold the step onto increases (``cumulative``).

    Returns
    -------
    cells : (B,) float
        κ_d for d = first … first + B − 1; they sum to 1.
    first : int
        The first offset (0 when ``monotone``).

    Notes
    -----
    The continuous step ε (in grid steps) has mean μ and variance v: μ = 0, v = r² for the
    Gaussian; μ = r √(2/π), v = r² (1 − 2/π) for the folded |N(0, r²)|. The lattice kernel is
    the mixture

        κ = w T(ε) + (1 − w) T(μ),   w = (v − e₀)/(V₁ − e₀) clipped to [0, 1],

    of two tent projections (:func:`_tent_cells`): T(ε) splits every continuous step between
    its two neighbouring offsets, T(μ) puts the mean step alone on its two neighbours ⌊μ⌋,
    ⌊μ⌋ + 1. Both have mean μ exactly, whatever r, so the mixture does too. T(ε) has variance
    V₁ = v + E[f(1 − f)] (f the fractional part of ε: the splitting adds at most ¼ step², ⅙
    once r ≳ 1), T(μ) has e₀ = f_μ (1 − f_μ), the least variance any kernel on the lattice
    with mean μ can have; components with one mean mix their variances linearly, so the
    mixture's variance is v exactly whenever v ≥ e₀: always for the Gaussian (e₀ = 0), and for
    the folded step once r ≳ 0.7. Below that, a never-decreasing walk on the lattice can only
    stay or move by whole cells: κ = T(μ), the exact mean with the least variance possible
    (excess ≤ h μ per step). As h/s → 0, w → 1 and κ → the continuous kernel. The bin-
    integrated kernel this replaces, Φ((d + ½)/r) − Φ((d − ½)/r), has mean ≈ 0 for the folded
    step once r ≲ 0.3 (every small increase rounds to "stay"), which made long daily series
    grow by a grid-dependent amount.
    """
    if ratio <= 0.0:
        return np.ones(1), 0
    reach = int(math.ceil(BAND_SCALES * ratio)) + 2
    tent = _tent_cells(ratio, reach)
    d = np.arange(reach + 1, dtype=np.float64)
    if monotone:
        mean, var = ratio * math.sqrt(2.0 / math.pi), ratio * ratio * (1.0 - 2.0 / math.pi)
        spread, offsets, first = np.r_[tent[0], 2.0 * tent[1:]], d, 0
    else:
        mean, var = 0.0, ratio * ratio
        spread, offsets, first = np.r_[tent[:0:-1], tent], np.r_[-d[:0:-1], d], -reach
    spread_var = float(np.dot(spread, (offsets - mean) ** 2))
    below = math.floor(mean)
    frac = mean - below
    least = frac * (1.0 - frac)
    w = min(1.0, (var - least) / (spread_var - least)) if spread_var > least < var else 0.0
    cells = w * spread
    cells[below - first] += (1.0 - w) * (1.0 - frac)
    cells[below + 1 - first] += (1.0 - w) * frac
    return np.asarray(cells, dtype=np.float64), first


def step_operator(size: int, step: float, scale: float, monotone: bool) -> ToeplitzStep:
    """Transition of a (folded) Gaussian step of ``scale`` on a uniform grid.

    Parameters
    ----------
    size : int
        G, the number of grid points.
    step : float
        h, the grid step (> 0).
    scale : float
        s ≥ 0, the standard deviation of the Gaussian step (0: stay).
    monotone : bool
        Fold the step onto increases (``cumulative``).

    Returns
    -------
    ToeplitzStep
        K_{gk} = P(θ_next = θ_k | θ = θ_g); rows sum to 1; upper triangular when ``monotone``.
        Away from the grid's edges its steps have the continuous step's mean and variance
        (:func:`step_cells`).
    """
    cells, first = step_cells(scale / step, monotone)
    # Offsets beyond ±(G − 1) cannot be taken on the grid.
    lo, hi = max(first, -(size - 1)), min(first + cells.shape[0] - 1, size - 1)
    cells = cells[lo - first : hi - first + 1]
    # Row g sums the cells of offsets max(−g, lo) … min(G − 1 − g, hi).
    running = np.r_[0.0, np.cumsum(cells)]
    g = np.arange(size)
    top = np.minimum(size - 1 - g, hi) - lo + 1
    bottom = np.maximum(-g, lo) - lo
    norm = running[top] - running[bottom]
    return ToeplitzStep(np.asarray(cells, dtype=np.float64), lo,
                        np.asarray(norm, dtype=np.float64))


def step_kernel(size: int, step: float, scale: float, monotone: bool) -> FloatArray:
    """:func:`step_operator` as a dense (G, G) matrix (for tests and small grids)."""
    return step_operator(size, step, scale, monotone).dense()


def log_prior(theta: FloatArray, centre: float, scale: float) -> FloatArray:
    """log π_g of the first node: the static model's weakly informative Normal, normalised."""
    lp = -0.5 * ((theta - centre) / scale) ** 2
    return np.asarray(lp - math.log(float(np.exp(lp - lp.max()).sum())) - lp.max(),
                      dtype=np.float64)


def anchors(enc: EncodedClaims) -> FloatArray:
    """Every finite end of every claim less its mean bias (where the grid must reach)."""
    mean_bias = enc.per_claim_mean(enc.bias)
    ends = np.concatenate([enc.a - mean_bias, enc.b - mean_bias])
    return np.asarray(ends[np.isfinite(ends)], dtype=np.float64)


def wide_range(enc: EncodedClaims, centre: float, scale: float) -> tuple[float, float]:
    """The first pass's range: the figures and the prior's centre, ± 5 prior scales.

    The prior's standard deviation is at least the span of the figures, so this reaches past
    the tails of every node's posterior, including a node held only by an open bound or by a
    figure that is probably wrong (the Cauchy part hands such a node back to the prior).
    """
    ends = anchors(enc)
    return (min(float(ends.min()), centre) - 5.0 * scale,
            max(float(ends.max()), centre) + 5.0 * scale)


def fine_range(
    enc: EncodedClaims, coarse: FloatArray, marginals: FloatArray
) -> tuple[float, float]:
    """The region where some coarse marginal is within :data:`KEEP_NATS` of its peak.

    Widened to every point figure and bound (the leave-one-out view of a claim needs its own
    neighbourhood) and by one coarse step on each side.

    Parameters
    ----------
    enc : EncodedClaims
    coarse : (C,) float
        The first pass's grid.
    marginals : (M, C) float
        Node marginals of the first pass (every node, every drift scale whose evidence counts).
    """
    with np.errstate(divide="ignore"):
        log_m = np.log(marginals)
    keep = (log_m >= log_m.max(axis=1, keepdims=True) - KEEP_NATS).any(axis=0)
    idx = np.flatnonzero(keep)
    step = float(coarse[1] - coarse[0])
    ends = anchors(enc)
    lo = min(float(coarse[idx[0]]) - step, float(ends.min()))
    hi = max(float(coarse[idx[-1]]) + step, float(ends.max()))
    return max(lo, float(coarse[0])), min(hi, float(coarse[-1]))


def fine_size(
    enc: EncodedClaims, width: float, least: int, most: int, step: float = math.inf
) -> int:
    """Points of the fine grid: ``least``, more when a right claim's spread or ``step`` (the
    largest grid step the transitions can follow, see :func:`resolving_step`) needs a finer
    step, at most ``most``."""
    need = math.ceil(STEPS_PER_SIGMA * width / float(enc.sigma.min())) + 1
    if math.isfinite(step) and step > 0.0:
        need = max(need, math.ceil(width / step) + 1)
    return int(min(max(least, need), most))


def resolving_step(gaps: FloatArray, scales: FloatArray, monotone: bool) -> float:
    """The largest grid step on which a (folded) step of the typical gap keeps its variance.

    Parameters
    ----------
    gaps : (N − 1,) float
        Days between consecutive level nodes.
    scales : (K,) float
        Drift scales q that carry weight.
    monotone : bool

    Returns
    -------
    float
        h* = √(2/π) q_min √Δ_med for ``cumulative`` (q_min the smallest scale, Δ_med the median
        positive gap); ∞ for ``drifting`` (its lattice kernel has the exact variance at any
        step) or without gaps.

    Notes
    -----
    A lattice kernel with mean μ (in grid steps) has variance at least f(1 − f), f the
    fractional part of μ (:func:`step_cells`); the folded step of ratio r = s/h has mean
    r √(2/π) and variance r² (1 − 2/π), which reaches that floor exactly at r = √(2/π): the
    kernel has the continuous step's mean *and* variance once h ≤ s √(2/π), the step's mean.
    """
    positive = gaps[gaps > 0.0]
    if not monotone or positive.size == 0 or scales.size == 0:
        return math.inf
    return math.sqrt(2.0 / math.pi) * float(scales.min()) * math.sqrt(float(np.median(positive)))
