"""Forward–backward (sum-product) over a θ grid × the nodes of a chain, in plain functions.

Symbols
-------
g = 1…G        : grid points θ_g (the state of one node is the index g).
j = 1…N        : the nodes of the chain (days, then the eventual total).
π_g            : prior probability of θ_1 = θ_g.
K^(j)_{gh}     : transition probability from θ_g at node j to θ_h at node j + 1 (rows sum to 1).
e_j(g)         : evidence of node j's claims, Π_{i at j} L_i(θ_g)^{1/k_u(i)}.

Notes
-----
The joint of a path g_1 … g_N and the claims is

    p(g_1 … g_N, y) = π_{g_1} e_1(g_1) Π_{j<N} K^(j)_{g_j g_{j+1}} e_{j+1}(g_{j+1}),

and the marginal of node j is γ_j(g) ∝ α_j(g) β_j(g) with the scaled recursions of Rabiner
(1989), §V.A:

    α̂_1 = π ⊙ e_1 / c_1,            α̂_{j+1} = (α̂_j K^(j)) ⊙ e_{j+1} / c_{j+1},
    β̂_N = 1,                         β̂_j = K^(j) (e_{j+1} ⊙ β̂_{j+1}) / c_{j+1},

with c_j the normaliser that makes α̂_j sum to 1. Then γ_j = α̂_j ⊙ β̂_j exactly, and the
marginal likelihood of the claims is log p(y) = Σ_j log c_j. The evidence enters in log space
and is shifted by its maximum per node before exponentiation (the shift is added back to
log p(y)), so claims whose likelihoods underflow individually still combine. The cost is
O(N G²).

References
----------
Rabiner, L. R. (1989). A tutorial on hidden Markov models and selected applications in speech
recognition. Proceedings of the IEEE 77(2), 257-286. doi:10.1109/5.18626.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from models.dynamics.kernels import ToeplitzStep
from models.errors import InvalidParameterError, NumericalRangeError
from models.likelihood import FloatArray

#: A transition: a dense row-stochastic (G, G) matrix or a Toeplitz step applied by convolution.
Transition = FloatArray | ToeplitzStep


def _push(v: FloatArray, k: Transition) -> FloatArray:
    return k.push(v) if isinstance(k, ToeplitzStep) else np.asarray(v @ k, dtype=np.float64)


def _pull(k: Transition, v: FloatArray) -> FloatArray:
    return k.pull(v) if isinstance(k, ToeplitzStep) else np.asarray(k @ v, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ChainPosterior:
    """Result of :func:`forward_backward`.

    Attributes
    ----------
    marginals : (N, G) float
        γ_j(g) = p(θ_j = θ_g | y); each row sums to 1.
    log_evidence : float
        log p(y), the marginal likelihood of every claim under the chain.
    """

    marginals: FloatArray
    log_evidence: float


def forward_backward(
    log_prior: FloatArray, log_evidence: FloatArray, transitions: Sequence[Transition]
) -> ChainPosterior:
    """Node marginals and marginal likelihood of a chain on a grid (see module Notes).

    Parameters
    ----------
    log_prior : (G,) float
        log π_g, normalised or not (an unnormalised prior shifts ``log_evidence`` by its log
        total).
    log_evidence : (N, G) float
        log e_j(g); a node without claims has a row of zeros.
    transitions : sequence of N − 1 Transition
        K^(j), row-stochastic: (G, G) arrays or :class:`~models.dynamics.kernels.ToeplitzStep`.

    Returns
    -------
    ChainPosterior

    Raises
    ------
    NumericalRangeError
        When the claims leave no grid point with positive probability (cannot happen with
        proper likelihoods on a grid that covers them; kept as a guard against bad grids).
    """
    n_nodes, _ = log_evidence.shape
    if len(transitions) != n_nodes - 1:
        raise InvalidParameterError(
            f"Invalid transitions: {n_nodes} nodes need {n_nodes - 1}, got {len(transitions)}."
        )
    shift = log_evidence.max(axis=1, keepdims=True)
    evidence = np.exp(log_evidence - shift)
    prior_shift = float(log_prior.max())
    alpha = np.empty_like(evidence)
    scale = np.empty(n_nodes)
    a = np.exp(log_prior - prior_shift) * evidence[0]
    for j in range(n_nodes):
        if j > 0:
            a = _push(alpha[j - 1], transitions[j - 1]) * evidence[j]
        c = float(a.sum())
        if not c > 0.0:
            raise NumericalRangeError(
                "The claims leave no value on the grid with positive probability; restate "
                "the figures on another scale.",
                field="claims",
            )
        scale[j] = c
        alpha[j] = a / c
    beta = np.ones_like(evidence)
    for j in range(n_nodes - 2, -1, -1):
        beta[j] = _pull(transitions[j], evidence[j + 1] * beta[j + 1]) / scale[j + 1]
    marginals = alpha * beta
    # γ_j sums to 1 in exact arithmetic; renormalising removes the rounding of long chains.
    marginals /= marginals.sum(axis=1, keepdims=True)
    log_z = float(np.log(scale).sum() + shift.sum() + prior_shift)
    return ChainPosterior(np.asarray(marginals, dtype=np.float64), log_z)
