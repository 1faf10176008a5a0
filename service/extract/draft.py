"""Extraction end to end: text → figures → draft claims → quantities and sources."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Final, Literal

from models.claims import ClaimKind, Hedge, Source
from models.result import Warning
from service.extract import attribution as attr
from service.extract import cues
from service.extract.figures import Figure, find_figures
from service.extract.grouping import group, mention
from service.extract.inputs import check_text, html_to_text
from service.extract.model import DraftClaim, Extraction, Quantity
from service.extract.units import Unit, noun_phrase, outcome_only, unit_from_context

__all__ = ["ARTICLE_SOURCE", "extract"]

#: The source of figures the text states without attributing them: the article itself.
ARTICLE_SOURCE: Final = Source("article", "The article (unattributed)", "media_outlet")

_WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                    "sunday")
_WEEKDAY = re.compile(r"\b(" + "|".join(_WEEKDAYS) + r")\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r",\s*(?:although|though|but|while|whereas)\b|;|\s+but\s+",
                           re.IGNORECASE)

Format = Literal["plain", "html"]


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:60] or "source"


def _clause(sentence: attr.Sentence, start: int, end: int) -> str:
    """The clause of ``sentence`` holding text offsets ``start``–``end``."""
    lo, hi = start - sentence.start, end - sentence.start
    begin, finish = 0, len(sentence.text)
    for match in _CLAUSE_BREAK.finditer(sentence.text):
        if match.end() <= lo:
            begin = match.start()
        elif match.start() >= hi:
            finish = match.start()
            break
    return sentence.text[begin:finish]


def _as_of(clause: str, published: date | None) -> date | None:
    """The date a clause gives its figure: the weekday it names, on or before ``published``."""
    if published is None:
        return None
    match = _WEEKDAY.search(clause)
    if match is None:
        return None
    wanted = _WEEKDAYS.index(match.group(1).lower())
    back = (published.weekday() - wanted) % 7
    return published - timedelta(days=back)


def _numbers(figure: Figure, lead: str) -> tuple[bool, float | None, float | None,
                                                 float | None]:
    """(is a range, value, low, high) of a figure; "rose from 18 to 21" is the point 21."""
    if figure.low is not None and figure.high is not None:
        if not figure.vague and cues.rose_from_to(lead):
            return False, figure.high, None, None
        return True, None, figure.low, figure.high
    return False, figure.value, None, None


def _confidence(unit: Unit | None, who: attr.Attribution | None, figure: Figure,
                kind_cue: str | None) -> float:
    """A score in [0, 1] of how completely the draft was read (not a probability): half for
    the figure, more for a unit of its own and a named source, less for a vague or corrected
    figure."""
    score = 0.5
    score += 0.2 if unit is not None and not unit.inherited else 0.1 if unit else 0.0
    score += 0.2 if who is not None else 0.0
    score += 0.05 if kind_cue else 0.0
    score -= 0.2 if figure.vague else 0.0
    score -= 0.05 if figure.corrected else 0.0
    return round(min(max(score, 0.05), 0.95), 2)


def extract(text: str, *, format: Format = "plain", published: date | None = None
            ) -> Extraction:
    """Draft claims from an article.

    Parameters
    ----------
    text : str
        The article, as plain text or HTML.
    format : {"plain", "html"}
        How ``text`` is written; HTML is reduced to its visible text first, and spans refer to
        that text (returned as :attr:`Extraction.text`).
    published : datetime.date, optional
        When the article was published: weekdays it names ("Last Friday") become dates.

    Returns
    -------
    Extraction
        Quantities (figures of one unit, worded alike), each with its draft claims in text
        order; the sources drafted from attributions; warnings (no figures found).

    Raises
    ------
    service.extract.errors.ExtractError
        When the text cannot be read as an English article (see :func:`check_text`).
    """
    if format == "html":
        text = html_to_text(text)
    check_text(text)
    figures = find_figures(text)
    sources: dict[str, Source] = {}
    # "The NIS" after "the South Korean National Intelligence Service (NIS)": one source.
    aliases: dict[str, Source] = {}
    drafts: list[DraftClaim] = []
    units: list[Unit | None] = []
    previous_who: attr.Attribution | None = None
    last_unit: Unit | None = None
    index = 0
    for sentence in attr.sentences(text):
        if "\n\n" in text[max(0, sentence.start - 2):sentence.start + 1]:
            last_unit = None  # a new paragraph: no unit carries over
        sentence_unit: Unit | None = None
        while index < len(figures) and figures[index].start < sentence.start:
            index += 1
        inside = []
        while index < len(figures) and figures[index].start < sentence.end:
            inside.append(figures[index])
            index += 1
        for figure in inside:
            at = figure.start - sentence.start
            lead = text[max(sentence.start, figure.start - 80):figure.start]
            tail = text[figure.end:sentence.end]
            clause = _clause(sentence, figure.start, figure.end)
            unit = noun_phrase(tail)
            if unit is None:
                context = unit_from_context(sentence.text[:at])
                inherited = sentence_unit or context or last_unit
                outcome = outcome_only(tail)
                if inherited is not None:
                    unit = Unit(inherited.phrase, inherited.head, inherited.modifiers,
                                outcome or inherited.outcome, inherited=True)
                elif outcome:
                    unit = Unit("people", "person", (), outcome, inherited=True)
            is_range, value, low, high = _numbers(figure, lead)
            kind: ClaimKind
            kind, kind_cue = cues.kind_of(lead, tail, is_range)
            hedge: Hedge
            hedge, hedge_cue = cues.hedge_of(lead, tail)
            if figure.vague and hedge in ("none", "exact"):
                hedge, hedge_cue = "about", figure.surface
            if kind != "range" and figure.value is None and value is None:
                continue
            horizon, horizon_cue = cues.horizon_of(clause)
            who = attr.attribute(sentence.text, at, previous_who)
            if who is not None:
                previous_who = who
                source = aliases.get(who.name.lower()) or Source(
                    _slug(who.name), who.name, who.type)
                for alias in re.findall(r"\(([A-Z][A-Za-z.]{1,9})\)", who.name):
                    aliases.setdefault(alias.lower(), source)
            else:
                source = ARTICLE_SOURCE
            sources.setdefault(source.id, source)
            unit_text = figure.currency or ("%" if figure.percent else (
                unit.label if unit else ""))
            drafts.append(DraftClaim(
                source=source.id, kind=kind,
                value=value if kind != "range" else None,
                low=low if kind == "range" else None, high=high if kind == "range" else None,
                hedge=hedge, horizon=horizon, as_of=_as_of(clause, published),
                span=(figure.start, figure.end), figure=figure.surface,
                quote=" ".join(sentence.text.split())[:2000],
                attribution=who.text if who else None, unit=unit_text,
                confidence=_confidence(unit, who, figure, kind_cue),
                cues=tuple(c for c in (kind_cue, hedge_cue, horizon_cue) if c),
            ))
            units.append(unit)
            if unit is not None and not figure.currency and not figure.percent:
                sentence_unit = last_unit = unit
    mentions = [
        mention(u, _currency(d), d.unit == "%", d.value if d.value is not None else d.high)
        for d, u in zip(drafts, units, strict=True)
    ]
    quantities = []
    for number, members in enumerate(group(mentions), start=1):
        claims = tuple(drafts[i] for i in members)
        label = _label(claims)
        quantities.append(Quantity(f"q{number}", claims[0].unit, label, claims))
    warnings = () if drafts else (Warning(
        "no_figures", "No figures were found in the text: nothing to draft."),)
    return Extraction(text, tuple(quantities), tuple(sources.values()), warnings)


def _currency(draft: DraftClaim) -> str | None:
    return draft.unit if re.fullmatch(r"[A-Z]{3}", draft.unit) else None


def _label(claims: tuple[DraftClaim, ...]) -> str:
    """The wording of a quantity: the unit its figures use most, with the longest phrasing."""
    counts: dict[str, int] = {}
    for claim in claims:
        counts[claim.unit] = counts.get(claim.unit, 0) + 1
    return max(counts, key=lambda u: (counts[u], len(u)))
