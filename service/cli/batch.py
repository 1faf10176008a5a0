"""``triangulate batch``: learn credibility from agreement across a file of claims.

    triangulate batch CLAIMS --level 0.9 --out ESTIMATES.csv [--sources SOURCES.csv]
                     [--engine {local,dask}] [--scheduler ADDRESS] [--partitions N]

Input: one claim per row, columns ``question,source,kind,value`` plus optional
``low,high,sd,hedge,origin,resolution``: a CSV file with a header, JSON Lines with those keys,
a Parquet file with those columns, or a directory of CSV or Parquet files read in name order
as one archive (chosen by extension or ``--format``). Output: one row per question,
``question,value,low,high,n_claims`` (``low_90,high_90,…`` when several levels are asked for)
plus ``n_sources`` and ``p_exact``, as CSV, JSON Lines or Parquet by the ``--out`` suffix or
``--format``; ``--sources-out`` also writes what was learned about each source.

``--engine local`` (the default) fits in this process; ``--engine dask`` on a Dask cluster
(:mod:`service.batch.dask_engine`) at ``--scheduler`` or ``$DASK_SCHEDULER_ADDRESS``, else on
a local cluster it starts and says so. Both give the same answers; the Dask engine writes the
questions partition by partition.

Reading and writing live in :mod:`service.cli.batch_files` and :mod:`service.batch`; this
module only declares the command and imports numpy and the model when the command runs, so
``triangulate --help`` and the other commands start light.

Exit status: 0 on success; 1 when the input is refused (the message names the file, line and
column); 2 for usage errors, unreadable files, an unreachable scheduler and ``--engine dask``
without dask installed.

Nothing here imports Flask: the command starts as fast as numpy does.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from service.cli.exit_codes import EXIT_OK, EXIT_REFUSED, EXIT_USAGE

__all__ = ["add_engine_arguments", "add_parser", "open_cluster", "run"]


# --- command ----------------------------------------------------------------------------------


def _level(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid level {raw!r}; must be a number") from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"invalid level {raw!r}; must lie in (0, 1)")
    return value


def _count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {raw!r}; must be an integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid count {raw!r}; must be at least 1")
    return value


def add_engine_arguments(parser: Any, what: str) -> None:
    """``--engine`` and ``--scheduler``, shared by ``batch`` and ``learn agreement``."""
    parser.add_argument("--engine", choices=("local", "dask"), default="local",
                        help=f"local: this process (default); dask: a Dask cluster, {what} "
                             "split into partitions of whole questions (same answers)")
    parser.add_argument("--scheduler", default=os.environ.get("DASK_SCHEDULER_ADDRESS") or None,
                        metavar="ADDRESS",
                        help="Dask scheduler for --engine dask (default: "
                             "$DASK_SCHEDULER_ADDRESS; without one a local cluster is started)")


def open_cluster(address: str | None, command: str) -> tuple[Any, Any] | int:
    """A Dask client and its closer, having said which cluster; else the exit status.

    Prints why on standard error when dask is missing or the scheduler cannot be reached.
    """
    from service.batch.dask_engine import DaskUnavailable, connect

    try:
        client, close, said = connect(address)
    except DaskUnavailable as exc:
        print(f"triangulate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"triangulate: cannot reach the Dask scheduler at {address}: {exc}",
              file=sys.stderr)
        return EXIT_USAGE
    print(f"triangulate {command}: {said}.", file=sys.stderr)
    return client, close


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
    batch.add_argument("claims", type=Path, metavar="CLAIMS",
                       help="claims, one per row: question,source,kind,value[,low,high,sd,"
                            "hedge,origin,resolution]: a CSV, JSON Lines or Parquet file, or "
                            "a directory of CSV or Parquet files (read in name order)")
    batch.add_argument("--out", type=Path, default=None, metavar="ESTIMATES.csv",
                       help="where to write one row per question (default: standard output)")
    batch.add_argument("--level", type=_level, action="append", dest="levels",
                       metavar="P", help="interval level in (0, 1); repeatable (default 0.9)")
    batch.add_argument("--sources", type=Path, default=None, metavar="SOURCES.csv",
                       help="priors: id,reliability[,type] with a grade A-F or a number")
    batch.add_argument("--sources-out", type=Path, default=None, metavar="LEARNED.csv",
                       help="also write each source's learned credibility, spread and bias")
    batch.add_argument("--format", choices=("csv", "jsonl", "parquet"), default=None,
                       help="input and output format (default: by file extension)")
    add_engine_arguments(batch, "the archive")
    batch.add_argument("--partitions", type=_count, default=None, metavar="N",
                       help="partitions of whole questions for --engine dask (default: one "
                            "per 250,000 claims, at least twice the workers' threads)")
    batch.add_argument("--scale", choices=("auto", "log", "linear"), default="auto",
                       help="working scale (default auto: log when every figure is positive)")


def run(args: argparse.Namespace) -> int:
    """Run ``triangulate batch`` with parsed arguments; returns the exit status."""
    from models.errors import ReconcileError
    from service.cli.batch_files import InputError, Progress

    progress = Progress()
    try:
        if args.engine == "dask":
            return _run_dask(args, progress)
        return _run_local(args, progress)
    except OSError as exc:
        progress.close()
        print(f"triangulate: cannot read or write {exc.filename or args.scheduler or ''}: "
              f"{exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:
        progress.close()
        print(f"triangulate: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except ReconcileError as exc:
        progress.close()
        column, _, row = (exc.field or "").partition(".")
        at = f" (line {int(row) + 2}, column {column})" if row.isdigit() else ""
        print(f"triangulate: {args.claims}{at}: {exc.message}", file=sys.stderr)
        return EXIT_REFUSED


def _formats(args: argparse.Namespace) -> tuple[str | None, str]:
    """The input format (None: by extension) and the output format."""
    from service.batch.inputs import file_format

    out = args.format or (file_format(args.out) if args.out is not None else "csv")
    return args.format, out


def _run_local(args: argparse.Namespace, progress: Any) -> int:
    from models.batch import BatchEstimator
    from models.errors import ReconcileError
    from service.batch.inputs import read_table
    from service.batch.outputs import EstimatesWriter
    from service.cli.batch_files import InputError, read_sources

    levels = tuple(args.levels or [0.9])
    in_fmt, out_fmt = _formats(args)
    progress.phase(f"reading {args.claims}")
    table, where = read_table(args.claims, in_fmt)
    priors = read_sources(args.sources) if args.sources is not None else None
    try:
        fit = BatchEstimator().fit(table, priors=priors, levels=levels, scale=args.scale,
                                   progress=progress.iteration)
    except ReconcileError as exc:
        column, _, row = (exc.field or "").partition(".")
        if not row.isdigit():
            raise
        raise InputError(f"{where(int(row))}, column {column}: {exc.message}") from None
    progress.phase("writing")
    with EstimatesWriter(args.out, out_fmt) as writer:
        writer.write(fit.questions)
    _finish(args, progress, fit.sources, fit.warnings)
    return EXIT_OK


def _run_dask(args: argparse.Namespace, progress: Any) -> int:
    from service.batch.dask_engine import fit_on_dask
    from service.batch.inputs import claim_files
    from service.batch.outputs import EstimatesWriter
    from service.cli.batch_files import InputError, read_sources

    levels = tuple(args.levels or [0.9])
    in_fmt, out_fmt = _formats(args)
    files, fmt = claim_files(args.claims, in_fmt)
    if fmt == "jsonl":
        raise InputError(f"{args.claims}: --engine dask reads CSV or Parquet, not JSON Lines.")
    priors = read_sources(args.sources) if args.sources is not None else None
    opened = open_cluster(args.scheduler, "batch")
    if isinstance(opened, int):
        progress.close()
        return opened
    client, close = opened
    try:
        with EstimatesWriter(args.out, out_fmt) as writer:
            fit = fit_on_dask(client, [p.resolve() for p in files], fmt, writer,
                              priors=priors, levels=levels, scale=args.scale,
                              partitions=args.partitions, progress=progress.iteration,
                              phase=progress.phase)
    finally:
        close()
    _finish(args, progress, fit.sources, fit.warnings)
    return EXIT_OK


def _finish(args: argparse.Namespace, progress: Any, sources: Any, warnings: Any) -> None:
    """Write the sources if asked, close the progress line and print the warnings."""
    from service.cli.batch_files import format_of, write_sources

    if args.sources_out is not None:
        given = args.format if args.format in ("csv", "jsonl") else None
        src_fmt = format_of(args.sources_out, given)
        with args.sources_out.open("w", encoding="utf-8", newline="") as out:
            write_sources(out, sources, src_fmt)
    progress.close()
    for warning in warnings:
        print(f"triangulate: warning: {warning.message}", file=sys.stderr)
