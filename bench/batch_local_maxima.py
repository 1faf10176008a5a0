"""Does the accelerated batch fit end at plain EM's fixed point, and which of the two is higher?

    .venv/bin/python bench/batch_local_maxima.py [--questions 600] [--seeds 6 7] [--copies]

Draws archives of 1-3 point claims a question from the tiered simulator of
``bench/tiered_archive.py`` (or, with ``--copies``, bench/batch_copies.py's
without copies), fits :class:`~models.batch.BatchEstimator` with its defaults and plain EM
(``accelerate=False``) to tol 1e-7 from the same start, and prints per seed:

* E-steps (T/F: converged) and CPU seconds of each fit;
* the largest distance of a source's credibility from plain EM's, in plain EM's displayed 90 %
  half-widths, and of a question's value, in its 90 % half-widths;
* the objective EM ascends at both points: Σ_q log of question q's marginal likelihood (log Z_q
  of the E-step, log-sum-exp'd with its atoms' masses, :mod:`models.batch.em`) plus the sources'
  log-priors as the M-step (:func:`models.batch.sums.update_sources`) reads them -- c_s ~
  Beta(1 + κ c̄, 1 + κ (1 − c̄)), η_s ~ Beta(1 + κ_η η̄, 1 + κ_η (1 − η̄)), log σ_s ~ N(log σ̄, v),
  β_s ~ N(β̄_s, σ_s²/λ), and η̄'s own Beta prior -- at each point's own population (c̄, η̄, σ̄, v);
* the source furthest apart, at both points, with its true (c, σ) where the simulator knows it.

Plain EM's steps raise this objective at every iteration (checked on the copies archive of seed
2, 40 iterations); the population's update is an empirical-Bayes estimate, not its maximiser,
so it is the objective EM ascends only nearly. docs/batch.md has the figures.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from _common import ROOT
from scipy.special import betaln

from models.batch import BatchEstimator, BatchFit, ClaimTable
from models.batch.encode import encode
from models.batch.loop import LocalQuestions
from models.batch.state import Hyper, Params, SourcePrior

sys.path.insert(0, str(ROOT / "bench"))
from tiered_archive import tiered_archive  # noqa: E402


def log_evidence(local: LocalQuestions, params: Params, hyper: Hyper) -> float:
    """Σ_q log(Z_q + Σ_v M_v) of one E-step at ``params``."""
    local.start(params, hyper)
    post, enc = local.post, local.enc
    assert post is not None
    log_z = post.log_z.copy()
    if post.log_m.size:
        peak = log_z.copy()
        np.maximum.at(peak, enc.atom_q, post.log_m)
        total = np.exp(log_z - peak)
        np.add.at(total, enc.atom_q, np.exp(post.log_m - peak[enc.atom_q]))
        log_z = peak + np.log(total)
    return float(log_z.sum())


def log_prior(p: Params, prior: SourcePrior, fit: BatchFit, hyper: Hyper) -> float:
    """The sources' log-priors at the fit's own population (module docstring)."""
    pop = fit.population
    c0 = np.where(prior.rated, prior.c0, pop.credibility)
    kappa = np.where(prior.rated, hyper.graded_strength, hyper.pooled_strength)
    out = np.sum(kappa * c0 * np.log(p.c) + kappa * (1 - c0) * np.log(1 - p.c)
                 - betaln(1 + kappa * c0, 1 + kappa * (1 - c0)))
    a, e = hyper.exact_strength, pop.exact_share
    out += np.sum(a * e * np.log(p.eta) + a * (1 - e) * np.log(1 - p.eta)
                  - betaln(1 + a * e, 1 + a * (1 - e)))
    e0 = hyper.exact_share
    out += a * e0 * np.log(e) + a * (1 - e0) * np.log(1 - e)
    w = np.log(p.sigma) - np.log(np.where(prior.rated, prior.sigma0, pop.spread))
    v = pop.spread_dispersion
    out += np.sum(-w * w / (2 * v) - 0.5 * np.log(2 * np.pi * v))
    if hyper.learn_bias:
        var = p.sigma ** 2 / hyper.bias_strength
        out += np.sum(-(p.beta - prior.beta0) ** 2 / (2 * var) - 0.5 * np.log(2 * np.pi * var))
    return float(out)


def objective(est: BatchEstimator, table: ClaimTable, fit: BatchFit) -> float:
    """The objective (module docstring) at the fit's sources."""
    s = fit.sources
    p = Params(np.asarray(s.credibility), np.asarray(s.exact_share), np.asarray(s.spread),
               np.asarray(s.bias))
    local = LocalQuestions(encode(est.prepare(table, "log"), "log", est.rounding,
                                  est.hyper.prior_scale))
    _, prior = est.initial(table.source_ids, None)
    return log_evidence(local, p, est.hyper) + log_prior(p, prior, fit, est.hyper)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=600)
    parser.add_argument("--seeds", type=int, nargs="+", default=[6, 7])
    parser.add_argument("--copies", action="store_true",
                        help="bench/batch_copies.py's archive (no copies) instead")
    args = parser.parse_args()

    for seed in args.seeds:
        truth: tuple[np.ndarray, np.ndarray] | None = None
        if args.copies:
            from batch_copies import archive

            table, _, c, sigma, _ = archive(seed, args.questions, 0.0)
            truth = (c, sigma)
        else:
            table = tiered_archive(seed, args.questions)
        est = BatchEstimator()
        start = time.process_time()
        fast = est.fit(table, levels=(0.9,), scale="log")
        mid = time.process_time()
        ref = BatchEstimator(accelerate=False, tol=1e-7, max_iter=3000).fit(
            table, levels=(0.9,), scale="log")
        end = time.process_time()
        s, r = fast.sources, ref.sources
        half_c = (r.credibility_high - r.credibility_low) / 2
        off_c = np.abs(s.credibility - r.credibility) / half_c
        half_q = np.log(ref.questions.high[:, 0] / ref.questions.low[:, 0]) / 2
        off_q = np.abs(np.log(fast.questions.value / ref.questions.value)) / half_q
        j = int(np.argmax(off_c))
        f_fast, f_ref = objective(est, table, fast), objective(est, table, ref)
        known = "" if truth is None else f", true ({truth[0][j]:.3f}, {truth[1][j]:.4f})"
        print(f"seed {seed}: accelerated {fast.iterations} {'T' if fast.converged else 'F'} "
              f"{mid - start:.1f} s, plain {ref.iterations} {'T' if ref.converged else 'F'} "
              f"{end - mid:.1f} s; off {off_c.max():.3f} (credibility) {off_q.max():.3f} "
              f"(values); objective accelerated − plain {f_fast - f_ref:+.3f}; source "
              f"{s.ids[j]} ({s.n_claims[j]} claims) accelerated ({s.credibility[j]:.3f}, "
              f"{s.spread[j]:.4f}), plain ({r.credibility[j]:.3f}, {r.spread[j]:.4f}){known}",
              flush=True)


if __name__ == "__main__":
    main()
