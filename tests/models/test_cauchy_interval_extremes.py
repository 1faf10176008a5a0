"""The Cauchy interval mass at ends near the limits of a double: finite, no warning, and equal to
scipy's (found by the stateful fuzzer: a range claim up to 2.3e16 on a resolved linear question
overflowed the product of its ends while learning track records, a 500)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import cauchy

from models.likelihood import log_cauchy_interval

#: scipy's sf/cdf differ from the closed form in the last few bits; far tails in the last ~12.
RTOL = 1e-9


def _reference(lo: float, hi: float) -> float:
    if lo >= 0:
        return float(np.log(cauchy.sf(lo) - cauchy.sf(hi)))
    if hi <= 0:
        return float(np.log(cauchy.cdf(hi) - cauchy.cdf(lo)))
    return float(np.log(cauchy.cdf(hi) - cauchy.cdf(lo)))


@pytest.mark.parametrize(
    ("lo", "hi"),
    [(1e-3, 2.3e16), (1e200, 1e300), (-1e300, -1e200), (-1e300, 1e300), (-1e300, 0.0),
     (0.5, 0.6), (-2.0, 3.0), (1e155, 2e155), (-1.7e308, 1.7e308)],
)
def test_mass_of_far_intervals_matches_scipy(lo: float, hi: float) -> None:
    value = log_cauchy_interval(np.array([lo]), np.array([hi]))[0]
    assert np.isfinite(value)
    assert value == pytest.approx(_reference(lo, hi), rel=RTOL)
