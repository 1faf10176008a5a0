"""nginx in front of two gunicorn replicas: slow clients no longer starve everyone.

gunicorn's sync workers serve one connection each, from its first byte to its last, so a few
clients that send their headers or bodies a byte at a time hold every worker and ``/healthz``
times out for everyone (issue 16). The proxy (``service/deploy/nginx/triangulate.conf.template``)
reads whole requests before it passes them on, and drops a client that stops sending. Shown
here with :data:`SLOW_CLIENTS` trickling connections, once at a replica directly (``/healthz``
gets no answer) and once through the proxy (``/healthz`` and a reconcile answer at once); and
nginx's own refusals are problem+json like the service's.

The replicas share one database: SQLite in a shared DATA_DIR, or the PostgreSQL of
``TEST_DATABASE_URL``. Without nginx the tests are skipped, or fail under ``CI=true``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
import urllib.error
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.deploy import replicas
from tests.deploy.replicas import Proxy, database_settings, start_proxy, start_replicas
from tests.deploy.test_gunicorn import Server
from tests.deploy.test_request_limits import exchange, request
from tests.store.conftest import empty_database

pytestmark = pytest.mark.gunicorn

#: Connections trickling their requests, half their headers and half their bodies (issue 16).
SLOW_CLIENTS = 100
#: Seconds between two bytes of a trickling client.
TRICKLE_INTERVAL = 0.5
#: Seconds the trickle runs before the other clients are timed (every slow connection is open
#: and has sent something by then).
SETTLE = 1.5
#: An answer through the proxy while the trickle runs must come within this many seconds; an
#: idle replica answers /healthz in milliseconds, the margin is for a loaded two-core machine.
FAST = 2.0
#: A /healthz sent straight to a trickled replica must still be unanswered after this many
#: seconds (the trickle outlasts it; gunicorn would kill a stuck worker only after 30 s).
STARVED = 4.0
#: The proxy's client_header_timeout and client_body_timeout, in seconds (the template's).
PROXY_CLIENT_TIMEOUT = 10.0
#: How far past that timeout nginx may notice (its timers are checked once per event loop turn).
TIMEOUT_SLACK = 3.0
PROBLEM = "application/problem+json"


class Trickle:
    """``count`` connections to ``base``, each sending its request one byte every
    :data:`TRICKLE_INTERVAL` seconds from one thread, until the ``with`` block ends."""

    def __init__(self, base: str, count: int) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.address = (host, int(port))
        self.count = count
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run)
        self.sent = 0

    def _opening(self, number: int) -> bytes:
        host = f"Host: {self.address[0]}\r\n"
        if number % 2 == 0:  # headers that never end
            return f"GET /healthz HTTP/1.1\r\n{host}X-Slow: ".encode()
        return (  # a body that never ends
            f"POST /v1/reconcile HTTP/1.1\r\n{host}Content-Type: application/json\r\n"
            "Content-Length: 100000\r\n\r\n"
        ).encode()

    def _run(self) -> None:
        while not self.stop.wait(TRICKLE_INTERVAL):
            for sock in self.sockets:
                try:
                    sock.send(b" ")
                    self.sent += 1
                except OSError:
                    pass  # dropped by the server: that is its right

    def __enter__(self) -> Trickle:
        for number in range(self.count):
            sock = socket.create_connection(self.address, timeout=5)
            sock.sendall(self._opening(number))
            self.sockets.append(sock)
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(10)
        for sock in self.sockets:
            sock.close()


def _timed(server: Server, path: str, body: bytes | None = None,
           timeout: float = 15.0) -> tuple[float, int | None]:
    """(seconds, status) of one request; status None when no answer came within ``timeout``."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    started = time.monotonic()
    try:
        status = server.request(path, headers=headers, body=body, timeout=timeout)[0]
    except (TimeoutError, urllib.error.URLError) as error:
        reason = getattr(error, "reason", error)
        if not isinstance(reason, TimeoutError):
            raise
        status = None
    return time.monotonic() - started, status


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Proxy, list[Server]]]:
    """Two replicas of two sync workers each on one database, nginx in front."""
    directory = tmp_path_factory.mktemp("proxy")
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        empty_database(url)  # migrated before the replicas start, emptied of earlier tests
    replicas = start_replicas(
        directory, WEB_CONCURRENCY="2", **database_settings(directory / "shared", url)
    )
    try:
        proxy = start_proxy(directory / "nginx", replicas)
    except BaseException:
        for server in replicas:
            server.stop()
        raise
    yield proxy, replicas
    proxy.stop()
    for server in replicas:
        assert server.stop() == 0


def test_trickling_clients_starve_a_replica_without_the_proxy(
    deployment: tuple[Proxy, list[Server]],
) -> None:
    _, replicas = deployment
    replica = replicas[0]

    with Trickle(replica.base, SLOW_CLIENTS):
        time.sleep(SETTLE)
        waited, status = _timed(replica, "/healthz", timeout=STARVED)

    print(f"/healthz straight to a replica under {SLOW_CLIENTS} trickling clients: "
          f"{'no answer' if status is None else status} after {waited:.2f} s")
    assert status is None, f"the replica answered {status} in {waited:.2f} s despite the trickle"
    # Once the slow clients are gone, the replica serves again.
    deadline = time.monotonic() + 10
    while _timed(replica, "/healthz", timeout=2)[1] != 200:
        assert time.monotonic() < deadline, "the replica did not recover after the trickle"


def test_trickling_clients_do_not_stop_others_through_the_proxy(
    deployment: tuple[Proxy, list[Server]], troop_body: dict[str, Any]
) -> None:
    proxy, _ = deployment
    reconcile = json.dumps(troop_body).encode()

    with Trickle(proxy.base, SLOW_CLIENTS) as trickle:
        time.sleep(SETTLE)
        healthz = [_timed(proxy, "/healthz", timeout=STARVED) for _ in range(10)]
        reconciles = [_timed(proxy, "/v1/reconcile", reconcile, STARVED) for _ in range(3)]
        alive = sum(1 for sock in trickle.sockets if _open(sock))

    slowest = max(seconds for seconds, _ in healthz + reconciles)
    print(f"through the proxy under {SLOW_CLIENTS} trickling clients: /healthz in at most "
          f"{max(s for s, _ in healthz):.3f} s, reconcile in at most "
          f"{max(s for s, _ in reconciles):.3f} s")
    assert [status for _, status in healthz] == [200] * 10
    assert [status for _, status in reconciles] == [200] * 3
    assert slowest < FAST, f"an answer took {slowest:.2f} s"
    assert alive == SLOW_CLIENTS, "the proxy dropped trickling clients within its timeouts"
    assert trickle.sent > 0


def _open(sock: socket.socket) -> bool:
    """Whether the server has not closed ``sock`` (nothing to read, no end of stream)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        sock.setblocking(True)


def _silent_client(proxy: Proxy, opening: bytes) -> tuple[float, bytes]:
    """Send ``opening``, then nothing: (seconds until the proxy closed, what it answered)."""
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=30) as sock:
        started = time.monotonic()
        sock.sendall(opening)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return time.monotonic() - started, answer


#: Two clients that stop sending: one within its header fields, one within its body.
SILENT = {
    "headers": b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ",
    "body": b"POST /v1/reconcile HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            b"\r\nContent-Length: 1000\r\n\r\n{\"claims\": ",
}


def test_the_proxy_drops_clients_that_stop_sending(
    deployment: tuple[Proxy, list[Server]],
) -> None:
    proxy, _ = deployment

    with ThreadPoolExecutor(max_workers=len(SILENT)) as pool:  # both wait out one timeout
        futures = {name: pool.submit(_silent_client, proxy, raw) for name, raw in SILENT.items()}
        results = {name: future.result() for name, future in futures.items()}

    for name, (seconds, answer) in results.items():
        status_line = answer.split(b"\r\n", 1)[0].decode() or "no answer"
        print(f"a client silent within its {name} dropped by the proxy after {seconds:.2f} s"
              f" ({status_line})")
        assert PROXY_CLIENT_TIMEOUT - 0.5 <= seconds <= PROXY_CLIENT_TIMEOUT + TIMEOUT_SLACK
        if answer:  # nginx 1.22 closes without a word; were it to answer, 408 as a problem
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408"), head
            assert f"Content-Type: {PROBLEM}".encode() in head
            assert json.loads(body)["status"] == 408


@pytest.mark.parametrize(("ci", "outcome"), [("true", pytest.fail.Exception),
                                             ("", pytest.skip.Exception)])
def test_missing_nginx_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    monkeypatch.setenv("CI", ci)

    with pytest.raises(outcome, match="nginx not found"):
        replicas.nginx_binary()


# --- nginx's own refusals are problem+json -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "status", "title"),
    [
        pytest.param(request("/v1/questions?q=" + "x" * 20_000), 414, "URI Too Long", id="uri"),
        pytest.param(request("/v1/questions", "X-Huge: " + "v" * 20_000), 431,
                     "Request Header Fields Too Large", id="one-field"),
        pytest.param(request("/v1/questions", *[f"X-L{i}: " + "v" * 15_000 for i in range(5)]),
                     431, "Request Header Fields Too Large", id="all-fields"),
        pytest.param(b"garbage\r\n\r\n", 400, "Bad Request", id="not-http"),
        pytest.param(
            b"POST /v1/reconcile HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json"
            b"\r\nContent-Length: 5000000\r\nConnection: close\r\n\r\n",
            413, "Content Too Large", id="body",
        ),
    ],
)
def test_refusals_by_the_proxy_are_problems(
    deployment: tuple[Proxy, list[Server]], raw: bytes, status: int, title: str
) -> None:
    proxy, _ = deployment

    answer = exchange(proxy, raw)

    assert answer[0] == status, answer
    assert answer[1]["content-type"] == PROBLEM
    problem = json.loads(answer[2])
    assert (problem["type"], problem["title"], problem["status"]) == ("about:blank", title, status)
    assert problem["detail"]
    assert answer[1]["x-content-type-options"] == "nosniff"


def test_the_service_still_answers_what_it_can(deployment: tuple[Proxy, list[Server]]) -> None:
    proxy, _ = deployment

    # Over MAX_URI_LENGTH but within the proxy's buffers: the replica's own 414 names the path.
    target = "/v1/questions?q=" + "x" * 8_100
    status, headers, body = exchange(proxy, request(target))

    assert (status, headers["content-type"]) == (414, PROBLEM)
    assert json.loads(body)["instance"] == "/v1/questions"
