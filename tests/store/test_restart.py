"""Data written through the API survives a restart: of the app, and of a real server process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from service.store.engine import Database, database_url
from service.store.repository import Repository
from tests.store.conftest import TEST_KEY_COST, Api, AppMaker, create_key

ROOT = Path(__file__).resolve().parents[2]
#: Starting gunicorn imports numpy and scipy in each worker; generous for a loaded CI machine.
START_TIMEOUT_S = 90.0


def test_data_survives_a_new_app_on_the_same_database(make_app: AppMaker) -> None:
    first = make_app()
    api = Api(first.test_client(), {"Authorization": f"Bearer {create_key(first)}"})
    api.source("nis", "B", name="NIS")
    question = api.question("Soldiers")
    claim = api.claim(question["id"], "nis", 1500)
    api.patch(f"/v1/questions/{question['id']}/claims/{claim['id']}", {"value": 1600},
              version=1)
    written = api.get(f"/v1/questions/{question['id']}/claims/{claim['id']}/history")

    second = make_app().test_client()

    assert second.get(f"/v1/questions/{question['id']}/claims/{claim['id']}/history"
                      ).get_json() == written
    assert second.get("/v1/sources/nis").get_json()["name"] == "NIS"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _call(base: str, method: str, path: str, body: Any = None,
          headers: dict[str, str] | None = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@contextmanager
def _server(env: dict[str, str]) -> Iterator[str]:
    """gunicorn as `make run` starts it, on a free loopback port; killed (SIGKILL) on exit."""
    port = _free_port()
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "service/deploy/gunicorn_conf.py",
         "service.deploy.wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{output}")
            try:
                if _call(base, "GET", "/readyz")[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("gunicorn did not become ready in time")
            time.sleep(0.2)
        yield base
    finally:
        # The hardest stop: no chance to flush anything that was not committed.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        if process.stdout:
            process.stdout.close()


def test_data_written_over_http_survives_killing_the_server(
    settings: dict[str, Any], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATA_DIR"}}
    env.update(DATA_DIR=settings["DATA_DIR"], DATABASE_URL=settings["DATABASE_URL"],
               LOG_LEVEL="WARNING", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    database = Database(database_url(settings))
    try:
        database.upgrade()
        with database.session() as session:
            token = Repository(session).create_key("server-test", cost=TEST_KEY_COST)
    finally:
        database.dispose()
    auth = {"Authorization": f"Bearer {token}"}

    with _server(env) as base:
        assert _call(base, "POST", "/v1/sources", {"id": "nis", "reliability": "B"},
                     auth)[0] == 201
        status, question = _call(base, "POST", "/v1/questions", {"title": "Soldiers"}, auth)
        assert status == 201
        claim_path = f"/v1/questions/{question['id']}/claims"
        status, claim = _call(base, "POST", claim_path,
                              {"source": "nis", "kind": "point", "value": 1500}, auth)
        assert status == 201
        status, estimate = _call(base, "GET", f"/v1/questions/{question['id']}/estimate")
        assert status == 200

    with _server(env) as base:
        assert _call(base, "GET", f"{claim_path}/{claim['id']}") == (200, claim)
        assert _call(base, "GET", f"/v1/questions/{question['id']}") == (200, question)
        assert _call(base, "GET", f"/v1/questions/{question['id']}/estimate") == (200, estimate)
        assert _call(base, "POST", "/v1/sources", {"id": "late"}, auth)[0] == 201
