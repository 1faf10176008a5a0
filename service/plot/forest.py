"""Forest plot of a reconciliation: the picture an editor looks at before printing a figure.

Presentation, not statistics: everything drawn here is read off a finished
:class:`models.result.ReconcileResult` and the request's claims and sources; nothing is
estimated. The layout follows the forest plot of meta-analysis (R metafor's ``forest()``):

* **title**: the question, and as the subtitle the response's summary, word for word (a bound
  stays a bound, a split stays its groups' figures);
* **curve panel** (top), captioned "How likely each value is": the posterior density of the
  quantity (robust method), or for the pooling methods the normal approximation N(θ̂, se²) on
  the working scale θ (log units on the log scale), drawn back in the quantity's units; the
  requested intervals are shaded under it. Left out when there is no curve (an answer set by
  bounds alone, whose value is not the model's);
* **column headings**, then **one row per claim**, in request order except that claims echoing
  one origin are drawn together on a band under a heading row ("One origin, counted once",
  with their total share). Each row has the source's name (measured, wrapped onto two lines
  rather than cut) and its grade on the left, the claim in words and its share s_i on the
  right. A point claim is its grade's marker, its area growing with s_i; a bound ("up to", "at
  least") is the marker at the bound with an arrow towards the open side; a range is a bar
  between its ends with the marker at its middle; a point claim's own uncertainty (sd, or its
  confidence interval) is a thin whisker. Each grade has its own colour and marker
  (:data:`service.plot.style.GRADES`). A claim judged likely wrong is drawn hollow, crossed
  out and tagged;
* **summary row**: a kite spanning the widest interval with its vertex at the estimate (metafor's
  diamond, left asymmetric because intervals on the log scale are), the narrower intervals as
  thicker bars, and the pooling methods' prediction interval as a dotted line. A dashed line at
  the estimate and a faint band over the widest interval run up through the claim rows. With
  no central figure to print (no value, or a summary that is not a figure) only the intervals
  are drawn; an open end (None), and an end no claim sets (:func:`open_where_unset`), is an
  arrow to the axis's end;
* **legend** (bottom), explaining grades and symbols in a reader's words.

A quantity that moves (``result.time``, dynamics ``cumulative`` or ``drifting``) has the
**time view** of :mod:`service.plot.timeview` in place of the curve panel: the figures as points
at their dates, the estimate's course with its ranges as bands, and the eventual total in a
column of its own at the right. The rows below keep the per-claim detail; each claim's words
say the moment it speaks of ("1,500 · 18 Oct", "possibly 10,000 in total · 17 Oct"), and the
summary row is the level on the estimate's date ("On 18 Oct").

No word of the statistician's trade is printed ("posterior", "density", "credible interval",
"likelihood"): the plot is for the readers of the article.

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
:mod:`service.plot.layout` the rows and the axis limits, :mod:`service.plot.draw` draws
the panels and :mod:`service.plot.timeview` the time view.
"""


from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Final, Literal, TypedDict, Unpack

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from models.claims import Claim, Source
from models.result import Moment, ReconcileResult
from service.plot.draw import (
    density_curve,
    draw_claims,
    draw_density,
    draw_summary,
    grade_handles,
    setup_quantity,
    symbol_handles,
)
from service.plot.layout import (
    EchoBand,
    Row,
    central_value,
    claim_rows,
    ends_on,
    label_width,
    subtitle_parts,
    summary_note,
    widest_first,
    x_limits,
)
from service.plot.style import (
    BAND,
    CAPTION_LINES,
    DENSITY_IN,
    ECHO_EDGE,
    ECHO_FILL,
    FONT,
    GRADE_GAP_IN,
    GRADE_IN,
    INK,
    LABEL_LINES,
    LABEL_MAX_IN,
    MARGIN_IN,
    MIN_AXES_IN,
    MUTED,
    OUTLIER_COLOUR,
    PNG_DPI,
    ROW_IN,
    TIME_FOOT_IN,
    TIME_HEAD_IN,
    TIME_IN,
    TIME_LABELS_IN,
    TITLE_FONT,
    TOTAL_GAP_IN,
    TOTAL_HEADING,
    TOTAL_IN,
    WIDTH_IN,
    format_count,
    log_ticks,
)
from service.plot.text import Measure, drawable, fit_lines, percent, shorten, wrap, wrap_words
from service.plot.timeview import (
    Course,
    claim_when,
    course,
    draw_course,
    draw_total,
    moment_text,
    short_date,
    time_handles,
    time_heading,
    unset_ends,
    value_limits,
    whole_numbers,
)

__all__ = [
    "MEDIA_TYPES",
    "PNG_DPI",
    "WIDTH_IN",
    "PlotFormat",
    "Labels",
    "build_figure",
    "format_count",
    "log_ticks",
    "render_plot",
]

PlotFormat = Literal["svg", "png"]

#: Media type of each output format.
MEDIA_TYPES: Final[dict[PlotFormat, str]] = {"svg": "image/svg+xml", "png": "image/png"}


class Labels(TypedDict, total=False):
    """The words a plot is labelled with (both optional), as :func:`build_figure` and
    :func:`render_plot` take them."""

    #: The question, as the title (else "Reconciled estimate").
    question: str | None
    #: The quantity's unit, beside the scale on its axis.
    unit: str | None


def open_where_unset(result: ReconcileResult, claims: Sequence[Claim]) -> ReconcileResult:
    """``result`` with each end of its estimate's intervals that no claim sets
    (:func:`models.summary.ends_beyond_claims`) drawn as an open end: an arrow to the axis's
    end, as the words print no number there. Drawn to scale, an end of 2.8e28 beside figures of
    1 to 4.5 stretched the axis over 28 powers of ten and squeezed every claim into its left
    edge."""
    beyond = unset_ends(claims, result.scale, result.precision)
    intervals = []
    for interval in result.estimate.intervals:
        ends = beyond(interval.low, interval.high)
        intervals.append(replace(interval, low=None if "low" in ends else interval.low,
                                 high=None if "high" in ends else interval.high))
    if all(a == b for a, b in zip(intervals, result.estimate.intervals, strict=True)):
        return result
    return replace(result, estimate=replace(result.estimate, intervals=tuple(intervals)))


def build_figure(
    result: ReconcileResult,
    claims: Sequence[Claim],
    sources: Sequence[Source],
    **labels: Unpack[Labels],
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
    **labels : Labels
        ``question`` and ``unit``: the title and the axis unit.

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
    question, unit = labels.get("question"), labels.get("unit")
    measure = Measure()
    names = [drawable(source.label) for source in sources]
    moving = course(result, claims) if result.time is not None else None
    if moving is None:
        result = open_where_unset(result, claims)
    when = claim_when(moving, claims) if moving is not None else None
    laid = claim_rows(result, claims, sources, measure, label_width(names, measure, LABEL_MAX_IN),
                      when)
    rows, bands, slots = laid.rows, laid.bands, laid.slots
    log = result.scale == "log"
    limits = x_limits(result, rows)
    central = central_value(result)

    # Widths, left to right, in inches: the names (each as wide as it needs, up to
    # LABEL_MAX_IN, wrapped beyond), the grade's marker and letter, the axis, the claims' words.
    estimate_note = summary_note(result)
    estimate_label = "Estimate"
    right_heading = RIGHT_HEADING
    if moving is not None:
        right_heading = MOVING_RIGHT_HEADING
        if moving.time.at is not None:
            estimate_label = f"On {short_date(moving.time.at, moving.years)}"
        if result.estimate.value is not None:
            head, span = moment_text(
                Moment(moving.time.at, result.estimate.value, result.estimate.intervals, ()),
                whole_numbers(claims), unset_ends(claims, result.scale, result.precision))
            estimate_note = f"{head} ({span})" if span else head
    band_heads = {band.origin: _band_heading(band, measure) for band in bands}
    name_in = max(
        measure.widest([line for row in rows for line in row.label]
                       + list(CAPTION_LINES) + [LEFT_HEADING], FONT),
        measure.widest([line for lines in band_heads.values() for line in lines], FONT),
        measure.width(estimate_label, FONT, "bold"),
    )
    grade_in = GRADE_GAP_IN + max(
        GRADE_IN - GRADE_GAP_IN, measure.widest([row.grade_label for row in rows], FONT, "bold")
    )
    left_in = 0.25 + name_in + grade_in
    right_in = 0.25 + max(
        measure.widest([row.note for row in rows] + [right_heading], FONT),
        measure.widest([_band_note(band) for band in bands], FONT),
        measure.width(estimate_note, FONT, "bold"),
    )
    # Long labels widen the figure rather than squeeze the axis below MIN_AXES_IN.
    fig_in = max(WIDTH_IN, left_in + right_in + MIN_AXES_IN)
    axes_in = fig_in - left_in - right_in
    text_in = fig_in - 2 * MARGIN_IN
    title = drawable(question) if question else "Reconciled estimate"
    title_lines = wrap_words(title, measure, TITLE_FONT, text_in)
    sub_lines = wrap(subtitle_parts(result, unit), measure, FONT + 1.5, text_in)

    # Heights, top to bottom, in inches: a row per slot (claims and echo headings), one for
    # the column headings, and the summary row below.
    title_in, sub_in = 0.1 + 0.22 * len(title_lines), 0.22 * len(sub_lines)
    forest_in = ROW_IN * (slots + 3)
    symbols = symbol_handles(result, echoes=bool(bands))
    axis_in = 0.62
    legend_in = 0.3 + 0.18 * max(3, math.ceil(len(symbols) / 2))
    # No curve (an answer set by bounds alone, a pooled fit without its se): no empty panel.
    # A quantity that moves has the time view instead, whose band on the estimate's date is
    # the curve's ranges.
    curve = density_curve(result, claims, limits) if moving is None else None
    curve_in = DENSITY_IN if curve is not None else 0.0
    time_in = TIME_HEAD_IN + TIME_IN + TIME_FOOT_IN if moving is not None else 0.0
    height = (MARGIN_IN + title_in + sub_in + 0.12 + curve_in + time_in + forest_in + axis_in
              + legend_in)
    fig = Figure(figsize=(fig_in, height))
    FigureCanvasAgg(fig)

    def box(
        left: float, bottom: float, width: float, tall: float
    ) -> tuple[float, float, float, float]:
        return (left / fig_in, bottom / height, width / fig_in, tall / height)

    forest_bottom = legend_in + axis_in
    ax = fig.add_axes(box(left_in, forest_bottom, axes_in, forest_in))
    setup_quantity(ax, "x", result.scale, limits)

    y = height - MARGIN_IN
    fig.text(MARGIN_IN / fig_in, y / height, "\n".join(title_lines), ha="left", va="top",
             fontsize=TITLE_FONT, fontweight="bold", color=INK, linespacing=1.25,
             parse_math=False)
    y -= title_in
    fig.text(MARGIN_IN / fig_in, y / height, "\n".join(sub_lines), ha="left", va="top",
             fontsize=FONT + 1.5, color=INK, linespacing=1.35, parse_math=False)

    def across(inches: float) -> float:
        """A distance in inches as a fraction of the axes' width."""
        return inches / axes_in

    pad = across(0.12)
    if curve is not None:
        top = fig.add_axes(box(left_in, forest_bottom + forest_in, axes_in, curve_in),
                           sharex=ax)
        draw_density(top, result, curve, limits, pad, central)
    if moving is not None:
        _time_view(fig, result, moving, rows, claims, unit, measure,
                   fig_in=fig_in, height=height, bottom=forest_bottom + forest_in)

    summary_y = -0.4
    heading_y = slots + 1.0
    ax.set_ylim(summary_y - 0.9, slots + 1.5)
    in_band = {row.y for row in rows if row.group is not None} | {b.top for b in bands}
    stripes = [
        [(0.0, k - 0.5), (1.0, k - 0.5), (1.0, k + 0.5), (0.0, k + 0.5)]
        for k in range(slots, 0, -2)  # zebra stripes make a wide row easy to follow
        if k not in in_band
    ]
    ax.add_collection(
        PolyCollection(stripes, facecolors="#f2f4f7", linewidths=0, zorder=0,
                       transform=ax.get_yaxis_transform()),
        autolim=False,
    )
    _draw_bands(ax, bands, band_heads, left=-across(left_in - 0.1),
                right=1 + across(right_in - 0.1), bracket=-across(0.05))
    ax.axhline(0.45, color="#c9d1da", linewidth=0.8)
    intervals = widest_first(result)
    if intervals:
        ax.axvspan(*ends_on(intervals[0], limits), color=BAND, alpha=0.07, linewidth=0,
                   zorder=0)
    if central is not None:
        ax.axvline(central, color=INK, linestyle="--", linewidth=0.9, zorder=1)
    draw_claims(ax, rows, limits, log)
    draw_summary(ax, result, summary_y, central, limits, log)

    # Row labels as plain text (cheaper than tick labels): the source's name, its grade's
    # marker and letter, then the claim in words and its share on the right.
    rows_axis = ax.get_yaxis_transform()
    name_x = -(pad + across(grade_in))
    marker_x = -(pad + across(grade_in - 0.1))
    letter_x = -(pad + across(grade_in - 0.2))
    for row in rows:
        ax.text(name_x, row.y, "\n".join(row.label), transform=rows_axis, ha="right",
                va="center", fontsize=FONT, color=INK, linespacing=1.0, parse_math=False)
        ax.text(letter_x, row.y, row.grade_label, transform=rows_axis, ha="left", va="center",
                fontsize=FONT, fontweight="bold", color=INK, parse_math=False)
        ax.text(1 + pad, row.y, row.note, transform=rows_axis, ha="left", va="center",
                fontsize=FONT, color=OUTLIER_COLOUR if row.outlier else INK, parse_math=False)
    for grade in {row.grade for row in rows}:
        ys = [row.y for row in rows if row.grade == grade]
        ax.scatter([marker_x] * len(ys), ys, s=34, marker=grade.marker, color=grade.colour,
                   transform=rows_axis, clip_on=False, zorder=3)
    for text, x, ha in ((LEFT_HEADING, name_x, "right"), (right_heading, 1 + pad, "left")):
        ax.text(x, heading_y, text, transform=rows_axis, ha=ha, va="center", fontsize=FONT,
                color=MUTED, parse_math=False)
    ax.text(name_x, summary_y, estimate_label, transform=rows_axis, ha="right", va="center",
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
    fig.legend(handles=grade_handles(), loc="lower left", ncols=2,
               bbox_to_anchor=(MARGIN_IN / fig_in, MARGIN_IN / height),
               title="Grade of the source: how often\nits figures are expected to be right",
               **legend)
    fig.legend(handles=symbols, loc="lower right", ncols=2,
               bbox_to_anchor=(1 - MARGIN_IN / fig_in, MARGIN_IN / height),
               title="Symbols", **legend)
    return fig


#: Column headings over the names and the claims.
LEFT_HEADING: Final = "Source and grade"
RIGHT_HEADING: Final = "Claim · share of the estimate"
MOVING_RIGHT_HEADING: Final = "Claim · its date · share of the estimate"


def _time_view(
    fig: Figure,
    result: ReconcileResult,
    moving: Course,
    rows: Sequence[Row],
    claims: Sequence[Claim],
    unit: str | None,
    measure: Measure,
    *,
    fig_in: float,
    height: float,
    bottom: float,
) -> None:
    """The time view (:mod:`service.plot.timeview`) in the band of the figure from ``bottom``
    (inches) up: a heading and legend, the course, and the eventual total's column at the
    right when there is one."""
    time = moving.time
    limits = value_limits(result, rows)
    whole = whole_numbers(claims)
    scale_word = "log scale" if result.scale == "log" else "linear scale"
    unit_label = f"{shorten(unit, 40)} ({scale_word})" if unit else scale_word
    left_in = MARGIN_IN + TIME_LABELS_IN
    total_in = TOTAL_IN if time.total is not None else 0.0
    gap_in = TOTAL_GAP_IN if time.total is not None else 0.0
    course_in = fig_in - left_in - MARGIN_IN - total_in - gap_in - 0.1
    axes_bottom = bottom + TIME_FOOT_IN

    def box(left: float, width: float) -> tuple[float, float, float, float]:
        return (left / fig_in, axes_bottom / height, width / fig_in, TIME_IN / height)

    ax = fig.add_axes(box(left_in, course_in))
    draw_course(ax, result, moving, rows, limits, whole, unit_label)
    # The heading, and under it the legend in one row just above the course, clear of the
    # figures (inside the axes it would cover some of them, wherever the course runs).
    head_y = (axes_bottom + TIME_IN + TIME_HEAD_IN - 0.14) / height
    fig.text(MARGIN_IN / fig_in, head_y, time_heading(time), ha="left", va="center",
             fontsize=FONT + 1, fontweight="bold", color=INK, parse_math=False)
    handles = time_handles(result)
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.0, 1.0), ncols=len(handles),
              fontsize=FONT - 0.5, frameon=False, handlelength=1.6, columnspacing=1.2,
              borderaxespad=0.15, borderpad=0.0)
    if time.total is not None:
        total_ax = fig.add_axes(box(left_in + course_in + gap_in, total_in), sharey=ax)
        draw_total(total_ax, result, rows, limits, whole,
                   unset_ends(claims, result.scale, result.precision))
        fig.text((left_in + course_in + gap_in + total_in / 2) / fig_in, head_y,
                 TOTAL_HEADING, ha="center", va="center", fontsize=FONT + 1,
                 fontweight="bold", color=INK, parse_math=False)


def _band_heading(band: EchoBand, measure: Measure) -> list[str]:
    """An echo group's heading, in the names' column: its origin, wrapped like a name."""
    origin = drawable(band.origin)
    return fit_lines(f"One origin, counted once: {origin}", measure, FONT, LABEL_MAX_IN,
                     LABEL_LINES)


def _band_note(band: EchoBand) -> str:
    return f"{len(band.claims)} claims · {percent(band.share)} together"


def _draw_bands(
    ax: Axes,
    bands: Sequence[EchoBand],
    headings: dict[str, list[str]],
    *,
    left: float,
    right: float,
    bracket: float,
) -> None:
    """Echo groups as a tinted band behind their heading and rows, from the names to the
    claims' words, with a bracket joining the rows just left of the axis (x in axes fractions)."""
    transform = ax.get_yaxis_transform()
    for band in bands:
        top, bottom = band.top + 0.45, band.bottom - 0.45
        ax.add_patch(Rectangle((left, bottom), right - left, top - bottom, transform=transform,
                               facecolor=ECHO_FILL, edgecolor="none", zorder=0, clip_on=False))
        ax.plot((bracket * 0.4, bracket, bracket, bracket * 0.4),
                (band.top - 0.55, band.top - 0.55, bottom + 0.1, bottom + 0.1),
                transform=transform, color=ECHO_EDGE, linewidth=1.2, clip_on=False, zorder=1)
        ax.text(bracket * 2.0, band.top, "\n".join(headings[band.origin]), transform=transform,
                ha="right", va="center", fontsize=FONT, fontstyle="italic", color=ECHO_EDGE,
                linespacing=1.0, parse_math=False)
        ax.text(1 - bracket * 2.0, band.top, _band_note(band), transform=transform, ha="left",
                va="center", fontsize=FONT, fontstyle="italic", color=ECHO_EDGE,
                parse_math=False)


def render_plot(
    result: ReconcileResult,
    claims: Sequence[Claim],
    sources: Sequence[Source],
    *,
    fmt: PlotFormat = "svg",
    **labels: Unpack[Labels],
) -> bytes:
    """The forest plot as SVG or PNG bytes (see :func:`build_figure` for the parameters).

    Raises
    ------
    ValueError
        For a format other than ``svg`` or ``png``.
    """
    if fmt not in MEDIA_TYPES:
        raise ValueError(f"Invalid plot format {fmt!r}; must be svg or png.")
    fig = build_figure(result, claims, sources, **labels)
    buffer = io.BytesIO()
    title = labels.get("question") or "Reconciled estimate"
    if fmt == "svg":
        # No date in the metadata (PNG has none either): a plot says nothing about when.
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Title": title})
    else:
        # zlib level 3 instead of Pillow's 6: files 2 % larger, encoding several times faster.
        fig.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Title": title},
                    pil_kwargs={"compress_level": 3})
    return buffer.getvalue()
