"""Inputs that schemathesis (tests/contract/test_fuzz_openapi.py) found answered with a 500."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from service.http.problems import PROBLEM_MIMETYPE
from tests.store.conftest import Api

HUGE = 1403782117307147854677982943641600


@pytest.mark.parametrize(
    "method, url",
    [
        ("GET", f"/v1/questions/{HUGE}"),
        ("GET", f"/v1/questions/{HUGE}/estimate"),
        ("GET", f"/v1/questions/{HUGE}/history"),
        ("PATCH", f"/v1/questions/{HUGE}"),
        ("POST", f"/v1/questions/{HUGE}/resolution"),
        ("GET", f"/v1/questions/1/claims/{2**31}"),
    ],
)
def test_id_beyond_the_database_integer_is_404(
    client: FlaskClient, auth: dict[str, str], method: str, url: str
) -> None:
    response = client.open(url, method=method, json={}, headers=auth)
    assert response.status_code == 404
    assert response.mimetype == PROBLEM_MIMETYPE


def test_huge_page_number_is_422(client: FlaskClient) -> None:
    response = client.get(f"/v1/questions?page={HUGE}")
    assert response.status_code == 422
    assert "query.page" in response.get_json()["errors"]


def test_empty_if_match_tag_is_412(api: Api) -> None:
    question = api.question()
    headers = {**api.auth, "If-Match": '""'}
    response = api.client.post(
        f"/v1/questions/{question['id']}/resolution", json={"value": 5.0}, headers=headers
    )
    assert response.status_code == 412
    assert response.mimetype == PROBLEM_MIMETYPE
