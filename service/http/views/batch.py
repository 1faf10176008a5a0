"""``POST /v1/reconcile/batch``: many questions at once, learning credibility from agreement."""

from __future__ import annotations

import json

from flask import Response, current_app, request

from models.batch import BatchEstimator
from models.errors import ReconcileError
from service.http.api import Blueprint
from service.http.schemas.batch import (
    BatchRequest,
    BatchRequestSchema,
    BatchResponseSchema,
    batch_response,
)

blp = Blueprint(
    "batch",
    __name__,
    url_prefix="/v1",
    description="Reconcile an archive of questions, learning each source's credibility.",
)

#: Stateless and immutable: one estimator serves every request.
_ESTIMATOR = BatchEstimator()


def raise_body_limit() -> None:
    """This route takes archives: its body limit is MAX_BATCH_CONTENT_LENGTH, not the global."""
    request.max_content_length = int(current_app.config["MAX_BATCH_CONTENT_LENGTH"])


blp.before_request(raise_body_limit)


@blp.route("/reconcile/batch", methods=["POST"])
@blp.computes(BatchRequestSchema, BatchResponseSchema)
def post_batch(body: BatchRequest) -> Response:
    """Reconcile many questions, learning each source's credibility, spread and bias.

    Give the claims grouped by question (`questions`) or as parallel arrays (`columns`, for
    bulk clients: up to MAX_BATCH_CLAIMS claims). Sources may be listed with a reliability
    grade to serve as priors; any other source is learned from how it agrees with the rest.
    """
    try:
        fit = _ESTIMATOR.fit(body.table, priors=body.priors(), levels=body.levels,
                             scale=body.scale)
    except ReconcileError as exc:
        # The core names table fields ("value.17"); the client needs its own path.
        raise ReconcileError(exc.message, body.claims.path(exc.field)) from exc
    # Sent as JSON directly: dumping 100,000 questions through marshmallow would take longer
    # than the fit. The document matches BatchResponseSchema (a test loads it with the schema).
    text = json.dumps(batch_response(body, fit), allow_nan=False, separators=(",", ":"))
    return Response(text, status=200, mimetype="application/json")
