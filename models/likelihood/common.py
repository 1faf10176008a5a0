"""Array types, claim-kind codes and the numerical limits every part of the likelihood shares.

The kinds are coded as integers so that the kernels can index and branch on whole arrays; the
limits keep every log-likelihood finite (:data:`Z_MAX`, :data:`LOG_FLOOR`), so log-space sums
and differences never meet −∞ − (−∞).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

KIND_POINT = 0
KIND_AT_LEAST = 1
KIND_AT_MOST = 2
KIND_RANGE = 3
KIND_CODES = {"point": KIND_POINT, "at_least": KIND_AT_LEAST, "at_most": KIND_AT_MOST,
              "range": KIND_RANGE}

#: log √(2π), the Normal density's constant.
LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)
#: log π, the Cauchy density's constant.
LOG_PI = np.log(np.pi)
#: Standardised distances are clipped here before squaring: z² stays finite (≈ 1e300), and a
#: figure that far away has likelihood e^(−5e299) under the Normal part either way.
Z_MAX = 1e150
#: Lowest log-likelihood a kernel returns: finite, so log-space sums and differences never meet
#: −∞ − (−∞), and still e^LOG_FLOOR = 0 in floating point.
LOG_FLOOR = -1e300


def bounded(z: FloatArray) -> FloatArray:
    """z clipped to ±Z_MAX (two ufuncs: np.clip's wrapper costs more on small arrays)."""
    return np.asarray(np.maximum(np.minimum(z, Z_MAX), -Z_MAX), dtype=np.float64)
