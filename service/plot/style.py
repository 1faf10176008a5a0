"""Colours, sizes and axis ticks of the forest plot (:mod:`service.plot.forest`).

The credibility colours, the fonts and the layout constants in inches, and the tick positions
and labels of the x axis: 1.5k, 12k, 1.2M on the log scale (:func:`format_count`,
:func:`log_ticks`).
"""

from __future__ import annotations

import math
from typing import Final

import numpy as np
from matplotlib.ticker import MaxNLocator

from models.result import SourceUse

__all__ = [
    "BAND",
    "CAPTION_LINES",
    "DENSITY_IN",
    "FONT",
    "GRADE_COLOURS",
    "INK",
    "LABEL_CHARS",
    "MARGIN_IN",
    "MIN_AXES_IN",
    "MUTED",
    "OUTLIER_COLOUR",
    "PNG_DPI",
    "POOLED_CAPTION",
    "REPLACEMENT",
    "ROBUST_CAPTION",
    "ROW_IN",
    "TITLE_FONT",
    "UNKNOWN_COLOUR",
    "WIDTH_IN",
    "credibility_colour",
    "format_count",
    "log_ticks",
]

#: Credibility c_s of the grades A–E and their colours: the plasma colour map (perceptually
#: uniform, readable in grey scale) sampled from 0 to 0.74, stopping before its pale yellow end,
#: which would vanish on white. Other credibilities are interpolated between these anchors.
GRADE_COLOURS: Final[dict[str, tuple[float, str]]] = {
    "A": (0.95, "#0d0887"),
    "B": (0.85, "#48039f"),
    "C": (0.70, "#8a09a5"),
    "D": (0.50, "#ce4b75"),
    "E": (0.30, "#f79143"),
}
UNKNOWN_COLOUR: Final = "#8c8c8c"
OUTLIER_COLOUR: Final = "#c0392b"
INK: Final = "#1f2933"
MUTED: Final = "#5f6b7a"
BAND: Final = "#3d5a80"

# Layout, in inches: the figure is WIDTH_IN wide (576 pt in SVG, 1,200 px in PNG at PNG_DPI)
# unless its labels leave the axis less than MIN_AXES_IN; each claim row is ROW_IN tall, the
# density panel DENSITY_IN; source names are cut at LABEL_CHARS characters.
WIDTH_IN: Final = 8.0
MIN_AXES_IN: Final = 3.5
ROW_IN: Final = 0.3
DENSITY_IN: Final = 1.1
MARGIN_IN: Final = 0.15
ROBUST_CAPTION: Final = "Posterior\ndensity"
POOLED_CAPTION: Final = "Normal\napproximation\n(estimate ± se)"
CAPTION_LINES: Final = (*ROBUST_CAPTION.splitlines(), *POOLED_CAPTION.splitlines())
PNG_DPI: Final = 150
LABEL_CHARS: Final = 34
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


# --- Ticks and colours ------------------------------------------------------------------------


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


def credibility_colour(use: SourceUse) -> str:
    """Colour of a source's markers: grey when its grade cannot be judged, else by c_s."""
    if use.origin == "unknown":
        return UNKNOWN_COLOUR
    anchors = sorted(GRADE_COLOURS.values())
    cs = np.array([c for c, _ in anchors])
    rgb = np.array([[int(h[i : i + 2], 16) for i in (1, 3, 5)] for _, h in anchors], dtype=float)
    mixed = [round(float(np.interp(use.credibility, cs, rgb[:, k]))) for k in range(3)]
    return "#{:02x}{:02x}{:02x}".format(*mixed)

