"""``/v1/questions``: quantities asked about, their estimate, and their resolution."""

from __future__ import annotations

from typing import Any

from models.reconcile import reconcile
from service.http.auth import current_actor
from service.http.conditional import if_match
from service.http.database import get_repository, learning_state
from service.http.mapping import stored_estimate_response
from service.http.pagination import PageQuerySchema, envelope
from service.http.schemas.reconcile import StoredEstimateSchema
from service.http.schemas.resources import (
    EstimateQuery,
    QuestionCreateSchema,
    QuestionHistorySchema,
    QuestionListQuery,
    QuestionOutSchema,
    QuestionPageSchema,
    QuestionPatchSchema,
    ResolutionSchema,
)
from service.http.views.stored import Headers, StoredBlueprint, created, versioned
from service.store.inputs import QuestionInput, ResolutionInput
from service.store.orm import Question

blp = StoredBlueprint(
    "questions",
    __name__,
    url_prefix="/v1/questions",
    description=(
        "Stored questions. Writes need an API key. Recording a question's true value "
        "(resolution) updates the track record of every source."
    ),
)


@blp.route("", methods=["GET"])
@blp.gets(QuestionListQuery, QuestionPageSchema)
def list_questions(q: str | None = None, **query: Any) -> dict[str, Any]:
    """List questions, newest first; filter by status and by words in the title (q)."""
    return envelope(get_repository().list_questions(text=q, **query))


@blp.route("", methods=["POST"])
@blp.creates(QuestionCreateSchema, QuestionOutSchema)
def create_question(new: QuestionInput) -> tuple[Question, Headers]:
    """Create an open question; the answer carries its id."""
    question = get_repository().create_question(new, current_actor())
    return created(question, ".get_question", question_id=question.id)


@blp.route("/<int:question_id>", methods=["GET"])
@blp.reads(QuestionOutSchema)
def get_question(question_id: int) -> tuple[Question, Headers]:
    """Get a question."""
    return versioned(get_repository().get_question(question_id))


@blp.route("/<int:question_id>", methods=["PATCH"])
@blp.changes(QuestionPatchSchema, QuestionOutSchema)
def patch_question(changes: dict[str, Any], question_id: int) -> tuple[Question, Headers]:
    """Change a question's title, unit or scale; needs If-Match."""
    repository = get_repository()
    return versioned(repository.update_question(question_id, changes, if_match(), current_actor()))


@blp.route("/<int:question_id>/resolution", methods=["POST"])
@blp.changes(ResolutionSchema, QuestionOutSchema)
def resolve_question(resolution: ResolutionInput, question_id: int) -> tuple[Question, Headers]:
    """Record the true value; track records are relearned just after. Needs If-Match.

    Resolving again replaces the value (the earlier one stays in the history).
    """
    repository = get_repository()
    return versioned(
        repository.resolve_question(question_id, resolution, if_match(), current_actor())
    )


@blp.route("/<int:question_id>/history", methods=["GET"])
@blp.gets(PageQuerySchema, QuestionHistorySchema, 404)
def question_history(question_id: int, **query: Any) -> dict[str, Any]:
    """Every revision of a question (creation, edits, resolutions), oldest first."""
    return envelope(get_repository().question_history(question_id, **query))


@blp.route("/<int:question_id>/estimate", methods=["GET"])
@blp.gets(EstimateQuery, StoredEstimateSchema, 404)
def get_estimate(question_id: int, **query: Any) -> dict[str, Any]:
    """Reconcile the question's claims, now or as of a past moment.

    The answer has the shape of POST /v1/reconcile, each claim naming its stored id. Claims are
    in the order they were entered (retracted ones left out); each source counts with its
    learned credibility once it has resolved claims (credibility_from "learned"), else with its
    grade's prior. learning says whether that credibility includes every resolution yet.
    """
    # The state first: the records read after it include at least what it says.
    learning = None if query.get("as_of") is not None else learning_state()
    data = get_repository().estimate_input(question_id, **query)
    body = data.request
    result = reconcile(body.claims, body.sources, profiles=data.profiles, **body.options())
    return stored_estimate_response(body, result, data.claim_ids, learning)
