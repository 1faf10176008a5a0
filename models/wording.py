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
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, localcontext
from functools import lru_cache
from typing import Final

import inflect
from babel.core import Locale
from babel.numbers import NumberPattern, parse_pattern

__all__ = [
    "LOCALE",
    "can_open",
    "capitalise",
    "computed_exponent",
    "count_words",
    "date_text",
    "format_computed",
    "join_and",
    "origin_phrase",
    "p_value",
    "percent",
    "possessive",
    "Quotes",
    "quote_number",
    "range_exponents",
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
#: Scale words are used below this only. From 1,000 trillion up a figure is printed in grouped
#: digits ("1,000,000,000,000,000,000,000"), never "1,000,000,000 trillion": no newspaper prints
#: "quadrillion", a scale word with a four-digit multiplier reads as a typo, and scientific
#: notation is not newspaper English.
_WORDS_BELOW: Final = Decimal(10) ** 15


def _decimal(x: float) -> Decimal:
    # repr is the shortest string that round-trips, so 0.3 stays 0.3 (not 0.2999…).
    return Decimal(repr(float(x)))


# babel's format_decimal parses the locale and the pattern at every call; a reconcile prints
# about 25 figures, so both are parsed once here and the patterns applied directly (the same
# calls format_decimal makes, so the same text).
_LOCALE: Final = Locale.parse(LOCALE)
_PLAIN: Final[NumberPattern] = _LOCALE.decimal_formats[None]


@lru_cache(maxsize=32)
def _fixed(decimals: int) -> NumberPattern:
    return parse_pattern("#,##0" + ("." + "0" * decimals if decimals > 0 else ""))


def _digits(d: Decimal, decimals: int | None = None) -> str:
    """``d`` grouped by thousands: with all its significant decimals (``decimals`` None, for a
    quoted figure) or with exactly ``decimals`` of them, trailing zeros kept (a computed figure
    rounded to tenths prints "3.0", never "3")."""
    # str(d) names one Decimal exactly (sign, digits and exponent: "1.5" and "1.50" differ),
    # which d itself does not as a key (Decimal("1.5") == Decimal("1.50")).
    return _grouped(str(d), decimals)


# One answer prints the same figure several times (a claim quoted in two findings, an end of
# the range in the summary and the explanation): about 11 distinct of 25 for 10 claims.
@lru_cache(maxsize=4096)
def _grouped(exact: str, decimals: int | None) -> str:
    d = Decimal(exact)
    with localcontext(_CONTEXT):  # babel rounds in the current context
        if decimals is None:
            text = _PLAIN.apply(d, _LOCALE, decimal_quantization=False, group_separator=True)
        else:
            text = _fixed(decimals).apply(d, _LOCALE, group_separator=True)
    return str(text).replace("-", "\u2212")


def quote_number(x: float) -> str:
    """A claimed figure exactly as claimed: grouped, never rounded.

    Scale words ("1.5 million") only below 1,000 trillion; larger figures are grouped digits
    (see :data:`_WORDS_BELOW`).

    >>> quote_number(3166), quote_number(601027), quote_number(38.3), quote_number(1.5e6)
    ('3,166', '601,027', '38.3', '1.5 million')
    >>> quote_number(1234567), quote_number(1e21)
    ('1,234,567', '1,000,000,000,000,000,000,000')
    """
    d = _decimal(x)
    if d == d.to_integral_value():
        d = d.quantize(Decimal(1), context=_CONTEXT)
    if abs(d) >= _WORDS_BELOW:
        return _digits(d)
    for size, word in _MILLIONS:
        if abs(d) >= size:
            scaled = _CONTEXT.divide(d, size).normalize(_CONTEXT)
            # "1.5 million" is the same number as 1,500,000; "1.234567 million" is not how
            # anyone writes 1,234,567, so that one keeps its digits.
            if scaled.as_tuple().exponent >= -2:  # type: ignore[operator]
                return f"{_digits(scaled)} {word}"
            break
    return _digits(d)


class Quotes:
    """:func:`quote_number` remembered for one answer: its findings quote a claim's figure and
    its explanation quotes it again (about nine figures of nineteen for ten claims). The text
    depends on the float alone; ±0 share a dict key, so zero is never remembered.
    Make one per answer (a cache across answers would only pay when a question is repeated)."""

    __slots__ = ("_texts",)

    def __init__(self) -> None:
        self._texts: dict[float, str] = {}

    def __call__(self, x: float) -> str:
        key = float(x)
        text = self._texts.get(key) if key else None
        if text is None:
            text = quote_number(x)
            if key:
                self._texts[key] = text
        return text


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

    The printed decimals are the rounding's: a figure rounded to tenths keeps its trailing
    zero ("3.0", "3.0 million"), so the two ends of a range rounded alike show the same
    decimals ("2.5 to 4.0"). Scale words only below 1,000 trillion (:data:`_WORDS_BELOW`).

    >>> format_computed(1629.6, 2), format_computed(38.34, -1), format_computed(13131948.1, 5)
    ('1,600', '38.3', '13.1 million')
    >>> format_computed(3.96, -1), format_computed(2.51e21, 19)
    ('4.0', '2,510,000,000,000,000,000,000')
    """
    d = round_computed(x, exponent)
    if d == 0:
        d = abs(d)  # never "−0.0"
    if abs(d) < _WORDS_BELOW:
        for size, word in _MILLIONS:
            # Words for millions only when no digit is lost: at most two decimals of millions.
            if abs(d) >= size and exponent >= _log10(size) - 2:
                places = max(_log10(size) - exponent, 0)
                scaled = _CONTEXT.divide(d, size).quantize(Decimal(1).scaleb(-places, _CONTEXT),
                                                           context=_CONTEXT)
                return f"{_digits(scaled, places)} {word}"
    return _digits(d, max(-exponent, 0))


#: How many more digits the shared decimals of :func:`range_exponents` may give the coarser end
#: of a range ("0.53 to 29.70": two). An end is known to about two significant figures of its
#: interval's width; digits beyond two more than that are the float's arithmetic, not the
#: evidence, and a lone E-grade figure of 0.05 printed its range as "0.000049 to 51.282278".
SHARED_DECIMALS_REACH: Final = 2


def range_exponents(low: int, high: int, low_text: str, high_text: str) -> tuple[int, int]:
    """The exponents the two ends of a computed range are printed with.

    Each end is rounded by :func:`computed_exponent`, which may round the low end finer (it
    keeps two significant figures of its own). When the two ends, so printed, show different
    decimals ("0.53 to 30"), both are printed at the finer exponent ("0.53 to 29.70"): a range's
    ends always show the same number of decimals. Ends without decimals ("460 to 13,100") keep
    their own rounding, and so do ends with different scale words ("610,000 to 33.5 million",
    never "33.51 million"), and ends whose exponents lie more than
    :data:`SHARED_DECIMALS_REACH` apart ("0.000049 to 51", never "0.000049 to 51.282278").

    Parameters
    ----------
    low, high : int
        The exponents of the two ends.
    low_text, high_text : str
        The ends as printed at those exponents.

    Returns
    -------
    (int, int)
    """
    (low_places, low_word), (high_places, high_word) = _decimals(low_text), _decimals(high_text)
    # Decimals of different scale words are not comparable: "610,000 to 33.5 million" stays.
    if low_places == high_places or low_word != high_word:
        return low, high
    if abs(low - high) > SHARED_DECIMALS_REACH:
        return low, high
    finer = min(low, high)
    return finer, finer


def _decimals(text: str) -> tuple[int, str]:
    """(decimals shown, scale word) of a printed figure: "2.50 million" → (2, "million")."""
    number, _, word = text.partition(" ")
    _, point, fraction = number.partition(".")
    return (len(fraction) if point else 0), word


def _log10(d: Decimal) -> int:
    return len(str(int(d))) - 1


#: A share within this of 1 prints as "100%", not "over 99%": one computed as a sum of many
#: terms carries rounding noise of some ulps, so whether a whole share lands on exactly 1.0 is
#: chance, and the words must not follow it. 1e-12 is a thousand times the noise of a sum over
#: a few thousand terms. (A model's probability never prints as certain: :func:`chance`.)
CERTAIN_WITHIN = 1e-12


def percent(p: float) -> str:
    """A share or probability as a whole percentage: "62%", "under 1%", "over 99%", "100%"
    (within :data:`CERTAIN_WITHIN` of 1)."""
    if 0 < p < 0.005:
        return "under 1%"
    if p >= 1.0 - CERTAIN_WITHIN:
        return "100%"
    if 0.995 < p:
        return "over 99%"
    x = 100 * p
    if 0.0 < x < 1e6:
        whole = math.floor(x)
        # repr(x), which round_computed rounds, lies within half an ulp of x (under 1e-10
        # here): off the half by more than that, both round alike, without Decimal's cost.
        if abs(x - whole - 0.5) > 1e-9:
            return f"{whole + (x - whole > 0.5)}%"
    return f"{round_computed(x, 0):f}%"


def chance(p: float) -> str:
    """A model's probability of an event as printed: as :func:`percent`, except that it never
    reads as certain, "100%" or "0%": a posterior probability of a claim being wrong is never
    exactly 1 or 0 under the model, and one that rounds there reads "over 99%" or "under 1%",
    which stay true whatever its last bits."""
    if p >= 0.995:
        return "over 99%"
    if p < 0.005:
        return "under 1%"
    return percent(p)


def p_value(p: float) -> str:
    """A p-value as printed: "p = 0.40", "p = 0.032", "p < 0.001"."""
    if p < 0.001:
        return "p < 0.001"
    exponent = math.floor(math.log10(p)) - 1
    return f"p = {round_computed(p, exponent):f}"


def possessive(name: str) -> str:
    """English possessive: "the organisers'", "Reuters'", "the census's", "the NIS's".

    Rule (AP style for names, the plural rule for common nouns), on the last word of ``name``:

    * not ending in a lower-case "s" (including acronyms such as "NIS" or "US") → 's;
    * a name -- the last word capitalised: "Reuters", "The Times", "Hamas", "NGOs" -- → a bare
      apostrophe ("Reuters'"), as AP prints singular proper names ending in s;
    * a plural common noun ("the organisers", "witnesses") → a bare apostrophe;
    * any other common noun ending in s -- a singular ("the census", "the boss", "the
      analysis") or one with the same form in both numbers ("the news", "series") → 's.

    A common noun is plural when ``inflect`` would form its plural by adding a bare "s" (it
    reads "organisers" as a singular and offers "organiserss"), whereas a true singular gets
    its own plural ("censuses", "bosses", "analyses") and an invariant noun itself.

    >>> possessive("the census"), possessive("the organisers"), possessive("Reuters")
    ("the census's", "the organisers'", "Reuters'")
    """
    last = name.rsplit(" ", 1)[-1]
    if not last.endswith("s"):
        return f"{name}'s"
    if last[:1].isupper() or _is_plural(last):
        return f"{name}'"
    return f"{name}'s"


def _is_plural(word: str) -> bool:
    """Whether a lower-case word ending in "s" is a plural (see :func:`possessive`)."""
    if not word.isalpha():
        return True  # "3s", "x-rays": no dictionary to ask; the plural reading is likelier
    return str(_ENGINE.plural_noun(word)) == word + "s"


#: First words that already determine a noun phrase: no article is added before them.
_DETERMINERS: Final = frozenset((
    "the", "a", "an", "this", "that", "these", "those", "its", "his", "her", "their", "our",
    "my", "your", "one", "each", "every", "some", "any", "another"))
#: Small words that may be lower case inside a name ("Ministry of Health", "Médecins sans
#: Frontières", "de Volkskrant") without making it a common noun phrase.
_NAME_PARTICLES: Final = frozenset((
    "of", "and", "for", "on", "in", "at", "to", "by", "the", "de", "la", "le", "les", "du",
    "des", "del", "da", "do", "sans", "van", "von", "der", "den", "al", "el", "y", "et", "und",
    "&"))


def origin_phrase(origin: str) -> str:
    """An origin (free text naming where echoed figures come from) as a noun phrase.

    A name is printed as given ("Reuters", "UN OCHA", "Ministry of Health"); a common noun
    phrase gets "the" ("AP wire story" → "the AP wire story", so "the AP wire story's figure"),
    unless it already starts with a determiner or a possessive ("a Reuters tally", "the
    ministry's statement", "Reuters' count"). A phrase is a name when none of its words is a
    lower-case word other than a particle of names ("of", "de" …). Runs of white space are
    printed as one space.

    >>> origin_phrase("AP wire story"), origin_phrase("Reuters")
    ('the AP wire story', 'Reuters')
    """
    words = origin.split()
    if not words:
        return origin
    text = " ".join(words)
    first = words[0]
    if first.lower() in _DETERMINERS or first.endswith(("'s", "'", "\u2019s", "\u2019")):
        return text
    if any(w.islower() and w not in _NAME_PARTICLES for w in words):
        return f"the {text}"
    return text


def with_unit(number: str, unit: str | None, *, one: bool = False) -> str:
    """``number`` followed by ``unit`` in the right number: "1,600 soldiers", "1 soldier", "38%".

    A unit made of lower-case words is put in the plural (or singular, for exactly one) on the
    last word of its noun, whichever form the caller gave: the word before the first
    preposition where one follows the noun ("1,600 tonnes of grain", "1 litre per second",
    "1 person in need"), else the last word; other units (USD, km², %) are kept as given, and
    "%" is attached without a space.
    """
    if not unit:
        return number
    if unit in ("%", "\u2030"):
        return f"{number}{unit}"
    words = unit.split(" ")
    cut = next((k for k in range(1, len(words)) if words[k] in _PREPOSITIONS), len(words))
    last = words[cut - 1]
    if last.isalpha() and last.islower():
        singular, plural = _noun_forms(last)
        words[cut - 1] = singular if one else plural
        unit = " ".join(words)
    return f"{number} {unit}"


# Words that end a unit's noun and open its qualifier: "tonnes of grain", "dollars a day".
_PREPOSITIONS = frozenset(
    {"a", "an", "at", "by", "for", "from", "in", "of", "on", "per", "to", "with"})


# inflect's singular_noun costs about 20 µs a call (every answer with a unit asks it), for the
# few distinct units a service sees.
@lru_cache(maxsize=1024)
def _noun_forms(word: str) -> tuple[str, str]:
    """``(singular, plural)`` of a lower-case ``word`` given in either form."""
    singular = _ENGINE.singular_noun(word) or word
    return str(singular), str(word if singular != word else _ENGINE.plural_noun(word))


def join_and(items: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def count_words(n: int, *, spell: bool = False) -> str:
    """Small counts in words ("two", "five"), larger ones in digits ("12"); with ``spell``
    (a count opening a sentence, which never begins with a numeral) always in words
    ("twelve", "twenty-one")."""
    return _count_words(n, spell or 0 <= n <= 9)


# inflect's number_to_words costs about 6 µs a call, a few times per answer, for a handful of
# distinct small counts.
@lru_cache(maxsize=1024)
def _count_words(n: int, in_words: bool) -> str:
    return str(_ENGINE.number_to_words(n)) if in_words else str(n)


def capitalise(sentence: str) -> str:
    """Upper-case the first letter of a sentence, leaving the rest (names) alone."""
    return sentence[:1].upper() + sentence[1:]


def can_open(phrase: str) -> bool:
    """Whether ``phrase``, capitalised, can open a sentence.

    Not when it begins with anything but a letter (a numeral: "20 Minutes"; a quotation mark;
    a bracket), nor with a name whose lower-case first letter is its spelling ("eBay",
    "iNaturalist"): the caller rephrases ("The figure of 5,000 from 20 Minutes …").
    """
    first = phrase.split(" ", 1)[0]
    if not first[:1].isalpha():
        return False
    return not (first[0].islower() and any(ch.isupper() for ch in first[1:]))


#: First words that make a phrase a question ("How many displaced", "was the toll higher"),
#: compared in lower case; an all-capitals first word is an acronym ("WHO's count").
_QUESTION_WORDS: Final = frozenset((
    "how", "what", "which", "who", "whom", "whose", "when", "where", "why", "whether",
    "is", "are", "was", "were", "do", "does", "did", "will", "would", "can", "could",
    "should", "shall", "has", "have", "had"))


def subject_phrase(subject: str | None, question: str | None) -> str | None:
    """The noun phrase the text is about, or None for the neutral default.

    Only ``subject`` (the ``style.subject`` option) is ever printed as the subject; with none,
    the text says "the best estimate", "the evidence" and so on. The question is a question
    (or a heading: "Protesters across France, 2023-01-31", "Casualties"), never a phrase to
    put in running text, so ``question`` is accepted for the callers' convenience and not used.

    The subject is printed verbatim, trimmed, without a trailing "." or ":", and with a leading
    article in lower case ("The death toll" → "the death toll"); its first word may be a name
    ("Iraq war deaths"), which no rule can tell from a common noun, so it is otherwise left as
    given. A subject that reads as a question -- ending in "?" or beginning with a question
    word ("How many displaced", "was the toll higher") -- is not used either: the neutral
    default is printed rather than "the best estimate of How many displaced".

    >>> subject_phrase("The death toll", None), subject_phrase("How many displaced", None)
    ('the death toll', None)
    """
    del question  # a question is never the subject (see above)
    text = (subject or "").strip().rstrip(".:").strip()
    if not text or text.endswith("?"):
        return None
    first, _, rest = text.partition(" ")
    word = first.split("'")[0].split("\u2019")[0]
    if word.lower() in _QUESTION_WORDS and not (word.isupper() and len(word) > 1):
        return None
    if first in ("The", "A", "An") and rest:
        text = f"{first.lower()} {rest}"
    return text


def date_text(day: date) -> str:
    """A date as a newsroom prints it: "18 October 2024" (day first, no leading zero)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


_MONTHS: Final = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")
