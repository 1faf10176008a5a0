"""Simulated questions with a known truth, for calibration checks and benchmarks.

Sources behave as the *documentation* says their grade means (docs/model.md, "Grade table"): a
claim of a source of grade g is right with probability c_g and then lies N(0, σ_g²) from the
truth on the log scale; otherwise it is wrong and lies Cauchy(0, max(1, 2σ_g)) from it ("a
spread of at least a factor e", same page). A source reported as ``F`` ("cannot be judged")
really has a grade drawn uniformly from A–E.

The table and the wrong part's spread are re-declared here from the prose, not imported from
:mod:`models.credibility` or :mod:`models.encode` (project issue 13, point 6): a simulator that
read the model's own table would follow any change to it, so a calibration check built on it
could never fail on a wrong table. ``tests/models/test_calibration.py`` parses this module to
keep it so and shows that an inverted table in the model fails the check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np

from models.claims import Claim, Source

#: What docs/model.md says grade g means: (c_g, σ_g) = the share of a source's figures that are
#: valid and the log-scale spread of a valid one. Deliberately a copy of the prose values.
DOCUMENTED_GRADES: Final[dict[str, tuple[float, float]]] = {
    "A": (0.95, 0.10),
    "B": (0.85, 0.20),
    "C": (0.70, 0.35),
    "D": (0.50, 0.55),
    "E": (0.30, 0.80),
}
#: Smallest scale of a wrong figure's Cauchy error, in log units (docs/model.md: "a spread of
#: at least a factor e"); it is twice the grade's spread when that is larger.
DOCUMENTED_WRONG_SPREAD: Final = 1.0

TRUE_GRADES = tuple(DOCUMENTED_GRADES)


@dataclass(frozen=True, slots=True)
class SimulatedQuestion:
    """Claims about one quantity whose true value is known."""

    truth: float
    claims: tuple[Claim, ...]
    sources: tuple[Source, ...]
    true_grades: tuple[str, ...]


def draw_figure(rng: np.random.Generator, log_truth: float, grade: str) -> float:
    """One figure from a source of the given true grade, on the quantity's scale."""
    c, sigma = DOCUMENTED_GRADES[grade]
    if rng.random() < c:
        offset = float(rng.normal(0.0, sigma))
    else:
        offset = max(DOCUMENTED_WRONG_SPREAD, 2 * sigma) * float(rng.standard_cauchy())
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
