"""A range's end that no claim sets is not printed: the words say so.

The defect (found by hypothesis's reordering property): one A source's three echoes of the wire
(1 to 2, at least 1, 4.5) gave "About 4.1 people (90% range 0.92 to
27,877,379,566,189,967,000,000,000,000.00)". The "at least 1" sets no upper limit and a wrong
claim's Cauchy tails carry the posterior's upper 5 % out to e^65: thirty digits no claim
determines, the 14th following the claims' order. An end more than
:data:`models.findings.OPEN_END_FACTOR` beyond every figure the claims state (on the log scale;
that many times the claims' spread on the linear scale) is now *open*: the words print the other
end and say that no claim sets this one ("from 0.92 up; no claim sets its upper end"), while
the JSON interval keeps the model's number.
"""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models.claims import Claim, Source
from models.explain import render
from models.findings import OPEN_END_FACTOR, CentralFigure, Figure, TimeCourse, open_ends
from models.reconcile import reconcile
from models.result import ReconcileResult
from models.summary import ends_beyond_claims

NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
#: A printed figure with its scale word ("4.1 trillion"), masked when figures are scaled.
SCALED = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?: (?:million|billion|trillion))?")

#: Hypothesis's example: three echoes of one origin, one A source.
WIRE = [Claim("s0", "range", None, 1.0, 2.0, origin="wire"),
        Claim("s0", "at_least", 1.0, hedge="exact", origin="wire"),
        Claim("s0", "point", 4.5, origin="wire")]
WIRE_SOURCES = [Source("s0", "the police", reliability="A")]
#: An upper bound beside a figure it contradicts, both E-graded: the 90 % range's low end is
#: 1.5e-7 people, a hundred million times below every figure stated.
BELOW = [Claim("a", "at_most", 100.0), Claim("b", "point", 400.0)]
BELOW_SOURCES = [Source("a", "the police", reliability="E"),
                 Source("b", "the army", reliability="E")]


def _scaled(claims: list[Claim], k: float) -> list[Claim]:
    def times(x: float | None) -> float | None:
        return None if x is None else x * k
    return [Claim(c.source, c.kind, times(c.value), times(c.low), times(c.high),
                  hedge=c.hedge, origin=c.origin) for c in claims]


def _printed_numbers_are_the_figures(r: ReconcileResult) -> None:
    """The summary prints exactly its figures' numbers: none it does not hold, none missing."""
    assert r.summary is not None
    printed = NUMBER.findall(r.summary.text)
    held = [tok for fig in r.summary.figures for tok in NUMBER.findall(fig.text)]
    assert sorted(printed) == sorted(held), (r.summary.text, r.summary.figures)


def test_an_upper_end_no_claim_sets_is_not_printed() -> None:
    r = reconcile(WIRE, WIRE_SOURCES, unit="people")
    assert r.summary is not None
    assert r.summary.text == (
        "About 4.1 people (90% range from 0.92 up; no claim sets its upper end)")
    assert r.explanation.startswith(
        "The best estimate is about 4.1 people, with a 90% range from 0.92 up (no claim sets its "
        "upper end). ")
    head = r.findings[0]
    assert isinstance(head, CentralFigure) and head.open == ("high",)
    assert [f.name for f in head.figures] == ["estimate", "low", "level"]
    _printed_numbers_are_the_figures(r)
    # The data desk keeps the model's number: only the words leave it out.
    high = r.estimate.intervals[-1].high
    assert high is not None and high > OPEN_END_FACTOR * 4.5


def test_a_lower_end_no_claim_sets_is_not_printed() -> None:
    r = reconcile(BELOW, BELOW_SOURCES, unit="people")
    assert r.summary is not None
    assert re.fullmatch(r"About [\d,]+ people \(90% range up to [\d,]+; no claim sets its lower "
                        r"end\)", r.summary.text), r.summary.text
    assert re.match(r"The best estimate is about [\d,]+ people, with a 90% range up to [\d,]+ "
                    r"\(no claim sets its lower end\)\. ", r.explanation), r.explanation
    head = r.findings[0]
    assert isinstance(head, CentralFigure) and head.open == ("low",)
    assert "low" not in {f.name for f in head.figures}
    _printed_numbers_are_the_figures(r)
    low = r.estimate.intervals[-1].low
    assert low is not None and low * OPEN_END_FACTOR < 100.0


@pytest.mark.parametrize("second", [1000.0001, 999.9999])
@pytest.mark.parametrize("kind", ["point", "at_least"])
def test_on_the_linear_scale_claims_that_agree_closely_keep_their_range(
    second: float, kind: str,
) -> None:
    """Two claims 0.0001 apart with no sd of their own are read at the figures' typical
    magnitude (1,000), not at their span: ends some hundreds away are the model's reading of
    that precision, and are printed. Measuring the distance by the span alone said "no claim
    sets either end" for two sources that agree (review of the first version of this rule)."""
    claims = [Claim("a", "point", 1000.0), Claim("b", kind, second)]
    sources = [Source("a", "the police", reliability="B"),
               Source("b", "the army", reliability="B")]
    r = reconcile(claims, sources, unit="people", scale="linear")
    assert r.summary is not None
    assert "no claim sets" not in r.summary.text and "no claim sets" not in r.explanation
    head = r.findings[0]
    assert isinstance(head, CentralFigure) and head.open == ()
    _printed_numbers_are_the_figures(r)


def test_on_the_linear_scale_distance_is_measured_in_the_claims_precision() -> None:
    """The unit of distance is the larger of the figures' span and the coarsest precision the
    model reads a claim at; the request's precision sets it for claims without an sd."""
    assert open_ends("linear", [1000.0, 1000.0001], 500.0, 1500.0) == (True, True)
    assert open_ends("linear", [1000.0, 1000.0001], 500.0, 1500.0, 1000.0) == (False, False)
    assert open_ends("linear", [5.0, 5.0], 5.0 - 1.01 * OPEN_END_FACTOR, 6.0, 1.0) == (
        True, False)
    claims = [Claim("a", "point", 1000.0), Claim("b", "point", 1000.0001)]
    assert ends_beyond_claims(claims, "linear", 0.0, 2000.0) == ()
    # With a precision of 0.001 (a millionth of the figures' size, the least the model reads
    # them at: models.encode.MIN_PRECISION), ends more than 1,000 away are open.
    assert ends_beyond_claims(claims, "linear", 0.0, 2000.0, precision=1e-3) == ()
    assert ends_beyond_claims(claims, "linear", -500.0, 2500.0, precision=1e-3) == (
        "low", "high")


@pytest.mark.parametrize("k", [1e-3, 7.0, 1e3, 2.0**40])
@pytest.mark.parametrize(("claims", "sources"), [(WIRE, WIRE_SOURCES), (BELOW, BELOW_SOURCES)],
                         ids=["open-above", "open-below"])
def test_the_decision_does_not_change_with_the_unit(
    claims: list[Claim], sources: list[Source], k: float,
) -> None:
    """Multiplying every figure by k on the log scale leaves the same end open and the same
    words around the numbers."""
    a = reconcile(claims, sources, unit="people")
    b = reconcile(_scaled(claims, k), sources, unit="people")
    assert isinstance(b.findings[0], CentralFigure)
    assert b.findings[0].open == a.findings[0].open  # type: ignore[attr-defined]
    assert a.summary is not None and b.summary is not None
    assert SCALED.sub("#", b.summary.text) == SCALED.sub("#", a.summary.text)


@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=6),
       st.integers(1, 10**9), st.integers(1, 10**15), st.integers(-60, 60))
def test_the_log_scale_decision_is_unit_free(
    figures: list[int], low: int, high: int, power: int,
) -> None:
    """open_ends on the log scale: multiplying every figure and both ends by k = 2^power
    (exact in floating point) changes nothing."""
    k = 2.0 ** power
    before = open_ends("log", [float(x) for x in figures], low / 2**30, float(high))
    after = open_ends("log", [x * k for x in figures], low / 2**30 * k, high * k)
    assert before == after


@given(st.lists(st.integers(-10**6, 10**6), min_size=1, max_size=6),
       st.integers(-10**14, 10**14), st.integers(0, 10**14), st.integers(-10**12, 10**12))
def test_the_linear_scale_decision_is_free_of_the_zero(
    figures: list[int], low: int, width: int, shift: int,
) -> None:
    """open_ends on the linear scale: shifting every figure and both ends by the same amount
    changes nothing (whole numbers below 2^53, so every sum is exact)."""
    high = low + width
    before = open_ends("linear", [float(x) for x in figures], float(low), float(high))
    after = open_ends("linear", [float(x + shift) for x in figures], float(low + shift),
                      float(high + shift))
    assert before == after


def test_the_criterion_at_its_edges() -> None:
    assert open_ends("log", [1.0, 4.5], 0.5, 4.5 * OPEN_END_FACTOR * 1.01) == (False, True)
    assert open_ends("log", [1.0, 4.5], 0.99 / OPEN_END_FACTOR, 4.5 * OPEN_END_FACTOR) == (
        True, False)
    # A missing end is not "open" in this sense: the evidence already sets no limit there.
    assert open_ends("log", [1.0], None, 2.0e9) == (False, True)
    assert open_ends("log", [1.0], None, None) == (False, False)
    # One figure and no spread on the linear scale: nothing to measure a distance by.
    assert open_ends("linear", [5.0, 5.0], -1e300, 1e300) == (False, False)
    assert open_ends("linear", [5.0, 6.0], 5.0 - 1.01 * OPEN_END_FACTOR, 6.0) == (True, False)


@pytest.mark.parametrize("grade", ["A", "B", "C", "D", "E", None])
def test_a_lone_claim_s_range_stays_closed(grade: str | None) -> None:
    """The widest reach a claim's own grade gives, a lone E point's ÷1,030 to ×1,030
    (tests/models/test_lone_claim_prior.py), prints both ends."""
    r = reconcile([Claim("s", "point", 5000.0)], [Source("s", "the police", reliability=grade)],
                  unit="people")
    head = r.findings[0]
    assert isinstance(head, CentralFigure) and head.open == ()
    assert {"low", "high"} <= {f.name for f in head.figures}
    assert r.summary is not None and " to " in r.summary.text


def test_a_range_open_above_reads_the_same_in_every_order() -> None:
    texts = set()
    for order in itertools.permutations(WIRE):
        r = reconcile(list(order), WIRE_SOURCES, unit="people")
        assert r.summary is not None
        texts.add((r.summary.text, r.explanation))
    assert len(texts) == 1


# -- the words of a moving quantity, rendered from findings ------------------------------------


def _computed(name: str, x: float, exponent: int, path: str) -> Figure:
    return Figure(name, x, f"{x:,.{max(-exponent, 0)}f}", path, exponent=exponent)


def test_a_time_course_s_open_ends_are_said_not_printed() -> None:
    claims = [Claim("a", "point", 1500.0, as_of=date(2024, 10, 18)),
              Claim("b", "at_least", 10000.0, horizon="total")]
    sources = {"a": Source("a", "the NIS"), "b": Source("b", "the ministry")}
    head = TimeCourse(
        dynamics="cumulative", has_level=True, open=("high", "total_high"), claims=(0, 1),
        figures=(_computed("estimate", 1500.0, 2, "estimate.value"),
                 _computed("low", 900.0, 2, "estimate.intervals.0.low"),
                 Figure("level", 0.9, "90%", "estimate.intervals.0.level"),
                 Figure("date", 0.0, "18 October 2024", "time.at"),
                 Figure("total.min", 10000.0, "10,000", "claims.1.value", quoted=True),
                 Figure("total.max", 10000.0, "10,000", "claims.1.value", quoted=True),
                 _computed("total_low", 9000.0, 3, "time.total.intervals.0.low")))
    _, summary, text = render([head], claims, sources, unit="soldiers")
    assert text == (
        "The best estimate is about 1,500 soldiers on 18 October 2024, with a 90% range from 900 "
        "up (no claim sets its upper end). The eventual total rests on the ministry's figure of "
        "at least 10,000; the total's 90% range runs from 9,000 up (no claim sets its upper end).")
    assert summary.text == ("About 1,500 soldiers on 18 October 2024; claimed eventual total at "
                            "least 10,000 soldiers")


def test_a_closed_total_range_names_the_total_not_the_last_claim() -> None:
    """"…to B's figure of possibly 12,000; its 90% range is…" read as B's figure's range: the
    range belongs to the eventual total, and the sentence says so."""
    claims = [Claim("a", "point", 10000.0, hedge="could_be", horizon="total"),
              Claim("b", "point", 12000.0, hedge="could_be", horizon="total")]
    sources = {"a": Source("a", "the president"), "b": Source("b", "the ministry")}
    head = TimeCourse(
        dynamics="cumulative", has_level=False, open=(), claims=(0, 1),
        figures=(Figure("level", 0.9, "90%", "estimate.intervals.0.level"),
                 Figure("total.min", 10000.0, "10,000", "claims.0.value", quoted=True),
                 Figure("total.max", 12000.0, "12,000", "claims.1.value", quoted=True),
                 _computed("total_low", 4400.0, 2, "time.total.intervals.0.low"),
                 _computed("total_high", 22000.0, 3, "time.total.intervals.0.high")))
    _, _, text = render([head], claims, sources, unit="soldiers")
    assert text.endswith(
        "Claims about the eventual total range from the president's figure of possibly 10,000 "
        "to the ministry's figure of possibly 12,000; the total's 90% range is 4,400 to 22,000 "
        "soldiers."), text


def test_a_total_open_below_carries_its_unit_as_a_closed_one_does() -> None:
    claims = [Claim("b", "at_most", 12000.0, horizon="total")]
    sources = {"b": Source("b", "the ministry")}
    head = TimeCourse(
        dynamics="cumulative", has_level=False, open=("total_low",), claims=(0,),
        figures=(Figure("level", 0.9, "90%", "estimate.intervals.0.level"),
                 Figure("total.min", 12000.0, "12,000", "claims.0.value", quoted=True),
                 Figure("total.max", 12000.0, "12,000", "claims.0.value", quoted=True),
                 _computed("total_high", 13000.0, 3, "time.total.intervals.0.high")))
    _, _, text = render([head], claims, sources, unit="soldiers")
    assert text.endswith("; the total's 90% range runs up to 13,000 soldiers (no claim sets "
                         "its lower end)."), text


def test_a_percentage_s_printed_end_carries_its_sign() -> None:
    head = CentralFigure(open=("low",), figures=(
        _computed("estimate", 38.3, -1, "estimate.value"),
        _computed("high", 41.2, -1, "estimate.intervals.0.high"),
        Figure("level", 0.9, "90%", "estimate.intervals.0.level")))
    _, summary, text = render([head], [Claim("a", "point", 38.0)], {"a": Source("a")}, unit="%")
    assert summary.text == "About 38.3% (90% range up to 41.2%; no claim sets its lower end)"
    assert text == ("The best estimate is about 38.3%, with a 90% range up to 41.2% (no claim "
                    "sets its lower end).")


def test_the_request_s_precision_reaches_the_result_the_words_read() -> None:
    """The words, the API and the plots judge a linear range's ends by the result's precision:
    it must survive the result's later copies (with_claims, with_words)."""
    claims = [Claim("a", "point", 1000.0), Claim("b", "point", 1000.0001)]
    sources = [Source("a", "the police"), Source("b", "the army")]
    assert reconcile(claims, sources, scale="linear", precision=0.5).precision == 0.5
    assert reconcile(claims, sources, scale="linear").precision is None
