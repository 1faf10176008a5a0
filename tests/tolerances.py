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

#: Posterior quantiles of the refined grid against a brute-force reference (4,001-point uniform
#: grids zoomed onto the mass, trapezoid CDF), in units of the reference's 90 % width: the
#: reference's own error is about (h/w)²/12 ≈ 1e-5 of the width at its finest zoom (4,000
#: steps over ±60 nats, and one zoom short of that at worst ≈ 1e-4); the grid's Hermite CDF
#: on steps of about a quarter of the posterior's width ≈ 1e-4. 2e-3 leaves room for both
#: and is 1,000 times smaller than the failure it guards against (ranges 3–8× too wide).
GRID_REFERENCE_WIDTH = 2e-3

#: Simulation-based calibration (tests/models/test_sbc.py): the draws are seeded, so the test is
#: deterministic; a correct posterior falls under 1e-3 once in 1,000 seeds, while right claims
#: twice as spread as the model assumes (10 claims, 250 draws) fall far under it (the test
#: checks that it does).
SBC_PVALUE = 1e-3
