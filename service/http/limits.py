"""Limits on the request line and the header section, answered as problem+json (414, 431).

Every error of the service is an RFC 9457 problem document, including the refusals of a request
too large to be worth reading: a request target (path and query string) longer than
``MAX_URI_LENGTH`` bytes gets 414 URI Too Long; more header fields than ``MAX_HEADER_FIELDS``,
or a header section larger than ``MAX_HEADER_BYTES`` (each ``Name: value`` line counted with
its line end), gets 431 Request Header Fields Too Large.

The app checks these itself, before anything else looks at the request, so the answer is the
same under any WSGI server and in tests through :func:`service.create_app`. gunicorn's own
limits (:mod:`service.deploy.gunicorn_conf`) are set above these, so for any request within
gunicorn's hard maximum (a request line of 8190 bytes) the app answers; what gunicorn still
refuses itself (a longer request line, far more or far larger header fields, a request that is
not HTTP/1.x at all) it answers in the same shape (:mod:`service.deploy.errors`).

A WSGI server merges repeated header fields into one environ entry, so the count here is of
distinct field names; gunicorn counts every line, with twice this limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import quote

from flask import Flask, current_app, request
from werkzeug.exceptions import RequestHeaderFieldsTooLarge, RequestURITooLarge

__all__ = ["HeaderFieldsTooLarge", "URITooLong", "header_section", "init_app", "request_target"]

#: Header fields a WSGI server passes without the ``HTTP_`` prefix.
_UNPREFIXED: Final = ("CONTENT_TYPE", "CONTENT_LENGTH")


class URITooLong(RequestURITooLarge):
    """414: the request target exceeds ``MAX_URI_LENGTH``."""

    # RFC 9110's phrase (Python 3.11 still says "Request-URI Too Long").
    problem_title = "URI Too Long"


class HeaderFieldsTooLarge(RequestHeaderFieldsTooLarge):
    """431: too many header fields, or too many bytes of them."""

    problem_title = "Request Header Fields Too Large"


def request_target(environ: Mapping[str, Any]) -> str:
    """The request target as the client sent it (``/v1/questions?q=...``).

    gunicorn and werkzeug pass it as ``RAW_URI``/``REQUEST_URI``; other servers are measured on
    the path re-quoted and the query string. WSGI strings are Latin-1, one character per byte.
    """
    for key in ("RAW_URI", "REQUEST_URI"):
        raw = environ.get(key)
        if isinstance(raw, str) and raw:
            return raw
    path = quote(str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", "")),
                 safe="/;=,:@!$&'()*+~")
    query = str(environ.get("QUERY_STRING", ""))
    return f"{path}?{query}" if query else path


def header_section(environ: Mapping[str, Any]) -> tuple[int, int]:
    """``(fields, bytes)`` of the request's header fields as the environ holds them."""
    fields = size = 0
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = key[5:]
        elif key in _UNPREFIXED and value:
            name = key
        else:
            continue
        fields += 1
        size += len(name) + 2 + len(str(value)) + 2  # "Name: value\r\n"
    return fields, size


def check_request() -> None:
    """Refuse a request whose target or header section exceeds the limits (first
    ``before_request`` function)."""
    config = current_app.config
    target = request_target(request.environ)
    limit = config["MAX_URI_LENGTH"]
    if len(target) > limit:
        raise URITooLong(
            f"The request target (path and query string) is {len(target)} bytes long; the "
            f"limit is {limit} bytes (MAX_URI_LENGTH)."
        )
    fields, size = header_section(request.environ)
    most_fields = config["MAX_HEADER_FIELDS"]
    if fields > most_fields:
        raise HeaderFieldsTooLarge(
            f"The request has {fields} header fields; the limit is {most_fields} "
            "(MAX_HEADER_FIELDS)."
        )
    most_bytes = config["MAX_HEADER_BYTES"]
    if size > most_bytes:
        raise HeaderFieldsTooLarge(
            f"The request's header fields take {size} bytes; the limit is {most_bytes} bytes "
            "(MAX_HEADER_BYTES)."
        )


def init_app(app: Flask) -> None:
    """Check every request of ``app`` first, before the CORS preflight answer and routing."""
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
