"""The data of the per-group bias model: its questions, its result and the E-step's jobs.

See :mod:`models.dynamics.bias` for the model and the symbols (β_s, b_i, τ_β, …).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Final, Literal, get_args

from models.dynamics.estimator import DynamicEstimator, DynamicFit
from models.dynamics.timeline import DayLike
from models.likelihood import EncodedClaims, FloatArray, IntArray
from models.result import Warning

Start = Literal["pairs", "zero"]
STARTS: Final[tuple[str, ...]] = get_args(Start)

#: One E-step job: the filter, the claims with their biases, dates, horizons, units, levels.
FitJob = tuple[DynamicEstimator, EncodedClaims, tuple[DayLike | None, ...],
               tuple[str, ...] | None, IntArray | None, tuple[float, ...]]
#: Something that maps a function over jobs, like the builtin ``map`` (or an executor's).
Mapper = Callable[[Callable[[FitJob], DynamicFit], Iterable[FitJob]], Iterable[DynamicFit]]


@dataclass(frozen=True, slots=True)
class BiasQuestion:
    """One moving quantity: its claims on the working scale, their dates and bias groups.

    Attributes
    ----------
    enc : EncodedClaims
        n claims, one credibility hypothesis each (graded or numeric sources).
    as_of : tuple of DayLike or None, length n
        Each claim's date.
    groups : tuple of str, length n
        Each claim's bias group.
    horizons : tuple of {"level", "total"}, length n, or None
        What each claim speaks of (None: all ``level``).
    units : (n,) int or None
        Evidence units 0..U−1 (echoes count once), as for the filter.
    name : str
        A label for reports.
    """

    enc: EncodedClaims
    as_of: tuple[DayLike | None, ...]
    groups: tuple[str, ...]
    horizons: tuple[str, ...] | None = None
    units: IntArray | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class GroupBias:
    """The learned bias of one group.

    Attributes
    ----------
    group : str
    bias : float
        β_s on the working scale (log units for counts); 0 for a reference group.
    se : float
        max(se_curvature, se_jackknife) (the curvature alone when the jackknife is undefined).
    se_curvature, se_jackknife : float
        See the module docstring; the jackknife is NaN when fewer than two quantities inform
        the group, both are 0 for a reference group.
    n_claims : int
        Claims of the group.
    n_questions : int
        Quantities where the group's claims meet another group's (only these inform β_s).
    reference : bool
    """

    group: str
    bias: float
    se: float
    se_curvature: float
    se_jackknife: float
    n_claims: int
    n_questions: int
    reference: bool

    @property
    def factor(self) -> float:
        """e^β: the factor by which the group's figures exceed the truth (log scale)."""
        return math.exp(self.bias)


@dataclass(frozen=True, slots=True)
class BiasFit:
    """Result of :meth:`SourceBiasEstimator.fit`.

    Attributes
    ----------
    groups : tuple of GroupBias
        One per group, sorted by name.
    fits : tuple of DynamicFit
        Each quantity's filter fit with the learned biases applied, in input order.
    iterations : int
        E-steps run (each followed by an M-step).
    converged : bool
        Whether the last EM step moved no β by more than the tolerance.
    changes : (iterations,) float
        max_s |F(β)_s − β_s| at each E-step (F: one EM step).
    log_evidence : float
        Σ_k log p(y_k | β) + Σ_{s∉R} log N(β_s; 0, τ_β²) at the last E-step, each quantity's
        evidence averaged over its (kept) drift candidates: compares fits of the same claims
        from different starts (same filter settings).
    warnings : tuple of Warning
    """

    groups: tuple[GroupBias, ...]
    fits: tuple[DynamicFit, ...]
    iterations: int
    converged: bool
    changes: FloatArray
    log_evidence: float
    warnings: tuple[Warning, ...]

    def of(self, group: str) -> GroupBias:
        """The entry of ``group``.

        Raises
        ------
        KeyError
            For a group not in the fit.
        """
        for entry in self.groups:
            if entry.group == group:
                return entry
        raise KeyError(group)

    @property
    def bias(self) -> dict[str, float]:
        """β_s by group."""
        return {g.group: g.bias for g in self.groups}


def fit_question(job: FitJob) -> DynamicFit:
    """One E-step: the filter on one quantity's claims (a module-level function, so that a
    process pool can run it)."""
    estimator, enc, as_of, horizons, units, levels = job
    return estimator.fit(enc, as_of, horizons, units=units, levels=levels)

