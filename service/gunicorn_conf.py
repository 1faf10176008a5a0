"""gunicorn settings, read from the same environment variables as the app.

``make run`` starts ``gunicorn --config service/gunicorn_conf.py service.wsgi:app``. HOST,
PORT, WEB_CONCURRENCY, LOG_LEVEL and DATA_DIR are parsed by :mod:`service.config`, so a bad
value stops gunicorn at start-up with the same message the app would give.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

# gunicorn executes this file by path; make the project importable when it is not installed.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from service.config import ConfigError, load_settings  # noqa: E402

try:
    _settings = load_settings(os.environ)
except ConfigError as exc:
    # One clear line instead of gunicorn's "Failed to read config file" traceback.
    print(f"triangulate: {exc}", file=sys.stderr)
    raise SystemExit(2) from None


def _bind_address(host: str, port: int) -> str:
    # An IPv6 literal needs brackets to be told apart from the port.
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


bind = [_bind_address(_settings["HOST"], _settings["PORT"])]
workers = _settings["WEB_CONCURRENCY"]
loglevel = _settings["LOG_LEVEL"].lower()
accesslog = "-"
errorlog = "-"
# gunicorn >= 25 opens a control socket under $HOME by default; the service does not use it and
# a socket left in a shared home directory is one more thing to secure.
control_socket_disable = True


def on_starting(server: Any) -> None:
    """Create DATA_DIR once, in the arbiter, before any worker starts."""
    Path(_settings["DATA_DIR"]).mkdir(parents=True, exist_ok=True)
