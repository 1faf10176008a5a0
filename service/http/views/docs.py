"""Swagger UI's static files, served from the installed ``swagger_ui_bundle`` package.

flask-smorest renders ``/docs`` from a template that loads Swagger UI from
``OPENAPI_SWAGGER_UI_URL``; pointing that at these files (instead of a CDN) makes the
interactive documentation work without network access.
"""

from __future__ import annotations

from typing import Final

from flask import Blueprint
from swagger_ui_bundle import swagger_ui_path

#: Where the files are served; ``OPENAPI_SWAGGER_UI_URL`` in :func:`service.create_app`.
ASSETS_URL: Final = "/docs/assets/"

# A plain Flask blueprint: static files are not part of the API document.
blp = Blueprint(
    "docs_assets",
    __name__,
    static_folder=str(swagger_ui_path),
    static_url_path=ASSETS_URL.rstrip("/"),
)
