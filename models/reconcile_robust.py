"""The robust model's answer to one static question: the fit, its ranges, the claims' assessments
and the disagreement (:func:`robust_result`, called by :func:`models.reconcile.reconcile`)."""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from models.bounds import bounds_range, is_bounds_only, judge_bounds
from models.claim_words import outlier_warning
from models.claims import Claim, Source
from models.credibility import SourceProfile
from models.encode import WorkingScale, encode
from models.likelihood import EncodedClaims
from models.mixture_stats import i2_tau2
from models.result import (
    ClaimAssessment,
    Conflict,
    Disagreement,
    Estimate,
    Interval,
    Posterior,
    ReconcileResult,
    Warning,
    source_uses,
)
from models.robust import LOG_SUPPORT, RobustEstimator, RobustFit, conflicts_and_clusters
from models.shared_error import SharedErrorUse, with_shared_error

#: Pairwise conflicts are listed for at most this many claims (the check is O(n²)).
MAX_PAIRWISE = 200
#: At most this many conflicting pairs are reported.
MAX_CONFLICTS = 50
#: The posterior is returned at this many points, enough for a smooth plot.
POSTERIOR_POINTS = 201


def robust_result(
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
        sources=source_uses(sources, profiles),
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
