"""Lists paginate (page, page_size, total, links) and filter."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.store.conftest import Api


def _ids(page: dict[str, object]) -> list[object]:
    items = page["items"]
    assert isinstance(items, list)
    return [item["id"] for item in items]


def test_pages_cover_the_list_once_with_links(api: Api) -> None:
    for i in range(7):
        api.source(f"s{i}")

    first = api.get("/v1/sources?page_size=3")
    second = api.get(first["links"]["next"])
    last = api.get(first["links"]["last"])

    assert (first["total"], first["pages"], first["page"], first["page_size"]) == (7, 3, 1, 3)
    assert _ids(first) + _ids(second) + _ids(last) == [f"s{i}" for i in range(7)]
    assert first["links"]["prev"] is None and last["links"]["next"] is None
    assert second["links"]["prev"] == first["links"]["self"]
    assert first["links"]["self"] == "/v1/sources?page_size=3&page=1"


def test_a_page_past_the_end_is_empty(api: Api) -> None:
    api.source("a")

    page = api.get("/v1/sources?page=5")

    assert page["items"] == [] and page["total"] == 1 and page["pages"] == 1


def test_page_size_is_limited(client: FlaskClient) -> None:
    response = client.get("/v1/sources?page_size=501")

    assert response.status_code == 422
    assert "query.page_size" in response.get_json()["errors"]


def test_sources_filter_by_type_and_grade(api: Api) -> None:
    api.source("agency", "A", type="intelligence_agency")
    api.source("paper", "B", type="media_outlet")
    api.source("wire", "B", type="wire_service")
    api.source("anon", None, type="anonymous")
    api.source("unjudged", "F")
    api.source("numeric", 0.4)

    assert _ids(api.get("/v1/sources?type=media_outlet")) == ["paper"]
    assert _ids(api.get("/v1/sources?grade=B")) == ["paper", "wire"]
    # F means "cannot be judged", as does giving no reliability at all.
    assert _ids(api.get("/v1/sources?grade=F")) == ["anon", "unjudged"]
    filtered = api.get("/v1/sources?grade=B&type=wire_service&page_size=1")
    assert _ids(filtered) == ["wire"]
    assert filtered["links"]["self"] == "/v1/sources?grade=B&type=wire_service&page_size=1&page=1"


def test_questions_filter_by_status_and_text_newest_first(api: Api) -> None:
    tanks = api.question("Russian tanks lost")
    api.question("North Korean soldiers in Russia")
    api.question("Wheat exports (100% of quota?)")
    api.source("a")
    api.claim(tanks["id"], "a", 10)
    api.resolve(tanks["id"], 10)

    assert _ids(api.get("/v1/questions")) == [3, 2, 1]
    assert _ids(api.get("/v1/questions?status=resolved")) == [1]
    assert _ids(api.get("/v1/questions?status=open&q=RUSSIA")) == [2]
    assert _ids(api.get("/v1/questions?q=russia")) == [2, 1]
    # LIKE wildcards are matched literally.
    assert _ids(api.get("/v1/questions?q=100%25")) == [3]
    assert _ids(api.get("/v1/questions?q=_")) == []


def test_claims_filter_by_source_kind_and_retraction(api: Api) -> None:
    api.source("a")
    api.source("b")
    question = api.question()
    qid = question["id"]
    api.claim(qid, "a", 10)
    api.claim(qid, "b", kind="at_most", value=20)
    gone = api.claim(qid, "a", kind="range", low=5, high=15)
    api.retract(qid, gone["id"], version=1)

    assert _ids(api.get(f"/v1/questions/{qid}/claims?source=a")) == [1]
    assert _ids(api.get(f"/v1/questions/{qid}/claims?source=a&include_retracted=true")) == [1, 3]
    assert _ids(api.get(f"/v1/questions/{qid}/claims?kind=at_most")) == [2]
    assert _ids(api.get(f"/v1/questions/{qid}/claims?include_retracted=1&kind=range")) == [3]


def test_unknown_filters_are_refused(client: FlaskClient) -> None:
    response = client.get("/v1/sources?colour=red")

    assert response.status_code == 422
    assert "query.colour" in response.get_json()["errors"]
