"""models.mixture_stats.range_reach: the few-ranges path (Python floats) and the array path
(numpy's safeguarded Newton) solve the same equation, and both solve it.

    Φ(z + w) − Φ(z − w) = t (2Φ(w) − 1),   z ≥ 0,

checked against scipy's brentq on the same equation, written here from the docstring.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import ndtr

import models.mixture_stats as ms
from tests.tolerances import RANGE_REACH_ABS

HALVES = np.array([1e-3, 0.05, 0.3, 1.0, 2.5, 6.0, 20.0])


def _brentq(half: float, t: float) -> float:
    target = t * (2.0 * ndtr(half) - 1.0)
    return float(brentq(lambda z: (ndtr(z + half) - ndtr(z - half)) - target, 0.0,
                        half + 40.0, xtol=1e-14))


@pytest.mark.parametrize("t", [0.05, 0.25, 0.5])
def test_few_and_many_ranges_give_the_same_reach(t: float) -> None:
    few = ms.range_reach(HALVES, t)
    assert HALVES.shape[0] <= ms.FEW_RANGES
    # Past FEW_RANGES the array solver runs on the same ranges, padded with copies.
    many = ms.range_reach(np.concatenate([HALVES, HALVES]), t)[: HALVES.shape[0]]
    np.testing.assert_allclose(few, many, rtol=0, atol=RANGE_REACH_ABS)
    reference = [_brentq(float(w), t) for w in HALVES]
    np.testing.assert_allclose(few, reference, rtol=0, atol=RANGE_REACH_ABS)
