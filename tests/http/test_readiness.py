"""``GET /readyz``: 200 while the database answers, 503 problem+json with Retry-After while it
does not, and back to 200 by itself, on SQLite and on PostgreSQL."""

from __future__ import annotations

import logging
import os
import select
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

import service.http.database
from service.http import readiness
from service.http.problems import PROBLEM_MIMETYPE
from service.store.engine import Database
from tests.conftest import AppFactory


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens on it once the socket is closed


def _assert_not_ready(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == PROBLEM_MIMETYPE
    assert response.headers["Retry-After"] == str(readiness.RETRY_AFTER)
    assert response.get_json() == {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The database cannot be reached; retry later.",
        "instance": "/readyz",
    }


def _assert_ready(app: Flask) -> None:
    response = app.test_client().get("/readyz")
    assert (response.status_code, response.get_json()) == (200, {"status": "ready"})


def test_ready_when_the_database_answers(app: Flask) -> None:
    _assert_ready(app)


def test_unreachable_database_is_503_without_leaking_where_it_is(
    app: Flask, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"postgresql+psycopg://triangulate:hunter2@127.0.0.1:{_closed_port()}/triangulate"
    unreachable = Database(url)
    monkeypatch.setattr(service.http.database, "get_database", lambda: unreachable)

    with caplog.at_level(logging.WARNING):
        _assert_not_ready(app)
        _assert_not_ready(app)

    # Logged once (when readiness changes), with the server but without the password.
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("Not ready: postgresql+psycopg://")
    assert "hunter2" not in warnings[0]
    unreachable.dispose()


def test_sqlite_readiness_recovers_without_a_restart(
    app_factory: AppFactory, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    app = app_factory(DATA_DIR=str(data_dir))
    _assert_ready(app)

    # The database file's directory disappears (an unmounted volume)...
    moved = tmp_path / "moved"
    data_dir.rename(moved)
    _assert_not_ready(app)

    # ...and comes back: the same app is ready again.
    moved.rename(data_dir)
    _assert_ready(app)


def test_a_hanging_check_is_answered_within_the_timeout(app_factory: AppFactory) -> None:
    app = app_factory(READINESS_TIMEOUT="0.2")
    release = threading.Event()
    calls: list[float] = []

    class Hanging:
        engine = SimpleNamespace(url=make_url("postgresql+psycopg://app@192.0.2.1/db"))

        def describe(self) -> str:
            return "a black-holed server"

        def ping(self) -> None:
            calls.append(time.monotonic())
            release.wait(10)

    hanging = Hanging()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(service.http.database, "get_database", lambda: hanging)
        started = time.monotonic()
        _assert_not_ready(app)
        _assert_not_ready(app)
        elapsed = time.monotonic() - started
        # The second probe waited on the first, still pending, check instead of starting one.
        assert len(calls) == 1
        assert elapsed < 2
        release.set()
    _assert_ready(app)


def test_without_a_database_data_dir_must_accept_files(tmp_path: Path) -> None:
    app = Flask(__name__)
    app.config.update(DATA_DIR=str(tmp_path), READINESS_TIMEOUT=2.0)

    assert readiness.check(app) is None
    shutil.rmtree(tmp_path)
    problem = readiness.check(app)
    assert problem is not None and problem.startswith("FileNotFoundError")


def test_probe_forgets_a_check_pending_in_the_parent_after_fork() -> None:
    probe = readiness.Probe()
    release = threading.Event()

    def hang() -> None:
        release.wait(5)

    assert probe.run(hang, 0.05) == "no answer within 0.05 s"
    probe._pid = os.getpid() + 1  # as seen from a forked child
    assert probe.run(lambda: None, 1.0) is None
    release.set()


# --- PostgreSQL ---------------------------------------------------------------------------------


class TcpRelay:
    """A loopback TCP relay to a server, which a test can cut and restore.

    Cutting closes the listener and every relayed connection, as a stopped or restarted
    PostgreSQL would; restoring listens again on the same port.
    """

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = 0
        self._listener: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self._lock:
            listener, self._listener = self._listener, None
            connections, self._connections = self._connections, []
        for sock in [*connections, *([listener] if listener else [])]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._connections += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        peers = {a: b, b: a}
        try:
            while True:
                readable, _, _ = select.select([a, b], [], [], 30)
                if not readable:
                    return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            a.close()
            b.close()


@pytest.fixture
def relayed_postgresql() -> Iterator[tuple[TcpRelay, Callable[[], str]]]:
    """A relay to the test PostgreSQL server, and a function giving the URL through it.

    The server is the one ``TEST_DATABASE_URL`` names (``.ci/with-postgres`` starts one); as in
    tests/store, the test is skipped without it, and fails under ``CI=true``.
    """
    raw = os.environ.get("TEST_DATABASE_URL", "").strip()
    if not raw:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("TEST_DATABASE_URL is not set: CI must test readiness on PostgreSQL.")
        pytest.skip("TEST_DATABASE_URL is not set; PostgreSQL readiness not tested (fails in CI).")
    url = make_url(raw)
    relay = TcpRelay(url.host or "127.0.0.1", url.port or 5432)
    relay.start()
    yield relay, lambda: url.set(host="127.0.0.1", port=relay.port).render_as_string(
        hide_password=False
    )
    relay.cut()


def test_postgresql_readiness_follows_the_server_without_a_restart(
    app_factory: AppFactory, relayed_postgresql: tuple[TcpRelay, Callable[[], str]]
) -> None:
    relay, url = relayed_postgresql
    app = app_factory(DATABASE_URL=url(), READINESS_TIMEOUT="2")
    _assert_ready(app)  # leaves a connection in the engine's pool

    relay.cut()  # the server "stops": pooled connections die, new ones are refused
    _assert_not_ready(app)

    relay.start()  # back on the same address: the pooled connection is dead, not reused
    _assert_ready(app)
    _assert_ready(app)
    with app.app_context():
        service.http.database.get_database().dispose()
