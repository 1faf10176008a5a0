"""gunicorn's logger: its own lines and the access log in ``LOG_FORMAT``, with the request id.

The formats, the request-id filter and the redaction are those of the app
(:mod:`service.http.logs`), so gunicorn's lines and the app's read alike.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from gunicorn import glogging

from service.config import parse_setting
from service.http.logs import (
    ENVIRON_KEY,
    RequestIdFilter,
    configure_root,
    make_formatter,
    redact,
)

__all__ = ["GunicornLogger"]


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
        configure_root(logging.getLevelName(self.loglevel), formatter)
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
