"""Plots of figures near the ends of the double range: the axis stays finite (found by the
stateful fuzzer: an open bound's arrow pushed the log axis past 10**308, a 500)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from models.claims import Claim, Source
from models.reconcile import reconcile
from models.result import Interval, Moment
from service.plot.forest import build_figure
from service.plot.layout import summary_note
from service.plot.timeview import moment_text, unset_ends


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


WIRE = [Claim("s0", "range", None, 1.0, 2.0, origin="wire"),
        Claim("s0", "at_least", 1.0, hedge="exact", origin="wire"),
        Claim("s0", "point", 4.5, origin="wire")]


def test_the_estimate_row_leaves_out_an_end_no_claim_sets() -> None:
    """One source's echoes of the wire (1 to 2, at least 1, 4.5): the 90 % range ends at
    2.8e28, an end no claim sets (models.findings.OPEN_END_FACTOR). The summary row printed it
    through the summary's figures; without them it fell back to "0.919–27,900,000,000,000,000
    trillion"."""
    result = reconcile(WIRE, [Source("s0", "the police", reliability="A")], unit="people")
    assert summary_note(result) == "4.1 (90%: from 0.92 up)"


@pytest.mark.parametrize(("low", "high", "span"), [
    (0.9186, 2.79e28, "90% range from 0.92 up"),
    (1.5e-7, 4.4, "90% range up to 4.4"),
    (1e-9, 1e20, "90% range: no claim sets either end"),
    (0.9186, 20.16, "90% range 0.92–20.16"),
])
def test_a_moment_s_range_leaves_out_an_end_no_claim_sets(low: float, high: float,
                                                          span: str) -> None:
    """The time view's figure and range (the estimate's date, the eventual total) follow the
    same rule as the words."""
    moment = Moment(None, 4.06, (Interval(0.9, low, high),), ())
    assert moment_text(moment, False, unset_ends(WIRE, "log")) == ("4.1", span)


def test_the_axis_is_not_stretched_to_an_end_no_claim_sets() -> None:
    """The kite ends in an arrow where no claim sets the range's end, as a bound's open side
    does: drawn to scale, the 90 % range's end at 2.8e28 stretched the log axis to about 1e30
    and squeezed the claims of 1 to 4.5 into its left edge."""
    result = reconcile(WIRE, [Source("s0", "the police", reliability="A")], unit="people")
    assert result.estimate.intervals[-1].high is not None  # the numbers are the model's
    figure = build_figure(result, WIRE, [Source("s0", "the police", reliability="A")],
                          question="How many?", unit="people")
    for ax in figure.axes:
        low, high = ax.get_xlim()
        if ax.get_xscale() == "log":
            assert 0.1 < low and high < 1e3, (low, high)
