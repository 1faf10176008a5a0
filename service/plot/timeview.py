"""The time view of a quantity that moves: the figures as points on a time axis, the band of the
estimate, and the eventual total in a column of its own.

Drawn above the forest rows when the result follows the quantity in time (``result.time``, see
:mod:`models.moving`); presentation only, everything is read off the finished result:

* **the course** (left): x is the date, y the quantity (logarithmic on the log scale, as the
  forest plot's axis). The level on each date of the trajectory is a line, its requested
  ranges shaded bands ("90% range", palest widest); the estimate's date (``time.at``) a
  dashed line with the level's figure above its band. Each claim about the level is drawn at
  its date as the forest rows draw it, turned upright: its source's grade as colour, marker
  and letter; a bound a short arrow towards its open side, a range a bar, a claim judged wrong
  hollow and crossed out. An undated claim sits on the latest date, as the model reads it;
  when no claim is dated at all the course is one position, "no date given";
* **the eventual total** (right, only when the result has one): the claims about the total,
  in date order across the column, over the total's band and figure, labelled "Eventual
  total".

The words stay a reader's: "estimate", "90% range", "never falls" (no word of the statistician's
trade, as on the forest plot).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Final

from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, Formatter

from models.claims import Claim
from models.result import Interval, Moment, ReconcileResult, TimeView
from models.summary_context import beyond_rule
from models.wording import computed_exponent, format_computed, range_exponents
from service.plot.draw import setup_quantity
from service.plot.layout import Row, ends_on, figure_limits, middle, ramp
from service.plot.style import BAND, FONT, INK, MUTED, OUTLIER_COLOUR
from service.plot.text import minus_signs

__all__ = [
    "MONTHS",
    "Beyond",
    "DateTicks",
    "Course",
    "claim_when",
    "course",
    "draw_course",
    "draw_total",
    "moment_text",
    "short_date",
    "time_handles",
    "time_heading",
    "unset_ends",
    "value_limits",
    "whole_numbers",
]

#: The ends of a range (low, high) that no claim sets, for a range's two ends.
Beyond = Callable[[float | None, float | None], tuple[str, ...]]


def unset_ends(claims: Sequence[Claim], scale: str, precision: float | None = None) -> Beyond:
    """The rule of :func:`models.summary.ends_beyond_claims`, bound to ``claims``, ``scale``
    and the request's ``precision``."""
    return beyond_rule(claims, scale, precision)

#: Month abbreviations, so that the axis does not depend on the machine's locale.
MONTHS: Final = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                 "Dec")
#: Day 0 of the x axis: a date is drawn at its days since EPOCH (no matplotlib date converter,
#: whose epoch is a global setting).
EPOCH: Final = date(1970, 1, 1)
#: Most date ticks on the axis.
_MAX_DATE_TICKS: Final = 7
#: The x position of the course when no claim is dated (one position, "no date given").
_UNDATED_X: Final = 0.0
#: Half the width, in days, of the band drawn at a course of one date (a band needs a width).
_ONE_DATE_HALF: Final = 0.3
#: Most claims whose grade letter is printed beside their marker; beyond, the letters crowd.
_MAX_LETTERS: Final = 20
#: Length of a bound's arrow in the time view, as a share of the axis.
_ARROW_SHARE: Final = 0.14
#: Marker area of a claim in the time view, in points² (the forest rows show the shares).
_MARK_AREA: Final = 70.0


def day_number(day: date) -> float:
    """A date as the x axis places it: days since :data:`EPOCH`."""
    return float((day - EPOCH).days)


def number_day(x: float) -> date:
    """The date at ``x`` on the axis (the day it falls in)."""
    return EPOCH + timedelta(days=math.floor(x + 1e-9))


def date_ticks(first: date, last: date, most: int = _MAX_DATE_TICKS) -> list[date]:
    """Tick dates from ``first`` to ``last`` (inclusive): every day, 2 days, week or fortnight
    (weeks on Mondays); the first of every month, 2, 3 or 6 months; or every year, 2, 5, 10, …
    years (January the first); the finest of these giving at most ``most`` ticks, and at least
    one tick."""
    for step in (1, 2, 7, 14):
        start = first if step < 7 else first + timedelta(days=-first.weekday() % 7)
        ticks = [start + timedelta(days=k) for k in range(0, (last - start).days + 1, step)]
        if 0 < len(ticks) <= most:
            return ticks
    months = (last.year - first.year) * 12 + last.month - first.month
    for step in (1, 2, 3, 6):
        ticks = [_month(first, k) for k in range(0, months + 1)]
        ticks = [t for t in ticks if first <= t <= last and (t.month - 1) % step == 0]
        if 0 < len(ticks) <= most:
            return ticks
    years = last.year - first.year + 1
    for step in (k * 10**e for e in range(5) for k in (1, 2, 5)):
        ticks = [date(y, 1, 1) for y in range(first.year, last.year + 1)
                 if y % step == 0 and first <= date(y, 1, 1) <= last]
        if len(ticks) <= most or step >= years:
            return ticks or [first]
    return [first]


def _month(first: date, k: int) -> date:
    """The first day of the k-th month after ``first``'s month."""
    months = first.year * 12 + first.month - 1 + k
    return date(months // 12, months % 12 + 1, 1)


def short_date(day: date, year: bool = True) -> str:
    """"18 Oct 2024", or "18 Oct" without the year."""
    text = f"{day.day} {MONTHS[day.month - 1]}"
    return f"{text} {day.year}" if year else text


@dataclass(frozen=True, slots=True)
class Course:
    """Where the time view puts things: each claim's date (None when nothing is dated), the
    x positions of the trajectory's moments, and whether the dates need their year."""

    time: TimeView
    dates: tuple[date | None, ...]
    xs: tuple[float, ...]
    moments: tuple[Moment, ...]
    dated: bool
    years: bool

    def x_of(self, i: int) -> float:
        """The x position of claim ``i`` (about the level)."""
        day = self.dates[i]
        return day_number(day) if day is not None else _UNDATED_X


def course(result: ReconcileResult, claims: Sequence[Claim]) -> Course:
    """The time view's positions for ``result`` (which must carry ``time``).

    A claim's date is the date of the trajectory moment that lists it (an undated claim is
    listed on the latest date, where the model reads it), else its own ``as_of``.
    """
    time = result.time
    if time is None:
        raise ValueError("A time view needs a result with time; this one is static.")
    listed: dict[int, date | None] = {}
    for moment in time.trajectory:
        for i in moment.claims:
            listed.setdefault(i, moment.date)
    dates = tuple(listed.get(i, claim.as_of) for i, claim in enumerate(claims))
    moments = tuple(m for m in time.trajectory if m.date is not None)
    dated = bool(moments)
    if not dated:
        moments = tuple(time.trajectory[:1])
        xs: tuple[float, ...] = (_UNDATED_X,) * len(moments)
    else:
        xs = tuple(day_number(m.date) for m in moments if m.date is not None)
    every = [d for d in dates if d is not None] + [m.date for m in moments if m.date is not None]
    years = len({d.year for d in every}) > 1
    return Course(time, dates, xs, moments, dated, years)


def claim_when(course_: Course, claims: Sequence[Claim]) -> list[str]:
    """Each claim's moment in words, to follow its figure in the forest rows: " · 18 Oct",
    " in total · 17 Oct", " · no date"."""
    out = []
    for claim in claims:
        day = claim.as_of  # an undated claim is drawn on the latest date, but said undated
        said = short_date(day, course_.years) if day is not None else "no date"
        out.append(f" in total · {said}" if claim.horizon == "total" else f" · {said}")
    return out


def _widest_first(intervals: Sequence[Interval]) -> list[Interval]:
    return sorted(intervals, key=lambda i: i.level, reverse=True)


def value_limits(result: ReconcileResult, rows: Sequence[Row]) -> tuple[float, float]:
    """Limits of the time view's y axis: every moment's figure and ranges, the total's, and
    every claim (with room for the arrows of bounds and open ends)."""
    time = result.time
    if time is None:
        raise ValueError("A time view needs a result with time; this one is static.")
    moments = list(time.trajectory) + ([time.total] if time.total is not None else [])
    figures: list[float | None] = [m.value for m in moments]
    intervals = [i for m in moments for i in m.intervals]
    return figure_limits(figures, intervals, rows, result.scale == "log")


def moment_text(moment: Moment, whole: bool, beyond: Beyond | None = None
                ) -> tuple[str, str]:
    """A moment's figure and its widest range as printed, rounded to the precision the range
    supports (:func:`models.wording.computed_exponent`): ("11,000", "90% range 4,400–22,000").

    ``beyond`` names the ends of a range that no claim sets
    (:func:`models.summary.ends_beyond_claims` bound to the claims and the scale): such an end
    is not printed, as in the answer's words ("90% range from 4,400 up")."""
    widest = _widest_first(moment.intervals)
    if not widest:
        return _computed(moment.value, None, None, whole), ""
    w = widest[0]
    head = _computed(moment.value, w.low, w.high, whole)
    unset = beyond(w.low, w.high) if beyond is not None else ()
    if unset and w.low is not None and w.high is not None:
        if len(unset) == 2:
            return head, f"{w.level:.0%} range: no claim sets either end"
        if unset == ("high",):
            return head, f"{w.level:.0%} range from {_computed(w.low, w.low, w.high, whole)} up"
        return head, f"{w.level:.0%} range up to {_computed(w.high, w.low, w.high, whole)}"
    if w.low is None or w.high is None:
        end = w.low if w.low is not None else w.high
        side = "at least" if w.low is not None else "up to"
        span = ("no limit either way" if end is None
                else f"{side} {_computed(end, None, None, whole)}")
        return head, f"{w.level:.0%} range {span}"
    low_x = computed_exponent(w.low, w.high, w.low, whole=whole)
    high_x = computed_exponent(w.low, w.high, w.high, whole=whole)
    low_x, high_x = range_exponents(low_x, high_x, format_computed(w.low, low_x),
                                    format_computed(w.high, high_x))
    low = minus_signs(format_computed(w.low, low_x))
    high = minus_signs(format_computed(w.high, high_x))
    joiner = " to " if low.startswith("\N{MINUS SIGN}") else "–"
    return head, f"{w.level:.0%} range {low}{joiner}{high}"


def whole_numbers(claims: Sequence[Claim]) -> bool:
    """Whether every claimed figure is a whole number (a count): computed figures are then
    never printed with decimals."""
    return all(float(x).is_integer() for claim in claims for x in claim.numbers())


def _computed(x: float, low: float | None, high: float | None, whole: bool) -> str:
    if not math.isfinite(x):
        return f"{x:g}"
    if low is None or high is None:
        low = high = x  # no width to round by: two significant figures of the figure itself
    return minus_signs(format_computed(x, computed_exponent(low, high, x, whole=whole)))


class DateTicks(Formatter):
    """Date tick labels a reader reads at once: "18 Oct" (the year under the first tick and
    where it changes), "Oct" for month ticks over longer spans, "2024" over years; "no date
    given" when nothing is dated."""

    def __init__(self, dated: bool) -> None:
        self.dated = dated

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.format_ticks([x])[0]

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        if not self.dated:
            return ["no date given" for _ in values]
        days = [number_day(v) for v in values]
        if not days:
            return []
        span = (days[-1] - days[0]).days if len(days) > 1 else 0
        labels = []
        previous: int | None = None
        for day in days:
            if span > 6 * 365:
                labels.append(str(day.year))
                continue
            text = MONTHS[day.month - 1] if span > 200 else short_date(day, year=False)
            if day.year != previous:
                text += f"\n{day.year}"
            previous = day.year
            labels.append(text)
        return labels


def _setup_dates(ax: Axes, c: Course) -> None:
    if not c.dated:
        ax.set_xlim(_UNDATED_X - 1.0, _UNDATED_X + 1.0)
        ax.xaxis.set_major_locator(FixedLocator([_UNDATED_X]))
        ax.xaxis.set_major_formatter(DateTicks(dated=False))
        return
    xs = list(c.xs) + [c.x_of(i) for i in range(len(c.dates)) if c.dates[i] is not None]
    if c.time.at is not None:
        xs.append(day_number(c.time.at))
    first, last = min(xs), max(xs)
    # A few days across at least, so that a single date has neighbours on the axis, and room
    # beside the first and last dates for their markers and letters.
    pad = max(0.07 * (last - first), 0.8)
    low, high = first - pad, last + pad
    if high - low < 3.2:
        grow = (3.2 - (high - low)) / 2
        low, high = low - grow, high + grow
    ax.set_xlim(low, high)
    ticks = date_ticks(number_day(math.ceil(low)), number_day(math.floor(high)))
    ax.xaxis.set_major_locator(FixedLocator([day_number(t) for t in ticks]))
    ax.xaxis.set_major_formatter(DateTicks(dated=True))


def _style(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color(MUTED)
    ax.tick_params(labelsize=FONT, colors=INK)
    ax.tick_params(axis="y", which="minor", length=2, colors="#c9d1da")
    ax.grid(axis="y", which="major", color="#e4e8ee", linewidth=0.7, zorder=0)
    ax.set_axisbelow(True)


def draw_course(
    ax: Axes,
    result: ReconcileResult,
    c: Course,
    rows: Sequence[Row],
    limits: tuple[float, float],
    whole: bool,
    unit_label: str,
) -> None:
    """The course on ``ax``: the bands of the level over the dates, its line, the estimate's
    date, and the claims about the level at their dates."""
    log = result.scale == "log"
    # The forest plot's x axis turned upright (same ticks and labels), a little shorter.
    setup_quantity(ax, "y", result.scale, limits, max_ticks=7, bins=6)
    _setup_dates(ax, c)
    _style(ax)
    ax.set_ylabel(unit_label, fontsize=FONT + 0.5, color=INK, labelpad=4, parse_math=False)

    xs, moments = list(c.xs), list(c.moments)
    if len(xs) == 1:  # one date: a band needs a width
        xs = [xs[0] - _ONE_DATE_HALF, xs[0] + _ONE_DATE_HALF]
        moments = moments * 2
    levels = sorted({i.level for m in moments for i in m.intervals}, reverse=True)
    for k, level in enumerate(levels):
        lows, highs = [], []
        for m in moments:
            interval = next((i for i in m.intervals if i.level == level), None)
            low, high = ends_on(interval, limits) if interval else (m.value, m.value)
            lows.append(low)
            highs.append(high)
        ax.fill_between(xs, lows, highs, color=BAND, alpha=ramp(k, len(levels), 0.16, 0.38),
                        linewidth=0, zorder=1)
    ax.plot(xs, [m.value for m in moments], color=INK, linewidth=1.6, zorder=2,
            solid_capstyle="round")

    at = c.time.at
    value = result.estimate.value
    if value is not None:
        # The estimate's date as a dashed line (the forest rows' line at the estimate), its
        # figure above the widest band there, clear of the claims drawn on that date.
        at_x = day_number(at) if (at is not None and c.dated) else c.xs[-1]
        ax.axvline(at_x, color=INK, linestyle="--", linewidth=0.9, zorder=1.5)
        widest = _widest_first(result.estimate.intervals)
        top = ends_on(widest[0], limits)[1] if widest else value
        head, _ = moment_text(Moment(at, value, result.estimate.intervals, ()), whole)
        words = f"{head} on {short_date(at, c.years)}" if at is not None else head
        right_half = at_x > sum(ax.get_xlim()) / 2
        ax.annotate(words, (at_x, min(top, limits[1])), xytext=(-5 if right_half else 5, 5),
                    textcoords="offset points", ha="right" if right_half else "left",
                    va="bottom", fontsize=FONT + 0.5, fontweight="bold", color=INK, zorder=7,
                    annotation_clip=False,
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                          "edgecolor": "none", "alpha": 0.85})

    level_rows = [row for row in rows if row.claim.horizon == "level"]
    marks = [(c.x_of(row.index), row) for row in level_rows]
    _draw_marks(ax, marks, limits, log, letters=len(rows) <= _MAX_LETTERS)


def draw_total(
    ax: Axes,
    result: ReconcileResult,
    rows: Sequence[Row],
    limits: tuple[float, float],
    whole: bool,
    beyond: Beyond | None = None,
) -> None:
    """The eventual total's column: its ranges as bands, its figure as a line, and the claims
    about it in the order they were made (``ax`` shares the course's y axis)."""
    time = result.time
    if time is None or time.total is None:
        return
    total = time.total
    log = result.scale == "log"
    ax.set_xlim(0.0, 1.0)
    ax.set_xticks([])
    ax.tick_params(axis="y", which="both", labelleft=False, left=False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(MUTED)
    ax.grid(axis="y", which="major", color="#e4e8ee", linewidth=0.7, zorder=0)
    ax.set_axisbelow(True)
    intervals = _widest_first(total.intervals)
    for k, interval in enumerate(intervals):
        low, high = ends_on(interval, limits)
        ax.fill_between((0.08, 0.92), (low, low), (high, high), color=BAND,
                        alpha=ramp(k, len(intervals), 0.16, 0.38), linewidth=0, zorder=1)
    ax.plot((0.08, 0.92), (total.value, total.value), color=INK, linewidth=1.6, zorder=2)
    head, span = moment_text(total, whole, beyond)
    ax.text(0.5, -0.04, f"about {head}\n{span}" if span else f"about {head}",
            transform=ax.transAxes, ha="center", va="top", fontsize=FONT, color=INK,
            linespacing=1.3, parse_math=False)

    said = [row for row in rows if row.claim.horizon == "total"]
    said.sort(key=lambda row: (row.claim.as_of or date.max, row.y * -1))
    n = len(said)
    marks = [(0.5 if n == 1 else 0.22 + 0.56 * k / (n - 1), row) for k, row in enumerate(said)]
    _draw_marks(ax, marks, limits, log, letters=len(rows) <= _MAX_LETTERS)


def _draw_marks(
    ax: Axes,
    marks: Sequence[tuple[float, Row]],
    limits: tuple[float, float],
    log: bool,
    letters: bool,
) -> None:
    """Claims drawn upright at x: the forest rows' marks turned a quarter (a bound's arrow
    points up or down, a range is an upright bar), one collection per kind of mark."""
    bars: list[tuple[tuple[float, float], tuple[float, float]]] = []
    bar_colours: list[str] = []
    thin: list[tuple[tuple[float, float], tuple[float, float]]] = []
    thin_colours: list[str] = []
    heads: dict[str, list[tuple[float, float, str]]] = {}
    points: dict[str, list[tuple[float, float, str, str]]] = {}
    crosses: list[tuple[float, float]] = []
    for x, row in marks:
        claim, colour = row.claim, row.colour
        if row.whisker is not None:
            thin.append(((x, row.whisker[0]), (x, row.whisker[1])))
            thin_colours.append(colour)
            for end in row.whisker:
                heads.setdefault("_", []).append((x, end, colour))
        if claim.kind == "range" and claim.low is not None and claim.high is not None:
            bars.append(((x, claim.low), (x, claim.high)))
            bar_colours.append(colour)
            for end in (claim.low, claim.high):
                heads.setdefault("_", []).append((x, end, colour))
            y = middle(claim.low, claim.high, log)
        elif claim.kind in ("at_most", "at_least") and claim.value is not None:
            at_most = claim.kind == "at_most"
            edge = _arrow_tip(claim.value, limits, log, down=at_most)
            thin.append(((x, claim.value), (x, edge)))
            thin_colours.append(colour)
            heads.setdefault("v" if at_most else "^", []).append((x, edge, colour))
            y = claim.value
        else:
            y = float(claim.value if claim.value is not None else 0.0)
        face = "white" if row.outlier else colour
        points.setdefault(row.grade.marker, []).append((x, y, face, colour))
        if row.outlier:
            crosses.append((x, y))
        if letters:
            ax.annotate(row.grade_label, (x, y), xytext=(7, 0), textcoords="offset points",
                        ha="left", va="center", fontsize=FONT - 0.5, fontweight="bold",
                        color=INK, zorder=5, annotation_clip=False)
    for segments, colours, width, alpha in ((bars, bar_colours, 3.2, 0.55),
                                            (thin, thin_colours, 1.2, 1.0)):
        if segments:
            ax.add_collection(LineCollection(segments, colors=colours, linewidths=width,
                                             alpha=alpha, capstyle="butt", zorder=3),
                              autolim=False)
    for marker, entries in heads.items():
        xs, ys, inks = zip(*entries, strict=True)
        size = 60.0 if marker == "_" else 30.0
        kwargs: dict[str, Any] = {"c": list(inks)} if marker == "_" else {
            "facecolors": list(inks), "edgecolors": list(inks)}
        ax.scatter(xs, ys, s=size, marker=marker, linewidths=1.4, zorder=3.5, clip_on=False,
                   **kwargs)
    for marker, point_entries in points.items():
        xs, ys, faces, edges = zip(*point_entries, strict=True)
        ax.scatter(xs, ys, s=_MARK_AREA, marker=marker, facecolors=list(faces),
                   edgecolors=list(edges), linewidths=1.4, zorder=4, clip_on=False)
    if crosses:
        xs, ys = zip(*crosses, strict=True)
        ax.scatter(xs, ys, s=_MARK_AREA * 0.8, marker="x", color=OUTLIER_COLOUR,
                   linewidths=1.6, zorder=4.5, clip_on=False)


def _arrow_tip(value: float, limits: tuple[float, float], log: bool, down: bool) -> float:
    """Where a bound's arrow ends: :data:`_ARROW_SHARE` of the axis from the bound towards its
    open side, kept inside the axis. Shorter than the forest rows' arrows (which run to the
    axis's end): on a time axis many bounds side by side would otherwise stripe the view."""
    low, high = (math.log(v) for v in limits) if log else limits
    at = math.log(value) if log else value
    step = _ARROW_SHARE * (high - low)
    inner = 0.015 * (high - low)  # the head's centre sits just inside the end
    tip = max(at - step, low + inner) if down else min(at + step, high - inner)
    return math.exp(tip) if log else tip


def time_heading(time: TimeView) -> str:
    """The course's heading: what the line shows, in a reader's words."""
    if time.dynamics == "cumulative":
        return "Over time: a running total, which never falls"
    return "Over time: a level that can rise and fall"


def time_handles(result: ReconcileResult) -> list[Line2D | Patch]:
    """The time view's legend: the line, each range by its level, and the estimate's date."""
    time = result.time
    levels = sorted({i.level for m in (time.trajectory if time else ()) for i in m.intervals},
                    reverse=True)
    handles: list[Line2D | Patch] = [
        Line2D([0, 1], [0, 0], color=INK, linewidth=1.6, label="estimate")
    ]
    handles += [
        Patch(facecolor=BAND, alpha=ramp(k, len(levels), 0.16, 0.38), linewidth=0,
              label=f"{level:.0%} range")
        for k, level in enumerate(levels)
    ]
    if time is not None and time.at is not None and result.estimate.value is not None:
        handles.append(Line2D([0, 1], [0, 0], color=INK, linestyle="--", linewidth=0.9,
                              label="date of the estimate"))
    return handles
