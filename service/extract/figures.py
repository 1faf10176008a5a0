"""The figures of a text, read by quantulum3 and corrected where it is known to misread news.

quantulum3 (MIT) finds numbers with their scale words ("1.3 million", "three hundred"), ranges
("between 10,000 and 12,000", "18 to 21") and units (currencies, percentages), with character
spans. This module keeps what can be a claimed count, amount or share, and corrects the
library's known misreadings of news text:

* dates and durations are dropped ("October 23", "since 2022", "five days", "122 mm");
* a figure glued to the next word ("40,000paramilitary") is read whole, not as "40";
* "12k", "$2.5bn", "€5m": the scale suffix multiplies (the library reads kibibytes, barns);
* "half a million" is 500,000 (the library adds the half: 1,500,000);
* "$US367 billion": the currency prefix is kept with its number;
* vague figures the library leaves out ("thousands of", "tens of thousands") become ranges
  (two to ten of the named scale), flagged ``vague``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["Figure", "find_figures", "library_figures"]

_MONTHS: Final = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE_BEFORE = re.compile(rf"\b(?:{_MONTHS})\.?\s*$", re.IGNORECASE)
_DATE_AFTER = re.compile(rf"^(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\b", re.IGNORECASE)
_YEAR_BEFORE = re.compile(
    r"\b(?:in|since|of|until|till|by|from|year|early|late|mid|before|after|during|between|"
    r"and|to|for)[\s-]*$",
    re.IGNORECASE,
)
_ID_BEFORE = re.compile(r"(?:[A-Za-z]-|\b(?:no|article|number|room|flight|route|line)\.?\s*)$",
                        re.IGNORECASE)
_ORDINAL_AFTER = re.compile(r"^(?:st|nd|rd|th)\b")
_GLUED = re.compile(r"\d[\d,]*(?:\.\d+)?")
_SUFFIX = re.compile(r"(?P<num>\d[\d,]*(?:\.\d+)?)(?P<suffix>k|m|mn|bn|b|tn|trn)\b",
                     re.IGNORECASE)
_SUFFIX_SCALE: Final = {"k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9, "tn": 1e12,
                        "trn": 1e12}
_CURRENCY_BEFORE = re.compile(
    r"(?P<cur>US\$|\$US|A\$|C\$|\$|£|€|¥|USD|EUR|GBP|NIS|Rs\.?)\s?$")
_CURRENCY_LEAD = re.compile(r"^(?P<cur>US\$|\$US|A\$|C\$|\$|£|€|¥)\s?")
_CURRENCY_CODES: Final = {
    "US$": "USD", "$US": "USD", "$": "USD", "USD": "USD", "A$": "AUD", "C$": "CAD",
    "£": "GBP", "GBP": "GBP", "€": "EUR", "EUR": "EUR", "¥": "JPY", "NIS": "ILS", "Rs": "INR",
    "Rs.": "INR",
}
_LIBRARY_CURRENCIES: Final = {
    "dollar": "USD", "united states dollar": "USD", "pound sterling": "GBP", "euro": "EUR",
    "japanese yen": "JPY", "australian dollar": "AUD", "canadian dollar": "CAD",
}
_HALF = re.compile(r"^half an? (?P<scale>thousand|million|billion)$", re.IGNORECASE)
_SCALES: Final = {"dozen": 12.0, "hundred": 1e2, "thousand": 1e3, "million": 1e6,
                  "billion": 1e9, "trillion": 1e12}
_VAGUE = re.compile(
    r"\b(?P<lead>(?:several|many)\s+)?(?P<tens>tens\s+of\s+|hundreds\s+of\s+)?"
    r"(?P<scale>dozens|hundreds|thousands|millions|billions)\b(?=\s+(?:of|more|have|had|were|"
    r"are|took|joined|marched|gathered|fled|died|protested|rallied)\b)",
    re.IGNORECASE,
)
#: Units of the library kept as claims: counts (dimensionless), money and shares.
_KEPT_ENTITIES: Final = frozenset({"dimensionless", "currency"})


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure: where it is, what it says, and how it was read.

    ``low``/``high`` are set for a range (and a vague figure), ``value`` for a single figure.
    ``currency`` is an ISO code for money; ``percent`` marks a share.
    """

    start: int
    end: int
    surface: str
    value: float | None
    low: float | None = None
    high: float | None = None
    currency: str | None = None
    percent: bool = False
    vague: bool = False
    corrected: bool = False


def _parse(text: str) -> list[Any]:
    with warnings.catch_warnings():
        # quantulum3 warns (on import and on use) that its optional classifier, scikit-learn
        # with a model trained on Wikipedia, is not installed: it then picks units by
        # frequency, offline, which is what we want: nothing is downloaded.
        warnings.simplefilter("ignore")
        from quantulum3 import parser  # type: ignore[import-untyped]

        return list(parser.parse(text))


def library_figures(text: str) -> list[Figure]:
    """Every quantity quantulum3 finds, as it reads it (the baseline of ``bench/``)."""
    found = []
    for q in _parse(text):
        start, end = q.span
        value = float(q.value)
        unc = q.uncertainty
        unit = q.unit
        low = high = None
        if unc:
            low, high = value - float(unc), value + float(unc)
        found.append(Figure(
            start, end, text[start:end], None if unc else value, low, high,
            currency=_LIBRARY_CURRENCIES.get(unit.name),
            percent=unit.name == "percentage",
        ))
    return found


def _is_date_or_id(text: str, start: int, end: int, value: float, surface: str) -> bool:
    before, after = text[max(0, start - 16):start], text[end:end + 16]
    if _DATE_BEFORE.search(before) or _DATE_AFTER.search(after) or _ID_BEFORE.search(before):
        return True
    if _ORDINAL_AFTER.search(after) or re.search(r"\d(?:st|nd|rd|th)$", surface):
        return True
    looks_like_year = re.fullmatch(r"\d{4}", surface) and 1800 <= value <= 2100
    return bool(looks_like_year and (_YEAR_BEFORE.search(before) or not re.match(
        r"\s+[a-z]", after)))


def _has_scale_suffix(text: str, start: int, surface: str) -> bool:
    lead = _CURRENCY_LEAD.match(surface)
    return bool(_SUFFIX.match(text, start + (lead.end() if lead else 0)))


def _corrected(text: str, figure: Figure) -> Figure:
    """Apply the known corrections to one library figure."""
    start, end, surface = figure.start, figure.end, figure.surface
    value, low, high, currency = figure.value, figure.low, figure.high, figure.currency
    corrected = False
    # A figure glued to the next word or cut at a comma: read the digits whole.
    glued = _GLUED.match(text, start)
    if glued and glued.end() > end and figure.low is None:
        end = glued.end()
        value = float(glued.group().replace(",", ""))
        corrected = True
    lead = _CURRENCY_LEAD.match(surface)
    if lead:
        currency = currency or _CURRENCY_CODES[lead.group("cur")]
        corrected = True
    number_at = start + (lead.end() if lead else 0)
    suffix = _SUFFIX.match(text, number_at)
    if suffix and suffix.end() >= end:
        end = suffix.end()
        value = float(suffix.group("num").replace(",", "")) * _SUFFIX_SCALE[
            suffix.group("suffix").lower()]
        corrected = True
    half = _HALF.match(text[start:end])
    if half:
        value = 0.5 * _SCALES[half.group("scale").lower()]
        corrected = True
    # "$US367 billion": the library read only "billion"; read the number before it.
    if surface.lower() in _SCALES and value is not None:
        window = text[max(0, start - 20):start]
        number = re.search(r"(\d[\d,]*(?:\.\d+)?)\s*$", window)
        if number:
            value = float(number.group(1).replace(",", "")) * value
            start -= len(window) - number.start(1)
            corrected = True
    # A currency sign just before the number (the library can take "$US" for a unit).
    cur = _CURRENCY_BEFORE.search(text, max(0, start - 4), start)
    if cur:
        currency = currency or _CURRENCY_CODES[cur.group("cur")]
        start = cur.start()
        corrected = True
    return Figure(start, end, text[start:end], value, low, high, currency, figure.percent,
                  corrected=corrected or figure.corrected)


def _vague(text: str) -> list[Figure]:
    found = []
    for match in _VAGUE.finditer(text):
        base = _SCALES[match.group("scale").lower().rstrip("s")]
        if match.group("tens"):
            base *= 10 if match.group("tens").lower().startswith("tens") else 100
        start = match.start("tens") if match.group("tens") else match.start("scale")
        if match.group("lead"):
            start = match.start("lead")
        found.append(Figure(start, match.end(), text[start:match.end()], None,
                            low=2 * base, high=10 * base, vague=True))
    return found


def find_figures(text: str) -> list[Figure]:
    """The figures of ``text`` that can be claims, in text order, corrected (see above)."""
    kept: list[Figure] = []
    for q in _parse(text):
        unit = q.unit
        start, end = q.span
        surface = text[start:end]
        value = float(q.value)
        is_money = unit.name in _LIBRARY_CURRENCIES
        is_percent = unit.name == "percentage"
        # "€5m" is read as euro metres, "12k" as kibibytes: a scale suffix makes a count.
        odd_unit = unit.entity.name == "unknown" or _has_scale_suffix(text, start, surface)
        if unit.entity.name not in _KEPT_ENTITIES and not is_percent and not odd_unit:
            continue
        if not is_money and not is_percent and _is_date_or_id(text, start, end, value, surface):
            continue
        unc = q.uncertainty
        low = high = None
        if unc:
            low, high = value - float(unc), value + float(unc)
        figure = Figure(start, end, surface, None if unc else value, low, high,
                        currency=_LIBRARY_CURRENCIES.get(unit.name), percent=is_percent)
        if odd_unit:
            figure = Figure(start, end, surface, value, corrected=True)
        kept.append(_corrected(text, figure))
    taken = [(f.start, f.end) for f in kept]
    for figure in _vague(text):
        if not any(s < figure.end and figure.start < e for s, e in taken):
            kept.append(figure)
    return sorted(kept, key=lambda f: f.start)
