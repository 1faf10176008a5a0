"""Learning credibility from stored data.

Whenever something that the track records depend on changes (a resolution; a claim added,
edited or retracted on a resolved question; a source's grade or type; a resolved question's
scale), :meth:`LearningStore.relearn` runs :func:`models.track_record.learn_track_records` over
every non-retracted claim on every resolved question, in the same transaction, and stores the
result per source (plus a snapshot in the history when a record changed).

Agreement-based credibility is learned on demand (``triangulate learn agreement``, see
:mod:`service.cli.learn`): :meth:`LearningStore.agreement_input` gives every current claim of
every question in the batch model's vocabulary, :meth:`LearningStore.store_agreement` replaces
the stored results. Track records are never touched by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, cast

from sqlalchemy import select, text

from models.claims import ClaimKind, Hedge
from models.credibility import SourceProfile, profile_for
from models.track_record import ResolvedClaim, TrackRecord, learn_track_records
from service.store.base import RepositoryBase
from service.store.inputs import (
    AgreementInput,
    AgreementValues,
    _float_or_none,
    _learning_scale,
    _sd_from_interval,
    profile_from_json,
    profile_to_json,
)
from service.store.orm import (
    AgreementRow,
    Claim,
    Question,
    Source,
    TrackRecordRow,
    TrackRecordSnapshot,
)

__all__ = ["AGREEMENT_LOCK", "LEARNING_LOCK", "LearningStore"]


#: Key of ``pg_advisory_xact_lock`` held while track records are recomputed ("LERN").
LEARNING_LOCK: Final = 0x4C45524E
#: Key of the lock held while agreement-based credibility is replaced ("AGRE").
AGREEMENT_LOCK: Final = 0x41475245


class LearningStore(RepositoryBase):
    """Track records learned from resolved questions, and agreement-based credibility."""

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
