"""Drawing the forest plot's parts on matplotlib axes: the x axis, the curve's panel, the claim
rows, the summary row and the legend's handles (:mod:`service.plot.forest` lays them out)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Polygon
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, MaxNLocator, NullFormatter
from scipy.interpolate import PchipInterpolator

from models.claims import Claim
from models.encode import working_scale
from models.result import ReconcileResult
from service.plot.layout import (
    Row,
    ends_on,
    marker_area,
    middle,
    ramp,
    towards_centre,
    widest_first,
)
from service.plot.style import (
    BAND,
    ECHO_EDGE,
    ECHO_FILL,
    FONT,
    GRADES,
    INK,
    MUTED,
    OUTLIER_COLOUR,
    POOLED_CAPTION,
    ROBUST_CAPTION,
    SUMMARY_FILL,
    UNKNOWN,
    format_count,
    log_ticks,
)

__all__ = [
    "grade_handles",
    "density_curve",
    "draw_claims",
    "draw_density",
    "draw_summary",
    "resample",
    "setup_quantity",
    "symbol_handles",
]

FloatArray = npt.NDArray[np.float64]


def setup_quantity(
    ax: Axes, which: Literal["x", "y"], scale: str, limits: tuple[float, float], *,
    max_ticks: int = 8, bins: int = 7,
) -> None:
    """The quantity's axis of ``ax`` (``x`` on the forest plot, ``y`` in the time view) from
    ``limits``: on the log scale :func:`~service.plot.style.log_ticks` (at most ``max_ticks``)
    with unlabelled minor ticks, else about ``bins`` linear ticks; labels by
    :func:`~service.plot.style.format_count` either way."""
    axis, set_scale, set_limits = (
        (ax.xaxis, ax.set_xscale, ax.set_xlim) if which == "x"
        else (ax.yaxis, ax.set_yscale, ax.set_ylim)
    )
    low, high = limits
    if scale == "log":
        set_scale("log")
        set_limits(low, high)
        axis.set_major_locator(FixedLocator(log_ticks(low, high, max_ticks=max_ticks)))
        axis.set_minor_locator(LogLocator(base=10.0, subs=tuple(range(1, 10))))
        axis.set_minor_formatter(NullFormatter())
    else:
        set_limits(low, high)
        axis.set_major_locator(MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: format_count(float(v))))


def resample(x: FloatArray, y: FloatArray, at: FloatArray) -> FloatArray:
    """y(x) at ``at`` by a monotone cubic, or linearly where the cubic is not finite.

    Posteriors squeezed near floating point's limits (points a rounding apart) can overflow
    the cubic's slopes; a plot must still come out.
    """
    try:
        with np.errstate(all="ignore"):
            curve = PchipInterpolator(x, y)(at)
    except ValueError:  # scipy refuses the slopes it computed when they overflow
        curve = np.full(at.shape, np.nan)
    if not np.all(np.isfinite(curve)):
        curve = np.interp(at, x, y)
    return np.asarray(np.clip(curve, 0.0, None), dtype=np.float64)


def density_curve(
    result: ReconcileResult, claims: Sequence[Claim], limits: tuple[float, float]
) -> tuple[FloatArray, FloatArray, str] | None:
    """(x, density scaled to a peak of 1, caption) for the top panel, or None."""
    log = result.scale == "log"
    low, high = limits
    to_grid = np.log if log else np.asarray
    if getattr(result.estimate, "basis", "fit") == "bounds":
        # The answer is set by the bounds alone (models.bounds), not by the fitted model whose
        # curve this would be: drawing that curve would show a shape the answer disowns.
        return None
    if result.method == "robust":
        if result.posterior is None or len(result.posterior.values) < 2:
            return None
        values = np.asarray(result.posterior.values, dtype=float)
        density = np.asarray(result.posterior.density, dtype=float)
        # The result keeps ~200 points over the whole posterior's support, of which a narrow
        # window may hold only a dozen: resample with a monotone cubic (no overshoot below 0,
        # no invented bumps) so the curve is smooth at the plot's resolution.
        theta = to_grid(values)
        g = np.linspace(max(theta[0], to_grid(low)), min(theta[-1], to_grid(high)), 400)
        if not g[0] < g[-1]:
            return None
        d = resample(theta, density / density.max(), g)
        x = np.exp(g) if log else g
        caption = ROBUST_CAPTION
    else:
        se, value = result.estimate.se, result.estimate.value
        if value is None or se is None or not (math.isfinite(se) and se > 0):
            return None
        # The pooled estimate is normal on the working scale θ with sd = se (log units on the
        # log scale; units of the scale's spread on the linear scale).
        if log:
            theta = np.linspace(math.log(low), math.log(high), 400)
            x = np.exp(theta)
            d = np.exp(-0.5 * ((theta - math.log(value)) / se) ** 2)
        else:
            sd = se * working_scale(claims, "linear").unit
            x = np.linspace(low, high, 400)
            d = np.exp(-0.5 * ((x - value) / sd) ** 2)
        caption = POOLED_CAPTION
    inside = (x >= low) & (x <= high) & np.isfinite(d)
    if inside.sum() < 2 or d.max() <= 0:
        return None
    return x[inside], d[inside] / d.max(), caption


def draw_density(
    ax: Axes,
    result: ReconcileResult,
    curve: tuple[FloatArray, FloatArray, str],
    limits: tuple[float, float],
    pad: float,
    central: float | None,
) -> None:
    """The top panel: how likely each value is (``curve``, from :func:`density_curve`), with
    the estimate's ranges shaded under it and a line at the ``central`` figure (none when there
    is none); ``pad`` is the gap before the caption, as a fraction of the width."""
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_yticks([])
    ax.tick_params(axis="x", labelbottom=False, length=0)
    ax.tick_params(axis="x", which="both", length=0)
    ax.spines["bottom"].set_color("#c9d1da")
    x, d, caption = curve
    log = result.scale == "log"
    ax.plot(x, d, color=INK, linewidth=1.2)
    ax.fill_between(x, d, color=BAND, alpha=0.06, linewidth=0)
    # Requested intervals shaded under the curve, widest palest; an open end runs to the edge.
    intervals = widest_first(result)
    grid = np.log(x) if log else x
    for k, interval in enumerate(intervals):
        low, high = ends_on(interval, limits)
        lo_x, hi_x = max(low, x[0]), min(high, x[-1])
        if not lo_x < hi_x:
            continue
        lo_g, hi_g = (math.log(lo_x), math.log(hi_x)) if log else (lo_x, hi_x)
        g = np.concatenate([[lo_g], grid[(grid > lo_g) & (grid < hi_g)], [hi_g]])
        band_x = np.exp(g) if log else g
        ax.fill_between(
            band_x, np.interp(g, grid, d), color=BAND, alpha=ramp(k, len(intervals), 0.18, 0.45),
            linewidth=0,
        )
    if central is not None:
        ax.axvline(central, color=INK, linestyle="--", linewidth=0.9)
    ax.set_ylim(0, 1.12)
    ax.text(-pad, 0.5, caption, transform=ax.transAxes, ha="right", va="center",
            fontsize=FONT, color=MUTED, linespacing=1.3, parse_math=False)


def draw_claims(
    ax: Axes, rows: Sequence[Row], limits: tuple[float, float], log: bool
) -> None:
    """Every claim row, batched into a few collections: one artist per kind of mark, so that a
    plot of hundreds of claims draws as fast as one of three."""
    largest = max((row.share for row in rows), default=0.0)
    whiskers: list[tuple[tuple[float, float], tuple[float, float]]] = []
    whisker_colours: list[str] = []
    bars: list[tuple[tuple[float, float], tuple[float, float]]] = []
    bar_colours: list[str] = []
    arrows: list[tuple[tuple[float, float], tuple[float, float]]] = []
    arrow_colours: list[str] = []
    # marker → (x, y, area in points², face colour, edge colour) of each mark drawn with it.
    marks: dict[str, list[tuple[float, float, float, str, str]]] = {}
    heads: dict[str, list[tuple[float, float, float, str, str]]] = {}
    crosses: list[tuple[float, float, float]] = []

    def mark(table: dict[str, list[tuple[float, float, float, str, str]]], marker: str,
             x: float, y: float, area: float, face: str, edge: str) -> None:
        table.setdefault(marker, []).append((x, y, area, face, edge))

    for row in rows:
        claim, y, colour = row.claim, row.y, row.colour
        if row.whisker is not None:
            whiskers.append(((row.whisker[0], y), (row.whisker[1], y)))
            whisker_colours.append(colour)
            for end in row.whisker:
                mark(heads, "|", end, y, 36.0, colour, colour)
        if claim.kind == "range" and claim.low is not None and claim.high is not None:
            bars.append(((claim.low, y), (claim.high, y)))
            bar_colours.append(colour)
            for end in (claim.low, claim.high):
                mark(heads, "|", end, y, 81.0, colour, colour)
            position, marker = middle(claim.low, claim.high, log), row.grade.marker
        elif claim.kind in ("at_most", "at_least") and claim.value is not None:
            at_most = claim.kind == "at_most"
            # The head sits just inside the axis so that its tip, not its centre, is at the end.
            edge = towards_centre(limits[0] if at_most else limits[1], limits, log, 0.012)
            arrows.append(((claim.value, y), (edge, y)))
            arrow_colours.append(colour)
            mark(heads, "<" if at_most else ">", edge, y, 30.0, colour, colour)
            position, marker = claim.value, row.grade.marker
        else:
            position, marker = float(claim.value or 0.0), row.grade.marker
        area = marker_area(row.share, largest)
        mark(marks, marker, position, y, area, "white" if row.outlier else colour, colour)
        if row.outlier:
            crosses.append((position, y, area * 0.8))

    for segments, colours, width, alpha in (
        (whiskers, whisker_colours, 1.1, 1.0),
        (bars, bar_colours, 3.2, 0.55),
        (arrows, arrow_colours, 1.3, 1.0),
    ):
        if segments:
            ax.add_collection(
                LineCollection(segments, colors=colours, linewidths=width, alpha=alpha,
                               capstyle="butt", zorder=2),
                autolim=False,
            )
    for table, zorder in ((heads, 2.5), (marks, 3.0)):
        for marker, entries in table.items():
            xs, ys, areas, faces, edges = zip(*entries, strict=True)
            if marker == "|":  # an unfilled marker takes its colour from c
                ax.scatter(xs, ys, s=areas, marker=marker, c=edges, linewidths=1.4,
                           zorder=zorder, clip_on=False)
            else:
                ax.scatter(xs, ys, s=areas, marker=marker, facecolors=faces, edgecolors=edges,
                           linewidths=1.4, zorder=zorder, clip_on=False)
    if crosses:
        xs, ys, areas = zip(*crosses, strict=True)
        ax.scatter(xs, ys, s=areas, marker="x", color=OUTLIER_COLOUR, linewidths=1.6,
                   zorder=4, clip_on=False)


def draw_summary(
    ax: Axes,
    result: ReconcileResult,
    y: float,
    central: float | None,
    limits: tuple[float, float],
    log: bool,
) -> None:
    """The estimate's row: a kite over the widest range with its point at the ``central``
    figure (a plain bar when there is none), the narrower ranges as thicker bars, and an arrow
    to the axis's end where a range is open (the evidence sets no limit that way)."""
    intervals = widest_first(result)
    # An open end stops short of the axis's end, where its arrow head sits.
    inside = (towards_centre(limits[0], limits, log, 0.012),
              towards_centre(limits[1], limits, log, 0.012))
    if intervals:
        widest = intervals[0]
        low, high = ends_on(widest, inside)
        if central is not None and low <= central <= high:
            outline = [(low, y), (central, y + 0.34), (high, y), (central, y - 0.34)]
        else:
            outline = [(low, y - 0.2), (low, y + 0.2), (high, y + 0.2), (high, y - 0.2)]
        ax.add_patch(Polygon(outline, closed=True, facecolor=SUMMARY_FILL, edgecolor=INK,
                             linewidth=1.0, zorder=3))
        for k, interval in enumerate(intervals[1:]):
            ax.plot(ends_on(interval, inside), (y, y), color=INK,
                    linewidth=ramp(k, len(intervals) - 1, 3.5, 7.0),
                    solid_capstyle="butt", zorder=4)
        for end, open_end, marker in ((inside[0], widest.low is None, "<"),
                                      (inside[1], widest.high is None, ">")):
            if open_end:
                ax.plot((end,), (y,), linestyle="none", marker=marker, markersize=7, color=INK,
                        zorder=5, clip_on=False)
    if central is not None:
        ax.plot((central, central), (y - 0.34, y + 0.34), color=INK, linewidth=1.6, zorder=5)
    if result.prediction is not None:
        ends = (result.prediction.low, result.prediction.high)
        ax.plot(ends, (y - 0.5, y - 0.5), color=INK, linestyle=":", linewidth=1.4)
        ax.plot(ends, (y - 0.5, y - 0.5), linestyle="none", marker="|", markersize=6,
                color=INK)


def grade_handles() -> list[Line2D | Patch]:
    """The grades' legend: each grade's marker in its colour, its letter and credibility."""
    handles: list[Line2D | Patch] = [
        Line2D([], [], marker=g.marker, linestyle="none", markersize=7, color=g.colour,
               markeredgecolor=g.colour, label=f"{g.letter}  {g.credibility:.0%}")
        for g in GRADES.values()
    ]
    handles.append(Line2D([], [], marker=UNKNOWN.marker, linestyle="none", markersize=7,
                          color=UNKNOWN.colour, label="F, ?  cannot be judged"))
    return handles


def symbol_handles(result: ReconcileResult, echoes: bool) -> list[Line2D | Patch]:
    """The symbols' legend in a reader's words; the echo band only when one is drawn."""
    handles: list[Line2D | Patch] = [
        Line2D([], [], marker="o", linestyle="none", color=MUTED, markersize=7,
               label="a figure (bigger: counts more)"),
        Line2D([0, 1], [0, 0], color=MUTED, linewidth=1.3, marker=">", markevery=[1],
               markersize=5, label="at least / up to (arrow: no limit)"),
        Line2D([0, 1], [0, 0], color=MUTED, linewidth=3.2, alpha=0.55, label="a range"),
        Line2D([0, 1], [0, 0], color=MUTED, linewidth=1.1, marker="|", markersize=6,
               label="the source's own margin of error"),
        Line2D([], [], marker="x", linestyle="none", color=OUTLIER_COLOUR, markersize=7,
               markeredgewidth=1.6, label="likely wrong"),
        Patch(facecolor=SUMMARY_FILL, edgecolor=INK, label="estimate and its ranges"),
    ]
    if echoes:
        handles.append(Patch(facecolor=ECHO_FILL, edgecolor=ECHO_EDGE,
                             label="one origin, counted once"))
    if result.prediction is not None:
        handles.append(Line2D([0, 1], [0, 0], color=INK, linestyle=":", linewidth=1.4,
                              label=f"{result.prediction.level:.0%} range of a new source"))
    return handles
