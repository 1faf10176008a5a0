"""Requests too large to read get problem+json, whoever refuses them: the app (414 over
MAX_URI_LENGTH, 431 over MAX_HEADER_FIELDS / MAX_HEADER_BYTES) or gunicorn itself (a request
line over its hard maximum of 8190 bytes, far more or far larger header fields, bytes that are
not HTTP). The gunicorn cases talk to a real server on loopback through raw sockets."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from service.config import ConfigError, defaults, load_settings
from service.deploy.errors import problem_body
from service.http.limits import header_section, request_target
from tests.conftest import AppFactory
from tests.deploy.test_gunicorn import Server, gunicorn, start_server

pytestmark = pytest.mark.gunicorn

PROBLEM = "application/problem+json"
MEMBERS = {"type", "title", "status", "detail", "instance"}
TITLES = {
    400: "Bad Request",
    414: "URI Too Long",
    431: "Request Header Fields Too Large",
}
LIMITS = defaults()
URI = LIMITS["MAX_URI_LENGTH"]
FIELDS = LIMITS["MAX_HEADER_FIELDS"]
HEADER_BYTES = LIMITS["MAX_HEADER_BYTES"]
#: gunicorn's hard maximum for a request line.
GUNICORN_LINE = 8190


def assert_problem(status: int, headers: dict[str, str], body: bytes, expected: int) -> Any:
    """The answer is an RFC 9457 problem with status ``expected``; returns the document."""
    assert status == expected, body[:300]
    assert headers["content-type"] == PROBLEM, headers
    problem = json.loads(body)
    assert MEMBERS <= set(problem), problem
    assert problem["status"] == expected
    assert problem["title"] == TITLES[expected]
    assert problem["type"] == "about:blank"
    assert isinstance(problem["detail"], str) and problem["detail"]
    assert isinstance(problem["instance"], str) and problem["instance"]
    return problem


# --- Through the app (any WSGI server) --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/questions?q=" + "x" * URI),
        ("POST", "/v1/reconcile?padding=" + "x" * URI),
        ("GET", "/v1/questions/" + "x" * URI),
    ],
    ids=["questions-query", "reconcile-query", "long-path"],
)
def test_app_answers_414_over_max_uri_length(
    app_factory: AppFactory, method: str, path: str
) -> None:
    response = app_factory().test_client().open(path, method=method, json={})

    problem = assert_problem(
        response.status_code, {"content-type": response.mimetype}, response.data, 414
    )
    assert f"limit is {URI} bytes (MAX_URI_LENGTH)" in problem["detail"]
    assert problem["instance"] == path.partition("?")[0]


def test_a_target_at_the_limit_is_served(app_factory: AppFactory) -> None:
    prefix = "/healthz?padding="
    response = app_factory().test_client().get(prefix + "x" * (URI - len(prefix)))

    assert response.status_code == 200, response.get_data(as_text=True)[:300]


def test_app_answers_431_over_max_header_fields(app_factory: AppFactory) -> None:
    headers = {f"X-Extra-{i}": "1" for i in range(FIELDS)}

    response = app_factory().test_client().get("/healthz", headers=headers)

    problem = assert_problem(response.status_code, {"content-type": response.mimetype},
                             response.data, 431)
    assert f"limit is {FIELDS} (MAX_HEADER_FIELDS)" in problem["detail"]


def test_app_answers_431_over_max_header_bytes(app_factory: AppFactory) -> None:
    response = app_factory().test_client().get(
        "/healthz", headers={"X-Large": "v" * HEADER_BYTES}
    )

    problem = assert_problem(response.status_code, {"content-type": response.mimetype},
                             response.data, 431)
    assert f"limit is {HEADER_BYTES} bytes (MAX_HEADER_BYTES)" in problem["detail"]


def test_limits_are_settings(app_factory: AppFactory) -> None:
    client = app_factory(MAX_URI_LENGTH=300, MAX_HEADER_FIELDS=10).test_client()

    assert client.get("/v1/questions?q=" + "x" * 300).status_code == 414
    assert client.get("/healthz", headers={f"X-{i}": "1" for i in range(10)}).status_code == 431
    assert client.get("/healthz", headers={f"X-{i}": "1" for i in range(5)}).status_code == 200
    with pytest.raises(ConfigError, match="MAX_URI_LENGTH"):
        load_settings({"MAX_URI_LENGTH": str(GUNICORN_LINE)})


def test_measures() -> None:
    environ = {
        "RAW_URI": "/v1/questions?q=%C3%A9",
        "PATH_INFO": "/v1/questions",
        "QUERY_STRING": "q=%C3%A9",
        "HTTP_HOST": "example.test",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": "",
        "wsgi.input": object(),
    }
    assert request_target(environ) == "/v1/questions?q=%C3%A9"
    del environ["RAW_URI"]
    assert request_target(environ) == "/v1/questions?q=%C3%A9"
    # "HOST: example.test\r\n" and "CONTENT_TYPE: application/json\r\n"; an empty
    # CONTENT_LENGTH is no field.
    assert header_section(environ) == (2, 4 + 2 + 12 + 2 + 12 + 2 + 16 + 2)


def test_gunicorn_problem_names_the_settings() -> None:
    body = problem_body(414, "URI Too Long", "8200 > 8190", "urn:uuid:x", LIMITS)
    assert list(body) == ["type", "title", "status", "detail", "instance"]
    assert "MAX_URI_LENGTH" in body["detail"]
    assert "MAX_HEADER_FIELDS" in problem_body(431, "R", "", "u", LIMITS)["detail"]
    assert problem_body(400, "Bad Request", "x" * 1000, "u", LIMITS)["detail"].endswith("…")


# --- Through gunicorn -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One sync worker of the production app (service.deploy.wsgi:app)."""
    server = start_server(
        tmp_path_factory.mktemp("limits"), gunicorn("service.deploy.wsgi:app"),
        WEB_CONCURRENCY="1",
    )
    yield server
    assert server.stop() == 0


def exchange(server: Server, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send ``request`` on a fresh connection, read the whole answer (the server closes)."""
    host, port = server.base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=15) as sock:
        try:
            sock.sendall(request)
        except OSError:  # the server may answer and close before reading everything
            pass
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(body)))
    return int(status_line.split()[1]), headers, body[:length]


def request(target: str, *extra: str, method: str = "GET") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", *extra]
    if method == "POST":
        lines += ["Content-Type: application/json", "Content-Length: 2"]
    return ("\r\n".join(lines) + "\r\n\r\n" + ("{}" if method == "POST" else "")).encode()


# Targets just over MAX_URI_LENGTH reach the app; those over gunicorn's 8190-byte request line
# do not. Both routes of the fuzzing reports, plus a long path.
LONG_TARGETS = [
    pytest.param("GET", "/v1/questions?q=", URI + 100, "app", id="questions-app"),
    pytest.param("GET", "/v1/questions?q=", 20_000, "gunicorn", id="questions-gunicorn"),
    pytest.param("GET", "/v1/questions?q=", 1_000_000, "gunicorn", id="questions-1MB"),
    pytest.param("POST", "/v1/reconcile?padding=", URI + 100, "app", id="reconcile-app"),
    pytest.param("POST", "/v1/reconcile?padding=", 20_000, "gunicorn", id="reconcile-gunicorn"),
    pytest.param("GET", "/v1/questions/", 20_000, "gunicorn", id="path-gunicorn"),
]


@pytest.mark.parametrize(("method", "prefix", "length", "who"), LONG_TARGETS)
def test_long_request_target_is_414_problem(
    server: Server, method: str, prefix: str, length: int, who: str
) -> None:
    target = prefix + "x" * (length - len(prefix))

    status, headers, body = exchange(server, request(target, method=method))

    problem = assert_problem(status, headers, body, 414)
    assert "MAX_URI_LENGTH" in problem["detail"]
    assert problem["instance"] == (
        prefix.partition("?")[0] if who == "app" else f"urn:uuid:{headers['x-request-id']}"
    )


@pytest.mark.parametrize(
    ("extra", "who"),
    [
        pytest.param(["X-Huge: " + "v" * (2 * HEADER_BYTES)], "gunicorn", id="one-huge-field"),
        pytest.param([f"X-Large-{i}: " + "v" * (HEADER_BYTES // 2) for i in range(3)], "app",
                     id="large-fields"),
        pytest.param([f"X-Extra-{i}: 1" for i in range(FIELDS + 20)], "app", id="120-fields"),
        pytest.param([f"X-Extra-{i}: 1" for i in range(200)], "gunicorn", id="200-fields"),
        pytest.param([f"X-Extra-{i}: 1" for i in range(5000)], "gunicorn", id="5000-fields"),
    ],
)
def test_large_header_section_is_431_problem(server: Server, extra: list[str], who: str) -> None:
    status, headers, body = exchange(server, request("/v1/questions", *extra))

    problem = assert_problem(status, headers, body, 431)
    if who == "app":
        assert problem["instance"] == "/v1/questions"
    else:
        assert problem["instance"] == f"urn:uuid:{headers['x-request-id']}"
        assert "MAX_HEADER_FIELDS" in problem["detail"]


def test_not_http_is_400_problem(server: Server) -> None:
    status, headers, body = exchange(server, b"garbage\r\n\r\n")

    problem = assert_problem(status, headers, body, 400)
    assert problem["detail"].startswith("The request is not valid HTTP/1.1")
    assert headers["x-content-type-options"] == "nosniff"


def test_ordinary_requests_still_served(server: Server) -> None:
    status, headers, body = exchange(server, request("/healthz?padding=" + "x" * 7000))

    assert status == 200, body[:300]
    assert headers["content-type"] == "application/json"


def test_refusals_are_logged_as_json(server: Server) -> None:
    # gunicorn's refusals are logged as warnings through the service's JSON logger.
    exchange(server, b"garbage\r\n\r\n")
    entries = server.log_entries()
    assert any("Invalid request from ip=127.0.0.1" in e["message"] for e in entries)
