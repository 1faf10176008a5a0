"""Batch truth discovery: learn each source's credibility from agreement across many questions.

The single-question robust model (:mod:`models.robust`) weighs claims by credibility that the
caller supplies. Across an archive of many questions with overlapping sources, the sources'
credibility, spread and bias can be *learned* from how well each source agrees with the
consensus that the other sources form, as truth-discovery methods do (CRH, Li et al. 2014;
CATD, Li et al. 2015; GTM, Zhao & Han 2012; KDEm, Wan et al. 2016). This package extends the
robust model to that setting and fits it by expectation-maximisation over every claim at once.

Symbols
-------
q, s, i  : a question, a source, a claim (claim i is by source s(i) about question q(i)).
θ_q      : the true value of question q on the working scale (its log on the log scale).
y_i      : claim i's figure on the working scale; [a_i, b_i] the interval a bound or range
           states (a_i = b_i = y_i for a point).
[l_i, u_i] : the *rounding window* of a point figure: the values it would have been rounded
           from, e.g. 596,638 → [596,637.5, 596,638.5] and 600,000 → [550,000, 650,000]
           (inferred from the figure's trailing zeros or decimals); w_i = u_i − l_i.
ε_s, ρ_s, ω_s : source s's probabilities that a claim is *exact* (a copy of the truth up to
           rounding), *right* (near the truth) or *wrong*; ε + ρ + ω = 1.
c_s      : credibility, ε_s + ρ_s, the probability that a claim is right (exactly or not).
σ_s, β_s : spread and bias of a right claim on the working scale.
t_i      : evidence weight, 1/k for the k claims of one evidence unit (origin, else source) on
           one question, so that echoes count once (as in :mod:`models.robust`).
μ_q, τ_q : mean and standard deviation of the continuous part of θ_q's posterior.

Model
-----
A claim's likelihood is a three-part mixture (the foundation's two-part mixture after Hogg,
Bovy & Lang 2010, plus an exact part)::

    L_i(θ) = ε_s · 1{θ ∈ [l_i, u_i]} / w_i                               (exact)
           + ρ_s · N(y_i; θ + β_s, σ_i²)                                 (right)
           + ω_s · Cauchy(y_i; θ, σ_w,i)                                 (wrong)

with σ_i² = (σ_s h_i)² + sd_i² (hedge factor h_i, the claim's own standard deviation sd_i) and
σ_w,i = max(σ_wrong, 2σ_i) as in :mod:`models.likelihood`. A bound or range enters through the
probability that the source's perceived value lies in [a_i, b_i] (censoring): Φ-differences
for the right part, Cauchy-CDF differences for the wrong part, and for the exact part the
indicator of θ ∈ [a_i, b_i] (read as right: a bound states no figure to copy).

Why an exact part: in real archives many claims are verbatim copies of an official figure
(population counts, casualty tallies), and several sources giving *the same digits* is far
stronger evidence than several figures that are merely close. A continuous kernel cannot
express this: three identical figures and one stray one should give the identical figure, not
a log-average of four. The exact part makes the posterior of θ_q a mixture of a continuous
density and *atoms*: where the rounding windows of claims from two or more evidence units
share a value v, the posterior has mass on the common window [l_v, u_v] of

    M_v = π(v) · (u_v − l_v) · Π_{i ∈ A_v} (ε_i / w_i)^{t_i} · Π_{j ∉ A_v} C_j(v)^{t_j},

where A_v are the agreeing claims and C_j the continuous (right + wrong) part of L_j; terms of
relative order w (the claims in A_v being right but not exact) are dropped. A figure that no
other evidence unit matches carries no atom of agreement. Its right part (probability
c = ε + ρ, η = ε/c) stays the model's mixture of an exact and a noisy component, on the exact
path as two Gaussians,

    c η N(y_i; θ, w_i²/12 + sd_i²) + c (1 − η) N(y_i; θ + β_s, σ_i²),

a small atom at the claim's own figure beside the noisy kernel (an unmatched figure of a
source that usually copies exact figures weighs as the near-exact figure it probably is, and
rival figures are picked among rather than averaged), and on the Gaussian path, which cannot
hold a spike at every figure, as one Gaussian N(y_i; θ + β_s, σ_i² + η w_i²/12) that keeps the
noisy tails (:func:`models.batch.kernels.split_right`, :func:`~models.batch.kernels.
claim_spread`). Until session 11 it was one Gaussian of the moment-matched variance
η w_i²/12 + (1 − η)σ_i², whose tails thin with η: with a few undeclared copies among the
claims (η̄ ≈ 0.5-0.7, below) a right claim 1.5-2 σ off lost P(right), σ_s shrank by about
√(1 − η) every iteration, and every source's spread fell to its floor.

Prior. θ_q ~ N(m_q, s_q²) weakly informative as in :mod:`models.robust` (mid-range of the
question's figures; s_q = max(τ₀, their span)) on the Gaussian path below. The exact path
takes a flat prior instead wherever the posterior stays proper, since a prior centred on one
or two claims would let them vouch for themselves (:mod:`models.batch.exact`).

E-step, exact path (questions of at most ``exact_claims`` = 8 claims, and larger ones whose
claims form camps). The continuous part of the posterior, π(θ) Π_j C_j(θ)^{t_j}, each claim's
P(i right | all claims) and the M-step's E[(y_i − θ − β)² | i right] are integrated over θ by
Gauss-Legendre panels placed at every claim's scales (a lone point in closed form); the
estimate and intervals are the quantiles of that posterior, so rival modes keep their mass.
With few claims the Gaussian approximation below fails: a claim's cavity is the posterior of
one or two others (project issue 13).

E-step, Gaussian path (per question, vectorised over all claims with bincount). The continuous
part is approximated by a Gaussian N(μ_q, τ_q²): one Newton (iteratively reweighted least
squares) step per EM iteration climbs to a posterior mode, with plug-in responsibilities at
θ = μ_q and IRLS weights r_i/σ_i² (right), 2(1 − r_i)/(σ_w² + d_i²) (the Cauchy's), and the
censored-normal score and information for bounds. A damped step cannot leave the claims'
span; every few iterations the claims that the mode rejects propose rival modes, which replace
it when their Laplace mass is larger (two camps). Its mass Z_q is the Laplace approximation
π(μ) Π C_j(μ)^{t_j} √(2π) τ. With the atoms' masses M_v the posterior is

    p(θ_q | data) = (Z_q N(θ; μ_q, τ_q²) + Σ_v M_v U(θ; l_v, u_v)) / (Z_q + Σ_v M_v),

whose median and equal-tailed quantiles are the estimate and its intervals (bisection on the
mixture's CDF where atoms exist, μ ± z τ elsewhere). That final posterior is taken at spreads
σ̃_s = σ̂_s √(E[σ_s²]/σ̂_s² + 1/(R_s + λ)), the learned σ̂_s widened by the posterior
uncertainty of σ_s (its Louis observed information and the spread prior) and of β_s
(:func:`~models.batch.spread.predictive_spread`): plug-in spreads gave intervals too narrow
where a source is its own reference.

The responsibilities that teach the sources integrate θ out: P(i right | data) ∝
c ∫ N(y_i; θ + β, σ_i²) p_{−i}(θ) dθ over the *cavity* p_{−i}, the posterior without claim i,
approximated by N(μ − t_i g_i/h_{−i}, 1/h_{−i}), h_{−i} = h_q − t_i h_i, mixed with the prior
in the branch (probability Π_{j≠i} ω_j^{t_j}) where every other claim is wrong (where claim i
counts as wrong unless the question has at most two claims). Plug-in responsibilities would
let a claim vouch for itself: a lone claim would always look right.

M-step (per source, with a hierarchical prior). With expected counts (claims weighted by t_i)
R_s of right claims among n_s, T_s of right points on questions where another evidence unit
stated a point (which it could have matched), E_s of exact ones among them, and spread/bias
sums over noisy-right points,

    c_s = (R_s + κ_s c̄_s) / (n_s + κ_s),          η_s = (E_s + κ_η η̄) / (T_s + κ_η),
    η̄ = (Σ_s E_s + κ_η η₀) / (Σ_s T_s + κ_η),
    σ_s = e^w, w the root of  −R_s + SS_s e^{−2w} − (w − log σ̄_s)/v = 0,
    β_s = (Σ r_i E[y_i − θ] + λ β̄_s) / (Σ r_i + λ),

with R_s = Σ r_i and SS_s = Σ r_i E[(y_i − θ − β_s)²] / h_i² over noisy-right points: the
posterior means under Beta priors with κ pseudo-claims, the mode of log σ_s under a Normal
prior N(log σ̄_s, v) and a Normal prior with λ pseudo-claims at β̄_s. The spread prior's
variance v is learned from how far the sources' log-spreads lie from their centres (empirical
Bayes, :mod:`models.batch.spread`), at least 1/(2ν), the log-scale variance of ν pseudo-claims,
and at most ``spread_dispersion_max``. Until session 12 it was a scaled-inverse-χ² prior,
σ_s² = (SS_s + ν σ̄_s²)/(R_s + ν), whose pull is additive in σ²: where spreads spanned two
decades it showed a precise source at 3-11 times its spread (review finding 13). A point's P(exact |
data) is its atoms' probability where it is in one; outside them, on the exact path, its exact
component's posterior share, and on the Gaussian path the censored-data E-step
π_i = η_i b_i/(1 − η_i (1 − b_i)) with b_i the probability that no other unit's claim is
exact (an exact claim shows only when matched: :func:`models.batch.sums.exact_if_unmatched`).
E_s/T_s over questions that have an atom alone, as until session 11, is a selection on the
outcome: on a question of two right claims an atom exists only when both are exact.

The residuals in the spread and bias sums are their noise parts: a right point's y_i − θ is the
source's noise N(β_s, (σ_s h_i)²) plus what the claim states of itself, N(0, K_i) with K_i its
own sd² and, where the right kernel folds it in (the Gaussian path outside the atoms),
η_s w_i²/12; given the residual, the noise has mean
β_s + λ_i (y_i − θ − β_s) and variance λ_i K_i, λ_i = (σ_s h_i)²/((σ_s h_i)² + K_i) (EM for
variance components), so a claim whose window or sd dwarfs its source's spread teaches it
nothing however far it lies (:func:`models.batch.sums.update_sources`). The prior centre is the
source's grade (or learned track record, via :func:`models.credibility.profile_for`) with
strength κ_graded; a source without a usable grade (``F`` or none) is shrunk, with strength
κ_pooled, towards the *population*: the precision-weighted mean of the unrated sources'
credibility and log-spread (empirical Bayes, re-estimated every iteration). η̄ is the archive's
pooled exact share, the MAP under a Beta prior of mean η₀ = 0.01 worth κ_η = 100 tested right
claims, so that one coincident pair on a sparse archive reads as η̄ ≈ 0.03 rather than 1 (0
when no figures agree anywhere). A source seen once therefore gets a
credibility between its prior and its one result, never 0 or 1, and a spread of at least
e^{−v} σ̄ (0.88 σ̄ where the sources' spreads agree, v = 1/(2ν); 0.14 σ̄ at the most,
v = 2) -- the role CATD's χ² bound plays, with a prior instead of a confidence bound.
Grades enter as priors, not overrides: enough disagreeing claims outweigh them.

Identification. Continuous claims see only θ_q + β_s, so all biases can rise while all truths
fall; after each M-step biases and truths are shifted together so that the sources' biases
(each source once, weight n/(n + λ) ÷ σ_s², the precision of its bias under the bias prior
N(β̄_s, σ_s²/λ)) average zero, relative to their priors.

Scale. A large table (more than twice s = max(``warm_start_claims``, 20 × sources) claims) is
first fitted on every k-th question, about s claims (there only questions of at most
``exact_claims`` claims take the exact path: the sample teaches the sources, and contested
larger ones keep the Gaussian path with mode hopping); the full table's EM then starts from
the sample's sources and runs (at least ``refine_iter`` iterations) until the same convergence
test holds on it, so the answer is the full table's fixed point, not the sample's: two fixed
iterations, as before, left 18 % of a 100,000-claim archive's estimates more than a tenth of
their 90 % half-width from it and the intervals 7 % too wide, in a quarter of the time
(``bench/batch_refine.py``, docs/benchmarks.md). Cost per iteration is linear in the claims
(plus pairs of claims only inside atoms and contested questions); an exact question costs
about a hundred times a Gaussian one (its claims' kernels at ~150-400 nodes), a lone point no
more. Memory is a few dozen arrays of the table's length.

Modules
-------
:mod:`~models.batch.table` (ClaimTable, infer_resolution; :mod:`~models.batch.columns` parses
its columns), :mod:`~models.batch.result` (BatchFit and its parts, learned_profiles),
:mod:`~models.batch.encode` and :mod:`~models.batch.atoms` (the working scale, the prior, the
atoms), :mod:`~models.batch.kernels` (the claims' likelihood kernels; the interval kernels are
those of :mod:`models.likelihood`), :mod:`~models.batch.mode` (IRLS steps, mode hopping),
:mod:`~models.batch.exact` (the exact posterior of small or contested questions; its panels
and kernels on them in :mod:`~models.batch.panels`),
:mod:`~models.batch.em` (E-step, leave-one-out responsibilities),
:mod:`~models.batch.sums` (the M-step as per-source sums that add across partitions of the
questions, and the update from their total; the spreads' learned prior in
:mod:`~models.batch.spread`), :mod:`~models.batch.loop` (the EM loop over
questions held in this process or on a cluster's workers), :mod:`~models.batch.persource` (that
loop accelerated by SQUAREM, Varadhan & Roland 2008, one step length per source, stopping when
every source is near its fixed point; :mod:`~models.batch.squarem` holds the step's constants
and scale),
:mod:`~models.batch.summary` (from the EM's state to a BatchFit; the credibility interval's
uncertainty region over the wrong part's law near the truth in :mod:`~models.batch.sensitivity`)
and
:mod:`~models.batch.estimator` (BatchEstimator); :mod:`~models.batch.common` and
:mod:`~models.batch.state` hold the constants and the EM's data structures.

References
----------
Dawid, A. P. & Skene, A. M. (1979). Maximum likelihood estimation of observer error-rates using
the EM algorithm. Applied Statistics 28(1), 20-28. doi:10.2307/2346806.
Hogg, D. W., Bovy, J. & Lang, D. (2010). Data analysis recipes: Fitting a model to data.
arXiv:1008.4686.
Zhao, B. & Han, J. (2012). A probabilistic model for estimating real-valued truth from
conflicting sources. QDB workshop at VLDB 2012 (GTM).
Li, Q., Li, Y., Gao, J., Zhao, B., Fan, W. & Han, J. (2014). Resolving conflicts in
heterogeneous data by truth discovery and source reliability estimation. SIGMOD 2014,
1187-1198. doi:10.1145/2588555.2610509 (CRH).
Li, Q., Li, Y., Gao, J., Su, L., Zhao, B., Demirbas, M., Fan, W. & Han, J. (2014/2015). A
confidence-aware approach for truth discovery on long-tail data. PVLDB 8(4), 425-436.
doi:10.14778/2735496.2735505 (CATD).
Wan, M., Chen, X., Kaplan, L., Han, J., Gao, J. & Zhao, B. (2016). From truth discovery to
trustworthy opinion discovery: an uncertainty-aware quantitative modeling approach. KDD 2016,
1885-1894. doi:10.1145/2939672.2939837 (KDEm).
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data
via the EM algorithm. JRSS B 39(1), 1-38 (censored observations in EM).
Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications. JASA
78(381), 47-55. doi:10.1080/01621459.1983.10477920 (the spread prior's learned variance).
Varadhan, R. & Roland, C. (2008). Simple and globally convergent methods for accelerating the
convergence of any EM algorithm. Scand. J. Statist. 35(2), 335-353.
doi:10.1111/j.1467-9469.2007.00585.x (SQUAREM).
"""

from __future__ import annotations

# The claim-kind codes stay importable from here, as from the module this package replaced.
from models.batch.common import KIND_AT_LEAST as KIND_AT_LEAST
from models.batch.common import KIND_AT_MOST as KIND_AT_MOST
from models.batch.common import KIND_POINT as KIND_POINT
from models.batch.common import KIND_RANGE as KIND_RANGE
from models.batch.estimator import BatchEstimator
from models.batch.result import (
    BatchFit,
    BatchWarning,
    PopulationPrior,
    QuestionEstimates,
    SourceEstimates,
    SourceParameters,
    learned_profiles,
)
from models.batch.table import ClaimTable, infer_resolution

__all__ = [
    "BatchEstimator",
    "BatchFit",
    "BatchWarning",
    "ClaimTable",
    "PopulationPrior",
    "QuestionEstimates",
    "SourceEstimates",
    "SourceParameters",
    "infer_resolution",
    "learned_profiles",
]
