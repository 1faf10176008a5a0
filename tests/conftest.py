"""Shared fixtures: an app built from default settings, its test client, the troop case; and
the markers of the slow groups (``make test-quick`` leaves them out)."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

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
MARKERS_BY_PATH: dict[str, tuple[str, ...]] = {
    "browser/": ("browser",),
    "contract/test_fuzz_openapi.py": ("fuzz",),
    "contract/test_fuzz_stateful.py": ("fuzz",),
    "store/test_pg_restart.py": ("postgres_outage",),
    "store/test_pg_under_load.py": ("postgres_outage",),
    "store/test_restart.py": ("gunicorn",),
    "deploy/test_soak.py": ("soak", "gunicorn"),
    "deploy/test_faults.py": ("faults", "gunicorn"),
    "deploy/test_gunicorn.py": ("gunicorn",),
    "deploy/test_bench_load.py": ("gunicorn",),
}
_TESTS = Path(__file__).resolve().parent


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
