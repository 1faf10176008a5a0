"""The store's Flask wiring: one :class:`~service.store.engine.Database` per app, one
repository session per request, closed (or invalidated on a lost connection) when it ends.

Writes learn ``deferred``: they mark track records pending and the app's
:class:`~service.store.learner.Learner` relearns them after the response (a thread per worker),
so a write's cost does not grow with the archive; responses that show learned credibility say
whether it is current (``learning``)."""

from __future__ import annotations

from typing import Final

from flask import Flask, current_app, g
from sqlalchemy.exc import DBAPIError

from service.store.engine import Database, DatabaseNotReady, head_revision
from service.store.inputs import LearningState
from service.store.learner import Learner
from service.store.repository import Repository

__all__ = ["get_database", "get_learner", "get_repository", "init_app", "learning_state"]

_EXTENSION: Final = "triangulate.db"
_LEARNER: Final = "triangulate.learner"


def init_app(app: Flask) -> Database:
    """Open the app's database and bring its schema up to date (or check that it is).

    Raises
    ------
    DatabaseNotReady
        When ``MIGRATE_ON_START`` is off and the schema is not at the newest revision.
    """
    database = Database.from_settings(app.config)
    if app.config["MIGRATE_ON_START"]:
        if database.upgrade():
            app.logger.info("Migrated %s to revision %s.", database.describe(), head_revision())
    elif not database.is_current():
        found = database.current_revision()
        database.dispose()
        raise DatabaseNotReady(
            f"The database is at revision {found or 'none (empty)'} but this version of "
            f"Triangulate needs {head_revision()}; run `triangulate db upgrade` or set "
            "MIGRATE_ON_START=true."
        )
    app.extensions[_EXTENSION] = database
    app.extensions[_LEARNER] = Learner(database)
    app.teardown_appcontext(_close_session)
    return database


def get_database() -> Database:
    """The current app's :class:`Database`."""

    database: Database = current_app.extensions[_EXTENSION]
    return database


def get_learner() -> Learner:
    """The current app's :class:`Learner` (tests may set its ``run``)."""
    learner: Learner = current_app.extensions[_LEARNER]
    return learner


def get_repository() -> Repository:
    """The repository of the current request, on a session closed when the request ends."""


    repository: Repository | None = g.get("repository")
    if repository is None:
        repository = Repository(get_database().sessions(), learn="deferred",
                                on_learning_pending=get_learner().notify)
        g.repository = repository
    return repository


def learning_state() -> LearningState:
    """Whether the learned credibility is current, read once per request."""
    state: LearningState | None = g.get("learning_state")
    if state is None:
        state = get_repository().learning_state()
        g.learning_state = state
    return state


def _close_session(exc: BaseException | None) -> None:

    repository: Repository | None = g.pop("repository", None)
    if repository is None:
        return
    try:
        repository.session.close()
    except DBAPIError:
        # The server went away mid-request (restart, failover): closing rolls back on a dead
        # connection. The response is already decided; raising here would turn it into a bare
        # 500 outside the app's error handlers. Invalidate instead, so the pool drops it.
        current_app.logger.warning("Closing a session on a lost database connection.")
        repository.session.invalidate()
