"""Figures that move: claims made at different times about a quantity that grows or drifts.

The static model (:mod:`models.reconcile`) pools every claim as one quantity. Here each claim
has a date and a horizon (the level on that date, or the eventual total), the question has
dynamics (``cumulative``: never decreasing; ``drifting``: a random walk on the working scale),
and a forward–backward filter over a θ grid × the claim dates gives the level on every date,
at any requested date, and the eventual total. See :mod:`models.dynamics.estimator` for the
model and :func:`models.dynamics.reconcile.reconcile_dynamic` for the entry point that takes
claims and sources.
"""

from models.dynamics.estimator import (
    DRIFT_GRID,
    DYNAMICS,
    DriftFit,
    DynamicEstimator,
    DynamicFit,
    Dynamics,
)
from models.dynamics.filter import ChainPosterior, forward_backward
from models.dynamics.kernels import step_kernel
from models.dynamics.reconcile import (
    DatedClaim,
    DatedEstimate,
    DynamicResult,
    reconcile_dynamic,
)
from models.dynamics.timeline import HORIZONS, DayLike, Horizon, Timeline, build_timeline

__all__ = [
    "DRIFT_GRID",
    "DYNAMICS",
    "HORIZONS",
    "ChainPosterior",
    "DatedClaim",
    "DatedEstimate",
    "DayLike",
    "DriftFit",
    "DynamicEstimator",
    "DynamicFit",
    "DynamicResult",
    "Dynamics",
    "Horizon",
    "Timeline",
    "build_timeline",
    "forward_backward",
    "reconcile_dynamic",
    "step_kernel",
]
