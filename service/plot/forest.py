"""Forest plot of a reconciliation: the picture an editor looks at before printing a figure.

Presentation, not statistics: everything drawn here is read off a finished
:class:`models.result.ReconcileResult` and the request's claims and sources; nothing is
estimated. The layout follows the forest plot of meta-analysis (R metafor's ``forest()``):

* **title**: the question, and a subtitle with the estimate, its ranges and the unit;
* **density panel** (top): the posterior density of the quantity (robust method), or for the
  pooling methods the normal approximation N(θ̂, se²) on the working scale θ (log units on the
  log scale), drawn back in the quantity's units; the requested intervals are shaded under it;
* **one row per claim**, in request order, labelled with its source and grade on the left and
  the claim in words with its weight on the right. A point claim is a square whose area grows
  with its weight w_i; a bound ("up to", "at least") is a triangle at the bound with an arrow
  towards the open side; a range is a bar between its ends with the square at its middle; a
  point claim's own uncertainty (sd, or its confidence interval) is a thin whisker. The colour is
  the credibility c_s the source was used with (dark = credible, light orange = not; grey = the
  grade cannot be judged). An outlier is drawn hollow, crossed out and tagged "outlier";
* **summary row**: a kite spanning the widest interval with its vertex at the estimate (metafor's
  diamond, left asymmetric because intervals on the log scale are), the narrower intervals as
  thicker bars, and the pooling methods' prediction interval as a dotted line. A dashed line at
  the estimate and a faint band over the widest interval run up through the claim rows;
* **legend** (bottom), explaining colours and symbols.

The x axis is logarithmic on the log scale, with ticks such as "1.5k", "12k", "1.2M"
(:func:`format_count`, :func:`log_ticks`), and linear on the linear scale.

Thread safety
-------------
Each call builds its own :class:`matplotlib.figure.Figure` on an explicit Agg canvas and renders
it to bytes. pyplot (and its global figure registry) is never imported and ``rcParams`` are never
written, so concurrent requests share nothing mutable. Text is drawn with ``parse_math=False``
so that a "$" in a source name is printed, not read as mathtext.

Modules
-------
This module lays the figure out and renders it; :mod:`service.plot.style` holds the colours,
sizes and ticks, :mod:`service.plot.text` the wording and text measuring,
:mod:`service.plot.layout` the rows and the axis limits, and :mod:`service.plot.draw` draws
the panels.
"""


from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Final, Literal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from models.claims import Claim, Source
from models.result import ReconcileResult
from service.plot.draw import (
    colour_handles,
    draw_claims,
    draw_density,
    draw_summary,
    setup_x,
    symbol_handles,
)
from service.plot.layout import claim_rows, subtitle_parts, summary_note, widest_first, x_limits
from service.plot.style import (
    BAND,
    CAPTION_LINES,
    DENSITY_IN,
    FONT,
    INK,
    MARGIN_IN,
    MIN_AXES_IN,
    MUTED,
    OUTLIER_COLOUR,
    PNG_DPI,
    ROW_IN,
    TITLE_FONT,
    WIDTH_IN,
    credibility_colour,
    format_count,
    log_ticks,
)
from service.plot.text import Measure, drawable, shorten, wrap, wrap_words

__all__ = [
    "MEDIA_TYPES",
    "PNG_DPI",
    "WIDTH_IN",
    "PlotFormat",
    "build_figure",
    "credibility_colour",
    "format_count",
    "log_ticks",
    "render_plot",
]

PlotFormat = Literal["svg", "png"]

#: Media type of each output format.
MEDIA_TYPES: Final[dict[PlotFormat, str]] = {"svg": "image/svg+xml", "png": "image/png"}


def build_figure(
    result: ReconcileResult,
    claims: Sequence[Claim],
    sources: Sequence[Source],
    *,
    question: str | None = None,
    unit: str | None = None,
) -> Figure:
    """The forest plot of ``result`` as a figure on its own Agg canvas.

    Parameters
    ----------
    result : ReconcileResult
        What :func:`models.reconcile.reconcile` returned for ``claims`` and ``sources``.
    claims : sequence of Claim, shape (n,)
        The claims in request order (``result.claims[i].index`` refers to them).
    sources : sequence of Source
        The sources, for the row labels.
    question, unit : str, optional
        The title and the axis unit.

    Returns
    -------
    matplotlib.figure.Figure
        Not registered with pyplot; it is garbage once the caller drops it.

    Notes
    -----
    The layout is computed here in inches (label widths measured once) rather than by a layout
    engine, which would draw the figure an extra time: a 50-claim plot renders about twice as
    fast this way.
    """
    rows = claim_rows(result, claims, sources)
    n = len(rows)
    log = result.scale == "log"
    limits = x_limits(result, rows)
    measure = Measure()

    estimate_note = summary_note(result)
    left_in = 0.25 + max(
        measure.widest([row.label for row in rows] + list(CAPTION_LINES), FONT),
        measure.width("Estimate", FONT, "bold"),
    )
    right_in = 0.25 + max(
        measure.widest([row.note for row in rows], FONT),
        measure.width(estimate_note, FONT, "bold"),
    )
    # Long labels widen the figure rather than squeeze the axis below MIN_AXES_IN.
    fig_in = max(WIDTH_IN, left_in + right_in + MIN_AXES_IN)
    axes_in = fig_in - left_in - right_in
    text_in = fig_in - 2 * MARGIN_IN
    title = drawable(question) if question else "Reconciled estimate"
    title_lines = wrap_words(title, measure, TITLE_FONT, text_in)
    sub_lines = wrap(subtitle_parts(result, unit), measure, FONT + 0.5, text_in)

    # Heights, top to bottom, in inches.
    title_in, sub_in = 0.1 + 0.22 * len(title_lines), 0.19 * len(sub_lines)
    forest_in = ROW_IN * (n + 2)
    symbols = symbol_handles(result)
    axis_in = 0.62
    legend_in = 0.3 + 0.18 * max(3, math.ceil(len(symbols) / 2))
    height = MARGIN_IN + title_in + sub_in + 0.12 + DENSITY_IN + forest_in + axis_in + legend_in
    fig = Figure(figsize=(fig_in, height))
    FigureCanvasAgg(fig)

    def box(
        left: float, bottom: float, width: float, tall: float
    ) -> tuple[float, float, float, float]:
        return (left / fig_in, bottom / height, width / fig_in, tall / height)

    forest_bottom = legend_in + axis_in
    ax = fig.add_axes(box(left_in, forest_bottom, axes_in, forest_in))
    top = fig.add_axes(box(left_in, forest_bottom + forest_in, axes_in, DENSITY_IN), sharex=ax)
    setup_x(ax, result.scale, limits)

    y = height - MARGIN_IN
    fig.text(MARGIN_IN / fig_in, y / height, "\n".join(title_lines), ha="left", va="top",
             fontsize=TITLE_FONT, fontweight="bold", color=INK, linespacing=1.25,
             parse_math=False)
    y -= title_in
    fig.text(MARGIN_IN / fig_in, y / height, "\n".join(sub_lines), ha="left", va="top",
             fontsize=FONT + 0.5, color=MUTED, linespacing=1.35, parse_math=False)
    pad = 0.12 / axes_in
    draw_density(top, result, claims, limits, pad)

    summary_y = -0.4
    ax.set_ylim(summary_y - 0.9, n + 0.6)
    stripes = [
        [(0.0, row.y - 0.5), (1.0, row.y - 0.5), (1.0, row.y + 0.5), (0.0, row.y + 0.5)]
        for row in rows[::2]  # zebra stripes make a wide row easy to follow
    ]
    ax.add_collection(
        PolyCollection(stripes, facecolors="#f2f4f7", linewidths=0, zorder=0,
                       transform=ax.get_yaxis_transform()),
        autolim=False,
    )
    ax.axhline(0.45, color="#c9d1da", linewidth=0.8)
    intervals = widest_first(result)
    if intervals:
        ax.axvspan(intervals[0].low, intervals[0].high, color=BAND, alpha=0.07, linewidth=0,
                   zorder=0)
    ax.axvline(result.estimate.value, color=INK, linestyle="--", linewidth=0.9, zorder=1)
    draw_claims(ax, rows, limits, log)
    draw_summary(ax, result, summary_y)

    # Row labels as plain text (cheaper than tick labels): source left, claim and weight right.
    rows_axis = ax.get_yaxis_transform()
    for row in rows:
        ax.text(-pad, row.y, row.label, transform=rows_axis, ha="right", va="center",
                fontsize=FONT, color=INK, parse_math=False)
        ax.text(1 + pad, row.y, row.note, transform=rows_axis, ha="left", va="center",
                fontsize=FONT, color=OUTLIER_COLOUR if row.outlier else INK, parse_math=False)
    ax.text(-pad, summary_y, "Estimate", transform=rows_axis, ha="right", va="center",
            fontsize=FONT, fontweight="bold", color=INK, parse_math=False)
    ax.text(1 + pad, summary_y, estimate_note, transform=rows_axis, ha="left", va="center",
            fontsize=FONT, fontweight="bold", color=INK, parse_math=False)

    ax.set_yticks([])
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color(MUTED)
    ax.tick_params(axis="x", labelsize=FONT, colors=INK)
    scale_word = "log scale" if log else "linear scale"
    ax.set_xlabel(f"{shorten(unit, 60)} ({scale_word})" if unit else scale_word,
                  fontsize=FONT + 0.5, color=INK, labelpad=3, parse_math=False)

    legend = {"fontsize": FONT - 0.5, "frameon": False, "handlelength": 1.6,
              "columnspacing": 1.2, "title_fontsize": FONT - 0.5, "alignment": "left",
              "borderaxespad": 0.0}
    fig.legend(handles=colour_handles(), loc="lower left", ncols=2,
               bbox_to_anchor=(MARGIN_IN / fig_in, MARGIN_IN / height),
               title="Colour: source grade (share of its figures expected right)", **legend)
    fig.legend(handles=symbols, loc="lower right", ncols=2,
               bbox_to_anchor=(1 - MARGIN_IN / fig_in, MARGIN_IN / height),
               title="Symbols", **legend)
    return fig


def render_plot(
    result: ReconcileResult,
    claims: Sequence[Claim],
    sources: Sequence[Source],
    *,
    question: str | None = None,
    unit: str | None = None,
    fmt: PlotFormat = "svg",
) -> bytes:
    """The forest plot as SVG or PNG bytes (see :func:`build_figure` for the parameters).

    Raises
    ------
    ValueError
        For a format other than ``svg`` or ``png``.
    """
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"Invalid plot format {fmt!r}; must be svg or png.")
    fig = build_figure(result, claims, sources, question=question, unit=unit)
    buffer = io.BytesIO()
    title = question or "Reconciled estimate"
    if fmt == "svg":
        # No date in the metadata (PNG has none either): a plot says nothing about when.
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Title": title})
    else:
        # zlib level 3 instead of Pillow's 6: files 2 % larger, encoding several times faster.
        fig.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Title": title},
                    pil_kwargs={"compress_level": 3})
    return buffer.getvalue()
