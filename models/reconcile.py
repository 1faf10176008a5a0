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

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

import numpy as np

from models.checks import check_levels
from models.claims import DYNAMICS_NAMES, Claim, DynamicsName, Source, pooling_scale
from models.credibility import SourceProfile
from models.encode import WorkingScale, precision_warnings, working_scale
from models.errors import InvalidParameterError
from models.explain import render
from models.findings import claim_shares
from models.inputs import checked_inputs
from models.moving import reconcile_moving
from models.reconcile_pooled import pooled_result
from models.reconcile_robust import robust_result
from models.result import ReconcileResult, Warning, source_uses
from models.robust import RobustEstimator
from models.shared_error import SharedErrorUse, shared_error_use, widen_estimate
from models.summary import derive_findings
from models.wording import Quotes, can_open, capitalise, possessive, quote_number, subject_phrase

METHODS = ("auto", "robust", "random_effects", "fixed_effect")
_DEFAULT_ESTIMATOR = RobustEstimator()


def _units(claims: Sequence[Claim]) -> np.ndarray:
    keys: dict[str, int] = {}
    return np.array([keys.setdefault(c.evidence_unit, len(keys)) for c in claims], dtype=np.int64)



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
        result = robust_result(claims, by_id, sources, all_profiles, ws, units, checked_levels,
                         warnings, estimator or _DEFAULT_ESTIMATOR,
                         shared=shared, precision=precision, unit=unit)
    else:
        # Pooling is equivariant on its own; it runs on the raw figures (or their logs) so
        # that se and τ² come out in the quantity's units (log units on the log scale).
        raw = WorkingScale(resolved_scale)
        result = pooled_result(claims, by_id, sources, all_profiles, raw, units, checked_levels,
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
                            uses=source_uses(sources, profiles), warnings=warnings, unit=unit)


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
