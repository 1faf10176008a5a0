"""Stored questions whose quantity moves: dynamics kept, claims' horizons kept, ?at= asked."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.store.conftest import Api


def _founding(api: Api, dynamics: str = "cumulative") -> int:
    api.source("nis", "B", name="South Korea NIS")
    api.source("zelensky", "C", name="Volodymyr Zelensky")
    api.source("anon", None, name="Sources to South Korean media")
    question = api.question("North Korean soldiers sent to Russia", unit="soldiers",
                            dynamics=dynamics)
    qid = int(question["id"])
    api.claim(qid, "nis", 1500, as_of="2024-10-18")
    api.claim(qid, "zelensky", 10000, hedge="could_be", as_of="2024-10-17", horizon="total")
    api.claim(qid, "anon", 12000, hedge="could_be", as_of="2024-10-18", horizon="total")
    return qid


def test_a_moving_question_keeps_its_dynamics_and_claims_their_horizon(api: Api) -> None:
    qid = _founding(api)
    assert api.get(f"/v1/questions/{qid}")["dynamics"] == "cumulative"
    claims = api.get(f"/v1/questions/{qid}/claims")["items"]
    assert sorted(c["horizon"] for c in claims) == ["level", "total", "total"]
    estimate = api.estimate(qid)
    assert estimate["time"]["at"] == "2024-10-18"
    assert estimate["estimate"]["value"] == pytest.approx(1500, rel=0.15)
    assert estimate["time"]["total"]["intervals"][-1]["low"] <= 10_000
    assert estimate["time"]["total"]["intervals"][-1]["high"] >= 12_000
    assert all(isinstance(c["id"], int) for c in estimate["claims"])


def test_at_asks_for_the_level_on_a_date(api: Api) -> None:
    qid = _founding(api)
    api.claim(qid, "nis", 11000, as_of="2024-11-13")
    early = api.estimate(qid, "?at=2024-10-20")
    late = api.estimate(qid)
    assert early["time"]["at"] == "2024-10-20" and late["time"]["at"] == "2024-11-13"
    assert early["estimate"]["value"] < late["estimate"]["value"]


def test_at_on_a_static_question_is_a_problem_naming_at(api: Api, client: FlaskClient) -> None:
    qid = _founding(api, dynamics="static")
    response = client.get(f"/v1/questions/{qid}/estimate?at=2024-10-18", headers=api.auth)
    assert response.status_code == 422
    assert "at" in response.get_json()["errors"]
    assert api.estimate(qid)["time"] is None  # the stored data answers as before


def test_dynamics_can_be_changed_and_is_kept_in_the_history(api: Api) -> None:
    qid = _founding(api, dynamics="static")
    api.patch(f"/v1/questions/{qid}", {"dynamics": "drifting"}, version=1)
    assert api.estimate(qid)["time"]["dynamics"] == "drifting"
    history = api.get(f"/v1/questions/{qid}/history")["items"]
    assert [h["dynamics"] for h in history] == ["static", "drifting"]


def test_a_bad_dynamics_or_horizon_is_refused_naming_the_field(
    api: Api, client: FlaskClient
) -> None:
    response = client.post("/v1/questions", json={"title": "x", "dynamics": "growing"},
                           headers=api.auth)
    assert response.status_code == 422 and "dynamics" in response.get_json()["errors"]
    qid = _founding(api)
    response = client.post(f"/v1/questions/{qid}/claims", headers=api.auth,
                           json={"source": "nis", "kind": "point", "value": 1,
                                 "horizon": "someday"})
    assert response.status_code == 422 and "horizon" in response.get_json()["errors"]
