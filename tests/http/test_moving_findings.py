"""The words of a moving quantity obey the same rules as a static one's (generated requests):
every printed number is a finding's figure equal to a response field, quoted figures equal the
claims, and reordering the claims changes nothing."""

from __future__ import annotations

import copy
import random
import re
from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.http.test_findings_api import _check, draw_claim, draw_sources

START = date(2024, 10, 1)


@st.composite
def moving_bodies(draw: st.DrawFn) -> dict[str, Any]:
    sources = draw_sources(draw)
    dates = st.integers(0, 60).map(lambda days: (START + timedelta(days=days)).isoformat())
    claims = [
        draw_claim(draw, len(sources), ("none", "about", "could_be"),
                   horizon=st.sampled_from(("level", "level", "total")), as_of=dates)
        for _ in range(draw(st.integers(1, 6)))
    ]
    return {"sources": sources, "claims": claims, "unit": "people",
            "dynamics": draw(st.sampled_from(("cumulative", "drifting"))),
            "question": "How many people were displaced?"}


def _without_indices(doc: dict[str, Any]) -> Any:
    """The words and numbers of an answer, with nothing that depends on claim positions."""
    # Values to 9 significant digits: summation order moves the last bits, never the words.
    figures = sorted((re.sub(r"\d+", "#", f["name"]), float(f"{f['value']:.9g}"), f["text"])
                     for g in doc["findings"] for f in g["figures"])
    return doc["summary"]["text"], sorted(f["text"] for f in doc["findings"]), figures


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(body=moving_bodies(), seed=st.integers(0, 2**16))
def test_moving_words_trace_to_fields_and_ignore_claim_order(
    client: FlaskClient, body: dict[str, Any], seed: int
) -> None:
    response = client.post("/v1/reconcile", json=body)
    assert response.status_code == 200, response.get_json()
    doc = response.get_json()
    _check(doc, body)
    assert doc["summary"]["kind"] in ("course", "split")
    assert doc["time"]["dynamics"] == body["dynamics"]
    shuffled = copy.deepcopy(body)
    random.Random(seed).shuffle(shuffled["claims"])
    other = client.post("/v1/reconcile", json=shuffled).get_json()
    first, second = _without_indices(doc), _without_indices(other)
    assert first[:2] == second[:2], (first[:2], second[:2])
    assert set(first[2]) == set(second[2]), (set(first[2]) ^ set(second[2]), body, shuffled)
