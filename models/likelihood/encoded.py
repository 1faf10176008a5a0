"""A claim set as the likelihood reads it: one row per (claim, credibility hypothesis).

:class:`EncodedClaims` holds every row's log prior weight, log odds, spreads and bias, and the
per-claim reductions over a claim's rows (its hypotheses); :class:`KernelBlock` groups the rows
by kernel family (a point's density, a bound's one-sided mass, a range's box) with the columns a
grid evaluation needs, computed once per claim set. The kernels themselves are evaluated in
:mod:`models.likelihood.kernels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from models.likelihood.common import (
    KIND_AT_LEAST,
    LOG_FLOOR,
    LOG_PI,
    LOG_SQRT_2PI,
    Z_MAX,
    FloatArray,
    IntArray,
)

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
      is positive (as :func:`~models.likelihood.densities.log_normal_interval` reflects it),
      and the Cauchy box is atan2(2h/σ_w, 1 + (d² − h²)/σ_w²) (arctan hi − arctan lo in one
      atan2).
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
    log_wrong = log_pi + enc.log_1mc[order] - LOG_PI
    log_right = np.where(point, log_right - np.log(sig) - LOG_SQRT_2PI, log_right)
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
