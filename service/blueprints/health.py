"""``GET /healthz``: liveness, answered without touching the statistical core."""

from __future__ import annotations

from service.api import Blueprint
from service.schemas import HealthSchema

blp = Blueprint("health", __name__, description="Liveness of the service.")


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
def healthz() -> dict[str, str]:
    """Report that the process serves requests."""
    return {"status": "ok"}
