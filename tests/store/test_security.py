"""Write rate limits per key, keys kept out of the logs, no internals in error responses."""

from __future__ import annotations

import logging

import pytest
from flask.testing import FlaskClient
from sqlalchemy.exc import OperationalError, ProgrammingError

from service.config import RateLimit
from service.http.problems import PROBLEM_MIMETYPE
from service.store.repository import Repository, take_token
from tests.store.conftest import AppMaker, create_key


def test_token_bucket_refills_at_the_configured_rate() -> None:
    limit = RateLimit(2, 60.0)
    tokens, wait = take_token(2.0, 0.0, 0.0, limit)
    assert (tokens, wait) == (1.0, 0.0)
    tokens, wait = take_token(tokens, 0.0, 0.0, limit)
    assert (tokens, wait) == (0.0, 0.0)
    tokens, wait = take_token(tokens, 0.0, 0.0, limit)
    assert wait == pytest.approx(30.0)  # one token per 30 s
    assert take_token(tokens, 0.0, 30.0, limit) == (pytest.approx(0.0), 0.0)
    assert take_token(0.0, 0.0, 3600.0, limit)[0] == 1.0  # never more than the limit holds
    assert take_token(0.5, 10.0, 5.0, limit) == (0.5, pytest.approx(15.0))  # clock went back


def test_the_limit_is_shared_by_every_worker(make_app: AppMaker) -> None:
    # Two apps on one database stand for two gunicorn workers (or two containers): before the
    # buckets moved to the database each had its own, and a key could write twice the limit.
    first, second = make_app(WRITE_RATE_LIMIT="3/minute"), make_app(WRITE_RATE_LIMIT="3/minute")
    auth = {"Authorization": f"Bearer {create_key(first, 'shared')}"}
    statuses = [
        app.test_client().post("/v1/questions", json={"title": f"q{n}"}, headers=auth).status_code
        for n, app in enumerate([first, second, first, second, first, second])
    ]
    assert statuses == [201, 201, 201, 429, 429, 429]


def test_writes_over_the_limit_get_429_with_retry_after(make_app: AppMaker) -> None:
    app = make_app(WRITE_RATE_LIMIT="2/minute")
    client = app.test_client()
    auth = {"Authorization": f"Bearer {create_key(app, 'busy')}"}
    for number in range(2):
        response = client.post("/v1/questions", json={"title": f"q{number}"}, headers=auth)
        assert response.status_code == 201
    refused = client.post("/v1/questions", json={"title": "q2"}, headers=auth)
    assert refused.status_code == 429
    assert refused.mimetype == PROBLEM_MIMETYPE
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert refused.get_json()["status"] == 429
    # Reads are not limited, and another key has its own bucket.
    assert client.get("/v1/questions").status_code == 200
    other = {"Authorization": f"Bearer {create_key(app, 'calm')}"}
    assert client.post("/v1/questions", json={"title": "q3"}, headers=other).status_code == 201
    assert client.get("/v1/questions").get_json()["total"] == 3


def test_api_keys_never_reach_the_logs(
    client: FlaskClient, key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    bad = key[:-4] + "zzzz"
    client.post("/v1/questions", json={"title": "q"}, headers={"Authorization": f"Bearer {key}"})
    client.post("/v1/questions", json={"title": "q"}, headers={"Authorization": f"Bearer {bad}"})
    client.post(f"/v1/questions?api_key={key}", json={"title": 5},
                headers={"Authorization": f"Bearer {key}"})
    secret = key.rsplit("_", 1)[-1]
    for record in caplog.records:
        text = record.getMessage() + str(record.__dict__)
        assert secret not in text and bad.rsplit("_", 1)[-1] not in text


@pytest.mark.parametrize(
    "error, status",
    [
        (OperationalError("SELECT * FROM secret_table WHERE secret = ?", ("x",), Exception("gone")),
         503),
        (ProgrammingError("SELECT broken FROM secret_table", (), Exception("syntax")), 500),
    ],
)
def test_database_errors_leak_no_sql_or_traceback(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, error: Exception, status: int
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(Repository, "list_sources", fail)
    response = client.get("/v1/sources")
    assert response.status_code == status
    assert response.mimetype == PROBLEM_MIMETYPE
    text = response.get_data(as_text=True)
    for leak in ("SELECT", "secret_table", "Traceback", "sqlalchemy", "secret", "gone", "syntax"):
        assert leak not in text
    if status == 503:
        assert response.headers["Retry-After"].isdigit()
