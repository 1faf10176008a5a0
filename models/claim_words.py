"""A claim's own words: its figure as claimed, the phrase that names it, the outlier warning.

Shared by the explanation (:mod:`models.explain`), the warnings of every estimator and the
plots. Claimed figures are quoted exactly, never rounded; a computed figure without an interval
to round by gets three significant digits (:func:`fmt`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from models.claims import Claim
from models.result import Warning
from models.wording import can_open, capitalise, format_computed, percent, possessive, quote_number

_HEDGE_WORDS = {"about": "about ", "could_be": "possibly ", "rumour": "reportedly "}
_BOUND_WORDS = {"at_least": "at least ", "at_most": "up to "}


def fmt(x: float) -> str:
    """A computed figure rounded to three significant digits with thousands separators.

    For plots and warnings that have no interval to round by; the explanation rounds by the
    rule of :func:`models.wording.computed_exponent` instead.

    >>> fmt(1534.2), fmt(12000), fmt(0.01234), fmt(2.5e6)
    ('1,530', '12,000', '0.0123', '2.5 million')
    """
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    magnitude = abs(x)
    if magnitude >= 1e15:  # beyond 999 trillion: grouped digits (see models.wording)
        return f"{_round_sig(x):,.0f}"
    if magnitude >= 1e6:
        for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
            if magnitude >= size:
                return f"{_round_sig(x / size):,g} {word}"
    rounded = _round_sig(x)
    if magnitude >= 1000:
        return f"{rounded:,.0f}"
    return f"{rounded:g}"


def _round_sig(x: float, digits: int = 3) -> float:
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def describe_claim(claim: Claim, quote: Callable[[float], str] = quote_number) -> str:
    """The claim's figure as claimed, with its hedge: "1,500", "up to 10,000", "about 3,166",
    "between 10,000 and 12,000". Figures are quoted exactly, never rounded (``quote``:
    :func:`~models.wording.quote_number`, or an answer's :class:`~models.wording.Quotes`)."""
    hedge = _HEDGE_WORDS.get(claim.hedge, "")
    if claim.kind == "range":
        low, high = quote(_num(claim.low)), quote(_num(claim.high))
        return f"{hedge}between {low} and {high}"
    bound = _BOUND_WORDS.get(claim.kind, "")
    if bound and claim.hedge == "about":  # "up to about 3,000", not "about up to 3,000"
        return f"{bound}about {quote(_num(claim.value))}"
    return f"{hedge}{bound}{quote(_num(claim.value))}"


def figure_phrase(claim: Claim, label: str, unit: str | None,
                  quote: Callable[[float], str] = quote_number, *, lead: bool = False) -> str:
    """ "South Korea NIS's figure of 1,500", "the central bank's figure of up to −1.5%"; with
    ``lead`` (the phrase opens a sentence) and a name that cannot open one
    (:func:`~models.wording.can_open`), "the figure of 5,000 from 20 Minutes"."""
    figure = describe_claim(claim, quote) + ("%" if unit == "%" else "")
    if lead and not can_open(label):
        return f"the figure of {figure} from {label}"
    return f"{possessive(label)} figure of {figure}"


def outlier_warning(i: int, claim: Claim, label: str, unit: str | None, *,
                    p_wrong: float | None = None, residual: float | None = None) -> Warning:
    """The ``outlier`` warning of claim i, worded as the paragraph's discounted finding words
    it: the same phrase, the same percentage ("over 99%", never a certain-sounding "100%") or
    studentized residual (the pooling methods, which give one instead of ``p_wrong``)."""
    label = " ".join(label.split())
    why = (f"is probably wrong (probability {percent(p_wrong)})" if p_wrong is not None else
           f"lies far from the others (studentized residual {format_computed(residual, -1)})"
           if residual is not None else "lies far from the others")
    return Warning(
        "outlier",
        f"{capitalise(figure_phrase(claim, label, unit, lead=True))} {why}; see its share and "
        "estimate_without for how far the estimate rests on it.",
        (i,),
    )


def _num(x: float | None) -> float:
    return math.nan if x is None else x
