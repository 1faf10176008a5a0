"""Calibration against an independent simulator: single-question and batch ranges on news data.

    .venv/bin/python bench/calibrate_independent.py [--questions 4000] [--ablation 1500]
                                                    [--seed 13] [--quick]

Project issue 13, point 6. :mod:`models.simulate` draws claims with the model's own grade table,
so the coverage it measures can only confirm the model's assumptions. Here the archive comes
from ``bench/independent_sim.py``, which imports nothing from ``models`` and draws claims the
way news produces them: heavy-tailed multiplicative errors, an error every source of a question
shares, biased outlets, grades declared by a noisy newsroom, one-sided exaggerations and slips
by powers of ten, echoes (most of them unnamed), rounding to 1–2 significant digits, hedges
that do not do what the model's table says, bounds and ranges; 1–3 claims per question
typical, up to 20.

The script prints

1. the full world: for the single-question reconcile (:func:`models.reconcile.reconcile`, the
   declared grades as reliability, named origins as ``origin``) and for batch learning
   (:class:`models.batch.BatchEstimator` over the whole archive, the declared grades as priors,
   F unrated), per number of claims on the question (1, 2, 3, 4, 5+): the share of 50 % and
   90 % intervals that hold the truth, the mean |log error| (MAE) and that of the naive
   baseline (the median of the claimed figures: a point's figure, a bound, a range's geometric
   middle), their ratio, and the run time;
2. the one-claim questions by declared grade and by kind (90 % coverage, single reconcile);
3. the diagnosis: the clean world (every misspecification off), each misspecification alone,
   and the full world, 90 % coverage of both methods by claims per question, so that what
   breaks the coverage is seen one cause at a time.

Coverage counts the *true* value (e^θ_q), not the figure the sources shared.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.independent_sim import (  # noqa: E402
    CLEAN,
    COMPONENTS,
    GRADE_LETTERS,
    KINDS,
    UNKNOWN,
    Archive,
    NewsWorld,
    simulate,
    with_only,
)
from models.batch import BatchEstimator, ClaimTable  # noqa: E402
from models.claims import Claim, Source  # noqa: E402
from models.credibility import profile_for  # noqa: E402
from models.reconcile import reconcile  # noqa: E402

FloatArray = NDArray[np.float64]

LEVELS = (0.5, 0.9)
#: Rows of the tables: (label, least, most) claims per question.
BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("1", 1, 1), ("2", 2, 2), ("3", 3, 3), ("4", 4, 4), ("5+", 5, 10**6), ("all", 1, 10**6))
METHODS = ("single", "batch")


@dataclass(frozen=True)
class Estimates:
    """A method's answers: value (Q,), interval ends low/high (Q, 2) at :data:`LEVELS`."""

    value: FloatArray
    low: FloatArray
    high: FloatArray
    seconds: float


@dataclass(frozen=True)
class Scores:
    """Coverage and error of one method on a set of questions.

    ``cover50``/``cover90`` over all ``n`` questions (a one-sided range counts when its end
    holds); ``mae`` and ``mae_naive`` (mean |log error|) over the ``n_figure`` of them where
    every method gave a figure.
    """

    n: int
    cover50: float
    cover90: float
    mae: float
    mae_naive: float
    n_figure: int

    @property
    def ratio(self) -> float:
        """MAE over the naive baseline's MAE (below 1: better than the median of claims)."""
        return self.mae / self.mae_naive if self.mae_naive > 0 else float("nan")


@dataclass(frozen=True)
class Evaluation:
    """An archive and every method's answers on it."""

    archive: Archive
    naive: FloatArray
    estimates: dict[str, Estimates]

    def scores(self, method: str, mask: NDArray[np.bool_] | None = None) -> Scores:
        """:class:`Scores` of ``method`` on the questions in ``mask`` (default: all)."""
        a, est = self.archive, self.estimates[method]
        keep = np.ones(a.truth.size, dtype=bool) if mask is None else mask
        truth = np.log(a.truth[keep])
        with np.errstate(divide="ignore"):
            low, high = np.log(est.low[keep]), np.log(est.high[keep])
        hits = (low <= truth[:, None]) & (truth[:, None] <= high)
        # Errors on the questions where every method gives a figure (not bounds alone).
        figured = self.figured[keep]
        err = np.abs(np.log(est.value[keep][figured]) - truth[figured])
        err_naive = np.abs(self.naive[keep][figured] - truth[figured])
        return Scores(
            n=int(keep.sum()),
            cover50=float(hits[:, 0].mean()) if hits.size else float("nan"),
            cover90=float(hits[:, 1].mean()) if hits.size else float("nan"),
            mae=float(err.mean()) if err.size else float("nan"),
            mae_naive=float(err_naive.mean()) if err.size else float("nan"),
            n_figure=int(figured.sum()),
        )

    @property
    def figured(self) -> NDArray[np.bool_]:
        """(Q,) whether every method gave a figure (a single question of bounds gives none)."""
        ok = np.ones(self.archive.truth.size, dtype=bool)
        for est in self.estimates.values():
            ok &= np.isfinite(est.value)
        return ok

    def bucket(self, label: str) -> NDArray[np.bool_]:
        """Questions whose number of claims falls in the :data:`BUCKETS` row ``label``."""
        _, least, most = next(b for b in BUCKETS if b[0] == label)
        k = self.archive.n_claims
        return (k >= least) & (k <= most)


def naive_estimate(a: Archive) -> FloatArray:
    """(Q,) log of the median of each question's claimed figures (a range: its middle)."""
    figure = np.where(a.kind == "range", np.sqrt(a.low * a.high), a.value)
    log_fig = np.log(figure)
    order = np.lexsort((log_fig, a.question))
    sorted_fig, k = log_fig[order], a.n_claims
    start = np.concatenate([[0], np.cumsum(k)[:-1]])
    lo, hi = start + (k - 1) // 2, start + k // 2
    return 0.5 * (sorted_fig[lo] + sorted_fig[hi])


def _number(x: float) -> float | None:
    return None if np.isnan(x) else float(x)


def single_estimates(a: Archive) -> Estimates:
    """Each question reconciled on its own with :func:`models.reconcile.reconcile`."""
    q_count = a.truth.size
    value = np.empty(q_count)
    low, high = np.empty((q_count, 2)), np.empty((q_count, 2))
    start = np.concatenate([[0], np.cumsum(a.n_claims)])
    began = time.perf_counter()
    for q in range(q_count):
        rows = range(int(start[q]), int(start[q + 1]))
        claims = [Claim(f"s{a.source[i]}", str(a.kind[i]),  # type: ignore[arg-type]
                        value=_number(a.value[i]), low=_number(a.low[i]),
                        high=_number(a.high[i]), hedge=str(a.hedge[i]),  # type: ignore[arg-type]
                        origin=str(a.origin[i]) or None) for i in rows]
        sources = [Source(f"s{s}", reliability=str(a.declared[s]))
                   for s in dict.fromkeys(int(a.source[i]) for i in rows)]
        result = reconcile(claims, sources, levels=LEVELS, scale="log")
        # Bounds alone give no figure and a one-sided range ("at least 720"): the missing end
        # is 0 or infinity, and the question has no error to score.
        value[q] = np.nan if result.estimate.value is None else result.estimate.value
        for j, interval in enumerate(result.estimate.intervals):
            low[q, j] = 0.0 if interval.low is None else interval.low
            high[q, j] = np.inf if interval.high is None else interval.high
    return Estimates(value, low, high, time.perf_counter() - began)


def batch_estimates(a: Archive) -> Estimates:
    """All questions at once with :class:`models.batch.BatchEstimator` (grades as priors)."""
    used, source = np.unique(a.source, return_inverse=True)
    source_ids = tuple(f"s{s}" for s in used)
    table = ClaimTable.from_columns(
        question=(a.question, tuple(f"q{q}" for q in range(a.truth.size))),
        source=(source.astype(np.int64), source_ids),
        kind=[str(k) for k in a.kind], value=a.value, low=a.low, high=a.high,
        hedge=[str(h) for h in a.hedge], origin=[str(o) or None for o in a.origin],
    )
    priors = {f"s{s}": profile_for(str(a.declared[s])) for s in used}
    began = time.perf_counter()
    fit = BatchEstimator().fit(table, priors=priors, levels=LEVELS, scale="log")
    seconds = time.perf_counter() - began
    return Estimates(fit.questions.value, fit.questions.low, fit.questions.high, seconds)


def evaluate(world: NewsWorld, n_questions: int, seed: int,
             methods: tuple[str, ...] = METHODS) -> Evaluation:
    """Draw an archive of ``world`` (seeded) and run ``methods`` on it.

    Parameters
    ----------
    world : NewsWorld
    n_questions : int
    seed : int
    methods : tuple of {"single", "batch"}

    Returns
    -------
    Evaluation
    """
    a = simulate(np.random.default_rng(seed), world, n_questions)
    run = {"single": single_estimates, "batch": batch_estimates}
    return Evaluation(a, naive_estimate(a), {m: run[m](a) for m in methods})


def _main_table(ev: Evaluation) -> None:
    print("claims | questions | method  cov50  cov90 |    MAE  naive  ratio (on n)")
    for label, _, _ in BUCKETS:
        mask = ev.bucket(label)
        for method in METHODS:
            s = ev.scores(method, mask)
            print(f"{label:>6} | {s.n:>9} | {method:<6} {s.cover50:6.1%} {s.cover90:6.1%} | "
                  f"{s.mae:6.3f} {s.mae_naive:6.3f} {s.ratio:6.2f} ({s.n_figure})")
    for method in METHODS:
        est = ev.estimates[method]
        print(f"run time {method}: {est.seconds:.1f} s "
              f"({est.seconds / ev.archive.truth.size * 1e3:.2f} ms per question)")


def _one_claim_table(ev: Evaluation) -> None:
    a = ev.archive
    one = ev.bucket("1")
    first = np.concatenate([[0], np.cumsum(a.n_claims)[:-1]])
    grade = a.declared[a.source[first]]
    kind = a.kind[first]
    cells = []
    for g in (*GRADE_LETTERS, UNKNOWN):
        s = ev.scores("single", one & (grade == g))
        cells.append(f"{g} {s.cover90:5.1%} (n={s.n})")
    print("one-claim questions, single cov90 by declared grade: " + ", ".join(cells))
    cells = []
    for k in KINDS:
        s = ev.scores("single", one & (kind == k))
        cells.append(f"{k} {s.cover90:5.1%} (n={s.n})")
    print("one-claim questions, single cov90 by kind:           " + ", ".join(cells))


def _ablation(n_questions: int, seed: int) -> None:
    labels = ("1", "2", "3", "4", "5+", "all")
    print(f"{'world':<14} | cov90 single: " + " ".join(f"{b:>5}" for b in labels)
          + " | cov90 batch: " + " ".join(f"{b:>5}" for b in labels)
          + " | MAE ratio single batch")
    worlds = {"clean": CLEAN, **{f"+ {c}": with_only(c) for c in COMPONENTS},
              "full": NewsWorld()}
    for name, world in worlds.items():
        ev = evaluate(world, n_questions, seed)
        single = [ev.scores("single", ev.bucket(b)) for b in labels]
        batch = [ev.scores("batch", ev.bucket(b)) for b in labels]
        print(f"{name:<14} | {'':14}" + " ".join(f"{s.cover90:5.1%}"[:5] for s in single)
              + f" | {'':13}" + " ".join(f"{s.cover90:5.1%}"[:5] for s in batch)
              + f" | {single[-1].ratio:17.2f} {batch[-1].ratio:5.2f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=int, default=4000,
                        help="questions of the full world (default 4000)")
    parser.add_argument("--ablation", type=int, default=1500,
                        help="questions per world of the diagnosis (default 1500)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--quick", action="store_true",
                        help="1,500 and 500 questions (under a minute)")
    args = parser.parse_args()
    if args.quick:
        args.questions, args.ablation = 1500, 500
    began = time.perf_counter()
    print(f"Independent simulator (bench/independent_sim.py), seed {args.seed}; "
          f"full world, {args.questions} questions")
    ev = evaluate(NewsWorld(), args.questions, args.seed)
    a = ev.archive
    print(f"{a.question.size} claims by {np.unique(a.source).size} sources; "
          f"{a.wrong.mean():.0%} blunders, {a.echo.mean():.0%} echoes "
          f"({(a.echo & (a.origin != '')).sum() / max(a.echo.sum(), 1):.0%} of them named)")
    _main_table(ev)
    _one_claim_table(ev)
    print(f"\nDiagnosis: each misspecification alone on the clean world, {args.ablation} "
          "questions each (same seed)")
    _ablation(args.ablation, args.seed)
    print(f"total {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
