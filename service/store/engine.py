"""The database: engine, sessions and migrations.

SQLite by default, in ``DATA_DIR/triangulate.sqlite3``; PostgreSQL (psycopg 3) when
``DATABASE_URL`` is set. The schema is owned by Alembic (``service/store/migrations``):
:meth:`Database.upgrade` brings a database to the newest revision, on app start
(``MIGRATE_ON_START``) and from ``triangulate db upgrade``.

SQLite is opened with foreign keys on and in WAL mode (readers never block the writer, and a
write survives the process being killed once committed). Transactions are begun by hand
(SQLAlchemy's documented recipe for pysqlite), so that a write transaction can start with
``BEGIN IMMEDIATE``: it takes the write lock up front, and two processes writing at once queue
on ``busy_timeout`` instead of one failing with "database is locked" when it upgrades a read
lock. PostgreSQL needs no such care; concurrent migrations there are serialised by an advisory
lock.

Nothing here runs at import time. The Flask wiring (a session per request) lives in
:mod:`service.http.database`.
"""

from __future__ import annotations

import os
import sqlite3
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

__all__ = [
    "SQLITE_FILE",
    "Database",
    "DatabaseNotReady",
    "database_url",
]

#: File name of the SQLite database inside DATA_DIR.
SQLITE_FILE: Final = "triangulate.sqlite3"
MIGRATIONS_DIR: Final = Path(__file__).resolve().with_name("migrations")
#: Execution option that marks a connection's transaction as a write (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION: Final = "triangulate_write"
#: Key of ``pg_advisory_xact_lock`` held while migrating ("TRIA" in ASCII).
MIGRATION_LOCK: Final = 0x54524941
#: How long a SQLite writer waits for another one before giving up, in milliseconds.
SQLITE_BUSY_TIMEOUT_MS: Final = 30_000


#: Every open Database, so that a forked child drops the connections it inherited.
_OPEN: Final[weakref.WeakSet[Database]] = weakref.WeakSet()


def _forget_inherited_connections() -> None:
    # A connection used by two processes corrupts its protocol state (PostgreSQL) or its locks
    # (SQLite); the child opens its own. close=False leaves the parent's connections alone.
    for database in list(_OPEN):
        database.engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_connections)


class DatabaseNotReady(RuntimeError):
    """The database is not at the schema revision this code expects."""


def database_url(settings: Mapping[str, Any]) -> str:
    """The SQLAlchemy URL for ``settings``: ``DATABASE_URL``, else SQLite under ``DATA_DIR``."""
    url = str(settings.get("DATABASE_URL") or "")
    if url:
        return url
    path = Path(str(settings["DATA_DIR"])).expanduser().resolve() / SQLITE_FILE
    return f"sqlite:///{path}"


def _sqlite_on_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Hand transaction control to the "begin" listener below (pysqlite would otherwise begin
    # lazily before the first write, too late to take the write lock first).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    # In WAL mode NORMAL loses no committed transaction when the process dies (only on power
    # loss), and saves an fsync per commit.
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _journal_wal(engine: Engine) -> None:
    """Put the SQLite file in WAL mode: persistent in the file, so set once per engine rather
    than on every connection, and on a raw connection because SQLite refuses it inside a
    transaction.

    Switching a new file to WAL takes an exclusive lock, and where several processes switch it
    at once (gunicorn's workers opening a fresh database together) SQLite answers "database is
    locked" at once rather than through the busy handler (the lock would deadlock). The switch
    is therefore retried until the busy timeout has passed, as the handler would have waited.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000.0
    while True:
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
        finally:
            raw.close()
        time.sleep(0.01)


def _sqlite_on_begin(connection: Connection) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@cache
def _alembic_config() -> AlembicConfig:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@cache
def head_revision() -> str | None:
    """The newest migration's revision id (read once per process)."""
    from alembic.script import ScriptDirectory

    head: str | None = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    return head


class Database:
    """An engine and a session factory for one database URL.

    Parameters
    ----------
    url : str
        A SQLAlchemy URL: ``sqlite:///path`` or ``postgresql+psycopg://…``.
    """

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.backend: Final[str] = parsed.get_backend_name()
        if self.backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            # Pooled: closing the last connection to a WAL database checkpoints and deletes
            # the WAL file, which a pool-less engine would pay on every request.
            self.engine: Engine = create_engine(parsed)
            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
            _journal_wal(self.engine)
        elif self.backend == "postgresql":
            self.engine = create_engine(parsed, pool_pre_ping=True)
        else:
            raise ValueError(f"Unsupported database {self.backend!r}; use sqlite or postgresql.")
        self.sessions: Final = sessionmaker(self.engine, expire_on_commit=False)
        #: Called by :meth:`dispose` first (the learning job's thread finishing its run).
        self.before_dispose: list[Callable[[], object]] = []
        _OPEN.add(self)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Database:
        """The database that ``settings`` (``DATABASE_URL``, ``DATA_DIR``) name."""
        return cls(database_url(settings))

    def describe(self) -> str:
        """The URL without its password, for messages."""
        return self.engine.url.render_as_string(hide_password=True)

    # --- Migrations ---------------------------------------------------------------------------

    def current_revision(self) -> str | None:
        """The revision the database is at (None for an empty database)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            revision: str | None = MigrationContext.configure(connection).get_current_revision()
            return revision

    def is_current(self) -> bool:
        """Whether the database is at the newest revision."""
        return self.current_revision() == head_revision()

    def upgrade(self) -> bool:
        """Apply every pending migration, in one transaction.

        Safe to call from several processes at once (gunicorn's workers all start the app):
        the first takes a lock (SQLite's write lock, PostgreSQL's advisory lock), the others
        wait for it and then find nothing to do.

        Returns
        -------
        bool
            Whether anything was applied.
        """
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        if self.is_current():
            return False
        with self.engine.connect() as connection:
            connection.execution_options(**{WRITE_OPTION: True})
            with connection.begin():
                if self.backend == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                    )
                # Re-read under the lock: another process may have migrated meanwhile.
                if MigrationContext.configure(connection).get_current_revision() == (
                    head_revision()
                ):
                    return False
                config = _alembic_config()
                config.attributes["connection"] = connection
                try:
                    command.upgrade(config, "head")
                finally:
                    config.attributes.pop("connection", None)
        return True

    # --- Sessions -----------------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session closed on exit (the caller commits)."""
        with self.sessions() as session:
            yield session

    def ping(self) -> None:
        """Run ``SELECT 1``; raises ``sqlalchemy.exc.OperationalError`` when unreachable."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        """Close pooled connections (tests, and processes that are done with the database),
        once the learning job running on them (if any) has ended."""
        for hook in self.before_dispose:
            hook()
        self.engine.dispose()


# --- Flask wiring -------------------------------------------------------------------------------
