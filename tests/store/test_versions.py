"""Concurrent edits cannot silently overwrite: ETag on reads, If-Match required on changes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.store.conftest import Api


@pytest.fixture
def claim_url(api: Api) -> str:
    api.source("a", "B")
    question = api.question()
    claim = api.claim(question["id"], "a", 100)
    return f"/v1/questions/{question['id']}/claims/{claim['id']}"


def _patch(client: FlaskClient, url: str, body: dict[str, Any], auth: dict[str, str],
           if_match: str | None) -> Any:
    headers = dict(auth)
    if if_match is not None:
        headers["If-Match"] = if_match
    return client.patch(url, json=body, headers=headers)


#: PATCH the claim of :func:`claim_url` with a body under an If-Match header (none for None).
PatchClaim = Callable[[dict[str, Any], str | None], Any]


@pytest.fixture
def patch_claim(client: FlaskClient, auth: dict[str, str], claim_url: str) -> PatchClaim:
    return lambda body, if_match: _patch(client, claim_url, body, auth, if_match)


@pytest.mark.parametrize("kind", ["source", "question", "claim"])
def test_every_resource_has_an_etag_that_is_its_version(
    api: Api, client: FlaskClient, claim_url: str, kind: str
) -> None:
    url = {"source": "/v1/sources/a", "question": "/v1/questions/1", "claim": claim_url}[kind]

    response = client.get(url)

    assert response.headers["ETag"] == '"1"'
    assert response.get_json()["version"] == 1


def test_if_match_of_the_current_version_applies_and_bumps_it(
    client: FlaskClient, claim_url: str, patch_claim: PatchClaim
) -> None:
    response = patch_claim({"value": 120}, '"1"')

    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    assert response.get_json()["version"] == 2
    assert client.get(claim_url).headers["ETag"] == '"2"'


def test_a_stale_if_match_is_412_and_changes_nothing(
    client: FlaskClient, claim_url: str, patch_claim: PatchClaim
) -> None:
    # Two editors read version 1; the first saves, the second must not overwrite it.
    assert patch_claim({"value": 120}, '"1"').status_code == 200

    response = patch_claim({"value": 999}, '"1"')

    assert response.status_code == 412
    assert response.mimetype == "application/problem+json"
    assert response.headers["ETag"] == '"2"'  # what to fetch instead
    assert "current version is 2" in response.get_json()["detail"]
    assert client.get(claim_url).get_json()["value"] == 120


def test_a_change_without_if_match_is_428(
    client: FlaskClient, claim_url: str, patch_claim: PatchClaim
) -> None:
    response = patch_claim({"value": 120}, None)

    assert response.status_code == 428
    assert "If-Match" in response.get_json()["detail"]
    assert client.get(claim_url).get_json()["version"] == 1


def test_if_match_star_applies_to_the_current_version(patch_claim: PatchClaim) -> None:
    assert patch_claim({"value": 120}, '"1"').status_code == 200

    response = patch_claim({"value": 130}, "*")

    assert response.status_code == 200
    assert response.get_json()["version"] == 3


def test_a_weak_etag_never_matches(patch_claim: PatchClaim) -> None:
    assert patch_claim({"value": 120}, 'W/"1"').status_code == 412


def test_one_of_several_tags_may_match(patch_claim: PatchClaim) -> None:
    assert patch_claim({"value": 120}, '"7", "1"').status_code == 200


def test_a_patch_that_changes_nothing_keeps_the_version(
    api: Api, claim_url: str, patch_claim: PatchClaim
) -> None:
    response = patch_claim({"value": 100}, '"1"')

    assert response.status_code == 200
    assert response.get_json()["version"] == 1
    assert api.get(claim_url + "/history")["total"] == 1


@pytest.mark.parametrize("field", ["version", "id", "entered_by"])
def test_read_only_fields_are_refused_in_a_patch(field: str, patch_claim: PatchClaim) -> None:
    response = patch_claim({field: 5}, '"1"')

    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_unknown_id_is_404_even_without_if_match(
    client: FlaskClient, auth: dict[str, str]
) -> None:
    response = _patch(client, "/v1/sources/nobody", {"name": "x"}, auth, None)

    assert response.status_code == 404


def test_source_and_question_edits_are_versioned_too(
    api: Api, client: FlaskClient, auth: dict[str, str]
) -> None:
    api.source("s", "B")
    question = api.question()
    resolve_url = f"/v1/questions/{question['id']}/resolution"

    assert _patch(client, "/v1/sources/s", {"reliability": "A"}, auth, '"1"').status_code == 200
    assert _patch(client, "/v1/sources/s", {"name": "x"}, auth, '"1"').status_code == 412
    stale = client.post(resolve_url, json={"value": 5}, headers={**auth, "If-Match": '"9"'})
    assert stale.status_code == 412
    missing = client.post(resolve_url, json={"value": 5}, headers=auth)
    assert missing.status_code == 428
    assert api.get(f"/v1/questions/{question['id']}")["status"] == "open"


def test_concurrent_writers_all_succeed(app: Any, api: Api) -> None:
    # SQLite: each write transaction takes the write lock up front (BEGIN IMMEDIATE) and waits
    # for it, so concurrent writers queue instead of failing with "database is locked".
    api.source("a")
    question = api.question()
    url = f"/v1/questions/{question['id']}/claims"
    statuses: list[int] = []

    def write(offset: int) -> None:
        client = app.test_client()
        for i in range(5):
            body = {"source": "a", "kind": "point", "value": 100 + offset * 10 + i}
            statuses.append(client.post(url, json=body, headers=api.auth).status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert statuses == [201] * 30
    assert api.get(url)["total"] == 30
