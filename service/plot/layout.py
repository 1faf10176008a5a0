"""Geometry of the forest plot: one row per claim, the x-axis limits, and the small rules of
placement (where a bound's arrow ends, how large a square is, how thick a nested bar is).

Presentation only: everything is read off the finished result and the request's claims."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from models.claims import Claim, Source
from models.encode import WorkingScale
from models.explain import describe_claim
from models.result import Interval, ReconcileResult
from service.plot.style import UNKNOWN_COLOUR, credibility_colour
from service.plot.text import figure_text, grade_text, minus_signs, percent, shorten, span_text

__all__ = [
    "Z95",
    "Row",
    "claim_rows",
    "marker_area",
    "middle",
    "ramp",
    "stated_whisker",
    "subtitle_parts",
    "summary_note",
    "towards_centre",
    "widest_first",
    "x_limits",
]

#: Two-sided 95 % normal quantile, for a point claim's stated sd drawn as a 95 % whisker.
Z95: Final = 1.959963984540054


@dataclass(frozen=True, slots=True)
class Row:
    """One claim row: where and how to draw it."""

    y: float
    claim: Claim
    label: str
    note: str
    colour: str
    weight: float
    outlier: bool
    whisker: tuple[float, float] | None


def widest_first(result: ReconcileResult) -> list[Interval]:
    """The estimate's intervals, widest first."""
    return sorted(result.estimate.intervals, key=lambda i: i.high - i.low, reverse=True)


def stated_whisker(claim: Claim, scale: str) -> tuple[float, float] | None:
    """A point claim's own uncertainty as (low, high): its CI, or ±1.96 sd on the working scale."""
    if claim.kind != "point" or claim.value is None:
        return None
    if claim.ci_low is not None and claim.ci_high is not None:
        return (claim.ci_low, claim.ci_high)
    if claim.sd is None:
        return None
    if scale == "log":
        sigma = WorkingScale("log").sd_forward(claim.value, claim.sd)
        # Capped so that an absurd sd cannot overflow; the axis is clipped long before.
        spread = math.exp(min(Z95 * sigma, 700.0))
        return (claim.value / spread, claim.value * spread)
    return (claim.value - Z95 * claim.sd, claim.value + Z95 * claim.sd)


def claim_rows(
    result: ReconcileResult, claims: Sequence[Claim], sources: Sequence[Source]
) -> list[Row]:
    names = {source.id: source.label for source in sources}
    uses = {use.id: use for use in result.sources}
    assessments = {a.index: a for a in result.claims}
    n = len(claims)
    rows = []
    for i, claim in enumerate(claims):
        use = uses.get(claim.source)
        assessment = assessments.get(i)
        weight = float(assessment.weight) if assessment is not None else 0.0
        outlier = bool(assessment.outlier) if assessment is not None else False
        grade = grade_text(use)
        label = shorten(names.get(claim.source, claim.source))
        note = f"{minus_signs(describe_claim(claim))} · {percent(weight)}"
        if outlier:
            note += " · outlier"
        rows.append(
            Row(
                y=float(n - i),
                claim=claim,
                label=f"{label} ({grade})" if grade else label,
                note=note,
                colour=credibility_colour(use) if use is not None else UNKNOWN_COLOUR,
                weight=weight,
                outlier=outlier,
                whisker=stated_whisker(claim, result.scale),
            )
        )
    return rows


#: Axis ends stay finite: 10**307 and 1e307 leave room below the largest double.
_MAX_EXPONENT: Final = 307.0
_MAX_LINEAR: Final = 1e307


def x_limits(result: ReconcileResult, rows: Sequence[Row]) -> tuple[float, float]:
    """Axis limits covering every figure, interval and bound, with room for the arrows."""
    figures: list[float] = [result.estimate.value]
    for interval in result.estimate.intervals:
        figures += [interval.low, interval.high]
    if result.prediction is not None:
        figures += [result.prediction.low, result.prediction.high]
    for row in rows:
        figures += list(row.claim.numbers())
        if row.whisker is not None:
            figures += list(row.whisker)
    values = np.array([f for f in figures if math.isfinite(f)], dtype=float)
    log = result.scale == "log"
    if log:
        values = np.log10(values[values > 0])
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo
    if span <= 0:  # every figure equal: show a factor of two (log) or ±10 % around it
        span = 0.3 if log else max(abs(lo) * 0.2, 1.0)
        lo, hi = lo - span / 2, hi + span / 2
    pad = 0.08 * span
    lo, hi = lo - pad, hi + pad
    # An open bound needs room for its arrow: a fifth of the axis beyond the bound.
    arrow = 0.2 * (hi - lo)
    for row in rows:
        if row.claim.value is None:
            continue
        bound = math.log10(row.claim.value) if log else row.claim.value
        if row.claim.kind == "at_most":
            lo = min(lo, bound - arrow)
        elif row.claim.kind == "at_least":
            hi = max(hi, bound + arrow)
    # Pads and arrows can step past the largest double near its end: keep the axis finite.
    if log:
        lo, hi = max(lo, -_MAX_EXPONENT), min(hi, _MAX_EXPONENT)
        return (10.0**lo, 10.0**hi)
    return (max(lo, -_MAX_LINEAR), min(hi, _MAX_LINEAR))


def middle(low: float, high: float, log: bool) -> float:
    return math.sqrt(low * high) if log else (low + high) / 2


def ramp(k: int, n: int, first: float, last: float) -> float:
    """The k-th of n steps from ``first`` to ``last`` (``first`` when n is 1): the shading and
    bar widths of nested intervals, however many levels were asked for."""
    return first if n <= 1 else first + (last - first) * k / (n - 1)


def towards_centre(x: float, limits: tuple[float, float], log: bool, share: float) -> float:
    """``x`` (an end of the axis) moved ``share`` of the axis length towards its centre."""
    low, high = (math.log(v) for v in limits) if log else limits
    step = share * (high - low) * (1 if x <= (limits[0] + limits[1]) / 2 else -1)
    return math.exp(math.log(x) + step) if log else x + step


def marker_area(weight: float, largest: float) -> float:
    # Area in points² grows with the claim's weight relative to the heaviest claim, as in
    # metafor's forest(); a claim of weight 0 stays visible at the smallest size.
    share = weight / largest if largest > 0 else 0.0
    return 28.0 + 160.0 * share


def summary_note(result: ReconcileResult) -> str:
    intervals = widest_first(result)
    head = figure_text(result.estimate.value)
    if not intervals:
        return head
    widest = intervals[0]
    return f"{head} ({widest.level:.0%}: {span_text(widest.low, widest.high)})"


def subtitle_parts(result: ReconcileResult, unit: str | None) -> list[str]:
    unit_text = f" {shorten(unit, 40)}" if unit else ""
    parts = [f"About {figure_text(result.estimate.value)}{unit_text}"]
    parts += [f"{i.level:.0%} range {span_text(i.low, i.high)}" for i in result.estimate.intervals]
    return parts
