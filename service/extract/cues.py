"""Words around a figure that say what kind of claim it is, how hedged, and of which time.

Each reader looks at the words just before the figure (its *lead*), the words just after it
(its *tail*) and the clause it sits in, and returns what it found with the cue that decided,
so that an editor can see why ("up to" → at_most).

* kind: "up to", "as many as", "nearly" → ``at_most``; "at least", "more than", "over" →
  ``at_least``; a range read by the library → ``range``; else ``point``.
* hedge: "reportedly", "allegedly", "not confirmed" → ``rumour``; "could be", "may", "might" →
  ``could_be``; "about", "around", "some", "closer to", "an estimated" → ``about``;
  "exactly" → ``exact``; else ``none``.
* horizon: "could join", "the final figure", "by the end of", "is expected to reach" →
  ``total``; else ``level`` (with "already", "so far" as the cue when given).
"""

from __future__ import annotations

import re
from typing import Final

from models.claims import ClaimKind, Hedge, Horizon

__all__ = ["hedge_of", "horizon_of", "kind_of", "rose_from_to"]

_AT_MOST = re.compile(
    r"\b(?:up\s+to|as\s+many\s+as|as\s+much\s+as|at\s+most|no\s+more\s+than|not\s+more\s+than|"
    r"fewer\s+than|less\s+than|under|below|until|a\s+maximum\s+of|nearly|almost|just\s+under|"
    r"shy\s+of)\s+(?:some\s+|about\s+|around\s+)?$",
    re.IGNORECASE,
)
_AT_LEAST = re.compile(
    r"\b(?:at\s+least|more\s+than|over|in\s+excess\s+of|upwards\s+of|no\s+fewer\s+than|"
    r"no\s+less\s+than|a\s+minimum\s+of|exceeding|exceeded|exceeds|above|just\s+over|"
    r"well\s+over|at\s+a\s+minimum)\s+(?:some\s+|about\s+|around\s+)?$",
    re.IGNORECASE,
)
_AT_LEAST_TAIL = re.compile(r"^\s*(?:\w+\s+){0,3}?(?:or\s+more|and\s+counting|plus)\b",
                            re.IGNORECASE)
_EXACT = re.compile(r"\b(?:exactly|precisely)\s+$", re.IGNORECASE)
_ABOUT = re.compile(
    r"\b(?:about|around|approximately|roughly|some|an\s+estimated|estimated|close\s+to|"
    r"closer\s+to|circa|nearly|almost|more\s+or\s+less|approx\.?)\s+(?:\S+\s+)?$",
    re.IGNORECASE,
)
_ABOUT_TAIL = re.compile(r"^\s*(?:\w+\s+){0,2}?or\s+so\b", re.IGNORECASE)
_COULD_BE = re.compile(r"\b(?:could|may|might|possibly|perhaps)\b(?:\s+\S+){0,4}\s+$",
                       re.IGNORECASE)
_RUMOUR = re.compile(r"\b(?:reportedly|allegedly|rumou?red|unconfirmed|purportedly)\b",
                     re.IGNORECASE)
_UNVERIFIED = re.compile(
    r"\b(?:not\s+(?:been\s+)?(?:confirmed|verified)|(?:could|can)\s*not\s+(?:be\s+)?"
    r"(?:independently\s+)?(?:verified|confirmed)|not\s+possible\s+to\s+(?:independently\s+)?"
    r"verify)\b",
    re.IGNORECASE,
)
_TOTAL = re.compile(
    r"\b(?:final\s+(?:figure|toll|number|count|total)|eventual(?:ly)?|by\s+the\s+end\s+of|"
    r"(?:could|would|will|may|might|to)\s+(?:eventually\s+)?(?:join|reach|rise\s+to|climb\s+to|"
    r"be\s+sent|be\s+deployed|send|deploy|grow\s+to)|(?:plans?|planned|expected|set)\s+to\s+"
    r"(?:send|deploy|reach|rise|join)|in\s+all)\b",
    re.IGNORECASE,
)
_LEVEL = re.compile(r"\b(?:already|so\s+far|to\s+date|currently|as\s+of\s+now|now)\b",
                    re.IGNORECASE)
_ROSE = re.compile(
    r"\b(?:rose|risen|rises|climbed|increased|jumped|grew|fell|dropped|declined|went\s+up|"
    r"raising\s+the\s+toll|up)\s+(?:\S+\s+){0,2}?$",
    re.IGNORECASE,
)
#: Characters of lead looked at for the kind and hedge cues.
LEAD_CHARS: Final = 60


def _cue(match: re.Match[str] | None) -> str | None:
    return " ".join(match.group().split()) if match else None


def kind_of(lead: str, tail: str, is_range: bool) -> tuple[ClaimKind, str | None]:
    """The claim kind the words around a figure give, and the cue that decided."""
    if is_range:
        return "range", None
    if cue := _cue(_AT_MOST.search(lead)):
        return "at_most", cue
    if cue := _cue(_AT_LEAST.search(lead)) or _cue(_AT_LEAST_TAIL.search(tail)):
        return "at_least", cue
    return "point", None


def rose_from_to(lead: str) -> bool:
    """Whether a "from X to Y" range is a change ("rose from 18 to 21"): then Y is the figure."""
    return bool(_ROSE.search(lead))


def hedge_of(lead: str, tail: str) -> tuple[Hedge, str | None]:
    """The hedge of a figure, from its lead ("reportedly", "could be", "about", "exactly") and
    the rest of its sentence ("…, although the figure was not confirmed")."""
    if cue := _cue(_RUMOUR.search(lead[-LEAD_CHARS:])) or _cue(_UNVERIFIED.search(tail)):
        return "rumour", cue
    if cue := _cue(_COULD_BE.search(lead[-LEAD_CHARS:])):
        return "could_be", cue.split()[0]
    if cue := _cue(_ABOUT.search(lead)) or _cue(_ABOUT_TAIL.search(tail)):
        if not re.match(r"(?:nearly|almost)\b", cue, re.IGNORECASE):
            return "about", cue
    if cue := _cue(_EXACT.search(lead)):
        return "exact", cue
    return "none", None


def horizon_of(clause: str) -> tuple[Horizon, str | None]:
    """``total`` when the clause speaks of an eventual or planned total, else ``level``."""
    if cue := _cue(_TOTAL.search(clause)):
        return "total", cue
    return "level", _cue(_LEVEL.search(clause))
