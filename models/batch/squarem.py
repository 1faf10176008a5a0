"""SQUAREM's squared extrapolation of the sources, as the batch EM loop uses it.

One EM iteration is a map of the sources' parameters, x ↦ F(x): an E-step over every question at
x, then the M-step (:func:`~models.batch.sums.update_sources`) and the bias recentring. EM
converges linearly, slowly where the sources and the questions' truths trade along flat
directions; SQUAREM (Varadhan & Roland 2008, scheme S3) takes two EM steps, x₁ = F(x₀) and
x₂ = F(x₁), and jumps along them:

    r = x₁ − x₀,    v = x₂ − 2x₁ + x₀,    α = −‖r‖/‖v‖,
    x' = x₀ − 2α r + α² v,

then one stabilising EM step, x₀ ← F(x'). α = −1 gives x' = x₂, two plain EM steps, so α is
clipped to ≤ −1; its magnitude is capped, the cap growing fourfold after a jump with α at
the cap is kept and shrinking back when a step fails (the defaults of the authors' SQUAREM
package: step.max0 = 1, mstep = 4). The parameters are extrapolated on an unconstrained scale:
logit c_s and logit η_s, log σ_s and β_s (:func:`pack`, :func:`unpack`).

The estimator takes this jump source by source, each with its own α_s, cap and monitor
(:func:`models.batch.persource.run_persource`). Through session 10 one global α served every
source, and only where no question carried its μ_q from one E-step to the next; an independent
review found that global step parking a source at another point than plain EM's fixed point on
some archives of 1-3 claims a question, and it was removed in session 11 (git history has it).
This module keeps what both used: the cap's constants and the unconstrained scale.

References
----------
Varadhan, R. & Roland, C. (2008). Simple and globally convergent methods for accelerating the
convergence of any EM algorithm. Scandinavian Journal of Statistics 35(2), 335-353.
doi:10.1111/j.1467-9469.2007.00585.x.
"""

from __future__ import annotations

import numpy as np

from models.batch.common import EPS, MIN_SPREAD, FloatArray
from models.batch.state import Params

#: SQUAREM's cap on |α|: it starts at 1 (two plain EM steps), grows by MSTEP when a jump with α
#: at the cap is kept and falls back by MSTEP after a failed step (Varadhan & Roland's defaults).
STEP_MAX0 = 1.0
MSTEP = 4.0


def pack(p: Params) -> FloatArray:
    """The sources' parameters on the unconstrained scale: logit c, logit η, log σ, β."""
    return np.concatenate([np.log(p.c / (1.0 - p.c)), np.log(p.eta / (1.0 - p.eta)),
                           np.log(p.sigma), p.beta])


def unpack(u: FloatArray, n_sources: int) -> Params | None:
    """The inverse of :func:`pack`, within the M-step's own bounds; None when not finite."""
    if not np.isfinite(u).all():
        return None
    c, eta, log_sigma, beta = (u[k * n_sources:(k + 1) * n_sources] for k in range(4))
    with np.errstate(over="ignore"):
        # exp(−logit) overflows to inf for a logit below −709: the probability is then 0,
        # clipped to EPS like the M-step's.
        c_p = np.clip(1.0 / (1.0 + np.exp(-c)), EPS, 1.0 - EPS)
        eta_p = np.clip(1.0 / (1.0 + np.exp(-eta)), EPS, 1.0 - EPS)
        sigma = np.maximum(np.exp(log_sigma), MIN_SPREAD)
    if not np.isfinite(sigma).all():
        return None
    return Params(c_p, eta_p, sigma, beta.copy())
