"""The audit trail: edits and retractions add revisions, and past estimates can be rebuilt."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from urllib.parse import quote

from flask.testing import FlaskClient

from tests.store.conftest import KEY_NAME, Api


def _moment() -> str:
    """Now, as an as_of parameter; the pause keeps it strictly between two writes."""
    time.sleep(0.002)
    moment = datetime.now(UTC).isoformat()
    time.sleep(0.002)
    return quote(moment)


def test_retracted_claim_stops_counting_but_stays_visible(api: Api) -> None:
    for source in ("a", "b", "c"):
        api.source(source, "B")
    question = api.question()
    qid = question["id"]
    api.claim(qid, "a", 100)
    api.claim(qid, "b", 110)
    wrong = api.claim(qid, "c", 5000)
    before = api.estimate(qid)

    retracted = api.retract(qid, wrong["id"], version=1, reason="misread the report")

    after = api.estimate(qid)
    assert retracted["retracted"] is True and retracted["version"] == 2
    assert [c["source"] for c in before["claims"]] == ["a", "b", "c"]
    assert [c["source"] for c in after["claims"]] == ["a", "b"]
    assert after["estimate"]["value"] != before["estimate"]["value"]
    # Still there: by id, in the list on request, and with its whole history.
    assert api.get(f"/v1/questions/{qid}/claims/{wrong['id']}")["retracted"] is True
    assert api.get(f"/v1/questions/{qid}/claims")["total"] == 2
    listed = api.get(f"/v1/questions/{qid}/claims?include_retracted=true")
    assert [c["id"] for c in listed["items"]] == [1, 2, wrong["id"]]
    history = api.get(f"/v1/questions/{qid}/claims/{wrong['id']}/history")["items"]
    assert [(h["version"], h["action"], h["retracted"]) for h in history] == [
        (1, "create", False), (2, "retract", True),
    ]
    assert history[1]["reason"] == "misread the report"
    assert history[1]["recorded_by"] == KEY_NAME
    assert history[0]["value"] == 5000


def test_retracting_twice_is_a_409_and_a_retracted_claim_cannot_be_edited(
    api: Api, client: FlaskClient, auth: dict[str, str]
) -> None:
    api.source("a")
    question = api.question()
    claim = api.claim(question["id"], "a", 5)
    url = f"/v1/questions/{question['id']}/claims/{claim['id']}"
    api.retract(question["id"], claim["id"], version=1)

    again = client.post(url + "/retract", json={}, headers={**auth, "If-Match": "*"})
    edit = client.patch(url, json={"value": 6}, headers={**auth, "If-Match": "*"})

    assert again.status_code == 409 and edit.status_code == 409
    assert api.get(url + "/history")["total"] == 2


def test_edits_keep_every_earlier_value(api: Api) -> None:
    api.source("a")
    question = api.question()
    claim = api.claim(question["id"], "a", 100)
    url = f"/v1/questions/{question['id']}/claims/{claim['id']}"

    api.patch(url, {"value": 150, "reason": "corrected figure"}, version=1)
    api.patch(url, {"hedge": "about"}, version=2)

    history = api.get(url + "/history")["items"]
    assert [(h["version"], h["action"], h["value"], h["hedge"]) for h in history] == [
        (1, "create", 100, "none"), (2, "edit", 150, "none"), (3, "edit", 150, "about"),
    ]
    assert history[1]["reason"] == "corrected figure"


def test_as_of_reproduces_the_estimate_shown_then(api: Api) -> None:
    for source, grade in (("a", "A"), ("b", "B"), ("c", "D"), ("d", "C")):
        api.source(source, grade)
    question = api.question("Soldiers", unit="soldiers")
    qid = question["id"]
    first = api.claim(qid, "a", 1000)
    api.claim(qid, "b", 1200)
    third = api.claim(qid, "c", 4000, hedge="could_be")
    shown = api.estimate(qid)
    then = _moment()

    # Everything an estimate depends on changes afterwards: a claim is edited, another
    # retracted, one added, the question renamed, a source regraded, and the sources' learned
    # credibility moves with another question's resolution.
    api.patch(f"/v1/questions/{qid}/claims/{first['id']}", {"value": 1800}, version=1)
    api.retract(qid, third["id"], version=1)
    api.claim(qid, "d", 900)
    api.patch(f"/v1/questions/{qid}", {"title": "Troops", "scale": "linear"}, version=1)
    api.patch("/v1/sources/b", {"reliability": "E"}, version=1)
    other = api.question("Tanks")
    api.claim(other["id"], "a", 50)
    api.claim(other["id"], "b", 80)
    api.resolve(other["id"], 52)
    now = api.estimate(qid)

    assert now != shown
    # Everything but the learning state, which only an estimate of now reports.
    assert shown.pop("learning") == {"status": "current", "as_of": None}
    assert api.estimate(qid, f"?as_of={then}") == {**shown, "learning": None}


def test_as_of_before_learning_uses_the_priors_after_it_the_learned(api: Api) -> None:
    api.source("a", "B")
    api.source("b", "C")
    question = api.question()
    api.claim(question["id"], "a", 100)
    api.claim(question["id"], "b", 120)
    before = _moment()
    seed = api.question("seed")
    api.claim(seed["id"], "a", 10)
    api.resolve(seed["id"], 10)
    after = _moment()

    old = api.estimate(question["id"], f"?as_of={before}")["sources"]
    new = api.estimate(question["id"], f"?as_of={after}")["sources"]

    assert {s["id"]: s["credibility_from"] for s in old} == {"a": "grade", "b": "grade"}
    assert {s["id"]: s["credibility_from"] for s in new} == {"a": "learned", "b": "grade"}


def test_question_and_source_histories(api: Api) -> None:
    api.source("s", "B")
    question = api.question("Soldiers")
    api.patch(f"/v1/questions/{question['id']}", {"title": "Troops"}, version=1)
    api.resolve(question["id"], 10, reference="official count")
    api.patch("/v1/sources/s", {"reliability": 0.4}, version=1)

    questions = api.get(f"/v1/questions/{question['id']}/history")["items"]
    sources = api.get("/v1/sources/s/history")["items"]

    assert [(h["action"], h["title"], h["status"]) for h in questions] == [
        ("create", "Soldiers", "open"), ("edit", "Troops", "open"),
        ("resolve", "Troops", "resolved"),
    ]
    assert questions[2]["resolution"] == {"value": 10, "date": None,
                                          "reference": "official count"}
    assert [(h["action"], h["reliability"]) for h in sources] == [("create", "B"),
                                                                  ("edit", 0.4)]
