"""Stored questions: create, read, list, edit, resolve, their history, and the input of their
estimate now or as it stood at an earlier moment (``as_of``)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import and_, func, select

from models.claims import DynamicsName, validate_scale
from models.errors import ReconcileError
from models.request import DEFAULT_LEVELS, ReconcileRequest
from service.store.errors import Invalid
from service.store.inputs import (
    EstimateInput,
    Page,
    QuestionInput,
    ResolutionInput,
    _core_claim,
    _core_source,
    _first_seen,
    profile_from_json,
)
from service.store.orm import (
    QUESTION_FIELDS,
    Claim,
    ClaimRevision,
    Question,
    QuestionRevision,
    Source,
    SourceRevision,
    TrackRecordRow,
    TrackRecordSnapshot,
)
from service.store.sources import SourceStore
from service.store.versions import Precondition

__all__ = ["QuestionStore"]


class QuestionStore(SourceStore):
    """Stored questions, their resolution and history, and the input of their estimate."""

    # --- Questions --------------------------------------------------------------------------

    def get_question(self, question_id: int) -> Question:
        """The question ``question_id``; 404 when there is none."""
        return self._get(Question, question_id, f"There is no question with id {question_id}.")

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
                title=new.title, unit=new.unit, scale=new.scale, dynamics=new.dynamics,
                category=new.category, status="open",
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
        """Change a question's title, unit, scale, dynamics or category (keys of ``changes``)."""
        with self._write() as now:
            question = self.get_question(question_id)
            precondition.check(f"question {question_id}", question.version)
            changed = self._differing(question, changes)
            if not changed:
                return question
            if "scale" in changed:
                self._check_scale(question, changed["scale"])
            self._save_change(question, now, actor, **changed)
            self._record_question(question, "edit", now, actor)
            # A resolved question's scale moves its track records, its category the
            # shared errors learned beside them.
            if ("scale" in changed or "category" in changed) and question.status == "resolved":
                self._learning_changed(now)
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
            self._save_change(question, now, actor)
            self._record_question(question, "resolve", now, actor)
            self._learning_changed(now)
        return question

    def question_history(
        self, question_id: int, page: int, page_size: int
    ) -> Page[QuestionRevision]:
        """The revisions of a question, oldest first."""
        self.get_question(question_id)
        return self._history(
            QuestionRevision, QuestionRevision.question_id == question_id, page, page_size
        )

    def _record_question(
        self, question: Question, action: str, now: datetime, actor: str
    ) -> None:
        self._revise(QuestionRevision, question, QUESTION_FIELDS, action, now, actor,
                     question_id=question.id)

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
        levels: Sequence[float] = DEFAULT_LEVELS, method: str = "auto", at: date | None = None,
    ) -> EstimateInput:
        """The reconcile input of a question, now or as it stood at ``as_of``.

        ``at`` is the date a moving quantity's estimate is asked for (the core refuses it for a
        static question, naming ``at``).

        Claims come in the order they were entered (their ids), retracted ones left out. Each
        source is used with its learned profile when it has resolved claims, else with its
        grade's prior. Sources are listed in the order their first claim appears. The shared
        error is that of the question's category (:mod:`service.store.shared_errors`); with
        ``as_of`` it is the one learned now (earlier values are not kept).
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
            dynamics=cast(DynamicsName, question_state.dynamics),
            at=at,
            shared_error=self.shared_error_for(
                question_state.category, _estimate_scale(question_state.scale, claims)),
        )
        ids = tuple(c.claim_id if isinstance(c, ClaimRevision) else c.id for c in claims)
        return EstimateInput(request, profiles, ids)

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


def _estimate_scale(scale: str, claims: Sequence[Claim | ClaimRevision]) -> str:
    """The working scale an estimate of these claims will use (``auto`` resolved)."""
    try:
        return validate_scale(tuple(_core_claim(c) for c in claims), scale)
    except ReconcileError:
        return scale  # the core refuses the claims itself, naming the field
