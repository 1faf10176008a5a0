"""Simulation with known truth: intervals built from the grade table cover at nominal rates.

The simulator (:mod:`models.simulate`) draws claims from the grade meanings written in
docs/model.md, re-declared in its own table, never from the model's (project issue 13, point 6):
a check that reads the model's table could not fail when that table is wrong. The last test
shows that it now can: an inverted table put into the model fails the coverage check.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from models import credibility
from models.reconcile import reconcile
from models.simulate import simulate_question

#: 300 questions: the binomial standard error of a 90 % coverage is 0.017 and of a 50 % coverage
#: 0.029; the bands are ±3 standard errors around the nominal rates.
QUESTIONS = 300
BAND_90 = (0.85, 0.95)
BAND_50 = (0.41, 0.59)
SIMULATOR = Path(__file__).resolve().parents[2] / "models" / "simulate.py"


def coverage(seed: int, grades: tuple[str, ...] = ("A", "B", "C", "D", "E", "F")
             ) -> tuple[float, float]:
    """Share of 50 % and 90 % intervals that hold the truth over ``QUESTIONS`` questions."""
    rng = np.random.default_rng(seed)
    hits50 = hits90 = 0
    for _ in range(QUESTIONS):
        q = simulate_question(rng, int(rng.integers(2, 7)), grades)
        iv50, iv90 = reconcile(q.claims, q.sources, levels=(0.5, 0.9)).estimate.intervals
        hits50 += iv50.low <= q.truth <= iv50.high
        hits90 += iv90.low <= q.truth <= iv90.high
    return hits50 / QUESTIONS, hits90 / QUESTIONS


def covered(cover50: float, cover90: float) -> bool:
    return BAND_90[0] <= cover90 <= BAND_90[1] and BAND_50[0] <= cover50 <= BAND_50[1]


def test_intervals_cover_the_truth_at_nominal_rates() -> None:
    cover50, cover90 = coverage(20241023)
    assert covered(cover50, cover90), (cover50, cover90)


def test_the_simulator_does_not_read_the_models_parameters() -> None:
    """Only the claim and source types come from the model, never a parameter module."""
    tree = ast.parse(SIMULATOR.read_text(encoding="utf-8"))
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    modules |= {a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for a in node.names}
    assert {m for m in modules if m and m.startswith("models")} == {"models.claims"}


def test_an_inverted_grade_table_in_the_model_fails_the_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A wrong table must be caught: A read as E, B as D, ... (mutated in place, so a
    simulator that shared the model's table object would be inverted with it and pass)."""
    table = credibility.GRADE_TABLE
    inverted = dict(zip(table, reversed(list(table.values())), strict=True))
    for grade, value in inverted.items():
        monkeypatch.setitem(table, grade, value)
    assert credibility.profile_from_grade("A").components[0].c == 0.30
    cover50, cover90 = coverage(20241023, ("A", "B", "C", "D", "E"))
    assert not covered(cover50, cover90), (cover50, cover90)


def test_simulation_is_reproducible_from_the_generator() -> None:
    a = simulate_question(np.random.default_rng(1), 4)
    b = simulate_question(np.random.default_rng(1), 4)
    assert a == b
