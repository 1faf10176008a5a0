"""Simulation-based calibration of the single-question posterior (Talts et al. 2018).

Talts, S., Betancourt, M., Simpson, D., Vehtari, A. & Gelman, A. (2018). Validating Bayesian
inference algorithms with simulation-based calibration. arXiv:1804.06788.

Draw θ from a prior, claims from the model's likelihood given θ, and compute the posterior CDF
at θ: when the posterior is computed right, that value is uniform on (0, 1) (the continuous
limit of SBC's rank statistic). The likelihood is written out again here from docs/model.md
(grade table; right: N(θ, σ) with probability c; wrong: Cauchy(θ, max(1, 2σ))), not imported.

The model's prior is a Normal centred on the claims (sd ≥ 10 log units); SBC needs θ drawn from
the prior the posterior uses, so θ is drawn from U(−L, L) and the model's posterior is
reweighted by U(−L, L)/N(θ; centre, sd) before its CDF is read: that reweighting is exact, so
what is tested is the likelihood, the grid and the integration.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from models.claims import Claim, Source
from models.credibility import profile_for
from models.encode import encode, working_scale
from models.robust import RobustEstimator
from tests.tolerances import SBC_PVALUE

#: Restated from docs/model.md ("Grade table").
GRADES = {"A": (0.95, 0.10), "B": (0.85, 0.20), "C": (0.70, 0.35), "D": (0.50, 0.55),
          "E": (0.30, 0.80)}
#: θ ~ U(−L, L) on the log scale.
HALF_RANGE = 3.0
DRAWS = 250


def posterior_cdf_at_truth(rng: np.random.Generator, n: int, spread_factor: float = 1.0
                           ) -> float:
    """F(θ | claims) at the θ the claims were drawn from; ``spread_factor`` ≠ 1 draws right
    claims with a spread the model does not assume (to show the check can fail)."""
    theta = float(rng.uniform(-HALF_RANGE, HALF_RANGE))
    letters = list(GRADES)
    grades = [letters[i] for i in rng.integers(0, len(letters), n)]
    claims, sources = [], []
    for i, g in enumerate(grades):
        c, s = GRADES[g]
        if rng.random() < c:
            x = theta + spread_factor * s * rng.standard_normal()
        else:
            x = theta + max(1.0, 2 * s) * rng.standard_cauchy()
        x = min(max(x, -700.0), 700.0)
        sources.append(Source(f"s{i}", reliability=g))
        claims.append(Claim(f"s{i}", "point", math.exp(x)))
    profiles = {s.id: profile_for(s.reliability) for s in sources}
    enc = encode(claims, profiles, working_scale(claims, "log"))
    estimator = RobustEstimator()
    fit = estimator.fit(enc, np.arange(n), (0.5,))
    centre, sd = estimator.prior(enc)
    t = fit.theta
    inside = (t >= -HALF_RANGE) & (t <= HALF_RANGE)
    weight = np.where(inside, fit.density / stats.norm.pdf(t, centre, sd), 0.0)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (weight[1:] + weight[:-1]) * np.diff(t))])
    return float(np.interp(theta, t, cdf / cdf[-1]))


@pytest.mark.parametrize("n", [1, 2, 3, 10])
def test_posterior_cdf_at_the_truth_is_uniform(n: int) -> None:
    rng = np.random.default_rng(1804 + n)
    u = np.array([posterior_cdf_at_truth(rng, n) for _ in range(DRAWS)])
    assert stats.kstest(u, "uniform").pvalue > SBC_PVALUE
    counts = np.histogram(u, bins=10, range=(0.0, 1.0))[0]
    assert stats.chisquare(counts).pvalue > SBC_PVALUE


def test_the_check_fails_when_the_claims_are_twice_as_spread_as_assumed() -> None:
    rng = np.random.default_rng(6788)
    u = np.array([posterior_cdf_at_truth(rng, 10, spread_factor=2.0) for _ in range(DRAWS)])
    assert stats.kstest(u, "uniform").pvalue < SBC_PVALUE
