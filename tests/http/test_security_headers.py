"""Security headers on every response, and the CORS allow-list (CORS_ORIGINS)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from service.config import ConfigError
from service.http.security import DEFAULT_CSP
from tests.conftest import AppFactory

DESK = "https://desk.example"


@pytest.mark.parametrize("url", ["/healthz", "/openapi.json", "/v1/nowhere"])
def test_every_response_carries_the_security_headers(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Content-Security-Policy"] == DEFAULT_CSP


def test_editor_page_keeps_its_self_only_policy(client: FlaskClient) -> None:
    with client.get("/") as response:
        policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "*" not in policy


def test_docs_may_run_swagger_ui_but_not_be_framed(client: FlaskClient) -> None:
    with client.get("/docs") as response:
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'"


def test_no_cross_origin_access_by_default(client: FlaskClient) -> None:
    response = client.get("/healthz", headers={"Origin": DESK})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options("/v1/reconcile", headers={
        "Origin": DESK, "Access-Control-Request-Method": "POST"
    })
    assert "Access-Control-Allow-Origin" not in preflight.headers


def test_listed_origin_is_allowed_and_echoed(app_factory: AppFactory) -> None:
    client = app_factory(CORS_ORIGINS=f"{DESK}, http://localhost:5173").test_client()
    response = client.get("/healthz", headers={"Origin": DESK})
    assert response.headers["Access-Control-Allow-Origin"] == DESK
    assert "Origin" in response.headers.get_all("Vary")
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]

    preflight = client.options("/v1/questions", headers={
        "Origin": DESK,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    })
    assert preflight.status_code == 204  # answered before the key check
    assert preflight.headers["Access-Control-Allow-Origin"] == DESK
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]

    other = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


@pytest.mark.parametrize("value", ["*", "desk.example", "https://desk.example/path"])
def test_cors_origins_refuses_wildcards_and_non_origins(
    app_factory: AppFactory, value: str
) -> None:
    with pytest.raises(ConfigError, match="CORS_ORIGINS"):
        app_factory(CORS_ORIGINS=value)


@pytest.mark.parametrize("value", ["60", "60/fortnight", "0/minute", "x/minute"])
def test_write_rate_limit_is_validated(app_factory: AppFactory, value: str) -> None:
    with pytest.raises(ConfigError, match="WRITE_RATE_LIMIT"):
        app_factory(WRITE_RATE_LIMIT=value)
