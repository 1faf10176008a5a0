"""``POST /v1/reconcile/batch`` through the test client: both request forms, every error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.http.problems import PROBLEM_MIMETYPE
from service.http.schemas.batch import BatchResponseSchema
from tests.conftest import AppFactory

URL = "/v1/reconcile/batch"

NESTED: dict[str, Any] = {
    "sources": [{"id": "census", "reliability": "A"}, {"id": "blog"}],
    "questions": [
        {"id": "springfield", "claims": [
            {"source": "census", "kind": "point", "value": 152082},
            {"source": "blog", "kind": "point", "value": 154082},
            {"source": "wiki", "kind": "point", "value": 152082},
        ]},
        {"id": "shelbyville", "claims": [
            {"source": "census", "kind": "point", "value": 60512},
            {"source": "wiki", "kind": "at_least", "value": 60000},
            {"source": "blog", "kind": "range", "low": 55000, "high": 65000, "hedge": "about"},
        ]},
    ],
    "levels": [0.5, 0.9],
}


def _columns(body: dict[str, Any]) -> dict[str, Any]:
    """The same claims in the columnar form."""
    keys = ("source", "kind", "value", "low", "high", "hedge")
    columns: dict[str, list[Any]] = {"question": [], **{k: [] for k in keys}}
    for question in body["questions"]:
        for claim in question["claims"]:
            columns["question"].append(question["id"])
            for key in keys:
                columns[key].append(claim.get(key))
    return {"sources": body["sources"], "columns": columns, "levels": body["levels"]}


def _post(client: FlaskClient, body: Any) -> Any:
    # Serialised by hand: the test client's JSON refuses NaN, which some tests need to send.
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json")


def test_nested_form(client: FlaskClient) -> None:
    response = _post(client, NESTED)

    assert response.status_code == 200, response.get_json()
    doc = response.get_json()
    assert BatchResponseSchema().validate(doc) == {}
    springfield, shelbyville = doc["questions"]
    assert springfield["id"] == "springfield"
    # Two sources give the same digits: the agreed figure, exactly.
    assert springfield["estimate"]["value"] == pytest.approx(152082, abs=0.5)
    assert springfield["p_exact"] > 0.9
    assert [i["level"] for i in springfield["estimate"]["intervals"]] == [0.5, 0.9]
    assert shelbyville["n_claims"] == 3
    sources = {s["id"]: s for s in doc["sources"]}
    assert sources["census"]["credibility_from"] == "prior"
    assert sources["wiki"]["credibility_from"] == "population"


def test_columnar_form_gives_the_same_answer(client: FlaskClient) -> None:
    nested = _post(client, NESTED).get_json()

    columnar = _post(client, _columns(NESTED))

    assert columnar.status_code == 200, columnar.get_json()
    assert columnar.get_json() == nested


def _problem(response: Any) -> dict[str, Any]:
    assert response.mimetype == PROBLEM_MIMETYPE
    problem: dict[str, Any] = response.get_json()
    assert problem["status"] == response.status_code
    return problem


def _broken_columns(change: dict[str, Any]) -> dict[str, Any]:
    body = _columns(NESTED)
    body["columns"].update(change)
    return body


def _broken_claim(change: dict[str, Any], question: int = 0, claim: int = 1) -> dict[str, Any]:
    body = json.loads(json.dumps(NESTED))
    body["questions"][question]["claims"][claim].update(change)
    return body


BAD_BODIES: list[tuple[str, Any, str]] = [
    ("column value NaN", json.dumps(_columns(NESTED)).replace("152082, 154082",
                                                              "152082, NaN", 1),
     "columns.value.1"),
    ("column value Infinity", json.dumps(_columns(NESTED)).replace("152082, 154082",
                                                                   "152082, Infinity", 1),
     "columns.value.1"),
    ("column value boolean", _broken_columns({"value": [1, True, 3, 4, None, None]}),
     "columns.value.1"),
    ("column value string", _broken_columns({"value": [1, "2", 3, 4, None, None]}),
     "columns.value.1"),
    ("column length", _broken_columns({"source": ["census"]}), "columns.source"),
    ("column unknown", _broken_columns({"weight": [1] * 6}), "columns.weight"),
    ("column missing", {"columns": {"question": ["q"], "kind": ["point"], "value": [1]}},
     "columns.source"),
    ("column not a list", _broken_columns({"value": 3}), "columns.value"),
    ("column kind", _broken_columns({"kind": ["point", "guess", "point", "point",
                                              "at_least", "range"]}), "columns.kind.1"),
    ("column empty id", _broken_columns({"question": ["", "a", "a", "b", "b", "b"]}),
     "columns.question.0"),
    ("column inverted range", _broken_columns({"low": [None] * 5 + [70000]}),
     "columns.low.5"),
    ("column missing value", _broken_columns({"value": [None] * 6}), "columns.value.0"),
    ("claim value string", _broken_claim({"value": "many"}), "questions.0.claims.1.value"),
    ("claim unknown field", _broken_claim({"weight": 2}), "questions.0.claims.1.weight"),
    ("claim missing source", _broken_claim({"source": None}), "questions.0.claims.1.source"),
    ("claim missing value", _broken_claim({"value": None}), "questions.0.claims.1.value"),
    ("claim range needs low", _broken_claim({"low": None}, question=1, claim=2),
     "questions.1.claims.2.low"),
    ("claim not an object", {"questions": [{"id": "q", "claims": [3]}]},
     "questions.0.claims.0"),
    ("question duplicate id", {"questions": [NESTED["questions"][0]] * 2}, "questions.1.id"),
    ("question without claims", {"questions": [{"id": "q", "claims": []}]},
     "questions.0.claims"),
    ("both forms", {**_columns(NESTED), "questions": NESTED["questions"]}, "_schema"),
    ("neither form", {"sources": []}, "_schema"),
    ("level", {**NESTED, "levels": [1.5]}, "levels.0"),
    ("duplicate source", {**NESTED, "sources": [{"id": "a"}, {"id": "a"}]}, "sources.1.id"),
    ("unknown top-level field", {**NESTED, "method": "robust"}, "method"),
    ("log scale non-positive", {**_broken_columns({"value": [1, -2, 3, 4, 6e4, None]}),
                                "scale": "log"}, "columns.value.1"),
    ("log scale non-positive nested", {**_broken_claim({"value": 0}), "scale": "log"},
     "questions.0.claims.1.value"),
]


@pytest.mark.parametrize(("body", "field"), [(b, f) for _, b, f in BAD_BODIES],
                         ids=[name for name, _, _ in BAD_BODIES])
def test_bad_input_is_a_422_naming_the_field(client: FlaskClient, body: Any, field: str) -> None:
    problem = _problem(_post(client, body))

    assert problem["status"] == 422
    assert field in problem["errors"], problem


def test_claim_limit(app_factory: AppFactory) -> None:
    client = app_factory(MAX_BATCH_CLAIMS=5).test_client()

    columnar = _problem(_post(client, _columns(NESTED)))
    nested = _problem(_post(client, NESTED))

    assert columnar["status"] == nested["status"] == 422
    assert "MAX_BATCH_CLAIMS" in json.dumps(columnar["errors"])
    assert "MAX_BATCH_CLAIMS" in json.dumps(nested["errors"])


def test_body_limit_is_per_route(app_factory: AppFactory) -> None:
    body = json.dumps(_columns(NESTED))
    client = app_factory(MAX_CONTENT_LENGTH=100, MAX_BATCH_CONTENT_LENGTH=len(body) + 10)
    test_client = client.test_client()

    assert _post(test_client, body).status_code == 200  # above the global limit, below its own
    too_large = _problem(_post(test_client, body + " " * 20))
    assert too_large["status"] == 413
    assert "MAX_BATCH_CONTENT_LENGTH" in too_large["detail"]
    assert test_client.post("/v1/reconcile", data=body,
                            content_type="application/json").status_code == 413


def test_malformed_and_wrong_media_type(client: FlaskClient) -> None:
    assert _problem(_post(client, "{nope"))["status"] == 400
    response = client.post(URL, data="question,source", content_type="text/csv")
    assert _problem(response)["status"] == 415


def test_a_hundred_thousand_columnar_claims(client: FlaskClient) -> None:
    n = 100_000
    body = {"columns": {
        "question": [f"q{i // 10}" for i in range(n)],
        "source": [f"s{(i * 7919) % 1000}" for i in range(n)],
        "kind": ["point"] * n,
        "value": [1000.0 + (i % 10) * 3.7 for i in range(n)],
    }}

    response = _post(client, body)

    assert response.status_code == 200
    assert len(response.get_json()["questions"]) == n // 10
