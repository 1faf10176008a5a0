"""Plots of figures near the ends of the double range: the axis stays finite (found by the
stateful fuzzer: an open bound's arrow pushed the log axis past 10**308, a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from models.claims import Claim, Source
from models.reconcile import reconcile
from service.plot.layout import summary_note


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


def test_the_estimate_row_leaves_out_an_end_no_claim_sets() -> None:
    """One source's echoes of the wire (1 to 2, at least 1, 4.5): the 90 % range ends at
    2.8e28, an end no claim sets (models.findings.OPEN_END_FACTOR). The summary row printed it
    through the summary's figures; without them it fell back to "0.919–27,900,000,000,000,000
    trillion"."""
    claims = [Claim("s0", "range", None, 1.0, 2.0, origin="wire"),
              Claim("s0", "at_least", 1.0, hedge="exact", origin="wire"),
              Claim("s0", "point", 4.5, origin="wire")]
    result = reconcile(claims, [Source("s0", "the police", reliability="A")], unit="people")
    assert summary_note(result) == "4.1 (90%: from 0.92 up)"
