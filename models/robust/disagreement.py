"""How the claims disagree: each claim's plausible set, the conflicts and the clusters they make,
and the posterior's separated modes.

Conflicts. Taken at its word (its right part only), claim i makes θ plausible where its
normalised likelihood is at least t = exp(−2); for two Gaussian claims this means within
2(σ_i + σ_j) of each other. Two claims conflict when their plausible sets do not meet; clusters are
the maximal groups of claims that can all be right at once.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import find_peaks

from models.likelihood import KIND_POINT, EncodedClaims, FloatArray, IntArray
from models.mixture_stats import interval_plausible, point_plausible
from models.quadrature import hermite_cdf


def plausible_sets(enc: EncodedClaims, compatibility: float) -> FloatArray:
    """[low, high] of each claim's plausible set at threshold t = ``compatibility``
    (±inf when open).

    Closed forms for single-hypothesis points (x − β ± σ√(2 log 1/t)); central quantiles
    for points of unjudged (mixture) sources (:func:`models.mixture_stats.point_plausible`);
    for bounds and ranges the level set of the matched Normal
    (:func:`models.mixture_stats.interval_plausible`), which for one hypothesis is the
    claim's own level set exactly: L − β + σΦ⁻¹(t), U − β − σΦ⁻¹(t), and a range's ends
    solved to machine precision.
    """
    low, high = interval_plausible(enc, compatibility)
    points = enc.kind == KIND_POINT
    if points.any():
        first = enc.starts
        half = enc.sigma[first] * math.sqrt(-2.0 * math.log(compatibility))
        centre = enc.a - enc.bias[first]
        low = np.where(points, centre - half, low)
        high = np.where(points, centre + half, high)
        # A mixture's density peak is its sharpest hypothesis': mixture points get the
        # central interval of the Gaussian set's probability instead (models.mixture_stats).
        mixed = (points & ~enc.single).nonzero()[0]
        if mixed.size:
            low[mixed], high[mixed] = point_plausible(enc, compatibility, mixed)
    return np.stack([low, high], axis=1)


def count_modes(theta: FloatArray, density: FloatArray) -> int:
    """Separated modes of the posterior ``density`` on ``theta``: peaks of prominence at least a
    tenth of the maximum whose basins hold 5 % of the mass or more (at least 1)."""
    padded = np.concatenate([[0.0], density, [0.0]])
    # Local maxima (plateaus included) are where the non-zero steps turn from rising to
    # falling: with at most one, find_peaks cannot find two modes.
    steps = padded[1:] - padded[:-1]
    rising = steps[steps != 0.0] > 0.0
    if np.count_nonzero(rising[:-1] & ~rising[1:]) <= 1:
        return 1
    peaks, _ = find_peaks(padded, prominence=0.1 * float(density.max()))
    if peaks.size <= 1:
        return max(1, int(peaks.size))
    # A mode counts when the mass of its basin (between neighbouring valleys) is ≥ 5 %.
    cdf = hermite_cdf(theta, density)[2]
    cdf = cdf / cdf[-1]
    idx = peaks - 1
    valleys = [0]
    for left, right in zip(idx[:-1], idx[1:], strict=True):
        valleys.append(int(left + np.argmin(density[left : right + 1])))
    valleys.append(theta.shape[0] - 1)
    masses = np.diff(cdf[valleys])
    return max(1, int(np.sum(masses >= 0.05)))


def conflicts_and_clusters(
    plausible: FloatArray, units: IntArray
) -> tuple[list[tuple[int, int]], list[list[int]]]:
    """Pairs of claims whose plausible sets do not meet, and the groups that can all be right.

    Parameters
    ----------
    plausible : (n, 2) float
        [low, high] per claim.
    units : (n,) int
        Evidence units; claims of one unit are never reported against each other.

    Returns
    -------
    conflicts : list of (i, j) with i < j
    clusters : list of lists of claim indices, largest first
        The maximal groups of claims whose plausible sets share a common value, i.e. claims that
        can all be right at once. A claim (a loose bound, say) may sit in several groups.

    Notes
    -----
    On a line, sets that meet pairwise share a common point (Helly's theorem in one dimension),
    so the maximal groups are the sets of intervals open just before some interval closes: one
    sweep over the sorted end points finds them.
    """
    # Starts sort before ends at equal positions, so touching sets count as meeting.
    ends = plausible.tolist()
    events = sorted([(low, 0, i) for i, (low, _) in enumerate(ends)]
                    + [(high, 1, i) for i, (_, high) in enumerate(ends)])
    active: set[int] = set()
    grew = False
    clusters: list[list[int]] = []
    for _, is_end, i in events:
        if not is_end:
            active.add(i)
            grew = True
            continue
        if grew:
            clusters.append(sorted(active))
            grew = False
        active.discard(i)
    clusters.sort(key=lambda c: (-len(c), c[0]))
    lo = plausible[:, 0]
    hi = plausible[:, 1]
    apart = (lo[:, None] > hi[None, :]) | (lo[None, :] > hi[:, None])
    apart &= units[:, None] != units[None, :]
    # The pairs above the diagonal, row by row (as np.triu's non-zeros, without its mask).
    ii, jj = np.nonzero(apart)
    upper = ii < jj
    return list(zip(ii[upper].tolist(), jj[upper].tolist(), strict=True)), clusters
