"""Shared fixtures: an app built from default settings, its test client, the troop case."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
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


@pytest.fixture
def app_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    """Build apps from default settings, whatever the developer's environment says.

    Keyword arguments override settings or Flask config, e.g. ``app_factory(MAX_CLAIMS=2)``.
    """
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)

    def make(**overrides: Any) -> Flask:
        return create_app({**defaults(), "TESTING": True, **overrides})

    yield make


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
