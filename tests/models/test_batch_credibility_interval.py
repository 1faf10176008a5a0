"""A source's 90 % credibility interval in the batch fit covers its true credibility.

Project issue 13 ("learned credibility"): the interval read the final E-step's expected right
and wrong counts as if the claims' labels were observed, and covered a source's true
credibility 58-85 % of the time on a reviewer's simulations. The simulator here is the test's
own: it draws sources, truths and claims from its own distributions and reads nothing of the
model's parameters.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.batch import BatchEstimator, ClaimTable
from models.credibility import SourceProfile, profile_for
from tests.tolerances import CREDIBILITY_COVERAGE_BAND

N_SOURCES = 30
#: Questions per archive: about 100 claims a source at two claims a question.
N_QUESTIONS = 1500
#: Archives per population and claim count.
SEEDS = range(6)


def _credibilities(population: str, rng: np.random.Generator) -> np.ndarray:
    """True credibilities: Beta(17, 3) (mean 0.85), or a few poor sources among good ones."""
    if population == "beta":
        return rng.beta(17.0, 3.0, N_SOURCES)
    c = rng.beta(30.0, 3.0, N_SOURCES)
    c[:4] = rng.uniform(0.4, 0.5, 4)
    return c


def _archive(population: str, k: int, seed: int) -> tuple[ClaimTable, np.ndarray]:
    """k claims by distinct sources on each question; right claims N(θ, σ_s²) on the log scale
    with σ_s log-uniform in [0.05, 0.2], wrong ones uniform within ±2 of θ (a factor e²)."""
    rng = np.random.default_rng([2026, k, seed, len(population)])
    c = _credibilities(population, rng)
    sigma = np.exp(rng.uniform(math.log(0.05), math.log(0.2), N_SOURCES))
    theta = rng.uniform(math.log(100.0), math.log(1e7), N_QUESTIONS)
    src = np.argsort(rng.random((N_QUESTIONS, N_SOURCES)), axis=1)[:, :k]
    right = rng.random(src.shape) < c[src]
    noise = np.where(right, sigma[src] * rng.standard_normal(src.shape),
                     rng.uniform(-2.0, 2.0, src.shape))
    q = np.repeat(np.arange(N_QUESTIONS), k)
    table = ClaimTable.from_columns([f"q{j}" for j in q], [f"s{j}" for j in src.reshape(-1)],
                                    ["point"] * q.size,
                                    np.exp(theta[:, None] + noise).reshape(-1))
    order = np.array([int(name[1:]) for name in table.source_ids])
    return table, c[order]


@pytest.mark.slow
@pytest.mark.parametrize("k", [2, 3])
def test_the_credibility_interval_covers_the_true_credibility(k: int) -> None:
    covered = total = 0
    for population in ("beta", "bimodal"):
        for seed in SEEDS:
            table, c = _archive(population, k, seed)
            sources = BatchEstimator(rounding="none").fit(table, levels=(0.9,),
                                                          scale="log").sources
            covered += int(np.sum((sources.credibility_low <= c)
                                  & (c <= sources.credibility_high)))
            total += c.size
    low, high = CREDIBILITY_COVERAGE_BAND
    assert low <= covered / total <= high, f"{covered} of {total} covered"


def _awkward_archives() -> dict[str, tuple[ClaimTable, dict[str, SourceProfile] | None]]:
    """Archives where the estimate and the interval could part: sources seen once, sources
    always contradicted, graded priors the data disown, echoes, two-claim questions only."""
    rng = np.random.default_rng(7)
    out: dict[str, tuple[ClaimTable, dict[str, SourceProfile] | None]] = {}
    # Every question a pair that disagrees by a factor 3 to 20: no label is ever resolved.
    n = 40
    pairs = np.exp(np.column_stack([rng.uniform(5, 9, n), rng.uniform(5, 9, n)])
                   + np.column_stack([np.zeros(n), rng.choice([-1, 1], n)
                                      * rng.uniform(1.1, 3.0, n)]))
    src = np.column_stack([rng.integers(0, 4, n), rng.integers(4, 8, n)])
    out["contradicting pairs"] = (ClaimTable.from_columns(
        [f"q{j}" for j in np.repeat(np.arange(n), 2)], [f"s{j}" for j in src.reshape(-1)],
        ["point"] * 2 * n, pairs.reshape(-1)), None)
    # Three agreeing sources, a liar always a factor 10 off, a newcomer seen once.
    theta = np.exp(rng.uniform(4, 10, 30))
    q = [f"q{j}" for j in range(30) for _ in range(4)] + ["q0"]
    s = ["a", "b", "c", "liar"] * 30 + ["new"]
    v = [float(t * f) for t in theta
         for f in (*np.exp(0.05 * rng.standard_normal(3)), 10.0)] + [float(theta[0] * 1.01)]
    table = ClaimTable.from_columns(q, s, ["point"] * len(q), v)
    out["liar and newcomer"] = (table, None)
    # The same archive with grades the data contradict: the liar graded A, the others E.
    out["grades disowned"] = (table, {"liar": profile_for("A"), "a": profile_for("E"),
                                      "b": profile_for("E"), "new": profile_for("A")})
    # Echoes: two sources repeating one origin on every question (evidence weights ½).
    q2 = [f"q{j}" for j in range(25) for _ in range(3)]
    s2 = ["x", "y", "z"] * 25
    o2 = ["wire", "wire", ""] * 25
    v2 = [float(t * f) for t in np.exp(rng.uniform(3, 8, 25))
          for f in (1.0, 1.0, math.exp(rng.choice([-0.05, 1.5])))]
    out["echoes"] = (ClaimTable.from_columns(q2, s2, ["point"] * len(q2), v2, origin=o2), None)
    return out


@pytest.mark.parametrize("name", list(_awkward_archives()))
def test_the_estimate_lies_inside_its_own_interval(name: str) -> None:
    table, priors = _awkward_archives()[name]
    sources = BatchEstimator().fit(table, priors=priors).sources
    c, low, high = sources.credibility, sources.credibility_low, sources.credibility_high
    assert np.all((0.0 < low) & (low < c) & (c < high) & (high < 1.0)), (low, c, high)


def test_a_vanishing_prior_strength_gives_the_whole_unit_interval_without_overflow() -> None:
    """With κ → 0 the logit interval is unbounded; its ends are 0 and 1, read without an
    overflow warning (which pytest turns into an error)."""
    records = [
        {"question": str(q), "source": s, "kind": "point", "value": 100.0 + q + d}
        for q in range(20)
        for s, d in (("a", 0.0), ("b", 1.0))
    ]
    fit = BatchEstimator(pooled_strength=1e-6).fit(ClaimTable.from_records(records))
    assert np.all(fit.sources.credibility_low >= 0.0)
    assert np.all(fit.sources.credibility_high <= 1.0)
    assert np.all(fit.sources.credibility_low <= fit.sources.credibility)
    assert np.all(fit.sources.credibility <= fit.sources.credibility_high)
