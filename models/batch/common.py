"""Array types, claim-kind and hedge codes, and numerical constants shared by the batch modules.

The claim-kind codes repeat those of :mod:`models.likelihood` so that importing the batch
package (and the batch command) does not pull in scipy, which costs a third of a second of
start-up; a test checks that both agree.
"""

from __future__ import annotations

import math
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from models.claims import HEDGE_NAMES, HEDGES

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: The working scale: log of the quantity, or the quantity centred and scaled per question.
Scale = Literal["log", "linear"]

KIND_POINT: Final = 0
KIND_AT_LEAST: Final = 1
KIND_AT_MOST: Final = 2
KIND_RANGE: Final = 3

#: The hedge named "none", the default of a claim without a hedge.
HEDGE_NONE: Final = HEDGE_NAMES.index("none")
#: Each hedge's factor h on a right claim's spread, indexed by hedge code.
HEDGE_SPREAD: Final = np.array([HEDGES[h].spread_factor for h in HEDGE_NAMES])
#: Each hedge's factor f on the odds of a wrong claim, indexed by hedge code.
HEDGE_WRONG: Final = np.array([HEDGES[h].wrong_factor for h in HEDGE_NAMES])

#: log √(2π), the Normal density's constant.
LOG_SQRT_2PI: Final = 0.5 * math.log(2.0 * math.pi)
#: log π, the Cauchy density's constant.
LOG_PI: Final = math.log(math.pi)
#: Narrowest rounding window on the working scale: two figures equal to ~12 digits agree.
MIN_WINDOW: Final = 1e-12
#: Smallest spread a source can learn (working units); keeps weights finite when a source's
#: right claims are all (nearly) identical to the consensus.
MIN_SPREAD: Final = 1e-4
#: Probabilities are kept in [EPS, 1 − EPS] so that logs stay finite.
EPS: Final = 1e-9
#: Lowest log-probability of a bound or range claim's kernels: a vanishing probability is
#: floored at e^−700 (about 1e−304, still a normal float) so that sums of logs stay finite.
LOG_FLOOR: Final = -700.0


def logit(x: FloatArray) -> FloatArray:
    """log(x / (1 − x)), elementwise."""
    return np.asarray(np.log(x) - np.log1p(-x), dtype=np.float64)


def logistic(x: FloatArray) -> FloatArray:
    """1 / (1 + e^(−x)) without overflow for any x (by tanh; scipy is not loaded with the
    package)."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * x)), dtype=np.float64)
