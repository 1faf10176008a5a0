"""Wording defects left from the review, each pinned by the sentence it used to print.

Unit tests of :mod:`models.wording` and, through :func:`models.reconcile.reconcile`, of the
paragraph :mod:`models.explain` renders. The general properties (over generated names, origins,
units and figures) are in ``test_wording_properties.py``.
"""

from __future__ import annotations

import re
from decimal import Decimal, localcontext

import numpy as np
import pytest
from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from models import wording
from models.claim_words import fmt
from models.claims import Claim, Source
from models.explain import render
from models.findings import CentralFigure, Figure, RestsOn
from models.reconcile import reconcile
from models.wording import (
    computed_exponent,
    count_words,
    format_computed,
    origin_phrase,
    possessive,
    quote_number,
    subject_phrase,
)
from tests.models.cases import echo_case

# -- the subject ------------------------------------------------------------------------------


@pytest.mark.parametrize("question", ["How many displaced", "How many displaced?",
                                      "Displaced families", "what was the turnout"])
def test_a_question_is_never_the_subject(question: str) -> None:
    """Before: 'The best estimate of How many displaced is about 1,000 people, …'."""
    assert subject_phrase(None, question) is None
    r = reconcile([Claim("a", "point", 900), Claim("b", "point", 1100)],
                  [Source("a", "the UN"), Source("b", "the ministry")],
                  question=question, unit="people")
    assert question.rstrip("?") not in r.explanation
    assert r.explanation.startswith("The best estimate is about ")


@pytest.mark.parametrize(
    ("subject", "phrase"),
    [("displaced families in Sudan", "displaced families in Sudan"),
     ("The death toll", "the death toll"),
     ("  the Derna flood's death toll. ", "the Derna flood's death toll"),
     ("How many displaced", None), ("how many were displaced", None),
     ("Was the toll higher", None), ("What's the toll?", None), ("", None), ("   ", None),
     ("WHO's count of deaths", "WHO's count of deaths")],
)
def test_the_subject_is_a_noun_phrase_or_the_neutral_default(
    subject: str, phrase: str | None,
) -> None:
    assert subject_phrase(subject, "How many?") == phrase


# -- possessives ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [("the organisers", "the organisers'"), ("the local officials", "the local officials'"),
     ("witnesses", "witnesses'"), ("Reuters", "Reuters'"), ("The Times", "The Times'"),
     ("Hamas", "Hamas'"), ("NGOs", "NGOs'"), ("the census", "the census's"),
     ("the boss", "the boss's"), ("the press", "the press's"), ("the analysis", "the analysis's"),
     ("the bus", "the bus's"), ("the NIS", "the NIS's"), ("the US", "the US's"),
     ("the police", "the police's"), ("South Korea's NIS", "South Korea's NIS's"),
     ("AFP", "AFP's"), ("Channel 4", "Channel 4's")],
)
def test_possessive(name: str, text: str) -> None:
    """Before: 'the census'' (a singular noun ending in s took the plural's bare apostrophe)."""
    assert possessive(name) == text


@pytest.mark.parametrize(
    ("origin", "phrase"),
    [("AP wire story", "the AP wire story"), ("agency report", "the agency report"),
     ("wire", "the wire"), ("Reuters", "Reuters"), ("UN OCHA", "UN OCHA"),
     ("the ministry's statement", "the ministry's statement"),
     ("a Reuters tally", "a Reuters tally"), ("Ministry of Health", "Ministry of Health"),
     ("Reuters' count", "Reuters' count"), ("its own count", "its own count")],
)
def test_an_origin_reads_as_a_noun_phrase(origin: str, phrase: str) -> None:
    assert origin_phrase(origin) == phrase


def test_an_origin_as_a_possessive_subject_reads_naturally() -> None:
    """Before: 'AP wire story's figure of 3,000, as reported by …' opened a sentence without
    an article, and the echo finding said 'repeat one origin, AP wire story (3,000)'."""
    claims = [Claim("m", "point", 1000), Claim("x", "point", 2000)] + [
        Claim(f"o{k}", "point", 30000, origin="AP wire story") for k in range(3)]
    sources = [Source("m", "the census", reliability="B"),
               Source("x", "the ministry", reliability="B")] + [
        Source(f"o{k}", f"Outlet {k}", reliability="D") for k in range(3)]
    r = reconcile(claims, sources, unit="people")
    assert "the AP wire story's figure of 30,000" in r.explanation.replace("The AP", "the AP")
    assert r.explanation.count("AP wire story") == len(
        re.findall(r"\b[Tt]he AP wire story", r.explanation))
    # The appositive is closed before the verb.
    assert "as reported by Outlet 0, Outlet 1 and Outlet 2, is probably wrong" in r.explanation
    assert "one origin, the AP wire story (30,000)" in r.explanation
    assert "census' " not in r.explanation and "the census's figure of 1,000" in (
        r.explanation.replace("The census", "the census"))


# -- no sentence begins with a numeral --------------------------------------------------------

_SENTENCE_START = re.compile(r"(?:^|[.;:] )([^ ]+)")


def _starts(text: str) -> list[str]:
    return [m.group(1) for m in re.finditer(r"(?:^|\. )(\S+)", text)]


def test_a_large_echo_group_is_counted_in_words_at_a_sentence_start() -> None:
    """Before: '12 claims (Outlet 0, …) repeat one origin, …'."""
    r = reconcile(*echo_case(12))
    assert "Twelve claims (Outlet 0, " in r.explanation
    assert not any(word[:1].isdigit() for word in _starts(r.explanation)), r.explanation


def test_a_name_beginning_with_a_numeral_never_opens_a_sentence() -> None:
    """Before: '20 Minutes' figure of 5,000 is probably wrong …' (the French daily)."""
    values = [1000, 1010, 1020, 990, 980, 5000]
    names = ["Le Monde", "Le Figaro", "Libération", "Les Echos", "l'Humanité", "20 Minutes"]
    sources = [Source(f"s{i}", n, reliability="B") for i, n in enumerate(names)]
    claims = [Claim(f"s{i}", "point", v) for i, v in enumerate(values)]
    r = reconcile(claims, sources, unit="people")
    assert "The figure of 5,000 from 20 Minutes is probably wrong" in r.explanation
    assert not any(word[:1].isdigit() for word in _starts(r.explanation)), r.explanation
    assert not any(word[:1].islower() for word in _starts(r.explanation)), r.explanation


# -- decimals in ranges -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "exponent", "text"),
    [(3.0, -1, "3.0"), (2.96, -1, "3.0"), (2.5, -1, "2.5"), (0.5, -2, "0.50"),
     (1629.6, 2, "1,600"), (38.34, -1, "38.3"), (13131948.1, 5, "13.1 million"),
     (3e6, 5, "3.0 million"), (3e6, 6, "3 million"), (-2.5e6, 5, "\u22122.5 million"),
     (-0.04, -1, "0.0")],
)
def test_a_computed_figure_keeps_the_decimals_it_was_rounded_to(
    x: float, exponent: int, text: str,
) -> None:
    """Before: format_computed(2.96, -1) gave '3', so a range read '2.5 to 3'."""
    assert format_computed(x, exponent) == text


def _central(estimate: float, low: float, high: float) -> CentralFigure:
    def fig(name: str, x: float) -> Figure:
        e = computed_exponent(low, high, x, whole=False)
        return Figure(name, x, format_computed(x, e), f"estimate.{name}", exponent=e)
    return CentralFigure(figures=(fig("estimate", estimate), fig("low", low), fig("high", high),
                                  Figure("level", 0.9, "90%", None)))


@pytest.mark.parametrize(
    ("estimate", "low", "high", "words"),
    [(3.1, 2.52, 3.98, "about 3.1, with a 90% range of 2.5 to 4.0."),
     # The low end keeps two significant figures of its own: the high end shows as many decimals.
     (4.1, 0.532, 29.7, "about 4.1, with a 90% range of 0.53 to 29.70."),
     # Different scale words are not evened: never "610,000 to 33.51 million".
     (2.2e6, 6.1e5, 3.3512e7, "with a 90% range of 610,000 to 34 million."),
     # Ends six decades apart keep their own rounding: never "0.000049 to 51.282278".
     (0.05, 0.0000493, 51.282278, "with a 90% range of 0.000049 to 51.")],
)
def test_both_ends_of_a_range_show_the_same_decimals(
    estimate: float, low: float, high: float, words: str,
) -> None:
    """Before: 'a 90% range of 2.5 to 4' and '0.53 to 30'."""
    done, summary, text = render([_central(estimate, low, high)],
                                 [Claim("a", "point", 2.0)], {"a": Source("a")})
    assert text.endswith(words), text
    head = done[0]
    for name in ("low", "high"):  # the figures say what was printed
        assert head.figure(name).text in text
        assert summary.figures == head.figures



@pytest.mark.parametrize("value", [0.05, 0.0021, 3e-9, 7e-20, 4.2, 1300.0])
def test_no_range_end_prints_digits_its_interval_does_not_set(value: float) -> None:
    """A lone E-grade figure's range spans six decades; sharing the low end's decimals printed
    "About 0.050 (90% range 0.000049 to 51.282278)": eight significant figures, six of them
    the float's arithmetic. An end shows at most two digits more than its own two."""
    r = reconcile([Claim("a", "point", value)], [Source("a", "A", reliability="E")])
    assert r.summary is not None
    ends = re.search(r"range (.+) to (.+)\)", r.summary.text)
    assert ends is not None, r.summary.text
    for end in ends.groups():
        digits = end.split(" ")[0].replace(",", "").replace(".", "").lstrip("0")
        assert len(digits) <= 4, r.summary.text

# -- very large figures -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "text"),
    [(1e21, "1,000,000,000,000,000,000,000"), (1.5e15, "1,500,000,000,000,000"),
     (999e12, "999 trillion"), (2.5e12, "2.5 trillion"),
     (-1e18, "\u22121,000,000,000,000,000,000")],
)
def test_beyond_999_trillion_figures_are_plain_digits(x: float, text: str) -> None:
    """Before: quote_number(1e21) gave '1,000,000,000 trillion'."""
    assert quote_number(x) == text


def test_computed_figures_beyond_999_trillion_are_plain_digits() -> None:
    assert format_computed(2.51e21, 19) == "2,510,000,000,000,000,000,000"
    assert format_computed(999.96e12, 13) == "1,000,000,000,000,000"  # rounds up past the words
    assert format_computed(999.4e12, 11) == "999.4 trillion"
    assert fmt(1e21) == "1,000,000,000,000,000,000,000"
    assert fmt(1.5e15) == "1,500,000,000,000,000"


# -- every claim named, or counted ------------------------------------------------------------


def test_claims_past_the_cap_on_listed_units_are_counted() -> None:
    """Before: 'The answer rests mainly on Outlet I's figure of 960 (share 19%), Outlet H's …
    and less on Outlet F's figure of 1,030 (share 11%).' -- Outlets A to E, a third of the
    evidence, named nowhere in the paragraph."""
    names = [f"Outlet {c}" for c in "ABCDEFGHIJ"]
    values = [1000, 1010, 1020, 990, 980, 1030, 970, 1040, 960, 5000]
    sources = [Source(f"s{i}", n, reliability="B") for i, n in enumerate(names)]
    claims = [Claim(f"s{i}", "point", v) for i, v in enumerate(values)]
    r = reconcile(claims, sources, unit="people")
    unnamed = [n for n in names if n not in r.explanation]
    assert unnamed, "the case no longer exceeds the cap; pick more claims"
    rests = next(f for f in r.findings if isinstance(f, RestsOn))
    others = f"and {count_words(len(unnamed))} other claims."
    assert others in rests.text, rests.text
    assert rests.figure("others").value == len(unnamed)


def test_many_unnamed_claims_are_counted_by_a_figure() -> None:
    n = 16
    sources = [Source(f"s{i}", f"Outlet {i}", reliability="B") for i in range(n)]
    claims = [Claim(f"s{i}", "point", 1000 + 10 * i) for i in range(n)]
    r = reconcile(claims, sources, unit="people")
    named = [i for i in range(n) if re.search(rf"Outlet {i}\b", r.explanation)]
    rests = next(f for f in r.findings if isinstance(f, RestsOn))
    others = n - len(named)
    assert others >= 10
    assert f"{others} other claims." in rests.text and rests.figure("others").text == str(others)


def test_an_origin_holding_a_possessive_is_not_made_a_double_possessive() -> None:
    """Found by the property test: 'the ministry's statement's figure of 136,525, as reported
    by …'."""
    claims = [Claim("a", "point", 1000), Claim("b", "point", 1200)] + [
        Claim(f"o{k}", "point", 1100, origin="the ministry's statement") for k in range(2)]
    sources = [Source("a", "the UN", reliability="B"), Source("b", "the police", reliability="B"),
               Source("o0", "AFP", reliability="B"), Source("o1", "Reuters", reliability="B")]
    r = reconcile(claims, sources, unit="people")
    assert "statement's figure" not in r.explanation
    assert "the figure of 1,100 from the ministry's statement, as reported by AFP and Reuters" in (
        r.explanation)


# -- grouping digits: babel's format_decimal, with the locale and patterns parsed once -------


@settings(max_examples=300, deadline=None)
@given(
    x=st.one_of(
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(-(10**20), 10**20).map(float),
        # Decimals with trailing zeros ("1.50") and negative zero, which floats never give.
        st.integers(0, 6).flatmap(
            lambda places: st.decimals(allow_nan=False, allow_infinity=False, places=places)),
    ),
    decimals=st.one_of(st.none(), st.integers(0, 6)),
)
def test_grouped_digits_are_babels(x: float | Decimal, decimals: int | None) -> None:
    d = x if isinstance(x, Decimal) else Decimal(repr(x))
    pattern = None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")
    with localcontext(wording._CONTEXT):
        want = format_decimal(d, format=pattern, locale=wording.LOCALE,
                              decimal_quantization=decimals is not None, group_separator=True)

    # Twice: the second answer comes from the cache of distinct figures.
    for _ in range(2):
        assert wording._digits(d, decimals) == want.replace("-", "\u2212")


@pytest.mark.parametrize("p", [1.0, 1.0 - 2.0**-53, 1.0 - 1e-15, 1.0 - 1e-13])
def test_percent_near_one_does_not_follow_the_last_bit(p: float) -> None:
    # A probability one ulp below 1 is rounding noise of a computed sum: the words stay "100%"
    # (they read "over 99%" when a last-bit change moved p_wrong off exactly 1.0).
    assert wording.percent(p) == "100%"


@pytest.mark.parametrize(("p", "words"), [(0.999, "over 99%"), (1.0 - 1e-9, "over 99%"),
                                          (0.995, "100%"), (0.62, "62%"), (0.001, "under 1%"),
                                          (0.0, "0%")])
def test_percent_words(p: float, words: str) -> None:
    assert wording.percent(p) == words


@settings(max_examples=2000, deadline=None)
@given(st.one_of(
    st.floats(min_value=0.005, max_value=0.995),
    # Next to a half: 100 p within a few ulps of k + 0.5, where the shortest repr decides.
    st.builds(lambda k, ulps: float(np.nextafter((k + 0.5) / 100, 1.0 if ulps > 0 else 0.0))
              if ulps else (k + 0.5) / 100,
              st.integers(0, 98), st.integers(-3, 3)),
))
def test_percent_rounds_as_the_decimal_rule(p: float) -> None:
    """percent's float shortcut prints what rounding repr(100 p) half up prints."""
    if not 0.005 <= p <= 0.995:
        return
    assert wording.percent(p) == f"{wording.round_computed(100 * p, 0):f}%"


@pytest.mark.parametrize(("p", "words"), [(1.0, "over 99%"), (1.0 - 1e-15, "over 99%"),
                                          (0.995, "over 99%"), (0.999, "over 99%"),
                                          (0.62, "62%"), (0.004, "under 1%"),
                                          (0.0, "under 1%")])
def test_a_model_probability_never_reads_as_certain(p: float, words: str) -> None:
    # A claim's posterior probability of being wrong is never exactly 1 or 0 under the model;
    # "probably wrong (probability 100%)" overstated it, whatever p's last bits.
    assert wording.chance(p) == words


def _explanation(*spec: tuple[str, str, str, float]) -> str:
    """The words of one answer to claims given as (source, grade, kind, figure)."""
    claims = [Claim(s, kind, figure) for s, _, kind, figure in spec]
    sources = [Source(s, reliability=grade) for s, grade, _, _ in spec]
    return reconcile(claims, sources).explanation


def test_a_far_claims_words_do_not_call_it_certainly_wrong() -> None:
    text = _explanation(("a", "A", "point", 100.0), ("b", "A", "point", 101.0),
                        ("c", "E", "point", 1e12))
    assert "(probability over 99%)" in text
    assert "100%" not in text


def test_a_violated_bounds_chance_reads_without_an_article() -> None:
    # "which the model gives a over 99% probability" / "a 8% probability" were both possible.
    text = _explanation(("a", "A", "point", 100.0), ("b", "A", "point", 101.0),
                        ("c", "D", "at_least", 150.0))
    assert ("The estimate lies below c's figure of at least 150; the model puts the chance "
            "that this bound is wrong at 62%.") in text


def test_a_units_forms_are_asked_of_inflect_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # Every answer with a unit words it; inflect's singular_noun costs about 20 µs a call.
    asked: list[str] = []
    singular = wording._ENGINE.singular_noun

    def counting(word: str, *args: object, **kwargs: object) -> object:
        asked.append(word)
        return singular(word, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(wording._ENGINE, "singular_noun", counting)
    unit = "barrels of oil"
    first = [wording.with_unit("1,600", unit), wording.with_unit("1", unit, one=True)]
    again = [wording.with_unit("1,600", unit), wording.with_unit("1", unit, one=True)]
    assert first == again
    assert asked.count("oil") <= 1
