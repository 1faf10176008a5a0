"""Summaries of a claim's *right* part, also when its source is a mixture of hypotheses.

Symbols
-------
ω_ik : weight of hypothesis k in claim i's right part, ∝ π_k c_ik (normalised over k).
β_k, σ_ik : bias and spread of hypothesis k (``EncodedClaims.bias``, ``.sigma``).
t    : the compatibility threshold of the plausible sets (exp(−2) by default).

Taken at its word, claim i's perceived value is x̃ = θ + β + e with e from its right part, the
scale mixture Σ_k ω_ik N(β_k, σ_ik²) when its source's grade is unknown (the A–E mixture) or
learned as a mixture. A level set of that density is the wrong notion of "plausible" for a
mixture: the sharp A component dominates the peak, so the set where the density is at least t
times its peak came out *narrower* than a C claim's, although "cannot be judged" means more
uncertainty (project issue 13, point 9). The plausible set of a point claim is therefore the
central interval that holds the same probability as the Gaussian set, 1 − 2Φ(−√(2 log 1/t))
(95.4 % at t = exp(−2)); for one Normal component the two definitions coincide. A bound or a
range of such a source is read through the Normal with its right part's mean and variance
(:func:`interval_plausible`): the mixture's own level set, Σ_k ω_k Φ(…) ≥ t, is again led by
the sharp hypotheses and came out narrower than a C source's (0.30 against 0.39 log units
beyond "at most 2,000"); the matched Normal's variance carries the wide hypotheses' weight, so
an unjudged source's bound reaches further than a C one's and less far than an E one's.

Heterogeneity. :func:`i2_tau2` is metafor's τ²-based I² (Higgins & Thompson 2002),
I² = τ² / (τ² + s²), with the DerSimonian–Laird τ² and the "typical" within-claim variance
s² = (k − 1) Σw / ((Σw)² − Σw²), w_i = 1/v_i.

References
----------
Higgins, J. P. T. & Thompson, S. G. (2002). Quantifying heterogeneity in a meta-analysis.
Statistics in Medicine 21(11), 1539-1558. doi:10.1002/sim.1186.
DerSimonian, R. & Laird, N. (1986). Meta-analysis in clinical trials. Controlled Clinical
Trials 7(3), 177-188. doi:10.1016/0197-2456(86)90046-2.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy.special import ndtr, ndtri

from models.likelihood import (
    KIND_AT_LEAST,
    KIND_AT_MOST,
    KIND_RANGE,
    EncodedClaims,
    FloatArray,
    IntArray,
)

_SQRT_2PI = math.sqrt(2.0 * math.pi)

#: Most steps of the safeguarded Newton solver (:func:`solve_increasing`): a bisection step
#: whenever Newton leaves the bracket, so 60 steps reach 2⁻⁶⁰ of it at worst; in practice
#: Newton converges in about five.
QUANTILE_STEPS = 60

#: A root is taken once a step moves it by at most this share of max(|x|, 1). After a Newton
#: step that small the iterate's error is of the order of its square, and a bisection step that
#: small bounds the error by itself. Not tighter: f is a sum of rounded Φ terms, so near the
#: root its value is noise of about 1e-16 and the Newton steps cycle at a few 1e-15 (divided
#: by a slope of a few hundredths) without ever meeting a tolerance of 1e-15.
QUANTILE_TOL = 1e-12

#: Up to this many ranges :func:`range_reach` solves each on Python floats (same steps).
FEW_RANGES = 8

#: Up to this many roots :func:`solve_increasing` keeps its brackets on Python floats.
FEW_ROOTS = 16


def solve_increasing(
    fn: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
    lo: FloatArray, hi: FloatArray, start: FloatArray,
) -> FloatArray:
    """Roots of increasing functions, one per element, by Newton steps kept in a bracket.

    ``fn(x)`` returns f(x) and f'(x) elementwise; f(lo) ≤ 0 ≤ f(hi). A Newton step that leaves
    the current bracket (or meets f' ≤ 0) is replaced by bisection, so the iteration never does
    worse than bisection (Press et al. 2007, *Numerical Recipes*, 3rd ed., §9.4, rtsafe).
    Stops when every step is within :data:`QUANTILE_TOL` of its point, or after
    :data:`QUANTILE_STEPS` steps.
    """
    lo, hi = lo.copy(), hi.copy()
    x = np.minimum(np.maximum(start, lo), hi)  # np.clip's wrapper costs more
    if x.shape[0] <= FEW_ROOTS:
        return _solve_few(fn, lo.tolist(), hi.tolist(), x)
    for _ in range(QUANTILE_STEPS):
        value, slope = fn(x)
        below = value < 0.0
        lo = np.where(below, x, lo)
        hi = np.where(below, hi, x)
        with np.errstate(divide="ignore", invalid="ignore"):
            newton = x - value / slope
        ok = (slope > 0.0) & (newton >= lo) & (newton <= hi)
        new = np.where(ok, newton, 0.5 * (lo + hi))
        done = np.abs(new - x) <= QUANTILE_TOL * np.maximum(np.abs(x), 1.0)
        x = new
        if done.all() or (value == 0.0).all():
            break
    return np.asarray(x, dtype=np.float64)


def _solve_few(
    fn: Callable[[FloatArray], tuple[FloatArray, FloatArray]],
    lo: list[float], hi: list[float], x: FloatArray,
) -> FloatArray:
    """:func:`solve_increasing`'s steps on Python floats, ``fn`` still evaluated on arrays.

    The same IEEE operations in the same order on each root, so the same roots to the bit;
    with a handful of roots each numpy step of the bracket's bookkeeping costs a microsecond
    or so for a few numbers (about 15 of them per step)."""
    xs: list[float] = x.tolist()
    for _ in range(QUANTILE_STEPS):
        value, slope = fn(x)
        values: list[float] = value.tolist()
        done = True
        for j, (v, s, at) in enumerate(zip(values, slope.tolist(), xs, strict=True)):
            xs[j], lo[j], hi[j], settled = _step(at, v, s, lo[j], hi[j])
            done = done and settled
        x = np.array(xs, dtype=np.float64)
        if done or all(v == 0.0 for v in values):
            break
    return x


def _step(at: float, value: float, slope: float, lo: float, hi: float
          ) -> tuple[float, float, float, bool]:
    """One step of :func:`solve_increasing` for one root on Python floats: the bracket
    [``lo``, ``hi``] narrowed at ``at`` by the sign of f, then Newton's point if it stays inside
    (and f' > 0), else the bracket's midpoint. Returns the new point, the bracket and whether
    the step was within :data:`QUANTILE_TOL`."""
    if value < 0.0:
        lo = at
    else:
        hi = at
    newton = at - value / slope if slope > 0.0 else math.nan
    new = newton if lo <= newton <= hi else 0.5 * (lo + hi)
    return new, lo, hi, abs(new - at) <= QUANTILE_TOL * max(abs(at), 1.0)


def point_plausible(enc: EncodedClaims, compatibility: float, claims: IntArray | None = None
                    ) -> tuple[FloatArray, FloatArray]:
    """[low, high] of each (point) claim's plausible set: x − the central quantiles of e.

    The quantiles of the mixture Σ_k ω_k N(β_k, σ_ik²) solve Σ_k ω_k Φ((q − β_k)/σ_ik) = p by
    :func:`solve_increasing`, both tails at once, from the matched Normal's quantiles.

    Parameters
    ----------
    enc : EncodedClaims
        The claims (those solved for must be points).
    compatibility : float
        t in (0, 1); the tail probability each side is Φ(−√(2 log 1/t)).
    claims : (m,) int, optional
        Increasing indices of the claims to solve for (default: all). Their rows are read in
        place: the claim set's own ω and moments (:attr:`EncodedClaims.right_share`,
        ``right_moments``, computed once per answer) serve, where a subset would build and
        compute them again; each claim's values are the same either way.

    Returns
    -------
    low, high : (m,) float
    """
    tail = float(ndtr(-math.sqrt(-2.0 * math.log(compatibility))))
    mean, var = enc.right_moments
    w = enc.right_share
    bias, sigma = enc.bias, enc.sigma
    if claims is None:
        n, a, counts, first = enc.n, enc.a, enc.counts, enc.starts
    elif claims.size == 0:
        return np.empty(0), np.empty(0)
    else:
        n, a, counts = claims.shape[0], enc.a[claims], enc.counts[claims]
        mean, var = mean[claims], var[claims]
        # The claims' rows, in order: each claim's first row and the ones after it.
        ends = np.cumsum(counts)
        first = ends - counts
        rows = np.repeat(enc.starts[claims] - first, counts) + np.arange(ends[-1])
        bias, sigma, w = bias[rows], sigma[rows], w[rows]
    reach = 12.0 * np.maximum.reduceat(sigma, first)
    lo_b = np.minimum.reduceat(bias, first) - reach
    hi_b = np.maximum.reduceat(bias, first) + reach
    z = float(ndtri(1.0 - tail))
    # Rows: the upper quantiles (1 − tail) of every claim, then the lower ones (tail).
    target = np.repeat([1.0 - tail, tail], n)
    # Both tails at once: every row twice (concatenate, not np.tile, whose wrapper costs
    # several times more on a few numbers).
    bias, sigma, weight = (np.concatenate([v, v]) for v in (bias, sigma, w))
    starts = np.concatenate([first, first + bias.shape[0] // 2])
    reps = np.concatenate([counts, counts])

    def cdf(q: FloatArray) -> tuple[FloatArray, FloatArray]:
        u = (np.repeat(q, reps) - bias) / sigma
        value = np.add.reduceat(weight * ndtr(u), starts) - target
        slope = np.add.reduceat(weight * np.exp(-0.5 * u * u) / sigma, starts) / _SQRT_2PI
        return value, slope

    sd = np.sqrt(np.maximum(var, 0.0))
    found = solve_increasing(cdf, np.concatenate([lo_b, lo_b]), np.concatenate([hi_b, hi_b]),
                             np.concatenate([mean + z * sd, mean - z * sd]))
    return a - found[:n], a - found[n:]


def range_reach(half: FloatArray, compatibility: float) -> FloatArray:
    """|z| where a range of half-width ``half`` (in sds) is read plausible down to t:
    Φ(z + w) − Φ(z − w) = t (2Φ(w) − 1), solved for z ≥ 0 (the left side falls in |z|)."""
    q = float(ndtri(compatibility))
    floor = math.sqrt(-2.0 * math.log(compatibility))
    target = compatibility * (2.0 * ndtr(half) - 1.0)

    def falls(z: FloatArray) -> tuple[FloatArray, FloatArray]:
        # The negated box mass minus its target increases in z ≥ 0.
        value = target - (ndtr(z + half) - ndtr(z - half))
        slope = (np.exp(-0.5 * (z - half) ** 2) - np.exp(-0.5 * (z + half) ** 2)) / _SQRT_2PI
        return value, slope

    # |z| ≤ w − Φ⁻¹(t) for a wide range and ≤ √(2 log 1/t) for a narrow one; the start is the
    # larger of the two limits' own answers, w − Φ⁻¹(t) and √(2 log 1/t).
    hi = half + max(-q, floor) + 1.0
    start = np.maximum(half - q, floor)
    if half.shape[0] <= FEW_RANGES:
        # The same safeguarded Newton steps on Python floats: on a handful of ranges each numpy
        # step costs a microsecond or so of overhead for one number.
        return np.array([_reach_one(w, t, h, s) for w, t, h, s in zip(
            half.tolist(), target.tolist(), hi.tolist(), start.tolist(), strict=True)],
            dtype=np.float64)
    return solve_increasing(falls, np.zeros_like(half), hi, start)


def _reach_one(half: float, target: float, hi: float, x: float) -> float:
    """:func:`range_reach` of one range by the steps of :func:`solve_increasing` (bracket
    [0, ``hi``], start ``x``)."""
    lo = 0.0
    x = min(max(x, lo), hi)
    for _ in range(QUANTILE_STEPS):
        value = target - (float(ndtr(x + half)) - float(ndtr(x - half)))
        # numpy's exp, not math.exp: they differ in the last bit, which a narrow range's
        # cancellation would amplify (the answers would no longer match the array solver's).
        near, far = np.exp(np.array([-0.5 * ((x - half) * (x - half)),
                                     -0.5 * ((x + half) * (x + half))])).tolist()
        slope = (near - far) / _SQRT_2PI
        x, lo, hi, done = _step(x, value, slope, lo, hi)
        if done or value == 0.0:
            break
    return x


def interval_plausible(enc: EncodedClaims, compatibility: float) -> tuple[FloatArray, FloatArray]:
    """[low, high] of each bound's or range's plausible set, through the matched Normal.

    With m, s² the mean and variance of the claim's right-part error (:func:`right_moments`),
    the claim's normalised likelihood is read as that of one Normal hypothesis: for "at least
    L", Φ((θ + m − L)/s) ≥ t, so θ ≥ L − m + s Φ⁻¹(t); for "at most U", θ ≤ U − m − s Φ⁻¹(t);
    for a range [L, U] of half-width w, [Φ(z + w/s) − Φ(z − w/s)] / [2Φ(w/s) − 1] ≥ t with
    z = (θ + m − (L + U)/2)/s, solved for |z| by :func:`range_reach` (the left side falls in
    |z|). For one hypothesis (m = β, s = σ) this is the claim's exact level set.

    Parameters
    ----------
    enc : EncodedClaims
        Bounds and ranges only.
    compatibility : float
        t in (0, 1).

    Returns
    -------
    low, high : (n,) float
        ±inf on a bound's open side.
    """
    mean, var = enc.right_moments
    sd = np.sqrt(np.maximum(var, 1e-300))
    q = float(ndtri(compatibility))
    low = np.where(enc.kind == KIND_AT_LEAST, enc.a - mean + sd * q, -np.inf)
    high = np.where(enc.kind == KIND_AT_MOST, enc.b - mean - sd * q, np.inf)
    ranges = (enc.kind == KIND_RANGE).nonzero()[0]
    if ranges.size:
        w = 0.5 * (enc.b[ranges] - enc.a[ranges]) / sd[ranges]
        reach = sd[ranges] * range_reach(w, compatibility)
        centre = 0.5 * (enc.a[ranges] + enc.b[ranges]) - mean[ranges]
        low[ranges], high[ranges] = centre - reach, centre + reach
    return np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)


def i2_tau2(y: FloatArray, v: FloatArray) -> float | None:
    """metafor's τ²-based I² with the DerSimonian–Laird τ² (module docstring); None below 2.

    Parameters
    ----------
    y : (k,) float
        Estimates (claims' figures, bias-corrected, on the working scale).
    v : (k,) float
        Their within-claim variances, > 0.
    """
    k = y.shape[0]
    if k < 2:
        return None
    w = 1.0 / v
    sw, sw2 = float(w.sum()), float((w * w).sum())
    mean = float(w @ y) / sw
    q = float(w @ (y - mean) ** 2)
    c = sw - sw2 / sw
    tau2 = max(0.0, (q - (k - 1)) / c) if c > 0 else 0.0
    s2 = (k - 1) * sw / (sw * sw - sw2) if sw * sw > sw2 else 0.0
    return tau2 / (tau2 + s2) if tau2 + s2 > 0 else 0.0
