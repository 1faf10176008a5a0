"""``beyond_claims`` on every interval: the ends no claim sets, flagged, their numbers kept.

See docs/model.md ("Range ends no claim sets") and tests/models/test_open_range.py for the
words; here the contract: the model's numbers stay in ``estimate.intervals``, the flag says
which end the words leave out, and the summary's figures hold no number the text does not print.
"""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from models.findings import OPEN_END_FACTOR

URL = "/v1/reconcile"

#: One A source's three echoes of the wire: the 90 % range runs from 0.92 to 2.8e28.
WIRE: dict[str, Any] = {
    "unit": "people",
    "sources": [{"id": "s0", "name": "the police", "reliability": "A"}],
    "claims": [
        {"source": "s0", "kind": "range", "low": 1, "high": 2, "origin": "wire"},
        {"source": "s0", "kind": "at_least", "value": 1, "hedge": "exact", "origin": "wire"},
        {"source": "s0", "kind": "point", "value": 4.5, "origin": "wire"},
    ],
}


def test_an_end_no_claim_sets_is_flagged_and_kept(client: FlaskClient) -> None:
    body = client.post(URL, json=WIRE).get_json()
    fifty, ninety = body["estimate"]["intervals"]
    assert fifty["beyond_claims"] == []
    assert ninety["beyond_claims"] == ["high"]
    assert ninety["high"] > OPEN_END_FACTOR * 4.5  # the model's number, kept for a data desk
    summary = body["summary"]
    assert summary["text"] == (
        "About 4.1 people (90% range from 0.92 up; no claim sets its upper end)")
    assert not any(f["path"] == "estimate.intervals.1.high" for f in summary["figures"])
    assert "27,877" not in body["explanation"]


def test_a_closed_range_flags_nothing(client: FlaskClient,
                                      troop_body: dict[str, Any]) -> None:
    body = client.post(URL, json=troop_body).get_json()
    assert all(i["beyond_claims"] == [] for i in body["estimate"]["intervals"])
    moments = body["time"]["trajectory"] + [body["time"]["total"]] if body["time"] else []
    assert all(i["beyond_claims"] == [] for m in moments for i in m["intervals"])
