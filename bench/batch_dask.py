"""The Dask batch engine against the local one on one synthetic archive: time and memory.

    .venv/bin/python bench/batch_dask.py [--claims 10000000] [--files 8] [--workers 2]
                                         [--memory 1.5GiB] [--sources 200] [--seed 5]
                                         [--skip-local]

Writes a synthetic archive of ``--claims`` claims (points, a quarter of them exact copies of
the truth, bounds and ranges; 1-8 claims a question, ``--sources`` sources of different
spreads and error rates) as a directory of ``--files`` Parquet files in a temporary
directory, then fits it twice, each in its own process:

* local: ``BatchEstimator`` in one process (the default engine of ``triangulate batch``);
* dask: :func:`service.batch.dask_engine.fit_on_dask` on a ``LocalCluster`` of ``--workers``
  worker processes with ``--memory`` each (one thread each), estimates written to Parquet.

and prints each one's wall time, its peak resident memory (the driver's, and each Dask worker
process's, from ``getrusage`` in that process), the ratio of the wall times and whether the
two fits agree (iterations, largest relative gap of the sources' credibility and spread).
The machine may be shared: say so beside the figures.
"""

from __future__ import annotations

import argparse
import json
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
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def run_local(folder: Path) -> dict[str, Any]:
    from models.batch import BatchEstimator
    from service.batch.inputs import read_table

    start = time.perf_counter()
    table, _ = read_table(folder)
    fit = BatchEstimator().fit(table, levels=(0.9,))
    return {"wall": time.perf_counter() - start, "driver_mib": _peak_mib(),
            "iterations": fit.iterations, "credibility": fit.sources.credibility.tolist(),
            "spread": fit.sources.spread.tolist(), "ids": list(fit.sources.ids),
            "claims": table.n, "questions": table.n_questions}


def run_dask(folder: Path, workers: int, memory: str, out: Path) -> dict[str, Any]:
    from distributed import Client, LocalCluster

    from service.batch.dask_engine import fit_on_dask
    from service.batch.inputs import claim_files
    from service.batch.outputs import EstimatesWriter

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           memory_limit=memory, dashboard_address=None)
    with cluster, Client(cluster) as client:
        start = time.perf_counter()
        files, fmt = claim_files(folder)
        with EstimatesWriter(out, "parquet") as writer:
            fit = fit_on_dask(client, files, fmt, writer, levels=(0.9,))
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
    done = subprocess.run(cmd, check=True, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--sources", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory", default="1.5GiB")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--skip-local", action="store_true")
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
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "claims"
        start = time.perf_counter()
        generate(folder, args.claims, args.files, args.sources, args.seed)
        print(f"archive: {args.claims:,} claims in {args.files} Parquet files "
              f"({time.perf_counter() - start:.0f} s to write)")
        dask = _child("dask", args, folder)
        print(f"dask  : {dask['wall']:8.1f} s, {dask['iterations']} iterations, "
              f"{dask['partitions']} partitions; driver peak {dask['driver_mib']:,.0f} MiB, "
              f"worker peaks {', '.join(f'{m:,.0f}' for m in dask['worker_mib'])} MiB "
              f"(limit {args.memory} each)")
        if args.skip_local:
            return
        local = _child("local", args, folder)
        print(f"local : {local['wall']:8.1f} s, {local['iterations']} iterations, "
              f"{local['questions']:,} questions; peak {local['driver_mib']:,.0f} MiB")
        gap = max(float(np.max(np.abs(np.array(dask[k]) - np.array(local[k]))
                               / np.abs(np.array(local[k]))))
                  for k in ("credibility", "spread"))
        print(f"ratio : dask/local wall time {dask['wall'] / local['wall']:.2f}; same sources "
              f"{dask['ids'] == local['ids']}, largest relative gap of credibility and spread "
              f"{gap:.1e}")


if __name__ == "__main__":
    main()
