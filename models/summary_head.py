"""The headline finding of one reconciliation (see :mod:`models.summary`, which derives the
rest): a split between groups of claims, a one-sided bound, a range that bounds close, a
central figure, or, for a moving quantity, the time course.

Claims are cited in an order that depends on their content, never on their position in the
request (:class:`~models.summary_context.Context`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from models import findings
from models.claims import Claim
from models.findings import (
    HETEROGENEITY_LEVEL,
    TROUGH_DENSITY,
    Figure,
    Side,
)
from models.result import Interval
from models.summary_context import Context
from models.wording import (
    chance,
    computed_exponent,
    date_text,
    format_computed,
    quote_number,
)

__all__ = ["bounds_only", "central", "one_sided", "split", "split_of", "time_course",
           "time_groups"]


def time_groups(ctx: Context, wrong: set[int]) -> list[tuple[int, ...]] | None:
    """Figures about the level on the estimate's date that fall on both sides of a trough
    (density under TROUGH_DENSITY of the peak at the estimate): the evidence on that date
    splits, and its central figure is a number nobody's evidence points to."""
    result, time = ctx.result, ctx.result.time
    if time is None or result.posterior is None:
        return None
    values = np.asarray(result.posterior.values)
    density = np.asarray(result.posterior.density)
    if values.size < 2 or not density.max() > 0:
        return None
    if float(np.interp(result.centre, values, density)) >= TROUGH_DENSITY * float(density.max()):
        return None
    on_date = [i for i in range(ctx.n) if i not in wrong and ctx.claims[i].horizon == "level"
               and ctx.claims[i].kind in ("point", "range")
               and ctx.claims[i].as_of in (time.at, None)]
    below = [i for i in on_date if _figure_of(ctx.claims[i]) < result.centre]
    above = [i for i in on_date if _figure_of(ctx.claims[i]) > result.centre]
    return [ctx.ordered(below), ctx.ordered(above)] if below and above else None


def _in_range(ctx: Context, name: str, x: float, path: str, intervals: Sequence[Interval]
              ) -> Figure:
    """A computed figure rounded by the widest of ``intervals`` (its own uncertainty)."""
    widest = max(intervals, key=lambda iv: iv.level)
    low, high = (0.0, 0.0) if widest.low is None or widest.high is None else (widest.low,
                                                                             widest.high)
    exponent = computed_exponent(low, high, x, whole=ctx.whole)
    return Figure(name, float(x), format_computed(x, exponent), path, exponent=exponent)


def _range_figures(ctx: Context, names: tuple[str, str], where: str, k: int, low: float,
                   high: float, intervals: Sequence[Interval], opened: list[str]
                   ) -> list[Figure]:
    """The figures of a range's ends ``names`` (the interval ``where``.intervals.``k``); an end
    no claim sets is left out and its name added to ``opened``."""
    out = []
    for name, end, x, is_open in zip(names, ("low", "high"), (low, high),
                                     ctx.open_ends(low, high), strict=True):
        if is_open:
            opened.append(name)
        else:
            out.append(_in_range(ctx, name, x, f"{where}.intervals.{k}.{end}", intervals))
    return out


def _date_figure(name: str, day: date, path: str) -> Figure:
    return Figure(name, float(day.toordinal()), date_text(day), path)


def time_course(ctx: Context, wrong: set[int]) -> findings.TimeCourse:
    time = ctx.result.time
    if time is None:
        raise ValueError("A time course needs result.time.")
    estimate = ctx.result.estimate
    value = ctx.result.centre
    k = max(range(len(estimate.intervals)), key=lambda j: estimate.intervals[j].level)
    iv = estimate.intervals[k]
    figures = [_in_range(ctx, "estimate", value, "estimate.value", estimate.intervals)]
    opened: list[str] = []
    if iv.low is not None and iv.high is not None:
        figures += _range_figures(ctx, ("low", "high"), "estimate", k, iv.low, iv.high,
                                  estimate.intervals, opened)
    figures.append(Figure("level", iv.level, _level_text(iv.level),
                          f"estimate.intervals.{k}.level"))
    if time.at is not None:
        figures.append(_date_figure("date", time.at, "time.at"))
    kept = [i for i in range(ctx.n) if i not in wrong]
    first = time.trajectory[0]
    # "Up from" only where a kept claim spoke of that first day's level: a running total's
    # earlier level is lower by construction, which is no news.
    spoken = any(ctx.claims[i].horizon == "level" and ctx.claims[i].as_of == first.date
                 for i in kept)
    if first.date is not None and time.at is not None and first.date < time.at and spoken:
        figures += [_in_range(ctx, "first", first.value, "time.trajectory.0.value",
                              first.intervals),
                    _date_figure("first_date", first.date, "time.trajectory.0.date")]
    level_claims = [i for i in kept if ctx.claims[i].horizon == "level"]
    on_date = [i for i in level_claims if ctx.claims[i].as_of in (time.at, None)]
    totals = [i for i in kept if ctx.claims[i].horizon == "total"]
    if time.total is not None and totals:
        ends = sorted(totals, key=lambda i: (_figure_of(ctx.claims[i]), ctx.key(i)))
        for end, i in (("total.min", ends[0]), ("total.max", ends[-1])):
            c = ctx.claims[i]
            name = "value" if c.kind != "range" else ("low" if end == "total.min" else "high")
            x = float(getattr(c, name))
            figures.append(Figure(end, x, quote_number(x), f"claims.{i}.{name}", quoted=True))
        t = time.total
        j = max(range(len(t.intervals)), key=lambda q: t.intervals[q].level)
        tiv = t.intervals[j]
        if tiv.low is not None and tiv.high is not None:
            figures += _range_figures(ctx, ("total_low", "total_high"), "time.total", j,
                                      tiv.low, tiv.high, t.intervals, opened)
    else:
        totals = []
    # Level claims judged wrong still speak of the level: their discounting is said below.
    has_level = any(c.horizon == "level" for c in ctx.claims)
    bounds_only = bool(level_claims) and all(
        ctx.claims[i].kind in ("at_least", "at_most") for i in level_claims)
    if bounds_only:
        lows = [i for i in level_claims if ctx.claims[i].kind == "at_least"]
        highs = [i for i in level_claims if ctx.claims[i].kind == "at_most"]
        for name, group, pick in (("level.lower", lows, max), ("level.upper", highs, min)):
            if group:
                i = pick(group, key=lambda k: (float(ctx.claims[k].value or 0.0), ctx.key(k)))
                x = float(ctx.claims[i].value or 0.0)
                figures.append(Figure(name, x, quote_number(x), f"claims.{i}.value",
                                      quoted=True))
                on_date.append(i)
        # The level's computed figures are the prior's here: none is printed.
        figures = [f for f in figures
                   if f.name not in ("estimate", "low", "high", "first", "first_date")]
        opened = [name for name in opened if name not in ("low", "high")]
    return findings.TimeCourse(dynamics=time.dynamics, has_level=has_level,
                               level_bounds_only=bounds_only, open=tuple(opened),
                               claims=ctx.ordered(set(on_date) | set(totals)),
                               figures=tuple(figures))


# -- headline ---------------------------------------------------------------------------------


def central(ctx: Context) -> findings.CentralFigure:
    k, level, low, high = ctx.widest()
    # Only bounds on one side leave the estimate without a value or an end, and those take
    # the one-sided headline first; the fallbacks keep the types honest.
    value = ctx.result.estimate.value
    value = ctx.result.centre if value is None else value
    low = value if low is None else low
    high = value if high is None else high
    open_low, open_high = ctx.open_ends(low, high)
    # An end no claim sets is not printed (the words say so instead), so it is no figure of the
    # finding; the printed figures keep their rounding.
    figures = (
        ctx.computed("estimate", value, "estimate.value"),
        *(() if open_low else (ctx.computed("low", low, f"estimate.intervals.{k}.low"),)),
        *(() if open_high else (ctx.computed("high", high, f"estimate.intervals.{k}.high"),)),
        Figure("level", level, _level_text(level), f"estimate.intervals.{k}.level"),
    )
    opened = tuple(name for name, is_open in (("low", open_low), ("high", open_high))
                   if is_open)
    return findings.CentralFigure(figures=figures, open=opened)


def _level_text(level: float) -> str:
    return f"{quote_number(round(100 * level, 6))}%"


def one_sided(ctx: Context, wrong: set[int]) -> findings.OneSidedBound | None:
    # The claims the answer keeps decide: "at least 3,000" beside a discounted "at most 1,000"
    # is one-sided evidence, and a central figure there would come from the prior alone.
    pool = _bound_pool(ctx, wrong)
    kinds = {ctx.claims[i].kind for i in pool}
    if kinds not in ({"at_least"}, {"at_most"}):
        return None
    side: Side = "at_least" if kinds == {"at_least"} else "at_most"
    sign = 1.0 if side == "at_least" else -1.0
    strongest = max(pool, key=lambda i: (sign * float(ctx.claims[i].value or 0.0),
                                         -ctx.rank(i)))
    return findings.OneSidedBound(side=side, claims=(strongest,),
                                  figures=(*ctx.quoted(strongest), *_doubt(ctx)))


def _bound_pool(ctx: Context, wrong: set[int]) -> list[int]:
    """The claims a bounds headline speaks of: those the range rests on when bounds alone set
    it (credible ones, :func:`models.bounds.credible`), else the claims not judged wrong."""
    estimate = ctx.result.estimate
    if estimate.basis == "bounds" and estimate.bounds:
        return list(estimate.bounds)
    return [i for i in range(ctx.n) if i not in wrong] or list(range(ctx.n))


def bounds_only(ctx: Context, wrong: set[int]) -> findings.BoundsOnly | findings.Split | None:
    # The claims the answer keeps decide, as for one-sided bounds: a discounted figure beside
    # two bounds leaves bounds only, and a central figure there would be the flat middle.
    kept = [i for i in range(ctx.n) if i not in wrong]
    if any(ctx.claims[i].kind == "point" for i in kept):
        return None
    pool = _bound_pool(ctx, wrong)
    lows = [(x, i) for i in pool if (x := _lower(ctx.claims[i])) is not None]
    highs = [(x, i) for i in pool if (x := _upper(ctx.claims[i])) is not None]
    if not lows or not highs:
        return None
    lo, i_lo = max(lows, key=lambda t: (t[0], -ctx.rank(t[1])))
    hi, i_hi = min(highs, key=lambda t: (t[0], ctx.rank(t[1])))
    if lo > hi:
        # Bounds that cannot both hold and neither judged wrong: the evidence splits.
        if ctx.result.estimate.value is not None:
            return None
        uppers = ctx.ordered(i for _, i in highs)
        lowers = ctx.ordered(i for _, i in lows)
        return split_of(ctx, [uppers, lowers])
    cited = ctx.ordered({i_lo, i_hi})
    figures = (_end_figure(ctx, i_lo, "lower"), _end_figure(ctx, i_hi, "upper"),
               *(f for i in cited for f in ctx.quoted(i)))
    return findings.BoundsOnly(claims=cited, figures=(*figures, *_doubt(ctx)))


def _doubt(ctx: Context) -> tuple[Figure, ...]:
    """The chance that the bounds a bounds-only range rests on all hold, when their grades
    make it less likely than not: the words then say the range assumes them."""
    p = ctx.result.estimate.p_bounds_hold
    if ctx.result.estimate.basis != "bounds" or p is None or not 0 < p < 0.5:
        return ()
    return (Figure("p_hold", p, chance(p), "estimate.p_bounds_hold"),)


def _lower(c: Claim) -> float | None:
    return c.value if c.kind == "at_least" else (c.low if c.kind == "range" else None)


def _upper(c: Claim) -> float | None:
    return c.value if c.kind == "at_most" else (c.high if c.kind == "range" else None)


def _end_figure(ctx: Context, i: int, end: str) -> Figure:
    c = ctx.claims[i]
    name = "value" if c.kind != "range" else ("low" if end == "lower" else "high")
    x = float(getattr(c, name))
    return Figure(end, x, ctx.quote(x), f"claims.{i}.{name}", quoted=True)


def split(ctx: Context, wrong: set[int]) -> findings.Split | None:
    groups = _robust_groups(ctx, wrong) if ctx.result.method == "robust" else _pooled_groups(ctx)
    return split_of(ctx, groups)


def split_of(ctx: Context, groups: list[tuple[int, ...]] | None) -> findings.Split | None:
    """The split headline of ``groups`` (at least two), lowest figures first."""
    if groups is None or len(groups) < 2:
        return None
    by = ctx.by
    groups = sorted(groups, key=lambda g: (min(_figure_of(ctx.claims[i]) for i in g),
                                           ctx.key(g[0])))
    figures: list[Figure] = []
    for g, members in enumerate(groups):
        ends = sorted(members, key=lambda i: (_figure_of(ctx.claims[i]), ctx.key(i)))
        for end, i in (("min", ends[0]), ("max", ends[-1])):
            x = _figure_of(ctx.claims[i])
            name = "value" if ctx.claims[i].kind != "range" else "low"
            figures.append(Figure(f"groups.{g}.{end}", x, quote_number(x),
                                  f"claims.{i}.{name}", quoted=True))
        figures.append(ctx.share(f"groups.{g}.share", sum(by[i].share for i in members), None))
    cited = ctx.ordered([i for g in groups for i in g])
    return findings.Split(groups=tuple(groups), claims=cited, figures=tuple(figures))


def _figure_of(c: Claim) -> float:
    """The figure a claim points to: its value, or the middle of a stated range."""
    if c.kind == "range":
        return float(c.low or 0.0)
    return float(c.value or 0.0)


def _robust_groups(ctx: Context, wrong: set[int]) -> list[tuple[int, ...]] | None:
    result = ctx.result
    if result.disagreement.modes < 2 or result.posterior is None:
        return None
    values = np.asarray(result.posterior.values)
    density = np.asarray(result.posterior.density)
    if values.size < 2 or not density.max() > 0:
        return None
    at_estimate = float(np.interp(result.centre, values, density))
    if at_estimate >= TROUGH_DENSITY * float(density.max()):
        return None
    groups: list[tuple[int, ...]] = []
    for cluster in result.disagreement.clusters:
        figures = ctx.ordered([i for i in cluster if ctx.claims[i].kind in ("point", "range")
                               and i not in wrong])
        if figures and figures not in groups:
            groups.append(figures)
    seen = [i for g in groups for i in g]
    if len(seen) != len(set(seen)):
        return None  # a figure compatible with two groups: no clean split to report
    return groups


def _pooled_groups(ctx: Context) -> list[tuple[int, ...]] | None:
    het = ctx.result.heterogeneity
    if het is None or het.q_df < 1 or not het.q_pvalue < HETEROGENEITY_LEVEL:
        return None
    m = ctx.result.centre
    below: list[int] = []
    above: list[int] = []
    for i, c in enumerate(ctx.claims):
        lo, hi = _own_interval(c)
        if lo <= m <= hi:
            return None
        (below if hi < m else above).append(i)
    if not (below and above):
        return None
    # Two groups only when each holds together: every pair within a group has overlapping
    # intervals. Evenly spread figures (polls at 40, 41.5, 43, 45, 46.5, 48 with tight sds)
    # conflict within either half as much as across the middle: no split to report there.
    for group in (below, above):
        spans = [_own_interval(ctx.claims[i]) for i in group]
        if max(lo for lo, _ in spans) > min(hi for _, hi in spans):
            return None
    return [ctx.ordered(below), ctx.ordered(above)]


def _own_interval(c: Claim) -> tuple[float, float]:
    """A point claim's own interval: its stated CI, else value ± 1.96 sd."""
    if c.ci_low is not None and c.ci_high is not None:
        return c.ci_low, c.ci_high
    value, sd = float(c.value or 0.0), float(c.sd or 0.0)
    return value - 1.96 * sd, value + 1.96 * sd
