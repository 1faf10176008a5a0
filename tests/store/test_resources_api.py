"""Sources, questions and claims through the HTTP API: create, read, edit, list."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.http.schemas.reconcile import StoredEstimateSchema
from tests.conftest import TROOP_CASE
from tests.store.conftest import KEY_NAME, Api


def test_create_source_returns_it_with_location_etag_and_prior(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    body = {"id": "nis", "name": "South Korea NIS", "type": "intelligence_agency",
            "reliability": "B"}

    response = client.post("/v1/sources", json=body, headers=auth)

    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.headers["Location"] == "/v1/sources/nis"
    assert response.headers["ETag"] == '"1"'
    source = response.get_json()
    assert {k: source[k] for k in body} == body
    assert source["version"] == 1
    assert source["created_by"] == source["updated_by"] == KEY_NAME
    credibility = dict(source["credibility"])
    assert 0 < credibility.pop("prior_hit_rate") < 1
    assert credibility == {
        "prior": 0.85, "prior_spread": 0.2, "prior_from": "grade", "grade": "B",
        "learned": None, "p_right": None, "n_resolved": 0, "spread": None, "bias": None,
        "hit_rate": None, "observed_hit_rate": None, "calibration": None, "n_calibration": 0,
        "used": "grade",
        "updated_at": None, "agreement": None,
        "learning": {"status": "current", "as_of": None},
    }
    assert client.get("/v1/sources/nis").get_json() == source


@pytest.mark.parametrize(
    ("reliability", "prior_from", "grade"),
    [(0.6, "number", None), (None, "unknown", "F"), ("F", "unknown", "F")],
)
def test_source_prior_follows_its_reliability(
    api: Api, reliability: float | str | None, prior_from: str, grade: str | None
) -> None:
    source = api.source("s", reliability)

    assert source["reliability"] == reliability
    assert source["credibility"]["prior_from"] == prior_from
    assert source["credibility"]["grade"] == grade
    assert 0 < source["credibility"]["prior"] < 1


def test_duplicate_source_id_is_a_409_and_keeps_the_first(
    api: Api, client: FlaskClient, auth: dict[str, str]
) -> None:
    api.source("nis", "B", name="first")

    response = client.post("/v1/sources", json={"id": "nis", "name": "second"}, headers=auth)

    assert response.status_code == 409
    assert "nis" in response.get_json()["detail"]
    assert api.get("/v1/sources/nis")["name"] == "first"


def test_create_question_returns_its_id(client: FlaskClient, auth: dict[str, str]) -> None:
    response = client.post(
        "/v1/questions", json={"title": "North Korean soldiers in Russia", "unit": "soldiers"},
        headers=auth,
    )

    assert response.status_code == 201
    question = response.get_json()
    assert isinstance(question["id"], int)
    assert response.headers["Location"] == f"/v1/questions/{question['id']}"
    assert question["status"] == "open" and question["resolution"] is None
    assert question["scale"] == "auto"
    assert client.get(f"/v1/questions/{question['id']}").get_json() == question


def test_patch_question_changes_only_what_is_sent(api: Api) -> None:
    question = api.question("Soldiers", unit="troops")

    changed = api.patch(f"/v1/questions/{question['id']}", {"unit": "soldiers"}, version=1)

    assert changed["unit"] == "soldiers" and changed["title"] == "Soldiers"
    assert changed["version"] == 2


def test_claim_is_stored_with_every_field_and_who_entered_it(api: Api) -> None:
    api.source("nis", "B")
    question = api.question()
    fields: dict[str, Any] = {
        "value": 1500.0, "sd": 100.0, "hedge": "about", "origin": "nis-briefing",
        "as_of": "2024-10-18", "quote": "about 1,500 soldiers", "url": "https://example.org/a",
    }

    claim = api.claim(question["id"], "nis", **fields)

    assert {k: claim[k] for k in fields} == fields
    assert claim["question"] == question["id"] and claim["source"] == "nis"
    assert claim["kind"] == "point" and claim["ci_level"] == 0.95
    assert claim["entered_by"] == KEY_NAME and claim["retracted"] is False
    assert claim["version"] == 1
    assert api.get(f"/v1/questions/{question['id']}/claims/{claim['id']}") == claim


def test_claim_edit_is_checked_as_a_whole(
    api: Api, client: FlaskClient, auth: dict[str, str]
) -> None:
    api.source("a")
    question = api.question()
    claim = api.claim(question["id"], "a", kind="range", low=10, high=20)
    url = f"/v1/questions/{question['id']}/claims/{claim['id']}"

    response = client.patch(url, json={"low": 30}, headers={**auth, "If-Match": '"1"'})

    assert response.status_code == 422
    assert "low" in response.get_json()["errors"]
    assert api.get(url)["low"] == 10  # nothing stored


def test_estimate_matches_the_stateless_reconcile_of_the_same_claims(
    api: Api, client: FlaskClient
) -> None:
    case = copy.deepcopy(TROOP_CASE)
    for source in case["sources"]:
        api.source(source["id"], source["reliability"], name=source["name"],
                   type=source["type"])
    question = api.question(case["question"], unit=case["unit"], scale=case["scale"])
    claim_ids = [api.claim(question["id"], **claim)["id"] for claim in case["claims"]]

    stored = api.estimate(question["id"])
    stateless = client.post("/v1/reconcile", json=case).get_json()

    StoredEstimateSchema().load(stored)  # the documented shape
    # The same answer, each claim naming its stored id.
    assert [c.pop("id") for c in stored["claims"]] == claim_ids
    assert stored.pop("learning") == {"status": "current", "as_of": None}
    assert stored == stateless
    assert {s["credibility_from"] for s in stored["sources"]} == {"grade", "unknown"}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        pytest.param("", "claims", id="a question without claims"),
        pytest.param("?as_of=2001-01-01T00:00:00Z", "as_of", id="as_of before the question"),
        pytest.param("?as_of=2030-01-01T00:00:00", "query.as_of", id="as_of without a time zone"),
    ],
)
def test_an_estimate_the_question_cannot_give_is_a_422_naming_the_field(
    api: Api, client: FlaskClient, query: str, field: str
) -> None:
    question = api.question()

    response = client.get(f"/v1/questions/{question['id']}/estimate{query}")

    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_estimate_takes_levels_and_method(api: Api) -> None:
    api.source("a", "A")
    api.source("b", "B")
    question = api.question()
    api.claim(question["id"], "a", 100, sd=5)
    api.claim(question["id"], "b", 110, sd=5)

    result = api.estimate(question["id"], "?levels=0.8&levels=0.95&method=fixed_effect")

    assert [i["level"] for i in result["estimate"]["intervals"]] == [0.8, 0.95]
    assert result["method"] == "fixed_effect"


def test_claim_on_unknown_question_is_404(client: FlaskClient, auth: dict[str, str]) -> None:
    body: dict[str, Any] = {"source": "a", "kind": "point", "value": 1}

    response = client.post("/v1/questions/999/claims", json=body, headers=auth)

    assert response.status_code == 404
    assert "999" in response.get_json()["detail"]


def test_claim_of_another_question_is_404(api: Api, client: FlaskClient) -> None:
    api.source("a")
    first, second = api.question("one"), api.question("two")
    claim = api.claim(first["id"], "a", 5)

    response = client.get(f"/v1/questions/{second['id']}/claims/{claim['id']}")

    assert response.status_code == 404


def test_switching_to_log_scale_refuses_non_positive_claims(
    api: Api, client: FlaskClient, auth: dict[str, str]
) -> None:
    api.source("a")
    question = api.question(scale="linear")
    api.claim(question["id"], "a", -3)

    response = client.patch(
        f"/v1/questions/{question['id']}", json={"scale": "log"},
        headers={**auth, "If-Match": '"1"'},
    )

    assert response.status_code == 422
    assert "scale" in response.get_json()["errors"]
    assert api.get(f"/v1/questions/{question['id']}")["scale"] == "linear"
