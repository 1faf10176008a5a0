"""Request ids (accepted, generated, echoed) and the log formats (JSON, text), in one process.
Through gunicorn (access lines, several workers): tests/deploy/test_gunicorn.py."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.http.logs import (
    MAX_REQUEST_ID,
    REQUEST_ID_HEADER,
    JsonFormatter,
    RequestIdFilter,
    TextFormatter,
    configure_root,
    current_request_id,
    redact,
    valid_request_id,
)

SECRET = "tk_live_0123456789abcdef"


def _is_uuid4(value: str) -> bool:
    return uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value


@pytest.mark.parametrize(
    "incoming",
    ["abc-123", "0f8c2a4e-1d3b-4c5a-9e7f-112233445566", "Root=1-67a2b3c4/5d6e:7f+x", "a" * 128],
)
def test_a_safe_request_id_is_echoed(client: FlaskClient, incoming: str) -> None:
    response = client.get("/healthz", headers={REQUEST_ID_HEADER: incoming})

    assert valid_request_id(incoming)
    assert response.headers[REQUEST_ID_HEADER] == incoming


def test_a_request_without_id_gets_a_fresh_one(client: FlaskClient) -> None:
    first = client.get("/healthz").headers[REQUEST_ID_HEADER]
    second = client.get("/healthz").headers[REQUEST_ID_HEADER]

    assert _is_uuid4(first) and _is_uuid4(second) and first != second


@pytest.mark.parametrize(
    "incoming",
    ["", "a" * (MAX_REQUEST_ID + 1), "two words", 'quo"te', "semi;colon", "é", "{json}"],
)
def test_an_unsafe_request_id_is_replaced(client: FlaskClient, incoming: str) -> None:
    response = client.get("/healthz", headers={REQUEST_ID_HEADER: incoming})

    assert _is_uuid4(response.headers[REQUEST_ID_HEADER])


def test_error_responses_carry_the_request_id_too(client: FlaskClient) -> None:
    headers = {REQUEST_ID_HEADER: "err-1"}

    assert client.get("/nowhere", headers=headers).headers[REQUEST_ID_HEADER] == "err-1"
    reply = client.post("/v1/reconcile", json={"claims": []}, headers=headers)
    assert reply.status_code == 422 and reply.headers[REQUEST_ID_HEADER] == "err-1"


# --- Log lines ----------------------------------------------------------------------------------


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The root logger writing JSON lines to a buffer, as under gunicorn (restored after)."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    stream = io.StringIO()
    handler = configure_root("INFO", JsonFormatter())
    handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    root.removeHandler(handler)
    root.handlers[:] = handlers
    root.setLevel(level)


def _entries(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_app_log_lines_carry_the_request_id(app_factory: Any, json_log: io.StringIO) -> None:
    app: Flask = app_factory()

    @app.get("/test/log")
    def log_line() -> dict[str, str]:
        app.logger.warning("inside; header was Authorization: Bearer %s", SECRET)
        return {}

    app.test_client().get("/test/log", headers={REQUEST_ID_HEADER: "rid-77"})
    app.logger.warning("outside any request")

    inside, outside = [e for e in _entries(json_log) if e["logger"] == "service"][-2:]
    assert inside["request_id"] == "rid-77"
    assert inside["level"] == "WARNING"
    assert inside["message"] == "inside; header was Authorization: Bearer [redacted]"
    assert "request_id" not in outside
    assert SECRET not in json_log.getvalue()
    assert current_request_id() is None  # reset when the request ended


def test_json_lines_hold_exceptions_on_one_line(json_log: io.StringIO) -> None:
    try:
        raise RuntimeError(f"connect failed for postgresql://app:{SECRET}@db/x")
    except RuntimeError:
        logging.getLogger("service").exception("boom\nsecond line")

    (entry,) = _entries(json_log)
    assert entry["message"] == "boom\nsecond line"
    assert "RuntimeError" in entry["exc"] and SECRET not in entry["exc"]
    assert set(entry) >= {"ts", "level", "logger", "pid", "message"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry["ts"])


def test_text_lines_name_the_request_and_cannot_be_forged() -> None:
    record = logging.LogRecord("service", logging.INFO, __file__, 1, "GET %s", ("/a\nFAKE",), None)
    record.request_id = "rid-9"

    line = TextFormatter().format(record)

    assert "\n" not in line
    assert line.endswith("INFO service [rid-9] GET /a\\nFAKE")


def test_request_id_filter_leaves_an_explicit_id() -> None:
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1, "x", None, None)
    record.request_id = "from-environ"

    assert RequestIdFilter().filter(record) and record.request_id == "from-environ"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Authorization: Bearer {SECRET}", "Authorization: Bearer [redacted]"),
        ("authorization=Basic QWxhZGRpbjpvcGVu", "authorization=Basic [redacted]"),
        (f"GET /x?api_key={SECRET}&page=2", "GET /x?api_key=[redacted]&page=2"),
        (f'{{"token": "{SECRET}"}}', '{"token": "[redacted]"}'),
        (f"postgresql://app:{SECRET}@db:5432/x", "postgresql://app:[redacted]@db:5432/x"),
        ("a basic idea, no secret", "a basic idea, no secret"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_logging_goes_to_stderr_by_default() -> None:
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    try:
        handler = configure_root("DEBUG", TextFormatter())
        again = configure_root("INFO", TextFormatter())
        assert again in root.handlers and handler not in root.handlers  # replaced, not stacked
        assert again.stream is sys.stderr  # type: ignore[attr-defined]
        assert root.level == logging.INFO
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
