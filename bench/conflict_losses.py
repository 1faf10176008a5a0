"""The real workload of issue 14: 4,609 Russia–Ukraine loss reports (Radford et al. 2023).

Loss reports from the war's first year, by sources with a stake in them, for 30 loss types
(category × whose losses). Each loss type is a cumulative quantity followed by the filter of
``models/dynamics``; :class:`models.dynamics.bias.SourceBiasEstimator` learns, jointly over the
loss types, each source group's reporting bias (a factor on the count, log scale), separately
for a side's own losses and the other side's.

    .venv/bin/python bench/conflict_losses.py [--split side|kind] [--reference third-party|
        sum-to-zero] [--types "Tanks-Russia,..."] [--workers 1] [--no-plot]

Data: ``$CONFLICT_DATA`` (the CSV or its folder), else ``../shared/conflict_claims_data/`` next
to the repository (see its README: MIT licence, © 2023 Benjamin Radford; cite the paper).

Reading the rows (decisions, see docs/conflict-losses.md):

* ``Cumulative`` rows are claims about the level on their day (``days`` since 24 Feb 2022).
* ``Day`` rows (162 of 4,609) are left out: a daily count speaks of the increase between two
  days, which the filter's node-by-node likelihood cannot express, and the daily series are
  too sparse to sum into levels.
* ``minimum``/``maximum``: every ``maximum`` row has a ``minimum`` row of the same source, day
  and loss type ("between 2,000 and 4,000"): the pair is one range claim. A ``minimum`` row
  without a partner is ``at_least`` (most are OSI counts of visually confirmed losses).
* Every source gets the same grade (C: right 70 % of the time, ±35 %): no source is presumed
  more credible; what differs is the bias, which is learned.
* A source's figures for one loss type on one day count once (evidence units).
* Groups: ``UA``/``RU`` sources split by own side's / the other side's losses; the third
  parties (OSI, US, GB, UN, Other) pooled as one reference group, bias 0 (``--reference
  sum-to-zero`` frees them and lets the prior centre every group on 0 instead).
  ``--split kind`` further splits UA/RU groups into personnel and equipment.

Prints the run time (loading, fitting, everything but the plot), the bias table and a few
trajectories, and writes bench/out/conflict_losses.png (ignored by git except this figure).
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import ROOT  # (puts the repository on sys.path)

from models.claims import Claim
from models.credibility import profile_for
from models.dynamics import DynamicEstimator, DynamicFit
from models.dynamics.bias import (
    BiasFit,
    BiasQuestion,
    FitJob,
    SourceBiasEstimator,
    fit_question,
)
from models.encode import encode, working_scale

CSV_NAME = "radford2023-ukraine-loss-reports.csv"
DEFAULT_DATA = ROOT.parent / "shared" / "conflict_claims_data"
OUT = ROOT / "bench" / "out"
PLOT = OUT / "conflict_losses.png"

#: One grade for every source (see the module docstring).
GRADE = "C"
#: Drift candidates for this workload (docs/conflict-losses.md measures the cost): five over
#: the range where the default nine put their weight here (q̂ ≈ 0.016–0.08/√day), which halves
#: the first pass. The grid is the filter's default (160–960 points, at most the mean daily
#: step of the drift: docs/conflict-losses.md measures how late levels depend on it; ``--grid``
#: fixes it).
DRIFT_GRID = tuple(float(x) for x in np.geomspace(0.005, 0.2, 5))
#: EM tolerance (log units): a sixteenth of the smallest standard error here (≈ 0.08).
TOL = 5e-3

THIRD_PARTIES = {"OSI", "US Source", "GB Source", "United Nations", "Other"}
THIRD_PARTY = "third parties"
SIDE = {"UA Source": "Ukraine", "RU Source": "Russia"}
SHORT = {"UA Source": "UA", "RU Source": "RU"}
PERSONNEL = {"Military Deaths", "Military Casualties", "Military Injuries",
             "Civilian Deaths", "Civilian Casualties", "Civilian Injuries"}
SHOWN = ("Military Deaths-Russia", "Military Deaths-Ukraine", "Tanks-Russia")
CHECK_DAYS = (30, 90, 180, 270, 365)


@dataclass(frozen=True)
class Report:
    day: int
    count: float
    loss_type: str
    source: str
    country: str
    category: str
    kind: str
    high: float | None = None


def data_path() -> Path:
    """The CSV: ``$CONFLICT_DATA`` (file or folder), else the shared folder."""
    given = os.environ.get("CONFLICT_DATA")
    where = Path(given) if given else DEFAULT_DATA
    return where / CSV_NAME if where.is_dir() else where


def load(path: Path) -> tuple[list[Report], int]:
    """Cumulative reports as claims (min/max pairs as ranges); and the number of Day rows."""
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8")))
    daily = sum(r["time_frame"] == "Day" for r in rows)
    cells: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        if r["time_frame"] == "Cumulative":
            cells[(r["days"], r["loss_type"], r["claim_source"])].append(r)
    out: list[Report] = []
    for (day, loss_type, source), group in cells.items():
        lows = sorted(float(r["loss_count"]) for r in group if r["minimum"] == "1"
                      and r["maximum"] == "0")
        highs = sorted(float(r["loss_count"]) for r in group if r["maximum"] == "1"
                       and r["minimum"] == "0")
        first = group[0]

        def report(kind: str, value: float, high: float | None = None,
                   first: dict[str, str] = first, day: str = day, loss_type: str = loss_type,
                   source: str = source) -> Report:
            return Report(int(day), value, loss_type, source, first["loss_country"],
                          first["category"], kind, high)

        # Pair the i-th smallest lower end with the i-th smallest upper end.
        for lo, hi in zip(lows, highs, strict=False):
            out.append(report("range", lo, hi) if hi > lo else report("point", lo))
        out += [report("at_least", lo) for lo in lows[len(highs):]]
        out += [report("at_most", hi) for hi in highs[len(lows):]]
        out += [report("point", float(r["loss_count"])) for r in group
                if r["minimum"] == r["maximum"] == "0"]
    return out, daily


def group_of(r: Report, split: str) -> str:
    if r.source in THIRD_PARTIES:
        return THIRD_PARTY if split != "free" else r.source
    who = SHORT[r.source]
    side = "own" if SIDE[r.source] == r.country else "other"
    label = f"{who} on {side} losses"
    if split == "kind":
        label += ", " + ("personnel" if r.category in PERSONNEL else "equipment")
    return label


def questions(reports: Sequence[Report], split: str) -> list[BiasQuestion]:
    by_type: dict[str, list[Report]] = defaultdict(list)
    for r in reports:
        by_type[r.loss_type].append(r)
    profiles = {GRADE: profile_for(GRADE)}
    out = []
    for name in sorted(by_type):
        rs = sorted(by_type[name], key=lambda r: (r.day, r.source, r.count))
        claims = [
            Claim(GRADE, "range", low=r.count, high=r.high) if r.kind == "range"
            else Claim(GRADE, r.kind, r.count)  # type: ignore[arg-type]
            for r in rs
        ]
        enc = encode(claims, profiles, working_scale(claims, "log"))
        keys: dict[tuple[str, int], int] = {}
        units = np.array([keys.setdefault((r.source, r.day), len(keys)) for r in rs],
                         dtype=np.int64)
        out.append(BiasQuestion(enc, tuple(r.day for r in rs),
                                tuple(group_of(r, split) for r in rs), units=units,
                                name=name))
    return out


def balanced(pool: ProcessPoolExecutor) -> Callable[
        [Callable[[FitJob], DynamicFit], Iterable[FitJob]], Iterable[DynamicFit]]:
    """A mapper that submits the largest fits first (the pool balances), results in order."""

    def run(fn: Callable[[FitJob], DynamicFit], jobs: Iterable[FitJob]) -> list[DynamicFit]:
        todo = list(jobs)
        order = sorted(range(len(todo)), key=lambda k: -len(set(todo[k][2])))
        futures = {k: pool.submit(fn, todo[k]) for k in order}
        return [futures[k].result() for k in range(len(todo))]

    return run


def fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:.1f}"


def print_biases(fit: BiasFit) -> None:
    print("\nLearned reporting bias (factor e^β on the count; 1 = unbiased; ± one s.e.)")
    print(f"{'group':<36} {'claims':>6} {'types':>5} {'β (log)':>8} {'± s.e.':>7} "
          f"{'factor':>7} {'90 % range':>14}  {'s.e. curv / jack':>16}")
    for g in fit.groups:
        if g.reference:
            print(f"{g.group:<36} {g.n_claims:>6} {g.n_questions:>5} {'0 (ref)':>8}")
            continue
        lo, hi = math.exp(g.bias - 1.645 * g.se), math.exp(g.bias + 1.645 * g.se)
        jack = "–" if not math.isfinite(g.se_jackknife) else f"{g.se_jackknife:.2f}"
        print(f"{g.group:<36} {g.n_claims:>6} {g.n_questions:>5} {g.bias:>+8.2f} "
              f"{g.se:>7.2f} {g.factor:>6.2f}× {f'{lo:.2f}–{hi:.2f}×':>14}  "
              f"{g.se_curvature:>7.2f} / {jack:<6}")
    print(f"EM: {fit.iterations} E-steps, converged={fit.converged}, "
          f"last change {fit.changes[-1]:.1e}")
    for w in fit.warnings:
        print(f"warning {w.code}: {w.message}")


def print_trajectories(qs: Sequence[BiasQuestion], fit: BiasFit,
                       reports: Sequence[Report], names: Sequence[str]) -> None:
    for name in names:
        k = next((k for k, q in enumerate(qs) if q.name == name), None)
        if k is None:
            continue
        f = fit.fits[k]
        days = f.timeline.days
        print(f"\n{name} (cumulative; estimate after bias correction, with each side's "
              "latest figure in the 14 days before)")
        print(f"{'day':>4} {'estimate':>9} {'90 % range':>19}   {'UA sources':>10} "
              f"{'RU sources':>10} {'third parties':>13}")
        mine = [r for r in reports if r.loss_type == name]
        for day in CHECK_DAYS:
            j = int(np.searchsorted(days, day, side="right")) - 1
            if j < 0:
                continue
            lo, hi = f.intervals[j, -1]
            cols = []
            for who in ("UA Source", "RU Source", None):
                near = [r for r in mine if days[j] - 14 <= r.day <= days[j]
                        and (r.source == who if who else r.source in THIRD_PARTIES)]
                cols.append(fmt(max(near, key=lambda r: r.day).count) if near else "–")
            print(f"{int(days[j]):>4} {fmt(math.exp(f.medians[j])):>9} "
                  f"{fmt(math.exp(lo)) + '–' + fmt(math.exp(hi)):>19}   "
                  f"{cols[0]:>10} {cols[1]:>10} {cols[2]:>13}")


def plot(qs: Sequence[BiasQuestion], fit: BiasFit, raw: dict[str, DynamicFit],
         reports: Sequence[Report], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [n for n in SHOWN if any(q.name == n for q in qs)]
    if not shown:
        return
    fig, axes = plt.subplots(1, len(shown), figsize=(4.0 * len(shown), 3.6), dpi=90)
    axes = np.atleast_1d(axes)
    style = {"UA Source": ("#0057b7", "o", "Ukrainian sources"),
             "RU Source": ("#d52b1e", "s", "Russian sources")}
    for ax, name in zip(axes, shown, strict=True):
        k = next(k for k, q in enumerate(qs) if q.name == name)
        f = fit.fits[k]
        d = f.timeline.days
        ax.fill_between(d, np.exp(f.intervals[:, -1, 0]), np.exp(f.intervals[:, -1, 1]),
                        color="0.75", lw=0, label="90 % range (bias-corrected)")
        ax.plot(d, np.exp(f.medians), color="black", lw=1.4, label="estimate (bias-corrected)")
        if name in raw:
            r0 = raw[name]
            ax.plot(r0.timeline.days, np.exp(r0.medians), color="black", lw=1.0, ls="--",
                    label="estimate, no bias learned")
        mine = [r for r in reports if r.loss_type == name]
        for src, (colour, marker, label) in style.items():
            pts = [r for r in mine if r.source == src]
            if pts:
                ax.scatter([r.day for r in pts], [r.count for r in pts], s=6, c=colour,
                           marker=marker, alpha=0.6, lw=0, label=label)
        third = [r for r in mine if r.source in THIRD_PARTIES and r.kind != "at_least"]
        if third:
            ax.scatter([r.day for r in third], [r.count for r in third], s=14, c="#2a9d55",
                       marker="^", lw=0, label="third parties")
        floor = [r for r in mine if r.source in THIRD_PARTIES and r.kind == "at_least"]
        if floor:
            ax.scatter([r.day for r in floor], [r.count for r in floor], s=14,
                       facecolors="none", edgecolors="#2a9d55", marker="^", lw=0.8,
                       label="third parties, 'at least'")
        ax.set_yscale("log")
        ax.set_title(name.replace("-", " – "), fontsize=10)
        ax.set_xlabel("days since 24 Feb 2022", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3, lw=0.5)
    axes[0].set_ylabel("cumulative losses (log scale)", fontsize=8)
    handles, labels = [], []
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False,
               markerscale=2)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=("side", "kind"), default="side")
    parser.add_argument("--reference", choices=("third-party", "sum-to-zero"),
                        default="third-party")
    parser.add_argument("--types", default="", help="comma-separated loss types (default all)")
    parser.add_argument("--workers", type=int, default=1,
                        help="processes for the filter fits (1: none)")
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument("--plot", type=Path, default=PLOT)
    parser.add_argument("--full-drift-grid", action="store_true",
                        help="the filter's default nine drift candidates (slower)")
    parser.add_argument("--start", choices=("pairs", "zero"), default="pairs")
    parser.add_argument("--grid", type=int, default=None,
                        help="fix the filter's fine grid at this many points (default: the "
                        "filter's own choice, 160-480)")
    args = parser.parse_args(argv)

    path = data_path()
    if not path.is_file():
        print(f"no data at {path}; set CONFLICT_DATA", file=sys.stderr)
        return 2
    start = time.perf_counter()
    reports, daily = load(path)
    if args.types:
        wanted = {t.strip() for t in args.types.split(",")}
        reports = [r for r in reports if r.loss_type in wanted]
    split = args.split if args.reference == "third-party" else "free"
    if args.reference == "sum-to-zero" and args.split == "kind":
        split = "kind"
    qs = questions(reports, split)
    base = DynamicEstimator("cumulative")
    filt = DynamicEstimator(
        "cumulative", drift_grid=base.drift_grid if args.full_drift_grid else DRIFT_GRID,
        grid_size=args.grid or base.grid_size, max_grid_size=args.grid or base.max_grid_size,
    )
    reference = [THIRD_PARTY] if args.reference == "third-party" else []
    estimator = SourceBiasEstimator(reference, estimator=filt, tol=TOL, start=args.start)
    if args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            fit = estimator.fit(qs, mapper=balanced(pool))
    else:
        fit = estimator.fit(qs)
    elapsed = time.perf_counter() - start

    kinds = defaultdict(int)
    for r in reports:
        kinds[r.kind] += 1
    print(f"data: {path.name}: {len(reports)} cumulative claims in {len(qs)} loss types "
          f"({', '.join(f'{v} {k}' for k, v in sorted(kinds.items()))}); {daily} Day rows "
          "left out")
    print(f"run time: {elapsed:.2f} s (load and fit: {fit.iterations} E-steps over "
          f"{len(qs)} loss types, {args.workers} worker(s)); log evidence "
          f"{fit.log_evidence:.1f}")
    print_biases(fit)
    print_trajectories(qs, fit, reports, SHOWN)

    if not args.no_plot:
        # The same filter with no bias learned, for comparison in the plot.
        zero = {q.name: fit_question((filt, q.enc, q.as_of, None, q.units, (0.5, 0.9)))
                for q in qs if q.name in SHOWN}
        plot(qs, fit, zero, reports, args.plot)
        shown = args.plot.relative_to(ROOT) if args.plot.is_relative_to(ROOT) else args.plot
        print(f"\nplot: {shown}")
    print(f"total: {time.perf_counter() - start:.2f} s including the printing and the plot")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
