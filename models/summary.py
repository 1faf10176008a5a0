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

from models import findings
from models import summary_head as headline
from models.claims import Claim, Source
from models.findings import (
    HETEROGENEITY_LEVEL,
    NEGLIGIBLE_SHIFT,
    RESTS_ON_SHARE,
    SHIFT_RESOLUTION,
    Figure,
    Finding,
    Side,
    relative_shift,
)
from models.result import Heterogeneity, ReconcileResult
from models.summary_context import Context, ends_beyond_claims, is_whole
from models.wording import Quotes, chance, format_computed, p_value

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
        split = headline.split_of(ctx, headline.time_groups(ctx, wrong))
        out: list[Finding] = (
            [split] if split is not None
            else [headline.time_course(ctx, wrong), *_rests_on(ctx, wrong, bounds_head=True)])
        out.extend(_discounted(ctx, m) for m in dropped)
        out.extend(_echo_groups(ctx))
        return tuple(out)
    head = (headline.split(ctx, wrong) or headline.one_sided(ctx, wrong)
            or headline.bounds_only(ctx, wrong) or headline.central(ctx))
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
