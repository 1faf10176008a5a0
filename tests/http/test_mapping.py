"""The result → response mapping, with hand-made core results (no statistics involved)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from flask.testing import FlaskClient

from models.result import (
    ClaimAssessment,
    Disagreement,
    Estimate,
    Heterogeneity,
    Interval,
    ReconcileResult,
    SourceUse,
)
from service.http.problems import PROBLEM_MIMETYPE

BODY: dict[str, Any] = {
    "sources": [{"id": "a", "name": "Agency"}, {"id": "b"}],
    "claims": [
        {"source": "a", "kind": "point", "value": 10, "as_of": "2024-10-18", "origin": "o"},
        {"source": "b", "kind": "range", "low": 8, "high": 14, "hedge": "about"},
    ],
}


def _result(value: float = 11.0, i2: float | None = 0.3) -> ReconcileResult:
    # numpy scalars on purpose: the core may return them, the response must not care.
    return ReconcileResult(
        method="random_effects",
        scale="linear",
        estimate=Estimate(np.float64(value), (Interval(0.5, 10.0, 12.0),), se=np.float64(0.4)),
        # Listed out of order: the response must follow the request.
        claims=(
            ClaimAssessment(1, "b", np.float64(0.4), -0.5, 10.5, np.bool_(False), residual=-0.3),
            ClaimAssessment(0, "a", 0.6, 0.7, 11.7, False, residual=float("nan")),
        ),
        disagreement=Disagreement(False, clusters=((0, 1),), i2=i2),
        warnings=(),
        explanation="Two claims.",
        sources=(
            SourceUse("a", 0.5, 0.3, "unknown", "F"),
            SourceUse("b", 0.5, 0.3, "unknown", "F"),
        ),
        heterogeneity=Heterogeneity(0.1, 0.316, np.float64(0.3), 1.4, 2.0, np.int64(1), 0.15, "x"),
    )


def _patch(monkeypatch: pytest.MonkeyPatch, result: ReconcileResult) -> None:
    monkeypatch.setattr("service.http.views.reconcile.reconcile", lambda *a, **k: result)


def test_mapping_echoes_request_and_orders_claims(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _patch(monkeypatch, _result())

    doc = client.post("/v1/reconcile", json=BODY).get_json()

    assert [c["index"] for c in doc["claims"]] == [0, 1]
    first, second = doc["claims"]
    assert (first["as_of"], first["origin"], first["value"]) == ("2024-10-18", "o", 10.0)
    assert (second["kind"], second["low"], second["high"]) == ("range", 8.0, 14.0)
    assert second["hedge"] == "about" and second["value"] is None
    assert first["residual"] is None  # NaN statistics become null
    assert doc["sources"][0]["name"] == "Agency" and doc["sources"][1]["name"] is None
    assert doc["sources"][0]["credibility_from"] == "unknown"
    assert doc["heterogeneity"]["q_df"] == 1
    assert doc["estimate"]["se"] == 0.4
    assert doc["disagreement"]["clusters"] == [[0, 1]]
    assert doc["prediction"] is None


def test_undefined_optional_statistic_is_null(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    _patch(monkeypatch, _result(i2=float("nan")))

    doc = client.post("/v1/reconcile", json=BODY).get_json()

    assert doc["disagreement"]["i2"] is None


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_estimate_is_a_500_not_invalid_json(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, bad: float
) -> None:
    _patch(monkeypatch, _result(value=bad))

    response = client.post("/v1/reconcile", json=BODY)

    assert response.status_code == 500
    assert response.mimetype == PROBLEM_MIMETYPE
    assert "NaN" not in response.get_data(as_text=True)
