"""Which figures speak of one quantity: the same unit, worded alike, of similar size.

Figures are taken in text order; each joins the first group whose every member it is
compatible with, else starts a group. Two figures are compatible when

* they count the same thing: the same currency, or both shares, or the same head noun
  (singular: "soldier") and the same outcome (killed, injured, …) — a figure with no unit of
  its own took one from its context (:mod:`service.extract.units`);
* their wording does not set them apart: when both carry modifiers ("North Korean soldiers",
  "active soldiers"), they share one;
* they are of one order of magnitude or two: the larger is at most :data:`MAX_RATIO` times the
  smaller (rival counts of one crowd or toll differ by tens, not thousands).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from service.extract.units import Unit

__all__ = ["MAX_RATIO", "Mention", "group"]

#: Largest ratio between two figures of one quantity. Rival counts of one quantity differ by
#: up to a factor of about 13 in the real cases of fixtures/cases (Iraq's violent deaths, 2006;
#: Hong Kong's marches, 2019); 100 leaves room for wilder claims.
MAX_RATIO: Final = 100.0

#: Modifiers that do not set a quantity apart.
_NEUTRAL: Final = frozenset("more other additional extra new some estimated total".split())


@dataclass(frozen=True, slots=True)
class Mention:
    """What grouping needs of a figure: its unit key, modifiers and typical size."""

    key: tuple[str, str | None]
    modifiers: frozenset[str]
    size: float | None


def mention(unit: Unit | None, currency: str | None, percent: bool,
            size: float | None) -> Mention:
    """The grouping key of one figure."""
    if currency:
        return Mention((currency, None), frozenset(), size)
    if percent:
        return Mention(("%", None), frozenset(unit.modifiers if unit else ()), size)
    if unit is None:
        return Mention(("", None), frozenset(), size)
    return Mention((unit.head, unit.outcome), frozenset(unit.modifiers) - _NEUTRAL, size)


def _compatible(a: Mention, b: Mention) -> bool:
    if a.key != b.key:
        return False
    if a.modifiers and b.modifiers and not a.modifiers & b.modifiers:
        return False
    if a.size and b.size and a.size > 0 and b.size > 0:
        ratio = max(a.size, b.size) / min(a.size, b.size)
        if ratio > MAX_RATIO:
            return False
    return True


def group(mentions: Sequence[Mention]) -> list[list[int]]:
    """Indices of ``mentions`` grouped into quantities, groups in order of first mention."""
    groups: list[list[int]] = []
    for i, m in enumerate(mentions):
        for members in groups:
            if all(_compatible(mentions[j], m) for j in members):
                members.append(i)
                break
        else:
            groups.append([i])
    return groups
