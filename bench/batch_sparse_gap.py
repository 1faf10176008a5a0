"""Where the batch fit's MAE gap to the oracle comes from on sparse archives (issue 13).

    .venv/bin/python bench/batch_sparse_gap.py [--sizes 2] [--repeats 6] [--seed 13]
                                               [--questions 3000] [--draws 6]

On the archives of ``bench/batch_sparse.py`` (same simulator, seeds and oracle), fits
:class:`~models.batch.BatchEstimator` and re-runs the oracle -- the exact posterior median by a
dense grid -- with the true parameters replaced, one group at a time, by the learned ones:

* ``c``: the learned credibilities c_s, true spreads, no bias;
* ``σ β``: the true credibilities, learned spreads σ_s and biases β_s (the claims moved by −β_s);
* ``all``: every learned parameter (reproduces the batch fit's own MAE);
* ``floor``: the true credibilities plus independent N(0, F_s) noise, where F_s is the
  Cramér-Rao bound of c_s (below), averaged over ``--draws`` draws per archive: what an
  unbiased fit with no excess error in c_s would cost. A reference point, not a limit: a
  shrunk (biased) estimate can err less, and the figure scatters from archive to archive.

Each is printed as its MAE over the oracle's, pooled over ``--repeats`` archives.

The bound. With two claims per question and a flat prior on θ, the pair's likelihood depends
on the claims only through their difference d = y_a − y_b, whose density is
c_a c_b N(0, σ_a² + σ_b²) plus (1 − c_a c_b) times a Cauchy-like part that is the same whichever
claim is wrong (a Gaussian convolved with the wrong claims' Cauchy of scale 1 ≫ σ). So d
carries about c only what the hidden indicator z = "both right" does, z ~ Bernoulli(c_a c_b),
and the Fisher information of the c's is at most that of the z's,

    I_ab = Σ_q ∂p_q/∂c_a ∂p_q/∂c_b / (p_q (1 − p_q)),    p_q = c_a c_b,

summed over the questions; F_s = √[(I⁻¹)_ss] at the true c is a lower bound on the standard
error of any unbiased estimate of c_s from the archive (Cramér 1946; Rao 1945, Bull. Calcutta
Math. Soc. 37, 81-91). Printed beside it: sd(ĉ_s − c_s) of the fit.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.append(str(Path(__file__).resolve().parents[1]))

from batch_sparse import N_SOURCES, Archive, oracle, simulate, table_of  # noqa: E402

from models.batch import BatchEstimator  # noqa: E402

MEDIAN = np.array([0.5])


def fisher_floor(a: Archive, k: int) -> np.ndarray:
    """F_s, the Cramér-Rao bound of each c_s from the "both right" indicators (k = 2 only)."""
    if k != 2:
        raise ValueError("the bound is derived for two claims per question")
    pair = a.source.reshape(-1, 2)
    c = a.credibility
    p = c[pair[:, 0]] * c[pair[:, 1]]
    w = 1.0 / (p * (1.0 - p))
    # ∂p/∂c_a = c_b and ∂p/∂c_b = c_a.
    da, db = c[pair[:, 1]], c[pair[:, 0]]
    info = np.zeros((N_SOURCES, N_SOURCES))
    np.add.at(info, (pair[:, 0], pair[:, 0]), w * da * da)
    np.add.at(info, (pair[:, 1], pair[:, 1]), w * db * db)
    np.add.at(info, (pair[:, 0], pair[:, 1]), w * da * db)
    np.add.at(info, (pair[:, 1], pair[:, 0]), w * da * db)
    return np.asarray(np.sqrt(np.diag(np.linalg.inv(info))), dtype=np.float64)


def mae(a: Archive, k: int) -> float:
    """Sum of |oracle median − θ| over the archive's questions, under ``a``'s parameters."""
    return float(np.abs(oracle(a, k, MEDIAN)[:, 0] - a.theta).sum())


def row(k: int, n_questions: int, seed: int, repeats: int, draws: int) -> str:
    sums = dict.fromkeys(("batch", "oracle", "c", "σ β", "all", "floor"), 0.0)
    dc: list[np.ndarray] = []
    floor: list[np.ndarray] = []
    wall = 0.0
    for r in range(repeats):
        # The archives of bench/batch_sparse.py (same seed sequence).
        a = simulate(np.random.default_rng([seed, k, 0, r]), n_questions, k, False)
        start = time.perf_counter()
        fit = BatchEstimator().fit(table_of(a), levels=(0.5, 0.9), scale="log")
        wall += time.perf_counter() - start
        c, sigma, beta = fit.sources.credibility, fit.sources.spread, fit.sources.bias
        moved = a.y - beta[a.source]
        sums["batch"] += float(np.abs(np.log(fit.questions.value) - a.theta).sum())
        sums["oracle"] += mae(a, k)
        sums["c"] += mae(replace(a, credibility=c), k)
        sums["σ β"] += mae(replace(a, spread=sigma, y=moved), k)
        sums["all"] += mae(replace(a, credibility=c, spread=sigma, y=moved), k)
        dc.append(c - a.credibility)
        if k == 2:
            bound = fisher_floor(a, k)
            floor.append(bound)
            for d in range(draws):
                noise = np.random.default_rng([seed, r, d]).standard_normal(N_SOURCES)
                noisy = np.clip(a.credibility + bound * noise, 0.5, 1.0 - 1e-6)
                sums["floor"] += mae(replace(a, credibility=noisy), k) / draws
    base = sums["oracle"]
    gaps = " ".join(f"{name} {sums[name] / base - 1:+6.1%}"
                    for name in ("batch", "c", "σ β", "all", "floor") if sums[name] > 0)
    bound_txt = (f"{np.sqrt(np.mean(np.concatenate(floor) ** 2)):.4f}" if floor else "  -   ")
    return (f"{k:>2} | MAE oracle {base / (repeats * n_questions):.4f} | vs oracle: {gaps} | "
            f"sd(ĉ − c) {np.std(np.concatenate(dc)):.4f}, bound {bound_txt} | "
            f"fit {wall / repeats:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=6)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2])
    parser.add_argument("--draws", type=int, default=6,
                        help="noise draws per archive for the floor row (k = 2 only)")
    args = parser.parse_args()
    print(f"{args.repeats} x {args.questions} questions per row, {N_SOURCES} sources, "
          f"seed {args.seed}")
    for k in args.sizes:
        print(row(k, args.questions, args.seed, args.repeats, args.draws), flush=True)


if __name__ == "__main__":
    main()
