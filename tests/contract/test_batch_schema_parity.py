"""The batch route parses what its document says: a nested claim is accepted by the fast
hand-written parser exactly when :class:`BatchClaimSchema` (the documented schema, derived from
the one claim declaration) accepts it."""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.http.schemas.batch import BatchClaimSchema

FIGURES = st.floats(1.0, 1e6, allow_nan=False, allow_infinity=False)
VALID = st.one_of(
    st.builds(lambda v: {"source": "census", "kind": "point", "value": v}, FIGURES),
    st.builds(lambda v, s: {"source": "blog", "kind": "point", "value": v, "sd": s},
              FIGURES, st.floats(0.1, 10.0)),
    st.builds(lambda k, v: {"source": "blog", "kind": k, "value": v},
              st.sampled_from(["at_least", "at_most"]), FIGURES),
    st.builds(lambda a, b: {"source": "wiki", "kind": "range", "low": min(a, b),
                            "high": max(a, b)}, FIGURES, FIGURES),
)
#: One change that may or may not break the claim: a key set to a value of any kind.
CHANGES = st.tuples(
    st.sampled_from(["source", "kind", "value", "low", "high", "sd", "hedge", "origin",
                     "resolution", "url", "ci_low"]),
    st.one_of(st.none(), st.integers(-5, 10**6), st.floats(-1e6, 1e6, allow_nan=False),
              st.sampled_from(["", "census", "about", "roughly", "range", "12", "wire"]),
              st.booleans()),
)
CLAIMS = st.builds(
    lambda claim, changes: {**claim, **dict(changes)}, VALID, st.lists(CHANGES, max_size=2)
)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(claim=CLAIMS)
def test_the_fast_parser_accepts_what_the_schema_accepts(
    client: FlaskClient, claim: dict[str, Any]
) -> None:
    body = {
        "sources": [{"id": "census", "reliability": "A"}],
        "questions": [{"id": "q", "claims": [
            claim, {"source": "census", "kind": "point", "value": 100},
        ]}],
    }
    response = client.post(
        "/v1/reconcile/batch", data=json.dumps(body), content_type="application/json"
    )
    documented_ok = BatchClaimSchema().validate(claim) == {}
    # A range whose ends are reversed is refused by both, but the numbers themselves are fine.
    assert (response.status_code == 200) == documented_ok, (
        claim, response.status_code, response.get_json(), BatchClaimSchema().validate(claim)
    )
