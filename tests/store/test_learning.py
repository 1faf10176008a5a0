"""Resolutions: the truth is recorded and every source's track record is relearned and kept."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.http.database import get_learner
from tests.store.conftest import Api, AppMaker, create_key


def _credibility(api: Api, source: str) -> Any:
    return api.get(f"/v1/sources/{source}")["credibility"]


@pytest.fixture
def resolved(api: Api) -> dict[str, Any]:
    """Sources a, b, c; a and b claimed on a question that is then resolved; c did not."""
    for source, grade in (("a", "B"), ("b", "D"), ("c", "C")):
        api.source(source, grade)
    question = api.question("Tanks", unit="tanks")
    api.claim(question["id"], "a", 100)
    api.claim(question["id"], "b", 300)
    resolved = api.resolve(question["id"], 105, date="2025-01-31", reference="audit")
    return {"question": question, "resolved": resolved}


def test_resolution_marks_the_question_resolved(resolved: dict[str, Any]) -> None:
    question = resolved["resolved"]

    assert question["status"] == "resolved"
    assert question["resolution"] == {"value": 105, "date": "2025-01-31", "reference": "audit"}
    assert question["version"] == 2
    assert question["resolved_by"] == "tester"


def test_resolution_gives_claimants_a_learned_credibility(
    api: Api, resolved: dict[str, Any]
) -> None:
    for source in ("a", "b"):
        credibility = _credibility(api, source)
        assert credibility["n_resolved"] == 1
        assert 0 < credibility["learned"] < 1
        assert credibility["used"] == "learned"
        assert credibility["updated_at"] is not None
        assert credibility["spread"] is not None and credibility["spread"] > 0
    untouched = _credibility(api, "c")
    assert untouched["learned"] is None and untouched["n_resolved"] == 0
    assert untouched["used"] == "grade" and untouched["prior"] == 0.7


def test_learned_says_how_good_the_source_is_on_the_prior_scale(
    api: Api, resolved: dict[str, Any]
) -> None:
    """Issue 13, point 7: ``learned`` is the credibility of a graded source whose figures miss
    as much as the learned profile's (a near hit raises B above 0.85, a miss by ~3x lowers D
    below 0.5); ``p_right`` is the probability of being right that estimates use."""
    a, b = _credibility(api, "a"), _credibility(api, "b")
    assert a["learned"] > a["prior"] == 0.85
    assert b["learned"] < b["prior"] == 0.5
    for c in (a, b):
        assert 0 < c["p_right"] < 1 and c["p_right"] != c["learned"]
    assert _credibility(api, "c")["p_right"] is None


def test_estimates_use_learned_credibility_where_there_is_one(
    api: Api, resolved: dict[str, Any]
) -> None:
    question = api.question("Planes")
    for source, value in (("a", 10), ("b", 12), ("c", 11)):
        api.claim(question["id"], source, value)

    sources = {s["id"]: s for s in api.estimate(question["id"])["sources"]}

    assert sources["a"]["credibility_from"] == "learned"
    assert sources["a"]["credibility"] == _credibility(api, "a")["p_right"]
    assert sources["c"]["credibility_from"] == "grade" and sources["c"]["grade"] == "C"


def test_track_records_survive_a_restart(make_app: AppMaker, resolved: dict[str, Any]) -> None:
    # The fixture wrote through the first app; a second one on the same database reads it.
    client = make_app().test_client()

    credibility = client.get("/v1/sources/a").get_json()["credibility"]

    assert credibility["n_resolved"] == 1 and credibility["used"] == "learned"


def test_retracting_a_resolved_claim_removes_it_from_the_track_record(
    api: Api, resolved: dict[str, Any]
) -> None:
    qid = resolved["question"]["id"]
    claim = api.get(f"/v1/questions/{qid}/claims?source=b")["items"][0]

    api.retract(qid, claim["id"], version=claim["version"])

    assert _credibility(api, "b")["n_resolved"] == 0
    assert _credibility(api, "b")["learned"] is None
    assert _credibility(api, "a")["n_resolved"] == 1


def test_a_claim_added_after_resolution_counts_at_once(
    api: Api, resolved: dict[str, Any]
) -> None:
    api.claim(resolved["question"]["id"], "c", 104)

    assert _credibility(api, "c")["n_resolved"] == 1


def test_resolving_again_replaces_the_value_and_keeps_the_old_one(
    api: Api, resolved: dict[str, Any]
) -> None:
    qid = resolved["question"]["id"]

    again = api.resolve(qid, 98, reference="corrected audit")

    assert again["resolution"]["value"] == 98 and again["version"] == 3
    history = api.get(f"/v1/questions/{qid}/history")["items"]
    assert [h["resolution"]["value"] for h in history if h["resolution"]] == [105, 98]


def test_log_scale_truth_must_be_positive(
    api: Api, client: FlaskClient, auth: dict[str, str]
) -> None:
    question = api.question(scale="log")

    response = client.post(f"/v1/questions/{question['id']}/resolution", json={"value": 0},
                           headers={**auth, "If-Match": '"1"'})

    assert response.status_code == 422
    assert "value" in response.get_json()["errors"]
    assert api.get(f"/v1/questions/{question['id']}")["status"] == "open"


def test_a_failure_while_learning_keeps_the_resolution_and_says_learning_is_pending(
    app: Flask, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    api.source("a")
    question = api.question()
    api.claim(question["id"], "a", 10)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("learning failed")

    monkeypatch.setattr("service.store.learning.learn_track_records", broken)
    resolved = api.resolve(question["id"], 9)

    assert resolved["status"] == "resolved"
    credibility = _credibility(api, "a")
    assert credibility["learned"] is None
    assert credibility["learning"]["status"] == "pending"
    assert api.estimate(question["id"])["learning"]["status"] == "pending"

    monkeypatch.undo()  # the next read that finds them pending has them learned
    api.get("/v1/sources/a")
    credibility = _credibility(api, "a")
    assert credibility["learning"]["status"] == "current"
    assert credibility["n_resolved"] == 1 and credibility["learned"] is not None


def test_a_resolution_is_pending_until_the_learning_job_ends(
    app: Flask, api: Api
) -> None:
    for source, grade in (("a", "B"), ("b", "D")):
        api.source(source, grade)
    question = api.question()
    api.claim(question["id"], "a", 100)
    api.claim(question["id"], "b", 300)
    with app.app_context():
        learner = get_learner()
    learner.run = "manual"
    try:
        api.resolve(question["id"], 105)
        pending = _credibility(api, "a")
        assert pending["learning"]["status"] == "pending" and pending["learned"] is None
        estimate = api.estimate(question["id"])
        assert estimate["learning"] == {"status": "pending", "as_of": None}
        assert {s["credibility_from"] for s in estimate["sources"]} == {"grade"}

        learner.run_pending()
    finally:
        learner.run = "inline"
    current = _credibility(api, "a")
    assert current["learning"]["status"] == "current"
    assert current["learning"]["as_of"] == api.get(f"/v1/questions/{question['id']}")[
        "resolved_at"]
    assert current["n_resolved"] == 1 and 0 < current["learned"] < 1
    assert api.estimate(question["id"])["learning"]["status"] == "current"


def test_regrading_a_source_relearns_from_its_new_prior(
    app: Flask, api: Api, resolved: dict[str, Any]
) -> None:
    before = _credibility(api, "a")

    api.patch("/v1/sources/a", {"reliability": "E"}, version=1)

    after = _credibility(api, "a")
    assert after["prior"] == 0.3 and before["prior"] == 0.85
    assert after["n_resolved"] == 1
    assert create_key(app, "other")  # the database is still writable after the relearn
