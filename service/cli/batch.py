"""``triangulate batch``: learn credibility from agreement across a file of claims.

    triangulate batch CLAIMS.csv --level 0.9 --out ESTIMATES.csv [--sources SOURCES.csv]

Input: one claim per row, columns ``question,source,kind,value`` plus optional
``low,high,sd,hedge,origin,resolution`` (CSV with a header, or JSON Lines with those keys;
chosen by extension or ``--format``). Output: one row per question, ``question,value,low,high,
n_claims`` (``low_90,high_90,…`` when several levels are asked for) plus ``n_sources`` and
``p_exact``; ``--sources-out`` also writes what was learned about each source.

Reading and writing live in :mod:`service.cli.batch_files`; this module only declares the
command
and imports numpy and the model when the command runs, so ``triangulate --help`` and the other
commands start light.

Exit status: 0 on success; 1 when the input is refused (the message names the file, line and
column); 2 for usage errors and unreadable files.

Nothing here imports Flask: the command starts as fast as numpy does.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from service.cli.exit_codes import EXIT_OK, EXIT_REFUSED, EXIT_USAGE

__all__ = ["add_parser", "run"]


# --- command ----------------------------------------------------------------------------------


def _level(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid level {raw!r}; must be a number") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"invalid level {raw!r}; must lie in (0, 1)")
    return value


def add_parser(commands: Any) -> None:
    """Register ``batch`` on the ``triangulate`` sub-command parser."""
    batch = commands.add_parser(
        "batch",
        help="learn source credibility from agreement across many questions in a claims file",
        description=(
            "Reconcile every question of a claims file at once, learning each source's "
            "credibility, spread and bias from how it agrees with the others."
        ),
    )
    batch.add_argument("claims", type=Path, metavar="CLAIMS.csv",
                       help="claims, one per row: question,source,kind,value[,low,high,sd,"
                            "hedge,origin,resolution] (CSV or JSON Lines)")
    batch.add_argument("--out", type=Path, default=None, metavar="ESTIMATES.csv",
                       help="where to write one row per question (default: standard output)")
    batch.add_argument("--level", type=_level, action="append", dest="levels",
                       metavar="P", help="interval level in (0, 1); repeatable (default 0.9)")
    batch.add_argument("--sources", type=Path, default=None, metavar="SOURCES.csv",
                       help="priors: id,reliability[,type] with a grade A-F or a number")
    batch.add_argument("--sources-out", type=Path, default=None, metavar="LEARNED.csv",
                       help="also write each source's learned credibility, spread and bias")
    batch.add_argument("--format", choices=("csv", "jsonl"), default=None,
                       help="input and output format (default: by file extension)")
    batch.add_argument("--scale", choices=("auto", "log", "linear"), default="auto",
                       help="working scale (default auto: log when every figure is positive)")


def run(args: argparse.Namespace) -> int:
    """Run ``triangulate batch`` with parsed arguments; returns the exit status."""
    from models.batch import BatchEstimator
    from models.errors import ReconcileError
    from service.cli.batch_files import (
        InputError,
        Progress,
        format_of,
        read_claims,
        read_sources,
        write_estimates,
        write_sources,
    )

    progress = Progress()
    levels = tuple(args.levels or [0.9])
    try:
        progress.phase(f"reading {args.claims}")
        table = read_claims(args.claims, args.format)
        priors = read_sources(args.sources) if args.sources is not None else None
    except OSError as exc:
        progress.close()
        print(f"triangulate: cannot read {exc.filename}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:
        progress.close()
        print(f"triangulate: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        fit = BatchEstimator().fit(table, priors=priors, levels=levels, scale=args.scale,
                                   progress=progress.iteration)
    except ReconcileError as exc:
        progress.close()
        column, _, row = (exc.field or "").partition(".")
        at = f" (line {int(row) + 2}, column {column})" if row.isdigit() else ""
        print(f"triangulate: {args.claims}{at}: {exc.message}", file=sys.stderr)
        return EXIT_REFUSED
    out_fmt = args.format or (format_of(args.out, None) if args.out is not None else "csv")
    progress.phase("writing")
    try:
        if args.out is None:
            write_estimates(sys.stdout, fit, out_fmt)
        else:
            with args.out.open("w", encoding="utf-8", newline="") as out:
                write_estimates(out, fit, out_fmt)
        if args.sources_out is not None:
            src_fmt = args.format or format_of(args.sources_out, None)
            with args.sources_out.open("w", encoding="utf-8", newline="") as out:
                write_sources(out, fit, src_fmt)
    except OSError as exc:
        progress.close()
        print(f"triangulate: cannot write {exc.filename}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_USAGE
    progress.close()
    for warning in fit.warnings:
        print(f"triangulate: warning: {warning.message}", file=sys.stderr)
    return EXIT_OK
