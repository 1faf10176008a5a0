"""Learn each source's credibility from claims on questions whose true value became known.

Symbols
-------
r_i     : residual of claim i on the working scale, x_i − t (log x − log t on the log scale;
          (x − t)/P_i on the linear scale, P_i the claim's absolute precision as the reconciler
          reads it: its own sd, else the question's ``precision``; see :mod:`models.encode`),
          divided by the claim's hedge spread factor. A linear-scale truth of 0 is fine.
c_s     : probability that a claim of source s is right.
σ_s     : spread of a right claim; β_s : systematic bias (a right claim lies N(β_s, σ_s²) off).
g_i     : posterior probability that claim i was right (the EM responsibility).

Model
-----
The same two-part mixture the reconciler uses (:mod:`models.likelihood`): a right point claim
has r_i ~ N(β_s, σ_s²); a wrong one r_i ~ Cauchy(0, max(1, 2σ_s)). A bound or range is right with
probability Φ-of-the-gap as in the likelihood; it informs c_s (and calibration), not σ_s or β_s.

Empirical Bayes (after Cooke's classical model, which scores experts on seed questions, but
continuous and shrunk): each source's parameters get a conjugate-style prior centred on

    m_s = (1 − λ) · (its grade's value) + λ · (its type's pooled value),  λ = ½ · n_T / (n_T + 20),

where the type's pooled value is the same EM run on all claims of sources of that type and n_T
their count: a type's record can move a source's prior at most half-way from its grade. Prior
strengths are n₀ = 6 pseudo-claims for c_s and σ_s, κ₀ = 6 for β_s. The MAP updates are

    c_s = (Σ g_i + n₀ m_c) / (n_s + n₀)
    β_s = (Σ_pt g_i r_i + κ₀ m_β) / (Σ_pt g_i + κ₀)
    σ_s² = (Σ_pt g_i (r_i − β_s)² + n₀ m_σ²) / (Σ_pt g_i + n₀)

so one lucky hit moves an E source only from 0.30 to 0.40, never to "A".

References
----------
Cooke, R. M. (1991). Experts in Uncertainty. Oxford University Press.
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data via
the EM algorithm. JRSS B 39(1), 1-38. doi:10.1111/j.2517-6161.1977.tb01600.x.
Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and its generalizations.
JASA 70(350), 311-319. doi:10.1080/01621459.1975.10479864.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri

from models.claims import HEDGES, ClaimKind, Hedge
from models.credibility import HIT_TOLERANCE, SourceProfile, learned_profile
from models.encode import WRONG_SPREAD
from models.errors import InvalidClaimError
from models.likelihood import log_cauchy_interval, log_normal_interval

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Prior strength (pseudo-claims) for c_s and σ_s, and for β_s.
PRIOR_CLAIMS = 6.0
PRIOR_BIAS_CLAIMS = 6.0
#: Claims of a type at which its pooled record moves members' priors a third of the way.
TYPE_HALF_WEIGHT = 20.0
EM_ITERATIONS = 60


@dataclass(frozen=True, slots=True)
class ResolvedClaim:
    """One claim on a resolved question, with the question's true value.

    Attributes
    ----------
    source : str
        Source id.
    kind : {"point", "at_least", "at_most", "range"}
    value, low, high, sd, ci_low, ci_high : float or None
        As in :class:`models.claims.Claim`.
    ci_level : float
    hedge : str
    truth : float
        The question's resolved value.
    scale : {"log", "linear"}
        The question's scale.
    question : str
        Id of the question (claims of one question by one source are one record).
    """

    source: str
    kind: ClaimKind
    truth: float
    scale: str
    question: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    sd: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float = 0.95
    hedge: Hedge = "none"
    #: Linear scale: the absolute unit P_i of a claim without its own sd or interval (the
    #: reconciler's fallback, the question's typical magnitude). None: |truth|, which a truth
    #: of 0 cannot use.
    precision: float | None = None


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """What a source's resolved claims say about it.

    Attributes
    ----------
    source : str
    n_resolved : int
        Resolved claims used.
    credibility : float or None
        Learned probability that a claim is right, in (0, 1); None before any resolution.
    spread : float or None
        Learned spread of right claims on the working scale.
    bias : float or None
        Learned systematic offset on the working scale (log units: +0.1 ≈ inflates by 10 %).
    hit_rate : float or None
        Learned probability that a figure lands within about ±25 % of the truth
        (:meth:`models.credibility.SourceProfile.hit_rate`), comparable with the prior's.
    observed_hit_rate : float or None
        The raw share of the source's resolved point figures within that tolerance.
    calibration : float or None
        Share of the source's stated intervals (bounds, ranges, CIs) that contained the truth.
    n_calibration : int
        Number of stated intervals behind ``calibration``.
    profile : SourceProfile
        The profile to reconcile with: learned when n_resolved > 0, else the prior.
    """

    source: str
    n_resolved: int
    credibility: float | None
    spread: float | None
    bias: float | None
    hit_rate: float | None
    observed_hit_rate: float | None
    calibration: float | None
    n_calibration: int
    profile: SourceProfile


@dataclass(frozen=True, slots=True)
class _Residuals:
    """Resolved claims as arrays on the working scale."""

    group: IntArray  # source (or type) index per claim
    point: NDArray[np.bool_]  # True for point claims
    r: FloatArray  # residual of point claims (0 elsewhere), hedge-scaled
    r_raw: FloatArray  # the same before hedge scaling (for the observed hit rate)
    lo: FloatArray  # for bounds/ranges: stated interval minus truth, hedge-scaled (±inf open)
    hi: FloatArray
    contains: NDArray[np.bool_]  # stated interval (bound, range, CI) contains the truth
    has_interval: NDArray[np.bool_]


def _working(value: float, truth: float, scale: str, unit: float = 1.0) -> float:
    if scale == "log":
        return math.log(value) - math.log(truth)
    return (value - truth) / unit


def _precision(rec: ResolvedClaim) -> float:
    """P_i of a linear-scale claim: its own sd, else its precision, else |truth|."""
    if rec.sd is not None and rec.sd > 0:
        return rec.sd
    if rec.ci_low is not None and rec.ci_high is not None and rec.ci_high > rec.ci_low:
        return (rec.ci_high - rec.ci_low) / (2.0 * float(ndtri(0.5 + rec.ci_level / 2.0)))
    if rec.precision is not None and rec.precision > 0:
        return rec.precision
    return abs(rec.truth)


def _residuals(records: Sequence[ResolvedClaim], index: Mapping[str, int]) -> _Residuals:
    n = len(records)
    group = np.empty(n, dtype=np.int64)
    point = np.zeros(n, dtype=bool)
    r = np.zeros(n)
    r_raw = np.zeros(n)
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    contains = np.zeros(n, dtype=bool)
    has_interval = np.zeros(n, dtype=bool)
    for i, rec in enumerate(records):
        unit = 1.0 if rec.scale == "log" else _precision(rec)
        if not (math.isfinite(rec.truth) and (rec.truth > 0 if rec.scale == "log"
                                              else math.isfinite(unit) and unit > 0)):
            raise InvalidClaimError(
                f"Invalid resolution {rec.truth!r} for a {rec.scale}-scale question "
                f"{rec.question!r}; learning needs a positive truth (log) or, for a truth of "
                "0 (linear), a claim sd or the question's precision.",
                field="value",
            )
        group[i] = index[rec.source]
        h = HEDGES[rec.hedge].spread_factor
        t = rec.truth
        if rec.kind == "point" and rec.value is not None:
            point[i] = True
            r_raw[i] = _working(rec.value, t, rec.scale, unit)
            r[i] = r_raw[i] / h
            if rec.sd is not None or rec.ci_low is not None:
                if rec.ci_low is not None and rec.ci_high is not None:
                    a, b = rec.ci_low, rec.ci_high
                else:
                    half = float(ndtri(0.975)) * float(rec.sd or 0.0)
                    a, b = rec.value - half, rec.value + half
                has_interval[i] = True
                contains[i] = a <= t <= b
            continue
        if rec.kind == "at_least" and rec.value is not None:
            lo[i] = _working(rec.value, t, rec.scale, unit) / h
            contains[i] = t >= rec.value
        elif rec.kind == "at_most" and rec.value is not None:
            hi[i] = _working(rec.value, t, rec.scale, unit) / h
            contains[i] = t <= rec.value
        elif rec.kind == "range" and rec.low is not None and rec.high is not None:
            lo[i] = _working(rec.low, t, rec.scale, unit) / h
            hi[i] = _working(rec.high, t, rec.scale, unit) / h
            contains[i] = rec.low <= t <= rec.high
        has_interval[i] = True
    return _Residuals(group, point, r, r_raw, lo, hi, contains, has_interval)


def _log_right_wrong(
    res: _Residuals, c: FloatArray, beta: FloatArray, sigma: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """log c f_right and log (1 − c) f_wrong per claim, as in models.likelihood."""
    g = res.group
    s = sigma[g]
    s_w = np.maximum(WRONG_SPREAD, 2.0 * s)
    z = (res.r - beta[g]) / s
    right_pt = -0.5 * z * z - 0.5 * math.log(2 * math.pi) - np.log(s)
    wrong_pt = -math.log(math.pi) - np.log(s_w) - np.log1p((res.r / s_w) ** 2)
    # Interval claims: the source's perceived offset β + e must fall in [lo, hi].
    with np.errstate(invalid="ignore", divide="ignore"):
        right_iv = log_normal_interval((res.lo - beta[g]) / s, (res.hi - beta[g]) / s)
        wrong_iv = log_cauchy_interval(res.lo / s_w, res.hi / s_w)
    right = np.where(res.point, right_pt, right_iv)
    wrong = np.where(res.point, wrong_pt, wrong_iv)
    return np.log(c[g]) + right, np.log1p(-c[g]) + wrong


def _em(
    res: _Residuals, n_groups: int, m_c: FloatArray, m_sigma: FloatArray, m_beta: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """MAP (c, σ, β) per group by EM, vectorised over claims with bincount."""
    c, sigma, beta = m_c.copy(), m_sigma.copy(), m_beta.copy()
    n = np.bincount(res.group, minlength=n_groups).astype(np.float64)
    pt = res.point.astype(np.float64)
    for _ in range(EM_ITERATIONS):
        log_r, log_w = _log_right_wrong(res, c, beta, sigma)
        g = np.exp(log_r - np.logaddexp(log_r, log_w))
        g_sum = np.bincount(res.group, weights=g, minlength=n_groups)
        c = (g_sum + PRIOR_CLAIMS * m_c) / (n + PRIOR_CLAIMS)
        gp = g * pt
        gp_sum = np.bincount(res.group, weights=gp, minlength=n_groups)
        beta = (np.bincount(res.group, weights=gp * res.r, minlength=n_groups)
                + PRIOR_BIAS_CLAIMS * m_beta) / (gp_sum + PRIOR_BIAS_CLAIMS)
        dev = np.bincount(res.group, weights=gp * (res.r - beta[res.group]) ** 2,
                          minlength=n_groups)
        sigma = np.sqrt((dev + PRIOR_CLAIMS * m_sigma**2) / (gp_sum + PRIOR_CLAIMS))
    # Keep c inside (0, 1) strictly: the profile constructor refuses the end points.
    return np.clip(c, 1e-3, 1 - 1e-3), sigma, beta


def learn_track_records(
    records: Sequence[ResolvedClaim],
    priors: Mapping[str, SourceProfile],
    source_types: Mapping[str, str],
) -> dict[str, TrackRecord]:
    """Empirical-Bayes track records for every source in ``priors``.

    Parameters
    ----------
    records : sequence of ResolvedClaim
    priors : mapping of source id to SourceProfile
        Each source's prior (from its grade); every source in ``records`` must be here.
    source_types : mapping of source id to source type
        For pooling the record of sources of one type.

    Returns
    -------
    dict of source id to TrackRecord
        One per source in ``priors``; sources without resolved claims keep their prior
        (``credibility`` None).

    Raises
    ------
    InvalidClaimError
        When a record names an unknown source or a resolution unusable on its scale.
    """
    ids = list(priors)
    index = {sid: k for k, sid in enumerate(ids)}
    for rec in records:
        if rec.source not in index:
            raise InvalidClaimError(f"Unknown source {rec.source!r} in a resolved claim.",
                                    field="source")
    m_c = np.array([priors[s].credibility for s in ids])
    m_sigma = np.array([priors[s].spread for s in ids])
    m_beta = np.array([
        sum(k.weight * k.bias for k in priors[s].components) for s in ids
    ])
    if records:
        res = _residuals(records, index)
        # Type-pooled records: the same EM with one group per source type.
        types = sorted({source_types.get(s, "other") for s in ids})
        t_index = np.array([types.index(source_types.get(s, "other")) for s in ids])
        by_type = replace(res, group=t_index[res.group])
        n_type = np.bincount(by_type.group, minlength=len(types)).astype(np.float64)
        members = np.maximum(np.bincount(t_index, minlength=len(types)), 1)

        def type_mean(v: FloatArray) -> FloatArray:
            return np.bincount(t_index, weights=v, minlength=len(types)) / members

        tc, ts, tb = _em(by_type, len(types), type_mean(m_c), type_mean(m_sigma),
                         type_mean(m_beta))
        lam = 0.5 * n_type / (n_type + TYPE_HALF_WEIGHT)
        lam_s = lam[t_index]
        prior_c = (1 - lam_s) * m_c + lam_s * tc[t_index]
        prior_sigma = np.exp((1 - lam_s) * np.log(m_sigma) + lam_s * np.log(ts[t_index]))
        prior_beta = (1 - lam_s) * m_beta + lam_s * tb[t_index]
        c, sigma, beta = _em(res, len(ids), prior_c, prior_sigma, prior_beta)
        n_resolved = np.bincount(res.group, minlength=len(ids)).astype(np.float64)
        n_cal = np.bincount(res.group, weights=res.has_interval.astype(float),
                            minlength=len(ids))
        hits = np.bincount(res.group, weights=(res.contains & res.has_interval).astype(float),
                           minlength=len(ids))
        n_points = np.bincount(res.group, weights=res.point.astype(float), minlength=len(ids))
        near = np.bincount(
            res.group, weights=(res.point & (np.abs(res.r_raw) < HIT_TOLERANCE)).astype(float),
            minlength=len(ids),
        )
    else:
        c, sigma, beta = m_c, m_sigma, m_beta
        n_points = near = np.zeros(len(ids), dtype=np.float64)
        n_resolved = n_cal = hits = np.zeros(len(ids), dtype=np.float64)
    out: dict[str, TrackRecord] = {}
    for k, sid in enumerate(ids):
        learned = int(n_resolved[k]) > 0
        profile = (learned_profile(float(c[k]), float(sigma[k]), float(beta[k]))
                   if learned else priors[sid])
        out[sid] = TrackRecord(
            source=sid,
            n_resolved=int(n_resolved[k]),
            credibility=float(c[k]) if learned else None,
            spread=float(sigma[k]) if learned else None,
            bias=float(beta[k]) if learned else None,
            hit_rate=profile.hit_rate() if learned else None,
            observed_hit_rate=float(near[k] / n_points[k]) if n_points[k] > 0 else None,
            calibration=float(hits[k] / n_cal[k]) if n_cal[k] > 0 else None,
            n_calibration=int(n_cal[k]),
            profile=profile,
        )
    return out
