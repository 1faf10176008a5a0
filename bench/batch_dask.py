"""The Dask batch engine against the local one on synthetic archives: time and memory.

    .venv/bin/python bench/batch_dask.py [--claims 10000000] [--files F] [--workers 2]
                                         [--memory 1.5GiB] [--sources 200] [--seed 5]
                                         [--skip-local | --skip-dask]
    .venv/bin/python bench/batch_dask.py --find-local-limit 300000,1000000 [--limit 8GiB]
                                         [--run-limit] [--workers 2] [--memory 1.5GiB]

Writes a synthetic archive of ``--claims`` claims (points, a quarter of them exact copies of
the truth, bounds and ranges; 1-8 claims a question, ``--sources`` sources of different
spreads and error rates) as a directory of ``--files`` Parquet files (default one per 250,000
claims, at least 8) in a temporary directory, then fits it twice, each in its own process:

* local: ``BatchEstimator`` in one process (the default engine of ``triangulate batch``);
* dask: :func:`service.batch.dask_engine.fit_on_dask` on a local cluster
  (:func:`~service.batch.dask_engine.local_cluster`) of ``--workers`` worker processes with
  ``--memory`` each (one thread each), estimates written to Parquet.

and prints each one's wall time, its peak resident memory (the driver's, and each Dask worker
process's, its ``VmHWM``), the ratio of the wall times and whether the
two fits agree (iterations, largest relative gap of the sources' credibility and spread),
with the load average beside (the machine may be shared).

``--find-local-limit`` fits each of the listed sizes with both engines (same archive), then
finds the largest archive the local engine fits within ``--limit``: its peak resident memory
is taken as a + b·n, the line through the sizes' peaks (least squares), and the limit is
n* = (limit − a)/b, rounded down to 100,000 claims. With ``--run-limit`` an archive of n*
claims is then fitted by both engines, the Dask one with ``--memory`` per worker, so that
the extrapolation is checked against a measured peak.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def generate(folder: Path, n: int, files: int, n_sources: int, seed: int) -> None:
    """Write about ``n`` claims as ``files`` Parquet files (questions span files)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    per_q = rng.integers(1, 9, size=n // 4 + 1)
    per_q = per_q[: int(np.searchsorted(np.cumsum(per_q), n)) + 1]
    q = np.repeat(np.arange(per_q.shape[0]), per_q)[:n]
    truth = np.exp(rng.uniform(2.0, 14.0, per_q.shape[0]))[q]
    src = rng.integers(0, n_sources, size=q.shape[0])
    spread = rng.uniform(0.02, 0.4, n_sources)[src]
    wrong = rng.random(q.shape[0]) < rng.uniform(0.0, 0.3, n_sources)[src]
    u = rng.random(q.shape[0])
    noisy = truth * np.exp(np.where(wrong, rng.normal(0.0, 2.0, q.shape[0]),
                                    rng.normal(0.0, 1.0, q.shape[0]) * spread))
    # Four significant digits, as reported figures are.
    digits = 10.0 ** (np.floor(np.log10(noisy)) - 3)
    value = np.where(u < 0.25, np.round(truth), np.round(noisy / digits) * digits)
    kind = np.where(u < 0.25, "point", np.where(u < 0.33, "at_least",
                                                 np.where(u < 0.40, "range", "point")))
    value = np.where(kind == "at_least", np.round(0.8 * truth), value)
    low = np.where(kind == "range", np.round(0.75 * truth), np.nan)
    high = np.where(kind == "range", np.round(1.2 * truth), np.nan)
    value = np.where(kind == "range", np.nan, value)
    folder.mkdir(parents=True, exist_ok=True)
    order = rng.permutation(q.shape[0])  # claims of one question scattered over the files
    for k, rows in enumerate(np.array_split(order, files)):
        rows = np.sort(rows)
        pq.write_table(pa.table({
            "question": pa.array(np.char.add("q", q[rows].astype(str))),
            "source": pa.array(np.char.add("s", src[rows].astype(str))),
            "kind": pa.array(kind[rows]), "value": value[rows], "low": low[rows],
            "high": high[rows],
        }), folder / f"part{k:03d}.parquet")


def _peak_mib() -> float:
    """This process's peak resident memory, MiB.

    ``VmHWM`` of /proc, the high-water mark of the process's own address space:
    ``getrusage``'s ru_maxrss survives exec, so a child spawned by a process that had just
    written a 10M-claim archive reported that process's 1.4 GiB as its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def run_local(folder: Path) -> dict[str, Any]:
    from models.batch import BatchEstimator
    from service.batch.inputs import read_table

    start = time.perf_counter()
    table, _ = read_table(folder)
    print(f"  local {time.perf_counter() - start:7.1f} s: read", file=sys.stderr, flush=True)
    fit = BatchEstimator().fit(
        table, levels=(0.9,),
        progress=lambda k, n: print(f"  local {time.perf_counter() - start:7.1f} s: EM "
                                    f"iteration {k} of at most {n}", file=sys.stderr,
                                    flush=True) if k % 25 == 0 or k > 100 else None)
    return {"wall": time.perf_counter() - start, "driver_mib": _peak_mib(),
            "iterations": fit.iterations, "credibility": fit.sources.credibility.tolist(),
            "spread": fit.sources.spread.tolist(), "ids": list(fit.sources.ids),
            "claims": table.n, "questions": table.n_questions}


def run_dask(folder: Path, workers: int, memory: str, out: Path) -> dict[str, Any]:
    from distributed import Client

    from service.batch.dask_engine import fit_on_dask, local_cluster
    from service.batch.inputs import claim_files
    from service.batch.outputs import EstimatesWriter

    cluster = local_cluster(workers, memory)
    with cluster, Client(cluster) as client:
        start = time.perf_counter()
        files, fmt = claim_files(folder)
        def say(text: str) -> None:
            # On stderr, which the parent passes through: where a long run is.
            print(f"  dask {time.perf_counter() - start:7.1f} s: {text}", file=sys.stderr,
                  flush=True)

        with EstimatesWriter(out, "parquet") as writer:
            fit = fit_on_dask(client, files, fmt, writer, levels=(0.9,), phase=say,
                              progress=lambda k, n: say(f"EM iteration {k} of at most {n}")
                              if k % 25 == 0 or k > 100 else None)
        wall = time.perf_counter() - start
        peaks = client.run(_peak_mib)
    return {"wall": wall, "driver_mib": _peak_mib(), "worker_mib": sorted(peaks.values()),
            "iterations": fit.iterations, "credibility": fit.sources.credibility.tolist(),
            "spread": fit.sources.spread.tolist(), "ids": list(fit.sources.ids),
            "partitions": fit.n_partitions}


def _child(mode: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """Run one engine in a fresh process, so that each peak is its own."""
    cmd = [sys.executable, __file__, "--child", mode, "--folder", str(folder),
           "--workers", str(args.workers), "--memory", args.memory]
    done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _load() -> str:
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _mib(text: str) -> float:
    """``8GiB``, ``1.5GiB``, ``800MiB`` in MiB."""
    for unit, scale in (("GiB", 1024.0), ("MiB", 1.0)):
        if text.endswith(unit):
            return float(text[: -len(unit)]) * scale
    raise SystemExit(f"--limit: {text!r} is not a size in GiB or MiB")


def compare(args: argparse.Namespace, n: int, tmp: Path) -> tuple[dict[str, Any], ...]:
    """Write an archive of ``n`` claims and fit it with each engine; print both."""
    folder = tmp / f"claims{n}"
    files = args.files or max(8, math.ceil(n / 250_000))
    start = time.perf_counter()
    generate(folder, n, files, args.sources, args.seed)
    print(f"archive: {n:,} claims in {files} Parquet files "
          f"({time.perf_counter() - start:.0f} s to write); {_load()}", flush=True)
    if not args.skip_dask:
        dask = _child("dask", args, folder)
        print(f"dask  : {dask['wall']:8.1f} s, {dask['iterations']} iterations, "
              f"{dask['partitions']} partitions; driver peak {dask['driver_mib']:,.0f} MiB, "
              f"worker peaks {', '.join(f'{m:,.0f}' for m in dask['worker_mib'])} MiB "
              f"(limit {args.memory} each); {_load()}", flush=True)
    if args.skip_local:
        return (dask,)
    local = _child("local", args, folder)
    print(f"local : {local['wall']:8.1f} s, {local['iterations']} iterations, "
          f"{local['questions']:,} questions; peak {local['driver_mib']:,.0f} MiB; {_load()}",
          flush=True)
    if args.skip_dask:
        return (local,)
    gap = max(float(np.max(np.abs(np.array(dask[k]) - np.array(local[k]))
                           / np.abs(np.array(local[k]))))
              for k in ("credibility", "spread"))
    print(f"ratio : dask/local wall time {dask['wall'] / local['wall']:.2f}; same sources "
          f"{dask['ids'] == local['ids']}, largest relative gap of credibility and spread "
          f"{gap:.1e}", flush=True)
    return dask, local


def find_local_limit(args: argparse.Namespace, tmp: Path) -> None:
    """Both engines at each size; the local engine's peak extrapolated to ``--limit``."""
    sizes = [int(x) for x in args.find_local_limit.split(",")]
    if len(sizes) < 2:
        raise SystemExit("--find-local-limit needs at least two sizes")
    peaks = []
    for n in sizes:
        peaks.append(compare(args, n, tmp)[1]["driver_mib"])
    b, a = np.polyfit(np.array(sizes, dtype=float), np.array(peaks), 1)
    limit = _mib(args.limit)
    best = int((limit - a) / b) // 100_000 * 100_000
    print(f"local : peak ≈ {a:,.0f} MiB + {b * 1e6:,.0f} MiB per million claims "
          f"(least squares through {len(sizes)} sizes): within {args.limit}, about "
          f"{best:,} claims", flush=True)
    if args.run_limit:
        compare(args, best, tmp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=None)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory", default="1.5GiB")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--skip-local", action="store_true")
    parser.add_argument("--skip-dask", action="store_true",
                        help="the local engine only (the same seeded archive, so a Dask run "
                             "measured apart can be set beside it)")
    parser.add_argument("--find-local-limit", metavar="N,N,...", default=None)
    parser.add_argument("--limit", default="8GiB")
    parser.add_argument("--run-limit", action="store_true")
    parser.add_argument("--child", choices=("local", "dask"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "local":
        print(json.dumps(run_local(args.folder)))
        return
    if args.child == "dask":
        print(json.dumps(run_dask(args.folder, args.workers, args.memory,
                                  args.folder.parent / "estimates.parquet")))
        return
    print(f"{' '.join(sys.argv[1:]) or '(defaults)'}; {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if args.find_local_limit:
            if args.skip_local or args.skip_dask:
                raise SystemExit("--find-local-limit runs both engines")
            find_local_limit(args, Path(tmp))
        elif args.skip_local and args.skip_dask:
            raise SystemExit("--skip-local and --skip-dask leave nothing to run")
        else:
            compare(args, args.claims, Path(tmp))


if __name__ == "__main__":
    main()
