"""Triangulate's service: everything around the statistical core in :mod:`models`.

The subpackages name the concerns, and imports point one way (``models`` ← ``store`` ←
``http``/``cli``; ``plot`` and ``deploy`` beside them):

* :mod:`service.store`: the database (engine, ORM, migrations, repositories, domain errors);
  no Flask and no HTTP.
* :mod:`service.http`: the Flask app (factory, views, schemas, problem details, OpenAPI).
* :mod:`service.cli`: the ``triangulate`` command.
* :mod:`service.plot`: forest plots, drawn with matplotlib (no Flask).
* :mod:`service.deploy`: gunicorn settings, ``serve``, ``wsgi``, logs, metrics, readiness.
* :mod:`service.config`: the one table of settings read from the environment.

Importing this package is cheap: :func:`create_app` imports Flask and the core when called.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask application; see :func:`service.http.app.create_app`."""
    from service.http.app import create_app as build

    return build(config)
