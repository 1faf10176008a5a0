"""Reconcile claims about one quantity: the core's single entry point.

``method`` chooses the estimator:

* ``robust`` -- the credibility-weighted mixture model of :mod:`models.robust`; handles points,
  bounds, ranges, hedges, echoes and sources of any grade.
* ``random_effects`` / ``fixed_effect`` -- classic inverse-variance pooling of point claims that
  carry their own standard errors (:mod:`models.pooling`); credibility does not enter.
* ``auto`` -- ``random_effects`` when every claim is a point with its own uncertainty and no
  source has a reliability rating (a meta-analysis); ``robust`` otherwise.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

import numpy as np
from scipy.stats import norm

from models.bounds import bounds_range, is_bounds_only, judge_bounds
from models.checks import check_levels
from models.claims import (
    DYNAMICS_NAMES,
    Claim,
    DynamicsName,
    Source,
    pooling_scale,
)
from models.credibility import SourceProfile
from models.encode import WorkingScale, claim_sd, encode, precision_warnings, working_scale
from models.errors import (
    InvalidClaimError,
    InvalidParameterError,
)
from models.explain import outlier_warning, render
from models.findings import HETEROGENEITY_LEVEL, claim_shares
from models.inputs import checked_inputs
from models.likelihood import EncodedClaims
from models.mixture_stats import i2_tau2
from models.moving import reconcile_moving
from models.pooling import FixedEffect, PoolingFit, RandomEffects
from models.result import (
    ClaimAssessment,
    Conflict,
    Disagreement,
    Estimate,
    Heterogeneity,
    Interval,
    Posterior,
    PredictionInterval,
    ReconcileResult,
    SourceUse,
    Warning,
)
from models.robust import LOG_SUPPORT, RobustEstimator, RobustFit, conflicts_and_clusters
from models.shared_error import (
    SharedErrorUse,
    shared_error_use,
    widen_estimate,
    with_shared_error,
)
from models.summary import derive_findings
from models.wording import (
    Quotes,
    can_open,
    capitalise,
    possessive,
    quote_number,
    subject_phrase,
)

METHODS = ("auto", "robust", "random_effects", "fixed_effect")
#: Pairwise conflicts are listed for at most this many claims (the check is O(n²)).
MAX_PAIRWISE = 200
#: At most this many conflicting pairs are reported.
MAX_CONFLICTS = 50
#: The posterior is returned at this many points, enough for a smooth plot.
POSTERIOR_POINTS = 201

_DEFAULT_ESTIMATOR = RobustEstimator()


def _units(claims: Sequence[Claim]) -> np.ndarray:
    keys: dict[str, int] = {}
    return np.array([keys.setdefault(c.evidence_unit, len(keys)) for c in claims], dtype=np.int64)


def _source_uses(
    sources: Sequence[Source], profiles: Mapping[str, SourceProfile]
) -> tuple[SourceUse, ...]:
    return tuple(
        SourceUse(s.id, profiles[s.id].credibility, profiles[s.id].spread, profiles[s.id].origin,
                  profiles[s.id].grade)
        for s in sources
    )


def _resolve_method(method: str, claims: Sequence[Claim], sources: Sequence[Source],
                    overrides: Mapping[str, SourceProfile]) -> str:
    if method not in METHODS:
        raise InvalidParameterError(
            f"Invalid method {method!r}; must be one of {', '.join(METHODS)}.", "method"
        )
    if method != "auto":
        return method
    all_se = all(
        c.kind == "point" and (c.sd is not None or c.ci_low is not None) for c in claims
    )
    rated = any(s.reliability is not None for s in sources) or bool(overrides)
    return "random_effects" if all_se and not rated and len(claims) >= 2 else "robust"


def _warnings_common(
    claims: Sequence[Claim], sources: Mapping[str, Source], units: np.ndarray, unit: str | None
) -> list[Warning]:
    out: list[Warning] = []
    n_units = int(units.max()) + 1
    if len(claims) == 1:
        out.append(Warning("single_claim", "The estimate rests on a single claim.", (0,)))
    elif n_units == 1:
        origin = claims[0].origin
        what = (f"the origin {origin!r}" if origin is not None
                else f"the source {claims[0].source!r}")
        out.append(Warning(
            "single_origin",
            f"All {len(claims)} claims trace back to {what}, so they count as one piece of "
            "evidence.",
            tuple(range(len(claims))),
        ))
    lows = [(i, c.value) for i, c in enumerate(claims) if c.kind == "at_least"]
    highs = [(i, c.value) for i, c in enumerate(claims) if c.kind == "at_most"]
    if lows and highs:
        i_lo, lo = max(lows, key=lambda t: t[1] or 0.0)
        i_hi, hi = min(highs, key=lambda t: t[1] or 0.0)
        if lo is not None and hi is not None and lo > hi:
            low_label, high_label = (" ".join(sources[claims[i].source].label.split())
                                     for i in (i_lo, i_hi))
            lead = (f"{possessive(low_label)} figure" if can_open(low_label)
                    else f"the figure from {low_label}")
            sign = "%" if unit == "%" else ""
            out.append(Warning(
                "contradictory_bounds",
                f"{capitalise(lead)} is at least {quote_number(lo)}{sign} but "
                f"{possessive(high_label)} is at most {quote_number(hi)}{sign}.",
                (i_lo, i_hi),
            ))
    return out


def reconcile(
    claims: Sequence[Claim],
    sources: Sequence[Source],
    *,
    scale: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    method: str = "auto",
    tau2_method: str = "REML",
    ci_method: str = "z",
    question: str | None = None,
    unit: str | None = None,
    profiles: Mapping[str, SourceProfile] | None = None,
    estimator: RobustEstimator | None = None,
    subject: str | None = None,
    whole_numbers: bool | None = None,
    dynamics: DynamicsName = "static",
    at: date | None = None,
    drift: float | None = None,
    shared_error: float | SharedErrorUse | None = None,
    precision: float | None = None,
) -> ReconcileResult:
    """Reconcile ``claims`` made by ``sources`` into one estimate with ranges and reasons.

    Parameters
    ----------
    claims : sequence of Claim
        At least one claim; each names a source in ``sources``.
    sources : sequence of Source
        Unique ids.
    scale : {"auto", "log", "linear"}
        ``auto`` = log when every figure is positive.
    levels : sequence of float
        Interval levels in (0, 1), reported in this order.
    method : {"auto", "robust", "random_effects", "fixed_effect"}
    tau2_method : {"DL", "PM", "REML"}
        τ² estimator for ``random_effects``.
    ci_method : {"z", "knha"}
        Confidence intervals of the pooling methods.
    question, unit : str or None
        Echoed; the unit is put in the right number in the words. The question is never the
        text's subject (``subject`` is).
    profiles : mapping of source id to SourceProfile, optional
        Credibility to use instead of the sources' stated reliability (e.g. learned).
    estimator : RobustEstimator, optional
        Hyper-parameters of the robust model.
    subject : str, optional
        The noun phrase the explanation is about ("North Korean soldiers in Russia").
    whole_numbers : bool, optional
        Whether the quantity is a count (never printed with decimals); by default, whether
        every claimed figure is a whole number.
    dynamics : {"static", "cumulative", "drifting"}
        How the quantity moves in time. ``static`` (default) pools every claim as one fixed
        quantity and ignores dates; the others follow it in time (:mod:`models.moving`) from
        each claim's ``as_of`` and ``horizon``, with the robust model only.
    at : datetime.date, optional
        Moving quantities: the date of the estimate (default: the latest claim date).
    drift : float, optional
        Moving quantities: the stated drift per day on the working scale (default: learned).
    shared_error : float or SharedErrorUse, optional
        s, the error all claims share (:mod:`models.shared_error`): log units on the log
        scale, the quantity's units on the linear one. Default: ``DEFAULT_SHARED_ERROR``.
        Static quantities only.
    precision : float, optional
        Linear scale: the absolute precision of claims without their own sd, in the
        quantity's units (:mod:`models.encode`).

    Returns
    -------
    ReconcileResult

    Raises
    ------
    ReconcileError
        With ``field`` naming the offending input.
    """
    checked_levels = check_levels(levels)
    checked = checked_inputs(claims, sources, scale, profiles)
    by_id, resolved_scale, all_profiles = checked.by_id, checked.scale, checked.profiles
    overrides = dict(profiles or {})
    chosen = _resolve_method(method, claims, sources, overrides)
    if chosen in ("random_effects", "fixed_effect") and dynamics == "static":
        resolved_scale = pooling_scale(claims, scale, resolved_scale, whole_numbers)
    ws = working_scale(claims, resolved_scale)
    units = _units(claims)
    warnings = _warnings_common(claims, by_id, units, unit)
    if dynamics == "static" and (at is not None or drift is not None):
        raise InvalidParameterError("Only a moving quantity (dynamics cumulative or drifting) "
                                    "takes at or drift.", "at" if at is not None else "drift")
    shared = shared_error_use(shared_error, ws.scale, ws.unit)
    warnings += precision_warnings(claims, ws, precision, unit)
    if dynamics != "static":
        result = _moving(claims, sources, all_profiles, ws, checked_levels, warnings,
                         method=method, dynamics=dynamics, at=at, drift=drift, unit=unit)
    elif chosen == "robust":
        result = _robust(claims, by_id, sources, all_profiles, ws, units, checked_levels,
                         warnings, estimator or _DEFAULT_ESTIMATOR,
                         shared=shared, precision=precision, unit=unit)
    else:
        # Pooling is equivariant on its own; it runs on the raw figures (or their logs) so
        # that se and τ² come out in the quantity's units (log units on the log scale).
        raw = WorkingScale(resolved_scale)
        result = _pooled(claims, by_id, sources, all_profiles, raw, units, checked_levels,
                         warnings, chosen, tau2_method, ci_method, unit)
        result = replace(result, estimate=widen_estimate(result.estimate, shared.value,
                                                         raw.scale), shared_error=shared)
    if precision is not None:
        result = replace(result, precision=float(precision))
    return _with_words(result, claims, by_id, unit=unit,
                       subject=subject_phrase(subject, question), whole_numbers=whole_numbers)


def _moving(
    claims: Sequence[Claim], sources: Sequence[Source], profiles: Mapping[str, SourceProfile],
    ws: WorkingScale, levels: tuple[float, ...], warnings: list[Warning], *, method: str,
    dynamics: DynamicsName, at: date | None, drift: float | None, unit: str | None,
) -> ReconcileResult:
    if dynamics not in DYNAMICS_NAMES:
        raise InvalidParameterError(
            f"Invalid dynamics {dynamics!r}; must be one of {', '.join(DYNAMICS_NAMES)}.",
            "dynamics")
    if method not in ("auto", "robust"):
        raise InvalidParameterError(
            "A moving quantity is followed by the robust model; method must be auto or robust.",
            "method")
    if drift is not None and not (math.isfinite(drift) and drift > 0):
        raise InvalidParameterError(f"Invalid drift {drift!r}; must be positive.", "drift")
    return reconcile_moving(claims, sources, dynamics=dynamics, scale=ws.scale, levels=levels,
                            at=at, drift=drift, profiles=profiles,
                            uses=_source_uses(sources, profiles), warnings=warnings, unit=unit)


def _with_words(
    result: ReconcileResult, claims: Sequence[Claim], by_id: dict[str, Source], *,
    unit: str | None, subject: str | None, whole_numbers: bool | None,
) -> ReconcileResult:
    """The result with each claim's share, the findings, the summary and the explanation."""
    shares = claim_shares(
        result.scale, result.centre,
        [a.estimate_without_unit for a in result.claims],
        [claims[a.index].evidence_unit for a in result.claims],
        [a.estimate_without for a in result.claims],
    )
    # A moving quantity's filter has no sensitivity: its weight is the share.
    moving = result.time is not None
    assessed = tuple(a.with_share(s, s if moving else a.weight)
                     for a, s in zip(result.claims, shares.tolist(), strict=True))
    result = result.with_claims(assessed)
    # One answer's quoted figures are formatted once, for its findings and its explanation.
    quotes = Quotes()
    findings = derive_findings(result, claims, by_id, whole_numbers=whole_numbers,
                               quotes=quotes)
    findings, summary, explanation = render(findings, claims, by_id, unit=unit,
                                            subject=subject, quotes=quotes)
    return result.with_words(findings, summary, explanation)


def _robust(
    claims: Sequence[Claim], by_id: dict[str, Source], sources: Sequence[Source],
    profiles: Mapping[str, SourceProfile], ws: WorkingScale, units: np.ndarray,
    levels: tuple[float, ...], warnings: list[Warning], estimator: RobustEstimator,
    *, shared: SharedErrorUse, precision: float | None = None, unit: str | None = None,
) -> ReconcileResult:
    """The robust model's result, with the shared error ``shared`` used (and reported); ``unit``
    (the quantity's, as the request names it) words the warnings."""
    enc = encode(claims, profiles, ws, precision)
    s = shared.value / ws.unit  # on the working scale
    fit = estimator.fit(enc, units, levels, LOG_SUPPORT if ws.scale == "log" else None)
    fit = with_shared_error(fit, s, levels)
    fit, split = _judge_bounds(enc, fit)
    value = ws.backward(fit.median)
    estimate = _robust_estimate(enc, fit, ws, units, levels, split=split, shared=s)
    assessments = []
    # Python floats and bools once (indexing numpy arrays per claim costs more than the rest).
    per_claim = zip(fit.median_without.tolist(), fit.median_without_unit.tolist(),
                    fit.weights.tolist(), fit.outlier.tolist(), fit.p_wrong.tolist(), strict=True)
    for i, (claim, (without, without_unit, weight, outlier, p_wrong)) in enumerate(
            zip(claims, per_claim, strict=True)):
        est_without = None if math.isnan(without) else ws.backward(without)
        assessments.append(ClaimAssessment(
            index=i,
            source=claim.source,
            weight=weight,
            influence=0.0 if est_without is None else est_without - value,
            estimate_without=est_without,
            outlier=outlier,
            p_wrong=p_wrong,
            estimate_without_unit=(None if math.isnan(without_unit)
                                   else ws.backward(without_unit)),
        ))
    disagreement = _robust_disagreement(fit, enc_units=units, claims=claims, enc=enc)
    warnings = warnings + _robust_warnings(claims, by_id, fit, profiles, unit)
    return ReconcileResult(
        method="robust",
        scale=ws.scale,
        estimate=estimate,
        claims=tuple(assessments),
        disagreement=disagreement,
        warnings=tuple(warnings),
        explanation="",
        sources=_source_uses(sources, profiles),
        posterior=_posterior(fit, ws),
        fit_value=None if estimate.basis == "fit" else value,
        shared_error=shared,
    )


def _judge_bounds(enc: EncodedClaims, fit: RobustFit) -> tuple[RobustFit, bool]:
    """The fit with the bounds that hold judged by their conflicts, not by the prior's tail,
    when the answer keeps bounds only (see :func:`models.bounds.judge_bounds`); and whether
    they split. Every claim a bound: all are judged afresh. Bounds beside discounted figures:
    the kept bounds are, so two that cross never make a range between them."""
    everything = np.arange(enc.n)
    all_bounds = is_bounds_only(enc, everything)
    kept = everything if all_bounds else np.flatnonzero(~fit.outlier)
    if kept.size == 0 or not is_bounds_only(enc, kept):
        return fit, False
    judged = judge_bounds(enc.subset(kept.astype(np.int64)))
    outlier = np.zeros(enc.n, dtype=bool) if all_bounds else fit.outlier.copy()
    p_wrong = fit.p_wrong.copy()
    outlier[kept] = judged.wrong
    p_wrong[kept] = judged.p_wrong if all_bounds else np.where(judged.wrong, judged.p_wrong,
                                                               p_wrong[kept])
    return replace(fit, outlier=outlier, p_wrong=p_wrong), judged.split


def _robust_estimate(enc: EncodedClaims, fit: RobustFit, ws: WorkingScale, units: np.ndarray,
                     levels: tuple[float, ...], *, split: bool = False,
                     shared: float = 0.0) -> Estimate:
    """The posterior's median and ranges; from the bounds alone when the answer keeps only
    bounds (see :mod:`models.bounds`), so that no range is set by the prior's tail. Bounds
    that split evenly close no range and give no value."""
    if split:
        return Estimate(None, tuple(Interval(q, None, None) for q in levels), basis="bounds",
                        p_bounds_hold=0.0)
    kept = np.flatnonzero(~fit.outlier)
    if kept.size == 0:
        kept = np.arange(enc.n)
    if not is_bounds_only(enc, kept):
        return Estimate(ws.backward(fit.median), tuple(
            Interval(q, ws.backward(fit.quantiles[q][0]), ws.backward(fit.quantiles[q][1]))
            for q in levels))
    found = bounds_range(enc, kept.astype(np.int64), units.astype(np.int64), levels, shared)

    def back(x: float | None) -> float | None:
        return None if x is None else ws.backward(x)

    return Estimate(back(found.median),
                    tuple(Interval(q, back(found.quantiles[q][0]), back(found.quantiles[q][1]))
                          for q in levels),
                    basis="bounds", p_bounds_hold=found.p_hold,
                    bounds=tuple(int(i) for i in found.claims))


@functools.lru_cache(maxsize=64)
def _picks(size: int) -> np.ndarray:
    """POSTERIOR_POINTS nodes spread evenly over a grid of ``size`` (one per grid size)."""
    pick = np.linspace(0, size - 1, POSTERIOR_POINTS).round().astype(int)
    pick.flags.writeable = False
    return pick


def _posterior(fit: RobustFit, ws: WorkingScale) -> Posterior:
    pick = _picks(fit.theta.shape[0])
    theta = fit.theta[pick]
    with np.errstate(over="ignore"):
        values = np.exp(theta) if ws.scale == "log" else ws.centre + ws.unit * theta
    # exp(θ) underflows to 0 below θ ≈ −745 and overflows above 709; nearby θ can round to one
    # value: keep only what is finite, positive on the log scale, and strictly increasing.
    keep = np.isfinite(values) & ((values > 0) if ws.scale == "log" else True)
    values, density = values[keep], fit.density[pick][keep]
    rising = (np.append(True, values[1:] > values[:-1]) if values.size
              else np.zeros(0, dtype=bool))
    return Posterior(tuple(values[rising].tolist()), tuple(density[rising].tolist()))


def _robust_disagreement(
    fit: RobustFit, *, enc_units: np.ndarray, claims: Sequence[Claim], enc: EncodedClaims
) -> Disagreement:
    n = len(claims)
    if n <= MAX_PAIRWISE:
        pairs, clusters = conflicts_and_clusters(fit.plausible, enc_units)
    else:
        pairs, clusters = [], []  # O(n²) listing skipped for large requests (documented)
    conflicts = []
    for a, b in pairs[:MAX_CONFLICTS]:
        lo_a, hi_a = fit.plausible[a]
        lo_b, hi_b = fit.plausible[b]
        gap = max(lo_b - hi_a, lo_a - hi_b)
        # Compatibility reported as exp(−gap²/2) in units of the wider plausible set's
        # half-width: 1 would mean touching sets; it is only a ranking aid.
        width = max(
            (hi_a - lo_a) if math.isfinite(hi_a - lo_a) else 0.0,
            (hi_b - lo_b) if math.isfinite(hi_b - lo_b) else 0.0,
            1e-12,
        )
        conflicts.append(Conflict(int(a), int(b), float(math.exp(-0.5 * (2 * gap / width) ** 2))))
    points = [i for i, c in enumerate(claims) if c.kind == "point"]
    first_unit: dict[int, int] = {}
    for i in points:
        first_unit.setdefault(int(enc_units[i]), i)
    reps = sorted(first_unit.values())
    i2 = None
    if len(reps) >= 2:
        # metafor's τ²-based I² over one point per evidence unit, each with its right part's
        # bias-corrected figure and variance (hedge, own sd, unknown grade all included).
        # Each claim's moments are its own: computed over all claims and picked, which
        # spares building a subset of the encoded claims.
        pick = np.array(reps, dtype=np.int64)
        mean, var = enc.right_moments
        i2 = i2_tau2(enc.a[pick] - mean[pick], np.maximum(var[pick], 1e-300))
    outliers = tuple(int(i) for i in np.flatnonzero(fit.outlier))
    detected = bool(conflicts) or bool(outliers) or fit.modes > 1
    return Disagreement(
        detected=detected,
        conflicts=tuple(conflicts),
        clusters=tuple(tuple(c) for c in clusters),
        outliers=outliers,
        modes=fit.modes,
        i2=i2,
    )


#: Claims that are all bounds on one side leave the other side to the prior: the kind → the
#: warning's code and message.
_OPEN_SIDE: dict[str, tuple[str, str]] = {
    "at_least": ("open_above", "Every claim is a lower bound, so the top of the range reflects "
                 "only the model's weak prior."),
    "at_most": ("open_below", "Every claim is an upper bound, so the bottom of the range "
                "reflects only the model's weak prior."),
}


def _robust_warnings(
    claims: Sequence[Claim], by_id: dict[str, Source], fit: RobustFit,
    profiles: Mapping[str, SourceProfile], unit: str | None,
) -> list[Warning]:
    out: list[Warning] = []
    kinds = {c.kind for c in claims}
    open_side = _OPEN_SIDE.get(next(iter(kinds))) if len(kinds) == 1 else None
    if open_side is not None:
        code, message = open_side
        out.append(Warning(code, message, tuple(range(len(claims)))))
    if fit.modes > 1:
        out.append(Warning(
            "multimodal",
            f"The evidence supports {fit.modes} separate values; the median lies between them "
            "and the range spans them.",
        ))
    unknown = [i for i, c in enumerate(claims) if profiles[c.source].origin == "unknown"]
    if unknown:
        names = sorted({by_id[claims[i].source].label for i in unknown})
        out.append(Warning(
            "unknown_reliability",
            f"The reliability of {', '.join(names)} cannot be judged (grade F or none given); "
            "their claims are weighed as anything from very reliable to unreliable.",
            tuple(unknown),
        ))
    out.extend(outlier_warning(i, claims[i], by_id[claims[i].source].label, unit,
                               p_wrong=float(fit.p_wrong[i]))
               for i in np.flatnonzero(fit.outlier).tolist())
    return out


def _pooled(
    claims: Sequence[Claim], by_id: dict[str, Source], sources: Sequence[Source],
    profiles: Mapping[str, SourceProfile], ws: WorkingScale, units: np.ndarray,
    levels: tuple[float, ...], warnings: list[Warning], method: str, tau2_method: str,
    ci_method: str, unit: str | None = None,
) -> ReconcileResult:
    for i, claim in enumerate(claims):
        if claim.kind != "point" or (claim.sd is None and claim.ci_low is None):
            raise InvalidClaimError(
                f"Method {method} needs every claim to be a point with its own sd or "
                "ci_low/ci_high.",
                f"claims.{i}.sd" if claim.kind == "point" else f"claims.{i}.kind",
            )
    y_claim = np.array([ws.forward(float(c.value or 0.0)) for c in claims])
    sd_claim = np.array([claim_sd(c, ws, cap=math.inf) for c in claims])
    with np.errstate(over="ignore", under="ignore"):
        v_claim = sd_claim**2
    bad = np.flatnonzero(~(np.isfinite(v_claim) & (v_claim > 0)) | ~np.isfinite(y_claim))
    if bad.size:
        j = int(bad[0])
        raise InvalidClaimError(
            f"The uncertainty of claim {j} is too small or too large to pool in floating "
            "point (its variance is not a positive finite number); restate it in other units.",
            f"claims.{j}.sd" if claims[j].sd is not None else f"claims.{j}.ci_low",
        )
    # One observation per evidence unit: echoes of one study are one study.
    n_units = int(units.max()) + 1
    counts = np.bincount(units, minlength=n_units).astype(float)
    y = np.bincount(units, weights=y_claim, minlength=n_units) / counts
    v = np.bincount(units, weights=v_claim, minlength=n_units) / counts
    model = (
        RandomEffects(tau2_method=tau2_method, ci_method=ci_method)
        if method == "random_effects" else FixedEffect(ci_method=ci_method)
    )
    fit: PoolingFit = model.fit(y, v)
    value = ws.backward(fit.mu)
    bounds = {q: fit.interval(q) for q in levels}
    intervals = tuple(
        Interval(q, ws.backward(bounds[q][0]), ws.backward(bounds[q][1])) for q in levels
    )
    estimate = Estimate(value, intervals, fit.se)
    if n_units >= 2:
        mu_loo, _ = fit.leave_one_out()
        resid = fit.studentized_residuals()
    else:
        mu_loo = np.full(1, np.nan)
        resid = np.full(1, np.nan)
    crit = float(norm.ppf(0.975))
    assessments = []
    for i, claim in enumerate(claims):
        u = int(units[i])
        share = float(fit.weights[u]) / float(counts[u])
        if counts[u] > 1:
            without_theta = fit.mu  # the rest of its unit still carries the same evidence
        else:
            without_theta = float(mu_loo[u])
        est_without = None if math.isnan(without_theta) else ws.backward(without_theta)
        unit_out = float(mu_loo[u]) if n_units >= 2 else math.nan
        r = float(resid[u])
        assessments.append(ClaimAssessment(
            index=i, source=claim.source, weight=share,
            influence=0.0 if est_without is None else est_without - value,
            estimate_without=est_without,
            # With two units the two residuals are equal and opposite: the test cannot tell
            # which one is off, so neither is called an outlier (the Q test reports the split).
            outlier=bool(n_units >= 3 and math.isfinite(r) and abs(r) > crit),
            residual=r if math.isfinite(r) else None,
            estimate_without_unit=None if math.isnan(unit_out) else ws.backward(unit_out),
        ))
    het = Heterogeneity(
        tau2=fit.tau2, tau=math.sqrt(fit.tau2), i2=fit.i2, h2=fit.h2, q=fit.q, q_df=fit.q_df,
        q_pvalue=fit.q_pvalue,
        convention=(
            "Cochran's Q with fixed-effect weights; I² = τ²/(τ² + s²) with s² the typical "
            "within-claim variance (metafor's definition); τ² on the working scale."
        ),
    )
    top = max(levels)
    p_lo, p_hi = fit.prediction_interval(top)
    prediction = PredictionInterval(
        top, ws.backward(p_lo), ws.backward(p_hi),
        "metafor: mu ± crit·sqrt(se² + τ²), crit from the normal (z) or t with k−1 df (knha)",
    )
    outliers = tuple(a.index for a in assessments if a.outlier)
    warnings = [*warnings, *(outlier_warning(i, claims[i], by_id[claims[i].source].label, unit,
                                             residual=assessments[i].residual)
                             for i in outliers)]
    detected = bool(outliers) or (fit.q_df > 0 and fit.q_pvalue < HETEROGENEITY_LEVEL)
    disagreement = Disagreement(
        detected=detected, conflicts=(), clusters=(tuple(range(len(claims))),),
        outliers=outliers, modes=1, i2=fit.i2,
    )
    return ReconcileResult(
        method="random_effects" if method == "random_effects" else "fixed_effect",
        scale=ws.scale, estimate=estimate, claims=tuple(assessments),
        disagreement=disagreement, warnings=tuple(warnings), explanation="",
        sources=_source_uses(sources, profiles), heterogeneity=het, prediction=prediction,
    )
