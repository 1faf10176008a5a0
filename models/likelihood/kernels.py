"""Claim likelihoods on a grid of θ: each kernel block evaluated in a fixed handful of array
operations, the right and wrong parts combined in log space and over each claim's hypotheses.

The forms are those of :class:`~models.likelihood.encoded.KernelBlock`; the public functions are
what the grid (:mod:`models.grid`), the robust estimator (:mod:`models.robust`), the bounds
(:mod:`models.bounds`) and the dynamics (:mod:`models.dynamics`) evaluate.
"""

from __future__ import annotations

import numpy as np
from scipy.special import log_ndtr

from models.likelihood.common import LOG_FLOOR, LOG_SQRT_2PI, Z_MAX, FloatArray, bounded
from models.likelihood.encoded import FAMILY_BOUND, FAMILY_POINT, EncodedClaims, KernelBlock


def _block_kernels(
    blk: KernelBlock, theta: FloatArray, span: float, right_only: bool
) -> tuple[FloatArray, FloatArray | None]:
    """log π c f_right and log π (1 − c) f_wrong of one block's rows (:class:`KernelBlock`).

    ``theta`` is a shared grid (G,) or one grid per row (rows, G), within ±``span``.
    Written with ``out=`` on arrays of the pass's own: each step is the same IEEE operation
    on the same operands as the formula in :class:`KernelBlock` (sums are commutative, so
    ``x += c`` is ``c + x``), without a new array per step.
    """
    d = blk.centre - theta
    clip = blk.clip_needed(span)
    wrong: FloatArray | None = None
    if blk.family == FAMILY_POINT:
        if not right_only:
            zw = d * blk.scale_wrong
            if clip:
                zw = bounded(zw)
            np.multiply(zw, zw, out=zw)
            np.log1p(zw, out=zw)
            wrong = np.subtract(blk.wrong_const, zw, out=zw)
        z = np.multiply(d, blk.scale_right, out=d)
        if clip:
            z = bounded(z)
        np.multiply(z, z, out=z)
        z *= 0.5
        right = np.subtract(blk.right_const, z, out=z)
    elif blk.family == FAMILY_BOUND:
        if not right_only:
            dw = d * blk.scale_wrong
            np.arctan2(1.0, dw, out=dw)
            np.log(dw, out=dw)
            dw += blk.wrong_const
            wrong = dw
        z = np.multiply(d, blk.scale_right, out=d)
        if clip:
            z = bounded(z)
        right = log_ndtr(z, out=z)
        right += blk.right_const
    else:
        if not right_only:
            dw = d * blk.scale_wrong
            if clip:
                dw = bounded(dw)
            np.multiply(dw, dw, out=dw)
            dw += blk.cross
            box = np.arctan2(blk.half_wrong, dw, out=dw)
            if box.min() > 0.0:  # the usual case, without an errstate context's cost
                np.log(box, out=box)
                box += blk.wrong_const
                # log box ≥ log(5e-324) > −745: the floor binds only below a constant that low.
                wrong = box if blk.wrong_floor_free else np.maximum(box, LOG_FLOOR, out=box)
            else:
                with np.errstate(divide="ignore"):
                    np.log(box, out=box)
                box += blk.wrong_const
                wrong = np.maximum(box, LOG_FLOOR, out=box)
        np.abs(d, out=d)
        d *= blk.neg_scale_right
        right = _log_box(d, blk.half, clip)
        right += blk.right_const
    return np.asarray(right, dtype=np.float64), wrong


def _log_box(e: FloatArray, half: FloatArray, clip: bool) -> FloatArray:
    """log(Φ(e + h) − Φ(e − h)) for e ≤ 0 and h > 0:
    :func:`~models.likelihood.densities.log_normal_interval` on its reflected ends (at most the
    upper one positive), with the same floor and flat fallback. Returns a new array (``e`` is
    kept)."""
    # Both ends in one array and one log_ndtr call (each element as alone).
    ends = np.empty((2,) + e.shape)
    lo, hi = np.subtract(e, half, out=ends[0]), np.add(e, half, out=ends[1])
    if clip:
        np.maximum(np.minimum(ends, Z_MAX, out=ends), -Z_MAX, out=ends)
    log_ndtr(ends, out=ends)
    l1 = hi
    gap = lo
    gap -= l1
    # One reduction instead of a comparison and .all() (a nan gap fails both tests alike).
    if np.maximum.reduce(gap, axis=None) < -1e-12:
        np.exp(gap, out=gap)
        np.negative(gap, out=gap)
        np.log1p(gap, out=gap)
        gap += l1
        return np.asarray(gap, dtype=np.float64)
    separated = gap < -1e-12
    exact = l1 + np.log1p(-np.exp(np.where(separated, gap, -1.0)))
    with np.errstate(divide="ignore"):
        flat = -0.5 * e * e - LOG_SQRT_2PI + np.log(2.0 * half)
    return np.asarray(np.maximum(np.where(separated, exact, flat), LOG_FLOOR), dtype=np.float64)


def _row_kernels(
    enc: EncodedClaims, theta: FloatArray, right_only: bool
) -> tuple[FloatArray, FloatArray]:
    """log π c f_right and log π (1 − c) f_wrong for every row, shape (R, G).

    ``theta`` is a shared grid (G,) or one grid per claim (n, G).
    """
    per_claim = theta.ndim == 2
    blocks = enc.blocks
    # max |θ| as the larger of max θ and −min θ (no |θ| array to build).
    span = (max(float(np.maximum.reduce(theta, axis=None)),
                -float(np.minimum.reduce(theta, axis=None))) if theta.size else 0.0)
    if len(blocks) == 1:  # one family: the block's rows are all rows, in order
        blk = blocks[0]
        right, wrong = _block_kernels(blk, theta[blk.owner] if per_claim else theta, span,
                                      right_only)
        return right, right if wrong is None else wrong
    n_rows = enc.owner.shape[0]
    right = np.empty((n_rows, theta.shape[-1]))
    wrong_all = right if right_only else np.empty((n_rows, theta.shape[-1]))
    for blk in blocks:
        r, w = _block_kernels(blk, theta[blk.owner] if per_claim else theta, span, right_only)
        right[blk.place] = r
        if w is not None:
            wrong_all[blk.place] = w
    return right, wrong_all


#: Beyond this gap between two logs the smaller adds less than e^−60 ≈ 1e-26 to the larger.
_ADD_GAP = 60.0


def _log_add(a: FloatArray, b: FloatArray) -> FloatArray:
    """log(e^a + e^b) = max(a, b) + log1p(e^−|a − b|), element by element.

    numpy's vectorised exp and log1p on a gap clipped at :data:`_ADD_GAP` (whose exp stays a
    normal double) cost about a fifth of np.logaddexp's element-by-element loop here; the two
    agree to an ulp. Operands are finite (the kernels floor at :data:`LOG_FLOOR`).
    """
    gap = np.subtract(a, b)
    np.abs(gap, out=gap)
    np.minimum(gap, _ADD_GAP, out=gap)
    np.negative(gap, out=gap)
    np.exp(gap, out=gap)
    np.log1p(gap, out=gap)
    gap += np.maximum(a, b)
    return gap


def log_likelihood_rows(enc: EncodedClaims, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """log L_i per claim and the wrong part per *row* on the grid θ (G,).

    For the grid's refinement rounds: the wrong parts are combined over each claim's
    hypotheses once, on the final grid (:meth:`EncodedClaims.per_claim_logsumexp`), not every
    round.

    Returns
    -------
    ell : (n, G) float
        log L_i(θ) = log Σ_k π_k (c_ik f_right + (1 − c_ik) f_wrong).
    log_wrong_rows : (R, G) float
        log π_k (1 − c_ik) f_wrong per row.
    """
    right, wrong = _row_kernels(enc, theta, right_only=False)
    both = _log_add(right, wrong)
    if enc.owner.shape[0] != enc.n:
        both = enc.per_claim_logsumexp(both, finite=True)
    return np.asarray(both, dtype=np.float64), wrong


def log_likelihood_parts(enc: EncodedClaims, theta: FloatArray) -> tuple[FloatArray, FloatArray]:
    """log of the right and wrong parts of each claim's likelihood on the grid θ.

    Parameters
    ----------
    enc : EncodedClaims
        n claims.
    theta : (G,) float
        Grid on the working scale.

    Returns
    -------
    log_right, log_wrong : (n, G) float
        log Σ_k π_k c_ik f_right and log Σ_k π_k (1 − c_ik) f_wrong; their log-sum is log L_i(θ).
    """
    right, wrong = _row_kernels(enc, theta, right_only=False)
    if enc.owner.shape[0] == enc.n:  # one hypothesis per claim: nothing to combine
        return right, wrong
    return enc.per_claim_logsumexp(right), enc.per_claim_logsumexp(wrong)


def log_right_normalised(enc: EncodedClaims, theta: FloatArray) -> FloatArray:
    """log of each claim's *right* likelihood, divided by its maximum over the grid.

    Used to read off where each claim, taken at its word, puts the truth.

    Parameters
    ----------
    enc : EncodedClaims
    theta : (n, G) float
        One grid per claim.

    Returns
    -------
    (n, G) float
    """
    right, _ = _row_kernels(enc, theta, right_only=True)
    if enc.owner.shape[0] != enc.n:
        right = enc.per_claim_logsumexp(right)
    return np.asarray(right - right.max(axis=1, keepdims=True), dtype=np.float64)


def log_likelihood_per_claim(enc: EncodedClaims, theta: FloatArray) -> FloatArray:
    """log L_i at points of its own: ``theta[i, j]`` is evaluated under claim i only.

    Parameters
    ----------
    enc : EncodedClaims
        n claims.
    theta : (n, m) float
        m points per claim on the working scale.

    Returns
    -------
    (n, m) float
        log L_i(θ_ij) = log Σ_k π_k (c_ik f_right + (1 − c_ik) f_wrong).
    """
    right, wrong = _row_kernels(enc, theta, right_only=False)
    both = _log_add(right, wrong)
    if enc.owner.shape[0] != enc.n:
        both = enc.per_claim_logsumexp(both, finite=True)
    return np.asarray(both, dtype=np.float64)
