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

#: Learned source quality against the true quality of 20 simulated sources from 150 resolved
#: questions (tests/models/test_track_record.py): with ~37 claims a source the sampling noise of
#: Spearman's ρ is about ±0.05; the measured ρ is 0.88-0.94 by seed, the bound leaves room.
QUALITY_SPEARMAN_MIN = 0.85

#: Shared error's convolution (models.shared_error.convolve) against adaptive quadrature of the
#: same piecewise-linear density: the segment integrals are closed forms in Φ and ϕ, so only
#: floating-point summation and quad's own error (~1e-10) remain.
CONVOLUTION_RTOL = 1e-7

#: Maximum-likelihood shared error from 400 simulated questions: the estimate's standard
#: error is about 4 % of s there (Var(ŝ²) ≈ 2 (v + s²)² / Q); 15 % is over three of them.
SHARED_ERROR_RTOL = 0.15

#: The store's joint fit of s from 60 simulated two-poll races (tests/store/test_shared_error.py,
#: seeded, so deterministic): it gives 4.13 for s = 4 (3 % off; ŝ's sampling error is about
#: 9 % there), the one-round fit it replaces 3.54 (12 % short). 8 % tells the two apart.
JOINT_SHARED_RTOL = 0.08

#: The exact (grid) and Gaussian shared-error fits on Gaussian posteriors: the grids hold
#: the Gaussians to ~1e-5 of their density, which moves the optimum by about as much.
SHARED_ERROR_FORMS_RTOL = 1e-3

#: A density on a grid of step h = σ/13 read through its piecewise-linear interpolant: its
#: variance grows by h²/6 and its quantiles move by O(h²/σ²), about 1e-3 relative at most.
GRID_INTERPOLANT_RTOL = 1e-3

#: A learned quality solves expected_miss(table source at c) = expected_miss(profile) by 64
#: bisection steps on logit c in [-30, 30]: where a solution exists the two misses agree to
#: ~1e-12, so 1e-9 only fails when there is no solution.
QUALITY_MISS_RTOL = 1e-9

#: Posterior quantiles of the refined grid against a brute-force reference (4,001-point uniform
#: grids zoomed onto the mass, trapezoid CDF), in units of the reference's 90 % width: the
#: reference's own error is about (h/w)²/12 ≈ 1e-5 of the width at its finest zoom (4,000
#: steps over ±60 nats, and one zoom short of that at worst ≈ 1e-4); the grid's Hermite CDF
#: on steps of about a quarter of the posterior's width ≈ 1e-4. 2e-3 leaves room for both
#: and is 1,000 times smaller than the failure it guards against (ranges 3–8× too wide).
GRID_REFERENCE_WIDTH = 2e-3

#: Each claim's p_wrong against a brute-force reference (20,001-point uniform grids zoomed onto
#: the mass, trapezoid sums: its own error is well under 1e-6 here), absolute: the refined
#: grid's Hermite-cell integrals agree to about 3e-6 on the reference cases; the trapezoid sums
#: they replaced were off by up to 1.9e-4 (a lone figure, a lone range) where the step was
#: coarse for the claim's spread. 2e-5 leaves room for the first and fails the second.
GRID_REFERENCE_P_WRONG = 2e-5

#: Simulation-based calibration (tests/models/test_sbc.py): the draws are seeded, so the test is
#: deterministic; a correct posterior falls under 1e-3 once in 1,000 seeds, while right claims
#: twice as spread as the model assumes (10 claims, 250 draws) fall far under it (the test
#: checks that it does).
SBC_PVALUE = 1e-3

#: A range's plausible set is the exact level set of its normalised right likelihood: its ends
#: are solved by safeguarded Newton steps to a few ulps, so at either end the likelihood ratio
#: recomputed with scipy's Φ equals the threshold t to ~1e-13 for ranges a few σ wide; 1e-9
#: leaves room and is 1e7 times smaller than the snap of the 129-point local grid it replaced.
PLAUSIBLE_EDGE_RTOL = 1e-9

#: A bounds-only answer with a shared error against the test's own convolution of the bounds'
#: density with N(0, s²) on a uniform grid of step 2e-4 log units (CDF by the trapezoidal
#: rule): that reference is good to ~1e-6 of the log; the code's bounds CDF is linear on 4,097
#: points (BOUNDS_RTOL), so 1e-3 of the quantiles' logs leaves ample room.
SHARED_BOUNDS_RTOL = 1e-3

#: A bot that repeats another claim's figure (tests/models/test_batch_copies.py): where the
#: copied figure disagrees with a reliable source's, the exact posterior under the simulator's
#: own rates gives the copied figure 7 % and the reliable one 93 %, so its 90 % interval holds
#: both and covers the truth on 125 of the 126 such questions. 0.85 leaves room for a learned
#: model; the model that counts the copy as an independent confirmation covers 4.8 %.
COPIED_FIGURE_COVERAGE_MIN = 0.85

#: The same archive's agreement patterns favour "the bot copies" over "the bot is exact" by
#: 216 nats at the two explanations' maximum-likelihood fits; 100 nats (a likelihood
#: ratio of e^100) still says the archive identifies the copier beyond any doubt.
COPY_EVIDENCE_MIN_NATS = 100.0

#: A lone claim's range against the exact quantiles of its posterior under the flat prior
#: (tests/models/test_lone_claim_prior.py, closed-form CDFs solved by brentq to 1e-12): the
#: refined grid's Hermite CDF is good to about 1e-4 of the range's width (GRID_REFERENCE_WIDTH)
#: and an E claim's 90 % range is about 14 log units wide, so 5e-3 log units leaves room; the
#: old prior (sd 10) was off by 0.2 (B) to 2.9 (E) log units.
LONE_QUANTILE_ABS = 5e-3

#: A lone claim's exact coverage (closed form under the documented error) against its level:
#: the flat prior's window drops the Cauchy mass beyond ±600 log units, at most
#: 2(1 − c)σ_w/(π·600) ≈ 1.2e-3 for an E claim, which is also the most it can cost the
#: coverage; 2e-3 leaves room for the grid (about 1e-5). The old prior fell short by 0.3 (A) to
#: 6.4 (E) points.
LONE_COVERAGE_ABS = 2e-3

#: The Dask batch engine against the local one on the same archive and iterations: both run the
#: same EM loop on the same per-question computations, and only the order in which per-source
#: sums are added (partition by partition) differs, a few ulps per iteration (1e-15 measured on
#: 6,500 claims in five partitions); 1e-9 leaves room for EM's mild amplification over ~100
#: iterations.
DASK_RTOL = 1e-9

#: The flat prior's window only keeps the answer inside floating point (docs/model.md, "Prior").
#: Halving its reach (600 -> 300 log units) moves a lone E point's 90 % ends by 0.075 log units
#: (the Cauchy mass beyond ±300, ~2.4e-3, read at the tail density ~0.0075 per log unit; A: 1e-4,
#: measured), and doubling it (1,200) by 0.012. 0.1 log units (a factor 1.1) admits that; where
#: the tempered likelihood is improper the ends move by tens of log units.
WINDOW_INVARIANCE_LOG_ABS = 0.1

#: models.mixture_stats.range_reach against brentq and between its two solvers
#: (tests/models/test_range_reach.py): both run safeguarded Newton steps to the equation's
#: floating-point resolution; z is of order 1-20 sds, and 1e-8 leaves room for a narrow
#: range's cancellation in Φ(z + w) − Φ(z − w), which hB measured at about 1e-8.
RANGE_REACH_ABS = 1e-8

#: Relative agreement of the ECME σ with plain EM run to its stopping rule: EM stops when its
#: step in log σ is below EM_TOL = 1e-7, but for a precise source under a shared error it moves
#: only ~1 % of the remaining distance per iteration, so it stops ~1e-5 short of its fixed point
#: (measured: 7e-6 on 5,000 claims); 1e-4 leaves a factor 10.
ECME_SIGMA_RTOL = 1e-4

#: Iterations within which the ECME learning run must converge for a precise source (σ 0.05)
#: under a shared error 0.2 on 5,000 claims: measured 9 (plain EM: 712, over its cap of 500);
#: 50 leaves room for other data while still failing plain EM by a factor > 10.
ECME_MAX_ITERATIONS = 50

#: Batch against single question with the batch's learned profiles (issue 13, "batch and
#: single agree"): both compute one posterior from the same parameters, the batch on its
#: Gauss-Legendre panels and the single question on its adaptive grid, so their estimates and
#: 90 % limits differ only by quadrature; measured at most 0.8 % of the range's log width on
#: the test's archive. 2 % leaves room for other seeds; credibility alone (no learned spread)
#: is off by 65 % of the width at the median.
BATCH_SINGLE_WIDTH_FRACTION = 0.02

#: Coverage of a source's 90 % credibility interval in the batch fit, pooled over 12 simulated
#: archives of 30 sources (360 sources) at one claim count per question
#: (tests/models/test_batch_credibility_interval.py): the Monte Carlo standard error of a
#: pooled coverage of 0.90 is √(0.9·0.1/360) ≈ 0.016, so ±0.04 is ±2.5 of it. The intervals
#: that read the expected right/wrong counts as observed covered 0.72 (two claims) and 0.80
#: (three) there; with the missing information subtracted, 0.90 and 0.89.
CREDIBILITY_COVERAGE_BAND = (0.86, 0.94)

#: A warm-started batch fit is at the full table's fixed point (tests/models/
#: test_batch_fixed_point.py): one more EM iteration from its sources moves every estimate by
#: less than this fraction of the question's own 90 % half-width. EM stops once the sources
#: move by less than tol = 1e-3 a step; measured there at most 0.0015 and 0.0104 of the
#: half-width on the two seeded archives. The two fixed refining iterations this replaced left
#: them 0.27 and 0.10 of it from the next step.
BATCH_FIXED_POINT_HALF_WIDTH = 0.03

#: The same step's move of the sources (claim-weighted mean of the larger of |Δc_s| and
#: |Δ log σ_s|, models.batch.sums.source_change) over the estimator's tol: below 1 at the step
#: where EM stopped, measured 0.34 and 0.84 at the next one (which starts from a fresh E-step);
#: 2 leaves room. The two fixed iterations left 37 and 19.
BATCH_FIXED_POINT_SOURCE_TOLS = 2.0

#: E-steps within which the accelerated batch fit (per-source SQUAREM, then Anderson acceleration
#: of the tail, models/batch/persource.py) converges on tests/models/test_batch_squarem.py's
#: seeded archive of 1,500 two-claim questions by 30 sources (every question on the exact path,
#: so EM is a map of the sources alone). Measured 18 with the inverse-χ² spread prior; 89 with
#: the learned log-normal prior of session 12, whose weak pull on precise sources leaves a slow
#: joint mode of their spreads (plain EM contracts it by 0.985 a step; two precise sources
#: answering one question pin the sum of their squared spreads, hardly the split), which
#: per-source steps follow only partly; 40 since session 13, whose Anderson tail removes that
#: shared direction (docs/batch.md). Plain EM needs 577 E-steps to get as close; 55 leaves room
#: for other platforms' rounding and fails at session 12's 89.
BATCH_SQUAREM_MAX_ESTEPS = 55

#: How far the accelerated fit's estimates may sit from the fixed point (plain EM until the
#: sources move by less than 1e-7, 577 iterations) in units of its 90 % half-width: measured
#: at most 0.018 in session 12 (plain EM to the estimator's tol, 45 iterations: 0.118), and
#: 0.0036 (interval widths 0.0012) since session 13's Anderson tail. 0.015 locks that gain in:
#: four times the measured figure for other platforms' rounding, and it fails at session 12's
#: 0.018 (it was 0.1, the bench's "off" threshold, bench/batch_refine.py).
BATCH_SQUAREM_HALF_WIDTH = 0.015

#: Most E-steps the per-source loop may take on tests/models/test_batch_squarem.py's flat
#: archive (3,000 questions of 1-3 claims, seed 2) to reach plain EM's fixed point: measured
#: 121 (session 11, with the copies fix and the per-source rule), 95 at the end of session 12 and
#: 64 with session 13's Anderson tail, against the 232 plain EM needs at tol 1e-5 to get as
#: close; 85 leaves room for other platforms' rounding and fails at session 12's 95.
BATCH_SQUAREM_FLAT_ESTEPS = 85

#: Least share of sources, in each tier of spread (0.02, 0.1, 0.3 in log) pooled over three
#: seeds (15 sources a tier and seed), whose shown 90 % credibility interval holds the true
#: credibility where wrong claims are never within a factor e of the truth
#: (tests/models/test_batch_loose_credibility.py). Measured on main 0.87, 0.76 and 0.36
#: (loose tier: learned 0.145 too low with intervals 0.33 wide); with the intervals that span
#: the credibility under the wider wrong part 0.91, 0.96, 0.89. 0.8 is about two binomial
#: standard errors (0.045 for 45 sources) below the nominal 0.9.
LOOSE_CREDIBILITY_COVERAGE = 0.8

#: Most median width of the loose tier's 90 % credibility interval there, so that coverage
#: is not bought by giving up: measured 0.33 on main and 0.41 now (six seeds: 0.42).
LOOSE_CREDIBILITY_WIDTH = 0.5

#: How far the accelerated fit (per-source SQUAREM, then the Anderson tail) may end from plain
#: EM's fixed point (tol 1e-7) on tests/models/test_batch_tail.py's archives of 1,500 questions
#: of 1-10 claims, every question exact: the largest distance of a question's value (in its
#: 90 % half-widths) or a source's credibility (its 90 % interval's half-width). The stopping
#: rule aims at a tenth of a half-width (models.batch.persource.GAP); measured 0.001 and 0.003 on
#: seeds 1 and 2 (39 and 43 E-steps). Review rS's archive of this shape where the tail walked
#: away ended 0.78 of a half-width from main's converged answer, `not_converged`.
BATCH_TAIL_HALF_WIDTH = 0.1

#: How far the accelerated fit's sources may end from plain EM's (to the estimator's own tol) on
#: tests/models/test_batch_local_maxima.py's archive, in the reference's 90 % credibility
#: half-widths: measured 0.019 now (plain EM at tol 1e-3 stops 0.019 from its own fixed point
#: at tol 1e-7, the accelerated fit 0.000 from it); main's early jumps crossed to another local
#: maximum 0.68 away. 0.2 is ten times the measured figure and a third of main's.
BATCH_LOCAL_MAXIMUM_HALF_WIDTH = 0.2
