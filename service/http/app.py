"""The app factory: :func:`create_app` wires settings, hooks, the database and every blueprint.

Imports of Flask and of the statistical core happen when it is called, so importing the
package (gunicorn's config, the command line's ``--help``) stays cheap.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]

API_DESCRIPTION = (
    "Takes numeric claims about one quantity from sources of unequal credibility and returns "
    "a credibility-weighted estimate with ranges and explanations. Every error is an RFC 9457 "
    "problem document (application/problem+json)."
)


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application.

    Parameters
    ----------
    config : mapping, optional
        Flask config overriding the environment, e.g. ``{"TESTING": True, "MAX_CLAIMS": 3}``.
        Settings of :data:`service.config.SETTINGS` are validated like environment values.

    Returns
    -------
    flask.Flask
        The app, with the ``reconcile``, ``health``, ``sources``, ``questions`` and ``claims``
        blueprints, ``/openapi.json`` and the offline Swagger UI at ``/docs``; its database
        migrated (see :mod:`service.store.engine`).

    Raises
    ------
    service.config.ConfigError
        When a setting (from the environment or ``config``) is invalid.
    service.store.engine.DatabaseNotReady
        When ``MIGRATE_ON_START`` is off and the database is not up to date.
    """
    # Imported here so that `import service` stays light (gunicorn's config, the CLI's --help).
    from flask import Flask

    from service.config import check_override, load_settings
    from service.http import api as smorest
    from service.http import auth, database, limits, logs, metrics, security
    from service.http.views import batch, claims, docs, health, questions, reconcile, sources, web
    from service.http.views.extract import blp as extract_blp

    settings = load_settings(os.environ)
    overrides = {key: check_override(key, value) for key, value in (config or {}).items()}

    # Named after the package so that its static folder (the editors' page) and logger keep
    # their names.
    app = Flask("service")
    app.json = smorest.StrictJSONProvider(app)
    app.config.update(settings)
    app.config.update(
        API_TITLE="Triangulate",
        API_VERSION="1",
        # 3.0.3 rather than 3.1: the bundled Swagger UI (4.x) renders 3.0 documents only.
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL=docs.ASSETS_URL,
        # No validator badge: Swagger UI would otherwise call validator.swagger.io.
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={"info": {"description": API_DESCRIPTION}},
    )
    app.config.update(overrides)
    app.logger.setLevel(app.config["LOG_LEVEL"])
    # Request ids (echoed, and on every log line), then request metrics (METRICS_ENABLED).
    logs.init_app(app)
    metrics.init_app(app)
    # Security headers, the CORS allow-list (CORS_ORIGINS) and its preflight answer.
    security.init_app(app)
    # Then, first of all: a request target or header section over the limits gets 414 / 431
    # (MAX_URI_LENGTH, MAX_HEADER_FIELDS, MAX_HEADER_BYTES).
    limits.init_app(app)
    # Opens the database and applies pending migrations (MIGRATE_ON_START).
    database.init_app(app)

    api = smorest.Api()
    api.init_app(app)
    smorest.register_openapi_extras(api, app)
    api.register_blueprint(reconcile.blp)
    api.register_blueprint(batch.blp)
    api.register_blueprint(health.blp)
    api.register_blueprint(sources.blp)
    api.register_blueprint(questions.blp)
    api.register_blueprint(claims.blp)
    api.register_blueprint(extract_blp)
    auth.document_security(api)
    app.register_blueprint(docs.blp)
    web.register(api, app)  # POST /v1/reconcile/plot and the editors' page at /
    return app
