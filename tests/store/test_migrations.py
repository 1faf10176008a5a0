"""The schema belongs to the migrations: they build it from nothing and match the models."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from service import create_app
from service.store.engine import (
    SQLITE_FILE,
    Database,
    DatabaseNotReady,
    _alembic_config,
    database_url,
    head_revision,
)
from service.store.orm import Base
from tests.store.conftest import drop_postgresql_schema, empty_database


@pytest.fixture
def empty_settings(
    settings: dict[str, Any], tmp_path: Path
) -> Iterator[dict[str, Any]]:
    """Settings of an empty database: a new SQLite file, or the PostgreSQL schema dropped."""
    if settings["DATABASE_URL"]:
        drop_postgresql_schema(settings["DATABASE_URL"])
        yield settings
        # Put the schema back for the tests that share this database.
        empty_database(settings["DATABASE_URL"])
    else:
        yield {**settings, "DATA_DIR": str(tmp_path / "empty")}


@pytest.fixture
def empty(empty_settings: dict[str, Any]) -> Iterator[Database]:
    """The empty database."""
    database = Database(database_url(empty_settings))
    yield database
    database.dispose()


def _differences(database: Database) -> list[Any]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_migrations_build_the_schema_from_an_empty_database(empty: Database) -> None:
    assert empty.current_revision() is None

    assert empty.upgrade() is True

    assert empty.current_revision() == head_revision()
    tables = set(inspect(empty.engine).get_table_names())
    assert {table.name for table in Base.metadata.sorted_tables} <= tables
    assert empty.upgrade() is False  # nothing left to do


def test_models_and_migrations_agree(empty: Database) -> None:
    # The `alembic check` of this project: autogenerate would find nothing to add.
    empty.upgrade()

    assert _differences(empty) == []


def test_downgrade_then_upgrade_again(empty: Database) -> None:
    empty.upgrade()
    config = _alembic_config()
    with empty.engine.begin() as connection:
        config.attributes["connection"] = connection
        try:
            command.downgrade(config, "base")
        finally:
            config.attributes.pop("connection")

    assert set(inspect(empty.engine).get_table_names()) <= {"alembic_version"}
    assert empty.upgrade() is True
    assert _differences(empty) == []


def test_concurrent_upgrades_apply_once(
    empty: Database, empty_settings: dict[str, Any]
) -> None:
    # What gunicorn's workers do when they all start the app on a fresh database.
    url = database_url(empty_settings)
    outcomes: list[bool | BaseException] = []

    def upgrade() -> None:
        database = Database(url)
        try:
            outcomes.append(database.upgrade())
        except BaseException as exc:  # reported below rather than lost in the thread
            outcomes.append(exc)
        finally:
            database.dispose()

    threads = [threading.Thread(target=upgrade) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(map(str, outcomes)) == ["False", "False", "True"], outcomes


def test_the_app_migrates_on_start(empty: Database, empty_settings: dict[str, Any]) -> None:
    app = create_app({**empty_settings, "TESTING": True})
    try:
        assert app.extensions["triangulate.db"].current_revision() == head_revision()
    finally:
        app.extensions["triangulate.db"].dispose()


def test_without_migrate_on_start_an_old_database_stops_the_app(
    empty: Database, empty_settings: dict[str, Any]
) -> None:
    with pytest.raises(DatabaseNotReady, match="triangulate db upgrade"):
        create_app({**empty_settings, "MIGRATE_ON_START": "false"})

    assert empty.current_revision() is None


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / SQLITE_FILE}")
    try:
        with database.engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    finally:
        database.dispose()
