"""POST /v1/extract over HTTP: the three ways to send an article, and every bad input answered
with a problem that names the field, never a 500 (issue 17)."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.extract.inputs import MAX_CHARACTERS

PARAGRAPH = "The army said at least 1,200 soldiers were killed, according to officials."


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(PARAGRAPH.encode(), "text/plain"),
     (f"<html><body><p>{PARAGRAPH}</p><script>var x = 5;</script></body></html>".encode(),
      "text/html"),
     (json.dumps({"text": PARAGRAPH}).encode(), "application/json")],
)
def test_plain_html_and_json_give_the_same_draft(
    client: FlaskClient, data: bytes, content_type: str
) -> None:
    response = client.post("/v1/extract", data=data, content_type=content_type)
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    [quantity] = body["quantities"]
    [claim] = quantity["claims"]
    assert (claim["kind"], claim["value"], claim["figure"]) == ("at_least", 1200, "1,200")
    assert body["text"][slice(*claim["span"])] == "1,200"


@pytest.mark.parametrize(
    ("data", "content_type", "status", "field"),
    [(b"\x00\x01binary\x02", "text/plain", 422, "text"),
     (b"\xff\xfe\xfa", "text/plain", 422, "text"),
     (b"PK\x03\x04", "application/octet-stream", 415, None),
     (b"{}", "application/json", 422, "text"),
     (b'{"text": 7}', "application/json", 422, "text"),
     (b'{"text": "x", "format": "pdf"}', "application/json", 422, "format"),
     (b'{"text": "x", "colour": 1}', "application/json", 422, "colour"),
     (b"{", "application/json", 400, None),
     (("Der Sprecher sagte am Montag, dass mindestens 5000 Soldaten an die Grenze geschickt "
       "werden sollen, und die Regierung bestätigte die Zahl.").encode(), "text/plain", 422,
      "text"),
     (b"x" * (MAX_CHARACTERS + 1), "text/plain", 422, "text"),
     (b"a" * (10 * 1024 * 1024), "text/plain", 413, None)],
)
def test_bad_input_gets_a_problem_naming_the_field(
    client: FlaskClient, data: bytes, content_type: str, status: int, field: str | None
) -> None:
    response = client.post("/v1/extract", data=data, content_type=content_type)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == status and problem["detail"]
    if field is not None:
        assert field in problem["errors"]


def test_no_figures_is_an_empty_answer_with_a_warning(client: FlaskClient) -> None:
    response = client.post("/v1/extract", data=b"Nothing to count here.",
                           content_type="text/plain")
    assert response.status_code == 200
    body = response.get_json()
    assert body["quantities"] == [] and body["sources"] == []
    assert [w["code"] for w in body["warnings"]] == ["no_figures"]


_ANY = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@_ANY
@given(st.binary(max_size=2000), st.sampled_from(["text/plain", "text/html"]))
def test_arbitrary_bytes_never_500(client: FlaskClient, data: bytes, content_type: str) -> None:
    response = client.post("/v1/extract", data=data, content_type=content_type)
    assert response.status_code in (200, 422), response.get_data(as_text=True)


_NEWSY = st.lists(
    st.sampled_from(list("0123456789,.$%£€- ") + [
        " up to ", " at least ", " about ", " between ", " and ", " said ", " told ",
        " according to ", " million", " thousands of ", " soldiers", " people", " could be ",
        " reportedly ", " The NIS", " He ", ". ", "\n\n", "(", ")", "“", "”", "k", "bn"]),
    max_size=120).map("".join)


@_ANY
@given(st.one_of(st.text(max_size=1500), _NEWSY))
def test_arbitrary_text_never_500_and_spans_hold(client: FlaskClient, text: str) -> None:
    response = client.post("/v1/extract", json={"text": text})
    assert response.status_code in (200, 422), response.get_data(as_text=True)
    if response.status_code == 200:
        body = response.get_json()
        for quantity in body["quantities"]:
            for claim in quantity["claims"]:
                start, end = claim["span"]
                assert body["text"][start:end] == claim["figure"]
                assert 0 <= claim["confidence"] <= 1
