"""Plots of figures near the ends of the double range: the axis stays finite (found by the
stateful fuzzer: an open bound's arrow pushed the log axis past 10**308, a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient


@pytest.mark.parametrize(
    "claims",
    [
        [{"source": "a", "kind": "at_least", "value": 1e307},
         {"source": "b", "kind": "point", "value": 1e300}],
        [{"source": "a", "kind": "at_most", "value": 1e-307},
         {"source": "b", "kind": "point", "value": 1e-300}],
        [{"source": "a", "kind": "range", "low": 1e300, "high": 1.7e308}],
        [{"source": "a", "kind": "range", "low": 1e-320, "high": 1e-300}],
    ],
)
def test_plot_of_extreme_figures_is_drawn(client: FlaskClient, claims: list[Any]) -> None:
    body = {"sources": [{"id": "a", "reliability": "A"}, {"id": "b", "reliability": "B"}],
            "claims": claims}
    response = client.post("/v1/reconcile/plot", json=body)
    assert response.status_code in (200, 422), response.get_data(as_text=True)[:300]
    if response.status_code == 200:
        assert response.mimetype == "image/svg+xml"
