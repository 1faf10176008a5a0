"""The editors' page at ``/``, and the registration of the editor-facing routes.

The page is static: HTML, CSS and vanilla JavaScript modules under ``service/static/editor/``,
no build step and no third-party code. It talks to the service only through the public API
(``fetch`` to ``/v1/...``), so everything it shows can be had with curl as well. Flask's own
static route serves the assets at ``/static/editor/...``; this blueprint serves the page itself
with a Content-Security-Policy that allows nothing but this origin (plots are shown from
``blob:`` URLs).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final

from flask import Blueprint, Response, send_from_directory

if TYPE_CHECKING:
    from flask import Flask

    from service.http.api import Api

__all__ = ["CONTENT_SECURITY_POLICY", "EDITOR_DIR", "blp", "register"]

#: Folder of the page and its assets.
EDITOR_DIR: Final = Path(__file__).resolve().parents[2] / "static" / "editor"

#: Only this origin, for scripts, styles, fetches and images (plus blob: for the plot).
CONTENT_SECURITY_POLICY: Final = (
    "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)

# A plain Flask blueprint: the page is not part of the API document.
blp = Blueprint("web", __name__)


@blp.route("/", methods=["GET"])
def index() -> Response:
    """The editors' page."""
    response = send_from_directory(EDITOR_DIR, "index.html", mimetype="text/html")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def register(api: Api, app: Flask) -> None:
    """Register the editor-facing routes: ``POST /v1/reconcile/plot`` (documented in the API)
    and the page at ``/`` that draws with it."""
    from service.http.views import plot

    api.register_blueprint(plot.blp)
    app.register_blueprint(blp)
