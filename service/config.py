"""Settings of the service, every one read from the environment with a default.

``SETTINGS`` is the one table of settings: name, default, parser and description. The README's
list of environment variables is generated from it (:func:`settings_table`), so the two cannot
drift apart. :func:`load_settings` parses an environment mapping and raises
:class:`ConfigError` naming the variable on a bad value, so a typo such as ``PORT=abc`` stops the
service at start-up instead of surfacing later as a confusing bind error.
"""

from __future__ import annotations

import ipaddress
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

__all__ = [
    "SETTINGS",
    "ConfigError",
    "RateLimit",
    "Setting",
    "defaults",
    "load_settings",
    "settings_table",
]

#: Log levels accepted by ``LOG_LEVEL`` (the standard library's names).
LOG_LEVELS: Final[tuple[str, ...]] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Log line formats accepted by ``LOG_FORMAT``.
LOG_FORMATS: Final[tuple[str, ...]] = ("json", "text")
#: Most workers ``WEB_CONCURRENCY=auto`` starts: each one holds numpy, scipy, matplotlib and
#: the app (about 180 MB resident once it has drawn a plot), and the work is CPU-bound, so more
#: than this buys memory use, not speed.
MAX_AUTO_WORKERS: Final = 8
#: Largest ``MAX_URI_LENGTH``: gunicorn reads request lines of at most 8190 bytes (its hard
#: maximum), and the method, two spaces and the version must fit beside the target.
MAX_URI_LIMIT: Final = 8000


class ConfigError(ValueError):
    """A setting whose value cannot be used; the message names the variable and the rule."""


@dataclass(frozen=True, slots=True)
class Setting:
    """One setting of the service.

    Attributes
    ----------
    name : str
        Environment variable and Flask config key.
    default : str
        Default, written as it would be in the environment.
    parse : callable
        Turns the string from the environment into the typed value; raises ``ValueError``
        with a sentence saying what is expected.
    description : str
        One line for the README table.
    secret : bool
        The value may hold a password (a database URL): error messages do not repeat it.
    """

    name: str
    default: str
    parse: Callable[[str], Any]
    description: str
    secret: bool = False


def _int_in(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip(), 10)
        except ValueError:
            raise ValueError("must be an integer") from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise ValueError(f"must be {bound}")
        return value

    return parse


def _host(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("must not be empty")
    # A literal IP address is checked strictly; anything else is taken as a host name, which
    # only the resolver can judge, but it must at least look like one.
    try:
        ipaddress.ip_address(value)
    except ValueError:
        allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-.")
        if not set(value.lower()) <= allowed:
            raise ValueError("must be an IP address or a host name") from None
    return value


def _path(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def _optional_path(raw: str) -> str:
    return raw.strip()


_TRUE: Final = ("1", "true", "yes", "on")
_FALSE: Final = ("0", "false", "no", "off")


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError("must be true or false (also accepted: 1/0, yes/no, on/off)")


def _database_url(raw: str) -> str:
    """Empty (SQLite under DATA_DIR), or a PostgreSQL or SQLite URL for SQLAlchemy.

    ``postgres://`` and ``postgresql://`` (as hosting platforms hand them out) are rewritten to
    ``postgresql+psycopg://`` so that the one installed driver, psycopg 3, is used.
    """
    value = raw.strip()
    if not value:
        return ""
    scheme, sep, rest = value.partition("://")
    if not sep or not rest:
        raise ValueError("must be a URL such as postgresql+psycopg://user:password@host/db")
    scheme = scheme.lower()
    if scheme in ("postgres", "postgresql", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite":
        return value
    raise ValueError("must start with postgresql://, postgresql+psycopg:// or sqlite://")


def _log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
    return value


def _log_format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in LOG_FORMATS:
        raise ValueError(f"must be one of {', '.join(LOG_FORMATS)}")
    return value


def _seconds(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError("must be a number of seconds") from None
        # `not low < value` also refuses NaN.
        if not low < value <= high:
            raise ValueError(f"must be more than {low:g} and at most {high:g} seconds")
        return value

    return parse


def available_cpus() -> int:
    """CPUs this process may use: its affinity mask, capped by a cgroup v2 CPU quota.

    ``os.cpu_count()`` counts the host's CPUs, which in a container limited with
    ``docker run --cpus 2`` would size the worker pool for the whole machine.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cpus = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            cpus = min(cpus, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


def auto_workers(cpus: int) -> int:
    """gunicorn's rule of thumb, 2 × CPUs + 1, capped at :data:`MAX_AUTO_WORKERS`."""
    return min(2 * cpus + 1, MAX_AUTO_WORKERS)


def _workers(raw: str) -> int:
    if raw.strip().lower() == "auto":
        return auto_workers(available_cpus())
    try:
        return _int_in(1, 256)(raw)
    except ValueError as exc:
        raise ValueError(f"{exc}, or auto") from None


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``count`` requests per ``period`` seconds (``WRITE_RATE_LIMIT``)."""

    count: int
    period: float

    @property
    def rate(self) -> float:
        """Tokens regained per second."""
        return self.count / self.period


_PERIODS: Final = {"second": 1.0, "minute": 60.0, "hour": 3600.0}


def _rate_limit(raw: str) -> RateLimit | None:
    """``60/minute`` → ``RateLimit(60, 60.0)``; ``off`` → ``None`` (no limit)."""
    value = raw.strip().lower()
    if value == "off":
        return None
    count, sep, unit = value.partition("/")
    if not sep or unit not in _PERIODS:
        raise ValueError("must look like 60/minute (per second, minute or hour), or off")
    try:
        number = int(count, 10)
    except ValueError:
        raise ValueError("must start with a whole number, as in 60/minute") from None
    if number < 1:
        raise ValueError("must allow at least 1 request per period, or be off")
    return RateLimit(number, _PERIODS[unit])


def _origins(raw: str) -> tuple[str, ...]:
    """Comma-separated browser origins (``https://host[:port]``); no wildcard."""
    origins = tuple(part.strip().rstrip("/") for part in raw.split(",") if part.strip())
    for origin in origins:
        if origin == "*":
            raise ValueError("must list origins; the wildcard * is not allowed")
        scheme, sep, rest = origin.partition("://")
        if scheme not in ("http", "https") or not sep or not rest or "/" in rest:
            raise ValueError(f"must be origins such as https://desk.example, not {origin!r}")
    return origins


#: Every setting of the service, in the order the README lists them.
SETTINGS: Final[tuple[Setting, ...]] = (
    Setting("HOST", "127.0.0.1", _host, "Address gunicorn binds to (`make run`)."),
    Setting("PORT", "8000", _int_in(1, 65535), "TCP port gunicorn binds to (`make run`)."),
    Setting(
        "WEB_CONCURRENCY",
        "auto",
        _workers,
        "Number of gunicorn worker processes (1–256); `auto` is 2 × CPUs + 1, at most "
        f"{MAX_AUTO_WORKERS}, counting only the CPUs the process may use (affinity, cgroup "
        "quota).",
    ),
    Setting(
        "GUNICORN_THREADS",
        "1",
        _int_in(1, 64),
        "Threads per worker. 1 runs gunicorn's sync worker (one request per process, best for "
        "the CPU-bound estimators); more runs the gthread worker, which also keeps idle "
        "connections alive for `KEEPALIVE` seconds.",
    ),
    Setting(
        "GUNICORN_TIMEOUT",
        "30",
        _int_in(1, 3600),
        "Seconds a worker may spend silent (on one request) before gunicorn kills and "
        "replaces it.",
    ),
    Setting(
        "GRACEFUL_TIMEOUT",
        "30",
        _int_in(1, 3600),
        "Seconds workers get after SIGTERM to finish the requests in flight before they are "
        "killed; give `docker stop -t` / `stop_grace_period` a few seconds more.",
    ),
    Setting(
        "KEEPALIVE",
        "5",
        _int_in(0, 3600),
        "Seconds an idle keep-alive connection is held (gthread worker only; the sync worker "
        "closes each connection after its response). Set it above a load balancer's idle "
        "timeout.",
    ),
    Setting(
        "DATA_DIR",
        "./data",
        _path,
        "Directory for the service's data; created at start-up by gunicorn.",
    ),
    Setting(
        "MAX_CONTENT_LENGTH",
        str(4 * 1024 * 1024),
        _int_in(1),
        "Largest accepted request body in bytes (4 MiB); larger bodies get 413.",
    ),
    Setting(
        "MAX_URI_LENGTH",
        str(MAX_URI_LIMIT),
        _int_in(256, MAX_URI_LIMIT),
        "Longest accepted request target (path and query string, as sent) in bytes, at most "
        f"{MAX_URI_LIMIT}; longer ones get 414 (problem+json).",
    ),
    Setting(
        "MAX_HEADER_FIELDS",
        "100",
        _int_in(10, 1000),
        "Most header fields accepted in one request; more get 431 (problem+json).",
    ),
    Setting(
        "MAX_HEADER_BYTES",
        str(32 * 1024),
        _int_in(1024, 1024 * 1024),
        "Largest accepted header section in bytes (32 KiB: every `Name: value` line, counted "
        "with its line end); larger get 431 (problem+json).",
    ),
    Setting(
        "MAX_CLAIMS",
        "10000",
        _int_in(1),
        "Most claims accepted in one reconcile request; more get 422.",
    ),
    Setting(
        "MAX_SOURCES",
        "10000",
        _int_in(1),
        "Most sources accepted in one reconcile request; more get 422.",
    ),
    Setting(
        "LOG_LEVEL",
        "INFO",
        _log_level,
        f"Log level of the service and gunicorn ({', '.join(LOG_LEVELS)}).",
    ),
    Setting(
        "LOG_FORMAT",
        "json",
        _log_format,
        "`json`: one JSON object per line (app, gunicorn and access logs, each with the "
        "`request_id`); `text`: the same fields for humans.",
    ),
    Setting(
        "METRICS_ENABLED",
        "true",
        _bool,
        "Serve Prometheus metrics at `GET /metrics` and count requests; when false the route "
        "is absent (404).",
    ),
    Setting(
        "PROMETHEUS_MULTIPROC_DIR",
        "",
        _optional_path,
        "Directory where gunicorn's workers keep their metrics (files `*.db`, wiped at "
        "start); empty: a fresh temporary directory per run, removed at exit.",
    ),
    Setting(
        "READINESS_TIMEOUT",
        "2",
        _seconds(0, 60),
        "Seconds `GET /readyz` waits for the database's `SELECT 1` before answering 503.",
    ),
    Setting(
        "DATABASE_URL",
        "",
        _database_url,
        "PostgreSQL URL (`postgresql://user:password@host:5432/db`, driven by psycopg 3); "
        "empty means SQLite in `DATA_DIR/triangulate.sqlite3`.",
        secret=True,
    ),
    Setting(
        "MIGRATE_ON_START",
        "true",
        _bool,
        "Apply pending database migrations when the app starts; when false, the app refuses to "
        "start on a database that `triangulate db upgrade` has not brought up to date.",
    ),
    Setting(
        "READS_REQUIRE_KEY",
        "false",
        _bool,
        "Require `Authorization: Bearer <key>` on reads of stored data too (writes always "
        "need a key; `POST /v1/reconcile` never does).",
    ),
    Setting(
        "MAX_BATCH_CLAIMS",
        "1000000",
        _int_in(1),
        "Most claims accepted in one `POST /v1/reconcile/batch` request (either form); more "
        "get 422.",
    ),
    Setting(
        "MAX_BATCH_SOURCES",
        "100000",
        _int_in(1),
        "Most sources listed in one `POST /v1/reconcile/batch` request; more get 422.",
    ),
    Setting(
        "MAX_BATCH_CONTENT_LENGTH",
        str(256 * 1024 * 1024),
        _int_in(1),
        "Largest body in bytes accepted by `POST /v1/reconcile/batch` (256 MiB); other routes "
        "keep `MAX_CONTENT_LENGTH`.",
    ),
    Setting(
        "WRITE_RATE_LIMIT",
        "600/minute",
        _rate_limit,
        "Writes allowed per API key (`N/second`, `N/minute` or `N/hour`; `off`: no limit), as "
        "a token bucket of N refilled over the period, kept in the database (one limit across "
        "every worker and container); over it, 429 with `Retry-After`.",
    ),
    Setting(
        "CORS_ORIGINS",
        "",
        _origins,
        "Comma-separated browser origins allowed to call the API cross-origin "
        "(`https://desk.example`); empty: none. The wildcard `*` is refused.",
    ),
)

_BY_NAME: Final[dict[str, Setting]] = {s.name: s for s in SETTINGS}


def parse_setting(name: str, raw: str) -> Any:
    """Parse one setting from its string form.

    Raises
    ------
    ConfigError
        With a message such as ``Invalid PORT 'abc': must be an integer.``
    """
    setting = _BY_NAME[name]
    try:
        return setting.parse(raw)
    except ValueError as exc:
        shown = "(value hidden)" if setting.secret else repr(raw)
        raise ConfigError(f"Invalid {name} {shown}: {exc}.") from None


def load_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Read every setting from ``environ``, falling back to its default.

    Parameters
    ----------
    environ : mapping of str to str
        Usually ``os.environ``.

    Returns
    -------
    dict
        Setting name to parsed value (``int`` or ``str``).

    Raises
    ------
    ConfigError
        On the first value that does not parse.
    """
    return {s.name: parse_setting(s.name, environ.get(s.name, s.default)) for s in SETTINGS}


def defaults() -> dict[str, Any]:
    """Every setting at its default, ignoring the environment (tests use this)."""
    return load_settings({})


def check_override(name: str, value: Any) -> Any:
    """Validate a setting passed to ``create_app(config=...)`` as a Python value.

    Strings go through the same parser as the environment; other values are checked by
    round-tripping their string form, so ``MAX_CLAIMS=0`` is refused either way (and
    ``MAX_CLAIMS=2.5`` too). A true/false setting (``READS_REQUIRE_KEY``) also takes a Python
    ``bool``.

    Raises
    ------
    ConfigError
        When the value would be refused from the environment.
    """
    if name not in _BY_NAME:
        return value
    # Values already parsed (``defaults()`` passed back in): a limit, "off", a list of origins.
    if _BY_NAME[name].parse is _rate_limit and (value is None or isinstance(value, RateLimit)):
        return value
    if _BY_NAME[name].parse is _origins and isinstance(value, tuple | list):
        return parse_setting(name, ",".join(str(origin) for origin in value))
    if isinstance(value, bool) and _BY_NAME[name].parse is _bool:
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(f"Invalid {name} {value!r}: must be a string or a number.")
    parsed = parse_setting(name, str(value))
    if isinstance(value, int | float) and parsed != value:
        raise ConfigError(f"Invalid {name} {value!r}: must be a string.")
    return parsed


def settings_table() -> str:
    """The settings as a Markdown table (name, default, meaning) for the README."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    lines += [f"| `{s.name}` | `{s.default}` | {s.description} |" for s in SETTINGS]
    return "\n".join(lines)
