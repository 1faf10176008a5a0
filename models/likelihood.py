"""Claim likelihoods on a grid of θ, vectorised over claims.

Symbols
-------
θ      : the true value on the working scale (log of the quantity on the log scale).
x_i    : claim i's figure on the working scale; a_i, b_i the ends of a bound or range.
c_k    : probability that a claim is right under credibility hypothesis k.
σ_ik   : spread of a right claim, √((σ_k h_i)² + s_i²) with hedge factor h_i and the claim's own
         standard deviation s_i.
σ_w    : spread of a wrong claim, max(σ_wrong, 2 σ_ik).
β_k    : systematic bias of the source under hypothesis k.

Each claim is read as a statement about the source's perceived value x̃ = θ + β + noise:

* point    : density of x_i,                    f(x_i − θ − β)
* at_least : probability that x̃ ≥ a_i,          1 − F(a_i − θ − β)
* at_most  : probability that x̃ ≤ b_i,          F(b_i − θ − β)
* range    : probability that a_i ≤ x̃ ≤ b_i,    F(b_i − θ − β) − F(a_i − θ − β)

where the noise is the two-part mixture of Hogg, Bovy & Lang (2010), arXiv:1008.4686: with
probability c_k the claim is right and the noise is Normal(0, σ_ik); otherwise it is wrong and the
noise is Cauchy(0, σ_w). Centring the "wrong" part on θ with a Cauchy kernel (rather than on a
fixed background) keeps every likelihood proper, so the posterior never depends on where the
grid stops, while its polynomial tails make the pull of a wild figure fade with its distance.
A bound is thereby the same statement as a point seen through a smoothed step, and a range through
a smoothed box. All sums are done in log space.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy.special import log_ndtr

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

KIND_POINT = 0
KIND_AT_LEAST = 1
KIND_AT_MOST = 2
KIND_RANGE = 3
KIND_CODES = {"point": KIND_POINT, "at_least": KIND_AT_LEAST, "at_most": KIND_AT_MOST,
              "range": KIND_RANGE}

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
_LOG_PI = np.log(np.pi)
#: Standardised distances are clipped here before squaring: z² stays finite (≈ 1e300), and a
#: figure that far away has likelihood e^(−5e299) under the Normal part either way.
Z_MAX = 1e150
#: Lowest log-likelihood a kernel returns: finite, so log-space sums and differences never meet
#: −∞ − (−∞), and still e^LOG_FLOOR = 0 in floating point.
LOG_FLOOR = -1e300


def _bounded(z: FloatArray) -> FloatArray:
    """z clipped to ±Z_MAX (two ufuncs: np.clip's wrapper costs more on small arrays)."""
    return np.asarray(np.maximum(np.minimum(z, Z_MAX), -Z_MAX), dtype=np.float64)


#: Kernel families: a point's density, a bound's one-sided mass, a range's box.
FAMILY_POINT = 0
FAMILY_BOUND = 1
FAMILY_RANGE = 2


@dataclass(frozen=True, slots=True)
class KernelBlock:
    """The rows of one kernel family with what every grid evaluation needs, as (rows, 1) columns.

    Gathered once per claim set (:attr:`EncodedClaims.blocks`) so that an evaluation costs a
    fixed handful of array operations per family (at most three), whatever the number of claims.
    Every kernel depends on θ only through d = ``centre`` − θ:

    * point, centre x − β: right log π c − log σ − log √(2π) − (d/σ)²/2, wrong
      log π(1 − c) − log π − log σ_w − log(1 + (d/σ_w)²);
    * bound, centre e − β for the edge e (a of "at least", b of "at most") and s = +1 or −1
      respectively, u = s d: right log π c + log Φ(−u/σ), wrong log π(1 − c) − log π
      + log atan2(1, u/σ_w) (the same forms as :func:`log_ndtr` of the shift and the Cauchy
      tail written with atan2, so the far tail stays accurate);
    * range, centre (a + b)/2 − β and half-width h = (b − a)/2: the Normal box
      Φ((d + h)/σ) − Φ((d − h)/σ) is even in d, so it is read at −|d| where at most one end
      is positive (as :func:`log_normal_interval` reflects it), and the Cauchy box is
      atan2(2h/σ_w, 1 + (d² − h²)/σ_w²) (arctan hi − arctan lo in one atan2).
    """

    family: int
    rows: IntArray
    owner: IntArray
    centre: FloatArray
    scale_right: FloatArray  # point, range: 1/σ; bound: −s/σ
    scale_wrong: FloatArray  # point, range: 1/σ_w; bound: s/σ_w
    right_const: FloatArray
    wrong_const: FloatArray
    half: FloatArray  # range: h/σ (else unused)
    half_wrong: FloatArray  # range: 2h/σ_w
    cross: FloatArray  # range: 1 − (h/σ_w)²
    reach: float  # max |centre| + h: with max |θ| it bounds |d|
    steep: float  # max 1/σ: |d|·steep bounds every standardised distance
    neg_scale_right: FloatArray  # −scale_right (a range's reflected distance −|d|/σ)
    #: Every wrong constant lies so far above LOG_FLOOR that a finite log of a positive box
    #: (> −745) cannot reach it: the floor is then a no-op.
    wrong_floor_free: bool
    #: ``rows`` as a slice when they are consecutive (a copy into a slice, not a scatter).
    place: IntArray | slice

    def clip_needed(self, span: float) -> bool:
        """Whether some standardised distance may exceed Z_MAX/2 on a grid within ±``span``
        (then the kernels clip it)."""
        return (span + self.reach) * self.steep > 0.5 * Z_MAX


def _blocks(enc: EncodedClaims) -> tuple[KernelBlock, ...]:
    # Every row's constants are computed at once, in rows sorted by family (stably, so each
    # family's rows stay in order): each block is then a slice, not a gather per array.
    rows_kind = enc.kind[enc.owner]
    family_of = _FAMILY_OF_KIND[rows_kind]
    order = np.argsort(family_of, kind="stable")
    fam = family_of[order]
    kind = rows_kind[order]
    own = enc.owner[order]
    a, b, bias = enc.a[own], enc.b[own], enc.bias[order]
    sig, sig_w = enc.sigma[order], enc.sigma_w[order]
    log_pi = enc.log_pi[order]
    point = fam == FAMILY_POINT
    bound = fam == FAMILY_BOUND
    ranged = fam == FAMILY_RANGE
    lower = kind == KIND_AT_LEAST
    sign = np.where(lower, 1.0, -1.0)
    with np.errstate(invalid="ignore"):  # a bound's open end: ±inf, discarded below
        middle = 0.5 * (a + b)
        half = np.where(ranged, 0.5 * (b - a), 0.0)
    centre = np.where(point, a, np.where(ranged, middle, np.where(lower, a, b))) - bias
    inv_sig, inv_sig_w = 1.0 / sig, 1.0 / sig_w
    scale_right = np.where(bound, -sign / sig, inv_sig)
    scale_wrong = np.where(bound, sign / sig_w, inv_sig_w)
    log_right = log_pi + enc.log_c[order]
    log_wrong = log_pi + enc.log_1mc[order] - _LOG_PI
    log_right = np.where(point, log_right - np.log(sig) - _LOG_SQRT_2PI, log_right)
    log_wrong = np.where(point, log_wrong - np.log(sig_w), log_wrong)
    half_sig, half_wrong = half / sig, 2.0 * half / sig_w
    cross = 1.0 - (half / sig_w) ** 2
    reach = np.abs(centre) + half
    bounds = fam.searchsorted([FAMILY_POINT, FAMILY_BOUND, FAMILY_RANGE, FAMILY_RANGE + 1])
    spans = [(family, lo, hi) for family, lo, hi in zip(
        (FAMILY_POINT, FAMILY_BOUND, FAMILY_RANGE), bounds[:-1].tolist(), bounds[1:].tolist(),
        strict=True) if lo < hi]
    # Every block's columns are slices of one (9, R, 1) array, and their extremes one
    # reduceat each (over consecutive blocks: the families' rows are sorted together).
    cols = np.array([centre, scale_right, scale_wrong, log_right, log_wrong, half_sig,
                     half_wrong, cross, -scale_right])[:, :, None]
    firsts = [lo for _, lo, _ in spans]
    reach_top = np.maximum.reduceat(reach, firsts).tolist()
    steep_top = np.maximum.reduceat(inv_sig, firsts).tolist()
    wrong_low = np.minimum.reduceat(log_wrong, firsts).tolist()
    out = []
    for k, (family, lo, hi) in enumerate(spans):
        part = slice(lo, hi)
        rows = order[part]
        c = cols[:, part]
        first, last = int(rows[0]), int(rows[-1])
        out.append(KernelBlock(
            family, rows, own[part], c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
            reach_top[k], steep_top[k], c[8], wrong_low[k] > 0.5 * LOG_FLOOR,
            slice(first, last + 1) if last - first == hi - lo - 1 else rows,
        ))
    return tuple(out)


#: The kernel family of each claim kind (indexed by the KIND_* codes).
_FAMILY_OF_KIND = np.array([FAMILY_POINT, FAMILY_BOUND, FAMILY_BOUND, FAMILY_RANGE])


@dataclass(frozen=True)
class EncodedClaims:
    """Claims on the working scale, flattened to one row per (claim, credibility hypothesis).

    A graded source has one hypothesis per claim, an unjudged one five, so the rows of claim i
    are ``starts[i] : starts[i + 1]`` (contiguous, in claim order).

    Attributes
    ----------
    kind : (n,) int
        KIND_* codes, per claim.
    a, b : (n,) float
        Point: a = b = x_i. Bounds and ranges: the interval [a_i, b_i] on the perceived value
        (±inf on the open side). Per claim.
    owner : (R,) int
        Claim index of each row (non-decreasing).
    starts : (n,) int
        First row of each claim.
    log_pi : (R,) float
        log π_k of the row's hypothesis.
    log_c, log_1mc : (R,) float
        log c_ik and log(1 − c_ik) after the hedge.
    sigma, sigma_w : (R,) float
        σ_ik and σ_w,ik.
    bias : (R,) float
        β_k.
    """

    kind: IntArray
    a: FloatArray
    b: FloatArray
    owner: IntArray
    starts: IntArray
    log_pi: FloatArray
    log_c: FloatArray
    log_1mc: FloatArray
    sigma: FloatArray
    sigma_w: FloatArray
    bias: FloatArray

    @property
    def n(self) -> int:
        return int(self.kind.shape[0])

    def subset(self, claims: IntArray) -> EncodedClaims:
        """The claims ``claims`` (increasing indices) with all their rows."""
        keep = np.isin(self.owner, claims)
        renumber = np.full(self.n, -1, dtype=np.int64)
        renumber[claims] = np.arange(claims.shape[0])
        owner = renumber[self.owner[keep]]
        starts = np.flatnonzero(np.append(True, owner[1:] != owner[:-1])).astype(np.int64)
        return EncodedClaims(
            self.kind[claims], self.a[claims], self.b[claims], owner, starts,
            self.log_pi[keep], self.log_c[keep], self.log_1mc[keep], self.sigma[keep],
            self.sigma_w[keep], self.bias[keep],
        )

    @cached_property
    def blocks(self) -> tuple[KernelBlock, ...]:
        """Rows split by kernel family (at most three blocks; :class:`KernelBlock`)."""
        return _blocks(self)

    def per_claim_max(self, row_values: FloatArray) -> FloatArray:
        """Maximum of a per-row quantity over each claim's rows."""
        return np.asarray(np.maximum.reduceat(row_values, self.starts), dtype=np.float64)

    def per_claim_mean(self, row_values: FloatArray) -> FloatArray:
        """π-weighted mean of a per-row quantity over each claim's rows."""
        return np.asarray(
            np.add.reduceat(np.exp(self.log_pi) * row_values, self.starts), dtype=np.float64
        )

    @cached_property
    def right_share(self) -> FloatArray:
        """(R,) float: ω per row, π_k c_ik normalised over each claim's rows (read-only)."""
        log_w = self.log_pi + self.log_c
        share = np.exp(log_w - np.repeat(self.per_claim_logsumexp(log_w), self.counts))
        share.flags.writeable = False
        return np.asarray(share, dtype=np.float64)

    @cached_property
    def right_moments(self) -> tuple[FloatArray, FloatArray]:
        """Mean and variance of each claim's right-part error e, (n,) each (read-only).

        E[e] = Σ_k ω_k β_k and Var[e] = Σ_k ω_k (σ_ik² + β_k²) − E[e]², with ω
        :attr:`right_share`. Kept with the claims: the plausible sets and the heterogeneity
        of one answer both read them.
        """
        w = self.right_share
        mean = np.add.reduceat(w * self.bias, self.starts)
        var = np.maximum(np.add.reduceat(w * (self.sigma**2 + self.bias**2), self.starts)
                         - mean**2, 0.0)
        mean.flags.writeable = False
        var.flags.writeable = False
        return np.asarray(mean, dtype=np.float64), np.asarray(var, dtype=np.float64)

    @cached_property
    def counts(self) -> IntArray:
        """(n,) int: rows (credibility hypotheses) of each claim."""
        ends = np.concatenate([self.starts[1:], [self.owner.shape[0]]])
        return np.asarray(ends - self.starts, dtype=np.int64)

    @cached_property
    def single(self) -> NDArray[np.bool_]:
        """(n,) bool: claims with one credibility hypothesis (one row)."""
        return np.asarray(self.counts == 1)

    @cached_property
    def _multi(self) -> tuple[IntArray, IntArray | slice, IntArray, IntArray, int]:
        """Claims with several hypotheses: (claims, their rows, local starts, rows per claim,
        and that number when every such claim has the same, else 0). The rows are a slice when
        they are consecutive (a view, not a gather)."""
        counts = self.counts
        multi = (counts > 1).nonzero()[0]
        rows = (counts[self.owner] > 1).nonzero()[0]
        own = self.owner[rows]
        local = (np.concatenate([[True], own[1:] != own[:-1]]).nonzero()[0] if rows.size
                 else rows)
        per = counts[multi]
        same = int(per[0]) if per.size and per.min() == per.max() else 0
        if rows.size and int(rows[-1]) - int(rows[0]) == rows.size - 1:
            return multi, slice(int(rows[0]), int(rows[-1]) + 1), local, per, same
        return multi, rows, local, per, same

    def per_claim_logsumexp(self, row_values: FloatArray, finite: bool = False) -> FloatArray:
        """log Σ exp over each claim's rows, along the first axis (``finite``: every value is
        known finite, as the kernels' are, so no row maximum needs guarding)."""
        out = row_values[self.starts]
        multi, rows, local, counts, same = self._multi
        if multi.size == 0:
            return np.asarray(out, dtype=np.float64)
        # Only claims with several hypotheses need combining; max-shifted sums are several
        # times faster than np.logaddexp.reduceat on 2-D input.
        block = row_values[rows]
        if same:
            # Every such claim has k hypotheses (unjudged sources: five): a (claims, k, …)
            # view reduces along its middle axis, cheaper than reduceat along the first.
            block = block.reshape((multi.shape[0], same) + row_values.shape[1:])
            peak = np.maximum.reduce(block, axis=1)
            safe = peak if finite else np.where(np.isfinite(peak), peak, 0.0)
            block = block - safe[:, None]
            np.exp(block, out=block)
            summed = np.log(np.add.reduce(block, axis=1))
        else:
            peak = np.maximum.reduceat(block, local, axis=0)
            safe = np.where(np.isfinite(peak), peak, 0.0)
            summed = np.log(np.add.reduceat(np.exp(block - np.repeat(safe, counts, axis=0)),
                                            local, axis=0))
        out[multi] = summed + safe
        return np.asarray(out, dtype=np.float64)


def log_normal_interval(
    lo: FloatArray, hi: FloatArray, floor: float = LOG_FLOOR
) -> FloatArray:
    """log(Φ(hi) − Φ(lo)) for lo ≤ hi (either end may be infinite, not both), both tails accurate.

    In the upper tail the survival form Φ(−lo) − Φ(−hi) avoids cancellation near 1; the
    difference is then l₁ + log(1 − e^{l₂ − l₁}) with l₂ ≤ l₁, never a difference of logs.
    Far out in a tail the two logs can round to the same number although the interval has
    mass; there the mass is φ(mid)·(hi − lo) to first order (the density is nearly flat across
    so narrow an interval, relative to its distance), and the result never falls below
    ``floor``. An empty interval (lo = hi) gets ``floor``.

    Shared by the single-question grid (:func:`log_likelihood_parts`), the track record and
    the batch model (:mod:`models.batch.kernels`), which floors at −700 instead.

    Parameters
    ----------
    lo, hi : float arrays
        Standardised ends (broadcast against each other).
    floor : float
        Least value returned; the default :data:`LOG_FLOOR` is finite yet e^floor = 0.

    Returns
    -------
    float array
        log(Φ(hi) − Φ(lo)), at least ``floor``.
    """
    lo = _bounded(lo)
    hi = _bounded(hi)
    upper = (lo + hi) > 0
    l1 = log_ndtr(np.where(upper, -lo, hi))
    l2 = log_ndtr(np.where(upper, -hi, lo))
    with np.errstate(invalid="ignore"):
        gap = l2 - l1  # nan when both ends lie beyond log_ndtr's range
    separated = gap < -1e-12
    exact = l1 + np.log1p(-np.exp(np.where(separated, gap, -1.0)))
    if separated.all():
        # With ends within ±Z_MAX, exact ≥ log Φ(−Z_MAX) − 28 > LOG_FLOOR: only a higher
        # floor can bind.
        if floor > LOG_FLOOR:
            exact = np.maximum(exact, floor)
        return np.asarray(exact, dtype=np.float64)
    mid = 0.5 * lo + 0.5 * hi
    with np.errstate(divide="ignore"):
        width = np.log(hi - lo)
    flat = -0.5 * mid * mid - _LOG_SQRT_2PI + width
    return np.asarray(np.maximum(np.where(separated, exact, flat), floor), dtype=np.float64)


def _log_cauchy_finite(lo: FloatArray, hi: FloatArray) -> FloatArray:
    """log P(lo ≤ X ≤ hi) for standard Cauchy X and finite lo < hi (the likelihood's case).

    Ends are clipped to ±Z_MAX so that lo·hi stays finite; the floor keeps an interval whose
    mass underflows finite in log space.
    """
    lo = _bounded(lo)
    hi = _bounded(hi)
    with np.errstate(divide="ignore"):
        log_p = np.log(np.arctan2(hi - lo, 1.0 + lo * hi))
    return np.asarray(np.maximum(log_p - _LOG_PI, LOG_FLOOR), dtype=np.float64)


#: Standardised ends beyond which the Cauchy interval mass avoids products of the ends.
_BIG_END: Final = 1e150


def log_cauchy_interval(
    lo: FloatArray, hi: FloatArray, floor: float = -np.inf
) -> FloatArray:
    """log P(lo ≤ X ≤ hi) for standard Cauchy X (open ends as ±inf).

    arctan(hi) − arctan(lo) = atan2(hi − lo, 1 + lo·hi) has no cancellation in either tail.
    Shared by the track record and the batch model (:mod:`models.batch.kernels`).

    Parameters
    ----------
    lo, hi : float arrays
        Standardised ends, lo ≤ hi (broadcast against each other).
    floor : float
        Least value returned (default none: an empty interval gives −inf).

    Returns
    -------
    float array
        log((arctan hi − arctan lo)/π), at least ``floor``.
    """
    lo_f = np.where(np.isfinite(lo), lo, 0.0)
    hi_f = np.where(np.isfinite(hi), hi, 0.0)
    # Infinite ends are zeroed (NaN kept) so that 0·inf cannot warn; their rows use the
    # one-sided forms below.
    lo_i = np.where(np.isinf(lo), 0.0, lo)
    hi_i = np.where(np.isinf(hi), 0.0, hi)
    # arctan hi − arctan lo as one atan2 (accurate for narrow intervals), except where the
    # product or the difference would overflow: there the ends are far from 0, and with one
    # sign arctan(1/lo) − arctan(1/hi) is the same difference without cancellation.
    big = (np.abs(lo_i) > _BIG_END) | (np.abs(hi_i) > _BIG_END)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        inner = np.arctan2(hi_i - lo_i, 1.0 + lo_i * hi_i)
        if big.any():  # rare: the far form is computed only when some end needs it
            far_form = np.where(
                lo_i * hi_i > 0.0, np.arctan(1.0 / lo_i) - np.arctan(1.0 / hi_i),
                np.arctan(hi_i) - np.arctan(lo_i),
            )
            inner = np.where(big, far_form, inner)
    # One open end: P = 1/2 ± arctan(.)/π, written with atan2 so the far tail stays accurate.
    only_lo = np.arctan2(1.0, lo_f)  # P(X ≥ lo)·π
    only_hi = np.arctan2(1.0, -hi_f)  # P(X ≤ hi)·π
    prob_pi = np.where(
        np.isinf(lo) & np.isinf(hi), np.pi,
        np.where(np.isinf(hi), only_lo, np.where(np.isinf(lo), only_hi, inner)),
    )
    with np.errstate(divide="ignore"):
        log_p = np.log(np.maximum(prob_pi, 0.0)) - _LOG_PI
    return np.asarray(np.maximum(log_p, floor), dtype=np.float64)


def log_normal_point(z: FloatArray, sigma: FloatArray) -> FloatArray:
    """log of a right point's density, −z²/2 − log √(2π) − log σ, at z = (x − θ − β)/σ.

    The right part of the mixture (module docstring) for a point; shared by the grid's kernels
    and the track record (:mod:`models.track_record`), which reads residuals against known
    truths. ``z`` is clipped by the caller where it may overflow when squared.
    """
    return np.asarray(-0.5 * z * z - _LOG_SQRT_2PI - np.log(sigma), dtype=np.float64)


def log_cauchy_point(z: FloatArray, sigma_w: FloatArray) -> FloatArray:
    """log of a wrong point's density, −log π − log σ_w − log(1 + z²), at z = (x − centre)/σ_w.

    The wrong part of the mixture for a point, shared as :func:`log_normal_point` is.
    """
    return np.asarray(-_LOG_PI - np.log(sigma_w) - np.log1p(z * z), dtype=np.float64)


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
                zw = _bounded(zw)
            np.multiply(zw, zw, out=zw)
            np.log1p(zw, out=zw)
            wrong = np.subtract(blk.wrong_const, zw, out=zw)
        z = np.multiply(d, blk.scale_right, out=d)
        if clip:
            z = _bounded(z)
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
            z = _bounded(z)
        right = log_ndtr(z, out=z)
        right += blk.right_const
    else:
        if not right_only:
            dw = d * blk.scale_wrong
            if clip:
                dw = _bounded(dw)
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
    """log(Φ(e + h) − Φ(e − h)) for e ≤ 0 and h > 0: :func:`log_normal_interval` on its
    reflected ends (at most the upper one positive), with the same floor and flat fallback.
    Returns a new array (``e`` is kept)."""
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
        flat = -0.5 * e * e - _LOG_SQRT_2PI + np.log(2.0 * half)
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
