"""Batch truth discovery on a simulated archive: accuracy, calibration, time and memory.

    .venv/bin/python bench/batch_synthetic.py [--questions 100000] [--seed 20241023] [--no-rasa]

(a) A simulated archive (models/simulate_batch.py): 1,000 sources with known noise, some biased,
    some sloppy, some adversarial, long-tail activity; 100,000 questions x 10 claims = 1M
    claims, written to CSV. ``triangulate batch`` runs on it as a separate process, end to end
    (start-up, parsing, fitting, writing); its wall time and peak memory come from os.wait4.
    Accuracy: |log error| against the known truth and the share of 90 % intervals that cover
    it.
(b) The same archive's first 100,000 claims through ``triangulate batch`` and through
    crowd-kit's RASA (in a separate environment, .venv-bench, created from
    bench/requirements-bench.txt when missing), each as a whole process: time ratio and error
    ratio (issue 15's target: RASA takes at least 50 times as long).
(c) The same 100,000 claims in this process: the batch fit (``BatchEstimator.fit`` on the
    claim table) against a bare-numpy CATD (bench/catd_numpy.py) on the same arrays, best of
    three each; issue 15's target: the fit within 3 times CATD's time.

``triangulate`` is the project's .venv entry point when there is one, else this interpreter
running the command's module (a worktree without its own environment). The project's modules
are byte-compiled first, as an installed package's are (pip and the container image compile
theirs, crowd-kit's included): with PYTHONDONTWRITEBYTECODE set, as on these machines, every
run would otherwise compile them again (50-80 ms), which no installation pays.

Files go to bench/out/ (ignored by git).
"""

from __future__ import annotations

import argparse
import compileall
import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import ROOT  # (puts the repository on sys.path)

from bench.catd_numpy import catd
from models.batch import BatchEstimator, ClaimTable
from models.simulate_batch import simulate_archive

OUT = ROOT / "bench" / "out"
BENCH_VENV = ROOT / ".venv-bench"
_ENTRY = ROOT / ".venv" / "bin" / "triangulate"
TRIANGULATE = ([str(_ENTRY)] if _ENTRY.exists()
               else [sys.executable, "-c", "import sys; from service.cli.main import main; "
                     "sys.exit(main())"])
#: Issue 15's targets: RASA's end-to-end time over the batch's, the batch fit's over CATD's.
RASA_TARGET = 50.0
CATD_TARGET = 3.0


@dataclass(frozen=True)
class Run:
    """One process run: wall and CPU seconds, peak resident memory (MiB) and exit status.

    On a shared machine the wall time depends on what else runs; the CPU time (user + system)
    is what the run would take on an idle core.
    """

    seconds: float
    cpu: float
    peak_mib: float
    status: int


#: Runs the measured command from a small fresh interpreter. Linux counts the memory of the
#: process that forked the command into the command's peak RSS (its pre-exec address space), so
#: forking from this script, which holds the simulated archive, would inflate the figure.
_MEASURE = """
import json, os, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps({"seconds": time.perf_counter() - start, "kib": usage.ru_maxrss,
                  "cpu": usage.ru_utime + usage.ru_stime,
                  "status": os.waitstatus_to_exitcode(status)}))
"""


def run_process(argv: list[str]) -> Run:
    """Run ``argv`` to completion; its wall time and own peak RSS (via wait4 in a helper)."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, *argv], capture_output=True,
                          text=True, check=True)
    if done.stderr:
        print(done.stderr, file=sys.stderr, end="")
    report = json.loads(done.stdout)
    return Run(report["seconds"], report["cpu"], report["kib"] / 1024.0, report["status"])


def write_claims(path: Path, question: np.ndarray, source: np.ndarray, value: np.ndarray) -> None:
    """CSV with question,source,kind,value; figures to 10 significant digits."""
    lines = [
        f"q{q},s{s},point,{v:.10g}"
        for q, s, v in zip(question.tolist(), source.tolist(), value.tolist(), strict=True)
    ]
    path.write_text("question,source,kind,value\n" + "\n".join(lines) + "\n")


def read_estimates(path: Path, n_questions: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """value, low, high per question code (NaN for missing)."""
    value = np.full(n_questions, np.nan)
    low = np.full(n_questions, np.nan)
    high = np.full(n_questions, np.nan)
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            k = int(row["question"][1:])
            value[k] = float(row["value"])
            if "low" in row and row["low"]:
                low[k] = float(row["low"])
                high[k] = float(row["high"])
    return value, low, high


def accuracy(value: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Median and mean |log error|."""
    err = np.abs(np.log(value / truth))
    return float(np.median(err)), float(np.mean(err))


def run_and_score(argv: list[str], out: Path, truth: np.ndarray) -> tuple[Run, tuple[float, float]]:
    """Run a tool (``argv``) that writes its estimates to ``out``; the run and the estimates'
    :func:`accuracy` against ``truth`` (one per question)."""
    run = run_process(argv)
    value, _, _ = read_estimates(out, truth.size)
    return run, accuracy(value, truth)


def ensure_bench_env() -> Path | None:
    """The .venv-bench interpreter with crowd-kit, creating the environment when missing."""
    python = BENCH_VENV / "bin" / "python"
    probe = [str(python), "-c", "import crowdkit.aggregation"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    print("creating .venv-bench with crowd-kit (bench/requirements-bench.txt) ...")
    subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-r",
                    str(ROOT / "bench" / "requirements-bench.txt")], check=True)
    ok = subprocess.run(probe, capture_output=True).returncode == 0
    return python if ok else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20241023)
    parser.add_argument("--no-rasa", action="store_true", help="skip the crowd-kit comparison")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for package in ("models", "service"):
        compileall.compile_dir(ROOT / package, quiet=1)

    archive = simulate_archive(np.random.default_rng(args.seed), n_questions=args.questions)
    n = archive.question.size
    full = OUT / "synthetic_claims.csv"
    write_claims(full, archive.question, archive.source, archive.value)
    print(f"(a) simulated archive: {args.questions:,} questions, {n:,} claims, 1,000 sources "
          f"(seed {args.seed}); {load_note()}")

    est = OUT / "synthetic_estimates.csv"
    run = run_process([*TRIANGULATE, "batch", str(full), "--level", "0.9", "--out", str(est)])
    value, low, high = read_estimates(est, args.questions)
    med, mean = accuracy(value, archive.truth)
    cover = float(np.mean((low <= archive.truth) & (archive.truth <= high)))
    baseline = median_error(archive.question, archive.value, archive.truth)
    print(f"    triangulate batch (CLI, end to end): {run.seconds:.2f} s wall ({run.cpu:.2f} s "
          f"CPU), peak {run.peak_mib:.0f} MiB, exit {run.status}")
    print(f"    |log error| median {med:.4f}, mean {mean:.4f} (plain median of the claims: "
          f"median {baseline[0]:.4f}, mean {baseline[1]:.4f})")
    print(f"    90 % intervals cover the truth {cover:.1%} of {args.questions:,} questions")

    # (b) The first 100,000 claims (the first 10,000 questions), both tools as whole processes.
    m = min(100_000, n)
    sub = OUT / "synthetic_claims_100k.csv"
    write_claims(sub, archive.question[:m], archive.source[:m], archive.value[:m])
    n_sub = int(archive.question[m - 1]) + 1
    truth = archive.truth[:n_sub]
    est_sub = OUT / "synthetic_estimates_100k.csv"
    ours, err_ours = run_and_score(
        [*TRIANGULATE, "batch", str(sub), "--level", "0.9", "--out", str(est_sub)], est_sub,
        truth,
    )
    print(f"(b) first {m:,} claims: triangulate batch {ours.seconds:.2f} s wall ({ours.cpu:.2f} s "
          f"CPU), peak {ours.peak_mib:.0f} MiB; |log error| median {err_ours[0]:.4f}, mean "
          f"{err_ours[1]:.4f}")
    fit_s, catd_s, passes, err_catd = fit_against_catd(archive, m, n_sub, truth)
    verdict = "pass" if fit_s <= CATD_TARGET * catd_s else "FAIL"
    print(f"(c) same claims in process, best of 3: batch fit {fit_s:.3f} s, bare-numpy CATD "
          f"{catd_s:.3f} s ({passes} passes to converge; |log error| median "
          f"{err_catd[0]:.4f}); fit/CATD {fit_s / catd_s:.2f}x (target <= {CATD_TARGET:.0f}x: "
          f"{verdict})")
    if args.no_rasa:
        return
    python = ensure_bench_env()
    if python is None:
        print("    crowd-kit could not be installed in .venv-bench; RASA skipped")
        return
    rasa_out = OUT / "rasa_estimates_100k.csv"
    rasa, err_rasa = run_and_score(
        [str(python), str(ROOT / "bench" / "rasa_run.py"), str(sub), str(rasa_out)], rasa_out,
        truth,
    )
    print(f"    crowd-kit RASA {rasa.seconds:.2f} s wall ({rasa.cpu:.2f} s CPU), peak "
          f"{rasa.peak_mib:.0f} MiB; |log error| median {err_rasa[0]:.4f}, mean "
          f"{err_rasa[1]:.4f}")
    wall_ratio = rasa.seconds / ours.seconds
    verdict = "pass" if wall_ratio >= RASA_TARGET else "FAIL"
    print(f"    ratios RASA/triangulate: time {wall_ratio:.1f}x wall, "
          f"{rasa.cpu / ours.cpu:.1f}x CPU (target >= {RASA_TARGET:.0f}x wall: {verdict}); "
          f"error {err_rasa[0] / err_ours[0]:.1f}x (median), "
          f"{err_rasa[1] / err_ours[1]:.1f}x (mean)")


def fit_against_catd(archive: object, m: int, n_sub: int, truth: np.ndarray
                     ) -> tuple[float, float, int, tuple[float, float]]:
    """Best-of-three seconds of the batch fit and of the bare-numpy CATD on the first ``m``
    claims, CATD's passes and its |log error|."""
    question = np.asarray(archive.question[:m], dtype=np.int64)  # type: ignore[attr-defined]
    source = np.asarray(archive.source[:m], dtype=np.int64)  # type: ignore[attr-defined]
    value = np.asarray(archive.value[:m], dtype=np.float64)  # type: ignore[attr-defined]
    # Codes as the CSV gives them (sources numbered in order of appearance do not matter).
    table = ClaimTable.from_columns([f"q{k}" for k in question.tolist()],
                                    [f"s{k}" for k in source.tolist()], ["point"] * m, value)
    y = np.log(value)
    fit_s = catd_s = float("inf")
    passes = 0
    theta = np.zeros(n_sub)
    for _ in range(3):
        start = time.process_time()
        BatchEstimator().fit(table, levels=(0.9,), scale="log")
        fit_s = min(fit_s, time.process_time() - start)
        start = time.process_time()
        theta, passes = catd(question, source, y)
        catd_s = min(catd_s, time.process_time() - start)
    return fit_s, catd_s, passes, accuracy(np.exp(theta[:n_sub]), truth)


def median_error(question: np.ndarray, value: np.ndarray, truth: np.ndarray
                 ) -> tuple[float, float]:
    """|log error| of each question's plain median, a reference point for the model."""
    from models.baselines import median_per_question

    est = np.exp(median_per_question(question, np.log(value), truth.size))
    return accuracy(est, truth)


def load_note() -> str:
    """The machine's load, since a shared 2-core machine makes timings noisy."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


if __name__ == "__main__":
    main()
