"""Stored claims: create, read, list, edit, retract, and their history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select

from models.claims import validate_claim, validate_scale
from models.errors import ReconcileError
from service.store.errors import Conflict, Invalid, NotFound
from service.store.inputs import (
    ClaimInput,
    Page,
    _copy,
    _core_claim_from,
)
from service.store.orm import (
    CLAIM_FIELDS,
    Claim,
    ClaimRevision,
    Question,
    Source,
)
from service.store.questions import QuestionStore
from service.store.versions import Precondition

__all__ = ["ClaimStore"]


class ClaimStore(QuestionStore):
    """Stored claims and their history."""

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
            # The store names the source column source_id; a new claim is never retracted.
            values = {
                name: getattr(new, "source" if name == "source_id" else name)
                for name in CLAIM_FIELDS if name != "retracted"
            }
            values["retracted"] = False
            self._check_claim(question, values)
            claim = Claim(
                question_id=question_id, entered_at=now, entered_by=actor, updated_at=now,
                updated_by=actor, **values,
            )
            self.session.add(claim)
            self.session.flush()
            self._record_claim(claim, "create", now, actor, reason=None)
            if question.status == "resolved":
                self._learning_changed(now)
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
            changed = self._differing(claim, values)
            if not changed:
                return claim
            question = self.get_question(question_id)
            self._check_claim(question, values)
            self._save_change(claim, now, actor, **changed)
            self._record_claim(claim, "edit", now, actor, reason)
            if question.status == "resolved":
                self._learning_changed(now)
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
            self._save_change(claim, now, actor, retracted=True)
            self._record_claim(claim, "retract", now, actor, reason)
            if self.get_question(question_id).status == "resolved":
                self._learning_changed(now)
        return claim

    def claim_history(
        self, question_id: int, claim_id: int, page: int, page_size: int
    ) -> Page[ClaimRevision]:
        """The revisions of a claim, oldest first."""
        self.get_claim(question_id, claim_id)
        return self._history(ClaimRevision, ClaimRevision.claim_id == claim_id, page, page_size)

    def _record_claim(
        self, claim: Claim, action: str, now: datetime, actor: str, reason: str | None
    ) -> None:
        self._revise(ClaimRevision, claim, CLAIM_FIELDS, action, now, actor, claim_id=claim.id,
                     reason=reason)

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
