"""Numbers and English for the words the product prints: no statistics happens here.

Two kinds of figure appear in print, and they are written differently:

* **quoted** -- a figure a source claimed. It is printed exactly as claimed, every digit kept
  (3,166 stays 3,166; 601,027 stays 601,027), only grouped by thousands; a whole number of
  millions may be written "1.5 million" because that is the same number.
* **computed** -- a figure Triangulate worked out (an estimate, an end of its range, the estimate
  without a claim). It is rounded to the precision its interval supports; see
  :func:`computed_exponent`.

Grouping and decimals come from :mod:`babel.numbers` (locale :data:`LOCALE`); plurals from
``inflect``.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Final

import inflect
from babel.numbers import format_decimal

__all__ = [
    "LOCALE",
    "capitalise",
    "computed_exponent",
    "count_words",
    "format_computed",
    "join_and",
    "p_value",
    "percent",
    "possessive",
    "quote_number",
    "round_computed",
    "subject_phrase",
    "with_unit",
]

#: Number formatting locale: comma thousands, point decimals ("1,234.5").
LOCALE: Final = "en"

_ENGINE = inflect.engine()
#: Enough digits for any float rounded to any power of ten it can meet (|x| < 2e308 and
#: steps down to 1e-340 need about 650 digits); the default context's 28 would raise.
_CONTEXT: Final = Context(prec=700, rounding=ROUND_HALF_UP, Emax=999_999, Emin=-999_999)
_MILLIONS: Final = ((Decimal(10) ** 12, "trillion"), (Decimal(10) ** 9, "billion"),
                    (Decimal(10) ** 6, "million"))


def _decimal(x: float) -> Decimal:
    # repr is the shortest string that round-trips, so 0.3 stays 0.3 (not 0.2999…).
    return Decimal(repr(float(x)))


def _digits(d: Decimal) -> str:
    with localcontext(_CONTEXT):  # babel rounds in the current context
        text = format_decimal(d, locale=LOCALE, decimal_quantization=False,
                              group_separator=True)
    return str(text).replace("-", "\u2212")


def quote_number(x: float) -> str:
    """A claimed figure exactly as claimed: grouped, never rounded.

    >>> quote_number(3166), quote_number(601027), quote_number(38.3), quote_number(1.5e6)
    ('3,166', '601,027', '38.3', '1.5 million')
    >>> quote_number(1234567)
    '1,234,567'
    """
    d = _decimal(x)
    if d == d.to_integral_value():
        d = d.quantize(Decimal(1), context=_CONTEXT)
    for size, word in _MILLIONS:
        if abs(d) >= size:
            scaled = _CONTEXT.divide(d, size).normalize(_CONTEXT)
            # "1.5 million" is the same number as 1,500,000; "1.234567 million" is not how
            # anyone writes 1,234,567, so that one keeps its digits.
            if scaled.as_tuple().exponent >= -2:  # type: ignore[operator]
                return f"{_digits(scaled)} {word}"
            break
    return _digits(d)


def computed_exponent(low: float, high: float, value: float, *, whole: bool) -> int:
    """The power of ten a computed figure is rounded to.

    Rule: two significant figures of the width of the interval the figure belongs to
    (10^(⌊log₁₀(high − low)⌋ − 1)), but never coarser than two significant figures of the
    figure itself (so no figure rounds to zero) and, for whole-number quantities (counts of
    people), never finer than 1.

    Examples: an estimate of 1,629.6 with a 90 % range of 1,102 to 8,863 (width 7,761) is
    rounded to hundreds, "1,600"; the range's ends to "1,100" and "8,900". A poll average of
    38.34 % with a range 36.1 to 40.6 (width 4.5) is rounded to tenths, "38.3". A count of
    64.4 people is never printed with decimals.

    Parameters
    ----------
    low, high : float
        The interval that states the figure's uncertainty.
    value : float
        The figure to round.
    whole : bool
        Whether the quantity is a whole number (a count).

    Returns
    -------
    int
        k such that the figure is rounded to a multiple of 10^k.
    """
    width = abs(high - low)
    own = math.floor(math.log10(abs(value))) - 1 if value != 0 and math.isfinite(value) else 0
    exponent = math.floor(math.log10(width)) - 1 if width > 0 and math.isfinite(width) else own
    exponent = min(exponent, own)
    return max(exponent, 0) if whole else exponent


def round_computed(x: float, exponent: int) -> Decimal:
    """``x`` rounded half away from zero to a multiple of 10^exponent."""
    return _decimal(x).quantize(Decimal(1).scaleb(exponent, _CONTEXT), rounding=ROUND_HALF_UP,
                                context=_CONTEXT)


def format_computed(x: float, exponent: int) -> str:
    """A computed figure rounded by :func:`computed_exponent`'s rule, in words a reader expects.

    >>> format_computed(1629.6, 2), format_computed(38.34, -1), format_computed(13131948.1, 5)
    ('1,600', '38.3', '13.1 million')
    """
    d = round_computed(x, exponent)
    for size, word in _MILLIONS:
        # Words for millions only when no digit is lost: at most two decimals of millions.
        if abs(d) >= size and exponent >= _log10(size) - 2:
            scaled = _CONTEXT.divide(d, size).quantize(
                Decimal(1).scaleb(exponent - _log10(size), _CONTEXT), context=_CONTEXT)
            if scaled == scaled.to_integral_value():
                scaled = scaled.quantize(Decimal(1), context=_CONTEXT)
            return f"{_digits(scaled)} {word}"
    if exponent >= 0:
        d = d.quantize(Decimal(1), context=_CONTEXT)
    return _digits(d)


def _log10(d: Decimal) -> int:
    return len(str(int(d))) - 1


def percent(p: float) -> str:
    """A share or probability as a whole percentage: "62%", "under 1%", "over 99%"."""
    if 0 < p < 0.005:
        return "under 1%"
    if 0.995 < p < 1:
        return "over 99%"
    return f"{round_computed(100 * p, 0):f}%"


def p_value(p: float) -> str:
    """A p-value as printed: "p = 0.40", "p = 0.032", "p < 0.001"."""
    if p < 0.001:
        return "p < 0.001"
    exponent = math.floor(math.log10(p)) - 1
    return f"p = {round_computed(p, exponent):f}"


def possessive(name: str) -> str:
    """English possessive: "the organisers'", "Reuters'", "the NIS's", "the US's".

    Names ending in a lower-case s take a bare apostrophe (plurals and, as in AP style, proper
    names); everything else takes 's.
    """
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def with_unit(number: str, unit: str | None, *, one: bool = False) -> str:
    """``number`` followed by ``unit`` in the right number: "1,600 soldiers", "1 soldier", "38%".

    A unit made of lower-case words is put in the plural (or singular, for exactly one) on its
    last word, whichever form the caller gave; other units (USD, km², %) are kept as given, and
    "%" is attached without a space.
    """
    if not unit:
        return number
    if unit in ("%", "\u2030"):
        return f"{number}{unit}"
    head, _, last = unit.rpartition(" ")
    if last.isalpha() and last.islower():
        singular = _ENGINE.singular_noun(last) or last
        word = singular if one else (last if singular != last else _ENGINE.plural_noun(last))
        unit = f"{head} {word}" if head else str(word)
    return f"{number} {unit}"


def join_and(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def count_words(n: int) -> str:
    """Small counts in words ("two", "five"), larger ones in digits ("12")."""
    return str(_ENGINE.number_to_words(n)) if 0 <= n <= 9 else str(n)


def capitalise(sentence: str) -> str:
    """Upper-case the first letter of a sentence, leaving the rest (names) alone."""
    return sentence[:1].upper() + sentence[1:]


def subject_phrase(subject: str | None, question: str | None) -> str | None:
    """The noun phrase the text is about, or None.

    ``subject`` when given; else the question when it reads as a noun phrase (it does not end
    in "?"), verbatim but for a leading article ("The death toll" → "the death toll"): its
    first word may be a name ("Iraq war deaths"), which no rule can tell from a common noun,
    so give ``subject`` to control the wording. A question ending in "?" is never used as a
    subject.
    """
    if subject and subject.strip():
        return subject.strip()
    if not question or not question.strip() or question.strip().endswith("?"):
        return None
    text = question.strip().rstrip(".:")
    first, _, rest = text.partition(" ")
    if first in ("The", "A", "An") and rest:
        text = f"{first.lower()} {rest}"
    return text
