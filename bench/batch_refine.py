"""How far the batch fit's full-table phase leaves its answers from the full table's fixed point.

    .venv/bin/python bench/batch_refine.py [--archives synthetic sparse2 sparse3 population]
                                           [--questions 10000] [--sparse-questions 30000]

A large table is fitted first on a sample of its questions (the warm start, to convergence),
then on every claim. This compares, on archives with known truth, the answers after exactly
``N`` EM iterations on the full table (N = 1, 2, 3, 5, 10; two was the estimator's fixed number
before it iterated to convergence), the estimator as it is (``shipped``: until its convergence
test holds at ``tol`` = 1e-3 and every source is near its fixed point, with per-source SQUAREM
steps, models/batch/persource.py; ``plainEM``: plain EM to the ``tol`` test alone,
``accelerate=False``) and a fit without a warm start
(``cold``: EM from the priors on every claim, to 1e-7) with a *reference*: the same warm
start, then the full table iterated until the sources move by less than 1e-7 a step (cap 200),
its fixed point for every practical purpose. EM may reach another fixed point from the priors
than from the warm start: the ``cold`` row measures how far.

Per variant: the estimates' move from the reference, as a relative change (|Δ log value|) and as
a fraction of the reference's own 90 % half-width (what an editor sees against the printed
range: the share of questions moved by more than a tenth and a quarter of it); the change of the
90 % intervals' widths; the accuracy against the truth (median and mean |log error|); the 90 %
intervals' coverage with its Wilson 95 % interval; the sources' credibility and log-spread moves
(claim-weighted mean, max) and their gap (a shown credibility's distance from the reference's
in its own shown 90 % half-width: the largest, and how many sources beyond a quarter);
full-table EM iterations; the fit's CPU seconds (one run each: the
machine may be shared; compare within a run).

Archives: ``synthetic`` is bench/batch_synthetic.py's archive (seed 20241023), its first
``--questions`` × 10 claims, figures to 10 significant digits as its CSV writes them;
``sparse2``/``sparse3`` are bench/batch_sparse.py's simulator (seed 13) at 2 and 3 claims a
question, ``--sparse-questions`` questions so that the table takes a warm start (its own 3,000
are fitted whole and never refined); ``population`` is the Pasternack & Roth city populations
(bench/batch_population.py), 50,000 claims by 4,216 sources, which the estimator fits whole
(the sample would need 20 claims a source): it is run here with a *forced* warm start on every
third question, a stress test of the refining phase, not what ships.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from _common import ROOT  # (puts the repository on sys.path)

from models.batch import BatchEstimator, BatchFit, ClaimTable
from models.batch.loop import Outcome, QuestionSet, run_em
from models.batch.state import Params, SourcePrior

Z95 = 1.959963984540054


class Refine(BatchEstimator):
    """The estimator with the full table's phase chosen here.

    ``fixed`` N: exactly N iterations on the full table, no convergence test (the phase as it
    was before this bench); ``cap`` with ``full_tol``: at most ``cap`` iterations until the
    convergence test holds at ``full_tol``; neither: the estimator's own phase. ``stride``
    forces a warm start on every k-th question.
    """

    def __init__(self, *, fixed: int | None = None, cap: int | None = None,
                 full_tol: float | None = None, stride: int | None = None,
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.fixed = fixed
        self.cap = cap
        self.full_tol = full_tol
        self.stride = stride
        self.warm_iterations = 0
        self.full_iterations = 0

    def warm_stride(self, n: int, n_sources: int) -> int:
        return self.stride if self.stride is not None else super().warm_stride(n, n_sources)

    def learn(self, full: Callable[[], QuestionSet], sample: QuestionSet | None,
              params: Params, prior: SourcePrior,
              progress: Callable[[int, int], None] | None = None) -> Outcome:
        if self.fixed is None and self.cap is None:
            return super().learn(full, sample, params, prior, progress)
        hyper = self.hyper
        warm_iterations = 0
        if sample is not None:
            warm = run_em(sample, params, prior, replace(hyper, exact_contested=False),
                          done=0, max_iter=self.max_iter, refine_iter=self.refine_iter,
                          tol=self.tol, spreads=False)
            params, prior, warm_iterations = warm.params, warm.prior, warm.iterations
        if self.fixed is not None:
            out = run_em(full(), params, prior, hyper, done=warm_iterations,
                         max_iter=self.fixed, refine_iter=self.fixed, tol=self.tol)
        else:
            out = run_em(full(), params, prior, hyper, done=warm_iterations,
                         max_iter=self.cap or self.max_iter, refine_iter=self.refine_iter,
                         tol=self.full_tol if self.full_tol is not None else self.tol)
        self.warm_iterations = warm_iterations
        self.full_iterations = out.iterations - warm_iterations
        return out


@dataclass(frozen=True)
class Archive:
    name: str
    table: ClaimTable
    log_truth: np.ndarray  # (G,) log truth of the scored questions
    scored: np.ndarray  # (G,) their question codes
    stride: int | None


def synthetic(n_questions: int) -> Archive:
    from models.simulate_batch import simulate_archive

    a = simulate_archive(np.random.default_rng(20241023), n_questions=100_000)
    m = int(np.searchsorted(a.question, n_questions))
    value = np.array([float(f"{v:.10g}") for v in a.value[:m].tolist()])
    table = ClaimTable.from_columns([f"q{k}" for k in a.question[:m].tolist()],
                                    [f"s{k}" for k in a.source[:m].tolist()], ["point"] * m,
                                    value)
    codes = np.array([int(q[1:]) for q in table.question_ids])
    return Archive(f"synthetic {m:,} claims", table, np.log(a.truth[codes]),
                   np.arange(table.n_questions), None)


def sparse(k: int, n_questions: int, seed: int) -> Archive:
    import batch_sparse

    a = batch_sparse.simulate(np.random.default_rng([seed, k, 0]), n_questions, k, False)
    table = batch_sparse.table_of(a)
    return Archive(f"sparse k={k}, {table.n:,} claims", table, a.theta,
                   np.arange(a.theta.size), None)


def population(stride: int) -> Archive:
    import batch_population

    objects, sources, values, gold = batch_population.load(batch_population.DEFAULT_DATA)
    table = ClaimTable.from_columns(objects, sources, ["point"] * len(values), values)
    code = {qid: k for k, qid in enumerate(table.question_ids)}
    scored = [(code[o], v) for o, v in gold.items() if o in code]
    return Archive(f"population {table.n:,} claims, forced stride {stride}", table,
                   np.log([v for _, v in scored]), np.array([k for k, _ in scored]), stride)


def wilson(hits: int, n: int) -> tuple[float, float]:
    p = hits / n
    centre = (p + Z95 ** 2 / (2 * n)) / (1 + Z95 ** 2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95 ** 2 / (4 * n * n)) / (1 + Z95 ** 2 / n)
    return centre - half, centre + half


def fit(arch: Archive, **kwargs: object) -> tuple[BatchFit, float, int, int]:
    """The fit, its CPU seconds, and its warm start's and full table's iterations (the
    estimator's own phase: warm iterations -1, full iterations all of them)."""
    kwargs.setdefault("stride", arch.stride)
    est = Refine(**kwargs)  # type: ignore[arg-type]
    start = time.process_time()
    result = est.fit(arch.table, levels=(0.9,), scale="log")
    cpu = time.process_time() - start
    if est.fixed is None and est.cap is None:
        return result, cpu, -1, result.iterations
    return result, cpu, est.warm_iterations, est.full_iterations


def describe(arch: Archive, name: str, got: BatchFit, cpu: float, iters: int,
             ref: BatchFit) -> str:
    v, lo, hi = (np.log(a) for a in (got.questions.value, got.questions.low[:, 0],
                                    got.questions.high[:, 0]))
    rv, rlo, rhi = (np.log(a) for a in (ref.questions.value, ref.questions.low[:, 0],
                                       ref.questions.high[:, 0]))
    move = np.abs(v - rv)
    half = np.maximum((rhi - rlo) / 2, 1e-300)
    frac = move / half
    width = np.abs((hi - lo) / np.maximum(rhi - rlo, 1e-300) - 1)
    g = arch.scored
    known = np.isfinite(arch.log_truth)  # the population's gold has one city-year of 0
    err = np.abs(v[g] - arch.log_truth)[known]
    hits = int(np.sum((lo[g] <= arch.log_truth) & (arch.log_truth <= hi[g])))
    w_lo, w_hi = wilson(hits, g.size)
    people = ""
    if arch.name.startswith("population"):
        # As bench/batch_population.py scores it: MAE in people, share more than 1 % off.
        truth = np.exp(arch.log_truth)
        gap = np.abs(got.questions.value[g] - truth)
        people = f" | MAE {gap.mean():,.0f}, {np.mean(gap > 0.01 * truth):.1%} off by > 1 %"
    n_claims = ref.sources.n_claims.astype(float)
    dc = np.abs(got.sources.credibility - ref.sources.credibility)
    # The sources' gap: the shown credibility's distance from the reference in its own shown
    # 90 % half-width (what an editor sees against the printed range).
    shown = (got.sources.credibility_high - got.sources.credibility_low) / 2
    gap = dc / np.maximum(shown, 1e-300)
    ds = np.abs(np.log(got.sources.spread / ref.sources.spread))
    return (f"{name:>7} {iters:>4} | {np.median(move):8.2e} {np.quantile(move, 0.99):8.2e} "
            f"{move.max():8.2e} | {np.median(frac):7.4f} {np.quantile(frac, 0.99):6.3f} "
            f"{np.mean(frac > 0.1):6.2%} {np.mean(frac > 0.25):6.2%} | {np.median(width):6.2%} "
            f"| {np.median(err):.5f} {np.mean(err):.5f} | {hits / g.size:6.2%} "
            f"[{w_lo:.1%}, {w_hi:.1%}] | {n_claims @ dc / n_claims.sum():7.1e} {dc.max():6.4f} "
            f"{n_claims @ ds / n_claims.sum():7.1e} {ds.max():6.4f} | {gap.max():5.2f} "
            f"{int(np.sum(gap > 0.25)):4d} | {cpu:6.2f}{people}")


def run(arch: Archive, variants: list[int], cold: bool) -> None:
    one, five, _ = os.getloadavg()
    print(f"\n{arch.name}: {arch.table.n_questions:,} questions, {arch.table.n_sources:,} "
          f"sources, {arch.scored.size:,} scored; warm stride "
          f"{Refine(stride=arch.stride).warm_stride(arch.table.n, arch.table.n_sources)}; "
          f"load average {one:.1f} / {five:.1f}")
    ref, ref_cpu, warm, ref_iters = fit(arch, cap=200, full_tol=1e-7)
    print(f"reference: {warm} warm-start and {ref_iters} full-table iterations, converged "
          f"{ref.converged}, {ref_cpu:.2f} s CPU")
    print("variant iter | move |Δlog v|: median p99 max | /half-width: median p99 >0.1 >0.25 "
          "| Δwidth med | |log err| median mean | cov90 [Wilson 95 %] | Δc mean max, "
          "Δlogσ mean max | source gap /half-width: max, n > 0.25 | CPU s")
    print(describe(arch, "ref", ref, ref_cpu, ref_iters, ref))
    for n in variants:
        got, cpu, _, iters = fit(arch, fixed=n)
        print(describe(arch, f"N={n}", got, cpu, iters, ref), flush=True)
    # No warm start: the whole table's EM from the priors, to the reference's tolerance
    # (EM may reach another of the likelihood's fixed points from there).
    if cold:
        got, cpu, _, iters = fit(arch, cap=300, full_tol=1e-7, stride=0)
        print(describe(arch, "cold", got, cpu, iters, ref), flush=True)
    # The estimator as it is (iterations: the full table's E-steps when it took a warm start;
    # per-source SQUAREM and stopping rule), then plain EM.
    for name, accelerate in (("shipped", True), ("plainEM", False)):
        got, cpu, _, total = fit(arch, accelerate=accelerate)
        print(describe(arch, name, got, cpu, total - warm, ref), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--archives", nargs="+",
                        default=["synthetic", "sparse2", "sparse3", "population"])
    parser.add_argument("--questions", type=int, default=10_000,
                        help="synthetic questions (x 10 claims)")
    parser.add_argument("--sparse-questions", type=int, default=30_000)
    parser.add_argument("--variants", type=int, nargs="+", default=[1, 2, 3, 5, 10])
    parser.add_argument("--no-cold", action="store_true",
                        help="skip the fit without a warm start (to 1e-7 from the priors)")
    args = parser.parse_args()
    print(f"({ROOT.name})")
    for name in args.archives:
        if name == "synthetic":
            arch = synthetic(args.questions)
        elif name.startswith("sparse"):
            arch = sparse(int(name[6:]), args.sparse_questions, 13)
        elif name == "population":
            arch = population(3)
        else:
            raise SystemExit(f"unknown archive {name}")
        run(arch, args.variants, not args.no_cold)


if __name__ == "__main__":
    main()
