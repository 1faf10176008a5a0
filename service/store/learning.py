"""Learning credibility from stored data.

Track records depend on every non-retracted claim on every resolved question, on the sources'
grades and types and on the resolved questions' scales. A write that changes any of these
(a resolution; a claim added, edited or retracted on a resolved question; a source's grade or
type; a resolved question's scale) adds one to the *generation* in ``learning_state``. Then:

* ``in_write`` (the repository's default, for scripts): :meth:`LearningStore._relearn` runs
  :func:`models.track_record.learn_track_records` over all of it in the same transaction, so
  the records are current when the write returns; its cost grows with the archive.
* ``deferred`` (the HTTP service): the write stops there, and its cost does not depend on the
  archive. The records are *pending* until :meth:`LearningStore.learn_pending` (the learning
  job, run by :class:`service.store.learner.Learner` after the write) has relearned them from
  the data of that generation or a later one. It reads and learns outside any write
  transaction and takes the write lock only to store what changed.

Either way the stored records are exactly what a full relearn gives (the same function on the
same data), and :meth:`LearningStore.learning_state` says whether they include every change
(``current``) or not yet (``pending``), and up to which change (``as_of``). A record is stored,
with a snapshot in the history, only when it changed.

Agreement-based credibility is learned on demand (``triangulate learn agreement``, see
:mod:`service.cli.learn`): :meth:`LearningStore.agreement_input` gives every current claim of
every question in the batch model's vocabulary (:meth:`LearningStore.agreement_chunks` the same
in chunks of whole questions, for the Dask engine), :meth:`LearningStore.store_agreement` replaces
the stored results. Track records are never touched by it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Protocol, cast

from sqlalchemy import Select, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from models.credibility import SourceProfile, profile_for
from models.shared_error import SharedErrorFit
from models.track_record import ResolvedClaim, TrackRecord, learn_track_records, learned_fields
from service.store.inputs import (
    AgreementInput,
    AgreementValues,
    LearningState,
    _core_claim,
    _learning_scale,
    _sd_from_interval,
    profile_from_json,
    profile_to_json,
)
from service.store.orm import (
    AgreementRow,
    Claim,
    LearningStateRow,
    Question,
    Source,
    TrackRecordRow,
    TrackRecordSnapshot,
)
from service.store.shared_errors import (
    SharedErrorQuestion,
    SharedErrorStore,
    fitted_shared_error,
    linear_precision,
)

__all__ = ["AGREEMENT_LOCK", "LEARNING_LOCK", "LearningState", "LearningStore", "RecordEngine",
           "warn_unconverged"]


#: Key of ``pg_advisory_xact_lock`` held while track records are recomputed ("LERN").
LEARNING_LOCK: Final = 0x4C45524E
#: Key of the lock held while agreement-based credibility is replaced ("AGRE").
AGREEMENT_LOCK: Final = 0x41475245


_LOG: Final = logging.getLogger(__name__)

#: Relative (and, near zero, absolute) change in any learned number of a record since its last
#: history snapshot past which a record moved only through its type's pooled record gets a new
#: snapshot. 1 %: an ``?as_of=`` estimate, rebuilt from snapshots, then uses credibilities,
#: spreads and biases within 1 % of those shown at the time (a resolution moves the other
#: records of a type by a median 0.1 % and at most a few % in a small archive: 40 sources,
#: 20 resolved questions), while the history stops growing with every source at every
#: resolution.
SNAPSHOT_DRIFT: Final = 1e-2

#: Rounds of :meth:`LearningStore._learn_jointly` after the first fit, and the relative change
#: of every category's s below which it stops. Each round leaves about 1/n of the gap in s²
#: (n claims a question): a category of two-poll races is within 1 % in about six.
JOINT_ROUNDS: Final = 8
JOINT_RTOL: Final = 1e-2

#: The one row of ``learning_state``.
_STATE_ID: Final = 1

#: The shared-error fits by (category, scale).
SharedFits = Mapping[tuple[str, str], SharedErrorFit]


class RecordEngine(Protocol):
    """Where :meth:`LearningStore.relearn` learns: the track records given the shared errors,
    and the shared errors given the track records (reads only)."""

    def learn(self, shared: SharedFits | None = None) -> dict[str, TrackRecord]:
        """Every source's track record, each claim's residual holding its shared error."""
        ...

    def fit_shared(self, learned: Mapping[str, TrackRecord]) -> dict[tuple[str, str],
                                                                      SharedErrorFit]:
        """The shared error of each (category, scale) given ``learned``."""
        ...


def warn_unconverged(learned: Mapping[str, TrackRecord]) -> None:
    """Log when the EM of a learning run stopped before converging."""
    if not all(r.converged for r in learned.values()):
        _LOG.warning("Learning track records stopped after %d EM iterations without "
                     "converging; the records are stored as they are.",
                     max(r.iterations for r in learned.values()))


class LearningStore(SharedErrorStore):
    """Track records learned from resolved questions, and agreement-based credibility."""

    # --- Learning ---------------------------------------------------------------------------

    def resolved_claims(
        self, shared: Mapping[tuple[str, str], SharedErrorFit] | None = None
    ) -> list[ResolvedClaim]:
        """Every non-retracted claim on a resolved question, with the question's true value.

        ``shared`` (the fits of :meth:`_learn_shared_errors`) gives each claim of a static
        question with a category its question's shared error, as an estimate would use it
        (:func:`~service.store.shared_errors.fitted_shared_error`); without it, 0.
        """
        return self._resolved_records(shared, None)

    def resolved_claim_chunks(
        self, questions_per_chunk: int,
        shared: Mapping[tuple[str, str], SharedErrorFit] | None = None,
    ) -> Iterator[list[ResolvedClaim]]:
        """:meth:`resolved_claims` in chunks of whole questions, in order of question id.

        Each chunk reads the next ``questions_per_chunk`` resolved questions that have a
        current claim (keyset paging on the question id, as :meth:`agreement_chunks`), so that
        a caller holds one chunk at a time; concatenated, the chunks are the records of
        :meth:`resolved_claims`, in the same order.
        """
        query = (select(Claim.question_id).join(Question, Question.id == Claim.question_id)
                 .where(Question.status == "resolved", Claim.retracted.is_(False))
                 .group_by(Claim.question_id))
        for ids in self._id_pages(query, Claim.question_id, questions_per_chunk):
            yield self._resolved_records(shared, ids)

    def shared_error_chunks(self, questions_per_chunk: int) -> Iterator[list[SharedErrorQuestion]]:
        """What the shared-error fit reads (:meth:`_shared_error_questions`), in chunks of at
        most ``questions_per_chunk`` questions by keyset paging on the question id."""
        query = select(Question.id).where(Question.status == "resolved",
                                          Question.category.is_not(None),
                                          Question.dynamics == "static")
        for ids in self._id_pages(query, Question.id, questions_per_chunk):
            yield self._shared_error_questions(ids)

    def _id_pages(self, query: Select[Any], key: Any,
                  per_page: int) -> Iterator[list[int]]:
        """The ids ``query`` selects, ``per_page`` at a time in order of ``key``.

        Keyset paging (each page starts after the last id of the one before), so a page costs
        the same wherever it falls and a caller holds one page at a time.
        """
        if per_page < 1:
            raise ValueError("questions_per_chunk must be at least 1")
        after = None
        while True:
            page = query.order_by(key).limit(per_page)
            if after is not None:
                page = page.where(key > after)
            ids = list(self.session.scalars(page))
            if not ids:
                return
            yield ids
            after = ids[-1]

    def resolved_counts(self) -> tuple[int, int]:
        """Current claims on resolved questions, and those questions."""
        row = self.session.execute(
            select(func.count(Claim.id), func.count(func.distinct(Claim.question_id)))
            .join(Question, Question.id == Claim.question_id)
            .where(Question.status == "resolved", Claim.retracted.is_(False))
        ).one()
        return int(row[0]), int(row[1])

    def source_priors(self) -> tuple[dict[str, SourceProfile], dict[str, str]]:
        """Every source's prior (from its grade) and type, as the track records start from."""
        # In id order: the learning sums over sources in this order (type pooling), and a
        # table's row order on PostgreSQL changes as rows are updated, so without it two
        # relearns of the same data could differ in the last bits.
        sources = list(self.session.scalars(select(Source).order_by(Source.id)))
        return {s.id: profile_for(s.reliability) for s in sources}, {s.id: s.type for s in sources}

    def _resolved_records(
        self, shared: Mapping[tuple[str, str], SharedErrorFit] | None,
        question_ids: Sequence[int] | None,
    ) -> list[ResolvedClaim]:
        """The records of :meth:`resolved_claims` of ``question_ids`` (None: every question)."""
        query = (
            select(Claim, Question)
            .join(Question, Question.id == Claim.question_id)
            .where(Question.status == "resolved", Claim.retracted.is_(False))
            .order_by(Claim.question_id, Claim.id)
        )
        if question_ids is not None:
            query = query.where(Claim.question_id.in_(question_ids))
        by_question: dict[int, tuple[Question, list[Claim]]] = {}
        for claim, question in self.session.execute(query):
            by_question.setdefault(question.id, (question, []))[1].append(claim)
        records: list[ResolvedClaim] = []
        for question, claims in by_question.values():
            truth = cast(float, question.resolution_value)
            scale = _learning_scale(question.scale, truth, claims)
            precision = linear_precision(claims) if scale == "linear" else None
            s_q = (fitted_shared_error(shared, question.category, scale)
                   if shared and question.dynamics == "static" else 0.0)
            records.extend(
                ResolvedClaim(claim=_core_claim(c), truth=truth, scale=scale,
                              question=str(question.id), precision=precision, shared=s_q)
                for c in claims
            )
        return records

    def relearn(self, engine: RecordEngine | None = None) -> dict[str, TrackRecord]:
        """Recompute and store every source's track record from all resolved claims.

        ``in_write`` writes do this themselves, in their own transaction; this is for scripts
        (say, after importing a history) and ``triangulate learn records``. ``engine`` learns
        the records and fits the shared errors elsewhere (a Dask cluster,
        :mod:`service.batch.dask_records`), from the same data and with the same results;
        by default, in this process. It reads inside the write transaction, so what it reads
        is what is stored against.
        """
        with self._write() as now:
            self._lock_learning()
            learned = self._relearn(now, since=None, engine=engine)
            self.session.execute(
                update(LearningStateRow).where(LearningStateRow.id == _STATE_ID)
                .values(learned_generation=LearningStateRow.generation,
                        learned_as_of=LearningStateRow.changed_at, learned_at=now)
            )
            return learned

    def learning_state(self, *, kick: bool = True) -> LearningState:
        """Whether the stored track records are current, and up to which change.

        When they are pending and ``kick`` is true, ``on_learning_pending`` is called, so that
        a change left unlearned (the process that made it stopped first) gets learned.
        """
        row = self._state_row()
        if row is None:
            return LearningState("current", None, None)
        pending = row.learned_generation < row.generation
        if pending and kick and self.on_learning_pending is not None:
            self.on_learning_pending()
        return LearningState("pending" if pending else "current", row.learned_as_of,
                             row.learned_at)

    def learn_pending(self) -> LearningState:
        """The learning job: relearn the track records when a change is pending.

        Reads the generation, then the data, and learns outside any write transaction; takes
        the write lock only to store the records that changed, unless a newer result was
        stored meanwhile. Changes made while it learned stay pending for the next run.

        Returns
        -------
        LearningState
            The state after this run.
        """
        if self.session.in_transaction():
            self.session.rollback()
        row = self._state_row()
        if row is None or row.learned_generation >= row.generation:
            self.session.rollback()
            return self.learning_state(kick=False)
        generation, changed_at, since = row.generation, row.changed_at, row.learned_as_of
        # The data read after the generation includes at least that generation's changes.
        learned, shared = self._learn_jointly()
        with self._write() as now:
            self._lock_learning()
            row = self._state_row(for_update=True)
            if row is not None and row.learned_generation < generation:
                self._store_records(learned, now, self._new_evidence(since))
                self._store_shared_errors(shared, now)
                row.learned_generation = generation
                row.learned_as_of = changed_at
                row.learned_at = now
        return self.learning_state(kick=False)

    def _state_row(self, *, for_update: bool = False) -> LearningStateRow | None:
        query = (select(LearningStateRow).where(LearningStateRow.id == _STATE_ID)
                 .execution_options(populate_existing=True))
        if for_update:
            query = query.with_for_update()
        return self.session.scalar(query)

    def _learning_changed(self, now: datetime) -> None:
        """Inside a write: something the track records depend on changed.

        Adds one to the generation; ``in_write`` then relearns at once, ``deferred`` leaves
        the records pending and has ``on_learning_pending`` called once the write commits.
        """
        insert = pg_insert if self._is_postgresql() else sqlite_insert
        self.session.execute(
            insert(LearningStateRow)
            .values(id=_STATE_ID, generation=0, learned_generation=0)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        self.session.execute(
            update(LearningStateRow).where(LearningStateRow.id == _STATE_ID)
            .values(generation=LearningStateRow.generation + 1, changed_at=now)
        )
        if self.learn == "in_write":
            self._lock_learning()
            row = self._state_row()
            self._relearn(now, since=row.learned_as_of if row is not None else None)
            self.session.execute(
                update(LearningStateRow).where(LearningStateRow.id == _STATE_ID)
                .values(learned_generation=LearningStateRow.generation,
                        learned_as_of=now, learned_at=now)
            )
        else:
            self._notify_after_commit = True

    def _learning_changed_if_resolved(self, now: datetime) -> None:
        if self.session.scalar(select(Question.id).where(Question.status == "resolved").limit(1)):
            self._learning_changed(now)

    def _lock_learning(self) -> None:
        # On PostgreSQL an advisory lock makes concurrent learners store one after the other,
        # so that none stores records computed from data missing the other's change (SQLite's
        # BEGIN IMMEDIATE already serialises writers).
        if self._is_postgresql():
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                 {"key": LEARNING_LOCK})

    def _learn_jointly(
        self, engine: RecordEngine | None = None,
    ) -> tuple[dict[str, TrackRecord], dict[tuple[str, str], SharedErrorFit]]:
        """Track records and shared errors learned together (reads only).

        A claim's residual holds its question's shared error δ_q as well as the source's own
        error, so records learned without it charge s² to every source's spread, and the s
        then fitted from their posteriors comes out about s·√(1 − 1/n) for n claims a
        question. Alternating the two fits, the records with each claim's s_q as a known part
        of its residual's variance (:class:`~models.track_record.ResolvedClaim`'s ``shared``)
        and s from the posteriors those records give, leaves about 1/n of the remaining gap
        in s² after each round (s²_next ≈ s²(1 − 1/n) + s²_now/n): coordinate ascent on the
        joint likelihood, each claim's residual taken as independent given s (Searle,
        Casella & McCulloch 1992, ch. 8, for the alternating variance-component updates). It
        stops when no category's s moves by more than :data:`JOINT_RTOL` of itself, or after
        :data:`JOINT_ROUNDS` rounds. ``engine`` (default: this process) does both fits.
        """
        learn = engine.learn if engine is not None else self._learn
        fit_shared = engine.fit_shared if engine is not None else self._learn_shared_errors
        learned = learn()
        fits = fit_shared(learned)
        for _ in range(JOINT_ROUNDS):
            if not any(f.s > 0.0 for f in fits.values()):
                break
            learned = learn(fits)
            new = fit_shared(learned)
            moved = max((abs(new[k].s - f.s) / f.s for k, f in fits.items()
                         if k in new and f.s > 0.0), default=0.0)
            fits = new
            if moved <= JOINT_RTOL:
                break
        return learned, fits

    def _learn(
        self, shared: Mapping[tuple[str, str], SharedErrorFit] | None = None
    ) -> dict[str, TrackRecord]:
        """A full relearn from what is stored now (reads only), each claim's residual holding
        its question's shared error from ``shared`` (none without it)."""
        priors, types = self.source_priors()
        learned = learn_track_records(self.resolved_claims(shared), priors, types)
        warn_unconverged(learned)
        return learned

    def _relearn(self, now: datetime, *, since: datetime | None,
                 engine: RecordEngine | None = None) -> dict[str, TrackRecord]:
        """Relearn and store inside the caller's write transaction (the ``in_write`` path)."""
        self.session.flush()
        learned, shared = self._learn_jointly(engine)
        self._store_records(learned, now, self._new_evidence(since))
        self._store_shared_errors(shared, now)
        return learned

    def _new_evidence(self, since: datetime | None) -> set[str] | None:
        """Sources whose own evidence changed after ``since`` (None: every source).

        A source's evidence is the source row (grade, type) and its claims on resolved
        questions, with those questions (resolution, scale); a question changed in any way
        counts for every source with a claim on it, so that one reopened counts too. Retracted
        claims count: a retraction changes what was learned from. ``since`` is the time of the
        newest change the stored records include; writes are serialised and each takes its
        own time, so a later write has a later time.
        """
        if since is None:
            return None
        on_resolved = (
            select(Claim.source_id)
            .join(Question, Question.id == Claim.question_id)
            .where(((Question.status == "resolved") & (Claim.updated_at > since))
                   | (Question.updated_at > since))
        )
        changed = set(self.session.scalars(on_resolved))
        changed.update(self.session.scalars(select(Source.id).where(Source.updated_at > since)))
        return changed

    def _store_records(self, learned: Mapping[str, TrackRecord], now: datetime,
                       new_evidence: set[str] | None) -> None:
        """Store each record that changed; snapshot those whose own evidence changed.

        A resolution moves the records of sources with no claim on it too, a little, through
        the pooled priors of their type (models.track_record). Their current row follows; the
        history gets a snapshot when a source's own evidence changed, for its first record,
        and when its record has drifted from its last snapshot by more than
        :data:`SNAPSHOT_DRIFT`, so that it grows with what was written, not with the number of
        sources at every resolution, and ``?as_of=`` still rebuilds what was shown then to
        within that drift. ``new_evidence`` None snapshots every record that changed.
        """
        current = {r.source_id: r for r in self.session.scalars(select(TrackRecordRow))}
        latest: dict[str, TrackRecordSnapshot] | None = None
        for source_id, record in learned.items():
            # Counts stay ints; numbers become plain floats (not numpy scalars) for the rows.
            values: dict[str, Any] = {
                name: v if v is None or isinstance(v, int) else float(v)
                for name, v in learned_fields(record).items()
            }
            values["profile"] = profile_to_json(record.profile)
            row = current.get(source_id)
            if row is not None and all(getattr(row, k) == v for k, v in values.items()):
                continue
            if row is None:
                self.session.add(TrackRecordRow(source_id=source_id, updated_at=now, **values))
            else:
                for name, value in values.items():
                    setattr(row, name, value)
                row.updated_at = now
            if not (row is None or new_evidence is None or source_id in new_evidence):
                if latest is None:
                    latest = self._latest_snapshots()
                last = latest.get(source_id)
                if last is not None and not _drifted(last, values):
                    continue
            self.session.add(TrackRecordSnapshot(source_id=source_id, recorded_at=now,
                                                 **values))
        self.session.flush()

    def _latest_snapshots(self) -> dict[str, TrackRecordSnapshot]:
        """Each source's newest history snapshot."""
        newest = select(func.max(TrackRecordSnapshot.id)).group_by(TrackRecordSnapshot.source_id)
        query = select(TrackRecordSnapshot).where(TrackRecordSnapshot.id.in_(newest))
        return {s.source_id: s for s in self.session.scalars(query)}

    # --- Agreement-based credibility --------------------------------------------------------

    def current_profiles(self) -> dict[str, SourceProfile]:
        """Every source's profile as estimates use it: track record when resolved, else prior."""
        profiles: dict[str, SourceProfile] = {}
        for source in self.session.scalars(select(Source).order_by(Source.id)).unique():
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
        records, n_questions, n_skipped = self._agreement_records(None)
        return AgreementInput(records, self.current_profiles(), n_questions, n_skipped)

    def agreement_chunks(self, questions_per_chunk: int) -> Iterator[AgreementInput]:
        """:meth:`agreement_input` in chunks of whole questions, in order of question id.

        Each chunk reads the claims of the next ``questions_per_chunk`` questions that have a
        current claim (keyset paging on the question id), so that a caller holds one chunk at
        a time however large the database; concatenated, the chunks' records are those of
        :meth:`agreement_input`, in the same order. ``priors`` is the same mapping in every
        chunk (read once); ``n_questions`` and ``n_skipped`` count the chunk's questions.
        """
        priors = self.current_profiles()
        query = (select(Claim.question_id).where(Claim.retracted.is_(False))
                 .group_by(Claim.question_id))
        for ids in self._id_pages(query, Claim.question_id, questions_per_chunk):
            records, n_questions, n_skipped = self._agreement_records(ids)
            yield AgreementInput(records, priors, n_questions, n_skipped)

    def _agreement_records(
        self, question_ids: Sequence[int] | None
    ) -> tuple[list[dict[str, Any]], int, int]:
        """The batch records of the current claims of ``question_ids`` (None: every question),
        with the number of questions kept and left out (a zero or negative figure)."""
        query = (
            select(Claim.question_id, Claim.source_id, Claim.kind, Claim.value, Claim.low,
                   Claim.high, Claim.sd, Claim.ci_low, Claim.ci_high, Claim.ci_level,
                   Claim.hedge, Claim.origin)
            .where(Claim.retracted.is_(False))
            .order_by(Claim.question_id, Claim.id)
        )
        if question_ids is not None:
            query = query.where(Claim.question_id.in_(question_ids))
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
        return records, n_questions, len(skipped)

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


def _numbers(values: Mapping[str, Any]) -> list[float | None]:
    """The learned numbers of a record's values, in a fixed order (same structure assumed)."""
    profile = values["profile"]
    numbers: list[float | None] = [values[k] for k in _NUMBERS]
    for k in profile["components"]:
        numbers.extend((k["weight"], k["c"], k["sigma"], k["bias"]))
    return numbers


def _structure(values: Mapping[str, Any]) -> tuple[Any, ...]:
    """What must be equal for two records' numbers to be compared one by one."""
    profile = values["profile"]
    return (values["n_resolved"], values["n_calibration"], profile["origin"],
            profile.get("grade"), len(profile["components"]))


_NUMBERS: Final = ("credibility", "spread", "bias", "hit_rate", "observed_hit_rate",
                   "calibration")


def _drifted(last: TrackRecordSnapshot, values: Mapping[str, Any]) -> bool:
    """Whether ``values`` differ from the snapshot ``last`` by more than SNAPSHOT_DRIFT."""
    old = learned_fields(last) | {"profile": last.profile}
    if _structure(old) != _structure(values):
        return True
    for a, b in zip(_numbers(old), _numbers(values), strict=True):
        if (a is None) != (b is None):
            return True
        if a is not None and b is not None and not math.isclose(
                a, b, rel_tol=SNAPSHOT_DRIFT, abs_tol=SNAPSHOT_DRIFT):
            return True
    return False
