"""The tables of the service, as SQLAlchemy 2 typed ORM classes.

Every mutable record keeps two things: its *current* row (what lists filter and views show) and
an append-only *revision* table holding a full copy of the editable fields after each change,
stamped with when and by whom (the API key's name). Nothing is ever deleted: a retraction is a
revision with ``retracted`` set, an edit is a revision with the new values. Revisions are what
``GET …/estimate?as_of=`` reads to rebuild the state of a past moment, and a track-record
history does the same for learned credibility.

The editable fields of a record are declared once in a mixin (``SourceFields``…) and shared by
the current table and its revision table, so the two cannot drift apart; likewise every current
table takes its version and update stamp from :class:`Versioned`, every revision table its id,
version, action and stamp from :class:`Revised`. (The ORM lists those mixin columns after a
table's own ones; the migrations fix the order of the columns in the database.)

``version`` is SQLAlchemy's ``version_id_col``: every UPDATE checks and increments it, so two
transactions that read the same version cannot both write (the second gets ``StaleDataError``,
answered with 412), whatever the HTTP layer checked before.

Times are stored in UTC (:class:`UTCDateTime`); SQLite keeps them as ISO text without an offset,
PostgreSQL as ``timestamp with time zone``; both come back as aware datetimes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, Final

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship

__all__ = [
    "AgreementRow",
    "ApiKey",
    "LearningStateRow",
    "Base",
    "Claim",
    "ClaimRevision",
    "Question",
    "QuestionRevision",
    "SharedErrorRow",
    "Source",
    "SourceRevision",
    "TrackRecordRow",
    "TrackRecordSnapshot",
    "UTCDateTime",
]

#: Lengths shared with the schemas, so a value the API accepts always fits its column.
ID_LENGTH: Final = 128
NAME_LENGTH: Final = 200
TITLE_LENGTH: Final = 500
UNIT_LENGTH: Final = 64
TEXT_LENGTH: Final = 2000
KEY_NAME_LENGTH: Final = 64
#: A question's category (its shared error is learned per category).
CATEGORY_LENGTH: Final = 64

# Deterministic constraint names: Alembic can then drop or alter them by name on every backend.
NAMING_CONVENTION: Final = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; naive datetimes are refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"Naive datetime {value!r}; store aware datetimes only.")
        value = value.astimezone(UTC)
        # SQLite has no time zones: store the UTC wall time, so text order is time order.
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base: shared metadata with the naming convention, UTC datetimes."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), float: Double()}


def _actor() -> Mapped[str]:
    return mapped_column(String(KEY_NAME_LENGTH))


class Versioned:
    """A current row: its ``version``, which every UPDATE checks and increments (SQLAlchemy's
    ``version_id_col``), and who updated it last, when."""

    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = _actor()

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {"version_id_col": cls.version}


class Revised:
    """A revision row: its own id, the version of the record it holds, the action that made it
    (``create``, ``edit``…), and who recorded it, when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int]
    action: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = _actor()


# --- Sources ----------------------------------------------------------------------------------


class SourceFields:
    """The editable fields of a source."""

    name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    type: Mapped[str] = mapped_column(String(32))
    #: Admiralty grade A–F, or null when a number or nothing was given.
    grade: Mapped[str | None] = mapped_column(String(1))
    #: Credibility in (0, 1) when given as a number instead of a grade.
    reliability_number: Mapped[float | None]


class Source(Versioned, SourceFields, Base):
    """A source of claims (an agency, an outlet, a person), identified by a chosen id."""

    __tablename__ = "sources"
    __table_args__ = (
        CheckConstraint(
            "grade IS NULL OR reliability_number IS NULL", name="one_reliability"
        ),
        Index(None, "type"),
    )

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = _actor()

    track_record: Mapped[TrackRecordRow | None] = relationship(
        back_populates="source", lazy="joined"
    )
    agreement: Mapped[AgreementRow | None] = relationship(back_populates="source", lazy="joined")

    @property
    def reliability(self) -> str | float | None:
        """The reliability as the API and the core take it: a grade, a number or None."""
        return self.grade if self.grade is not None else self.reliability_number


class SourceRevision(Revised, SourceFields, Base):
    """A source's fields after one change (its creation included)."""

    __tablename__ = "source_revisions"
    __table_args__ = (UniqueConstraint("source_id", "version"),)

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))


# --- Questions --------------------------------------------------------------------------------


class QuestionFields:
    """The fields of a question that can change: its wording and its resolution."""

    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    unit: Mapped[str | None] = mapped_column(String(UNIT_LENGTH))
    scale: Mapped[str] = mapped_column(String(8))
    #: How the quantity moves in time: static, cumulative or drifting (models.claims).
    dynamics: Mapped[str] = mapped_column(String(16), server_default="static")
    #: ``open`` until the true value is recorded, then ``resolved``.
    status: Mapped[str] = mapped_column(String(8))
    resolution_value: Mapped[float | None]
    resolution_date: Mapped[date | None]
    resolution_reference: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    #: The kind of question (e.g. "Sen-G"): its shared error is learned from the resolved
    #: questions of the same category (models.shared_error). None: the default.
    category: Mapped[str | None] = mapped_column(String(CATEGORY_LENGTH))


class Question(Versioned, QuestionFields, Base):
    """One quantity that claims are made about, e.g. "North Korean soldiers in Russia"."""

    __tablename__ = "questions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved')", name="status"),
        Index(None, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str] = _actor()
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(KEY_NAME_LENGTH))


class QuestionRevision(Revised, QuestionFields, Base):
    """A question's fields after one change (creation, edit or resolution)."""

    __tablename__ = "question_revisions"
    __table_args__ = (UniqueConstraint("question_id", "version"),)

    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))


# --- Claims -----------------------------------------------------------------------------------


class ClaimFields:
    """The fields of a claim that an edit or a retraction can change."""

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[float | None]
    low: Mapped[float | None]
    high: Mapped[float | None]
    sd: Mapped[float | None]
    ci_low: Mapped[float | None]
    ci_high: Mapped[float | None]
    ci_level: Mapped[float]
    hedge: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    as_of: Mapped[date | None]
    #: What the figure speaks of in time: the level on as_of, or the eventual total.
    horizon: Mapped[str] = mapped_column(String(8), server_default="level")
    quote: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    url: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))
    #: A retracted claim no longer counts anywhere but stays listed with its history.
    retracted: Mapped[bool]


#: The names of :class:`ClaimFields`, in order (copied between a claim and its revisions).
CLAIM_FIELDS: Final[tuple[str, ...]] = tuple(ClaimFields.__annotations__)
SOURCE_FIELDS: Final[tuple[str, ...]] = ("name", "type", "grade", "reliability_number")
QUESTION_FIELDS: Final[tuple[str, ...]] = (
    "title", "unit", "scale", "dynamics", "status", "resolution_value", "resolution_date",
    "resolution_reference", "category",
)


class Claim(Versioned, ClaimFields, Base):
    """A figure a source gave for a question, in its current revision."""

    __tablename__ = "claims"
    __table_args__ = (Index(None, "question_id"), Index(None, "source_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"))
    entered_at: Mapped[datetime]
    entered_by: Mapped[str] = _actor()


class ClaimRevision(Revised, ClaimFields, Base):
    """A claim's fields after one change: ``create``, ``edit`` or ``retract``."""

    __tablename__ = "claim_revisions"
    __table_args__ = (
        UniqueConstraint("claim_id", "version"),
        Index(None, "claim_id", "recorded_at"),
    )

    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"))
    #: Why the claim was edited or retracted, when the editor said.
    reason: Mapped[str | None] = mapped_column(String(TEXT_LENGTH))


# --- Learned credibility ----------------------------------------------------------------------


class TrackRecordFields:
    """What :func:`models.track_record.learn_track_records` says about one source."""

    n_resolved: Mapped[int]
    credibility: Mapped[float | None]
    spread: Mapped[float | None]
    bias: Mapped[float | None]
    hit_rate: Mapped[float | None]
    observed_hit_rate: Mapped[float | None]
    calibration: Mapped[float | None]
    n_calibration: Mapped[int]
    #: The :class:`models.credibility.SourceProfile` to reconcile with, as plain JSON
    #: (``{"origin", "grade", "components": [{"weight", "c", "sigma", "bias"}]}``).
    profile: Mapped[dict[str, Any]] = mapped_column(JSON)


class TrackRecordRow(TrackRecordFields, Base):
    """A source's current track record (one row per source once anything was resolved)."""

    __tablename__ = "track_records"

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    updated_at: Mapped[datetime]

    source: Mapped[Source] = relationship(back_populates="track_record")


class TrackRecordSnapshot(TrackRecordFields, Base):
    """A source's track record from the moment it changed until the next snapshot."""

    __tablename__ = "track_record_history"
    __table_args__ = (Index(None, "source_id", "recorded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"))
    recorded_at: Mapped[datetime]


class LearningStateRow(Base):
    """Whether the track records include every change they depend on (one row, id 1).

    Every write that track records depend on adds one to ``generation``; the learning job
    stores the records it learned from the data of some generation and sets
    ``learned_generation`` to it. The records are current when the two are equal, pending
    while ``generation`` is ahead. A missing row means generation 0, nothing to learn.
    """

    __tablename__ = "learning_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Count of the writes that track records depend on.
    generation: Mapped[int]
    #: When the latest of those writes was made.
    changed_at: Mapped[datetime | None]
    #: The generation whose data the stored track records were learned from.
    learned_generation: Mapped[int]
    #: ``changed_at`` of that generation: the newest change the records include.
    learned_as_of: Mapped[datetime | None]
    #: When the learning job (or the write itself) stored them.
    learned_at: Mapped[datetime | None]


class SharedErrorRow(Base):
    """The shared error learned for one category on one working scale
    (:func:`models.shared_error.fit_shared_error`), with the questions behind it. The row of
    category ``""`` pools every category of that scale."""

    __tablename__ = "shared_errors"

    category: Mapped[str] = mapped_column(String(CATEGORY_LENGTH), primary_key=True)
    scale: Mapped[str] = mapped_column(String(8), primary_key=True)
    #: s: log units on the log scale, the quantity's units on the linear scale.
    value: Mapped[float]
    n_questions: Mapped[int]
    #: log-likelihood at s minus at 0: how clearly the questions call for a shared error.
    log_likelihood_gain: Mapped[float]
    updated_at: Mapped[datetime]


class AgreementRow(Base):
    """A source's credibility learned from agreement across every stored question.

    Written by ``triangulate learn agreement`` (:func:`models.batch.BatchEstimator.fit` over
    every current claim), which replaces the whole table on each run; shown next to the
    resolution-based :class:`TrackRecordRow`, which it never changes.
    """

    __tablename__ = "agreement_credibility"

    source_id: Mapped[str] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    #: Posterior mean probability that a claim of the source is right, in (0, 1).
    credibility: Mapped[float]
    #: Spread σ_s and bias β_s of a right claim on the log scale.
    spread: Mapped[float]
    bias: Mapped[float]
    #: P(a figure lands within ±0.25 log units), as :meth:`SourceProfile.hit_rate`.
    hit_rate: Mapped[float]
    n_claims: Mapped[int]
    n_questions: Mapped[int]
    computed_at: Mapped[datetime]

    source: Mapped[Source] = relationship(back_populates="agreement")


# --- API keys ---------------------------------------------------------------------------------


class ApiKey(Base):
    """An API key, stored as a salted slow hash (see :mod:`service.store.keys`); never in clear."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(KEY_NAME_LENGTH), unique=True)
    #: The public part of the key (``tri_<key_id>_<secret>``), used to find the row.
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    #: Which KDF and parameters made ``digest``, e.g. ``scrypt:n=16384,r=8,p=1``.
    kdf: Mapped[str] = mapped_column(String(64))
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    digest: Mapped[bytes] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class WriteBucket(Base):
    """The write-rate token bucket of one API key, shared by every worker and host.

    Read and updated under a row lock in its own write transaction by
    :meth:`service.store.repository.Repository.take_write_token`.
    """

    __tablename__ = "write_buckets"

    key_id: Mapped[str] = mapped_column(ForeignKey("api_keys.key_id"), primary_key=True)
    #: Tokens left at ``refilled_at`` (at most the limit's count).
    tokens: Mapped[float]
    #: When the bucket was last refilled, in seconds since the epoch.
    refilled_at: Mapped[float]
