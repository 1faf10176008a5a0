"""Integrals and quantiles of densities tabulated on an increasing grid.

Symbols
-------
θ_0 < … < θ_{G−1} : the grid's nodes; h_j = θ_{j+1} − θ_j the width of cell j.
p_j, p'_j         : a density and its slope at node j (rows of a (m, G) array: one density per
                    row, all on the same grid).

Notes
-----
Slopes are np.gradient's second-order divided differences (first order at both ends), written
out so that one call costs a few array operations. Each cell's integral is that of the cubic
Hermite interpolant through p and p' (the trapezoid rule plus its Euler–Maclaurin end
correction, h²/12 (p'_j − p'_{j+1})), so the CDF and its quantiles are fourth-order accurate in
the step instead of second. A quantile q is found in the cell where the CDF passes q, then
∫_0^t P = q − F(θ_j) is solved for the cubic Hermite interpolant P, written in powers of the
cell's fraction t, by three Newton steps from the linear guess (Horner's rule for both the
quartic integral and the cubic).

References
----------
Press, W. H., Teukolsky, S. A., Vetterling, W. T. & Flannery, B. P. (2007). Numerical Recipes,
3rd ed., §3.5 (cubic Hermite interpolation) and §4.2 (Euler–Maclaurin). Cambridge University
Press. ISBN 978-0-521-88068-8.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.likelihood import FloatArray, IntArray

__all__ = ["SlopeCoefficients", "hermite_cdf", "hermite_weights", "normalise_log",
           "node_weights", "quantiles", "slopes"]


@dataclass(frozen=True, slots=True)
class SlopeCoefficients:
    """What :func:`slopes` needs of a grid, computed once per grid: the steps h_j and the
    three-point weights of the interior nodes, f'_j ≈ a_j f_{j−1} + b_j f_j + c_j f_{j+1}
    (empty for a grid of two nodes). The fit reads slopes on one grid three times (the
    posterior's quantiles, the weights' scores, the Hermite node weights)."""

    h: FloatArray
    a: FloatArray
    b: FloatArray
    c: FloatArray
    #: 0.5 h_j and h_j²/12, each cell's trapezoid weight and end correction.
    half: FloatArray
    corr: FloatArray

    @classmethod
    def of(cls, theta: FloatArray) -> SlopeCoefficients:
        h = theta[1:] - theta[:-1]
        h1, h2 = h[:-1], h[1:]
        return cls(h, -h2 / (h1 * (h1 + h2)), (h2 - h1) / (h1 * h2), h1 / (h2 * (h1 + h2)),
                   0.5 * h, h * h / 12.0)


def slopes(theta: FloatArray, f: FloatArray, coef: SlopeCoefficients | None = None,
           out: FloatArray | None = None) -> FloatArray:
    """df/dθ along the last axis, as ``np.gradient(f, theta, axis=-1)`` computes it
    (``coef``: the grid's :class:`SlopeCoefficients`, when already at hand; ``out``: where to
    write them, shaped like ``f``).

    Interior nodes take the second-order divided difference of the three neighbouring nodes
    (exact for parabolas on any spacing); the two end nodes the first-order one-sided one.
    """
    coef = SlopeCoefficients.of(theta) if coef is None else coef
    h = coef.h
    out = np.empty_like(f) if out is None else out
    if theta.shape[0] > 2:
        # (a f₋ + b f) + c f₊, summed in that order in the output's own interior.
        inner = np.multiply(coef.a, f[..., :-2], out=out[..., 1:-1])
        inner += coef.b * f[..., 1:-1]
        inner += coef.c * f[..., 2:]
    out[..., 0] = (f[..., 1] - f[..., 0]) / h[0]
    out[..., -1] = (f[..., -1] - f[..., -2]) / h[-1]
    return out


def hermite_cdf(
    theta: FloatArray, density: FloatArray, coef: SlopeCoefficients | None = None
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Slopes, Hermite cell integrals and the (unnormalised) CDF along the last axis
    (``coef`` as :func:`slopes` takes it).

    Returns
    -------
    slope : like ``density``
    cells : (..., G − 1), each ≥ 0
    cdf : like ``density``, starting at 0
    """
    coef = SlopeCoefficients.of(theta) if coef is None else coef
    slope = slopes(theta, density, coef)
    # 0.5 h (p_j + p_{j+1}) + h²/12 (p'_j − p'_{j+1}), each product as written out.
    cells = np.add(density[..., 1:], density[..., :-1])
    cells *= coef.half
    bend = np.subtract(slope[..., :-1], slope[..., 1:])
    bend *= coef.corr
    cells += bend
    np.maximum(cells, 0.0, out=cells)
    cdf = np.zeros(density.shape)
    np.cumsum(cells, axis=-1, out=cdf[..., 1:])
    return slope, cells, cdf


def hermite_weights(theta: FloatArray, cut: float, coef: SlopeCoefficients | None = None
                    ) -> FloatArray:
    """Node weights v (2, G) with Σ_j v_0j F_j the integral of F's piecewise cubic Hermite
    interpolant over the grid, and Σ_j v_1j F_j its integral up to ``cut`` (``coef``: the
    grid's slope coefficients, when already at hand).

    Each cell's integral is its trapezoid plus h_j²/12 (F'_j − F'_{j+1}) (Euler–Maclaurin),
    the slopes F' those of :func:`models.quadrature.slopes`, as
    :func:`models.quadrature.hermite_cdf` integrates; the cell holding ``cut`` contributes
    h ∫_0^t of its Hermite basis (t its fraction below ``cut``). The slopes are linear in F, so
    the correction is folded into the weights (through the slopes' transpose) and an integral
    is one dot product.
    """
    coef = SlopeCoefficients.of(theta) if coef is None else coef
    h = coef.h
    corr = coef.corr
    j = min(max(int(theta.searchsorted(cut, side="right")) - 1, 0), theta.shape[0] - 2)
    width = float(h[j])
    t = min(max(float(cut - theta[j]) / width, 0.0), 1.0)
    ends = np.zeros((2, theta.shape[0]))  # the weight of each node's slope
    out = np.zeros((2, theta.shape[0]))
    ends[:, :-1] = corr
    ends[:, 1:] -= corr
    out[:, :-1] = coef.half
    out[:, 1:] += coef.half
    # Up to the cut: the whole cells before cell j, then ∫_0^t of cell j's Hermite basis
    # h00, h01, h10, h11 (the slope terms carry h once more).
    ends[1, j:] = 0.0
    out[1, j:] = 0.0
    if j:
        ends[1, j] = -float(corr[j - 1])
        out[1, j] = 0.5 * float(h[j - 1])
    t2, t3, t4 = t * t, t * t * t, t * t * t * t
    out[1, j] += width * (t - t3 + 0.5 * t4)
    out[1, j + 1] = width * (t3 - 0.5 * t4)
    ends[1, j] += width * width * (0.5 * t2 - 2.0 * t3 / 3.0 + 0.25 * t4)
    ends[1, j + 1] = width * width * (0.25 * t4 - t3 / 3.0)
    # The slopes' transpose: the one-sided ends, then the interior three-point differences.
    out[:, 0] -= ends[:, 0] / h[0]
    out[:, 1] += ends[:, 0] / h[0]
    out[:, -1] += ends[:, -1] / h[-1]
    out[:, -2] -= ends[:, -1] / h[-1]
    if theta.shape[0] > 2:
        e = ends[:, 1:-1]
        out[:, :-2] += e * coef.a
        out[:, 1:-1] += e * coef.b
        out[:, 2:] += e * coef.c
    return out


def quantiles(theta: FloatArray, density: FloatArray, rows: IntArray, probs: FloatArray,
              coef: SlopeCoefficients | None = None) -> FloatArray:
    """Quantile ``probs[i]`` of density row ``rows[i]``, for every i (module notes; ``coef``
    as :func:`slopes` takes it).

    Parameters
    ----------
    theta : (G,) float
        Increasing grid.
    density : (m, G) float
        Densities (not necessarily normalised; each row's own total is used).
    rows : (k,) int
    probs : (k,) float in (0, 1)

    Returns
    -------
    (k,) float
    """
    slope, cells, cdf = hermite_cdf(theta, density, coef)
    total = cdf[:, -1]
    total = np.where(total > 0, total, 1.0)
    target = probs * total[rows]
    j = (cdf[rows] < target[:, None]).sum(axis=1) - 1
    # np.minimum/np.maximum rather than np.clip, whose wrapper costs more on small arrays.
    j = np.minimum(np.maximum(j, 0), theta.shape[0] - 2)
    h = theta[j + 1] - theta[j]
    p0, p1 = density[rows, j], density[rows, j + 1]
    d0, d1 = slope[rows, j] * h, slope[rows, j + 1] * h
    cell = cells[rows, j]
    need = target - cdf[rows, j]
    t = np.minimum(np.maximum(need / np.where(cell > 0, cell, 1.0), 0.0), 1.0)
    # ∫_0^t P = t (A + t (B + t (C + t D))) and P(t) = A + t (2B + t (3C + 4 t D)).
    b = 0.5 * d0
    c = p1 - p0 - (2.0 * d0 + d1) / 3.0
    d = 0.5 * (p0 - p1) + 0.25 * (d0 + d1)
    b2, c3, d4 = 2.0 * b, 3.0 * c, 4.0 * d
    need_t = need / h
    for _ in range(3):
        value = p0 + t * (b2 + t * (c3 + t * d4))
        gap = t * (p0 + t * (b + t * (c + t * d))) - need_t
        # A ufunc's where= mask costs more than the division on these few numbers: only
        # when some density vanishes (or is nan: the least value is then nan) is it needed.
        step = gap / value if np.minimum.reduce(value) > 0 else np.divide(
            gap, value, out=np.zeros_like(gap), where=value > 0)
        t = np.minimum(np.maximum(t - step, 0.0), 1.0)
    return np.asarray(theta[j] + t * h, dtype=np.float64)


def node_weights(theta: FloatArray) -> FloatArray:
    """Trapezoid weights of the grid nodes: Σ_g f(θ_g) w_g ≈ ∫ f dθ on any increasing grid."""
    half = 0.5 * (theta[1:] - theta[:-1])
    weights = np.zeros_like(theta)
    weights[:-1] += half
    weights[1:] += half
    return weights


def normalise_log(log_p: FloatArray, theta: FloatArray,
                  weights: FloatArray | None = None) -> FloatArray:
    """exp(log p) normalised to unit trapezoidal area along the last axis (``weights``: the
    grid's :func:`node_weights`, when already at hand)."""
    shifted = log_p - np.maximum.reduce(log_p, axis=-1, keepdims=True)
    np.exp(shifted, out=shifted)
    area = shifted @ (node_weights(theta) if weights is None else weights)
    shifted /= area[..., None] if shifted.ndim > 1 else area
    return np.asarray(shifted, dtype=np.float64)
