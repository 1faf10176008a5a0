"""PostgreSQL restarted under load: fast 503s with Retry-After, then recovery by itself.

Needs the throw-away cluster of ``.ci/with-postgres`` (``TEST_PG_CTL``, ``TEST_PG_OPTIONS``):
skipped on a developer's machine without it, failing under ``CI=true``.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import time
from collections.abc import Iterator

import pytest
from flask import Flask

from service import create_app
from service.config import SETTINGS, defaults
from service.http.database import get_database
from tests.store.conftest import create_key, postgresql_url

#: A refused request must be answered within this many seconds (fail fast, no hanging).
FAST = 2.0
#: After the server is back, the service must answer 200 again within this many seconds.
RECOVERY = 10.0


def _pg_ctl(*args: str) -> None:
    command = os.environ.get("TEST_PG_CTL", "")
    if not command:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("TEST_PG_CTL is not set: run the tests under .ci/with-postgres in CI.")
        pytest.skip("TEST_PG_CTL is not set (start the tests under .ci/with-postgres).")
    subprocess.run([*shlex.split(command), *args], check=True, capture_output=True, timeout=90)


@pytest.fixture
def pg_app(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[Flask]:
    url = postgresql_url()
    _pg_ctl("status")
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    app = create_app({**defaults(), "DATABASE_URL": url, "DATA_DIR": str(tmp_path),
                      "TESTING": True, "READINESS_TIMEOUT": 1})
    yield app
    with app.app_context():
        get_database().dispose()


def test_postgresql_restart_gives_fast_503_then_recovers(pg_app: Flask) -> None:
    client = pg_app.test_client()
    auth = {"Authorization": f"Bearer {create_key(pg_app, 'restart')}"}
    assert client.get("/v1/questions").status_code == 200

    _pg_ctl("stop", "-m", "fast")
    try:
        for url in ("/v1/questions", "/readyz", "/v1/sources"):
            started = time.monotonic()
            response = client.get(url)
            elapsed = time.monotonic() - started
            assert response.status_code == 503, (url, response.get_data(as_text=True))
            assert response.mimetype == "application/problem+json"
            assert int(response.headers["Retry-After"]) > 0
            assert elapsed < FAST, (url, elapsed)
        # A write is refused the same way (the key check itself needs the database).
        refused = client.post("/v1/questions", json={"title": "down"}, headers=auth)
        assert refused.status_code == 503
    finally:
        _pg_ctl("start", "-o", os.environ["TEST_PG_OPTIONS"])

    deadline = time.monotonic() + RECOVERY
    while True:
        response = client.post("/v1/questions", json={"title": "back"}, headers=auth)
        if response.status_code == 201:
            break
        assert response.status_code == 503, response.get_data(as_text=True)
        assert time.monotonic() < deadline, "no recovery within RECOVERY seconds"
        time.sleep(0.2)
    assert client.get("/readyz").status_code == 200
