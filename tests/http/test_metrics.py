"""``GET /metrics`` in one process: the text format, requests by URL rule and status, latency,
reconcile durations and claims per request. (Several workers: tests/deploy/test_gunicorn.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from service.http.metrics import UNMATCHED
from tests.conftest import AppFactory


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_are_prometheus_text(client: FlaskClient) -> None:
    client.get("/healthz")

    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    families = {f.name: f for f in text_string_to_metric_families(response.get_data(as_text=True))}
    assert families["triangulate_http_requests"].type == "counter"
    assert families["triangulate_http_request_duration_seconds"].type == "histogram"
    assert families["triangulate_http_requests_in_progress"].type == "gauge"
    assert families["triangulate_reconcile_duration_seconds"].type == "histogram"
    assert families["triangulate_reconcile_claims"].type == "histogram"


@pytest.mark.parametrize(
    ("method", "path", "route", "status"),
    [
        ("GET", "/healthz", "/healthz", "200"),
        ("GET", "/no/such/page", UNMATCHED, "404"),
        ("DELETE", "/healthz", UNMATCHED, "405"),
        ("POST", "/v1/reconcile", "/v1/reconcile", "415"),
    ],
)
def test_requests_are_counted_by_url_rule_and_status(
    client: FlaskClient, method: str, path: str, route: str, status: str
) -> None:
    labels = {"method": method, "route": route, "status": status}
    before = _value("triangulate_http_requests_total", **labels)
    latency_before = _value(
        "triangulate_http_request_duration_seconds_count", method=method, route=route
    )

    assert client.open(path, method=method).status_code == int(status)

    assert _value("triangulate_http_requests_total", **labels) == before + 1
    assert _value(
        "triangulate_http_request_duration_seconds_count", method=method, route=route
    ) == latency_before + 1


def test_a_raw_path_never_becomes_a_label(client: FlaskClient) -> None:
    client.get("/v1/some-unknown-id-12345")

    text = client.get("/metrics").get_data(as_text=True)

    assert "some-unknown-id-12345" not in text


def test_reconcile_duration_and_claims_are_recorded(
    client: FlaskClient, troop_body: dict[str, Any]
) -> None:
    count = _value("triangulate_reconcile_duration_seconds_count", method="robust")
    claims = _value("triangulate_reconcile_claims_sum")

    assert client.post("/v1/reconcile", json=troop_body).status_code == 200

    assert _value("triangulate_reconcile_duration_seconds_count", method="robust") == count + 1
    assert _value("triangulate_reconcile_duration_seconds_sum", method="robust") > 0
    assert _value("triangulate_reconcile_claims_sum") == claims + 3


def test_a_refused_reconcile_is_timed_as_an_error(
    client: FlaskClient, troop_body: dict[str, Any]
) -> None:
    # Valid for the schema, refused by the core: pooling needs an sd on every claim.
    troop_body["method"] = "random_effects"
    before = _value("triangulate_reconcile_duration_seconds_count", method="error")

    response = client.post("/v1/reconcile", json=troop_body)

    assert response.status_code == 422
    assert response.get_json()["type"].endswith("/reconcile-error")
    assert _value("triangulate_reconcile_duration_seconds_count", method="error") == before + 1


def test_metrics_can_be_turned_off(app_factory: AppFactory) -> None:
    client = app_factory(METRICS_ENABLED="false").test_client()
    before = _value("triangulate_http_requests_total", method="GET", route="/healthz", status="200")

    assert client.get("/healthz").status_code == 200
    assert client.get("/metrics").status_code == 404
    assert _value(
        "triangulate_http_requests_total", method="GET", route="/healthz", status="200"
    ) == before
