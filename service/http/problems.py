"""Every error of the service as an RFC 9457 problem document (``application/problem+json``).

A problem has ``type``, ``title``, ``status``, ``detail`` and ``instance`` (the request path);
a 422 adds ``errors``, mapping dotted field paths of the request body (``claims.2.value``) to
lists of messages, and its ``detail`` names the first bad field in a sentence.

``type`` URIs
-------------
Problems with Triangulate-specific meaning get a URI under :data:`PROBLEM_BASE`:

==========================================================  ======  ==============================
type                                                        status  when
==========================================================  ======  ==============================
``https://triangulate.invalid/problems/malformed-json``     400     body empty, not JSON, or JSON
                                                                    with a duplicate key
``https://triangulate.invalid/problems/validation-error``   422     body does not match the schema
``https://triangulate.invalid/problems/reconcile-error``    422     the statistical core refused
                                                                    the input (``ReconcileError``)
==========================================================  ======  ==============================

Every other error (404, 405, 413, 415, 500, …) is a plain HTTP error and uses ``about:blank``
with the status phrase as ``title``, as RFC 9457 §4.2.1 recommends. The ``.invalid`` host
(RFC 2606) is deliberate: the URIs are identifiers, not pages to fetch.

Tracebacks never reach a client unless ``app.debug`` is on; unexpected exceptions are logged.
"""

from __future__ import annotations

import http
import json
import traceback
from collections.abc import Mapping
from typing import Any, Final

import marshmallow as ma
from flask import Flask, Response, current_app, request
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    UnsupportedMediaType,
)

from models.errors import ReconcileError
from service.store import errors as store

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_MIMETYPE",
    "Invalid",
    "MalformedJSON",
    "NotJSON",
    "Problem",
    "ProblemSchema",
    "flatten_messages",
    "problem_response",
    "register_error_handlers",
]

PROBLEM_MIMETYPE: Final = "application/problem+json"
PROBLEM_BASE: Final = "https://triangulate.invalid/problems/"
VALIDATION_ERROR: Final = PROBLEM_BASE + "validation-error"
RECONCILE_ERROR: Final = PROBLEM_BASE + "reconcile-error"
MALFORMED_JSON: Final = PROBLEM_BASE + "malformed-json"

#: RFC 9110 reason phrases, fixed here because Python renamed some between versions (413, 422)
#: and the titles are part of the documented contract.
PHRASES: Final[dict[int, str]] = {
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Content Too Large",
    414: "URI Too Long",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    500: "Internal Server Error",
}

#: Key under which marshmallow reports errors about a whole object rather than one field.
SCHEMA_KEY: Final = "_schema"


def phrase(status: int) -> str:
    """Reason phrase of ``status``."""
    if status in PHRASES:
        return PHRASES[status]
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class MalformedJSON(BadRequest):
    """The request body is empty or not valid JSON."""

    problem_type = MALFORMED_JSON
    problem_title = "Malformed JSON body"


class NotJSON(UnsupportedMediaType):
    """A body sent with a content type other than JSON."""


# --- Errors raised by views -------------------------------------------------------------------
# Each is an HTTPException, so handle_http_exception answers it like any other HTTP error:
# ``data["message"]`` becomes ``detail``, ``data["errors"]`` the field messages of a 422 and
# ``data["headers"]`` extra response headers.


class Problem(HTTPException):
    """An HTTP error of status ``status`` with a sentence for ``detail``.

    Parameters
    ----------
    status : int
        The HTTP status; :data:`service.http.api.ERROR_RESPONSES` says when each is answered.
    detail : str
        The problem's ``detail``.
    errors : mapping, optional
        Field path → messages (a 422 names the fields this way).
    headers : mapping, optional
        Extra response headers (``WWW-Authenticate``, ``ETag``, ``Retry-After``).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = status
        self.data: dict[str, Any] = {"message": detail, "headers": dict(headers or {})}
        if errors is not None:
            self.data["errors"] = dict(errors)


class Invalid(Problem):
    """422: the body (or a query parameter) is well-formed but cannot be accepted."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(422, f"Invalid {field}: {message}", errors={field: [message]})


# --- Documentation schemas --------------------------------------------------------------------


class ProblemSchema(ma.Schema):
    """An RFC 9457 problem document (documentation only; responses are built by hand)."""

    class Meta:
        # RFC 9457 allows extension members (a traceback in debug mode, say).
        unknown = ma.INCLUDE

    type = ma.fields.String(
        required=True,
        metadata={
            "description": (
                "URI identifying the kind of problem: about:blank for plain HTTP errors, else "
                "https://triangulate.invalid/problems/{malformed-json, validation-error, "
                "reconcile-error}."
            ),
            "format": "uri-reference",
        },
    )
    title = ma.fields.String(
        required=True, metadata={"description": "Short summary of the kind of problem."}
    )
    status = ma.fields.Integer(required=True, metadata={"description": "HTTP status code."})
    detail = ma.fields.String(
        required=True,
        metadata={"description": "This occurrence in a sentence; names the first bad field."},
    )
    instance = ma.fields.String(
        required=True,
        metadata={"description": "Path of the request.", "format": "uri-reference"},
    )
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={
            "description": (
                "422 only: dotted path of each bad field of the body (claims.2.value; "
                "_schema for the body as a whole) to its messages."
            )
        },
    )


# --- Building problems ------------------------------------------------------------------------


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten marshmallow's nested error messages into dotted paths.

    Parameters
    ----------
    messages : dict, list or str
        ``ValidationError.messages``, e.g. ``{"claims": {2: {"value": ["..."]}}}``.
    prefix : str
        Path of ``messages`` itself.

    Returns
    -------
    dict of str to list of str
        ``{"claims.2.value": ["..."]}``, in the order marshmallow reported them. Messages about
        an item as a whole get the item's path (``claims.2``); about the body as a whole,
        ``_schema``.
    """
    flat: dict[str, list[str]] = {}

    def add(path: str, message: str) -> None:
        flat.setdefault(path or SCHEMA_KEY, []).append(message)

    def walk(node: Any, path: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                # An error about a whole item ("claims.0" is not an object) is filed under the
                # item's own path; only the body as a whole keeps marshmallow's "_schema".
                step = "" if key == SCHEMA_KEY else str(key)
                walk(value, ".".join(p for p in (path, step) if p))
        elif isinstance(node, list | tuple):
            for item in node:
                if isinstance(item, str):
                    add(path, item)
                else:
                    walk(item, path)
        else:
            add(path, str(node))

    walk(messages, prefix)
    return flat


def _describe(errors: Mapping[str, list[str]]) -> str:
    """A sentence naming the first bad field, e.g. ``Invalid claims.2.value: Not a finite…``."""
    path, messages = next(iter(errors.items()))
    message = messages[0] if messages else "Invalid value."
    head = "Invalid request body" if path == SCHEMA_KEY else f"Invalid {path}"
    count = sum(len(m) for m in errors.values())
    more = f" ({count - 1} more in errors.)" if count > 1 else ""
    return f"{head}: {message}{more}"


def problem_response(
    status: int,
    detail: str,
    *,
    type_: str = "about:blank",
    title: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Response:
    """An ``application/problem+json`` response.

    Parameters
    ----------
    status : int
        HTTP status.
    detail : str
        This occurrence of the problem in a sentence.
    type_ : str
        Problem type URI; ``about:blank`` for plain HTTP errors.
    title : str, optional
        Defaults to the status phrase.
    errors : mapping, optional
        Field path → messages (422).
    headers : mapping, optional
        Extra headers, e.g. ``Allow`` for 405.
    extra : mapping, optional
        Further extension members (a traceback in debug mode).
    """
    body: dict[str, Any] = {
        "type": type_,
        "title": title or phrase(status),
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors is not None:
        body["errors"] = dict(errors)
    body.update(extra or {})
    # Dumped by hand (not jsonify) to keep the members in RFC order and the media type exact.
    response = Response(
        json.dumps(body, ensure_ascii=False, allow_nan=False) + "\n",
        status=status,
        mimetype=PROBLEM_MIMETYPE,
    )
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# --- Handlers ---------------------------------------------------------------------------------


def _http_detail(error: HTTPException) -> str:
    code = error.code or 500
    if code == 405:
        allowed = ", ".join(sorted(getattr(error, "valid_methods", None) or ()))
        return f"The method {request.method} is not allowed for {request.path}; allowed: {allowed}."
    if code == 404:
        return f"No resource at {request.path}."
    if code == 413:
        # A route may raise its own limit (the batch route's MAX_BATCH_CONTENT_LENGTH).
        limit = request.max_content_length
        setting = ("MAX_CONTENT_LENGTH" if limit == current_app.config.get("MAX_CONTENT_LENGTH")
                   else "MAX_BATCH_CONTENT_LENGTH")
        return f"The request body exceeds the limit of {limit} bytes ({setting})."
    return error.description or phrase(code)


def handle_http_exception(error: HTTPException) -> Response:
    """Any :class:`~werkzeug.exceptions.HTTPException`: routing errors, ``abort()`` calls
    (flask's and flask-smorest's), body-size and media-type refusals, schema errors."""
    code = error.code or 500
    if isinstance(error, InternalServerError):
        # Flask wraps an exception nobody handled in a 500; abort(500) lands here too.
        return handle_unexpected(error)
    # flask-smorest/webargs abort() attaches keyword arguments as ``data``; webargs puts schema
    # errors under "messages", keyed by location ({"json": {...}}), which a body-only API drops.
    data: Mapping[str, Any] = getattr(error, "data", None) or {}
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    raw = data.get("errors", data.get("messages"))
    if isinstance(raw, Mapping) and set(raw) == {"json"}:
        raw = raw["json"]
    message = data.get("message")
    if code == 422:
        # Every 422 carries errors, even from a bare abort(422, message=...).
        errors = flatten_messages(raw) if raw is not None else {SCHEMA_KEY: [message or "Invalid."]}
        return problem_response(
            422,
            message or _describe(errors),
            type_=VALIDATION_ERROR,
            title="Invalid request body",
            errors=errors,
            headers=headers,
        )
    return problem_response(
        code,
        message or _http_detail(error),
        type_=getattr(error, "problem_type", "about:blank"),
        title=getattr(error, "problem_title", None),
        errors=flatten_messages(raw) if raw is not None else None,
        headers=headers,
    )


def handle_reconcile_error(error: ReconcileError) -> Response:
    """A domain error of the statistical core: 422 naming the field it blames."""
    path = error.field or SCHEMA_KEY
    errors = {path: [error.message]}
    return problem_response(
        422,
        _describe(errors),
        type_=RECONCILE_ERROR,
        title="Input cannot be reconciled",
        errors=errors,
    )


#: The status answering each of the store's domain errors (another one is a conflict).
_STORE_STATUSES: Final[dict[type[store.StoreError], int]] = {
    store.NotFound: 404,
    store.Conflict: 409,
    store.VersionRequired: 428,
    store.StaleVersion: 412,
}


def handle_store_error(error: store.StoreError) -> Response:
    """A domain error of the store: 404, 409, 412, 428 (with the current ETag) or 422."""
    if isinstance(error, store.Invalid):
        return handle_http_exception(Invalid(error.field, error.message))
    headers = {} if error.version is None else {"ETag": f'"{error.version}"'}
    status = _STORE_STATUSES.get(type(error), 409)
    return handle_http_exception(Problem(status, error.detail, headers=headers))


def handle_database_unavailable(error: BaseException) -> Response:
    """The database refused or dropped the connection (a restart, a lock timeout): 503 with
    ``Retry-After``, fast, so clients back off; the pool reconnects by itself afterwards
    (``pool_pre_ping``). Logged without the statement's parameters; none of it is returned."""
    from service.http.readiness import RETRY_AFTER

    current_app.logger.warning(
        "Database unavailable on %s %s: %s", request.method, request.path, type(error).__name__
    )
    return problem_response(
        503,
        "The database cannot be reached; retry later.",
        headers={"Retry-After": str(RETRY_AFTER)},
    )


def handle_unexpected(error: BaseException) -> Response:
    """Anything else: log it with its traceback, answer 500 without one (unless debugging)."""
    original = getattr(error, "original_exception", None) or error
    current_app.logger.error(
        "Unhandled %s on %s %s",
        type(original).__name__,
        request.method,
        request.path,
        exc_info=original,
    )
    extra: dict[str, Any] = {}
    if current_app.debug:
        extra["traceback"] = traceback.format_exception(original)
    return problem_response(
        500,
        "The server failed to process the request; the error has been logged.",
        extra=extra,
    )


def register_error_handlers(app: Flask) -> None:
    """Route every exception of ``app`` to a problem+json handler.

    Registered after flask-smorest's own handler so that these replace it.
    """
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ReconcileError, handle_reconcile_error)
    app.register_error_handler(store.StoreError, handle_store_error)
    # Connection-level failures only: OperationalError (server gone, restarting, locked) and
    # InterfaceError (connection closed); programming errors stay 500s.
    app.register_error_handler(sa_exc.OperationalError, handle_database_unavailable)
    app.register_error_handler(sa_exc.InterfaceError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
