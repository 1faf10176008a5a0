"""Frozen result objects shared by every estimator.

All numbers are on the quantity's own scale (soldiers, not log-soldiers) unless a name says
otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

from models.findings import Finding, Summary

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from models.claims import Source
    from models.credibility import SourceProfile

Method = Literal["robust", "random_effects", "fixed_effect"]


@dataclass(frozen=True, slots=True)
class Interval:
    """A central interval: ``low`` and ``high`` at probability ``level``.

    An end is None when the evidence sets no limit on that side (bounds on the other side
    only; see :mod:`models.bounds`).
    """

    level: float
    low: float | None
    high: float | None


@dataclass(frozen=True, slots=True)
class Estimate:
    """The reconciled value.

    Attributes
    ----------
    value : float or None
        Posterior median (robust) or pooled mean (fixed/random effects); None when the
        evidence is bounds on one side only ("at least 100,000"), which support no central
        figure.
    intervals : tuple of Interval
        One per requested level, in request order: equal-tailed credible intervals (robust) or
        confidence intervals (pooling).
    se : float or None
        Standard error of the pooled mean on the working scale (pooling methods only).
    basis : {"fit", "bounds"}
        ``fit``: value and intervals are the fitted model's. ``bounds``: every claim the answer
        keeps is a bound, and they follow the rule of :mod:`models.bounds`.
    p_bounds_hold : float or None
        With ``basis="bounds"``: the chance, by the grades and hedges of the bounds the answer
        keeps, that all of them hold; the range assumes they do.
    bounds : tuple of int
        With ``basis="bounds"``: the claims the range rests on (empty when the bounds split).
    """

    value: float | None
    intervals: tuple[Interval, ...]
    se: float | None = None
    basis: Literal["fit", "bounds"] = "fit"
    p_bounds_hold: float | None = None
    bounds: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimAssessment:
    """What one claim did to the estimate.

    Attributes
    ----------
    index : int
        Position of the claim in the request.
    source : str
        The claim's source id.
    weight : float
        Sensitivity of the estimate to the claim's figure: how far the estimate moves per unit
        shift of the figure (on the working scale), normalised so that all claims' weights sum
        to 1. Not how much the claim counted: a discounted figure or a slack bound has weight
        0 (see ``share``).
    influence : float
        ``estimate_without - estimate``: how far (in the quantity's units) the estimate moves
        when this claim's evidence is removed.
    estimate_without : float or None
        The estimate without this claim (``None`` when it was the only evidence).
    outlier : bool
        Whether the claim is judged inconsistent with the rest.
    p_wrong : float or None
        Robust model: posterior probability that the claim is wrong.
    residual : float or None
        Pooling methods: externally studentized residual.
    estimate_without_unit : float or None
        The estimate without every claim of this claim's evidence unit (its echoes too; the
        same as ``estimate_without`` for a claim alone in its unit); None when that unit was
        the only evidence.
    share : float
        How much the estimate rests on the claim: its evidence unit's leave-out shift as a
        share of all units', split among the unit's claims (definition and a worked example
        in :mod:`models.findings`). The shares of all claims sum to 1.
    """

    index: int
    source: str
    weight: float
    influence: float
    estimate_without: float | None
    outlier: bool
    p_wrong: float | None = None
    residual: float | None = None
    estimate_without_unit: float | None = None
    share: float = 0.0

    def with_share(self, share: float, weight: float) -> ClaimAssessment:
        """This assessment with ``share`` and ``weight`` set, every other field kept.

        Spelled out rather than :func:`dataclasses.replace`, which reads the fields by name and
        costs several times more; one call per claim per answer.
        """
        return ClaimAssessment(self.index, self.source, weight, self.influence,
                               self.estimate_without, self.outlier, self.p_wrong, self.residual,
                               self.estimate_without_unit, share)


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two claims that cannot both be right within their sources' spreads."""

    a: int
    b: int
    compatibility: float


@dataclass(frozen=True, slots=True)
class Disagreement:
    """How much the claims disagree.

    Attributes
    ----------
    detected : bool
        True when at least one pair conflicts or a claim is an outlier.
    conflicts : tuple of Conflict
        Pairs of claim indices whose compatibility is below the threshold.
    clusters : tuple of tuple of int
        Maximal groups of claims that can all be right at once (their plausible sets share a
        value), largest first; a loose bound may belong to several.
    outliers : tuple of int
        Indices of outlying claims.
    modes : int
        Number of separated modes of the posterior (robust model), 1 for pooling.
    i2 : float or None
        Share of the spread of point claims beyond what their stated uncertainty explains:
        metafor's τ²-based I² (:func:`models.mixture_stats.i2_tau2`) over one point claim per
        evidence unit, each with its right part's variance.
    """

    detected: bool
    conflicts: tuple[Conflict, ...] = ()
    clusters: tuple[tuple[int, ...], ...] = ()
    outliers: tuple[int, ...] = ()
    modes: int = 1
    i2: float | None = None


@dataclass(frozen=True, slots=True)
class Warning:
    """Legal but suspicious input: a machine-readable ``code`` and a sentence."""

    code: str
    message: str
    claims: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class Heterogeneity:
    """Between-claim heterogeneity of a pooling fit.

    ``i2`` follows metafor's τ²-based definition, I² = τ² / (τ² + s²) with s² the "typical"
    within-claim variance of Higgins & Thompson (2002); ``q`` is Cochran's Q.
    """

    tau2: float
    tau: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_pvalue: float
    convention: str


@dataclass(frozen=True, slots=True)
class PredictionInterval:
    """Where the true value of a new, similar claim's target is expected to fall."""

    level: float
    low: float
    high: float
    convention: str


@dataclass(frozen=True, slots=True)
class SourceUse:
    """The credibility a source was used with."""

    id: str
    credibility: float
    spread: float
    origin: str
    grade: str | None


def source_uses(
    sources: Sequence[Source], profiles: Mapping[str, SourceProfile]
) -> tuple[SourceUse, ...]:
    """Each source with the credibility, spread, origin and grade it was used with."""
    return tuple(
        SourceUse(s.id, profiles[s.id].credibility, profiles[s.id].spread, profiles[s.id].origin,
                  profiles[s.id].grade)
        for s in sources
    )


@dataclass(frozen=True, slots=True)
class SharedErrorUse:
    """The shared error an answer used, and where it came from.

    Attributes
    ----------
    value : float
        s, in log units (log scale) or the quantity's units (linear scale).
    origin : {"request", "category", "pooled", "default"}
        Stated in the request; learned from the question's category; the pooled value of
        every category on that scale (the category has too few resolved questions); or
        ``models.shared_error.DEFAULT_SHARED_ERROR`` (no history).
    category : str or None
        The question's category, when it has one.
    n_questions : int
        Resolved questions behind a learned value (0 otherwise).
    """

    value: float
    origin: Literal["request", "category", "pooled", "default"]
    category: str | None = None
    n_questions: int = 0


@dataclass(frozen=True, slots=True)
class Posterior:
    """The posterior density of the quantity on a grid (robust model), for plots."""

    values: tuple[float, ...]
    density: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Moment:
    """The quantity on one date, or its eventual total (``date`` None, ``total`` True).

    ``claims`` are the claims that speak of this moment directly (made on that date about the
    level, or about the total).
    """

    date: date | None
    value: float
    intervals: tuple[Interval, ...]
    claims: tuple[int, ...]
    total: bool = False


@dataclass(frozen=True, slots=True)
class TimeView:
    """A moving quantity followed in time (see :mod:`models.dynamics`).

    Attributes
    ----------
    dynamics : {"cumulative", "drifting"}
    at : datetime.date or None
        The date of the result's ``estimate`` (None when no claim is dated).
    trajectory : tuple of Moment
        The level on every claim date and on ``at``, in time order.
    total : Moment or None
        The eventual total, when some claim speaks of it.
    drift : float
        The standard deviation of the change over one day on the working scale.
    drift_learned : bool
        Whether ``drift`` was learned from the claims (else stated).
    """

    dynamics: Literal["cumulative", "drifting"]
    at: date | None
    trajectory: tuple[Moment, ...]
    total: Moment | None
    drift: float
    drift_learned: bool


@dataclass(frozen=True, slots=True)
class ReconcileResult:
    """Everything a reconcile call returns.

    ``findings`` are the typed facts the ``explanation`` is rendered from (in its order);
    ``summary`` is the headline that fits the evidence (see :mod:`models.findings`).
    ``fit_value`` is the fitted model's central value when the reported estimate is not it
    (``estimate.basis == "bounds"``); leave-one-out comparisons (each claim's
    ``estimate_without``) are made against :attr:`centre`. ``time`` follows a moving quantity
    in time; ``estimate`` is then its level on ``time.at``. ``precision`` is the request's
    absolute precision on the linear scale (the sd of a claim that states none), kept so that
    the words and the API judge a range's ends against the precision the model used.
    """

    method: Method
    scale: Literal["log", "linear"]
    estimate: Estimate
    claims: tuple[ClaimAssessment, ...]
    disagreement: Disagreement
    warnings: tuple[Warning, ...]
    explanation: str
    sources: tuple[SourceUse, ...] = ()
    heterogeneity: Heterogeneity | None = None
    prediction: PredictionInterval | None = None
    posterior: Posterior | None = field(default=None, repr=False)
    findings: tuple[Finding, ...] = ()
    summary: Summary | None = None
    fit_value: float | None = None
    time: TimeView | None = None
    shared_error: SharedErrorUse | None = None
    precision: float | None = None

    def with_claims(self, claims: tuple[ClaimAssessment, ...]) -> ReconcileResult:
        """This result with ``claims`` set, every other field kept.

        Spelled out rather than :func:`dataclasses.replace`, which reads the seventeen fields by
        name and costs about three times more; twice per answer (this and :meth:`with_words`).
        """
        return ReconcileResult(
            self.method, self.scale, self.estimate, claims, self.disagreement, self.warnings,
            self.explanation, self.sources, self.heterogeneity, self.prediction, self.posterior,
            self.findings, self.summary, self.fit_value, self.time, self.shared_error,
            self.precision)

    def with_words(self, findings: tuple[Finding, ...], summary: Summary | None,
                   explanation: str) -> ReconcileResult:
        """This result with its findings, summary and explanation set, every other field kept
        (spelled out, as :meth:`with_claims`)."""
        return ReconcileResult(
            self.method, self.scale, self.estimate, self.claims, self.disagreement,
            self.warnings, explanation, self.sources, self.heterogeneity, self.prediction,
            self.posterior, findings, summary, self.fit_value, self.time, self.shared_error,
            self.precision)

    @property
    def centre(self) -> float:
        """The fitted model's central value: what each ``estimate_without`` compares with."""
        if self.fit_value is not None:
            return self.fit_value
        if self.estimate.value is None:
            raise ValueError("A result without a central value must carry fit_value.")
        return self.estimate.value
