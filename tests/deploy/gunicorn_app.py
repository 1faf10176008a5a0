"""WSGI app of the gunicorn tests (``tests.deploy.gunicorn_app:app``): the real app plus two
routes that only tests need, one slow (graceful shutdown, several workers) and one that logs."""

from __future__ import annotations

import time

from flask import current_app, request

from service import create_app

app = create_app()


@app.get("/test/slow")
def slow() -> dict[str, float]:
    """Sleep for ``?seconds=`` (default 1), then answer."""
    seconds = float(request.args.get("seconds", "1"))
    time.sleep(seconds)
    return {"slept": seconds}


@app.get("/test/log")
def log_line() -> dict[str, str]:
    """Log a warning that (carelessly) includes the Authorization header."""
    current_app.logger.warning("test line; Authorization: %s", request.headers.get("Authorization"))
    return {"logged": "yes"}
