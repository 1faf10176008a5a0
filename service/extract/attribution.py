"""Sentences, and who a sentence says gave a figure.

A figure's attribution is found in its sentence, nearest first:

1. "according to X" anywhere in the sentence;
2. a speech verb before the figure in its clause, with its subject ("the NIS had already said
   that 1,500 …", "other sources told South Korean media that …"; leading time phrases such as
   "Last Friday" are dropped, and "X told Y" keeps Y as the recipient);
3. a speech verb after the figure (", an official said", "…, said local authorities",
   "…, The Washington Post reported").

A pronoun subject ("He specified that …") stands for the last named attribution before it.
Sources are then typed from their words (an intelligence service, a head of state, unnamed
sources, an outlet …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from models.claims import SourceType

__all__ = ["Attribution", "Sentence", "attribute", "sentences", "source_type"]

_ABBREVIATIONS: Final = (
    "mr|mrs|ms|dr|prof|gen|col|lt|sgt|capt|maj|st|no|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|"
    "nov|dec|inc|ltd|co|corp|vs|wis|calif|u\\.s|u\\.k|u\\.n|e\\.g|i\\.e|approx|est"
)
_BOUNDARY = re.compile(r"(?<=[.!?])[\"”’)]?\s+(?=[\"“‘(]?[A-Z0-9])|\n\s*\n")
_ABBREV_END = re.compile(rf"\b(?:{_ABBREVIATIONS})\.$|\b[A-Z]\.$", re.IGNORECASE)

_VERBS: Final = (
    "said|says|say|told|tells|stated|states|claimed|claims|estimated|estimates|reported|"
    "reports|announced|announces|specified|confirmed|confirms|added|explained|indicated|"
    "wrote|tweeted|insisted|warned|put|puts|cited|citing|stating|saying|showed|shows|found|"
    "finds|counted|counts|tallied|revealed|disclosed|noted|believed|believes|recorded"
)
_VERB = re.compile(rf"\b(?:{_VERBS})\b", re.IGNORECASE)
_ACCORDING = re.compile(r"\baccording\s+to\s+(?P<who>[^,.;:()]{2,90}?)(?=\s*(?:[,.;:()]|$|"
                        r"\bthat\b|\bwho\b|\bwhich\b))", re.IGNORECASE)
_CLAUSE_START = re.compile(
    r"(?:^|[;:]|,\s*(?:although|though|but|while|whereas|and|as)\b|\b(?:although|though|"
    r"whereas|while|but)\b)", re.IGNORECASE)
_LEADING_TIME = re.compile(
    r"^(?:(?:last|this|next|on|early|late|earlier|later)\s+(?:monday|tuesday|wednesday|"
    r"thursday|friday|saturday|sunday|week|month|year|night|morning|evening|day)\b|"
    r"(?:a|one|two|three)\s+(?:day|week|month)s?\s+(?:earlier|later|ago)|earlier|later|"
    r"meanwhile|however|additionally|also|then|for\s+(?:his|her|its|their)\s+part|"
    r"on\s+the\s+other\s+hand|in\s+[A-Z][\w.]*(?:\s+[A-Z][\w.]*)*)[\s,]*",
    re.IGNORECASE,
)
_AUXILIARY = re.compile(
    r"\s+(?:had|has|have|was|were|is|are|would|will|also|already|then|later|earlier|on\s+"
    r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|this\s+\w+day|last\s+\w+day|"
    r"late\s+\w+|reportedly|previously|recently|initially|officially|publicly|separately)\b.*$",
    re.IGNORECASE | re.DOTALL)
_AFTER = re.compile(
    rf"^[^,]*?,\s*(?:(?P<who>[^,.;]{{2,80}}?)\s+(?:{_VERBS})\b|(?:said|says|told|reported)\s+"
    r"(?P<who2>[^,.;]{2,80}))", re.IGNORECASE)
_PRONOUN = re.compile(r"^(?:he|she|they|it|the\s+(?:agency|ministry|service|official|"
                      r"minister|spokesman|spokeswoman|spokesperson|group))$", re.IGNORECASE)
_RECIPIENT = re.compile(r"\s*(?P<to>[^,.;]{2,60}?)(?=\s+(?:that|it|on|last|this)\b|,|$)",
                        re.IGNORECASE)

#: Words that type a source, first match wins (order matters: "intelligence" before
#: "ministry", "sources" before "media").
_TYPES: Final[tuple[tuple[SourceType, re.Pattern[str]], ...]] = (
    ("anonymous", re.compile(r"\b(?:sources?|unnamed|anonymous|people\s+familiar|insiders?)\b",
                             re.IGNORECASE)),
    ("intelligence_agency", re.compile(r"\b(?:intelligence|NIS|CIA|MI6|GUR|SBU|FSB|Mossad)\b")),
    ("head_of_state", re.compile(r"\b(?:president|prime\s+minister|king|chancellor|premier)\b",
                                 re.IGNORECASE)),
    ("wire_service", re.compile(r"\b(?:Reuters|AFP|AP|Associated\s+Press|Xinhua|Yonhap|IANS|ANI|"
                                r"Agence\s+France-Presse|dpa|Interfax|TASS)\b")),
    ("media_outlet", re.compile(r"\b(?:media|BBC|CNN|Times|Post|Tribune|Guardian|newspaper|"
                                r"television|TV|News|Herald|Journal|Telegraph|outlet)\b")),
    ("military", re.compile(r"\b(?:army|military|armed\s+forces|general|commander|navy|"
                            r"troops|defen[cs]e\s+forces|Pentagon)\b", re.IGNORECASE)),
    ("expert", re.compile(r"\b(?:analysts?|experts?|professor|researchers?|institute|"
                          r"university|think\s+tank|poll|survey|pollster|SurveyUSA|YouGov|"
                          r"Gallup|Ipsos|MORI|center|centre)\b", re.IGNORECASE)),
    ("government", re.compile(r"^(?:[Tt]he\s+)?(?:US|U\.S\.|UK|EU|UN|United\s+States|Washington|"
                              r"Moscow|Kyiv|Kiev|Seoul|Beijing|Pyongyang|Kremlin|White\s+House|"
                              r"Centre|Center)$")),
    ("government", re.compile(r"\b(?:ministry|minister|government|officials?|authorities|"
                              r"department|secretary|spokes(?:man|woman|person)|mayor|police|"
                              r"governor|office|agency|council|state|county)\b",
                              re.IGNORECASE)),
)


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the text: ``text[start:end]``."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Attribution:
    """Who the text says gave a figure: the words, the name to draft, the recipient."""

    text: str
    name: str
    recipient: str | None = None
    subject: str = ""

    @property
    def type(self) -> SourceType:
        """The source's type, read from its subject (or its name)."""
        return source_type(self.subject or self.name)


def sentences(text: str) -> list[Sentence]:
    """The sentences of ``text`` with their offsets (abbreviations such as "Jan." and "Mr."
    do not end a sentence; a blank line always does)."""
    found: list[Sentence] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        head = text[start:match.start()]
        if "\n" not in match.group() and _ABBREV_END.search(head.rstrip("\"”’)")):
            continue
        found.append(Sentence(start, match.start(), head))
        start = match.end()
    if start < len(text):
        found.append(Sentence(start, len(text), text[start:]))
    return [s for s in found if s.text.strip()]


def _clean(words: str) -> str:
    words = words.strip(" ,;:\"“”'‘’\n\t")
    words = re.sub(r"^(?:that|and|but|as|while)\s+", "", words, flags=re.IGNORECASE)
    return " ".join(words.split())


def _name(subject: str) -> str:
    """The name to draft from a subject: an appositive's proper name when there is one
    ("the President of Ukraine, Volodymyr Zelensky" → "Volodymyr Zelensky")."""
    parts = [p.strip() for p in subject.split(",") if p.strip()]
    if len(parts) > 1 and re.fullmatch(r"(?:[A-Z][\w'’.-]*\s*){2,4}", parts[-1]):
        return parts[-1]
    name = re.sub(r"^(?:the|a|an)\s+", "", subject, flags=re.IGNORECASE)
    return name[:1].upper() + name[1:]


def _subject_before(sentence: str, verb_at: int) -> str | None:
    clause_starts = [m.end() for m in _CLAUSE_START.finditer(sentence, 0, verb_at)]
    begin = clause_starts[-1] if clause_starts else 0
    subject = sentence[begin:verb_at].strip()
    for _ in range(3):
        subject = _LEADING_TIME.sub("", subject).strip(" ,")
    subject = _AUXILIARY.sub("", " " + subject).strip()
    subject = _clean(subject)
    if not subject or len(subject) > 90 or not re.search(r"[A-Za-z]", subject):
        return None
    return subject


def attribute(sentence: str, at: int, previous: Attribution | None) -> Attribution | None:
    """Who ``sentence`` says gave the figure at offset ``at`` (relative to the sentence).

    Parameters
    ----------
    sentence : str
        The figure's sentence.
    at : int
        Offset of the figure in ``sentence``.
    previous : Attribution or None
        The last attribution before this sentence, for a pronoun subject.
    """
    according = [m for m in _ACCORDING.finditer(sentence)]
    if according:
        nearest = min(according, key=lambda m: abs(m.start() - at))
        who = _clean(nearest.group("who"))
        who = re.sub(r"^(?:estimates|figures|data|a\s+count|a\s+tally)\s+(?:from|by|of)\s+",
                     "", who, flags=re.IGNORECASE)
        return Attribution(_clean(nearest.group()), _name(who), subject=who)
    verbs = [m for m in _VERB.finditer(sentence, 0, at)]
    for verb in reversed(verbs):
        subject = _subject_before(sentence, verb.start())
        if subject is None:
            continue
        recipient = None
        if verb.group().lower() in ("told", "tells"):
            to = _RECIPIENT.match(sentence, verb.end())
            recipient = _clean(to.group("to")) if to else None
        words = _clean(sentence[sentence.find(subject):verb.end()] + (
            f" {recipient}" if recipient else ""))
        if _PRONOUN.match(subject) and previous is not None:
            return Attribution(words, previous.name, previous.recipient, previous.subject)
        name = _name(subject)
        if recipient and source_type(subject) == "anonymous":
            name = f"{name} to {recipient}"
        return Attribution(words, name, recipient, subject)
    after = _AFTER.match(sentence[at:])
    if after:
        who = _clean(after.group("who") or after.group("who2"))
        who = re.sub(r"^(?:\w+\s+)?(?:on|late|early)\s+\w+day\s+", "", who, flags=re.IGNORECASE)
        if who and not re.match(r"^(?:it|which|who|that)\b", who, re.IGNORECASE):
            if _PRONOUN.match(who) and previous is not None:
                return Attribution(who, previous.name, previous.recipient, previous.subject)
            return Attribution(_clean(after.group()[after.group().find(",") + 1:]), _name(who),
                               subject=who)
    return None


def source_type(words: str) -> SourceType:
    """The type of a source, read from the words that name it."""
    for kind, pattern in _TYPES:
        if pattern.search(words):
            return kind
    return "other"
