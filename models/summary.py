"""Derive the findings of one reconciliation from its result (no words here; see explain).

The first finding is the headline, chosen by what the evidence supports:

1. :class:`~models.findings.Split` -- the posterior has several modes and the estimate sits in
   a trough between them (density under :data:`~models.findings.TROUGH_DENSITY` of the peak),
   or, for the pooling methods, the homogeneity test rejects and the pooled estimate lies
   outside every claim's own interval;
2. :class:`~models.findings.OneSidedBound` -- every claim is a bound on the same side;
3. :class:`~models.findings.BoundsOnly` -- no claim gives a figure, and bounds or stated ranges
   close the quantity from both sides;
4. :class:`~models.findings.CentralFigure` -- otherwise.

Then: what the answer rests on, whether the claims agree (conflicting pairs, or the
heterogeneity test of the pooling methods), the claims judged probably wrong, the echo groups,
and the bounds that bind, are violated or are slack.

Claims are cited in an order that depends on their content (source label, kind, figures), never
on their position in the request, so reordering the claims reorders nothing in the words.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np

from models import findings
from models.claims import Claim, Source
from models.findings import (
    HETEROGENEITY_LEVEL,
    NEGLIGIBLE_SHIFT,
    RESTS_ON_SHARE,
    SHIFT_RESOLUTION,
    TROUGH_DENSITY,
    Figure,
    Finding,
    Side,
    relative_shift,
)
from models.result import Heterogeneity, Interval, ReconcileResult
from models.summary_context import Context, ends_beyond_claims, is_whole
from models.wording import (
    Quotes,
    chance,
    computed_exponent,
    date_text,
    format_computed,
    p_value,
    quote_number,
)

__all__ = ["MAX_LISTED", "derive_findings", "ends_beyond_claims", "is_whole"]

#: Most evidence units named in "rests on": a paragraph, not a table.
MAX_LISTED = 5


def _discounted_groups(ctx: Context) -> list[tuple[int, ...]]:
    """Claims judged probably wrong (outliers): an origin whose echoes are all flagged as one
    group, every other flagged claim on its own.

    The pooling methods' residual test is symmetric with two units (both residuals are
    equal), so it names no claim wrong unless at least three units are pooled.
    """
    units = ctx.unit_members()
    if ctx.result.method != "robust" and len(units) < 3:
        return []
    by = ctx.by
    out: list[tuple[int, ...]] = []
    for members in units.values():
        flagged = [i for i in members if by[i].outlier]
        if len(flagged) == len(members) > 1 and ctx.claims[members[0]].origin is not None:
            out.append(members)
        else:
            out.extend((i,) for i in flagged)
    return sorted(out, key=lambda m: ctx.key(m[0]))


def derive_findings(
    result: ReconcileResult,
    claims: Sequence[Claim],
    sources: dict[str, Source],
    *,
    whole_numbers: bool | None = None,
    quotes: Quotes | None = None,
) -> tuple[Finding, ...]:
    """The findings of ``result``, headline first, texts still empty.

    A moving quantity (``result.time`` set) has a :class:`TimeCourse` headline; then what the
    level on the date rests on, the claims judged wrong and the echo groups. Bounds and
    agreement are not judged against the level on one date (a bound about the eventual
    total, or about another day, need not hold there).

    Parameters
    ----------
    result : ReconcileResult
        With each claim's ``share`` and ``estimate_without_unit`` filled in.
    claims : sequence of Claim
        The request's claims, in request order.
    sources : dict of id to Source
    whole_numbers : bool or None
        Whether the quantity is a count; None decides from the claims (:func:`is_whole`).
    quotes : Quotes, optional
        The answer's quoted figures (:class:`models.wording.Quotes`), shared with
        :func:`models.explain.render`; a new one by default.

    Returns
    -------
    tuple of Finding
    """
    whole = is_whole(claims) if whole_numbers is None else whole_numbers
    ctx = Context(result, claims, sources, whole, Quotes() if quotes is None else quotes)
    dropped = _discounted_groups(ctx)
    wrong = {i for m in dropped for i in m}
    if result.time is not None:
        split = _split_of(ctx, _time_groups(ctx, wrong))
        out: list[Finding] = (
            [split] if split is not None
            else [_time_course(ctx, wrong), *_rests_on(ctx, wrong, bounds_head=True)])
        out.extend(_discounted(ctx, m) for m in dropped)
        out.extend(_echo_groups(ctx))
        return tuple(out)
    head = (_split(ctx, wrong) or _one_sided(ctx, wrong) or _bounds_only(ctx, wrong)
            or _central(ctx))
    out = [head]
    bounds_only_head = isinstance(head, findings.OneSidedBound | findings.BoundsOnly)
    if not isinstance(head, findings.Split):  # a split reports each group's share instead
        out.extend(_rests_on(ctx, wrong, bounds_head=bounds_only_head))
    if result.heterogeneity is not None and result.heterogeneity.q_df >= 1:
        out.append(_heterogeneity(ctx, result.heterogeneity))
    out.extend(_discounted(ctx, m) for m in dropped)
    # After the discounted claims, so that "the other claims" follows the ones it excludes.
    if result.method == "robust" and not isinstance(head, findings.Split):
        out.extend(_agreement(ctx, wrong))
    out.extend(_echo_groups(ctx))
    bounds_head = bounds_only_head or (
        isinstance(head, findings.Split) and result.estimate.basis == "bounds")
    out.extend(_bounds(ctx, wrong, bounds_head=bounds_head))
    return tuple(out)


def _time_groups(ctx: Context, wrong: set[int]) -> list[tuple[int, ...]] | None:
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


def _time_course(ctx: Context, wrong: set[int]) -> findings.TimeCourse:
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


def _central(ctx: Context) -> findings.CentralFigure:
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


def _one_sided(ctx: Context, wrong: set[int]) -> findings.OneSidedBound | None:
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


def _bounds_only(ctx: Context, wrong: set[int]) -> findings.BoundsOnly | findings.Split | None:
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
        return _split_of(ctx, [uppers, lowers])
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


def _split(ctx: Context, wrong: set[int]) -> findings.Split | None:
    groups = _robust_groups(ctx, wrong) if ctx.result.method == "robust" else _pooled_groups(ctx)
    return _split_of(ctx, groups)


def _split_of(ctx: Context, groups: list[tuple[int, ...]] | None) -> findings.Split | None:
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


# -- what the answer rests on -----------------------------------------------------------------


def _rests_on(ctx: Context, wrong: set[int], *, bounds_head: bool) -> list[findings.RestsOn]:
    """The units the answer rests on, largest share first: "mainly" the fewest reaching
    RESTS_ON_SHARE, then "less" the other units no other finding describes (not judged wrong,
    not bounds), at most MAX_LISTED units in all, so every claim is named somewhere."""
    by = ctx.by
    units = sorted(ctx.unit_members().values(),
                   key=lambda m: (-round(sum(by[i].share for i in m), 9), ctx.key(m[0])))
    cited: list[int] = []
    figures: list[Figure] = []
    total = 0.0
    mainly = listed = 0
    last_main: float | None = None
    # A claim judged probably wrong is said so, with where the estimate would be without it;
    # it is never also what the answer "rests mainly on". "Mainly" then means the fewest units
    # holding RESTS_ON_SHARE of what the kept claims hold.
    units = [kept for m in units if (kept := tuple(i for i in m if i not in wrong))]
    kept_total = sum(by[i].share for m in units for i in m)
    for members in units:
        share = sum(by[i].share for i in members)
        # A unit with the same share as the last "mainly" one is named with it, never as "less".
        tied = last_main is not None and round(share, 9) == round(last_main, 9)
        main = total < RESTS_ON_SHARE * kept_total or tied
        # Bounds have their own findings, except under a bounds headline (which skips them).
        described_elsewhere = not bounds_head and all(
            ctx.claims[i].kind in ("at_least", "at_most") for i in members)
        if not main and (listed >= MAX_LISTED or described_elsewhere):
            continue
        rep = members[0]
        cited.extend(members)
        figures.extend(f for i in members for f in ctx.quoted(i))
        path = f"claims.{rep}.share" if len(members) == 1 else None
        figures.append(ctx.share(f"share.{rep}", share, path))
        listed += 1
        mainly += main
        if main:
            last_main = share
        total += share
    # Every claim judged wrong: the discounted findings say all there is to say.
    if not cited:
        return []
    return [findings.RestsOn(mainly=mainly, claims=tuple(cited), figures=tuple(figures))]


# -- agreement --------------------------------------------------------------------------------


def _heterogeneity(ctx: Context, het: Heterogeneity) -> findings.HeterogeneityTest:
    significant = het.q_pvalue < HETEROGENEITY_LEVEL
    figures = (
        Figure("p", het.q_pvalue, p_value(het.q_pvalue), "heterogeneity.q_pvalue"),
        Figure("level", HETEROGENEITY_LEVEL, f"{HETEROGENEITY_LEVEL:.2f}", None),
    )
    return findings.HeterogeneityTest(test="cochran_q", significant=significant,
                                      claims=ctx.ordered(range(ctx.n)), figures=figures)


def _agreement(ctx: Context, wrong: set[int]) -> list[Finding]:
    pairs = [(c.a, c.b) for c in ctx.result.disagreement.conflicts
             if c.a not in wrong and c.b not in wrong]
    if pairs:
        ordered = sorted((tuple(sorted(p, key=ctx.key)) for p in pairs),
                         key=lambda p: (ctx.key(p[0]), ctx.key(p[1])))
        first = ordered[0]
        figures = ctx.quoted(first[0]) + ctx.quoted(first[1])
        return [findings.Conflict(pairs=tuple((int(a), int(b)) for a, b in ordered),
                                  claims=(int(first[0]), int(first[1])), figures=figures)]
    rest = [i for i in range(ctx.n) if i not in wrong]
    if len({ctx.claims[i].evidence_unit for i in rest}) >= 2:
        return [findings.Agreement(claims=ctx.ordered(rest))]
    return []


# -- discounted claims and echoes ------------------------------------------------------------


def _discounted(ctx: Context, members: tuple[int, ...]) -> findings.Discounted:
    by = ctx.by
    rep = members[0]
    a = by[rep]
    figures = [f for i in members for f in ctx.quoted(i)]
    if a.p_wrong is not None:
        figures.append(Figure("p_wrong", a.p_wrong, chance(a.p_wrong), f"claims.{rep}.p_wrong"))
    if a.residual is not None:
        figures.append(Figure("residual", a.residual, format_computed(a.residual, -1),
                              f"claims.{rep}.residual", exponent=-1))
    # A whole origin leaves with its echoes; a single claim leaves alone (the rest of its
    # source's claims stay).
    name = "estimate_without_unit" if len(members) > 1 else "estimate_without"
    without = getattr(a, name)
    negligible = False
    if without is not None and ctx.anchored_without(members):
        shown = ctx.computed("estimate_without", without, f"claims.{rep}.{name}")
        figures.append(shown)
        # "Barely moves" only where the move does not show in print: pooled turnouts of 58 %,
        # 61.5 % and 66 % put the estimate at 61.9 %, 59.9 % without the 66 % (3 % relative,
        # under NEGLIGIBLE_SHIFT), the largest move of the three.
        centre = ctx.result.centre
        negligible = (relative_shift(centre, without) < NEGLIGIBLE_SHIFT
                      and shown.text == ctx.computed("estimate", centre, None).text)
    return findings.Discounted(negligible=negligible, claims=members, figures=tuple(figures))


def _echo_groups(ctx: Context) -> list[findings.EchoGroup]:
    by = ctx.by
    out = []
    for members in ctx.unit_members().values():
        origin = ctx.claims[members[0]].origin
        if origin is None or len(members) < 2:
            continue
        rep = members[0]
        figures = [ctx.share("total_share", sum(by[i].share for i in members), None)]
        distinct: dict[tuple[float, ...], int] = {}
        for i in members:
            distinct.setdefault(tuple(f.value for f in ctx.quoted(i)), i)
        for i in distinct.values():
            figures.extend(ctx.quoted(i))
        without = by[rep].estimate_without_unit
        if without is not None and ctx.anchored_without(members):
            figures.append(ctx.computed("estimate_without", without,
                                        f"claims.{rep}.estimate_without_unit"))
        out.append(findings.EchoGroup(origin=origin, claims=members, figures=tuple(figures)))
    return sorted(out, key=lambda g: g.origin)


# -- bounds -----------------------------------------------------------------------------------


def _bounds(ctx: Context, wrong: set[int], *, bounds_head: bool) -> list[Finding]:
    by = ctx.by
    # A bound is broken by the reported value; its pull is measured against the fitted centre,
    # which every estimate_without is compared with.
    m = ctx.result.estimate.value
    centre = ctx.result.centre
    printed = ctx.computed("estimate", centre, None).text
    # Bounds that set a bounds-only range are not "broken" by its soft ends.
    own = set(ctx.result.estimate.bounds)
    out: list[Finding] = []
    slack: list[int] = []
    figures: tuple[Figure, ...]
    for i in ctx.ordered([i for i in range(ctx.n) if ctx.claims[i].kind in
                          ("at_least", "at_most") and i not in wrong]):
        c = ctx.claims[i]
        side: Side = "at_least" if c.kind == "at_least" else "at_most"
        bound = float(c.value or 0.0)
        beyond = (0.0 if m is None or i in own
                  else (bound - m) if side == "at_least" else (m - bound))
        scale = abs(bound) if bound != 0 else 1.0
        a = by[i]
        # Any breach beyond the grid's noise is reported as one: a bound the estimate breaks,
        # even by a little, is never called consistent with it.
        if beyond / scale > SHIFT_RESOLUTION:
            figures = ctx.quoted(i)
            if a.p_wrong is not None:
                figures += (Figure("p_wrong", a.p_wrong, chance(a.p_wrong),
                                   f"claims.{i}.p_wrong"),)
            out.append(findings.ViolatedBound(side=side, claims=(i,), figures=figures))
            continue
        if bounds_head:
            continue
        without = a.estimate_without  # this bound alone, not its source's other claims
        shown = (None if without is None else
                 ctx.computed("estimate_without", without, f"claims.{i}.estimate_without"))
        # A move the print cannot show is no hold: "holds the estimate up: without it the
        # estimate would be about 1" beside an estimate of about 1 contradicts itself.
        if (shown is not None and relative_shift(centre, shown.value) >= NEGLIGIBLE_SHIFT
                and shown.text != printed):
            figures = (*ctx.quoted(i), shown)
            out.append(findings.BindingBound(side=side, claims=(i,), figures=figures))
        else:
            slack.append(i)
    if slack:
        figures = tuple(f for i in slack for f in ctx.quoted(i))
        out.append(findings.SlackBounds(claims=tuple(slack), figures=figures))
    return out
