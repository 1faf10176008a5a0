"""``/v1/questions/{id}/claims``: the figures sources gave, with their full history."""

from __future__ import annotations

from typing import Any

from service.http.auth import current_actor
from service.http.conditional import if_match
from service.http.database import get_repository
from service.http.pagination import PageQuerySchema, envelope
from service.http.schemas.resources import (
    ClaimCreateSchema,
    ClaimHistorySchema,
    ClaimListQuery,
    ClaimOutSchema,
    ClaimPageSchema,
    ClaimPatchSchema,
    RetractSchema,
)
from service.http.views.stored import Headers, StoredBlueprint, created, versioned
from service.store.inputs import ClaimInput
from service.store.orm import Claim

blp = StoredBlueprint(
    "claims",
    __name__,
    url_prefix="/v1/questions/<int:question_id>/claims",
    description=(
        "Claims on a stored question. Writes need an API key. Edits and retractions add "
        "revisions; nothing is deleted."
    ),
)


@blp.route("", methods=["GET"])
@blp.gets(ClaimListQuery, ClaimPageSchema, 404)
def list_claims(question_id: int, **query: Any) -> dict[str, Any]:
    """List a question's claims in the order they were entered; retracted ones on request."""
    return envelope(get_repository().list_claims(question_id, **query))


@blp.route("", methods=["POST"])
@blp.creates(ClaimCreateSchema, ClaimOutSchema, 404)
def create_claim(new: ClaimInput, question_id: int) -> tuple[Claim, Headers]:
    """Add a claim; its source must exist. Validated as in POST /v1/reconcile."""
    claim = get_repository().create_claim(question_id, new, current_actor())
    return created(claim, ".get_claim", question_id=question_id, claim_id=claim.id)


@blp.route("/<int:claim_id>", methods=["GET"])
@blp.reads(ClaimOutSchema)
def get_claim(question_id: int, claim_id: int) -> tuple[Claim, Headers]:
    """Get a claim in its current revision."""
    return versioned(get_repository().get_claim(question_id, claim_id))


@blp.route("/<int:claim_id>", methods=["PATCH"])
@blp.changes(ClaimPatchSchema, ClaimOutSchema, 409)
def patch_claim(changes: dict[str, Any], question_id: int, claim_id: int) -> tuple[Claim, Headers]:
    """Edit a claim (a new revision); needs If-Match. Retracted claims cannot be edited."""
    reason = changes.pop("reason", None)
    return versioned(get_repository().update_claim(
        question_id, claim_id, changes, if_match(), current_actor(), reason
    ))


@blp.route("/<int:claim_id>/retract", methods=["POST"])
@blp.changes(RetractSchema, ClaimOutSchema, 409)
def retract_claim(body: dict[str, Any], question_id: int, claim_id: int) -> tuple[Claim, Headers]:
    """Retract a claim: it stops counting and stays visible with its history. Needs If-Match."""
    return versioned(get_repository().retract_claim(
        question_id, claim_id, if_match(), current_actor(), body["reason"]
    ))


@blp.route("/<int:claim_id>/history", methods=["GET"])
@blp.gets(PageQuerySchema, ClaimHistorySchema, 404)
def claim_history(question_id: int, claim_id: int, **query: Any) -> dict[str, Any]:
    """Every revision of a claim (creation, edits, retraction), oldest first."""
    return envelope(get_repository().claim_history(question_id, claim_id, **query))
