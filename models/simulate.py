"""Simulated questions with a known truth, for calibration checks and benchmarks.

Sources behave exactly as their grade says (see :mod:`models.credibility`): a claim of a source
of grade g is right with probability c_g and then lies N(0, σ_g) from the truth on the log
scale; otherwise it is wrong and lies Cauchy(0, max(1, 2σ_g)) from it. A source reported as
``F`` ("cannot be judged") really has a grade drawn uniformly from A–E.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from models.claims import Claim, Source
from models.credibility import GRADE_TABLE
from models.encode import WRONG_SPREAD

TRUE_GRADES = tuple(GRADE_TABLE)


@dataclass(frozen=True, slots=True)
class SimulatedQuestion:
    """Claims about one quantity whose true value is known."""

    truth: float
    claims: tuple[Claim, ...]
    sources: tuple[Source, ...]
    true_grades: tuple[str, ...]


def draw_figure(rng: np.random.Generator, log_truth: float, grade: str) -> float:
    """One figure from a source of the given true grade, on the quantity's scale."""
    c, sigma = GRADE_TABLE[grade]
    if rng.random() < c:
        offset = float(rng.normal(0.0, sigma))
    else:
        offset = max(WRONG_SPREAD, 2 * sigma) * float(rng.standard_cauchy())
    # Wrong figures can land beyond floating point; clip to what a newsroom could be sent.
    return math.exp(min(max(log_truth + offset, -690.0), 690.0))


def simulate_question(
    rng: np.random.Generator,
    n_claims: int,
    stated_grades: tuple[str, ...] = ("A", "B", "C", "D", "E", "F"),
    log_range: tuple[float, float] = (math.log(100.0), math.log(1e6)),
) -> SimulatedQuestion:
    """A question with ``n_claims`` point claims from sources of random grades.

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness.
    n_claims : int
        Number of claims (one source each).
    stated_grades : tuple of str
        Grades to draw the sources' stated reliability from; ``F`` hides a true A–E grade.
    log_range : (float, float)
        The log of the truth is uniform on this interval.
    """
    log_truth = float(rng.uniform(*log_range))
    claims, sources, true_grades = [], [], []
    for i in range(n_claims):
        stated = str(rng.choice(stated_grades))
        true = str(rng.choice(TRUE_GRADES)) if stated == "F" else stated
        figure = draw_figure(rng, log_truth, true)
        sources.append(Source(f"s{i}", reliability=stated))
        claims.append(Claim(f"s{i}", "point", figure))
        true_grades.append(true)
    return SimulatedQuestion(math.exp(log_truth), tuple(claims), tuple(sources),
                             tuple(true_grades))
