"""The words of the forest plot: figures as the explanation writes them, labels cut to the
font's glyphs and to length, and text measured and wrapped in inches without a renderer."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.textpath import TextToPath

from models.explain import fmt
from models.result import SourceUse
from service.plot.style import LABEL_CHARS, REPLACEMENT

__all__ = [
    "Measure",
    "drawable",
    "figure_text",
    "font_characters",
    "grade_text",
    "minus_signs",
    "percent",
    "shorten",
    "span_text",
    "wrap",
    "wrap_words",
]


def minus_signs(text: str) -> str:
    """Typographic minus signs (U+2212) before digits, as on the axis."""
    return re.sub(r"-(?=\d)", "\N{MINUS SIGN}", text)


def figure_text(x: float) -> str:
    """A figure as the explanation writes it ("1,630"), with a typographic minus."""
    return minus_signs(fmt(x))


def span_text(low: float, high: float) -> str:
    """"1,100–8,860", or "−143 to −91.5" where a dash would read as a minus."""
    joiner = "–" if low >= 0 else " to "
    return f"{figure_text(low)}{joiner}{figure_text(high)}"


@cache
def font_characters() -> frozenset[int]:
    """Code points that both the regular and the bold face of the plot's font can draw."""
    faces = [get_font(findfont(FontProperties(weight=w))) for w in ("normal", "bold")]
    return frozenset.intersection(*(frozenset(face.get_charmap()) for face in faces))


def drawable(text: str) -> str:
    """``text`` with every character the font cannot draw replaced by U+FFFD.

    Source names, units and titles come from users in any script; matplotlib would draw a
    blank box for a missing glyph and warn (an error under ``-W error``) instead.
    """
    characters = font_characters()
    return "".join(c if ord(c) in characters or c == " " else REPLACEMENT for c in text)


def shorten(text: str, limit: int = LABEL_CHARS) -> str:
    text = drawable(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def grade_text(use: SourceUse | None) -> str:
    if use is None:
        return ""
    if use.grade is not None:
        return use.grade
    return f"{use.credibility:.2f}"


def percent(weight: float) -> str:
    if weight <= 0:
        return "0%"
    if weight < 0.005:
        return "<1%"
    return f"{100 * weight:.0f}%"


class Measure:
    """Text widths in inches, from the glyph outlines (no renderer needed)."""

    def __init__(self) -> None:
        self._paths = TextToPath()

    def width(self, text: str, size: float, weight: str = "normal") -> float:
        prop = FontProperties(size=size, weight=weight)
        w, _h, _d = self._paths.get_text_width_height_descent(text, prop, ismath=False)
        return float(w) / 72.0  # points to inches

    def widest(self, texts: Sequence[str], size: float, weight: str = "normal") -> float:
        """Width of the widest of ``texts``, measuring only the longest few: glyph widths
        vary less than text lengths, and measuring is a real share of the render time."""
        longest = sorted(texts, key=len, reverse=True)[:8]
        return max((self.width(text, size, weight) for text in longest), default=0.0)


def wrap(parts: Sequence[str], measure: Measure, size: float, width_in: float) -> list[str]:
    """Join ``parts`` with " · " into lines no wider than ``width_in`` (greedy)."""
    lines: list[str] = []
    for part in parts:
        candidate = f"{lines[-1]} · {part}" if lines else part
        if lines and measure.width(candidate, size) <= width_in:
            lines[-1] = candidate
        else:
            lines.append(part)
    return lines


def wrap_words(
    text: str, measure: Measure, size: float, width_in: float, max_lines: int = 2
) -> list[str]:
    """``text`` broken between words into at most ``max_lines`` lines no wider than
    ``width_in`` (bold); what does not fit ends in an ellipsis."""
    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and measure.width(candidate, size, "bold") <= width_in:
            lines[-1] = candidate
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += " …"
    while lines and measure.width(lines[-1], size, "bold") > width_in and len(lines[-1]) > 2:
        lines[-1] = lines[-1][:-2].rstrip() + "…"  # one word longer than the width
    return lines
