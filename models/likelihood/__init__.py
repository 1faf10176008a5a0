"""Claim likelihoods on a grid of θ, vectorised over claims.

Symbols
-------
θ      : the true value on the working scale (log of the quantity on the log scale).
x_i    : claim i's figure on the working scale; a_i, b_i the ends of a bound or range.
c_k    : probability that a claim is right under credibility hypothesis k.
σ_ik   : spread of a right claim, √((σ_k h_i)² + s_i²) with hedge factor h_i and the claim's own
         standard deviation s_i.
σ_w    : spread of a wrong claim, max(σ_wrong, 2 σ_ik).
β_k    : systematic bias of the source under hypothesis k.

Each claim is read as a statement about the source's perceived value x̃ = θ + β + noise:

* point    : density of x_i,                    f(x_i − θ − β)
* at_least : probability that x̃ ≥ a_i,          1 − F(a_i − θ − β)
* at_most  : probability that x̃ ≤ b_i,          F(b_i − θ − β)
* range    : probability that a_i ≤ x̃ ≤ b_i,    F(b_i − θ − β) − F(a_i − θ − β)

where the noise is the two-part mixture of Hogg, Bovy & Lang (2010), arXiv:1008.4686: with
probability c_k the claim is right and the noise is Normal(0, σ_ik); otherwise it is wrong and the
noise is Cauchy(0, σ_w). Centring the "wrong" part on θ with a Cauchy kernel (rather than on a
fixed background) keeps every likelihood proper, so the posterior never depends on where the
grid stops, while its polynomial tails make the pull of a wild figure fade with its distance.
A bound is thereby the same statement as a point seen through a smoothed step, and a range through
a smoothed box. All sums are done in log space.

The claim set's rows live in :mod:`models.likelihood.encoded`, the grid evaluation in
:mod:`models.likelihood.kernels`, the element-wise densities and interval masses that the track
record and the batch model share in :mod:`models.likelihood.densities`, and the array types,
kind codes and numerical limits in :mod:`models.likelihood.common`. This package exports what
modules outside it use.
"""

from models.likelihood.common import (
    KIND_AT_LEAST,
    KIND_AT_MOST,
    KIND_CODES,
    KIND_POINT,
    KIND_RANGE,
    LOG_FLOOR,
    FloatArray,
    IntArray,
)
from models.likelihood.densities import (
    log_cauchy_interval,
    log_cauchy_point,
    log_normal_interval,
    log_normal_point,
)
from models.likelihood.encoded import EncodedClaims
from models.likelihood.kernels import (
    log_likelihood_parts,
    log_likelihood_per_claim,
    log_likelihood_rows,
    log_right_normalised,
)

__all__ = [
    "KIND_AT_LEAST",
    "KIND_AT_MOST",
    "KIND_CODES",
    "KIND_POINT",
    "KIND_RANGE",
    "LOG_FLOOR",
    "EncodedClaims",
    "FloatArray",
    "IntArray",
    "log_cauchy_interval",
    "log_cauchy_point",
    "log_likelihood_parts",
    "log_likelihood_per_claim",
    "log_likelihood_rows",
    "log_normal_interval",
    "log_normal_point",
    "log_right_normalised",
]
