"""Where one batch fit's time goes, per function and per E-step (cProfile).

    .venv/bin/python bench/batch_profile.py [--archive synthetic|sparse2|sparse3]
                                            [--questions 10000] [--top 25]

Fits bench/batch_refine.py's archives (``synthetic``: the first ``--questions`` × 10 claims of
bench/batch_synthetic.py's archive; ``sparseK``: bench/batch_sparse.py's simulator at K claims a
question, ``--questions`` questions) with the shipped estimator under cProfile and prints the
functions by own time and by cumulative time, with the E-steps counted, so that a change to the
E-step can be aimed where the time goes (session 12: the exact posterior's panels, 93-98 % of
the fit; docs/benchmarks.md). cProfile inflates the cost of many small calls; compare CPU
seconds without it (bench/batch_refine.py) before and after a change.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time

from _common import ROOT  # noqa: F401  (puts the repository on sys.path)
from batch_refine import sparse, synthetic

from models.batch import BatchEstimator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archive", default="synthetic")
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    if args.archive == "synthetic":
        arch = synthetic(args.questions)
    else:
        arch = sparse(int(args.archive[6:]), args.questions, 13)
    steps = [0]

    def count(_done: int, _total: int) -> None:
        steps[0] += 1

    profile = cProfile.Profile()
    start = time.process_time()
    profile.enable()
    fit = BatchEstimator().fit(arch.table, levels=(0.9,), scale="log", progress=count)
    profile.disable()
    cpu = time.process_time() - start
    one, five, _ = os.getloadavg()
    print(f"{arch.name}: {steps[0]} E-steps (warm start included), converged {fit.converged}, "
          f"{cpu:.2f} s CPU under cProfile ({cpu / max(steps[0], 1) * 1e3:.0f} ms an E-step); "
          f"load average {one:.1f} / {five:.1f}")
    for key in ("tottime", "cumulative"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(key).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
