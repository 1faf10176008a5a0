"""A bare-numpy CATD, the speed yardstick for the batch fit (project issue 15).

CATD (Li et al. 2014/2015, "A confidence-aware approach for truth discovery on long-tail
data", PVLDB 8(4), 425-436, doi:10.14778/2735496.2735505) alternates, from each question's
median, between source weights and weighted means (the paper's eqs. 8 and 10)::

    w_s = χ²_{α/2}(n_s) / Σ_{i ∈ s} (y_i − θ_{q(i)})²,
    θ_q = Σ_{i ∈ q} w_{s(i)} y_i / Σ_{i ∈ q} w_{s(i)},

with α = 0.05, the paper's default, and stops, as its Algorithm 1 does, when the estimates
no longer move (here: no θ_q moves by more than ``tol``; at most ``max_iter`` passes). It is
written here with nothing but numpy (and one call to scipy's χ² quantile for the bounds) so
that the batch model's fit can be timed against the least a truth-discovery method costs on
the same claims; :func:`models.baselines.catd` is the version the accuracy benchmarks use.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2


def catd(q: NDArray[np.int64], s: NDArray[np.int64], y: NDArray[np.float64], *,
         alpha: float = 0.05, tol: float = 1e-6, max_iter: int = 100
         ) -> tuple[NDArray[np.float64], int]:
    """CATD estimates (Q,) on the working scale and the number of passes it took."""
    n_q, n_s = int(q.max()) + 1, int(s.max()) + 1
    bound = chi2.ppf(alpha / 2.0, np.maximum(np.bincount(s, minlength=n_s), 1))
    # The median of each question's claims: sort by (question, figure) once.
    order = np.lexsort((y, q))
    counts = np.bincount(q, minlength=n_q)
    start = np.concatenate([[0], np.cumsum(counts)[:-1]])
    ys = y[order]
    theta = 0.5 * (ys[start + (counts - 1) // 2] + ys[start + counts // 2])
    passes = 0
    for passes in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        err = np.bincount(s, weights=(y - theta[q]) ** 2, minlength=n_s)
        w = (bound / np.maximum(err, 1e-12))[s]
        new = np.bincount(q, weights=w * y, minlength=n_q) / np.bincount(q, weights=w,
                                                                         minlength=n_q)
        moved = float(np.max(np.abs(new - theta)))
        theta = new
        if moved < tol:
            break
    return theta, passes
