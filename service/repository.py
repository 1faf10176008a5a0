"""The repository: every read and write of stored data, in terms of the domain.

Views (and scripts such as the benchmarks) call one method per request; the method opens and
commits its own transaction, so a refused or failing request leaves nothing half-written.
Methods return ORM rows (read-only by convention) or plain dataclasses; what goes to the
statistical core is always made of the core's own dataclasses
(:class:`models.claims.Claim`, :class:`models.claims.Source`,
:class:`models.track_record.ResolvedClaim`), never ORM objects.

History
-------
Each change to a source, question or claim writes a full copy of its fields to the matching
revision table (``create``, ``edit``, ``retract``, ``resolve``), stamped with the time and the
API key's name. :meth:`Repository.estimate_input` with ``as_of`` rebuilds the question, its
claims, their sources and the sources' learned credibility as they stood at that moment, so
the estimate shown then can be reproduced later.

Learning
--------
Whenever something that the track records depend on changes (a resolution; a claim added,
edited or retracted on a resolved question; a source's grade or type; a resolved question's
scale), :meth:`Repository.relearn` runs :func:`models.track_record.learn_track_records` over
every non-retracted claim on every resolved question, in the same transaction, and stores the
result per source (plus a snapshot in the history when a record changed).

Agreement-based credibility is learned on demand (``triangulate learn agreement``, see
:mod:`service.cli_learn`): :meth:`Repository.agreement_input` gives every current claim of every
question in the batch model's vocabulary, :meth:`Repository.store_agreement` replaces the stored
results. Track records are never touched by it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from statistics import NormalDist
from typing import Any, Final, Generic, TypeVar, cast

from sqlalchemy import Select, and_, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models.claims import Claim as CoreClaim
from models.claims import ClaimKind, Hedge, SourceType, validate_claim, validate_scale
from models.claims import Source as CoreSource
from models.credibility import CredibilityComponent, SourceProfile, profile_for
from models.errors import ReconcileError
from models.track_record import ResolvedClaim, TrackRecord, learn_track_records
from service import keys
from service.conditional import Precondition
from service.config import RateLimit
from service.db import WRITE_OPTION
from service.db.orm import (
    CLAIM_FIELDS,
    QUESTION_FIELDS,
    SOURCE_FIELDS,
    AgreementRow,
    ApiKey,
    Claim,
    ClaimRevision,
    Question,
    QuestionRevision,
    Source,
    SourceRevision,
    TrackRecordRow,
    TrackRecordSnapshot,
    WriteBucket,
)
from service.problems import Conflict, Invalid, NotFound, PreconditionFailed
from service.schemas import DEFAULT_LEVELS, ReconcileRequest
from service.security import take_token

__all__ = [
    "AgreementInput",
    "AgreementSummary",
    "AgreementValues",
    "ClaimInput",
    "CredibilitySummary",
    "Page",
    "QuestionInput",
    "Repository",
    "ResolutionInput",
    "SourceInput",
    "credibility_summary",
]

T = TypeVar("T")

#: Key of ``pg_advisory_xact_lock`` held while track records are recomputed ("LERN").
LEARNING_LOCK: Final = 0x4C45524E
#: Key of the lock held while agreement-based credibility is replaced ("AGRE").
AGREEMENT_LOCK: Final = 0x41475245


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


# --- Inputs and outputs -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceInput:
    """A new source, as loaded from ``POST /v1/sources``."""

    id: str
    name: str | None = None
    type: str = "other"
    reliability: str | float | None = None


@dataclass(frozen=True, slots=True)
class QuestionInput:
    """A new question, as loaded from ``POST /v1/questions``."""

    title: str
    unit: str | None = None
    scale: str = "auto"


@dataclass(frozen=True, slots=True)
class ClaimInput:
    """A new claim, as loaded from ``POST /v1/questions/{id}/claims``."""

    source: str
    kind: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    sd: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float = 0.95
    hedge: str = "none"
    origin: str | None = None
    as_of: date | None = None
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
class AgreementSummary:
    """A source's stored agreement-based credibility, as ``GET /v1/sources/{id}`` reports it."""

    credibility: float
    spread: float
    bias: float
    hit_rate: float
    n_claims: int
    n_questions: int
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
class CredibilitySummary:
    """A source's credibility as ``GET /v1/sources/{id}`` reports it."""

    prior: float
    prior_spread: float
    prior_hit_rate: float
    prior_from: str
    grade: str | None
    learned: float | None
    n_resolved: int
    spread: float | None
    bias: float | None
    hit_rate: float | None
    observed_hit_rate: float | None
    calibration: float | None
    n_calibration: int
    used: str
    updated_at: datetime | None = None
    agreement: AgreementSummary | None = None


@dataclass(frozen=True, slots=True)
class EstimateInput:
    """Everything :func:`models.reconcile.reconcile` needs for a stored question."""

    request: ReconcileRequest
    profiles: dict[str, SourceProfile] = field(default_factory=dict)


def credibility_summary(source: Source) -> CredibilitySummary:
    """The prior of ``source``'s grade and, once it has resolved claims, what was learned."""
    prior = profile_for(source.reliability)
    record = source.track_record
    learned = record is not None and record.n_resolved > 0 and record.credibility is not None
    return CredibilitySummary(
        prior=prior.credibility,
        prior_spread=prior.spread,
        prior_hit_rate=prior.hit_rate(),
        prior_from=prior.origin,
        grade=prior.grade,
        learned=record.credibility if record is not None and learned else None,
        n_resolved=record.n_resolved if record is not None else 0,
        spread=record.spread if record is not None else None,
        bias=record.bias if record is not None else None,
        hit_rate=record.hit_rate if record is not None else None,
        observed_hit_rate=record.observed_hit_rate if record is not None else None,
        calibration=record.calibration if record is not None else None,
        n_calibration=record.n_calibration if record is not None else 0,
        used="learned" if learned else prior.origin,
        updated_at=record.updated_at if record is not None else None,
        agreement=_agreement_summary(source.agreement),
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


# --- The repository -----------------------------------------------------------------------------


class Repository:
    """Stored sources, questions, claims, track records and API keys.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Used for every query; the repository commits or rolls back its own writes.
    clock : callable, optional
        Returns the current aware datetime; tests may pin it.
    """

    def __init__(self, session: Session, *, clock: Callable[[], datetime] = utcnow) -> None:
        self.session = session
        self.clock = clock

    # --- Transactions -----------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[datetime]:
        """A write transaction: committed on success, rolled back on any error.

        Yields the time to stamp the changes with, read once the write lock is held.
        """
        if self.session.in_transaction():
            # End a read transaction first, so this one begins as a write (SQLite: BEGIN
            # IMMEDIATE, which queues behind another writer instead of failing later).
            self.session.rollback()
        self.session.connection(execution_options={WRITE_OPTION: True})
        try:
            yield self.clock()
            self.session.commit()
        except StaleDataError:
            self.session.rollback()
            raise PreconditionFailed(
                "Someone else changed this resource at the same moment; fetch it again and "
                "re-apply your change."
            ) from None
        except BaseException:
            self.session.rollback()
            raise

    def _is_postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _paginate(self, query: Select[T], page: int, page_size: int) -> Page[T]:
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        items = list(self.session.scalars(query.limit(page_size).offset((page - 1) * page_size)))
        return Page(items, int(total), page, page_size)

    # --- Sources ----------------------------------------------------------------------------

    def get_source(self, source_id: str) -> Source:
        """The source ``source_id``; 404 when there is none."""
        source = self.session.get(Source, source_id)
        if source is None:
            raise NotFound(f"There is no source with id {source_id!r}.")
        return source

    def list_sources(
        self, *, type: str | None = None, grade: str | None = None, page: int = 1,
        page_size: int = 50,
    ) -> Page[Source]:
        """Sources ordered by id, optionally of one type or grade (``F`` includes ungraded)."""
        query = select(Source).order_by(Source.id)
        if type is not None:
            query = query.where(Source.type == type)
        if grade == "F":
            # F and "not given" mean the same: reliability cannot be judged.
            query = query.where(
                (Source.grade == "F")
                | (Source.grade.is_(None) & Source.reliability_number.is_(None))
            )
        elif grade is not None:
            query = query.where(Source.grade == grade)
        return self._paginate(query, page, page_size)

    def create_source(self, new: SourceInput, actor: str) -> Source:
        """Store a new source; 409 when its id is taken."""
        with self._write() as now:
            if self.session.get(Source, new.id) is not None:
                raise Conflict(f"A source with id {new.id!r} already exists.")
            source = Source(
                id=new.id, name=new.name, type=new.type, **_reliability_columns(new.reliability),
                created_at=now, created_by=actor, updated_at=now, updated_by=actor,
            )
            self.session.add(source)
            try:
                self.session.flush()
            except IntegrityError:
                # Created by a concurrent request between the check and the insert.
                raise Conflict(f"A source with id {new.id!r} already exists.") from None
            self._record_source(source, "create", now, actor)
        return source

    def update_source(
        self, source_id: str, changes: Mapping[str, Any], precondition: Precondition, actor: str
    ) -> Source:
        """Change a source's name, type or reliability (keys of ``changes``)."""
        with self._write() as now:
            source = self.get_source(source_id)
            precondition.check(f"source {source_id!r}", source.version)
            values = dict(changes)
            if "reliability" in values:
                values.update(_reliability_columns(values.pop("reliability")))
            changed = {k: v for k, v in values.items() if getattr(source, k) != v}
            if not changed:
                return source
            for name, value in changed.items():
                setattr(source, name, value)
            source.updated_at, source.updated_by = now, actor
            self.session.flush()
            self._record_source(source, "edit", now, actor)
            if changed.keys() & {"type", "grade", "reliability_number"}:
                # The prior and the type's pooled record enter the learned credibility.
                self._relearn_if_resolved(now)
        return source

    def source_history(self, source_id: str, page: int, page_size: int) -> Page[SourceRevision]:
        """The revisions of a source, oldest first."""
        self.get_source(source_id)
        query = (
            select(SourceRevision)
            .where(SourceRevision.source_id == source_id)
            .order_by(SourceRevision.version)
        )
        return self._paginate(query, page, page_size)

    def _record_source(self, source: Source, action: str, now: datetime, actor: str) -> None:
        self.session.add(SourceRevision(
            source_id=source.id, version=source.version, action=action, recorded_at=now,
            recorded_by=actor, **_copy(source, SOURCE_FIELDS),
        ))

    # --- Questions --------------------------------------------------------------------------

    def get_question(self, question_id: int) -> Question:
        """The question ``question_id``; 404 when there is none."""
        question = self.session.get(Question, question_id)
        if question is None:
            raise NotFound(f"There is no question with id {question_id}.")
        return question

    def list_questions(
        self, *, status: str | None = None, text: str | None = None, page: int = 1,
        page_size: int = 50,
    ) -> Page[Question]:
        """Questions, newest first, optionally by status and by words in the title."""
        query = select(Question).order_by(Question.id.desc())
        if status is not None:
            query = query.where(Question.status == status)
        if text:
            # LIKE wildcards typed by the client are matched literally.
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(
                func.lower(Question.title).like(f"%{escaped.lower()}%", escape="\\")
            )
        return self._paginate(query, page, page_size)

    def create_question(self, new: QuestionInput, actor: str) -> Question:
        """Store a new, open question."""
        with self._write() as now:
            question = Question(
                title=new.title, unit=new.unit, scale=new.scale, status="open",
                created_at=now, created_by=actor, updated_at=now, updated_by=actor,
            )
            self.session.add(question)
            self.session.flush()
            self._record_question(question, "create", now, actor)
        return question

    def update_question(
        self, question_id: int, changes: Mapping[str, Any], precondition: Precondition,
        actor: str,
    ) -> Question:
        """Change a question's title, unit or scale (keys of ``changes``)."""
        with self._write() as now:
            question = self.get_question(question_id)
            precondition.check(f"question {question_id}", question.version)
            changed = {k: v for k, v in changes.items() if getattr(question, k) != v}
            if not changed:
                return question
            if "scale" in changed:
                self._check_scale(question, changed["scale"])
            for name, value in changed.items():
                setattr(question, name, value)
            question.updated_at, question.updated_by = now, actor
            self.session.flush()
            self._record_question(question, "edit", now, actor)
            if "scale" in changed and question.status == "resolved":
                self._relearn(now)
        return question

    def resolve_question(
        self, question_id: int, resolution: ResolutionInput, precondition: Precondition,
        actor: str,
    ) -> Question:
        """Record the true value, mark the question resolved and relearn every track record.

        A resolved question can be resolved again (a corrected figure); the earlier
        resolution stays in the question's history.
        """
        with self._write() as now:
            question = self.get_question(question_id)
            precondition.check(f"question {question_id}", question.version)
            if question.scale == "log" and resolution.value <= 0:
                raise Invalid(
                    "value",
                    f"The question is on the log scale, so its true value must be positive; "
                    f"got {resolution.value!r}.",
                )
            question.status = "resolved"
            question.resolution_value = resolution.value
            question.resolution_date = resolution.date
            question.resolution_reference = resolution.reference
            question.resolved_at, question.resolved_by = now, actor
            question.updated_at, question.updated_by = now, actor
            self.session.flush()
            self._record_question(question, "resolve", now, actor)
            self._relearn(now)
        return question

    def question_history(
        self, question_id: int, page: int, page_size: int
    ) -> Page[QuestionRevision]:
        """The revisions of a question, oldest first."""
        self.get_question(question_id)
        query = (
            select(QuestionRevision)
            .where(QuestionRevision.question_id == question_id)
            .order_by(QuestionRevision.version)
        )
        return self._paginate(query, page, page_size)

    def _record_question(
        self, question: Question, action: str, now: datetime, actor: str
    ) -> None:
        self.session.add(QuestionRevision(
            question_id=question.id, version=question.version, action=action, recorded_at=now,
            recorded_by=actor, **_copy(question, QUESTION_FIELDS),
        ))

    def _check_scale(self, question: Question, scale: str) -> None:
        """422 naming ``scale`` when a claim or the resolution cannot live on ``scale``."""
        if scale != "log":
            return
        claims = self._current_claims(question.id)
        try:
            validate_scale(tuple(_core_claim(c) for c in claims), "log")
        except ReconcileError:
            raise Invalid(
                "scale",
                "Cannot switch to the log scale: a claim of this question states a value that "
                "is not positive.",
            ) from None
        if question.resolution_value is not None and question.resolution_value <= 0:
            raise Invalid(
                "scale", "Cannot switch to the log scale: the true value is not positive."
            )

    # --- Claims -----------------------------------------------------------------------------

    def get_claim(self, question_id: int, claim_id: int) -> Claim:
        """Claim ``claim_id`` of question ``question_id``; 404 when there is none."""
        self.get_question(question_id)
        claim = self.session.get(Claim, claim_id)
        if claim is None or claim.question_id != question_id:
            raise NotFound(f"Question {question_id} has no claim with id {claim_id}.")
        return claim

    def list_claims(
        self, question_id: int, *, source: str | None = None, kind: str | None = None,
        include_retracted: bool = False, page: int = 1, page_size: int = 50,
    ) -> Page[Claim]:
        """A question's claims in the order they were entered."""
        self.get_question(question_id)
        query = select(Claim).where(Claim.question_id == question_id).order_by(Claim.id)
        if source is not None:
            query = query.where(Claim.source_id == source)
        if kind is not None:
            query = query.where(Claim.kind == kind)
        if not include_retracted:
            query = query.where(Claim.retracted.is_(False))
        return self._paginate(query, page, page_size)

    def create_claim(self, question_id: int, new: ClaimInput, actor: str) -> Claim:
        """Store a claim on a question; 422 naming the field when it cannot be used."""
        with self._write() as now:
            question = self.get_question(question_id)
            values = {
                "source_id": new.source, "kind": new.kind, "value": new.value, "low": new.low,
                "high": new.high, "sd": new.sd, "ci_low": new.ci_low, "ci_high": new.ci_high,
                "ci_level": new.ci_level, "hedge": new.hedge, "origin": new.origin,
                "as_of": new.as_of, "quote": new.quote, "url": new.url, "retracted": False,
            }
            self._check_claim(question, values)
            claim = Claim(
                question_id=question_id, entered_at=now, entered_by=actor, updated_at=now,
                updated_by=actor, **values,
            )
            self.session.add(claim)
            self.session.flush()
            self._record_claim(claim, "create", now, actor, reason=None)
            if question.status == "resolved":
                self._relearn(now)
        return claim

    def update_claim(
        self, question_id: int, claim_id: int, changes: Mapping[str, Any],
        precondition: Precondition, actor: str, reason: str | None = None,
    ) -> Claim:
        """Edit a claim: a new revision with the changed fields; the old one stays."""
        with self._write() as now:
            claim = self.get_claim(question_id, claim_id)
            precondition.check(f"claim {claim_id}", claim.version)
            if claim.retracted:
                raise Conflict(
                    f"Claim {claim_id} is retracted; retracted claims stay as they were."
                )
            values = _copy(claim, CLAIM_FIELDS)
            values.update({("source_id" if k == "source" else k): v for k, v in changes.items()})
            changed = {k: v for k, v in values.items() if getattr(claim, k) != v}
            if not changed:
                return claim
            question = self.get_question(question_id)
            self._check_claim(question, values)
            for name, value in changed.items():
                setattr(claim, name, value)
            claim.updated_at, claim.updated_by = now, actor
            self.session.flush()
            self._record_claim(claim, "edit", now, actor, reason)
            if question.status == "resolved":
                self._relearn(now)
        return claim

    def retract_claim(
        self, question_id: int, claim_id: int, precondition: Precondition, actor: str,
        reason: str | None = None,
    ) -> Claim:
        """Retract a claim: it stops counting, and stays listed with its history."""
        with self._write() as now:
            claim = self.get_claim(question_id, claim_id)
            precondition.check(f"claim {claim_id}", claim.version)
            if claim.retracted:
                raise Conflict(f"Claim {claim_id} is already retracted.")
            claim.retracted = True
            claim.updated_at, claim.updated_by = now, actor
            self.session.flush()
            self._record_claim(claim, "retract", now, actor, reason)
            if self.get_question(question_id).status == "resolved":
                self._relearn(now)
        return claim

    def claim_history(
        self, question_id: int, claim_id: int, page: int, page_size: int
    ) -> Page[ClaimRevision]:
        """The revisions of a claim, oldest first."""
        self.get_claim(question_id, claim_id)
        query = (
            select(ClaimRevision)
            .where(ClaimRevision.claim_id == claim_id)
            .order_by(ClaimRevision.version)
        )
        return self._paginate(query, page, page_size)

    def _record_claim(
        self, claim: Claim, action: str, now: datetime, actor: str, reason: str | None
    ) -> None:
        self.session.add(ClaimRevision(
            claim_id=claim.id, version=claim.version, action=action, reason=reason,
            recorded_at=now, recorded_by=actor, **_copy(claim, CLAIM_FIELDS),
        ))

    def _check_claim(self, question: Question, values: Mapping[str, Any]) -> None:
        """422 naming the field when a claim's numbers, source or scale cannot be used."""
        if self.session.get(Source, values["source_id"]) is None:
            raise Invalid(
                "source",
                f"Unknown source {values['source_id']!r}; create it with POST /v1/sources "
                "first.",
            )
        core = _core_claim_from(values)
        try:
            validate_claim(core, 0)
            validate_scale((core,), question.scale)
        except ReconcileError as exc:
            # The core names fields as in a reconcile request (claims.0.value).
            path = (exc.field or "claims.0").removeprefix("claims.0").lstrip(".") or "_schema"
            raise Invalid(path, exc.message) from None

    def _current_claims(self, question_id: int) -> list[Claim]:
        query = (
            select(Claim)
            .where(Claim.question_id == question_id, Claim.retracted.is_(False))
            .order_by(Claim.id)
        )
        return list(self.session.scalars(query))

    # --- Estimates --------------------------------------------------------------------------

    def estimate_input(
        self, question_id: int, *, as_of: datetime | None = None,
        levels: Sequence[float] = DEFAULT_LEVELS, method: str = "auto",
    ) -> EstimateInput:
        """The reconcile input of a question, now or as it stood at ``as_of``.

        Claims come in the order they were entered (their ids), retracted ones left out. Each
        source is used with its learned profile when it has resolved claims, else with its
        grade's prior. Sources are listed in the order their first claim appears.
        """
        if as_of is None:
            question_state: Question | QuestionRevision = self.get_question(question_id)
            claims: Sequence[Claim | ClaimRevision] = self._current_claims(question_id)
            source_ids = _first_seen(c.source_id for c in claims)
            query = select(Source).where(Source.id.in_(source_ids))
            sources: dict[str, Source | SourceRevision] = {
                s.id: s for s in self.session.scalars(query)
            }
            records = {
                r.source_id: r
                for r in self.session.scalars(
                    select(TrackRecordRow).where(TrackRecordRow.source_id.in_(source_ids))
                )
            }
            tracks: Mapping[str, TrackRecordRow | TrackRecordSnapshot] = records
        else:
            question_state = self._question_as_of(question_id, as_of)
            claims = self._claims_as_of(question_id, as_of)
            source_ids = _first_seen(c.source_id for c in claims)
            sources = dict(self._sources_as_of(source_ids, as_of))
            tracks = self._tracks_as_of(source_ids, as_of)
        profiles = {
            sid: profile_from_json(record.profile)
            for sid, record in tracks.items()
            if record.n_resolved > 0
        }
        request = ReconcileRequest(
            sources=tuple(_core_source(sid, sources[sid]) for sid in source_ids),
            claims=tuple(_core_claim(c) for c in claims),
            question=question_state.title,
            unit=question_state.unit,
            scale=question_state.scale,
            levels=tuple(levels),
            method=method,
        )
        return EstimateInput(request, profiles)

    def _question_as_of(self, question_id: int, as_of: datetime) -> QuestionRevision:
        self.get_question(question_id)
        revision = self.session.scalar(
            select(QuestionRevision)
            .where(QuestionRevision.question_id == question_id,
                   QuestionRevision.recorded_at <= as_of)
            .order_by(QuestionRevision.version.desc())
            .limit(1)
        )
        if revision is None:
            raise Invalid(
                "as_of", f"Question {question_id} did not exist yet at {as_of.isoformat()}."
            )
        return revision

    def _claims_as_of(self, question_id: int, as_of: datetime) -> list[ClaimRevision]:
        latest = (
            select(ClaimRevision.claim_id, func.max(ClaimRevision.version).label("version"))
            .join(Claim, Claim.id == ClaimRevision.claim_id)
            .where(Claim.question_id == question_id, ClaimRevision.recorded_at <= as_of)
            .group_by(ClaimRevision.claim_id)
            .subquery()
        )
        query = (
            select(ClaimRevision)
            .join(latest, and_(ClaimRevision.claim_id == latest.c.claim_id,
                               ClaimRevision.version == latest.c.version))
            .where(ClaimRevision.retracted.is_(False))
            .order_by(ClaimRevision.claim_id)
        )
        return list(self.session.scalars(query))

    def _sources_as_of(
        self, source_ids: Sequence[str], as_of: datetime
    ) -> Iterator[tuple[str, SourceRevision]]:
        latest = (
            select(SourceRevision.source_id, func.max(SourceRevision.version).label("version"))
            .where(SourceRevision.source_id.in_(source_ids), SourceRevision.recorded_at <= as_of)
            .group_by(SourceRevision.source_id)
            .subquery()
        )
        query = select(SourceRevision).join(
            latest, and_(SourceRevision.source_id == latest.c.source_id,
                         SourceRevision.version == latest.c.version)
        )
        for revision in self.session.scalars(query):
            yield revision.source_id, revision

    def _tracks_as_of(
        self, source_ids: Sequence[str], as_of: datetime
    ) -> dict[str, TrackRecordSnapshot]:
        # Snapshots of one source are written in time order, so the highest id before as_of is
        # the record that was current then.
        latest = (
            select(func.max(TrackRecordSnapshot.id))
            .where(TrackRecordSnapshot.source_id.in_(source_ids),
                   TrackRecordSnapshot.recorded_at <= as_of)
            .group_by(TrackRecordSnapshot.source_id)
        )
        query = select(TrackRecordSnapshot).where(TrackRecordSnapshot.id.in_(latest))
        return {s.source_id: s for s in self.session.scalars(query)}

    # --- Learning ---------------------------------------------------------------------------

    def resolved_claims(self) -> list[ResolvedClaim]:
        """Every non-retracted claim on a resolved question, with the question's true value."""
        query = (
            select(Claim, Question)
            .join(Question, Question.id == Claim.question_id)
            .where(Question.status == "resolved", Claim.retracted.is_(False))
            .order_by(Claim.question_id, Claim.id)
        )
        by_question: dict[int, tuple[Question, list[Claim]]] = {}
        for claim, question in self.session.execute(query):
            by_question.setdefault(question.id, (question, []))[1].append(claim)
        records: list[ResolvedClaim] = []
        for question, claims in by_question.values():
            truth = cast(float, question.resolution_value)
            scale = _learning_scale(question.scale, truth, claims)
            records.extend(
                ResolvedClaim(
                    source=c.source_id, kind=cast(ClaimKind, c.kind), truth=truth, scale=scale,
                    question=str(question.id), value=c.value, low=c.low, high=c.high, sd=c.sd,
                    ci_low=c.ci_low, ci_high=c.ci_high, ci_level=c.ci_level,
                    hedge=cast(Hedge, c.hedge),
                )
                for c in claims
            )
        return records

    def relearn(self) -> dict[str, TrackRecord]:
        """Recompute and store every source's track record from all resolved claims.

        The writes that need it do this themselves, in their own transaction; this is for
        scripts (say, after importing a history).
        """
        with self._write() as now:
            return self._relearn(now)

    def _relearn_if_resolved(self, now: datetime) -> None:
        if self.session.scalar(select(Question.id).where(Question.status == "resolved").limit(1)):
            self._relearn(now)

    def _relearn(self, now: datetime) -> dict[str, TrackRecord]:
        # Inside the caller's write transaction. On PostgreSQL an advisory lock makes concurrent
        # resolutions learn one after the other, so that none is computed from data missing
        # the other's resolution (SQLite's BEGIN IMMEDIATE already serialises writers).
        if self._is_postgresql():
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": LEARNING_LOCK})
        self.session.flush()
        sources = list(self.session.scalars(select(Source)))
        priors = {s.id: profile_for(s.reliability) for s in sources}
        types = {s.id: s.type for s in sources}
        learned = learn_track_records(self.resolved_claims(), priors, types)
        current = {r.source_id: r for r in self.session.scalars(select(TrackRecordRow))}
        for source_id, record in learned.items():
            values: dict[str, Any] = {
                "n_resolved": int(record.n_resolved),
                "credibility": _float_or_none(record.credibility),
                "spread": _float_or_none(record.spread),
                "bias": _float_or_none(record.bias),
                "hit_rate": _float_or_none(record.hit_rate),
                "observed_hit_rate": _float_or_none(record.observed_hit_rate),
                "calibration": _float_or_none(record.calibration),
                "n_calibration": int(record.n_calibration),
                "profile": profile_to_json(record.profile),
            }
            row = current.get(source_id)
            if row is not None and all(getattr(row, k) == v for k, v in values.items()):
                continue
            if row is None:
                self.session.add(TrackRecordRow(source_id=source_id, updated_at=now, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)
                row.updated_at = now
            self.session.add(TrackRecordSnapshot(source_id=source_id, recorded_at=now, **values))
        self.session.flush()
        return learned

    # --- Agreement-based credibility --------------------------------------------------------

    def current_profiles(self) -> dict[str, SourceProfile]:
        """Every source's profile as estimates use it: track record when resolved, else prior."""
        profiles: dict[str, SourceProfile] = {}
        for source in self.session.scalars(select(Source)).unique():
            record = source.track_record
            if record is not None and record.n_resolved > 0:
                profiles[source.id] = profile_from_json(record.profile)
            else:
                profiles[source.id] = profile_for(source.reliability)
        return profiles

    def agreement_input(self) -> AgreementInput:
        """Every non-retracted claim of every question (open or resolved), for batch learning.

        Questions with a zero or negative figure (value, bound, range end or interval end) are
        left out and counted: the batch model learns on the log scale.
        """
        query = (
            select(Claim.question_id, Claim.source_id, Claim.kind, Claim.value, Claim.low,
                   Claim.high, Claim.sd, Claim.ci_low, Claim.ci_high, Claim.ci_level,
                   Claim.hedge, Claim.origin)
            .where(Claim.retracted.is_(False))
            .order_by(Claim.question_id, Claim.id)
        )
        by_question: dict[int, list[dict[str, Any]]] = {}
        skipped: set[int] = set()
        for row in self.session.execute(query):
            (question_id, source_id, kind, value, low, high, sd, ci_low, ci_high, ci_level,
             hedge, origin) = row
            figures = (value, low, high, ci_low, ci_high)
            if any(x is not None and x <= 0 for x in figures):
                skipped.add(question_id)
                continue
            if sd is None and ci_low is not None and ci_high is not None and value is not None:
                sd = _sd_from_interval(value, ci_low, ci_high, ci_level)
            by_question.setdefault(question_id, []).append({
                "question": str(question_id), "source": source_id, "kind": kind,
                "value": value, "low": low, "high": high, "sd": sd, "hedge": hedge,
                "origin": origin,
            })
        records = [
            record for question_id, claims in by_question.items() if question_id not in skipped
            for record in claims
        ]
        n_questions = sum(1 for question_id in by_question if question_id not in skipped)
        return AgreementInput(records, self.current_profiles(), n_questions, len(skipped))

    def store_agreement(self, values: Mapping[str, AgreementValues]) -> datetime:
        """Replace every source's agreement-based credibility with ``values``; returns its time.

        Sources missing from ``values`` (no current claim on a usable question any more) lose
        their row: a stale figure would claim an agreement nobody measured. Track records are
        not touched.
        """
        with self._write() as now:
            if self._is_postgresql():
                self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                     {"key": AGREEMENT_LOCK})
            current = {r.source_id: r for r in self.session.scalars(select(AgreementRow))}
            for source_id, row in current.items():
                if source_id not in values:
                    self.session.delete(row)
            for source_id, v in values.items():
                fields: dict[str, Any] = {
                    "credibility": float(v.credibility), "spread": float(v.spread),
                    "bias": float(v.bias), "hit_rate": float(v.hit_rate),
                    "n_claims": int(v.n_claims), "n_questions": int(v.n_questions),
                    "computed_at": now,
                }
                existing = current.get(source_id)
                if existing is None:
                    self.session.add(AgreementRow(source_id=source_id, **fields))
                else:
                    for name, value in fields.items():
                        setattr(existing, name, value)
            self.session.flush()
        return now

    # --- Write rate limits ------------------------------------------------------------------

    def take_write_token(self, key_id: str, limit: RateLimit) -> float:
        """Take one write token from the bucket of ``key_id``, shared by every worker.

        Returns 0.0 when granted, else the seconds until a token is back. The bucket row is
        created full on a key's first write, then read under a row lock (PostgreSQL: SELECT …
        FOR UPDATE; SQLite: the transaction's write lock), so concurrent writers of one key
        queue on it and none is granted a token twice.
        """
        insert = pg_insert if self._is_postgresql() else sqlite_insert
        with self._write() as now:
            moment = now.timestamp()
            self.session.execute(
                insert(WriteBucket)
                .values(key_id=key_id, tokens=float(limit.count), refilled_at=moment)
                .on_conflict_do_nothing(index_elements=["key_id"])
            )
            bucket = self.session.execute(
                select(WriteBucket).where(WriteBucket.key_id == key_id).with_for_update()
                .execution_options(populate_existing=True)
            ).scalar_one()
            tokens, wait = take_token(bucket.tokens, bucket.refilled_at, moment, limit)
            bucket.tokens, bucket.refilled_at = tokens, max(moment, bucket.refilled_at)
        return wait

    # --- API keys ---------------------------------------------------------------------------

    def create_key(self, name: str, *, cost: int = keys.SCRYPT_N) -> str:
        """Store a new key called ``name`` and return it (the only time it is shown).

        Raises
        ------
        ValueError
            When ``name`` is not 1–64 letters, digits, ``.``, ``_`` or ``-``.
        service.problems.Conflict
            When a key (even a revoked one) already has this name.
        """
        if not keys.NAME_PATTERN.fullmatch(name):
            raise ValueError(
                f"Invalid key name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-', "
                "starting with a letter or digit."
            )
        new = keys.generate(cost)
        with self._write() as now:
            if self.session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
                raise Conflict(f"A key named {name!r} already exists (names are never reused).")
            self.session.add(ApiKey(
                name=name, key_id=new.key_id, kdf=new.kdf, salt=new.salt, digest=new.digest,
                created_at=now,
            ))
        return new.token

    def revoke_key(self, name: str) -> ApiKey:
        """Revoke the key ``name`` (no-op when it already is); 404 when there is none."""
        with self._write() as now:
            key = self.session.scalar(select(ApiKey).where(ApiKey.name == name))
            if key is None:
                raise NotFound(f"There is no key named {name!r}.")
            if key.revoked_at is None:
                key.revoked_at = now
        return key

    def list_keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, by name."""
        return list(self.session.scalars(select(ApiKey).order_by(ApiKey.name)))

    def find_key(self, key_id: str) -> ApiKey | None:
        """The key whose public id is ``key_id``."""
        return self.session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))


# --- Conversions to the core's dataclasses -------------------------------------------------------


def _first_seen(ids: Iterable[str]) -> list[str]:
    """Distinct ``ids`` in order of first appearance (sources listed as their claims are)."""
    return list(dict.fromkeys(ids))


def _float_or_none(x: float | None) -> float | None:
    return None if x is None else float(x)


def _core_claim_from(values: Mapping[str, Any]) -> CoreClaim:
    return CoreClaim(
        source=values["source_id"], kind=cast(ClaimKind, values["kind"]), value=values["value"],
        low=values["low"], high=values["high"], sd=values["sd"], ci_low=values["ci_low"],
        ci_high=values["ci_high"], ci_level=values["ci_level"],
        hedge=cast(Hedge, values["hedge"]), origin=values["origin"], as_of=values["as_of"],
    )


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
