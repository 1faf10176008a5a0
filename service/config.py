"""Settings of the service, every one read from the environment with a default.

``SETTINGS`` is the one table of settings: name, default, parser and description. The README's
list of environment variables is generated from it (:func:`settings_table`), so the two cannot
drift apart. :func:`load_settings` parses an environment mapping and raises
:class:`ConfigError` naming the variable on a bad value, so a typo such as ``PORT=abc`` stops the
service at start-up instead of surfacing later as a confusing bind error.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "SETTINGS",
    "ConfigError",
    "Setting",
    "defaults",
    "load_settings",
    "settings_table",
]

#: Log levels accepted by ``LOG_LEVEL`` (the standard library's names).
LOG_LEVELS: Final[tuple[str, ...]] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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


#: Every setting of the service, in the order the README lists them.
SETTINGS: Final[tuple[Setting, ...]] = (
    Setting("HOST", "127.0.0.1", _host, "Address gunicorn binds to (`make run`)."),
    Setting("PORT", "8000", _int_in(1, 65535), "TCP port gunicorn binds to (`make run`)."),
    Setting(
        "WEB_CONCURRENCY",
        "2",
        _int_in(1, 256),
        "Number of gunicorn worker processes.",
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
    round-tripping their string form, so ``MAX_CLAIMS=0`` is refused either way. A true/false
    setting (``READS_REQUIRE_KEY``) also takes a Python ``bool``.

    Raises
    ------
    ConfigError
        When the value would be refused from the environment.
    """
    if name not in _BY_NAME:
        return value
    if isinstance(value, bool) and _BY_NAME[name].parse is _bool:
        return value
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ConfigError(f"Invalid {name} {value!r}: must be a string or an integer.")
    parsed = parse_setting(name, str(value))
    if isinstance(value, int) and parsed != value:
        raise ConfigError(f"Invalid {name} {value!r}: must be a string.")
    return parsed


def settings_table() -> str:
    """The settings as a Markdown table (name, default, meaning) for the README."""
    lines = ["| Variable | Default | Meaning |", "|---|---|---|"]
    lines += [f"| `{s.name}` | `{s.default}` | {s.description} |" for s in SETTINGS]
    return "\n".join(lines)
