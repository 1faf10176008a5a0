"""A simulated archive with known truth, for batch truth discovery tests and benchmarks.

Sources differ the way real ones do: most are honest with their own noise level, some are biased
(they inflate or deflate every figure by a fixed factor), some are sloppy, a few are adversarial
(mostly wrong, exaggerating), and activity has a long tail (a few sources make most claims,
most sources make a handful). On the log scale a right claim is θ + β_s + N(0, σ_s²); a wrong
claim is θ + Cauchy(0, 1), or for an adversarial source θ ± U(0.5, 2) (a factor 1.6 to 7.4 off).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Source behaviours and their shares of the sources.
BEHAVIOURS: Final[tuple[str, ...]] = ("honest", "biased", "sloppy", "adversarial")
SHARES: Final[tuple[float, ...]] = (0.70, 0.12, 0.12, 0.06)


@dataclass(frozen=True, slots=True)
class SimulatedArchive:
    """Claims about many questions with their true values and the sources' true behaviour.

    Attributes
    ----------
    question, source : (n,) int
        Codes of each claim's question and source.
    value : (n,) float
        The claimed figure (positive).
    truth : (Q,) float
        True value of each question.
    credibility, spread, bias : (S,) float
        Each source's true probability of a right claim, spread and bias (log units).
    behaviour : (S,) int
        Index into :data:`BEHAVIOURS`.
    """

    question: IntArray
    source: IntArray
    value: FloatArray
    truth: FloatArray
    credibility: FloatArray
    spread: FloatArray
    bias: FloatArray
    behaviour: IntArray


def simulate_archive(
    rng: np.random.Generator,
    n_questions: int = 100_000,
    claims_per_question: int = 10,
    n_sources: int = 1000,
    zipf: float = 1.1,
) -> SimulatedArchive:
    """Draw an archive (see the module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness.
    n_questions, claims_per_question, n_sources : int
        Sizes; each question gets claims from distinct sources (claims_per_question ≤
        n_sources).
    zipf : float
        Activity of the source of rank k is ∝ k^−zipf (a long tail).

    Returns
    -------
    SimulatedArchive
    """
    if claims_per_question > n_sources:
        raise ValueError("claims_per_question must not exceed n_sources")
    behaviour = rng.choice(len(BEHAVIOURS), size=n_sources, p=SHARES).astype(np.int64)
    credibility = np.select(
        [behaviour == 0, behaviour == 1, behaviour == 2, behaviour == 3],
        [rng.uniform(0.85, 0.99, n_sources), rng.uniform(0.8, 0.97, n_sources),
         rng.uniform(0.5, 0.8, n_sources), rng.uniform(0.1, 0.4, n_sources)],
    )
    spread = np.exp(rng.uniform(np.log(0.02), np.log(0.3), n_sources))
    spread = np.where(behaviour == 2, rng.uniform(0.3, 0.8, n_sources), spread)
    bias = np.where(behaviour == 1, rng.choice([-1.0, 1.0], n_sources)
                    * rng.uniform(0.1, 0.4, n_sources), 0.0)
    activity = 1.0 / np.arange(1, n_sources + 1) ** zipf
    activity = rng.permutation(activity / activity.sum())

    k = claims_per_question
    src = rng.choice(n_sources, size=(n_questions, k), p=activity)
    # Redraw repeated sources within a question until every row is distinct; a repeat is
    # redrawn uniformly, which only nudges the activity of the busiest sources.
    for _ in range(100):
        ordered = np.sort(src, axis=1)
        dup_rows = np.flatnonzero((ordered[:, 1:] == ordered[:, :-1]).any(axis=1))
        if dup_rows.size == 0:
            break
        sub = src[dup_rows]
        first = np.argsort(sub, axis=1, kind="stable")
        sorted_sub = np.take_along_axis(sub, first, axis=1)
        repeat = np.zeros_like(sub, dtype=bool)
        repeat_sorted = np.zeros_like(sorted_sub, dtype=bool)
        repeat_sorted[:, 1:] = sorted_sub[:, 1:] == sorted_sub[:, :-1]
        np.put_along_axis(repeat, first, repeat_sorted, axis=1)
        sub[repeat] = rng.integers(0, n_sources, int(repeat.sum()))
        src[dup_rows] = sub
    log_truth = rng.uniform(np.log(100.0), np.log(1e7), n_questions)
    question = np.repeat(np.arange(n_questions, dtype=np.int64), k)
    source = src.reshape(-1).astype(np.int64)
    theta = log_truth[question]
    right = rng.random(question.size) < credibility[source]
    noise = bias[source] + spread[source] * rng.standard_normal(question.size)
    adversarial = behaviour[source] == 3
    wrong_off = np.where(
        adversarial,
        rng.choice([-1.0, 1.0], question.size) * rng.uniform(0.5, 2.0, question.size),
        # Cauchy, squashed smoothly into ±30 (a factor e^30) so figures stay finite without
        # clipping many onto the same value.
        30.0 * np.tanh(rng.standard_cauchy(question.size) / 30.0),
    )
    y = theta + np.where(right, noise, wrong_off)
    return SimulatedArchive(
        question=question,
        source=source,
        value=np.exp(y),
        truth=np.exp(log_truth),
        credibility=credibility,
        spread=spread,
        bias=bias,
        behaviour=behaviour,
    )
