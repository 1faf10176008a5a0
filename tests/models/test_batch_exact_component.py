"""The exact path's two-component right part against quadrature done here.

An unmatched point's right part is c η N(y; θ, w²/12 + sd²) (a copy of the truth, blurred by
its rounding) plus c (1 − η) N(y; θ + β, σ²) (the source's noise), beside the wrong part
(1 − c) Cauchy(y; θ, max(1, 2σ)) (:mod:`models.batch`). With the sources' parameters held, one
E-step's responsibilities are ratios of integrals over θ of products of these densities under
a flat prior; here they are integrated by adaptive quadrature (``scipy.integrate.quad``) on
breakpoints at every component's scale, independently of the panels the estimator lays.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest
from scipy.integrate import quad

from models.batch import ClaimTable, em
from models.batch.encode import encode
from models.batch.mode import initial_centre
from models.batch.state import Hyper, Params

#: Agreement of a responsibility with quadrature: the estimator's Gauss-Legendre panels are
#: exact to ~1e-9 on smooth integrands; the narrow component (4e-7 wide in log units for a
#: seven-digit figure) is where a misplaced panel would show, by far more than this.
RESPONSIBILITY_TOL = 1e-5

HYPER = Hyper(wrong_spread=1.0, prior_scale=2.5, pooled_strength=4.0, graded_strength=12.0,
              spread_strength=4.0, bias_strength=4.0, learn_bias=True)

CASES = {
    "a precise figure and a rounder one": [1923910.0, 1919000.0],
    "one precise among three": [1923910.0, 1919000.0, 1957000.0],
    "three near figures": [1415000.0, 1426000.0, 1368000.0],
    "two far apart": [65400.0, 77260.0],
}


def _densities(i: int, theta: float, y: np.ndarray, narrow: np.ndarray, p: Params,
               wide: np.ndarray) -> tuple[float, float, float]:
    """Claim i's exact, noisy and wrong densities at θ (``p`` and ``wide`` per claim)."""
    c, eta, sigma, beta = p.c[i], p.eta[i], p.sigma[i], p.beta[i]
    exact = c * eta * math.exp(-0.5 * ((y[i] - theta) / narrow[i]) ** 2) / (
        narrow[i] * math.sqrt(2 * math.pi))
    noisy = c * (1 - eta) * math.exp(-0.5 * ((y[i] - theta - beta) / sigma) ** 2) / (
        sigma * math.sqrt(2 * math.pi))
    wrong = (1 - c) / (math.pi * wide[i] * (1 + ((y[i] - theta) / wide[i]) ** 2))
    return exact, noisy, wrong


@pytest.mark.parametrize("name", list(CASES))
def test_unmatched_points_responsibilities_match_quadrature(name: str) -> None:
    values = CASES[name]
    n = len(values)
    table = ClaimTable.from_columns(["q"] * n, list("abcd"[:n]), ["point"] * n, values)
    enc = encode(table, "log", "infer", HYPER.prior_scale)
    p = Params(c=np.array([0.9, 0.8, 0.7])[:n], eta=np.array([0.3, 0.2, 0.4])[:n],
               sigma=np.array([0.01, 0.02, 0.05])[:n], beta=np.array([0.0, 0.005, -0.003])[:n])
    assert not enc.member.any()  # no two figures agree: every point is unmatched
    post, _ = em.e_step(enc, p, initial_centre(enc, p), True, HYPER)
    assert bool(post.exact.all())  # the question took the exact path
    s = enc.s
    per_claim = Params(c=p.c[s], eta=p.eta[s], sigma=p.sigma[s], beta=p.beta[s])
    y = enc.y
    narrow = np.sqrt(enc.exact_var + enc.own_var)
    wide = np.maximum(1.0, 2 * per_claim.sigma)

    def product(theta: float, skip: int | None = None) -> float:
        out = 1.0
        for j in range(n):
            if j != skip:
                out *= sum(_densities(j, theta, y, narrow, per_claim, wide))
        return out

    steps = np.array([-12, -8, -5, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 5, 8, 12])
    low, high = float(y.min()) - 60.0, float(y.max()) + 60.0
    points = np.unique(np.concatenate(
        [y[i] + steps * narrow[i] for i in range(n)]
        + [y[i] - per_claim.beta[i] + steps * per_claim.sigma[i] for i in range(n)]
        + [np.linspace(low, high, 241)]))
    points = points[(points >= low) & (points <= high)]

    def integral(f: Callable[[float], float]) -> float:
        return float(sum(quad(f, a, b, epsabs=0, epsrel=1e-11, limit=200)[0]
                         for a, b in zip(points[:-1], points[1:], strict=False)))

    def share(i: int, parts: int) -> float:
        """P(claim i in its first ``parts`` components (exact, then noisy) | all claims)."""

        def joint(t: float) -> float:
            density = _densities(i, t, y, narrow, per_claim, wide)
            return math.fsum(density[:parts]) * product(t, i)

        return integral(joint) / z

    z = integral(product)
    for i in range(n):
        exact = share(i, 1)
        right = share(i, 2)
        assert post.r_narrow is not None
        assert post.r_narrow[i] == pytest.approx(exact, abs=RESPONSIBILITY_TOL)
        assert post.r_right[i] + post.r_exact[i] == pytest.approx(right, abs=RESPONSIBILITY_TOL)
