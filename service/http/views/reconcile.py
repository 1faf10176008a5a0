"""``POST /v1/reconcile``: reconcile numeric claims from sources of unequal credibility."""

from __future__ import annotations

from typing import Any

from models.reconcile import reconcile
from service.http.api import Blueprint
from service.http.mapping import reconcile_response
from service.http.metrics import timed_reconcile
from service.http.schemas.reconcile import (
    ReconcileRequest,
    ReconcileRequestSchema,
    ReconcileResponseSchema,
)

blp = Blueprint(
    "reconcile",
    __name__,
    url_prefix="/v1",
    description="Credibility-weighted estimate of one quantity from conflicting claims.",
)


@blp.route("/reconcile", methods=["POST"])
@blp.computes(ReconcileRequestSchema, ReconcileResponseSchema)
def post_reconcile(body: ReconcileRequest) -> dict[str, Any]:
    """Reconcile claims into one estimate.

    Weighs each claim by its source's credibility and returns the estimate with intervals,
    each claim's weight and influence, the disagreement found, warnings and an explanation.
    """
    result = timed_reconcile(reconcile, body.claims, body.sources, **body.options())
    return reconcile_response(body, result)
