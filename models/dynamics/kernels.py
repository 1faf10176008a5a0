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
probability 0 and a later lower figure can only be explained by its error. On the grid, the
transition probability from θ_g to θ_{g+d} is the walk's probability of landing in the cell
[(d − ½) h, (d + ½) h] (for ``cumulative``, the cell clipped at 0), so a scale far below the
step is the identity rather than an undefined density. Each row is then renormalised: the little
mass a walk from near the grid's edge would carry off the grid stays on it (the grid covers the
posterior's tails, see :func:`state_grid`, so this touches only negligible mass).

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


@dataclass(frozen=True, slots=True)
class ToeplitzStep:
    """A row-renormalised Toeplitz transition, applied without forming the G × G matrix.

    K_{gk} = κ_{k−g} / n_g with κ the 2G − 1 cell probabilities of the offsets −(G−1)…G−1 and
    n_g = Σ_k κ_{k−g} the row sums on the grid. Both products are one convolution, O(G²) in C
    without a matrix in memory: (vK)_k = Σ_g (v_g/n_g) κ_{k−g}, (Kv)_g = Σ_k κ_{k−g} v_k / n_g.

    Attributes
    ----------
    cells : (2G − 1,) float
        κ, offsets −(G−1) … G−1.
    norm : (G,) float
        n_g.
    """

    cells: FloatArray
    norm: FloatArray

    @property
    def size(self) -> int:
        return int(self.norm.shape[0])

    def push(self, v: FloatArray) -> FloatArray:
        """v K (the forward pass), shape (G,)."""
        g = self.size
        return np.asarray(np.convolve(v / self.norm, self.cells)[g - 1 : 2 * g - 1],
                          dtype=np.float64)

    def pull(self, v: FloatArray) -> FloatArray:
        """K v (the backward pass), shape (G,)."""
        g = self.size
        return np.asarray(np.convolve(v[::-1], self.cells)[g - 1 : 2 * g - 1][::-1] / self.norm,
                          dtype=np.float64)

    def dense(self) -> FloatArray:
        """The (G, G) matrix K."""
        g = self.size
        index = np.arange(g)[None, :] - np.arange(g)[:, None] + (g - 1)
        return np.asarray(self.cells[index] / self.norm[:, None], dtype=np.float64)


def step_operator(size: int, step: float, scale: float, monotone: bool) -> ToeplitzStep:
    """Transition of a (folded) Gaussian step of ``scale`` on a uniform grid.

    Parameters
    ----------
    size : int
        G, the number of grid points.
    step : float
        h, the grid step (> 0).
    scale : float
        s ≥ 0, the standard deviation of the step (0: stay).
    monotone : bool
        Fold the step onto increases (``cumulative``).

    Returns
    -------
    ToeplitzStep
        K_{gk} = P(θ_next = θ_k | θ = θ_g); rows sum to 1; upper triangular when ``monotone``.

    Notes
    -----
    With d = k − g, the cell probability is Φ((d + ½)h/s) − Φ((d − ½)h/s), written with the
    upper-tail form for d > 0 so that far cells do not cancel to noise. Folded: the d = 0 cell
    keeps [0, h/2], so 2Φ(h/2s) − 1, and every d > 0 cell doubles.
    """
    offsets = np.arange(-(size - 1), size, dtype=np.float64)
    if scale <= 0.0:
        cells = (offsets == 0).astype(np.float64)
    else:
        lo = (offsets - 0.5) * step / scale
        hi = (offsets + 0.5) * step / scale
        cells = np.where(offsets > 0, ndtr(-lo) - ndtr(-hi), ndtr(hi) - ndtr(lo))
        if monotone:
            cells = np.where(offsets < 0, 0.0,
                             np.where(offsets == 0, 2.0 * ndtr(0.5 * step / scale) - 1.0,
                                      2.0 * cells))
    # Row g sums the cells of offsets −g … G−1−g, i.e. cells[G−1−g : 2G−1−g].
    running = np.r_[0.0, np.cumsum(cells)]
    g = np.arange(size)
    norm = running[2 * size - 1 - g] - running[size - 1 - g]
    return ToeplitzStep(np.asarray(cells, dtype=np.float64), np.asarray(norm, dtype=np.float64))


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
        Node marginals of the first pass (every node, every drift scale).
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


def fine_size(enc: EncodedClaims, width: float, least: int, most: int) -> int:
    """Points of the fine grid: ``least``, more when a right claim's spread needs a finer step,
    at most ``most``."""
    need = math.ceil(STEPS_PER_SIGMA * width / float(enc.sigma.min())) + 1
    return int(min(max(least, need), most))
