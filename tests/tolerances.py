"""Tolerances used across the suite, declared once with their reasons."""

#: Metafor parity: metafor's reference values are stored with ≥ 8 significant digits and the
#: estimators are deterministic closed forms or converged iterations (tol 1e-10).
METAFOR_RTOL = 1e-6

#: Exact invariances of the robust model (claim order, echoes): only summation order changes.
INVARIANCE_RTOL = 1e-9

#: Equivariance under rescaling: the grid moves with the figures, but the coarse pass that
#: places the fine grid can shift its ends by a grid step, which moves quantiles by O(h²)
#: with h ≈ 1/500 of the posterior's extent.
EQUIVARIANCE_RTOL = 1e-4

#: Grid posterior against independent adaptive quadrature: the 256-point grid with Hermite
#: (fourth-order) CDF integration agrees to ~1e-4; 1e-3 leaves room for harder shapes.
QUADRATURE_RTOL = 1e-3

#: Ranges from bounds alone (models.bounds) against quadrature or the closed form: the CDF is
#: interpolated linearly on 4,097 points spanning the bounds ± 12 σ, a step under σ/100 for
#: bounds a few σ apart, which moves quantiles by ~1e-5 of the log; 1e-4 leaves room.
BOUNDS_RTOL = 1e-4
