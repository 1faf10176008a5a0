"""gunicorn's own error answers as RFC 9457 problem documents (``application/problem+json``).

gunicorn refuses some requests before the app sees them: a request line longer than
``limit_request_line`` (at most 8190 bytes, gunicorn's hard maximum), more header fields than
``limit_request_fields``, a field longer than ``limit_request_field_size``, or bytes that are
not an HTTP/1.x request at all. It answers those with a small HTML page written by
``gunicorn.util.write_error``. :func:`install` replaces that function, in a worker process, by
:func:`write_problem`, which writes the same status as problem+json; gunicorn still decides
the status (400, 403, 414, 417, 431, 500, 501) and logs the refusal as before.

The limits are set so that the app answers first wherever it can
(:mod:`service.http.limits`); these answers cover what is left. A request that was not read
has no path, so ``instance`` is a fresh ``urn:uuid:`` naming this occurrence, also sent as
``X-Request-ID`` like the app's answers.
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from typing import Any, Final

from gunicorn import util

from service.config import load_settings
from service.http.logs import REQUEST_ID_HEADER
from service.http.problems import PROBLEM_MIMETYPE
from service.http.security import DEFAULT_CSP

__all__ = ["install", "problem_body", "write_problem"]

#: Most characters of gunicorn's own message (which may quote the request) put in ``detail``.
MESSAGE_CHARS: Final = 200


@functools.cache
def _settings() -> dict[str, Any]:
    """The limits this worker was started with (read once)."""
    return load_settings(os.environ)


def _detail(status: int, message: str, settings: dict[str, Any]) -> str:
    if status == 414:
        return (
            "The request line is longer than the server reads; the request target (path and "
            f"query string) may be at most {settings['MAX_URI_LENGTH']} bytes (MAX_URI_LENGTH)."
        )
    if status == 431:
        return (
            "The request's header fields exceed what the server reads: at most "
            f"{settings['MAX_HEADER_FIELDS']} fields (MAX_HEADER_FIELDS) of at most "
            f"{settings['MAX_HEADER_BYTES']} bytes in all (MAX_HEADER_BYTES)."
        )
    if status >= 500 and not message:
        return "The server failed to process the request; the error has been logged."
    shown = message if len(message) <= MESSAGE_CHARS else message[:MESSAGE_CHARS] + "…"
    if status == 400:
        return f"The request is not valid HTTP/1.1: {shown}"
    return shown or "The server refused the request."


def problem_body(
    status: int, reason: str, message: str, instance: str, settings: dict[str, Any]
) -> dict[str, Any]:
    """The problem document of a refusal by gunicorn (members in RFC 9457's order)."""
    return {
        "type": "about:blank",
        "title": reason,
        "status": status,
        "detail": _detail(status, message, settings),
        "instance": instance,
    }


def write_problem(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """Drop-in for ``gunicorn.util.write_error``: the answer as problem+json, then close."""
    request_id = str(uuid.uuid4())
    body = json.dumps(
        problem_body(int(status_int), reason, mesg, f"urn:uuid:{request_id}", _settings()),
        ensure_ascii=True,
    ).encode("ascii") + b"\n"
    head = (
        f"HTTP/1.1 {int(status_int)} {reason}\r\n"
        "Connection: close\r\n"
        f"Content-Type: {PROBLEM_MIMETYPE}\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"{REQUEST_ID_HEADER}: {request_id}\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        "X-Frame-Options: DENY\r\n"
        "Referrer-Policy: no-referrer\r\n"
        f"Content-Security-Policy: {DEFAULT_CSP}\r\n"
        "\r\n"
    )
    util.write_nonblock(sock, head.encode("latin-1") + body)


def install() -> None:
    """Make this process's gunicorn write its error answers with :func:`write_problem`.

    Called in each worker right after the fork (``post_fork`` in
    :mod:`service.deploy.gunicorn_conf`); gunicorn's workers call ``util.write_error`` by
    attribute, from ``Worker.handle_error`` only.
    """
    util.write_error = write_problem
