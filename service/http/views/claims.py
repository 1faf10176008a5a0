"""``/v1/questions/{id}/claims``: the figures sources gave, with their full history."""

from __future__ import annotations

from typing import Any

from flask import url_for

from service.http.api import Blueprint
from service.http.auth import SECURITY, current_actor, guard
from service.http.conditional import ETAG_HEADER, IF_MATCH_PARAMETER, etag_header, if_match
from service.http.database import get_repository
from service.http.links import CREATED_HEADERS
from service.http.pagination import QUERY, PageQuerySchema, envelope
from service.http.schemas.resources import (
    ClaimCreateSchema,
    ClaimHistorySchema,
    ClaimListQuery,
    ClaimOutSchema,
    ClaimPageSchema,
    ClaimPatchSchema,
    RetractSchema,
)
from service.store.inputs import ClaimInput
from service.store.orm import Claim

blp = Blueprint(
    "claims",
    __name__,
    url_prefix="/v1/questions/<int:question_id>/claims",
    description=(
        "Claims on a stored question. Writes need an API key. Edits and retractions add "
        "revisions; nothing is deleted."
    ),
)
blp.before_request(guard)

Headers = dict[str, str]


@blp.route("", methods=["GET"])
@blp.arguments(ClaimListQuery, **QUERY)
@blp.response(200, ClaimPageSchema)
@blp.problems(401, 404, 500, 503)
def list_claims(question_id: int, **query: Any) -> dict[str, Any]:
    """List a question's claims in the order they were entered; retracted ones on request."""
    return envelope(get_repository().list_claims(question_id, **query))


@blp.route("", methods=["POST"])
@blp.arguments(ClaimCreateSchema)
@blp.response(201, ClaimOutSchema, headers=CREATED_HEADERS)
@blp.doc(security=SECURITY)
@blp.problems(400, 401, 404, 413, 415, 429, 500, 503)
def create_claim(new: ClaimInput, question_id: int) -> tuple[Claim, Headers]:
    """Add a claim; its source must exist. Validated as in POST /v1/reconcile."""
    claim = get_repository().create_claim(question_id, new, current_actor())
    location = url_for(".get_claim", question_id=question_id, claim_id=claim.id)
    return claim, {**etag_header(claim.version), "Location": location}


@blp.route("/<int:claim_id>", methods=["GET"])
@blp.response(200, ClaimOutSchema, headers={"ETag": ETAG_HEADER})
@blp.problems(401, 404, 500, 503)
def get_claim(question_id: int, claim_id: int) -> tuple[Claim, Headers]:
    """Get a claim in its current revision."""
    claim = get_repository().get_claim(question_id, claim_id)
    return claim, etag_header(claim.version)


@blp.route("/<int:claim_id>", methods=["PATCH"])
@blp.arguments(ClaimPatchSchema)
@blp.response(200, ClaimOutSchema, headers={"ETag": ETAG_HEADER})
@blp.doc(security=SECURITY, parameters=[IF_MATCH_PARAMETER])
@blp.problems(400, 401, 404, 409, 412, 413, 415, 428, 429, 500, 503)
def patch_claim(changes: dict[str, Any], question_id: int, claim_id: int) -> tuple[Claim, Headers]:
    """Edit a claim (a new revision); needs If-Match. Retracted claims cannot be edited."""
    reason = changes.pop("reason", None)
    claim = get_repository().update_claim(
        question_id, claim_id, changes, if_match(), current_actor(), reason
    )
    return claim, etag_header(claim.version)


@blp.route("/<int:claim_id>/retract", methods=["POST"])
@blp.arguments(RetractSchema)
@blp.response(200, ClaimOutSchema, headers={"ETag": ETAG_HEADER})
@blp.doc(security=SECURITY, parameters=[IF_MATCH_PARAMETER])
@blp.problems(400, 401, 404, 409, 412, 413, 415, 428, 429, 500, 503)
def retract_claim(body: dict[str, Any], question_id: int, claim_id: int) -> tuple[Claim, Headers]:
    """Retract a claim: it stops counting and stays visible with its history. Needs If-Match."""
    claim = get_repository().retract_claim(
        question_id, claim_id, if_match(), current_actor(), body["reason"]
    )
    return claim, etag_header(claim.version)


@blp.route("/<int:claim_id>/history", methods=["GET"])
@blp.arguments(PageQuerySchema, **QUERY)
@blp.response(200, ClaimHistorySchema)
@blp.problems(401, 404, 500, 503)
def claim_history(question_id: int, claim_id: int, **query: Any) -> dict[str, Any]:
    """Every revision of a claim (creation, edits, retraction), oldest first."""
    return envelope(get_repository().claim_history(question_id, claim_id, **query))
