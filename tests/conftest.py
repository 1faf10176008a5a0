"""Shared fixtures: an app built from default settings, its test client, the troop case; the
markers of the slow groups (``make test-quick`` leaves them out) and of the tests that must run
alone; and, under pytest-xdist, a PostgreSQL database of each worker's own."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from service import create_app
from service.config import SETTINGS, defaults

AppFactory = Callable[..., Flask]

#: The running example: three sources disagree about North Korean soldiers in Russia.
TROOP_CASE: dict[str, Any] = {
    "question": "North Korean soldiers in Russia",
    "unit": "soldiers",
    "scale": "log",
    "levels": [0.5, 0.9],
    "method": "auto",
    "sources": [
        {"id": "nis", "name": "South Korea NIS", "type": "intelligence_agency", "reliability": "B"},
        {
            "id": "zelensky",
            "name": "Volodymyr Zelensky",
            "type": "head_of_state",
            "reliability": "C",
        },
        {
            "id": "anon-media",
            "name": "Sources to South Korean media",
            "type": "anonymous",
            "reliability": "F",
        },
    ],
    "claims": [
        {"source": "nis", "kind": "point", "value": 1500},
        {"source": "zelensky", "kind": "at_most", "value": 10000},
        {"source": "anon-media", "kind": "point", "value": 12000, "hedge": "about"},
    ],
}


#: Markers of the slow groups, by file or directory under tests/ (declared in pyproject.toml).
#: ``serial``: `make test` runs these alone after the parallel run, because they stop the shared
#: PostgreSQL server, or time a server's answers to within a second, or measure its memory.
MARKERS_BY_PATH: dict[str, tuple[str, ...]] = {
    "browser/": ("browser",),
    "contract/test_fuzz_openapi.py": ("fuzz",),
    "contract/test_fuzz_stateful.py": ("fuzz",),
    "store/test_pg_restart.py": ("postgres_outage", "serial"),
    "store/test_pg_under_load.py": ("postgres_outage", "serial"),
    "store/test_restart.py": ("gunicorn",),
    "deploy/test_soak.py": ("soak", "gunicorn", "serial"),
    "deploy/test_faults.py": ("faults", "gunicorn", "serial"),
    "deploy/test_proxy.py": ("serial",),
    "deploy/test_gunicorn.py": ("gunicorn",),
    "deploy/test_bench_load.py": ("gunicorn",),
}
_TESTS = Path(__file__).resolve().parent


def worker_database_url(url: str, worker: str) -> str:
    """The URL of a database of ``worker``'s own beside the one ``url`` names, created if missing.

    pytest-xdist workers run at the same time, and every PostgreSQL test empties its database
    first: on one shared database they would delete each other's rows. Each worker gets
    ``<database>_<worker>`` on the same server (the role needs CREATEDB, as .ci/with-postgres
    grants).
    """
    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = create_engine(base, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if exists is None:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError as error:
        raise pytest.UsageError(
            f"pytest-xdist worker {worker} could not create its PostgreSQL database {name!r} "
            f"({type(error.orig).__name__}): grant the role CREATEDB, or run with -n 0 "
            "(make test TEST_WORKERS=0)."
        ) from None
    finally:
        engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist, point this worker's PostgreSQL tests at a database of its own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if worker and url:
        os.environ["TEST_DATABASE_URL"] = worker_database_url(url, worker)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of the files and directories in :data:`MARKERS_BY_PATH`."""
    for item in items:
        try:
            where = item.path.resolve().relative_to(_TESTS).as_posix()
        except ValueError:
            continue
        for prefix, names in MARKERS_BY_PATH.items():
            if where == prefix or (prefix.endswith("/") and where.startswith(prefix)):
                for name in names:
                    item.add_marker(getattr(pytest.mark, name))


@pytest.fixture(scope="session")
def shared_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One DATA_DIR for the apps of tests that store nothing (they only migrate it once)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture
def app_factory(monkeypatch: pytest.MonkeyPatch, shared_data_dir: Path) -> Iterator[AppFactory]:
    """Build apps from default settings, whatever the developer's environment says.

    Keyword arguments override settings or Flask config, e.g. ``app_factory(MAX_CLAIMS=2)``.
    The database lives in a temporary DATA_DIR, never in the working tree.
    """
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)

    apps: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        settings = {**defaults(), "DATA_DIR": str(shared_data_dir)}
        app = create_app({**settings, "TESTING": True, **overrides})
        apps.append(app)
        return app

    yield make
    for app in apps:  # close each app's pooled database connections
        app.extensions["triangulate.db"].dispose()


@pytest.fixture
def app(app_factory: AppFactory) -> Flask:
    """The app at default settings."""
    return app_factory()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of :func:`app`."""
    return app.test_client()


@pytest.fixture
def troop_body() -> dict[str, Any]:
    """A fresh copy of the troop case, free to mutate."""
    return copy.deepcopy(TROOP_CASE)
