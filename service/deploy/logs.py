"""gunicorn's logger: its own lines and the access log in ``LOG_FORMAT``, with the request id.

The formats, the request-id filter and the redaction are those of the app
(:mod:`service.http.logs`), so gunicorn's lines and the app's read alike.

Start-up says what a user needs: gunicorn's own lines, then one line naming the address, the
database (without credentials) and the workers (:func:`startup_message`). Alembic's INFO lines
about its plugins and the dialect ("Context impl SQLiteImpl.", "Will assume non-transactional
DDL.") are held back below ``LOG_LEVEL=DEBUG``; the store logs the migration it applied itself.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from typing import Any, Final

from gunicorn import glogging

from service.config import parse_setting
from service.http.logs import (
    ENVIRON_KEY,
    RequestIdFilter,
    configure_root,
    make_formatter,
    redact,
)

__all__ = [
    "CHATTY_LOGGERS",
    "GunicornLogger",
    "describe_database",
    "quiet_chatty_loggers",
    "startup_message",
]

#: Libraries whose INFO lines are chatter to someone running the service (shown at DEBUG).
CHATTY_LOGGERS: Final = ("alembic",)


def quiet_chatty_loggers(level: str) -> None:
    """Raise :data:`CHATTY_LOGGERS` to WARNING unless ``level`` is DEBUG."""
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def describe_database(url: str) -> str:
    """A database URL without credentials: no user name, password or query (which may carry a
    password); ``postgresql+psycopg://db.example:5432/triangulate``."""
    from sqlalchemy.engine import URL, make_url

    parsed = make_url(url)
    bare = URL.create(
        parsed.drivername, host=parsed.host, port=parsed.port, database=parsed.database
    )
    return bare.render_as_string(hide_password=False)


def startup_message(settings: Mapping[str, Any], addresses: Sequence[str]) -> str:
    """The start-up line: where the service answers, its database and its workers."""
    from service.store.engine import database_url

    workers = int(settings["WEB_CONCURRENCY"])
    threads = int(settings["GUNICORN_THREADS"])
    kind = "sync" if threads == 1 else f"gthread ({threads} threads each)"
    plural = "" if workers == 1 else "s"
    return (
        f"Triangulate serving {', '.join(addresses)}; database "
        f"{describe_database(database_url(settings))}; {workers} {kind} worker{plural}."
    )


class GunicornLogger(glogging.Logger):  # type: ignore[misc]
    """gunicorn's logger, writing ``LOG_FORMAT`` lines with the request id.

    gunicorn calls :meth:`setup` in the arbiter (and again on a configuration reload), so the
    workers inherit the handlers; :meth:`access` runs in a worker after each response.
    """

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        log_format = parse_setting("LOG_FORMAT", os.environ.get("LOG_FORMAT", "json"))
        formatter = make_formatter(log_format)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if getattr(handler, "_gunicorn", False):
                    handler.setFormatter(formatter)
                    if not any(isinstance(f, RequestIdFilter) for f in handler.filters):
                        handler.addFilter(RequestIdFilter())
        level = logging.getLevelName(self.loglevel)
        configure_root(level, formatter)
        quiet_chatty_loggers(level)
        # Python's warnings as log lines too, so that stderr holds nothing but log lines.
        logging.captureWarnings(True)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        """Log one response: method, path (no query string), status, duration, size, id."""
        if not self.access_log_enabled:
            return
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        method = str(environ.get("REQUEST_METHOD", "-"))
        path = redact(str(environ.get("PATH_INFO", "-")))
        duration_ms = round(request_time.total_seconds() * 1000, 3)
        fields = {
            "method": method,
            "path": path,
            "status": int(status),
            "duration_ms": duration_ms,
            "bytes": getattr(resp, "sent", None),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
        }
        try:
            self.access_log.info(
                "%s %s %s %.1fms",
                method,
                path,
                status,
                duration_ms,
                extra={"http": fields, "request_id": environ.get(ENVIRON_KEY)},
            )
        except Exception:  # a log line must never fail the response
            self.error_log.exception("Failed to write an access log line.")
