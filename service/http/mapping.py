"""From the core's result dataclasses to the plain dicts the response schema dumps.

Kept apart from the views so that no numpy value or dataclass reaches a view: every number
leaves here as a Python ``float``/``int`` (the core may hand back numpy scalars).

Optional statistics that the core leaves undefined as NaN (an I² of a single claim, say) are
returned as ``null``; a required number that is not finite is left alone, so that the JSON
encoder (``allow_nan=False``) refuses it and the bug shows up as a logged 500 rather than as
invalid JSON.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import fields
from typing import Any

from models.findings import Figure, Finding, Summary
from models.result import (
    ClaimAssessment,
    Disagreement,
    Estimate,
    Interval,
    Moment,
    ReconcileResult,
    SharedErrorUse,
    SourceUse,
    TimeView,
)
from models.summary_context import beyond_rule
from service.http.schemas.reconcile import ReconcileRequest
from service.store.inputs import LearningState

__all__ = ["reconcile_response", "stored_estimate_response"]


def _optional(x: float | None) -> float | None:
    if x is None:
        return None
    value = float(x)
    return value if math.isfinite(value) else None


def _open(x: float | None) -> float | None:
    """None stays None (an open end, no central value); a non-finite number is kept, so the
    response check refuses it as the internal error it is rather than hiding it as null."""
    return None if x is None else float(x)


#: The ends of an interval that no claim sets (:func:`models.summary.ends_beyond_claims`, bound
#: to the request's claims and the answer's scale).
Beyond = Callable[[float | None, float | None], tuple[str, ...]]


def _estimate(estimate: Estimate, beyond: Beyond) -> dict[str, Any]:
    return {
        "value": _open(estimate.value),
        "intervals": [_interval(i, beyond) for i in estimate.intervals],
        "se": _optional(estimate.se),
        "basis": estimate.basis,
        "p_bounds_hold": _optional(estimate.p_bounds_hold),
    }


def _claim(body: ReconcileRequest, assessment: ClaimAssessment) -> dict[str, Any]:
    claim = body.claims[assessment.index]
    return {
        "index": int(assessment.index),
        "source": assessment.source,
        "kind": claim.kind,
        "value": claim.value,
        "low": claim.low,
        "high": claim.high,
        "hedge": claim.hedge,
        "origin": claim.origin,
        "as_of": claim.as_of,
        "horizon": claim.horizon,
        "weight": float(assessment.weight),
        "influence": float(assessment.influence),
        "estimate_without": _optional(assessment.estimate_without),
        "estimate_without_unit": _optional(assessment.estimate_without_unit),
        "share": float(assessment.share),
        "outlier": bool(assessment.outlier),
        "p_wrong": _optional(assessment.p_wrong),
        "residual": _optional(assessment.residual),
    }


def _figure(f: Figure) -> dict[str, Any]:
    return {
        "name": f.name,
        "value": float(f.value),
        "text": f.text,
        "path": f.path,
        "quoted": bool(f.quoted),
        "exponent": None if f.exponent is None else int(f.exponent),
    }


def _finding(f: Finding) -> dict[str, Any]:
    groups = getattr(f, "groups", None)
    pairs = getattr(f, "pairs", None)
    significant = getattr(f, "significant", None)
    negligible = getattr(f, "negligible", None)
    return {
        "kind": f.kind,
        "claims": [int(i) for i in f.claims],
        "figures": [_figure(fig) for fig in f.figures],
        "text": f.text,
        "side": getattr(f, "side", None),
        "origin": getattr(f, "origin", None),
        "groups": None if groups is None else [[int(i) for i in g] for g in groups],
        "pairs": None if pairs is None else [[int(a), int(b)] for a, b in pairs],
        "test": getattr(f, "test", None),
        "significant": None if significant is None else bool(significant),
        "negligible": None if negligible is None else bool(negligible),
    }


def _summary(s: Summary | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"kind": s.kind, "text": s.text, "figures": [_figure(f) for f in s.figures]}


def _source(names: dict[str, str | None], use: SourceUse) -> dict[str, Any]:
    return {
        "id": use.id,
        "name": names.get(use.id),
        "credibility": float(use.credibility),
        "spread": float(use.spread),
        "credibility_from": use.origin,
        "grade": use.grade,
    }


def _disagreement(d: Disagreement) -> dict[str, Any]:
    return {
        "detected": bool(d.detected),
        "conflicts": [
            {"a": int(c.a), "b": int(c.b), "compatibility": float(c.compatibility)}
            for c in d.conflicts
        ],
        "clusters": [[int(i) for i in cluster] for cluster in d.clusters],
        "outliers": [int(i) for i in d.outliers],
        "modes": int(d.modes),
        "i2": _optional(d.i2),
    }


def _scalar(value: Any) -> Any:
    """A number as a Python ``int`` or ``float`` (numpy's register as Integral and Real)."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    return value


def _flat(record: Any | None) -> dict[str, Any] | None:
    """A flat record of the core (numbers and words, or None) as a dict of Python values."""
    if record is None:
        return None
    return {field.name: _scalar(getattr(record, field.name)) for field in fields(record)}


def _interval(i: Interval, beyond: Beyond) -> dict[str, Any]:
    return {"level": float(i.level), "low": _open(i.low), "high": _open(i.high),
            "beyond_claims": list(beyond(i.low, i.high))}


def _moment(m: Moment, beyond: Beyond) -> dict[str, Any]:
    return {"date": m.date, "total": bool(m.total), "value": float(m.value),
            "intervals": [_interval(i, beyond) for i in m.intervals],
            "claims": [int(i) for i in m.claims]}


def _time(t: TimeView | None, beyond: Beyond) -> dict[str, Any] | None:
    if t is None:
        return None
    return {
        "dynamics": t.dynamics,
        "at": t.at,
        "trajectory": [_moment(m, beyond) for m in t.trajectory],
        "total": None if t.total is None else _moment(t.total, beyond),
        "drift": float(t.drift),
        "drift_learned": bool(t.drift_learned),
    }


def reconcile_response(body: ReconcileRequest, result: ReconcileResult) -> dict[str, Any]:
    """The response document of ``POST /v1/reconcile``.

    Parameters
    ----------
    body : ReconcileRequest
        The loaded request; claims and sources are echoed from it.
    result : ReconcileResult
        What :func:`models.reconcile.reconcile` returned.

    Returns
    -------
    dict
        Plain data matching :class:`service.http.schemas.reconcile.ReconcileResponseSchema`; claims
        in
        request order whatever order the core listed them in.
    """
    names = {source.id: source.name for source in body.sources}
    claims = sorted(result.claims, key=lambda a: a.index)
    beyond = beyond_rule(body.claims, result.scale, result.precision)
    return {
        "question": body.question,
        "unit": body.unit,
        "method": result.method,
        "scale": result.scale,
        "estimate": _estimate(result.estimate, beyond),
        "claims": [_claim(body, a) for a in claims],
        "sources": [_source(names, use) for use in result.sources],
        "disagreement": _disagreement(result.disagreement),
        "heterogeneity": _flat(result.heterogeneity),
        "prediction": _flat(result.prediction),
        "warnings": [
            {"code": w.code, "message": w.message, "claims": [int(i) for i in w.claims]}
            for w in result.warnings
        ],
        "summary": _summary(result.summary),
        "findings": [_finding(f) for f in result.findings],
        "explanation": result.explanation,
        "time": _time(result.time, beyond),
        "shared_error": _shared_error(result.shared_error),
    }


def _shared_error(use: SharedErrorUse | None) -> dict[str, Any] | None:
    if use is None:
        return None
    return {"value": use.value, "origin": use.origin, "category": use.category,
            "n_questions": use.n_questions}


def stored_estimate_response(
    body: ReconcileRequest, result: ReconcileResult, claim_ids: Sequence[int],
    learning: LearningState | None,
) -> dict[str, Any]:
    """The response document of ``GET /v1/questions/{id}/estimate``: that of
    :func:`reconcile_response`, each claim with its stored ``id``, and the learning state
    (None for an estimate as of a past moment)."""
    response = reconcile_response(body, result)
    for claim in response["claims"]:
        claim["id"] = claim_ids[claim["index"]]
    response["learning"] = learning
    return response
