"""What a figure counts: the noun phrase after it ("1,500 soldiers", "13,000 cargo containers"),
its head noun, and the outcome that follows ("19,136 people died", "42,397 were injured").

A figure with no noun after it ("closer to 12,000.", "rose to 17") takes the unit of a word
before it in the sentence ("death toll" → deaths, "turnout" → people) or of the figure before
it in its sentence or paragraph. Money counts in its currency, shares in per cent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

__all__ = ["Unit", "noun_phrase", "singular"]

_STOP: Final = frozenset(
    "the a an this that these those they them their there he she it its his her we our you "
    "i who which what when where while and or but nor so yet for of in on at to from by with "
    "without into onto over under about after before since until as than per via across "
    "is are was were be been being has have had do does did will would could can may might "
    "must shall should said says told say according reported more have also already who "
    "remain remained stood stand died killed injured wounded dead missing".split()
)
_SKIPPED_LEAD: Final = frozenset("of more additional extra other new further some".split())
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_GLUED_CONJUNCTION = re.compile(r"^(?P<word>[a-z]{3,}s)(?:but|and|while)$")
_OUTCOMES: Final = {
    "killed": "killed", "dead": "killed", "died": "killed", "deaths": "killed",
    "injured": "injured", "wounded": "injured", "hurt": "injured",
    "missing": "missing", "unaccounted": "missing",
    "arrested": "arrested", "detained": "arrested",
    "displaced": "displaced", "evacuated": "evacuated", "homeless": "displaced",
}
_OUTCOME = re.compile(
    r"^\s*(?:(?:were|are|was|have\s+been|had\s+been|have|had|remain|remained|still|people|"
    r"reportedly|been)\s+)*(?P<outcome>" + "|".join(_OUTCOMES) + r")\b", re.IGNORECASE)
_CONTEXT_UNITS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"\b(?:death\s+toll|toll|dead|deaths|fatalities|killed)\b", re.IGNORECASE),
     "deaths"),
    (re.compile(r"\b(?:turnout|crowd|attendance|protesters|marchers|people)\b",
                re.IGNORECASE), "people"),
    (re.compile(r"\b(?:troops|soldiers)\b", re.IGNORECASE), "soldiers"),
)


@dataclass(frozen=True, slots=True)
class Unit:
    """What a figure counts.

    ``phrase`` is the noun phrase as written ("North Korean soldiers"), ``head`` its noun in
    the singular ("soldier"), ``modifiers`` the other words (lower case), ``outcome`` what
    happened to them (killed, injured …), ``inherited`` whether it was taken from elsewhere.
    """

    phrase: str
    head: str
    modifiers: tuple[str, ...] = ()
    outcome: str | None = None
    inherited: bool = False

    @property
    def label(self) -> str:
        """The unit as an editor would write it ("people killed", "soldiers", "USD")."""
        return f"{self.phrase} {self.outcome}".strip() if self.outcome else self.phrase


@lru_cache(maxsize=4096)
def singular(word: str) -> str:
    """``word`` in the singular, lower case ("soldiers" → "soldier"), by inflect."""
    import inflect

    engine = inflect.engine()
    lowered = word.lower()
    result = engine.singular_noun(lowered)
    return result if isinstance(result, str) and result else lowered


def noun_phrase(tail: str) -> Unit | None:
    """The noun phrase at the start of ``tail`` (the text after a figure), if any."""
    words: list[str] = []
    position = 0
    for match in _WORD.finditer(tail[:80]):
        gap = tail[position:match.start()]
        if words and gap.strip():
            break  # punctuation or a number ends the phrase
        if not words and gap.strip() not in ("", "-"):
            break
        word = match.group()
        glued = _GLUED_CONJUNCTION.match(word)
        if glued:
            word = glued.group("word")
        if not words and word.lower() in _SKIPPED_LEAD:
            position = match.end()
            continue
        if word.lower() in _STOP or len(words) == 4:
            break
        words.append(word)
        position = match.end()
        if glued:
            break
    if not words:
        return None
    head = singular(words[-1])
    modifiers = tuple(w.lower() for w in words[:-1])
    outcome = _OUTCOME.match(tail[position:])
    return Unit(" ".join(words), head, modifiers,
                _OUTCOMES[outcome.group("outcome").lower()] if outcome else None)


def outcome_only(tail: str) -> str | None:
    """The outcome right after a figure with no noun ("42,397 were injured")."""
    outcome = _OUTCOME.match(tail)
    return _OUTCOMES[outcome.group("outcome").lower()] if outcome else None


def unit_from_context(before: str) -> Unit | None:
    """A unit named by a word before the figure in its sentence ("the death toll … 84")."""
    best: tuple[int, str] | None = None
    for pattern, unit in _CONTEXT_UNITS:
        for match in pattern.finditer(before):
            if best is None or match.start() > best[0]:
                best = (match.start(), unit)
    if best is None:
        return None
    return Unit(best[1], singular(best[1]), inherited=True)
