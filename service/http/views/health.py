"""``GET /healthz``: liveness, answered without touching the statistical core;
``GET /readyz``: readiness, which also needs the database."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app
from flask_smorest import abort

from service.http import readiness
from service.http.api import Blueprint
from service.http.schemas.base import StrictSchema
from service.http.schemas.reconcile import HealthSchema

blp = Blueprint("health", __name__, description="Liveness and readiness of the service.")


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
def healthz() -> dict[str, str]:
    """Report that the process serves requests."""
    return {"status": "ok"}


class ReadySchema(StrictSchema):
    """Body of ``GET /readyz``."""

    status = ma.fields.String(
        required=True, metadata={"description": "Always ready when the answer is 200."}
    )


@blp.route("/readyz", methods=["GET"])
@blp.response(200, ReadySchema)
@blp.problems(503)
def readyz() -> dict[str, str]:
    """Report that the process serves requests and reaches its database.

    Runs ``SELECT 1`` with a deadline of READINESS_TIMEOUT seconds; 503 with ``Retry-After``
    while the database cannot be reached, 200 again as soon as it can (no restart needed).
    """
    if readiness.check(current_app) is not None:
        abort(
            503,
            message="The database cannot be reached; retry later.",
            headers={"Retry-After": str(readiness.RETRY_AFTER)},
        )
    return {"status": "ready"}
