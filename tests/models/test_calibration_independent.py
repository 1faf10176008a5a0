"""Calibration that can fail: coverage on data from a simulator that does not import the model.

``bench/independent_sim.py`` draws news-shaped claims with its own error model (project issue 13,
point 6); ``bench/calibrate_independent.py`` scores the single-question reconcile and batch
learning on it. Here: the simulator's independence (by its syntax tree), a seeded run of the
bench's core function where the model is well specified enough (the clean world, questions of
two or more claims), and the known gaps, each asserted to be *there*: when one of those
assertions fails the model has improved and the case belongs with the calibrated ones.
"""

from __future__ import annotations

import ast
import math
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from bench.calibrate_independent import Evaluation, Scores, evaluate
from bench.independent_sim import CLEAN, NewsWorld, simulate

SIMULATOR = Path(__file__).resolve().parents[2] / "bench" / "independent_sim.py"
#: What the simulator may import: numpy and the standard library, never the model.
ALLOWED_IMPORTS = {"__future__", "dataclasses", "math", "numpy", "typing"}

#: Questions per seeded run; at most ~1,000 single reconciles (2 ms each) plus one batch fit.
QUESTIONS = 1000
#: One-claim questions of the lone-claim case: the band's lower end is 87.7 %, the expected
#: coverage ~84 %, 4.7 standard errors apart.
LONE_QUESTIONS = 1500
SEED = 20241023


def band(nominal: float, n: int) -> tuple[float, float]:
    """nominal ± 3 binomial standard errors at n questions (a miss by chance: 0.3 %)."""
    se = math.sqrt(nominal * (1.0 - nominal) / n)
    return nominal - 3.0 * se, nominal + 3.0 * se


def assert_nominal_coverage(s: Scores) -> None:
    """The 90 % and the 50 % ranges each cover within :func:`band` of their level."""
    for nominal, cover in ((0.9, s.cover90), (0.5, s.cover50)):
        lo, hi = band(nominal, s.n)
        assert lo <= cover <= hi, (s, nominal, (lo, hi))


@cache
def run(world_name: str) -> Evaluation:
    world = {"clean": CLEAN, "full": NewsWorld()}[world_name]
    return evaluate(world, QUESTIONS, SEED)


def test_the_simulator_imports_nothing_from_the_model() -> None:
    tree = ast.parse(SIMULATOR.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import in the simulator"
            imported.add(node.module or "")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
            raise AssertionError("dynamic import in the simulator")
    tops = {name.split(".")[0] for name in imported}
    assert "models" not in tops
    assert tops <= ALLOWED_IMPORTS, tops - ALLOWED_IMPORTS
    assert "importlib" not in SIMULATOR.read_text(encoding="utf-8")


def test_the_simulation_is_reproducible_from_the_generator() -> None:
    a = simulate(np.random.default_rng(1), NewsWorld(), 50)
    b = simulate(np.random.default_rng(1), NewsWorld(), 50)
    assert np.array_equal(a.truth, b.truth)
    assert np.array_equal(a.value, b.value, equal_nan=True)
    assert np.array_equal(a.origin, b.origin)


def test_the_full_world_draws_every_kind_of_newsroom_claim() -> None:
    a = simulate(np.random.default_rng(2), NewsWorld(), 2000)
    k = a.n_claims
    assert 0.35 < float(np.mean(k == 1)) < 0.5 and int(k.max()) <= 20
    assert set(a.kind.tolist()) == {"point", "at_least", "at_most", "range"}
    assert {"exact", "none", "about", "could_be", "rumour"} == set(a.hedge.tolist())
    assert a.echo.any() and (a.origin[a.echo] == "").any() and (a.origin[a.echo] != "").any()
    assert "F" in set(a.declared.tolist())
    # Rounded figures: most points of 1,000 or more have at most two significant digits.
    points = a.value[(a.kind == "point") & (a.value >= 1000)]
    scaled = points / 10.0 ** (np.floor(np.log10(points)) - 1)
    assert float(np.mean(np.isclose(scaled, np.round(scaled)))) > 0.5


@pytest.mark.slow
def test_well_specified_questions_are_covered_at_nominal_rates() -> None:
    """Clean world (sources as their grades document), questions of two or more claims."""
    ev = run("clean")
    s = ev.scores("single", ev.archive.n_claims >= 2)
    assert_nominal_coverage(s)


@pytest.mark.slow
def test_a_lone_claim_is_covered_at_nominal_rates_when_well_specified() -> None:
    """Issue 13, point 6: one claim in the clean world (it covered ~84 % at 90 % before).

    By quadrature, a lone point of grade A-E whose error follows the documented meaning
    (c N(0, σ²) + (1 − c) Cauchy(0, 1)) was covered 88.8, 86.6, 83.4, 80.4 and 79.9 % by the
    robust model's 90 % range while the prior of θ, centred on the lone claim, had sd
    τ₀ = 2.5: it cut the tails of the wrong part, so the claim vouched for itself. With
    τ₀ = 10 the same quadrature gives 89.7, 89.0, 88.0, 86.5 and 83.5 % (and 87.2 % for an
    unjudged source), and this simulation covered 87.9 %, just inside the band. The log
    scale's prior is now flat (docs/model.md, "Prior"): 90.0 % at every grade by the closed
    form (tests/models/test_lone_claim_prior.py), 90.7 % in this simulation.
    """
    ev = evaluate(replace(CLEAN, claims_geometric=1.0), LONE_QUESTIONS, SEED, ("single",))
    s = ev.scores("single")
    assert s.n == LONE_QUESTIONS
    assert_nominal_coverage(s)


@pytest.mark.slow
def test_batch_covers_questions_of_three_or_more_claims_when_well_specified() -> None:
    """Batch learning in the clean world, questions of 3+ claims (a known gap until now).

    Independent sources that give a small count often give the *same* figure by chance, and
    the batch model read such agreement as exact copying: a figure rounded to one digit
    ("60") had the window [55, 65], a pooled exact share with no prior rose to ~0.3 where
    there is none, spreads came out about half the true ones and the 90 % ranges covered
    64-76 %. The exact share now has a Beta prior (mean 1 %, worth 100 tested right claims;
    models.batch, project issue 13, point 1), which closes the gap (89.5 % of 332).
    """
    ev = run("clean")
    s = ev.scores("batch", ev.archive.n_claims >= 3)
    lo90, hi90 = band(0.9, s.n)
    lo50, hi50 = band(0.5, s.n)
    assert lo90 <= s.cover90 <= hi90, (s, (lo90, hi90))
    assert lo50 <= s.cover50 <= hi50, (s, (lo50, hi50))


@pytest.mark.slow
@pytest.mark.parametrize("method", ["single", "batch"])
def test_known_gap_news_shaped_misspecification_undercovers(method: str) -> None:
    """Full world: 90 % ranges cover ~70-82 % (single) and ~72-75 % (batch) overall.

    The bench's diagnosis (one misspecification at a time) attributes it to sources whose
    true reliability differs from their declared grade, to the error all sources of a
    question share (it does not shrink with more claims), to heavy tails on lone claims, and
    for the batch to unnamed echoes read as exact agreement. When this assertion fails, move
    the case to the calibrated test.
    """
    s = run("full").scores(method)
    assert s.cover90 < band(0.9, s.n)[0], s


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
