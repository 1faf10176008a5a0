"""What the repository takes and gives besides ORM rows, and the conversions of stored rows
to the core's dataclasses (claims, sources, learned profiles)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from statistics import NormalDist
from typing import Any, Final, Generic, Literal, TypeAlias, TypeVar, cast

from models.claims import Claim as CoreClaim
from models.claims import Source as CoreSource
from models.claims import SourceType, validate_scale
from models.credibility import CredibilityComponent, SourceProfile, profile_for
from models.request import ReconcileRequest
from models.track_record import NOTHING_LEARNED, LearnedValues, learned_fields
from service.store.orm import (
    CLAIM_FIELDS,
    AgreementRow,
    Claim,
    ClaimRevision,
    Source,
    SourceRevision,
)

__all__ = [
    "AgreementInput",
    "AgreementSummary",
    "AgreementValues",
    "LearningState",
    "ClaimInput",
    "CredibilitySummary",
    "EstimateInput",
    "Page",
    "QuestionInput",
    "ResolutionInput",
    "SourceInput",
    "credibility_summary",
    "profile_from_json",
    "profile_to_json",
    "utcnow",
]


T = TypeVar("T")




def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


# --- Inputs and outputs -------------------------------------------------------------------------


#: A new source, as loaded from ``POST /v1/sources``: the core's source as it is (a claim adds
#: what is kept for the record, :class:`ClaimInput`; a source adds nothing).
SourceInput: TypeAlias = CoreSource


@dataclass(frozen=True, slots=True)
class QuestionInput:
    """A new question, as loaded from ``POST /v1/questions``."""

    title: str
    unit: str | None = None
    scale: str = "auto"
    dynamics: str = "static"
    category: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimInput(CoreClaim):
    """A new claim: the core's claim plus what is kept for the record (its wording, its link)."""

    quote: str | None = None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ResolutionInput:
    """The true value of a question, as loaded from ``POST /v1/questions/{id}/resolution``."""

    value: float
    date: date | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items and where it sits in the whole."""

    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        """Number of pages (at least 1, so an empty list has one empty page)."""
        return max(1, math.ceil(self.total / self.page_size))


@dataclass(frozen=True, slots=True)
class AgreementValues:
    """What agreement across the stored questions says about one source (log scale)."""

    credibility: float
    spread: float
    bias: float
    hit_rate: float
    n_claims: int
    n_questions: int


@dataclass(frozen=True, slots=True)
class AgreementSummary(AgreementValues):
    """A source's stored agreement-based credibility, as ``GET /v1/sources/{id}`` reports it:
    the values and when they were computed."""

    computed_at: datetime


@dataclass(frozen=True, slots=True)
class AgreementInput:
    """Every current claim in the batch model's vocabulary, with the sources' current profiles.

    Attributes
    ----------
    records : list of dict
        One mapping per claim for :meth:`models.batch.ClaimTable.from_records`: ``question``
        (its id as text), ``source``, ``kind``, ``value``, ``low``, ``high``, ``sd`` (a
        confidence interval turned into the equivalent log-normal sd), ``hedge``, ``origin``.
        Only questions whose figures are all positive (the batch model learns on the log scale).
    priors : dict of source id to SourceProfile
        Each source's learned track record when it has resolved claims, else its grade's prior.
    n_questions : int
        Questions in ``records``.
    n_skipped : int
        Questions left out because a figure is zero or negative.
    """

    records: list[dict[str, Any]]
    priors: dict[str, SourceProfile]
    n_questions: int
    n_skipped: int


@dataclass(frozen=True, slots=True)
class LearningState:
    """Whether the stored track records include every change they depend on.

    Attributes
    ----------
    status : {"current", "pending"}
        ``pending`` while a change (a resolution, a claim on a resolved question…) is not yet
        learned: the records shown are those learned up to ``as_of``.
    as_of : datetime or None
        Time of the newest change the stored records include; None before anything was
        learned.
    learned_at : datetime or None
        When they were stored.
    """

    status: Literal["current", "pending"]
    as_of: datetime | None
    learned_at: datetime | None


@dataclass(frozen=True, slots=True)
class CredibilitySummary(LearnedValues):
    """A source's credibility as ``GET /v1/sources/{id}`` reports it: its grade's prior and the
    values its track record learned (:class:`~models.track_record.LearnedValues`; none learned
    before any of its claims was resolved)."""

    prior: float
    prior_spread: float
    prior_hit_rate: float
    prior_from: str
    grade: str | None
    learned: float | None
    used: str
    updated_at: datetime | None = None
    agreement: AgreementSummary | None = None
    learning: LearningState | None = None

    @property
    def p_right(self) -> float | None:
        """The learned P(right) estimates use (the contract's name for ``credibility``)."""
        return self.credibility


@dataclass(frozen=True, slots=True)
class EstimateInput:
    """Everything :func:`models.reconcile.reconcile` needs for a stored question, and the
    stored id of each of its claims (in the order of ``request.claims``)."""

    request: ReconcileRequest
    profiles: dict[str, SourceProfile] = field(default_factory=dict)
    claim_ids: tuple[int, ...] = ()


def credibility_summary(
    source: Source, learning: LearningState | None = None
) -> CredibilitySummary:
    """The prior of ``source``'s grade and, once it has resolved claims, what was learned
    (as of ``learning``)."""
    prior = profile_for(source.reliability)
    record = source.track_record
    learned = record is not None and record.n_resolved > 0 and record.credibility is not None
    profile = profile_from_json(record.profile) if record is not None and learned else None
    values = learned_fields(record if record is not None else NOTHING_LEARNED)
    if not learned:
        values["credibility"] = None  # estimates use the prior, not a stored credibility
    return CredibilitySummary(
        **values,
        prior=prior.credibility,
        prior_spread=prior.spread,
        prior_hit_rate=prior.hit_rate(),
        prior_from=prior.origin,
        grade=prior.grade,
        # How good the source is, on the grade scale: the equivalent credibility of the learned
        # profile (models.credibility); credibility (p_right) is the P(right) estimates use.
        learned=profile.equivalent_credibility() if profile is not None else None,
        used="learned" if learned else prior.origin,
        updated_at=record.updated_at if record is not None else None,
        agreement=_agreement_summary(source.agreement),
        learning=learning,
    )


def _agreement_summary(row: AgreementRow | None) -> AgreementSummary | None:
    if row is None:
        return None
    return AgreementSummary(
        credibility=row.credibility, spread=row.spread, bias=row.bias, hit_rate=row.hit_rate,
        n_claims=row.n_claims, n_questions=row.n_questions, computed_at=row.computed_at,
    )


def profile_to_json(profile: SourceProfile) -> dict[str, Any]:
    """A :class:`SourceProfile` as plain JSON (floats, not numpy scalars)."""
    return {
        "origin": profile.origin,
        "grade": profile.grade,
        "components": [
            {"weight": float(k.weight), "c": float(k.c), "sigma": float(k.sigma),
             "bias": float(k.bias)}
            for k in profile.components
        ],
    }


def profile_from_json(data: Mapping[str, Any]) -> SourceProfile:
    """The inverse of :func:`profile_to_json`."""
    components = tuple(
        CredibilityComponent(float(k["weight"]), float(k["c"]), float(k["sigma"]),
                             float(k["bias"]))
        for k in data["components"]
    )
    return SourceProfile(components, data["origin"], data.get("grade"))


def _reliability_columns(reliability: str | float | None) -> dict[str, Any]:
    if isinstance(reliability, str):
        return {"grade": reliability, "reliability_number": None}
    return {"grade": None, "reliability_number": reliability}


def _copy(row: object, names: Sequence[str]) -> dict[str, Any]:
    return {name: getattr(row, name) for name in names}



# --- Conversions to the core's dataclasses -------------------------------------------------------


def _first_seen(ids: Iterable[str]) -> list[str]:
    """Distinct ``ids`` in order of first appearance (sources listed as their claims are)."""
    return list(dict.fromkeys(ids))


#: The core claim's fields (the store's columns bear the same names but for source_id).
_CORE_CLAIM_FIELDS: Final = tuple(f.name for f in fields(CoreClaim))


def _core_claim_from(values: Mapping[str, Any]) -> CoreClaim:
    return CoreClaim(**{
        name: values["source_id" if name == "source" else name] for name in _CORE_CLAIM_FIELDS
    })


def _core_claim(claim: Claim | ClaimRevision) -> CoreClaim:
    return _core_claim_from(_copy(claim, CLAIM_FIELDS))


def _core_source(source_id: str, source: Source | SourceRevision) -> CoreSource:
    reliability = source.grade if source.grade is not None else source.reliability_number
    return CoreSource(
        id=source_id, name=source.name, type=cast(SourceType, source.type),
        reliability=reliability,
    )


def _sd_from_interval(value: float, low: float, high: float, level: float) -> float:
    """The sd (in the figure's units) whose log-normal spread matches a stated interval.

    The batch table takes a claim's own uncertainty as an sd, read on the log scale as
    s² = log(1 + (sd/value)²); an interval [low, high] at ``level`` means s = log(high/low)/(2z).
    """
    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    s = math.log(high / low) / (2.0 * z)
    return value * math.sqrt(math.expm1(s * s))


def _learning_scale(scale: str, truth: float, claims: Sequence[Claim]) -> str:
    """The working scale a resolved question's claims are scored on (never ``auto``)."""
    if scale != "auto":
        return scale
    if truth <= 0:
        return "linear"
    return validate_scale(tuple(_core_claim(c) for c in claims), "auto")
