"""What the EM passes around: encoded claims, source parameters, their prior, the posterior.

All are frozen dataclasses of arrays (over claims, questions, sources or atoms) that the
plain functions of :mod:`models.batch.kernels`, :mod:`models.batch.mode` and
:mod:`models.batch.em` read and return; :class:`Hyper` carries the estimator's
hyper-parameters that those functions need.
"""

from __future__ import annotations

from dataclasses import dataclass

from models.batch.common import BoolArray, FloatArray, IntArray, Scale
from models.batch.result import PopulationPrior


@dataclass(frozen=True, slots=True)
class Hyper:
    """The hyper-parameters of :class:`~models.batch.BatchEstimator` that the EM steps read.

    Attributes
    ----------
    wrong_spread : float
        σ_wrong, the least spread of a wrong claim's Cauchy part (working units).
    prior_scale : float
        τ₀, the least standard deviation of θ_q's prior, and the largest IRLS step.
    pooled_strength, graded_strength : float
        κ_pooled and κ_graded, pseudo-claims of an unrated and a rated source's prior.
    spread_strength, bias_strength : float
        ν and λ: the spread prior's strength where the sources' spreads agree (its learned
        variance of log σ_s is at least 1/(2ν), :mod:`models.batch.spread`) and the bias
        prior's pseudo-claims.
    learn_bias : bool
        Whether β_s is learned (else it stays at the prior's bias).
    exact_claims : int
        Questions with at most this many claims get the exact posterior
        (:mod:`models.batch.exact`); 0 puts every question on the Gaussian (Laplace) path.
    exact_contested : bool
        Whether larger questions whose claims form camps take the exact posterior too
        (:func:`~models.batch.mode.is_contested`); off on a warm start's sample, which
        only teaches the sources.
    exact_share, exact_strength : float
        η₀ and κ_η, the mean and weight (tested right claims) of the Beta prior of the
        archive's exact share η̄.
    spread_dispersion_max : float
        v_max, the most variance of log σ_s about its prior centre that the learned spread
        prior may take (:mod:`models.batch.spread`).
    loose_grid : bool
        Whether the E-step's sums tabulate each source's right count over a grid of
        credibilities (:attr:`~models.batch.sums.SourceSums.loose_right`): only the one
        E-step at a wider wrong part behind the credibility interval
        (:mod:`models.batch.sensitivity`) asks.
    near_check : bool
        Whether the E-step's sums count the precise claims near the truth
        (:attr:`~models.batch.sums.SourceSums.near_truth`): only the sensitivity check's first
        E-step asks.
    """

    wrong_spread: float
    prior_scale: float
    pooled_strength: float
    graded_strength: float
    spread_strength: float
    bias_strength: float
    learn_bias: bool
    exact_claims: int = 8
    exact_contested: bool = True
    exact_share: float = 0.01
    exact_strength: float = 100.0
    spread_dispersion_max: float = 2.0
    loose_grid: bool = False
    near_check: bool = False


@dataclass(frozen=True, slots=True)
class Encoded:
    """Claims on the working scale plus the fixed structure of the atoms."""

    q: IntArray
    s: IntArray
    kind: IntArray
    y: FloatArray  # point figure (NaN for bounds/ranges)
    a: FloatArray  # lower end of the stated interval (−inf when open)
    b: FloatArray  # upper end (+inf when open)
    spread_factor: FloatArray
    own_var: FloatArray
    log_wrong_factor: FloatArray
    t: FloatArray  # evidence weight 1/k_u
    member: BoolArray  # claim belongs to at least one atom
    all_points: bool
    plain: bool  # every claim is a plain point without own sd or hedge
    n_questions: int
    n_sources: int
    prior_centre: FloatArray  # (Q,)
    prior_sd: FloatArray  # (Q,)
    centre: FloatArray  # (Q,) linear scale: back-transform θ·unit + centre
    unit: FloatArray
    scale: Scale
    # Atoms: K candidate values with their window, and pairs (atom, claim of its question).
    atom_q: IntArray
    atom_v: FloatArray
    atom_lo: FloatArray
    atom_hi: FloatArray
    pair_atom: IntArray
    pair_claim: IntArray
    pair_member: BoolArray
    log_window: FloatArray  # (n,) log w_i of each point claim's rounding window
    exact_var: FloatArray  # (n,) w_i²/12, the variance of a uniform rounding error
    in_atom_question: BoolArray  # (n,) the claim's question has at least one atom
    log_prior_pred: FloatArray  # (n,) log D_i, the claim's density with θ from the prior
    point_order: IntArray  # point claims sorted by (question, figure)


@dataclass(frozen=True, slots=True)
class Params:
    """Source parameters during EM, arrays over sources: c_s, η_s = ε_s/c_s, σ_s, β_s."""

    c: FloatArray
    eta: FloatArray
    sigma: FloatArray
    beta: FloatArray


@dataclass(frozen=True, slots=True)
class Posterior:
    """The per-question posterior and the per-claim responsibilities."""

    mu: FloatArray
    tau: FloatArray
    log_z: FloatArray  # log mass of the continuous part
    log_m: FloatArray  # (K,) log mass of each atom
    p_cont: FloatArray  # (Q,) posterior probability of the continuous part
    p_atom: FloatArray  # (K,)
    r_exact: FloatArray  # (n,)
    r_right: FloatArray
    r_wrong: FloatArray
    ss: FloatArray  # (n,) r_right · E[(y − θ − β)²] (points only)
    dev: FloatArray  # (n,) r_right · E[y − θ] (points only)
    # (Q,) the question's continuous part is the exact one (models.batch.exact): μ is then its
    # median and τ half its central 68.27 % interval.
    exact: BoolArray
    # The exact questions' panels and densities (a models.batch.panels.Panels, which module
    # imports this one), when the E-step was asked to keep them: the quantiles of this
    # posterior read them instead of rebuilding them (models.batch.summary).
    panels: object = None
    # (n,) P(right through the exact component | data) of points outside the atoms on the
    # exact path (models.batch.kernels.split_right), part of r_right; None: all zero.
    r_narrow: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class SourcePrior:
    """The prior of every source's parameters, arrays over sources.

    Attributes
    ----------
    c0, sigma0, beta0 : (S,) float
        Prior credibility, spread and bias of a rated source (NaN, NaN, 0 when unrated).
    rated : (S,) bool
        Whether the source has a usable grade, number or track record; an unrated one is
        shrunk towards ``population`` instead.
    population : PopulationPrior
        The empirical-Bayes centre, re-estimated every M-step.
    """

    c0: FloatArray
    sigma0: FloatArray
    beta0: FloatArray
    rated: BoolArray
    population: PopulationPrior
