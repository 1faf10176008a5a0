"""Calibration of the grade → (credibility, spread) table by simulation with known truth.

Sources behave as their grades are documented (models/simulate.py, its own copy of the
table). For each scenario we reconcile many simulated questions and count how often the 50 %
and 90 % intervals contain the truth. A calibrated mapping covers at the nominal rates. The
named baseline is the same questions with every unknown-grade ("F") source treated as an
average source (grade C) instead of as the A–E mixture: the comparison shows why "cannot be
judged" must mean more uncertainty.

    .venv/bin/python bench/calibrate_grades.py [--questions N] [--seed S]
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from models.reconcile import reconcile
from models.simulate import simulate_question

SCENARIOS = {
    "graded A-E": ("A", "B", "C", "D", "E"),
    "all unknown (F)": ("F",),
    "mixed A-F": ("A", "B", "C", "D", "E", "F"),
}


def coverage(questions: int, seed: int, grades: tuple[str, ...], f_as: str | None
             ) -> tuple[float, float, float]:
    rng = np.random.default_rng(seed)
    hits50 = hits90 = 0
    log_err = []
    for _ in range(questions):
        q = simulate_question(rng, int(rng.integers(2, 7)), grades)
        sources = [
            replace(s, reliability=f_as) if (f_as and s.reliability == "F") else s
            for s in q.sources
        ]
        r = reconcile(q.claims, sources, levels=(0.5, 0.9), scale="log")
        iv50, iv90 = r.estimate.intervals
        hits50 += iv50.low <= q.truth <= iv50.high
        hits90 += iv90.low <= q.truth <= iv90.high
        log_err.append(abs(np.log(r.estimate.value / q.truth)))
    return hits50 / questions, hits90 / questions, float(np.median(log_err))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20241023)
    args = parser.parse_args()
    print(f"{args.questions} simulated questions per row, 2-6 point claims each, seed {args.seed}")
    print(f"{'scenario':<20}{'F treated as':<16}{'cover 50%':>10}{'cover 90%':>10}"
          f"{'median |log err|':>18}")
    for name, grades in SCENARIOS.items():
        for f_as in ([None, "C"] if "F" in grades else [None]):
            c50, c90, err = coverage(args.questions, args.seed, grades, f_as)
            label = "A-E mixture" if f_as is None else f"grade {f_as}"
            print(f"{name:<20}{label if 'F' in grades else '-':<16}{c50:>10.3f}{c90:>10.3f}"
                  f"{err:>18.3f}")


if __name__ == "__main__":
    main()
