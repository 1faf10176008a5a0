"""HTTP hardening: security headers on every response, a CORS allow-list, write rate limits.

Security headers
----------------
Every response gets ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY`` and
``Referrer-Policy: no-referrer``, and, unless the view set its own (the editors' page allows
``'self'``, a plot its inline styles), ``Content-Security-Policy: default-src 'none';
frame-ancestors 'none'``: a JSON answer opened in a browser runs nothing and cannot be framed.
Swagger UI at ``/docs`` loads an inline script, so it gets only ``frame-ancestors 'none'``.

CORS
----
``CORS_ORIGINS`` lists the browser origins allowed to call the API (``https://desk.example``,
comma-separated, compared exactly; empty, the default: no cross-origin access, and no wildcard
is ever sent). A request from a listed origin gets ``Access-Control-Allow-Origin`` naming it
(with ``Vary: Origin``) and the headers a client needs exposed. A preflight (``OPTIONS`` with
``Access-Control-Request-Method``) from a listed origin is answered 204 before any key check;
from another origin it gets no CORS headers, so the browser refuses the call.

Write rate limits
-----------------
``WRITE_RATE_LIMIT`` (``N/second``, ``N/minute`` or ``N/hour``; ``off`` disables) bounds the
writes of each API key with a token bucket of N tokens refilled at N per period. The buckets
live in the database (table ``write_buckets``, one row per key, taken under a row lock), so the
limit holds across every gunicorn worker and every container sharing the database. A write
over the limit gets a 429 problem with ``Retry-After`` (whole seconds until a token is back),
before the write itself runs.
"""

from __future__ import annotations

import math
from typing import Final

from flask import Flask, Response, current_app, request

from service.config import RateLimit

__all__ = [
    "CORS_EXPOSED",
    "DEFAULT_CSP",
    "check_write_rate",
    "init_app",
]

DEFAULT_CSP: Final = "default-src 'none'; frame-ancestors 'none'"
DOCS_CSP: Final = "frame-ancestors 'none'"
#: Headers of every response, unless the view set its own.
SECURITY_HEADERS: Final = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
#: Response headers a cross-origin script may read.
CORS_EXPOSED: Final = "ETag, Location, Retry-After, X-Request-ID, WWW-Authenticate"
#: The answer to a preflight from a listed origin: the methods and request headers a
#: cross-origin script may send, and for how many seconds the browser may remember it.
PREFLIGHT_HEADERS: Final = {
    "Access-Control-Allow-Methods": "GET, HEAD, POST, PATCH, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-Match, X-Request-ID, Accept",
    "Access-Control-Max-Age": "600",
}


def check_write_rate(key_id: str) -> None:
    """Take a write token for the key ``key_id``; 429 problem with Retry-After when none is left."""
    from service.http.database import get_repository
    from service.http.problems import Problem

    limit: RateLimit | None = current_app.config["WRITE_RATE_LIMIT"]
    if limit is None:
        return
    wait = get_repository().take_write_token(key_id, limit)
    if wait > 0:
        retry = max(1, math.ceil(wait))
        raise Problem(
            429,
            f"Too many writes with this API key: the limit is {limit.count} per "
            f"{limit.period:g} seconds (WRITE_RATE_LIMIT). Retry in {retry} s.",
            headers={"Retry-After": str(retry)},
        )


def _preflight() -> Response | None:
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    origin = request.headers.get("Origin")
    if origin is None or origin not in current_app.config["CORS_ORIGINS"]:
        return None  # Flask's automatic OPTIONS answer, without CORS headers: refused.
    return Response(status=204, headers=PREFLIGHT_HEADERS)


def _decorate(response: Response) -> Response:
    headers = response.headers
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if "Content-Security-Policy" not in headers:
        docs = request.path == "/docs" or request.path.startswith("/docs/")
        headers["Content-Security-Policy"] = DOCS_CSP if docs else DEFAULT_CSP
    origin = request.headers.get("Origin")
    if origin is not None and origin in current_app.config["CORS_ORIGINS"]:
        headers["Access-Control-Allow-Origin"] = origin
        headers["Access-Control-Expose-Headers"] = CORS_EXPOSED
        headers.add("Vary", "Origin")
    return response


def init_app(app: Flask) -> None:
    """Install the preflight answer (first before_request) and the response headers."""
    app.before_request_funcs.setdefault(None, []).insert(0, _preflight)
    app.after_request(_decorate)
