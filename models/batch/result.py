"""Results of batch truth discovery: per-question and per-source estimates, and the fit.

:class:`BatchFit` is what :meth:`~models.batch.BatchEstimator.fit` returns; its parts are
:class:`QuestionEstimates`, :class:`SourceEstimates`, the :class:`PopulationPrior` that unrated
sources were shrunk towards and any :class:`BatchWarning`. :class:`SourceParameters` are the
fixed source parameters that :meth:`~models.batch.BatchEstimator.posterior` takes, and
:func:`learned_profiles` turns a fit into source profiles to store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from models.batch.common import BoolArray, FloatArray, IntArray, Scale

if TYPE_CHECKING:  # models.credibility imports scipy; only learned_profiles needs it
    from models.credibility import SourceProfile

@dataclass(frozen=True, slots=True)
class BatchWarning:
    """Legal but suspicious input, with how many questions or sources it concerns."""

    code: str
    message: str
    count: int


@dataclass(frozen=True, slots=True)
class PopulationPrior:
    """The empirical-Bayes centre that unrated sources are shrunk towards.

    Attributes
    ----------
    credibility : float
        Precision-weighted mean credibility of the unrated sources.
    exact_share : float
        Pooled share of right claims that are exact copies, over every source.
    spread : float
        Precision-weighted geometric mean spread of the unrated sources.
    spread_dispersion : float
        v, the variance of the sources' log-spreads about their prior centres (the width of
        the spread prior, :mod:`models.batch.spread`); 0.125 = 1/(2ν) at ν = 4 until learned.
    """

    credibility: float
    exact_share: float
    spread: float
    spread_dispersion: float = 0.125


@dataclass(frozen=True, slots=True)
class SourceEstimates:
    """What the archive says about each source (arrays over sources, in ``ids`` order).

    Attributes
    ----------
    ids : tuple of str
    credibility : (S,) float
        Posterior mean of c_s = ε_s + ρ_s.
    credibility_low, credibility_high : (S,) float
        The range of c_s: the model's 90 % interval (logit-symmetric about its Beta
        posterior's centre, from the information of that posterior less what its claims'
        unresolved labels miss, Louis 1982), widened to cover the credibility under a wider
        wrong-claim law where precise sources show that wrong claims avoid the truth (an
        uncertainty region, :mod:`models.batch.sensitivity`); so not centred on
        ``credibility`` (:func:`models.batch.summary.source_estimates`).
    exact_share : (S,) float
        ε_s / c_s, the share of its right claims that are exact copies.
    spread, bias : (S,) float
        σ_s and β_s on the working scale.
    n_claims : (S,) int
    prior_credibility : (S,) float
        The centre its credibility was shrunk towards.
    rated : (S,) bool
        Whether the prior came from a grade, number or track record (else the population).
    interval_spread : (S,) float, optional
        The spread σ̃_s that the questions' intervals used: ``spread`` widened by what the
        archive leaves unknown of the source's spread and bias
        (:func:`models.batch.spread.predictive_spread`); the spread of a learned profile.
    """

    ids: tuple[str, ...]
    credibility: FloatArray
    credibility_low: FloatArray
    credibility_high: FloatArray
    exact_share: FloatArray
    spread: FloatArray
    bias: FloatArray
    n_claims: IntArray
    prior_credibility: FloatArray
    rated: BoolArray
    interval_spread: FloatArray | None = None


@dataclass(frozen=True, slots=True)
class QuestionEstimates:
    """The reconciled value of each question (arrays over questions, in ``ids`` order).

    Attributes
    ----------
    ids : tuple of str
    value : (Q,) float
        Posterior median, in the quantity's units.
    levels : tuple of float
        Interval levels, in request order.
    low, high : (Q, L) float
        Equal-tailed interval ends per level, in the quantity's units.
    n_claims, n_sources : (Q,) int
    p_exact : (Q,) float
        Posterior probability that the truth is one of the exactly agreed figures.
    spread : (Q,) float
        τ_q, the standard deviation of the continuous part of the posterior (working scale);
        where that part is exact (:mod:`models.batch.exact`), half the posterior's central
        68.27 % interval, which exists even without a standard deviation (a lone claim's
        Cauchy part).
    """

    ids: tuple[str, ...]
    value: FloatArray
    levels: tuple[float, ...]
    low: FloatArray
    high: FloatArray
    n_claims: IntArray
    n_sources: IntArray
    p_exact: FloatArray
    spread: FloatArray


@dataclass(frozen=True, slots=True)
class SourceParameters:
    """Fixed source parameters for :meth:`BatchEstimator.posterior`, arrays over sources.

    Attributes
    ----------
    credibility : (S,) float
        c_s in (0, 1).
    exact_share : (S,) float
        η_s in (0, 1).
    spread : (S,) float
        σ_s > 0 on the working scale.
    bias : (S,) float
        β_s on the working scale.
    """

    credibility: FloatArray
    exact_share: FloatArray
    spread: FloatArray
    bias: FloatArray


@dataclass(frozen=True, slots=True)
class BatchFit:
    """Result of :meth:`BatchEstimator.fit`.

    Attributes
    ----------
    questions : QuestionEstimates
    sources : SourceEstimates
    p_wrong : (n,) float
        Posterior probability that each claim (in table order) is wrong.
    scale : {"log", "linear"}
    population : PopulationPrior
    iterations : int
    converged : bool
    warnings : tuple of BatchWarning
    """

    questions: QuestionEstimates
    sources: SourceEstimates
    p_wrong: FloatArray
    scale: Scale
    population: PopulationPrior
    iterations: int
    converged: bool
    warnings: tuple[BatchWarning, ...] = field(default=())


def learned_profiles(sources: SourceEstimates, min_claims: int = 1
                     ) -> dict[str, SourceProfile]:
    """Agreement-based profiles of the sources, to store next to resolution-based ones.

    Parameters
    ----------
    sources : SourceEstimates
        A fit's sources (``BatchFit.sources``; the Dask engine keeps only these).
    min_claims : int
        Sources with fewer claims are left out.

    Returns
    -------
    dict of source id to SourceProfile
        ``origin="learned"`` profiles with the learned credibility and bias, the spread
        that the questions' intervals used (``interval_spread``) and, as
        ``learned_spread``, the learned one (``spread``), on which a later batch fit centres
        its prior.
    """
    from models.credibility import learned_profile

    out: dict[str, SourceProfile] = {}
    src = sources
    for k, sid in enumerate(src.ids):
        if int(src.n_claims[k]) < min_claims:
            continue
        c = float(np.clip(src.credibility[k], 1e-6, 1 - 1e-6))
        # The spread that the batch's intervals used, so that a question reconciled alone
        # with these profiles gets the batch's answer (issue 13).
        spread = src.spread if src.interval_spread is None else src.interval_spread
        # The learned σ̂ rides along: a batch fit's prior must centre on the estimate, not on
        # σ̃, or each relearn widens again (bench/batch_relearn.py).
        out[sid] = learned_profile(c, float(spread[k]), float(src.bias[k]),
                                   learned_spread=float(src.spread[k]))
    return out
