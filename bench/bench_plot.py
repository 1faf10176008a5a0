"""In-process timing of one forest plot (``service.plot.forest.render_plot``), SVG and PNG.

Two cases: the troop case (3 claims) and 50 claims of every kind from 25 sources. Prints the
median and the 90th percentile over repeated renders, next to a named baseline measured in the
same run: ``bare matplotlib figure`` -- a 8 × 6 inch Figure with one line and default axes,
rendered to the same format (the least a matplotlib plot can cost). The reconciliation itself is
done once, outside the timing.

    .venv/bin/python bench/bench_plot.py [--runs N]
"""

from __future__ import annotations

import argparse
import io
from functools import partial
from typing import Any

import numpy as np
from _common import GRADES, timed, troop_case
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from models.claims import Claim, ClaimKind, Source
from models.reconcile import reconcile
from service.plot.forest import PlotFormat, render_plot


def fifty_case(seed: int = 7) -> tuple[list[Claim], list[Source], dict[str, Any]]:
    """50 claims (points, some with an sd, bounds, ranges) from 25 named sources, all grades."""
    rng = np.random.default_rng(seed)
    sources = [
        Source(f"s{i}", f"Outlet number {i} with a longer name", reliability=GRADES[i % 6])
        for i in range(25)
    ]
    claims: list[Claim] = []
    for i in range(50):
        x = float(round(5000 * np.exp(rng.normal(0, 0.4))))
        source = f"s{i % 25}"
        kind: ClaimKind = ("point", "point", "at_least", "at_most", "range")[i % 5]
        if kind == "range":
            claims.append(Claim(source, "range", low=round(x * 0.8), high=round(x * 1.25)))
        elif kind == "point" and i % 7 == 0:
            claims.append(Claim(source, "point", x, sd=round(x * 0.2)))
        else:
            claims.append(Claim(source, kind, x, hedge="about" if i % 3 == 0 else "none"))
    return claims, sources, {"question": "Displaced people in the region", "unit": "people"}


def bare_figure(fmt: PlotFormat) -> bytes:
    """The baseline: a Figure with one line, no styling, rendered to ``fmt``."""
    fig = Figure(figsize=(8, 6))
    FigureCanvasAgg(fig)
    fig.add_subplot().plot([0, 1, 2], [0, 1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=150 if fmt == "png" else 100)
    return buffer.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    print(f"{'case':<14}{'format':<8}{'what':<26}{'median ms':>10}{'p90 ms':>10}{'ratio':>8}")
    formats: tuple[PlotFormat, ...] = ("svg", "png")
    for name, (claims, sources, text) in (("troop", troop_case()), ("50 claims", fifty_case())):
        result = reconcile(claims, sources, levels=(0.5, 0.9), **text)
        for fmt in formats:
            base, base90 = timed(partial(bare_figure, fmt), args.runs)
            ours, ours90 = timed(
                partial(render_plot, result, claims, sources, fmt=fmt, **text), args.runs
            )
            print(f"{name:<14}{fmt:<8}{'bare matplotlib figure':<26}{base:>10.1f}"
                  f"{base90:>10.1f}{1.0:>8.1f}")
            print(f"{name:<14}{fmt:<8}{'triangulate forest plot':<26}{ours:>10.1f}"
                  f"{ours90:>10.1f}{ours / base:>8.1f}")


if __name__ == "__main__":
    main()
