"""The service under real gunicorn processes on loopback: metrics summed over workers, JSON
logs with request ids and no credentials, graceful SIGTERM, the launcher, refused settings.

Each server binds a free port on 127.0.0.1 and is stopped by its fixture; every wait has a
deadline, so a broken server fails the test instead of hanging it.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from service.config import SETTINGS

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "service" / "deploy" / "gunicorn_conf.py"
TEST_APP = "tests.deploy.gunicorn_app:app"
#: What a client's API key looks like in these tests; it must never reach a log.
SECRET = "tk_live_9f8e7d6c5b4a-never-log-me"
#: Seconds a server may take to boot (each worker imports numpy and scipy, and migrates).
BOOT_DEADLINE = 60.0

Reply = tuple[int, dict[str, str], bytes]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A gunicorn master started by a test, with its output in two files."""

    process: subprocess.Popen[bytes]
    base: str
    stdout: Path
    stderr: Path
    #: The program, as a failure names it, and the signal that stops it gracefully.
    program: ClassVar[str] = "gunicorn"
    graceful: ClassVar[signal.Signals] = signal.SIGTERM

    def request(
        self,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        timeout: float = 15.0,
    ) -> Reply:
        request = urllib.request.Request(self.base + path, data=body, headers=dict(headers or {}))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def output(self) -> str:
        return self.stdout.read_text() + self.stderr.read_text()

    def log_entries(self) -> list[dict[str, Any]]:
        """Every line the server wrote, parsed as JSON (fails on a line that is not)."""
        return [json.loads(line) for line in self.output().splitlines() if line.strip()]

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + BOOT_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"{self.program} exited with {self.process.returncode}:\n{self.output()}"
                )
            try:
                if self.request("/healthz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail(f"{self.program} did not serve within {BOOT_DEADLINE:.0f} s:\n{self.output()}")

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(self.graceful)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
            pytest.fail(f"{self.program} did not stop within {timeout:.0f} s:\n{self.output()}")


def _environment(tmp: Path, port: int, **settings: str) -> dict[str, str]:
    names = {s.name for s in SETTINGS} | {"TRIANGULATE_OWNED_METRICS_DIR"}
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(
        HOST="127.0.0.1",
        PORT=str(port),
        DATA_DIR=str(tmp / "data"),
        LOG_FORMAT="json",
        GRACEFUL_TIMEOUT="15",
        **settings,
    )
    return env


def start_server(tmp: Path, command: list[str], **settings: str) -> Server:
    port = _free_port()
    stdout, stderr = tmp / "stdout.log", tmp / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=_environment(tmp, port, **settings),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )
    server = Server(process, f"http://127.0.0.1:{port}", stdout, stderr)
    try:
        server.wait_until_serving()
    except BaseException:
        server.stop()
        raise
    return server


def gunicorn(app: str = TEST_APP) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "--config", str(CONF), app]


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Two sync workers serving the test app."""
    server = start_server(
        tmp_path_factory.mktemp("two-workers"), gunicorn(), WEB_CONCURRENCY="2"
    )
    yield server
    assert server.stop() == 0


def _sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of the text exposition, 0 when absent."""
    shown = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = "^" + re.escape(f"{name}{{{shown}}}" if labels else name) + r" (\S+)$"
    match = re.search(pattern, metrics, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


def _metrics(server: Server) -> str:
    status, headers, body = server.request("/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return body.decode()


# --- Several workers ----------------------------------------------------------------------------


def test_metrics_count_every_request_across_workers(two_workers: Server) -> None:
    before = _metrics(two_workers)
    healthz = {"method": "GET", "route": "/healthz", "status": "200"}
    n_fast, n_slow = 40, 6

    def fetch(index: int) -> int:
        path = "/healthz" if index < n_fast else "/test/slow?seconds=0.3"
        return two_workers.request(path, headers={"X-Request-ID": f"mp-{index}"})[0]

    # The slow requests overlap, so both workers must take some (a sync worker serves one at a
    # time): the count below is then a sum over two processes.
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(fetch, range(n_fast + n_slow)))
    after = _metrics(two_workers)

    assert statuses == [200] * (n_fast + n_slow)
    total = "triangulate_http_requests_total"
    assert _sample(after, total, **healthz) - _sample(before, total, **healthz) == n_fast
    slow = {"method": "GET", "route": "/test/slow"}
    assert _sample(after, total, **slow, status="200") == n_slow
    assert _sample(
        after, "triangulate_http_request_duration_seconds_bucket", **slow, le="0.25"
    ) == 0
    assert _sample(
        after, "triangulate_http_request_duration_seconds_count", method="GET", route="/test/slow"
    ) == n_slow
    # Only the scrape itself is in progress, whichever worker answers it.
    assert _sample(after, "triangulate_http_requests_in_progress") == 1
    served_by = {
        e["pid"]
        for e in two_workers.log_entries()
        if e["logger"] == "gunicorn.access" and str(e.get("request_id")).startswith("mp-")
    }
    assert len(served_by) == 2, "both workers should have served requests"


def test_reconcile_metrics_through_gunicorn(
    two_workers: Server, troop_body: dict[str, Any]
) -> None:
    before = _metrics(two_workers)
    body = json.dumps(troop_body).encode()
    for _ in range(3):
        status, _, _ = two_workers.request(
            "/v1/reconcile", headers={"Content-Type": "application/json"}, body=body
        )
        assert status == 200
    after = _metrics(two_workers)

    def delta(name: str, **labels: str) -> float:
        return _sample(after, name, **labels) - _sample(before, name, **labels)

    assert delta("triangulate_reconcile_duration_seconds_count", method="robust") == 3
    assert delta("triangulate_reconcile_claims_count") == 3
    assert delta("triangulate_reconcile_claims_sum") == 3 * len(troop_body["claims"])
    assert delta("triangulate_reconcile_claims_bucket", le="3.0") == 3
    assert delta("triangulate_reconcile_claims_bucket", le="2.0") == 0


def test_logs_are_json_with_request_id_and_no_credentials(two_workers: Server) -> None:
    headers = {"X-Request-ID": "log-check-1", "Authorization": f"Bearer {SECRET}"}

    status, reply_headers, _ = two_workers.request("/test/log?api_key=" + SECRET, headers=headers)

    assert status == 200 and reply_headers["X-Request-ID"] == "log-check-1"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the access line is written after the response
        mine = [e for e in two_workers.log_entries() if e.get("request_id") == "log-check-1"]
        if {e["logger"] for e in mine} >= {"gunicorn.access", "service"}:
            break
        time.sleep(0.05)
    app_line = next(e for e in mine if e["logger"] == "service")
    access_line = next(e for e in mine if e["logger"] == "gunicorn.access")
    assert app_line["level"] == "WARNING"
    assert app_line["message"] == "test line; Authorization: Bearer [redacted]"
    assert access_line["path"] == "/test/log"  # no query string
    assert access_line["status"] == 200 and access_line["method"] == "GET"
    assert access_line["duration_ms"] >= 0 and access_line["bytes"] > 0
    assert SECRET not in two_workers.output()


def test_request_id_is_generated_when_missing_or_unsafe(two_workers: Server) -> None:
    _, generated, _ = two_workers.request("/healthz")
    _, replaced, _ = two_workers.request("/healthz", headers={"X-Request-ID": "a b\tc"})

    for headers in (generated, replaced):
        assert re.fullmatch(r"[0-9a-f-]{36}", headers["X-Request-ID"])


# --- Shutdown and start-up ----------------------------------------------------------------------


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path) -> None:
    server = start_server(tmp_path, gunicorn(), WEB_CONCURRENCY="1")
    result: dict[str, Any] = {}

    def slow_request() -> None:
        try:
            result["reply"] = server.request("/test/slow?seconds=1.5")
        except OSError as error:  # pragma: no cover - reported by the assertion below
            result["error"] = error

    client = threading.Thread(target=slow_request)
    client.start()
    time.sleep(0.5)  # the request is being served
    server.process.send_signal(signal.SIGTERM)
    client.join(10)

    assert "error" not in result, result
    status, _, body = result["reply"]
    assert status == 200 and json.loads(body) == {"slept": 1.5}
    assert server.stop() == 0
    messages = [e["message"] for e in server.log_entries()]
    assert "Handling signal: term" in messages
    assert "Shutting down: Master" in messages


def test_launcher_checks_settings_then_becomes_gunicorn(tmp_path: Path) -> None:
    server = start_server(
        tmp_path, [sys.executable, "-m", "service.deploy.serve"], WEB_CONCURRENCY="1"
    )

    status, _, body = server.request("/readyz")
    assert (status, json.loads(body)) == (200, {"status": "ready"})
    assert server.stop() == 0
    # exec: the process the test started is gunicorn's master itself (PID 1 in a container).
    listening = next(
        e for e in server.log_entries() if e["message"].startswith("Listening at:")
    )
    assert listening["pid"] == server.process.pid


@pytest.mark.parametrize(
    ("command", "value", "message"),
    [
        ("launcher", "zero", "Invalid WEB_CONCURRENCY 'zero': must be an integer, or auto."),
        ("launcher", "0", "Invalid WEB_CONCURRENCY '0': must be between 1 and 256, or auto."),
        ("gunicorn", "0", "Invalid WEB_CONCURRENCY '0': must be between 1 and 256, or auto."),
    ],
)
def test_bad_settings_stop_start_up_with_one_clear_line(
    tmp_path: Path, command: str, value: str, message: str
) -> None:
    argv = (
        [sys.executable, "-m", "service.deploy.serve"]
        if command == "launcher"
        else gunicorn("service.deploy.wsgi:app")
    )

    result = subprocess.run(
        argv,
        cwd=ROOT,
        env=_environment(tmp_path, _free_port(), WEB_CONCURRENCY=value),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
    )

    assert result.returncode == 2
    assert result.stderr.strip() == f"triangulate: {message}"
