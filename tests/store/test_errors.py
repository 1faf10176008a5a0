"""Every error of the stored-data routes is a problem document naming what went wrong."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.http.problems import PROBLEM_MIMETYPE
from tests.store.conftest import Api, AppMaker


@dataclass(frozen=True)
class Case:
    """One bad request and what its problem must say."""

    id: str
    status: int
    path: str
    names: str  # a field of errors (422) or a word of the detail
    method: str = "POST"
    body: Any = None
    raw: str | None = None
    content_type: str = "application/json"
    if_match: str | None = "*"
    authenticated: bool = True
    config: dict[str, Any] = field(default_factory=dict)


CLAIM = "/v1/questions/1/claims"
CASES = [
    Case("malformed-json", 400, "/v1/sources", "JSON", raw='{"id": '),
    Case("empty-body", 400, "/v1/questions", "empty", raw=""),
    Case("no-key", 401, "/v1/questions", "Bearer", body={"title": "x"}, authenticated=False),
    Case("unknown-source", 404, "/v1/sources/nobody", "nobody", method="GET"),
    Case("unknown-question", 404, "/v1/questions/99", "99", method="GET"),
    Case("non-integer-question", 404, "/v1/questions/abc", "/v1/questions/abc", method="GET"),
    Case("unknown-claim", 404, CLAIM + "/99", "99", method="GET"),
    Case("delete-source", 405, "/v1/sources/a", "PATCH", method="DELETE"),
    Case("duplicate-source", 409, "/v1/sources", "exists", body={"id": "a"}),
    Case("stale-if-match", 412, "/v1/sources/a", "changed", method="PATCH",
         body={"name": "x"}, if_match='"41"'),
    Case("too-large", 413, "/v1/questions", "MAX_CONTENT_LENGTH", body={"title": "q" * 500},
         config={"MAX_CONTENT_LENGTH": 200}),
    Case("not-json", 415, "/v1/sources", "application/json", raw="id=a",
         content_type="application/x-www-form-urlencoded"),
    Case("bad-source-id", 422, "/v1/sources", "id", body={"id": "a/b"}),
    Case("bad-grade", 422, "/v1/sources", "reliability", body={"id": "b", "reliability": "G"}),
    Case("unknown-field", 422, "/v1/sources", "colour", body={"id": "b", "colour": "red"}),
    Case("empty-title", 422, "/v1/questions", "title", body={"title": ""}),
    Case("bad-scale", 422, "/v1/questions", "scale", body={"title": "t", "scale": "sqrt"}),
    Case("claim-nan", 422, CLAIM, "value",
         raw='{"source": "a", "kind": "point", "value": NaN}'),
    Case("claim-unknown-source", 422, CLAIM, "source",
         body={"source": "zz", "kind": "point", "value": 1}),
    Case("claim-range-reversed", 422, CLAIM, "low",
         body={"source": "a", "kind": "range", "low": 5, "high": 1}),
    Case("patch-null-type", 422, "/v1/sources/a", "type", method="PATCH", body={"type": None}),
    Case("resolution-without-value", 422, "/v1/questions/1/resolution", "value", body={}),
    Case("resolution-infinite", 422, "/v1/questions/1/resolution", "value",
         raw='{"value": Infinity}'),
    Case("bad-as-of", 422, "/v1/questions/1/estimate?as_of=yesterday", "query.as_of",
         method="GET"),
    Case("bad-level", 422, "/v1/questions/1/estimate?levels=1.5", "query.levels.0",
         method="GET"),
    Case("bad-include-retracted", 422, CLAIM + "?include_retracted=maybe",
         "query.include_retracted", method="GET"),
    Case("missing-if-match", 428, "/v1/questions/1", "If-Match", method="PATCH",
         body={"title": "x"}, if_match=None),
]


def _send(client: FlaskClient, key: str, case: Case) -> Any:
    headers = {"Authorization": f"Bearer {key}"} if case.authenticated else {}
    if case.if_match is not None:
        headers["If-Match"] = case.if_match
    data = case.raw if case.raw is not None else (
        json.dumps(case.body) if case.body is not None else None
    )
    return client.open(case.path, method=case.method, data=data,
                       content_type=case.content_type if data is not None else None,
                       headers=headers)


def _seed(client: FlaskClient, key: str) -> None:
    seed = Api(client, {"Authorization": f"Bearer {key}"})
    seed.source("a")
    seed.claim(seed.question()["id"], "a", 5)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_error_is_a_problem_document(
    app: Flask, make_app: AppMaker, key: str, case: Case
) -> None:
    # An app of its own only for the cases that need other settings (building one is slow).
    client = (make_app(**case.config) if case.config else app).test_client()
    _seed(client, key)

    response = _send(client, key, case)

    assert response.status_code == case.status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_MIMETYPE
    problem = response.get_json(force=True)
    assert {"type", "title", "status", "detail", "instance"} <= set(problem)
    assert problem["status"] == case.status
    assert problem["instance"] == case.path.split("?")[0]
    if case.status == 422:
        assert case.names in problem["errors"], problem
    else:
        assert case.names in problem["detail"], problem
    assert "Traceback" not in response.get_data(as_text=True)


def test_refused_requests_leave_stored_data_as_it_was(
    client: FlaskClient, key: str
) -> None:
    _seed(client, key)
    everything = [
        "/v1/sources", "/v1/sources/a/history", "/v1/questions", "/v1/questions/1/history",
        "/v1/questions/1/claims?include_retracted=true", "/v1/questions/1/claims/1/history",
    ]
    before = [client.get(url).get_json() for url in everything]

    for case in CASES:
        if not case.config and case.method != "GET":
            assert _send(client, key, case).status_code == case.status, case.id

    assert [client.get(url).get_json() for url in everything] == before


@pytest.mark.parametrize("digits", [25, 4301, 6000])
def test_ids_too_long_for_any_row_are_404_not_500(client: FlaskClient, digits: int) -> None:
    """Python's int() refuses more than 4,300 digits; such an id is simply not found."""
    response = client.get("/v1/questions/" + "9" * digits)
    assert response.status_code == 404
    assert response.mimetype == PROBLEM_MIMETYPE
