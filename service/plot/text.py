"""The words of the forest plot: figures as the explanation writes them, labels cut to the
font's glyphs and to length, and text measured and wrapped in inches without a renderer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache

from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.textpath import TextToPath

from models.claim_words import fmt
from models.result import SourceUse
from service.plot.style import LABEL_CHARS, REPLACEMENT

__all__ = [
    "Measure",
    "drawable",
    "figure_text",
    "fit_lines",
    "font_characters",
    "grade_text",
    "minus_signs",
    "open_span_text",
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


def open_span_text(low: float | None, high: float | None) -> str:
    """A range whose ends may be open: "1,100–8,860", "at least 98,400", "up to 3,000"."""
    if low is not None and high is not None:
        return span_text(low, high)
    if low is not None:
        return f"at least {figure_text(low)}"
    if high is not None:
        return f"up to {figure_text(high)}"
    return "no limit either way"


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
    """The grade printed beside a source's name, as the editors' page prints it: its letter
    (F included); a credibility given as a number (or learned without a grade) as a
    percentage, the scale the grades' legend uses; "?" when none was given and it cannot be
    judged."""
    if use is not None and use.grade is not None:
        return use.grade
    if use is None or use.origin == "unknown":
        return "?"
    return f"{use.credibility:.0%}"


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


def fit_lines(
    text: str,
    measure: Measure,
    size: float,
    width_in: float,
    max_lines: int = 2,
    weight: str = "normal",
) -> list[str]:
    """``text`` in at most ``max_lines`` lines no wider than ``width_in``.

    Lines break between words; a single word wider than a line is broken inside (a name with
    no spaces still shows in full when it fits the lines). Only text that does not fit in
    ``max_lines`` lines is cut, and ends in an ellipsis.
    """
    if _surely_fits(text, size, width_in) or measure.width(text, size, weight) <= width_in:
        return [text]

    def fits(line: str) -> bool:
        return measure.width(line, size, weight) <= width_in

    lines: list[str] = []
    for word in text.split():
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and fits(candidate):
            lines[-1] = candidate
            continue
        while not fits(word) and len(word) > 1:  # break a long word where the line is full
            cut = max(1, _longest_prefix(word, fits))
            lines.append(word[:cut])
            word = word[cut:]
        lines.append(word)
    if not lines:  # nothing but spaces
        return [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] += "…"
    while not fits(lines[-1]) and len(lines[-1]) > 2:
        lines[-1] = lines[-1][:-2].rstrip() + "…"
    return lines


def _surely_fits(text: str, size: float, width_in: float) -> bool:
    # No glyph of DejaVu Sans (regular or bold) advances more than 2.02 em: a text short
    # enough even at 2.1 em a character fits without being measured (measuring costs about
    # half a millisecond a label, a real share of the render time of a long plot).
    return len(text) * size * 2.1 / 72.0 <= width_in


def _longest_prefix(word: str, fits: Callable[[str], bool]) -> int:
    """Length of the longest prefix of ``word`` that ``fits`` (bisection; at least 0)."""
    low, high = 0, len(word)
    while low < high:
        mid = (low + high + 1) // 2
        if fits(word[:mid]):
            low = mid
        else:
            high = mid - 1
    return low


def wrap_words(
    text: str, measure: Measure, size: float, width_in: float, max_lines: int = 2
) -> list[str]:
    """``text`` (bold, a title) broken between words into at most ``max_lines`` lines no wider
    than ``width_in``; what does not fit ends in an ellipsis."""
    return fit_lines(text, measure, size, width_in, max_lines, "bold")
