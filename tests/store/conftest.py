"""Fixtures of the stored-data tests: every test runs once on SQLite and once on PostgreSQL.

Each backend has one database and one app for the whole session (building an app and a
schema per test would dominate the suite's time); before each test the database is emptied
and its id sequences restarted, so every test starts from a fresh, migrated, empty database.
Tests that need apps of their own (other settings, restarts) get them from ``make_app`` on the
same database.

SQLite lives in a temporary DATA_DIR. PostgreSQL is the server that ``TEST_DATABASE_URL``
names (``.ci/with-postgres`` starts one on loopback); the suite owns that database and drops
its schema at the start. Without ``TEST_DATABASE_URL`` the PostgreSQL cases are skipped on a
developer's machine but *fail* when ``CI=true``, so a CI run that never reached PostgreSQL
cannot pass.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

from service import create_app
from service.config import SETTINGS, defaults
from service.http.database import get_database, get_learner
from service.store.engine import Database, database_url
from service.store.orm import Base
from service.store.repository import Repository

AppMaker = Callable[..., Flask]
BACKENDS = ("sqlite", "postgresql")
#: scrypt cost of the tests' throw-away keys: the stored KDF parameters make verification
#: equally cheap. The production cost is tested once (tests/store/test_auth.py).
TEST_KEY_COST = 2**10
KEY_NAME = "tester"


def postgresql_url() -> str:
    """The PostgreSQL URL to test against; skips, or fails under CI, when there is none."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(
            "TEST_DATABASE_URL is not set: CI must run the PostgreSQL tests (.ci/run starts a "
            "server and sets it)."
        )
    pytest.skip("TEST_DATABASE_URL is not set; PostgreSQL tests skipped (they fail in CI).")


def drop_postgresql_schema(url: str) -> None:
    """Drop every table of the database (and the migrations' record)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def empty_database(url: str) -> None:
    """Migrate the database if needed, then delete every row and restart the id sequences.

    DELETE rather than TRUNCATE: for a handful of rows it is several times faster.
    """
    database = Database(url)
    try:
        database.upgrade()
        with database.engine.begin() as connection:
            present = set(inspect(connection).get_table_names())
            for table in reversed(Base.metadata.sorted_tables):
                if table.name in present:
                    connection.execute(table.delete())
            if database.backend == "postgresql":
                sequences = connection.execute(text(
                    "SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()"
                )).scalars()
                for sequence in sequences:
                    connection.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
            # SQLite reuses max(id) + 1 for an INTEGER PRIMARY KEY, so ids restart at 1.
    finally:
        database.dispose()


@contextlib.contextmanager
def emptied_repository(url: str, data_dir: Path) -> Iterator[Repository]:
    """A repository on the emptied, migrated database at ``url``, for seeding a live server.

    The app is built with the settings in the environment set aside, so that a test's own
    variables (meant for the server it starts) do not reach the seeding app.
    """
    empty_database(url)
    saved = {s.name: os.environ.pop(s.name) for s in SETTINGS if s.name in os.environ}
    try:
        app = create_app({**defaults(), "DATABASE_URL": url, "DATA_DIR": str(data_dir),
                          "TESTING": True})
        with app.app_context():
            with get_database().session() as session:
                yield Repository(session)
            get_database().dispose()
    finally:
        os.environ.update(saved)


def learn_inline(app: Flask) -> None:
    """Run the app's learning job right after each write, in the request: the records a test
    reads next are current (tests of the pending state set ``run = "manual"``)."""
    with app.app_context():
        get_learner().run = "inline"


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend of this test: sqlite or postgresql."""
    return str(request.param)


@pytest.fixture(scope="session")
def backend_settings(backend: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Settings of the session's database for this backend."""
    url = ""
    if backend == "postgresql":
        url = postgresql_url()
        drop_postgresql_schema(url)  # start from nothing: the first upgrade builds it all
    data_dir = tmp_path_factory.mktemp(f"data-{backend}")
    return {**defaults(), "DATA_DIR": str(data_dir), "DATABASE_URL": url}


@pytest.fixture(scope="session")
def shared_app(backend_settings: dict[str, Any]) -> Iterator[Flask]:
    """The session's app on this backend's database."""
    app = create_app({**backend_settings, "TESTING": True})
    learn_inline(app)
    yield app
    with app.app_context():
        get_database().dispose()


@pytest.fixture
def settings(
    monkeypatch: pytest.MonkeyPatch, backend_settings: dict[str, Any]
) -> dict[str, Any]:
    """Settings of this test's database, emptied; the environment cleared of settings."""
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    empty_database(database_url(backend_settings))
    return dict(backend_settings)


@pytest.fixture
def make_app(settings: dict[str, Any]) -> Iterator[AppMaker]:
    """Build apps on this test's database (several = restarts); their engines are closed."""
    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        app = create_app({**settings, "TESTING": True, **overrides})
        learn_inline(app)
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            get_database().dispose()


@pytest.fixture
def app(shared_app: Flask, settings: dict[str, Any]) -> Flask:
    """An app on this test's (empty, migrated) database."""
    return shared_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of :func:`app`."""
    return app.test_client()


def create_key(app: Flask, name: str = KEY_NAME) -> str:
    """A new API key on ``app``'s database (cheap KDF, see TEST_KEY_COST)."""
    with app.app_context(), get_database().session() as session:
        return Repository(session).create_key(name, cost=TEST_KEY_COST)


@pytest.fixture
def key(app: Flask) -> str:
    """An API key named ``tester``."""
    return create_key(app)


@pytest.fixture
def auth(key: str) -> dict[str, str]:
    """Headers authenticating as ``tester``."""
    return {"Authorization": f"Bearer {key}"}


# --- Helpers for building data through the API ---------------------------------------------------


class Api:
    """Thin helpers over the test client that assert each call succeeded."""

    def __init__(self, client: FlaskClient, auth: Mapping[str, str]) -> None:
        self.client = client
        self.auth = dict(auth)

    def _ok(self, response: Any, status: int) -> Any:
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    def source(self, id: str, reliability: str | float | None = "C", **fields: Any) -> Any:
        body = {"id": id, "reliability": reliability, **fields}
        return self._ok(self.client.post("/v1/sources", json=body, headers=self.auth), 201)

    def question(self, title: str = "Soldiers", **fields: Any) -> Any:
        body = {"title": title, **fields}
        return self._ok(self.client.post("/v1/questions", json=body, headers=self.auth), 201)

    def claim(self, question: int, source: str, value: float | None = None, **fields: Any) -> Any:
        body: dict[str, Any] = {"source": source, "kind": "point", **fields}
        if value is not None:
            body["value"] = value
        url = f"/v1/questions/{question}/claims"
        return self._ok(self.client.post(url, json=body, headers=self.auth), 201)

    def get(self, url: str) -> Any:
        return self._ok(self.client.get(url, headers=self.auth), 200)

    def patch(self, url: str, body: Mapping[str, Any], version: int) -> Any:
        headers = {**self.auth, "If-Match": f'"{version}"'}
        return self._ok(self.client.patch(url, json=dict(body), headers=headers), 200)

    def retract(self, question: int, claim: int, version: int, reason: str | None = None) -> Any:
        url = f"/v1/questions/{question}/claims/{claim}/retract"
        headers = {**self.auth, "If-Match": f'"{version}"'}
        return self._ok(self.client.post(url, json={"reason": reason}, headers=headers), 200)

    def resolve(self, question: int, value: float, **fields: Any) -> Any:
        version = self.get(f"/v1/questions/{question}")["version"]
        headers = {**self.auth, "If-Match": f'"{version}"'}
        url = f"/v1/questions/{question}/resolution"
        return self._ok(self.client.post(url, json={"value": value, **fields}, headers=headers),
                        200)

    def estimate(self, question: int, query: str = "") -> Any:
        return self.get(f"/v1/questions/{question}/estimate{query}")


@pytest.fixture
def api(client: FlaskClient, auth: dict[str, str]) -> Api:
    """:class:`Api` helpers authenticated as ``tester``."""
    return Api(client, auth)
