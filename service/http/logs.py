"""Structured logs: one JSON object (or text line) per event, each with the request id.

Request ids
-----------
Every request gets an id: the client's ``X-Request-ID`` when it is safe to repeat (at most
:data:`MAX_REQUEST_ID` characters of ``A–Z a–z 0–9 . _ : = + / -``), else a fresh UUID4. The id
is echoed in the response's ``X-Request-ID`` header, stored in the WSGI environ (for gunicorn's
access line, written after the app returned) and in a context variable that
:class:`RequestIdFilter` copies onto every log record made while the request is served. An
unsafe id is replaced rather than refused: a client cannot inject text into the logs, and a
proxy that sends odd ids still gets answers.

Log lines
---------
``LOG_FORMAT=json`` writes ``{"ts", "level", "logger", "pid", "message", "request_id", …}``;
an access line adds ``method``, ``path``, ``status``, ``duration_ms``, ``bytes``, ``remote_addr``
and ``user_agent``. No request headers are logged except the user agent, the
query string is left out (it could carry a key), and :func:`redact` masks anything that still
looks like a credential (``Bearer …``, ``api_key=…``, a password in a URL) in every message
and traceback.

:class:`service.deploy.logs.GunicornLogger` is gunicorn's ``logger_class`` (see
``service/deploy/gunicorn_conf.py``): it
formats gunicorn's own lines and the access log, and gives the root logger, to which the app's
loggers propagate, the same handler.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from flask import Flask, Response

__all__ = [
    "ENVIRON_KEY",
    "MAX_REQUEST_ID",
    "REQUEST_ID_HEADER",
    "JsonFormatter",
    "RequestIdFilter",
    "TextFormatter",
    "configure_root",
    "current_request_id",
    "init_app",
    "make_formatter",
    "redact",
    "valid_request_id",
]

REQUEST_ID_HEADER: Final = "X-Request-ID"
#: Key of the request id in the WSGI environ.
ENVIRON_KEY: Final = "triangulate.request_id"
MAX_REQUEST_ID: Final = 128
_SAFE_ID: Final = re.compile(r"[A-Za-z0-9._:=+/-]+")
_HANDLER_MARK: Final = "_triangulate"

_request_id: ContextVar[str | None] = ContextVar("triangulate_request_id", default=None)

# Patterns of credentials that must never reach a log, with their replacement. The scheme of
# "Authorization: Bearer x" is kept and the token masked by the first pattern.
_SECRETS: Final[tuple[tuple[re.Pattern[str], str], ...]] = (
    (re.compile(r"(?i)\b(bearer)\s+(?!\[redacted\])[^\s\"',;]+"), r"\1 [redacted]"),
    (
        re.compile(
            r"(?i)\b(authorization|x-api-key|api[_-]?key|access[_-]?token|token|password|secret)"
            r"(\"?\s*[:=]\s*\"?)(?!(?:bearer\s+)?\[redacted\])((?:bearer|basic)\s+)?"
            r"[^\s\"',;&]+"
        ),
        r"\1\2\3[redacted]",
    ),
    # user:password@ in a URL (a DATABASE_URL in an error message).
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), r"\1[redacted]@"),
)
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def redact(text: str) -> str:
    """``text`` with anything that looks like a credential replaced by ``[redacted]``."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


def valid_request_id(value: str | None) -> bool:
    """Whether a client's ``X-Request-ID`` may be used as is (and written to the logs)."""
    return (
        value is not None
        and 0 < len(value) <= MAX_REQUEST_ID
        and _SAFE_ID.fullmatch(value) is not None
    )


def current_request_id() -> str | None:
    """The id of the request being served in this context, if any."""
    return _request_id.get()


# --- Formatting ---------------------------------------------------------------------------------


class RequestIdFilter(logging.Filter):
    """Copy the current request id onto each record (``record.request_id``, None outside one).

    A handler filter rather than a logger filter, so that it also sees records propagated from
    other loggers (the app's, SQLAlchemy's).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _request_id.get()
        return True


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line.

    Members: ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``pid``, ``message``, then
    ``request_id`` when there is one, the fields of an access line (``record.http``), and
    ``exc`` with the traceback.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            entry.update(http)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``ts [pid] LEVEL logger [request id] message`` for reading in a terminal."""

    def __init__(self) -> None:
        super().__init__("%(ts)s [%(process)d] %(levelname)s %(name)s [%(rid)s] %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        record.ts = _timestamp(record)
        record.rid = getattr(record, "request_id", None) or "-"
        # A message cannot start a new line: a %0A in a path would otherwise forge one.
        record.message = _CONTROL.sub(
            lambda m: f"\\x{ord(m.group()):02x}", redact(record.message)
        ).replace("\n", "\\n")
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:  # noqa: N802 (logging's name)
        return redact(super().formatException(ei))


def make_formatter(log_format: str) -> logging.Formatter:
    """The formatter for ``LOG_FORMAT`` (``json`` or ``text``)."""
    return JsonFormatter() if log_format == "json" else TextFormatter()


def _install(logger: logging.Logger, handler: logging.Handler) -> None:
    """Replace the handler this module installed on ``logger`` earlier, if any."""
    for old in [h for h in logger.handlers if getattr(h, _HANDLER_MARK, False)]:
        logger.removeHandler(old)
    setattr(handler, _HANDLER_MARK, True)
    logger.addHandler(handler)


def configure_root(level: str, formatter: logging.Formatter) -> logging.Handler:
    """Send the root logger's records (the app's, the libraries') to stderr through
    ``formatter``, with the request id.

    Returns
    -------
    logging.Handler
        The handler installed (a second call replaces it).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    _install(root, handler)
    root.setLevel(level)
    return handler


# --- Flask ----------------------------------------------------------------------------------------


def init_app(app: Flask) -> None:
    """Give every request of ``app`` an id: read or make it, log with it, echo it back."""
    from flask import g, request

    def assign() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER)
        request_id = incoming if valid_request_id(incoming) else str(uuid.uuid4())
        request.environ[ENVIRON_KEY] = request_id
        g.request_id_token = _request_id.set(request_id)

    def echo(response: Response) -> Response:
        request_id = request.environ.get(ENVIRON_KEY)
        if request_id is None:  # a before_request function failed before ours ran
            request_id = request.environ[ENVIRON_KEY] = str(uuid.uuid4())
        response.headers[REQUEST_ID_HEADER] = request_id
        return response

    def release(exc: BaseException | None) -> None:
        token: Token[str | None] | None = g.pop("request_id_token", None)
        if token is not None:
            _request_id.reset(token)

    # First of the app's before_request functions: whatever runs later logs with the id.
    app.before_request_funcs.setdefault(None, []).insert(0, assign)
    app.after_request(echo)
    app.teardown_request(release)
