"""Robust credibility-weighted reconciliation on a 1-D grid.

Symbols
-------
θ       : the true value on the working scale (its log on the log scale).
ℓ_i(θ)  : log-likelihood of claim i (see :mod:`models.likelihood`).
u(i)    : the evidence unit of claim i (its origin, else its source); k_u claims share unit u.
p(θ)    : the posterior, p(θ) ∝ π(θ) Π_i L_i(θ)^{1/k_u(i)}.
w_i     : claim i's weight, its share of the evidence.

Notes
-----
Posterior. Claims of one evidence unit enter with the power 1/k_u (a geometric mean of their
likelihoods), so k outlets repeating one figure count exactly once.

The parts: :mod:`models.robust.prior` (the flat prior's window or the weak Normal, when the
claims' likelihood is proper, and the starting grid laid over that window),
:mod:`models.robust.estimator` (the posterior's median, intervals and leave-outs, each claim's
weight and its probability of being wrong, the outliers) and :mod:`models.robust.disagreement`
(each claim's plausible set, the conflicts and clusters, the posterior's modes). The grid's
refinement and quadrature are :mod:`models.grid` and :mod:`models.quadrature`, the claims'
likelihood :mod:`models.likelihood`. This package exports what modules outside it use.

References
----------
Hogg, D. W., Bovy, J. & Lang, D. (2010). Data analysis recipes: Fitting a model to data.
arXiv:1008.4686.
"""

from models.robust.disagreement import conflicts_and_clusters
from models.robust.estimator import RobustEstimator, RobustFit
from models.robust.prior import LOG_SUPPORT

__all__ = ["LOG_SUPPORT", "RobustEstimator", "RobustFit", "conflicts_and_clusters"]
