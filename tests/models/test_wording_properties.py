"""Properties of the printed words over generated names, origins, units, subjects and figures.

The requests are built from the kinds of name a newsroom types (plural common nouns, singular
nouns ending in s, names ending in s, acronyms, names beginning with a numeral or a lower-case
letter), origins (common noun phrases and names), units and figures from thousandths to
quintillions. For every request, the explanation and the summary must:

* use the possessive of :func:`models.wording.possessive` -- never "s's" after a plural or a
  name ending in s, never a bare apostrophe after a singular noun ending in s;
* begin every sentence with a capital letter, never with a numeral;
* hold no double space, no space before "," or ".", and end every sentence with ".";
* print both ends of a computed range with the same number of decimals, unless that gives the
  coarser end more than :data:`~models.wording.SHARED_DECIMALS_REACH` extra digits
  ("0.0060 to 6.7", never "0.0060 to 6.7000");
* name every claim, or count the claims left unnamed ("… and five other claims");
* never use the question, or a subject that reads as one, as the subject.

Names hold no "." of their own ("U.S. officials"): sentences are told apart by ". ".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.claims import Claim, Source
from models.findings import CentralFigure, RestsOn
from models.reconcile import reconcile
from models.result import ReconcileResult
from models.wording import SHARED_DECIMALS_REACH

#: (name, plural-looking): the possessive must be a bare apostrophe exactly when True.
NAMES: tuple[tuple[str, bool], ...] = (
    ("the organisers", True), ("local officials", True), ("witnesses", True),
    ("the rescue services", True), ("Reuters", True), ("The Times", True), ("Hamas", True),
    ("NGOs", True), ("Les Echos", True), ("the census", False), ("the press", False),
    ("the boss", False), ("the analysis", False), ("the NIS", False), ("the US", False),
    ("the police", False), ("AFP", False), ("South Korea's NIS", False), ("Channel 4", False),
    ("20 Minutes", True), ("eBay", False), ("the ministry", False), ("Volodymyr Zelensky", False),
    ("l'Humanité", False), ("Médecins Sans Frontières", True), ("the UN", False),
)
ORIGINS = ("AP wire story", "agency report", "Reuters", "UN OCHA", "the ministry's statement",
           "2023 ministry report", "wire", "a leaked memo", "Ministry of Health")
UNITS = (None, "people", "soldiers", "%", "USD", "displaced persons", "deaths", "person",
         "km²")
SUBJECTS = (None, "the death toll", "The crowd on 7 March", "displaced families in Sudan",
            "How many displaced", "what was the turnout", "How many marched?")
QUESTIONS = (None, "How many displaced", "How many marched?", "Casualties")

#: A figure: whole numbers from tens to quintillions, or decimals from thousandths.
WHOLE = st.integers(1, 10**18).map(float)
DECIMAL = st.builds(lambda m, e: round(m * 10.0**e, 6), st.integers(1, 9999),
                    st.integers(-3, 3)).filter(lambda x: x > 0)


@st.composite
def requests(draw: st.DrawFn) -> tuple[list[Claim], list[Source], dict[str, str | None]]:
    picked = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=9, unique=True))
    sources = [Source(f"s{k}", name, reliability=draw(st.sampled_from(("A", "B", "C", "D",
                                                                      None))))
               for k, (name, _) in enumerate(picked)]
    unit = draw(st.sampled_from(UNITS))
    whole = unit != "%" and draw(st.booleans())
    if whole:
        base = draw(st.integers(10, 10**15))
        figure = st.builds(lambda f: float(max(1, round(base * f))), st.floats(0.2, 5.0))
        figure = st.one_of(figure, WHOLE) if draw(st.booleans()) else figure
    else:
        figure = DECIMAL
    claims = []
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(("point", "point", "point", "at_least", "at_most", "range")))
        source = f"s{draw(st.integers(0, len(sources) - 1))}"
        hedge = draw(st.sampled_from(("none", "exact", "about", "could_be", "rumour")))
        origin = draw(st.one_of(st.none(), st.none(), st.sampled_from(ORIGINS)))
        if kind == "range":
            a, b = sorted((draw(figure), draw(figure)))
            if a == b:
                b = a * 1.5
            claims.append(Claim(source, "range", low=a, high=b, hedge=hedge, origin=origin))
        else:
            claims.append(Claim(source, kind, draw(figure), hedge=hedge, origin=origin))
    words = {"unit": unit, "subject": draw(st.sampled_from(SUBJECTS)),
             "question": draw(st.sampled_from(QUESTIONS))}
    return claims, sources, words


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=\.) (?=\S)", text) if s]


def _decimals(text: str) -> tuple[int, str]:
    number, _, word = text.partition(" ")
    _, point, fraction = number.partition(".")
    return (len(fraction) if point else 0), word


def _check_typography(text: str, *, sentences: bool) -> None:
    assert "  " not in text, text
    assert " ," not in text and " ." not in text, text
    assert not text.startswith(" ") and not text.endswith(" "), text
    if not sentences:
        assert not text[:1].isdigit() and not text[:1].islower(), text
        return
    assert text.endswith("."), text
    for sentence in _sentences(text):
        assert sentence.endswith("."), (sentence, text)
        assert not sentence[:1].isdigit(), (sentence, text)
        assert not sentence[:1].islower(), (sentence, text)


def _check_possessives(text: str, sources: Sequence[Source]) -> None:
    plural = dict(NAMES)
    for source in sources:
        name = source.label
        for shown in {name, _upper(name)}:
            if plural[name]:
                assert f"{shown}'s " not in text, (name, text)
            else:
                assert not re.search(re.escape(shown) + r"'(?!s )", text), (name, text)


def _upper(name: str) -> str:
    return name[:1].upper() + name[1:]


def _check_named_or_counted(r: ReconcileResult, claims: Sequence[Claim],
                            sources: Sequence[Source]) -> None:
    labels = {s.id: s.label for s in sources}
    text = r.explanation
    unnamed = [i for i, c in enumerate(claims)
               if labels[c.source] not in text and _upper(labels[c.source]) not in text]
    rests = [f for f in r.findings if isinstance(f, RestsOn)]
    others = 0
    for f in rests:
        others += next((int(fig.value) for fig in f.figures if fig.name == "others"), 0)
    # A label can hide in another ("the UN" in "the UNHCR"): unnamed claims are at most counted.
    assert len(unnamed) <= others, (unnamed, others, r.explanation)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests())
def test_printed_words_follow_house_style(
    request: tuple[list[Claim], list[Source], dict[str, str | None]],
) -> None:
    claims, sources, words = request
    r = reconcile(claims, sources, unit=words["unit"], subject=words["subject"],
                  question=words["question"])
    assert r.summary is not None
    _check_typography(r.explanation, sentences=True)
    _check_typography(r.summary.text, sentences=False)
    for f in r.findings:
        _check_typography(f.text, sentences=True)
    _check_possessives(r.explanation, sources)
    _check_named_or_counted(r, claims, sources)
    assert "?" not in r.explanation and "How many" not in r.explanation
    assert "how many" not in r.explanation and "what was" not in r.explanation
    head = r.findings[0]
    # A range with an end no claim sets prints one end only: no pair to compare.
    if isinstance(head, CentralFigure) and not head.open:
        low, high = head.figure("low").text, head.figure("high").text
        (d_low, w_low), (d_high, w_high) = _decimals(low), _decimals(high)
        e_low, e_high = head.figure("low").exponent, head.figure("high").exponent
        if w_low == w_high and abs(e_low - e_high) <= SHARED_DECIMALS_REACH:
            assert d_low == d_high, (low, high)
        if w_low == w_high and d_low != d_high:  # the coarser end shows no borrowed digits
            assert abs(e_low - e_high) > SHARED_DECIMALS_REACH, (low, high)
