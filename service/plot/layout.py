"""Geometry of the forest plot: one row per claim, the x-axis limits, and the small rules of
placement (where a bound's arrow ends, how large a square is, how thick a nested bar is).

Presentation only: everything is read off the finished result and the request's claims."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from models.claim_words import describe_claim
from models.claims import Claim, Source
from models.encode import WorkingScale
from models.result import Interval, ReconcileResult
from service.plot.style import FONT, LABEL_LINES, GradeStyle, grade_style
from service.plot.text import (
    Measure,
    drawable,
    figure_text,
    fit_lines,
    grade_text,
    minus_signs,
    open_span_text,
    percent,
    shorten,
)

__all__ = [
    "Z95",
    "EchoBand",
    "Row",
    "Rows",
    "central_value",
    "claim_rows",
    "ends_on",
    "figure_limits",
    "label_width",
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
    """One claim row: where and how to draw it.

    ``label`` is the source's name in one or more lines; ``grade`` how the source's grade is
    drawn and ``grade_label`` the letter (or percentage) printed beside the name; ``share`` how
    much the estimate rests on the claim (its marker's area and the percentage on the right);
    ``group`` the origin the claim echoes with others, if any; ``index`` the claim's place in the
    request.
    """

    y: float
    claim: Claim
    label: tuple[str, ...]
    grade: GradeStyle
    grade_label: str
    note: str
    share: float
    outlier: bool
    whisker: tuple[float, float] | None
    group: str | None = None
    index: int = 0

    @property
    def colour(self) -> str:
        return self.grade.colour


@dataclass(frozen=True, slots=True)
class EchoBand:
    """Claims repeating one origin, drawn together: a heading row at ``top`` and the members'
    rows down to ``bottom``; ``share`` is the group's total (it counts once)."""

    origin: str
    top: float
    bottom: float
    share: float
    claims: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Rows:
    """The claim rows, the echo groups among them, and ``slots``: rows plus headings."""

    rows: tuple[Row, ...]
    bands: tuple[EchoBand, ...]
    slots: int


def ends_on(interval: Interval, limits: tuple[float, float]) -> tuple[float, float]:
    """An interval's ends, an open end (None) drawn at the axis's end."""
    low = limits[0] if interval.low is None else interval.low
    high = limits[1] if interval.high is None else interval.high
    return low, high


def widest_first(result: ReconcileResult) -> list[Interval]:
    """The estimate's intervals, widest first (an interval open on a side is the widest)."""

    def width(i: Interval) -> float:
        if i.low is None or i.high is None:
            return math.inf
        return i.high - i.low

    return sorted(result.estimate.intervals, key=lambda i: (width(i), i.level), reverse=True)


def central_value(result: ReconcileResult) -> float | None:
    """The central figure to draw, or None: there is none (bounds on one side only), or the
    headline is not a figure (a range set by bounds, a bound, a split), and a line at the
    model's median would show a figure the words refuse to print. A quantity that moves has
    one: its level on the estimate's date."""
    summary = result.summary
    if result.time is not None:  # a moving quantity's headline speaks of its course
        return result.estimate.value
    if summary is not None and summary.kind != "figure":
        return None
    return result.estimate.value


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


def _order(claims: Sequence[Claim]) -> list[int | tuple[str, tuple[int, ...]]]:
    """Request order, except that claims echoing one origin (two or more sharing it) follow
    the first of them: each such origin appears once, as (origin, its claims), before them."""
    members: dict[str, list[int]] = {}
    for i, claim in enumerate(claims):
        if claim.origin is not None:
            members.setdefault(claim.origin, []).append(i)
    order: list[int | tuple[str, tuple[int, ...]]] = []
    for i, claim in enumerate(claims):
        origin = claim.origin
        if origin is None or len(members[origin]) < 2:
            order.append(i)
        elif members[origin][0] == i:
            order.append((origin, tuple(members[origin])))
            order += members[origin]
    return order


def label_width(names: Sequence[str], measure: Measure, cap: float) -> float:
    """The width the names' column needs, at most ``cap`` inches: the widest name on one line,
    or, for a name wider than ``cap``, the narrowest width that holds it on two lines.

    Only the longest few names are measured (see :meth:`Measure.widest`).
    """
    longest = sorted(set(names), key=len, reverse=True)[:8]
    need = 0.0
    for name in longest:
        width = measure.width(name, FONT)
        if width > cap:
            width = min(cap, _two_lines(name, measure))
        need = max(need, width)
    return need


def _two_lines(name: str, measure: Measure) -> float:
    """Width of ``name`` broken between words into two lines as even as can be."""
    words = name.split()
    if len(words) < 2:
        return measure.width(name, FONT) / 2 + 0.05  # a long word is broken inside
    best = math.inf
    for k in range(1, len(words)):
        head = measure.width(" ".join(words[:k]), FONT)
        if head >= best:  # the first line only grows from here
            break
        best = min(best, max(head, measure.width(" ".join(words[k:]), FONT)))
    return best


def claim_rows(
    result: ReconcileResult,
    claims: Sequence[Claim],
    sources: Sequence[Source],
    measure: Measure,
    label_in: float,
    when: Sequence[str] | None = None,
) -> Rows:
    """One row per claim, echoes of one origin together under a heading; names wrapped to
    ``label_in`` inches (see :func:`label_width`). ``when`` (one text per claim), for a
    quantity that moves, says what moment each claim speaks of (" · 18 Oct",
    " in total · 17 Oct") and follows the figure in the claim's words."""
    names = {source.id: source.label for source in sources}
    uses = {use.id: use for use in result.sources}
    assessments = {a.index: a for a in result.claims}
    # The share says how much the estimate rests on a claim; a result without shares (all
    # zero) falls back on the sensitivity, the only measure it has.
    by_share = any(a.share > 0 for a in result.claims)

    def share_of(i: int) -> float:
        a = assessments.get(i)
        if a is None:
            return 0.0
        return float(a.share if by_share else a.weight)

    order = _order(claims)
    slots = len(order)
    rows: list[Row] = []
    bands: list[EchoBand] = []
    grouped: set[int] = set()
    for k, item in enumerate(order):
        y = float(slots - k)
        if isinstance(item, tuple):
            origin, group = item
            bands.append(EchoBand(origin, y, y - len(group), sum(map(share_of, group)), group))
            grouped.update(group)
            continue
        i, claim = item, claims[item]
        use = uses.get(claim.source)
        assessment = assessments.get(i)
        outlier = bool(assessment.outlier) if assessment is not None else False
        share = share_of(i)
        said = minus_signs(describe_claim(claim)) + (when[i] if when is not None else "")
        note = f"{said} · {percent(share)}"
        if outlier:
            note += " · likely wrong"
        name = drawable(names.get(claim.source, claim.source))
        group_of = claim.origin if i in grouped else None
        rows.append(
            Row(
                y=y,
                claim=claim,
                label=tuple(fit_lines(name, measure, FONT, label_in, LABEL_LINES)),
                grade=grade_style(use),
                grade_label=grade_text(use),
                note=note,
                share=share,
                outlier=outlier,
                whisker=stated_whisker(claim, result.scale),
                group=group_of,
                index=i,
            )
        )
    return Rows(tuple(rows), tuple(bands), slots)


#: Axis ends stay finite: 10**307 and 1e307 leave room below the largest double.
_MAX_EXPONENT: Final = 307.0
_MAX_LINEAR: Final = 1e307


def x_limits(result: ReconcileResult, rows: Sequence[Row]) -> tuple[float, float]:
    """Axis limits covering every figure, interval and bound, with room for the arrows."""
    figures: list[float | None] = [result.estimate.value]
    for interval in result.estimate.intervals:
        figures += [interval.low, interval.high]
    if result.prediction is not None:
        figures += [result.prediction.low, result.prediction.high]
    return figure_limits(figures, result.estimate.intervals, rows, result.scale == "log")


def figure_limits(
    figures: Sequence[float | None],
    intervals: Sequence[Interval],
    rows: Sequence[Row],
    log: bool,
) -> tuple[float, float]:
    """Limits of an axis of the quantity covering ``figures`` (None ignored), the ends of
    ``intervals`` (an open end needs room for its arrow) and every claim in ``rows`` (a bound
    needs room for its arrow)."""
    figures = list(figures)
    open_low = open_high = False
    for interval in intervals:
        figures += [interval.low, interval.high]
        open_low |= interval.low is None
        open_high |= interval.high is None
    for row in rows:
        figures += list(row.claim.numbers())
        if row.whisker is not None:
            figures += list(row.whisker)
    values = np.array([f for f in figures if f is not None and math.isfinite(f)], dtype=float)
    if log:
        values = np.log10(values[values > 0])
    if values.size == 0:  # nothing finite to show (never from a valid request): any axis
        values = np.zeros(1)
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo
    if span <= 0:  # every figure equal: show a factor of two (log) or ±10 % around it
        span = 0.3 if log else max(abs(lo) * 0.2, 1.0)
        lo, hi = lo - span / 2, hi + span / 2
    pad = 0.08 * span
    lo, hi = lo - pad, hi + pad
    # An open bound, or an open end of the estimate's range, needs room for its arrow: a
    # fifth of the axis beyond the figures.
    arrow = 0.2 * (hi - lo)
    lo, hi = (lo - arrow if open_low else lo), (hi + arrow if open_high else hi)
    for row in rows:
        if row.claim.value is None:
            continue
        if log and row.claim.value <= 0:
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
    """The summary row's words: the central figure with the widest range ("1,600 (90%:
    1,100–8,900)", rounded as the summary rounds them; "4.1 (90%: from 0.92 up)" when no claim
    sets an end), or only the range when no central figure is drawn ("90%: at least 98,400")."""
    intervals = widest_first(result)
    value = central_value(result)
    if not intervals:
        return figure_text(value) if value is not None else "no figure"
    widest = intervals[0]
    span = open_span_text(widest.low, widest.high)
    if value is None:
        return f"{widest.level:.0%}: {span}"
    head = figure_text(value)
    printed = _summary_figures(result)
    if {"estimate", "level"} <= printed.keys() and not {"low", "high"} <= printed.keys():
        # An end no claim sets is not printed, as in the summary (models.findings.
        # OPEN_END_FACTOR): "4.1 (90%: from 0.92 up)".
        span = (f"from {printed['low']} up" if "low" in printed
                else f"up to {printed['high']}" if "high" in printed
                else "no end set by a claim")
        return f"{printed['estimate']} ({printed['level']}: {span})"
    if {"estimate", "low", "high", "level"} <= printed.keys():
        head, span = printed["estimate"], f"{printed['low']}–{printed['high']}"
        if printed["low"].startswith("\N{MINUS SIGN}"):
            span = f"{printed['low']} to {printed['high']}"
        return f"{head} ({printed['level']}: {span})"
    return f"{head} ({widest.level:.0%}: {span})"


def _summary_figures(result: ReconcileResult) -> dict[str, str]:
    """The texts of the summary's figures by name, as the words print them."""
    if result.summary is None or result.summary.kind != "figure":
        return {}
    return {f.name: minus_signs(f.text) for f in result.summary.figures}


def subtitle_parts(result: ReconcileResult, unit: str | None) -> list[str]:
    """The subtitle: the headline the words print (the response's summary); without one, the
    central figure and every range."""
    if result.summary is not None:
        return [drawable(result.summary.text)]
    unit_text = f" {shorten(unit, 40)}" if unit else ""
    value = result.estimate.value
    parts = [f"About {figure_text(value)}{unit_text}"] if value is not None else []
    return parts + [
        f"{i.level:.0%} range {open_span_text(i.low, i.high)}" for i in result.estimate.intervals
    ]
