"""What `make run` prints while starting: gunicorn's lines and one line with the address, the
database (without credentials) and the workers; none of alembic's INFO chatter."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from service.deploy.logs import describe_database, quiet_chatty_loggers, startup_message
from tests.deploy.test_gunicorn import start_server

pytestmark = pytest.mark.gunicorn


@pytest.mark.parametrize(
    ("url", "described"),
    [
        (
            "postgresql+psycopg://triangulate:s3cret@db.example:5432/triangulate"
            "?sslmode=require&password=other",
            "postgresql+psycopg://db.example:5432/triangulate",
        ),
        ("sqlite:////srv/data/triangulate.sqlite3", "sqlite:////srv/data/triangulate.sqlite3"),
    ],
)
def test_database_is_described_without_credentials(url: str, described: str) -> None:
    assert describe_database(url) == described


def test_startup_message() -> None:
    settings = {
        "WEB_CONCURRENCY": 3,
        "GUNICORN_THREADS": 4,
        "DATABASE_URL": "postgresql+psycopg://user:pw@db:5432/t",
        "DATA_DIR": "/unused",
    }

    message = startup_message(settings, ["http://0.0.0.0:8000"])

    assert message == (
        "Triangulate serving http://0.0.0.0:8000; database postgresql+psycopg://db:5432/t; "
        "3 gthread (4 threads each) workers."
    )


def test_alembic_chatter_is_held_back_unless_debugging() -> None:
    alembic = logging.getLogger("alembic")
    saved = alembic.level
    try:
        quiet_chatty_loggers("INFO")
        assert not alembic.isEnabledFor(logging.INFO)
        quiet_chatty_loggers("DEBUG")
        assert alembic.isEnabledFor(logging.DEBUG)
    finally:
        alembic.setLevel(saved)


def test_make_run_start_up_lines(tmp_path: Path) -> None:
    # The launcher `make run` uses, on a fresh database (so the workers migrate it).
    server = start_server(
        tmp_path, [sys.executable, "-m", "service.deploy.serve"], WEB_CONCURRENCY="2"
    )
    try:
        assert server.request("/readyz")[0] == 200
    finally:
        assert server.stop() == 0
    entries = server.log_entries()
    database = tmp_path / "data" / "triangulate.sqlite3"

    summary = [e for e in entries if e["message"].startswith("Triangulate serving")]
    assert [e["message"] for e in summary] == [
        f"Triangulate serving {server.base}; database sqlite:///{database}; 2 sync workers."
    ]
    assert summary[0]["level"] == "INFO"
    assert not [e for e in entries if e["logger"].startswith("alembic")]
    # The migration is reported once, by the store, in a sentence.
    migrated = [e["message"] for e in entries if e["message"].startswith("Migrated ")]
    assert migrated == [f"Migrated sqlite:///{database} to revision {migrated[0].split()[-1]}"]
