"""Findings, shares, summary and wording: the issue's failures as examples, then properties.

Properties (hypothesis, over generated requests): every number in the paragraph is the printed
text of a finding's figure; no finding contradicts the numbers it rests on (each threshold is
imported from :mod:`models.findings`, where it is declared once with its reason); quoted
figures equal the claims; the words are identical when the claims are reordered.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.claims import Claim, Source
from models.findings import (
    HETEROGENEITY_LEVEL,
    NEGLIGIBLE_SHIFT,
    PIVOTAL_SHARE,
    PIVOTAL_SHIFT,
    SHIFT_RESOLUTION,
    Agreement,
    BindingBound,
    CentralFigure,
    Conflict,
    Discounted,
    EchoGroup,
    Figure,
    Finding,
    HeterogeneityTest,
    OneSidedBound,
    RestsOn,
    SlackBounds,
    Split,
    ViolatedBound,
    claim_shares,
    relative_shift,
)
from models.reconcile import reconcile
from models.result import ClaimAssessment, ReconcileResult
from models.wording import (
    computed_exponent,
    format_computed,
    p_value,
    possessive,
    quote_number,
    subject_phrase,
    with_unit,
)
from tests.helpers import TROOP_CLAIMS, TROOP_SOURCES
from tests.models.cases import echo_case

NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


# -- wording ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "text"),
    [(3166, "3,166"), (601027, "601,027"), (38.3, "38.3"), (1.5e6, "1.5 million"),
     (1234567, "1,234,567"), (100000, "100,000"), (12.25, "12.25")],
)
def test_claimed_figures_are_quoted_exactly(x: float, text: str) -> None:
    assert quote_number(x) == text


def test_rounding_follows_the_interval() -> None:
    # Troop case: 1,629.6 with a 90 % range 1,102 to 8,863 → hundreds.
    assert computed_exponent(1102.4, 8863.4, 1629.6, whole=True) == 2
    assert format_computed(1629.6, 2) == "1,600"
    # A poll: tenths; a count of people: never decimals.
    assert format_computed(38.34, computed_exponent(36.1, 40.6, 38.34, whole=False)) == "38.3"
    assert format_computed(64.4, computed_exponent(64.0, 64.9, 64.4, whole=True)) == "64"
    # The low end of a wide range keeps two significant figures instead of rounding to 0.
    assert format_computed(456.9, computed_exponent(456.9, 13131.9, 456.9, whole=True)) == "460"


def test_english() -> None:
    assert possessive("the organisers") == "the organisers'"
    assert possessive("South Korea NIS") == "South Korea NIS's"
    assert with_unit("1,600", "soldiers") == "1,600 soldiers"
    assert with_unit("1", "soldiers", one=True) == "1 soldier"
    assert with_unit("5", "person") == "5 people"
    assert with_unit("38.3", "%") == "38.3%"
    # The noun of a qualified unit takes the number, not the qualifier's last word.
    assert with_unit("1,600", "tonnes of grain") == "1,600 tonnes of grain"
    assert with_unit("1", "tonnes of grain", one=True) == "1 tonne of grain"
    assert with_unit("2", "barrel of oil") == "2 barrels of oil"
    assert with_unit("1", "litres per second", one=True) == "1 litre per second"
    assert with_unit("1", "people in need", one=True) == "1 person in need"
    assert with_unit("3", "cubic metres of gas") == "3 cubic metres of gas"
    assert with_unit("1", "dollars a day", one=True) == "1 dollar a day"
    assert p_value(0.4) == "p = 0.40"
    assert subject_phrase(None, "How many North Korean soldiers are in Russia?") is None
    assert subject_phrase("North Korean soldiers in Russia", "How many?") == (
        "North Korean soldiers in Russia")


# -- shares -----------------------------------------------------------------------------------


def test_share_worked_example_echoes_split_one_share() -> None:
    # fixtures/echo_one_origin.json: equal log-distances both ways.
    shares = claim_shares("log", 1732.05, [3000.0, 1000.0, 1000.0, 1000.0],
                          ["source:m", "origin:r", "origin:r", "origin:r"])
    assert shares == pytest.approx([0.5, 1 / 6, 1 / 6, 1 / 6], rel=1e-3)


def test_a_pivotal_claim_never_shows_under_the_floor() -> None:
    # Two far-apart camps dominate the shifts; a third claim still moves the estimate by 20 %.
    shares = claim_shares("log", 1000.0, [20000.0, 50.0, 1200.0], ["a", "b", "c"])
    assert shares[2] >= PIVOTAL_SHARE
    assert sum(shares) == pytest.approx(1.0)


# -- the cases ------------------------------------------------------------------------


def _sources(*specs: tuple[str, str, str | None]) -> list[Source]:
    return [Source(i, name, reliability=grade) for i, name, grade in specs]


def test_a_lone_lower_bound_stays_a_bound() -> None:
    r = reconcile([Claim("u", "at_least", 100000)], _sources(("u", "the organisers", "C")),
                  question="How many marched?", unit="people")
    assert r.summary is not None and r.summary.kind == "bound"
    assert r.summary.text == "At least 100,000 people"
    assert "476" not in r.explanation and "million" not in r.explanation
    assert "How many" not in r.explanation and "Triangulate" not in r.explanation
    assert "organisers's" not in r.explanation and "the organisers'" in r.explanation


def test_two_surveys_far_apart_are_a_split_not_a_trough_figure() -> None:
    r = reconcile(
        [Claim("a", "point", 151000, ci_low=104000, ci_high=223000),
         Claim("b", "point", 601027, ci_low=426369, ci_high=793663)],
        _sources(("a", "IFHS", "B"), ("b", "The Lancet survey", "B")), unit="deaths")
    assert r.summary is not None and r.summary.kind == "split"
    assert "601,027" in r.summary.text and "151,000" in r.summary.text
    trough = format_computed(r.estimate.value, 4)
    assert trough not in r.explanation
    assert not any(isinstance(f, Discounted) for f in r.findings)  # neither is "the outlier"


def test_two_bounds_give_their_own_range() -> None:
    r = reconcile([Claim("a", "at_least", 2000), Claim("b", "at_most", 3000)],
                  _sources(("a", "the police", "B"), ("b", "the union", "B")), unit="people")
    assert r.summary is not None and r.summary.kind == "range"
    assert r.summary.text == "Between 2,000 and 3,000 people"
    assert "457" not in r.explanation and "13,1" not in r.explanation


def test_a_count_is_never_printed_with_decimals() -> None:
    r = reconcile([Claim("a", "point", 64), Claim("b", "point", 65)],
                  _sources(("a", "A", "B"), ("b", "B", "B")), unit="people")
    assert not re.search(r"\d\.\d", r.explanation), r.explanation


def test_pooling_with_two_claims_names_no_outlier_and_reports_the_test_level() -> None:
    r = reconcile([Claim("a", "point", 100, sd=5), Claim("b", "point", 104, sd=5)],
                  [Source("a"), Source("b")], scale="linear")
    assert r.method == "random_effects"
    test = next(f for f in r.findings if isinstance(f, HeterogeneityTest))
    assert not test.significant and "disagree more" not in r.explanation
    assert f"{HETEROGENEITY_LEVEL:.2f}" in test.text


def test_an_echo_group_is_named_with_its_total() -> None:
    r = reconcile(*echo_case(3))
    group = next(f for f in r.findings if isinstance(f, EchoGroup))
    assert group.origin == "agency report" and set(group.claims) == {1, 2, 3}
    assert group.figure("total_share").value == pytest.approx(0.5, abs=0.02)
    assert "count once" in group.text


def test_troop_case_names_its_sources_and_quotes_them() -> None:
    r = reconcile(TROOP_CLAIMS, TROOP_SOURCES, subject="North Korean troops in Russia",
                  unit="soldiers")
    assert r.summary is not None and r.summary.kind == "figure"
    assert r.explanation.startswith("The best estimate of North Korean troops in Russia is "
                                    "about 1,600 soldiers")
    assert "South Korea NIS's figure of 1,500" in r.explanation



def test_the_other_claims_follow_the_claims_they_exclude() -> None:
    """"The answer rests mainly on the NIS's figure. The other claims are consistent with one
    another. X's figure is probably wrong" read as "the claims other than the NIS's agree",
    X's among them. The discounted claim is named first, then the others."""
    r = reconcile(TROOP_CLAIMS, TROOP_SOURCES, unit="soldiers")
    discounted = next(f for f in r.findings if isinstance(f, Discounted))
    others = "The other claims are consistent with one another."
    assert others in r.explanation
    assert r.explanation.index(discounted.text) < r.explanation.index(others), r.explanation

# -- properties -------------------------------------------------------------------------------

NAMES = ("the police", "the organisers", "Reuters", "the ministry", "AFP", "the UN")
GRADES = ("A", "B", "C", "D", "E", None)


@st.composite
def requests(draw: st.DrawFn) -> tuple[list[Claim], list[Source]]:
    n_sources = draw(st.integers(1, 5))
    sources = [Source(f"s{k}", NAMES[k], reliability=draw(st.sampled_from(GRADES)))
               for k in range(n_sources)]
    whole = draw(st.booleans())
    figure = (st.integers(10, 10**6).map(float) if whole
              else st.floats(1.0, 1e6, allow_nan=False).map(lambda x: round(x, 1)))
    claims = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(("point", "point", "at_least", "at_most", "range")))
        source = f"s{draw(st.integers(0, n_sources - 1))}"
        hedge = draw(st.sampled_from(("none", "exact", "about", "could_be")))
        origin = draw(st.sampled_from((None, None, "wire")))
        if kind == "range":
            a, b = sorted((draw(figure), draw(figure)))
            if a == b:
                b = a + 1
            claims.append(Claim(source, "range", low=a, high=b, hedge=hedge, origin=origin))
        else:
            claims.append(Claim(source, kind, draw(figure), hedge=hedge, origin=origin))
    return claims, sources


def _figures(r: ReconcileResult) -> list[Figure]:
    return [fig for f in r.findings for fig in f.figures]


def _check_consistency(r: ReconcileResult, claims: Sequence[Claim]) -> None:
    by = {a.index: a for a in r.claims}
    m = r.centre  # what every estimate_without is compared with
    assert sum(a.share for a in r.claims) == pytest.approx(1.0, abs=1e-9)
    units: dict[str, list[int]] = {}
    for i, c in enumerate(claims):
        units.setdefault(c.evidence_unit, []).append(i)
    for members in units.values():
        out = by[members[0]].estimate_without_unit
        if out is not None and len(units) > 1 and relative_shift(m, out) > PIVOTAL_SHIFT:
            assert sum(by[i].share for i in members) >= PIVOTAL_SHARE - 1e-9
    pivotal = [a for a in r.claims if a.estimate_without is not None
               and relative_shift(m, a.estimate_without) > PIVOTAL_SHIFT]
    if len(pivotal) + len(units) <= 1 / PIVOTAL_SHARE:
        assert all(a.share >= PIVOTAL_SHARE - 1e-9 for a in pivotal)
    # The explanation is the findings' sentences, and every number in it is a figure's text.
    assert r.explanation == " ".join(f.text for f in r.findings)
    printed = {tok for fig in _figures(r) for tok in NUMBER.findall(fig.text)}
    for tok in NUMBER.findall(r.explanation):
        assert tok in printed, (tok, r.explanation)
    assert "Triangulate" not in r.explanation and "?" not in r.explanation
    assert not re.search(r"s's\b", r.explanation)
    for fig in _figures(r):
        if fig.quoted:
            assert fig.path is not None
            _, index, name = fig.path.split(".")
            assert getattr(claims[int(index)], name) == fig.value
            assert fig.text == quote_number(fig.value)
        elif fig.exponent is not None:
            assert abs(_parse(fig.text) - fig.value) <= 0.5 * 10.0**fig.exponent * (1 + 1e-9)
            if fig.name != "residual" and all(float(x).is_integer() for c in claims
                                               for x in c.numbers()):
                assert "." not in fig.text or fig.text.endswith(("million", "billion", "trillion"))
    for f in r.findings:
        _check_finding(f, r, claims, r.estimate.value)
    # An estimate without some claims is printed only when a figure remains without them:
    # else it would be the prior's number, not the evidence's.
    for f in r.findings:
        if isinstance(f, Discounted | EchoGroup) and any(
                g.name == "estimate_without" for g in f.figures):
            assert any(c.kind in ("point", "range") for i, c in enumerate(claims)
                       if i not in f.claims), f
    # A claim the answer rests on is never also called probably wrong.
    rests = {i for f in r.findings if isinstance(f, RestsOn) for i in f.claims}
    assert not rests & {i for f in r.findings if isinstance(f, Discounted) for i in f.claims}
    kinds = {type(f) for f in r.findings}
    assert r.summary is not None
    if r.summary.kind == "split":
        assert Split in kinds and RestsOn not in kinds
    if r.summary.kind == "bound":
        # One kind among the claims the answer keeps (discounted ones are named wrong).
        discounted = {i for g in r.findings if isinstance(g, Discounted) for i in g.claims}
        assert len({c.kind for i, c in enumerate(claims) if i not in discounted}) == 1
        assert r.summary.text.lower().startswith(("at least", "up to", "about", "possibly"))


def _parse(text: str) -> float:
    """A printed figure back to a number: "1,600" → 1600, "13.1 million" → 13,100,000."""
    scale = {"million": 10**6, "billion": 10**9, "trillion": 10**12}
    number, _, word = text.partition(" ")
    value = Decimal(number.replace(",", "").replace("\u2212", "-"))
    return float(value * scale[word]) if word else float(value)


def _check_finding(
    f: Finding, r: ReconcileResult, claims: Sequence[Claim], m: float | None
) -> None:
    by = {a.index: a for a in r.claims}
    if isinstance(f, Discounted):
        assert all(by[i].outlier for i in f.claims)
        if r.method == "robust":
            assert all((by[i].p_wrong or 0) >= 0.5 for i in f.claims)
        else:
            assert len({c.evidence_unit for c in claims}) >= 3
        if f.negligible:
            assert "barely" in f.text or "estimate would" not in f.text
            head = r.findings[0]
            if isinstance(head, CentralFigure):  # "barely moves": the move does not show
                assert f.figure("estimate_without").text == head.figure("estimate").text, f.text
        if len(f.claims) == 1:
            # The outlier warning words the claim and its probability (or residual) as the
            # paragraph does.
            warned = [w.message for w in r.warnings if w.code == "outlier"
                      and tuple(w.claims) == f.claims]
            head = re.compile(r"^.*? \((?:probability|studentized residual) [^)]*\)")
            said = head.match(f.text)
            assert said is not None, f.text
            assert [h.group(0) for m in warned if (h := head.match(m))] == [said.group(0)], (
                warned, f.text)
    if isinstance(f, Agreement):
        assert not any(c.a in f.claims and c.b in f.claims for c in r.disagreement.conflicts)
    if isinstance(f, Conflict):
        assert any({c.a, c.b} == set(f.claims) for c in r.disagreement.conflicts)
    if isinstance(f, HeterogeneityTest):
        assert r.heterogeneity is not None
        assert f.significant == (r.heterogeneity.q_pvalue < HETEROGENEITY_LEVEL)
        assert ("disagree more" in f.text) == f.significant
    if isinstance(f, ViolatedBound):
        assert m is not None
        bound = float(claims[f.claims[0]].value or 0.0)
        gap = (bound - m) if f.side == "at_least" else (m - bound)
        assert gap / abs(bound) > SHIFT_RESOLUTION
    if isinstance(f, SlackBounds | BindingBound):
        assert m is not None
        for i in f.claims:
            c = claims[i]
            bound = float(c.value or 0.0)
            gap = (bound - m) if c.kind == "at_least" else (m - bound)
            # Never "consistent" with, or "holding", an estimate that breaks the bound.
            assert gap / abs(bound) <= SHIFT_RESOLUTION
    if isinstance(f, BindingBound):
        out = by[f.claims[0]].estimate_without
        assert out is not None and relative_shift(r.centre, out) >= NEGLIGIBLE_SHIFT
        head = r.findings[0]
        if isinstance(head, CentralFigure):  # the move shows in print
            assert f.figure("estimate_without").text != head.figure("estimate").text, f.text
    if isinstance(f, EchoGroup):
        total = sum(by[i].share for i in f.claims)
        assert f.figure("total_share").value == pytest.approx(total)
    if isinstance(f, OneSidedBound):
        # Every claim bounds that side, but for claims the answer discounts (named wrong).
        discounted = {i for g in r.findings if isinstance(g, Discounted) for i in g.claims}
        assert all(c.kind == f.side or i in discounted for i, c in enumerate(claims))
    for fig in f.figures:
        if fig.path is None or fig.quoted:
            continue
        assert fig.value == _at(r, fig.path), (fig, f)


def _at(r: ReconcileResult, path: str) -> float:
    parts = path.split(".")
    if parts[0] == "estimate" and parts[1] in ("value", "p_bounds_hold"):
        return float(getattr(r.estimate, parts[1]))
    if parts[0] == "estimate":
        return float(getattr(r.estimate.intervals[int(parts[2])], parts[3]))
    if parts[0] == "claims":
        value = getattr({a.index: a for a in r.claims}[int(parts[1])], parts[2])
        return float(value)
    if parts[0] == "heterogeneity":
        assert r.heterogeneity is not None
        return float(getattr(r.heterogeneity, parts[1]))
    raise AssertionError(f"unknown path {path}")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_words_trace_to_findings_and_never_contradict_the_numbers(
    request: tuple[list[Claim], list[Source]],
) -> None:
    claims, sources = request
    r = reconcile(claims, sources, unit="people")
    _check_consistency(r, claims)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(50, 5000), st.integers(1, 50)), min_size=2, max_size=5))
def test_pooled_words_trace_to_findings(points: list[tuple[int, int]]) -> None:
    claims = [Claim(f"s{k}", "point", float(v), sd=float(sd)) for k, (v, sd) in
              enumerate(points)]
    sources = [Source(f"s{k}", NAMES[k]) for k in range(len(points))]
    r = reconcile(claims, sources, scale="linear")
    assert r.method == "random_effects"
    _check_consistency(r, claims)


def test_a_range_open_to_the_prior_s_reach_reads_the_same_in_any_order() -> None:
    """Hypothesis's example: one A source's three echoes of the wire (1 to 2, at least 1, 4.5).
    The 90 % range runs from 0.92 to 2.8 × 10²⁸, and its high end was printed to the cent to
    show the low end's decimals: thirty digits, the 14th of which changed with the order. No
    claim sets that end (models.findings.OPEN_END_FACTOR): the words now say so rather than
    print it (tests/models/test_open_range.py)."""
    claims = [Claim("s0", "range", None, 1.0, 2.0, origin="wire"),
              Claim("s0", "at_least", 1.0, hedge="exact", origin="wire"),
              Claim("s0", "point", 4.5, origin="wire")]
    sources = [Source("s0", "the police", reliability="A")]
    a = reconcile(claims, sources, unit="people")
    b = reconcile([claims[0], claims[2], claims[1]], sources, unit="people")
    assert a.explanation == b.explanation


def test_the_noun_agrees_with_the_number_as_printed() -> None:
    """Hypothesis's example: in one order the estimate came out 0.9999999999999999 and read
    "about 1 people", in the other 1.0 and "about 1 person"."""
    sources = _sources(("s0", "the police", "A"), ("s1", "the organisers", "C"),
                       ("s2", "Reuters", "D"))
    claims = [Claim("s2", "at_least", 1.0), Claim("s1", "point", 1.0), Claim("s2", "at_most", 1.0)]
    for order in itertools.permutations(range(3)):
        r = reconcile([claims[i] for i in order], sources, unit="people")
        assert r.explanation.startswith("The best estimate is about 1 person,"), r.explanation
        assert "1 people" not in r.explanation


def test_a_bound_whose_move_does_not_show_in_print_does_not_hold_the_estimate() -> None:
    """"Reuters' figure of at least 1 holds the estimate up: without it the estimate would be
    about 1", beside an estimate of about 1: a 5 % move that the rounding hides."""
    sources = _sources(("s0", "the police", "A"), ("s1", "the organisers", "C"),
                       ("s2", "Reuters", "D"))
    claims = [Claim("s2", "at_least", 1.0), Claim("s1", "point", 1.0), Claim("s2", "at_most", 1.0)]
    r = reconcile(claims, sources, unit="people")
    assert not any(isinstance(f, BindingBound) for f in r.findings), r.explanation
    assert "holds the estimate" not in r.explanation


def test_the_chance_that_bounds_hold_does_not_follow_the_claims_order() -> None:
    """Hypothesis's example: Π c_i = 0.5 · 0.5 · 0.7 lies on a rounding edge; summed in claim
    order its logarithm printed "probability 17% only" in one order and 18 % in another."""
    sources = _sources(("s1", "the organisers", "C"), ("s2", "Reuters", "D"))
    claims = [Claim("s2", "at_least", 1.0), Claim("s1", "at_least", 1.0),
              Claim("s2", "at_most", 1.0)]
    texts = {reconcile([claims[i] for i in order], sources, unit="people").explanation
             for order in itertools.permutations(range(3))}
    assert len(texts) == 1, texts


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests(), st.randoms(use_true_random=False))
def test_words_are_identical_for_reordered_claims(
    request: tuple[list[Claim], list[Source]], rnd: object,
) -> None:
    claims, sources = request
    order = list(range(len(claims)))
    rnd.shuffle(order)  # type: ignore[attr-defined]
    shuffled = [claims[i] for i in order]
    a = reconcile(claims, sources, unit="people")
    b = reconcile(shuffled, sources, unit="people")
    assert a.explanation == b.explanation
    assert a.summary == b.summary or (a.summary is not None and b.summary is not None
                                      and a.summary.text == b.summary.text)
    assert [f.kind for f in a.findings] == [f.kind for f in b.findings]
    for fa, fb in zip(a.findings, b.findings, strict=True):
        # Identical claims may be cited in either position: compare what is cited.
        assert sorted(repr(shuffled[i]) for i in fb.claims) == sorted(
            repr(claims[i]) for i in fa.claims)
        assert [g.text for g in fa.figures] == [g.text for g in fb.figures]


def test_evenly_spread_pooled_figures_are_not_a_split() -> None:
    """Independent review: six polls at 40, 41.5, 43, 45, 46.5, 48 (sd 0.3) were reported as
    'two groups that cannot both be right'; 41.5 and 43 conflict as much as 43 and 45."""
    values = [40.0, 41.5, 43.0, 45.0, 46.5, 48.0]
    sources = tuple(Source(id=f"p{i}", name=f"Poll {i}") for i in range(6))
    claims = tuple(Claim(source=f"p{i}", kind="point", value=v, sd=0.3)
                   for i, v in enumerate(values))
    result = reconcile(claims, sources, unit="%", method="random_effects", scale="linear")
    assert result.summary.kind == "figure"
    assert "cannot both be right" not in result.explanation
    assert not any(isinstance(f, Split) for f in result.findings)


def test_two_surveys_far_apart_are_still_a_split() -> None:
    sources = (Source(id="ifhs", name="the IFHS"), Source(id="lancet", name="the Lancet"))
    claims = (Claim(source="ifhs", kind="point", value=151000, ci_low=104000, ci_high=223000),
              Claim(source="lancet", kind="point", value=601027, ci_low=426369,
                    ci_high=793663))
    result = reconcile(claims, sources, unit="deaths", method="random_effects")
    assert result.summary.kind == "split"


def test_a_bound_beside_a_discounted_opposite_bound_stays_a_bound() -> None:
    """Independent review: 'at least 3000' beside a discounted 'at most 1000' gave 'About 4,300
    soldiers (90% range 88 to 75,000)', a figure from the prior alone."""
    sources = (Source(id="a", name="the ministry", reliability="B"),
               Source(id="b", name="a blogger", reliability="E"))
    claims = (Claim(source="a", kind="at_least", value=3000.0),
              Claim(source="b", kind="at_most", value=1000.0))
    result = reconcile(claims, sources, unit="soldiers")
    assert result.claims[1].p_wrong is not None and result.claims[1].p_wrong > 0.5
    assert result.summary.kind == "bound"
    assert result.summary.text == "At least 3,000 soldiers"
    assert "probably wrong" in result.explanation


def test_equal_shares_are_never_told_apart_as_mainly_and_less() -> None:
    """Independent review: two identical figures read 'mainly on AP's figure of 1,500 (share
    50%), and less on the NIS's figure of 1,500 (share 50%)'."""
    sources = (Source(id="ap", name="AP", reliability="B"),
               Source(id="nis", name="the NIS", reliability="B"))
    claims = (Claim(source="ap", kind="point", value=1500.0),
              Claim(source="nis", kind="point", value=1500.0))
    result = reconcile(claims, sources, unit="soldiers")
    rests = next(f for f in result.findings if isinstance(f, RestsOn))
    assert rests.mainly == 2
    assert "less on" not in result.explanation


def test_with_share_keeps_every_other_field() -> None:
    """ClaimAssessment.with_share spells its fields out (for speed): it must equal
    dataclasses.replace, and a new field must be added to it (the list below fails first)."""
    assert [f.name for f in dataclasses.fields(ClaimAssessment)] == [
        "index", "source", "weight", "influence", "estimate_without", "outlier", "p_wrong",
        "residual", "estimate_without_unit", "share"]
    a = ClaimAssessment(3, "s3", 0.25, -1.5, 98.5, True, 0.75, 2.5, 97.0, 0.125)
    assert a.with_share(0.5, 0.375) == dataclasses.replace(a, share=0.5, weight=0.375)


def test_the_outlier_warning_reads_as_the_paragraph_does() -> None:
    """A warning is printed too: it opens with a capital, carries the unit "%" the paragraph
    gives the figure, and words a probability of 0.9999 "over 99%", as the paragraph does,
    not a certain-sounding "100%"."""
    sources = [Source("stat", name="the statistics office", reliability="A"),
               Source("bank", name="the central bank", reliability="B"),
               Source("pol", name="the opposition", reliability="D")]
    claims = [Claim("stat", "point", -0.3, sd=0.1),
              Claim("bank", "range", low=-0.5, high=0.1),
              Claim("pol", "at_most", -1.5)]
    r = reconcile(claims, sources, scale="linear", unit="%")
    [warning] = [w for w in r.warnings if w.code == "outlier"]
    assert warning.message.startswith(
        "The opposition's figure of up to \u22121.5% is probably wrong (probability over 99%);")
    discounted = [f for f in r.findings if isinstance(f, Discounted)]
    assert discounted and discounted[0].text.startswith(warning.message.split(";")[0])


def test_a_discounted_claim_whose_move_shows_in_print_does_not_barely_move_it() -> None:
    """Turnouts of 58 %, 61.5 % and 66 % with their sds (pooled): the 66 % lies far from the
    others, and without it the estimate goes from 61.9 % to 59.9 %, the largest move of the
    three and plain in print, though under 5 % relative. The paragraph says where it would go,
    not that leaving it out "barely moves the estimate"."""
    sources = [Source(n) for n in ("Ipsos", "YouGov", "Opinionway")]
    claims = [Claim("Ipsos", "point", 61.5, sd=1.2), Claim("YouGov", "point", 58.0, sd=1.5),
              Claim("Opinionway", "point", 66.0, sd=1.3)]
    r = reconcile(claims, sources, scale="linear", unit="%")
    [discounted] = [f for f in r.findings if isinstance(f, Discounted)]
    [warning] = [w for w in r.warnings if w.code == "outlier"]
    assert warning.message.startswith(
        "Opinionway's figure of 66% lies far from the others (studentized residual 2.0);")
    assert not discounted.negligible
    assert "barely" not in discounted.text
    assert discounted.text.endswith("without it the estimate would be about 59.9%."), (
        discounted.text)


def test_every_figure_of_a_percentage_carries_its_sign() -> None:
    """Beside "about 37%", a source's several figures read "33% and 41%", never "33 and 41"."""
    sources = [Source("Ifop", reliability="B"), Source("Elabe", reliability="B")]
    claims = [Claim("Ifop", "point", 41.0, as_of=date(2024, 1, 10)),
              Claim("Elabe", "point", 38.0, as_of=date(2024, 2, 10)),
              Claim("Ifop", "point", 33.0, as_of=date(2024, 3, 10))]
    r = reconcile(claims, sources, scale="linear", unit="%", dynamics="drifting")
    assert "Ifop's figures of 33% and 41%" in r.explanation, r.explanation
    # No bare number in the paragraph but dates and the grade-free shares' own "%".
    bare = re.findall(r"(?<![\d.,])\d+(?:\.\d+)?(?![\d.,%])(?! (?:January|February|March))",
                      r.explanation)
    assert [b for b in bare if not re.fullmatch(r"20\d\d", b)] == [], r.explanation


def test_a_moving_quantity_warns_of_its_outliers_as_the_static_path_does() -> None:
    """A later, lower count from a weak source cannot be a fall of a cumulative count: the
    paragraph calls it probably wrong, and so does an ``outlier`` warning, in the same words."""
    sources = [Source("s1", name="the ministry", reliability="B"),
               Source("s2", name="the agency", reliability="B"),
               Source("weak", name="a local blog", reliability="E")]
    claims = [Claim("s1", "point", 1000.0, as_of=date(2024, 1, 1)),
              Claim("s2", "point", 2000.0, as_of=date(2024, 1, 11)),
              Claim("weak", "point", 200.0, as_of=date(2024, 1, 21))]
    r = reconcile(claims, sources, dynamics="cumulative", unit="people")
    [discounted] = [f for f in r.findings if isinstance(f, Discounted)]
    assert discounted.claims == (2,)
    [warning] = [w for w in r.warnings if w.code == "outlier"]
    assert tuple(warning.claims) == (2,)
    assert warning.message.startswith("A local blog's figure of 200 is probably wrong (")
    assert discounted.text.split(";")[0].rstrip(".") == warning.message.split(";")[0]
