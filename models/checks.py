"""Checks of the arguments that several estimators share.

One function a check, so that every estimator refuses the same input with the same message
(the form of :mod:`models.errors`: what came, and what was expected).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from models.errors import InvalidParameterError


def check_levels(levels: Sequence[float]) -> tuple[float, ...]:
    """The interval levels as floats, each checked to be a number in (0, 1).

    Parameters
    ----------
    levels : sequence of float
        At least one.

    Returns
    -------
    tuple of float

    Raises
    ------
    InvalidParameterError
        With ``field`` = ``"levels"`` when there is none, and ``"levels.<j>"`` for a level that
        is not a number (booleans included) or lies outside (0, 1).
    """
    if len(levels) == 0:
        raise InvalidParameterError("At least one interval level is required.", "levels")
    out = []
    for j, q in enumerate(levels):
        if isinstance(q, bool) or not isinstance(q, int | float):
            raise InvalidParameterError(f"Invalid level {q!r}; must be a number.", f"levels.{j}")
        if not (math.isfinite(q) and 0.0 < q < 1.0):
            raise InvalidParameterError(f"Invalid level {q!r}; must lie in (0, 1).", f"levels.{j}")
        out.append(float(q))
    return tuple(out)
