"""Colours, sizes and axis ticks of the forest plot (:mod:`service.plot.forest`).

The grades' colours and markers, the fonts and the layout constants in inches, and the tick
positions and labels of the x axis: 1.5k, 12k, 1.2M on the log scale (:func:`format_count`,
:func:`log_ticks`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from matplotlib.ticker import MaxNLocator

from models.credibility import GRADE_TABLE
from models.result import SourceUse

__all__ = [
    "BAND",
    "CAPTION_LINES",
    "DENSITY_IN",
    "ECHO_EDGE",
    "ECHO_FILL",
    "FONT",
    "GRADES",
    "GradeStyle",
    "INK",
    "GRADE_GAP_IN",
    "GRADE_IN",
    "LABEL_CHARS",
    "LABEL_LINES",
    "LABEL_MAX_IN",
    "MARGIN_IN",
    "MIN_AXES_IN",
    "MUTED",
    "OUTLIER_COLOUR",
    "PNG_DPI",
    "POOLED_CAPTION",
    "REPLACEMENT",
    "ROBUST_CAPTION",
    "ROW_IN",
    "SUMMARY_FILL",
    "TIME_FOOT_IN",
    "TIME_HEAD_IN",
    "TIME_IN",
    "TIME_LABELS_IN",
    "TITLE_FONT",
    "TOTAL_GAP_IN",
    "TOTAL_HEADING",
    "TOTAL_IN",
    "UNKNOWN",
    "WIDTH_IN",
    "grade_style",
    "format_count",
    "log_ticks",
]

@dataclass(frozen=True, slots=True)
class GradeStyle:
    """How one grade is drawn: the credibility c_s it stands for, a colour and a marker."""

    letter: str
    credibility: float
    colour: str
    marker: str


#: The grades A–E, each with its own colour *and* marker so that neighbouring grades (B and C)
#: differ at a glance, in grey scale and for colour-blind readers too. The colours are the
#: Okabe–Ito palette (Okabe & Ito 2008, "Color Universal Design"), whose hues stay apart under
#: the common colour-vision deficiencies; its yellow is left out (it vanishes on white) and so
#: is its red-leaning vermillion's neighbour, the outliers' red.
_LOOKS: Final[dict[str, tuple[str, str]]] = {
    "A": ("#0072b2", "o"),  # blue, circle
    "B": ("#009e73", "s"),  # bluish green, square
    "C": ("#e69f00", "^"),  # orange, triangle
    "D": ("#cc79a7", "D"),  # reddish purple, diamond
    "E": ("#8b4513", "v"),  # brown, triangle pointing down
}
#: Each grade's style; its credibility is the core's (the legend prints it), not a copy.
GRADES: Final[dict[str, GradeStyle]] = {
    letter: GradeStyle(letter, GRADE_TABLE[letter][0], colour, marker)
    for letter, (colour, marker) in _LOOKS.items()
}
#: A source whose grade cannot be judged (F, or none given): a dark grey plus; its letter is F,
#: or "?" when no grade was given.
UNKNOWN: Final = GradeStyle("?", 0.5, "#555555", "P")
OUTLIER_COLOUR: Final = "#c0392b"
INK: Final = "#1f2933"
#: The estimate's kite, and the band behind claims that echo one origin.
SUMMARY_FILL: Final = "#cfd9e6"
ECHO_FILL: Final = "#ece6da"
ECHO_EDGE: Final = "#7d6b4f"
MUTED: Final = "#5f6b7a"
BAND: Final = "#3d5a80"

# Layout, in inches: the figure is WIDTH_IN wide (576 pt in SVG, 1,200 px in PNG at PNG_DPI)
# unless its labels leave the axis less than MIN_AXES_IN; each claim row is ROW_IN tall (a
# heading row too: the column headings, an echo group's), the curve's panel DENSITY_IN. A
# source's name gets as much room as it needs up to LABEL_MAX_IN, then wraps onto LABEL_LINES
# lines; only a name longer than that is cut, with an ellipsis. GRADE_IN is the grade's column
# (its marker and letter) between the names and the axis, at least GRADE_IN wide: GRADE_GAP_IN
# for the marker and the gaps, then the letter (or a percentage, which is wider).
WIDTH_IN: Final = 8.0
MIN_AXES_IN: Final = 3.3
ROW_IN: Final = 0.3
DENSITY_IN: Final = 1.1
MARGIN_IN: Final = 0.15
LABEL_MAX_IN: Final = 2.8
LABEL_LINES: Final = 2
GRADE_IN: Final = 0.42
GRADE_GAP_IN: Final = 0.28
#: The curve's caption, in words a reader uses (no "density"): on the robust method it is the
#: model's distribution of the quantity, on the pooling ones its normal approximation.
ROBUST_CAPTION: Final = "How likely\neach value is"
POOLED_CAPTION: Final = "How likely\neach value is\n(roughly)"
CAPTION_LINES: Final = (*ROBUST_CAPTION.splitlines(), *POOLED_CAPTION.splitlines())
PNG_DPI: Final = 150
# The time view of a quantity that moves (service.plot.timeview), in inches: a heading and
# the legend's row TIME_HEAD_IN tall, the course's axes TIME_IN tall with TIME_FOOT_IN below
# for the dates (two lines: day and year) and the gap to the forest's headings; TIME_LABELS_IN
# left of the axes for the quantity's ticks and label; the eventual total's column TOTAL_IN
# wide, TOTAL_GAP_IN right of the course.
TIME_HEAD_IN: Final = 0.55
TIME_IN: Final = 2.5
TIME_FOOT_IN: Final = 0.62
TIME_LABELS_IN: Final = 0.72
TOTAL_IN: Final = 1.25
TOTAL_GAP_IN: Final = 0.3
#: The eventual total's column heading.
TOTAL_HEADING: Final = "Eventual total"
#: Longest unit printed on the axis, in characters.
LABEL_CHARS: Final = 60
#: Drawn in place of a character the font has no glyph for.
REPLACEMENT: Final = "\ufffd"
FONT: Final = 8.5
TITLE_FONT: Final = 12.5

_SUFFIXES: Final[tuple[tuple[float, str], ...]] = (
    (1e12, "T"),
    (1e9, "B"),
    (1e6, "M"),
    (1e3, "k"),
)
#: Mantissa sets for log-axis ticks, coarsest first (see :func:`log_ticks`).
_MANTISSAS: Final[tuple[tuple[float, ...], ...]] = (
    (1.0,),
    (1.0, 3.0),
    (1.0, 2.0, 5.0),
    (1.0, 1.5, 2.0, 3.0, 5.0, 7.0),
    (1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0),
)


# --- Ticks and grades ------------------------------------------------------------------------


def format_count(x: float) -> str:
    """A tick label: three significant digits at most, with k, M, B, T for thousands and up.

    Negative numbers take the typographic minus sign (U+2212), as matplotlib's own ticks do.

    >>> [format_count(v) for v in (1500, 12000, 1.2e6, 950, 0.25, -3000, 999999)]
    ['1.5k', '12k', '1.2M', '950', '0.25', '−3k', '1M']
    """
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    sign = "\N{MINUS SIGN}" if x < 0 else ""
    # Round first so that 999,999 becomes "1M" rather than "1e+03k".
    rounded = float(f"{abs(x):.3g}")
    for size, suffix in _SUFFIXES:
        if rounded >= size:
            scaled = rounded / size
            if scaled >= 1000:  # beyond 999T: plain scientific notation
                return f"{sign}{rounded:.2g}"
            return f"{sign}{scaled:.3g}{suffix}"
    return f"{sign}{rounded:.3g}"


def _decimal(mantissa: float, exponent: int) -> float:
    # Through the decimal string so 1.5 × 10³ is exactly 1500.0, not 1500.0000000000002.
    return float(f"{mantissa!r}e{exponent}")


def log_ticks(low: float, high: float, max_ticks: int = 8) -> list[float]:
    """Major tick positions for a log axis from ``low`` to ``high`` (both > 0).

    Takes the finest set of "nice" mantissas (1; 1, 3; 1, 2, 5; …) whose multiples of powers
    of ten inside [low, high] number at most ``max_ticks``. Over many decades every k-th power
    of ten is kept; within less than a decade, evenly spaced linear ticks are used.

    Parameters
    ----------
    low, high : float
        Ends of the axis, 0 < low < high.
    max_ticks : int
        Most ticks wanted.

    Returns
    -------
    list of float
        Increasing tick positions inside [low, high], at least two.
    """
    first = math.floor(math.log10(low)) - 1
    last = math.ceil(math.log10(high)) + 1
    best: list[float] = []
    for mantissas in _MANTISSAS:
        ticks = [
            tick
            for exponent in range(first, last + 1)
            for mantissa in mantissas
            if low <= (tick := _decimal(mantissa, exponent)) <= high
        ]
        if len(ticks) > max_ticks:
            break
        best = ticks
    if not best:  # even the powers of ten alone are too many: keep every k-th
        powers = [e for e in range(first, last + 1) if low <= 10.0**e <= high]
        step = math.ceil(len(powers) / max_ticks)
        return [_decimal(1.0, e) for e in powers if e % step == 0]
    if len(best) < 3:
        linear = MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
        best = [float(t) for t in linear if low <= t <= high]
    return best


def grade_style(use: SourceUse | None) -> GradeStyle:
    """How a source's claims are drawn: by its grade; a credibility given as a number (or
    learned) takes the grade nearest to it; grey "?" when the grade cannot be judged."""
    if use is None or use.origin == "unknown":
        return UNKNOWN
    if use.grade in GRADES:
        return GRADES[use.grade]
    return min(GRADES.values(), key=lambda g: (abs(g.credibility - use.credibility), g.letter))
