"""API keys: writes need one, stored hashed, revocable at once; reads optionally."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.cli.main import main
from service.http.database import get_database
from service.store import keys
from service.store.errors import Conflict
from service.store.orm import ApiKey
from service.store.repository import Repository
from tests.store.conftest import Api, AppMaker, create_key

WRITES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/v1/sources", {"id": "x"}),
    ("PATCH", "/v1/sources/a", {"name": "x"}),
    ("POST", "/v1/questions", {"title": "x"}),
    ("PATCH", "/v1/questions/1", {"title": "x"}),
    ("POST", "/v1/questions/1/resolution", {"value": 1}),
    ("POST", "/v1/questions/1/claims", {"source": "a", "kind": "point", "value": 1}),
    ("PATCH", "/v1/questions/1/claims/1", {"value": 2}),
    ("POST", "/v1/questions/1/claims/1/retract", {}),
]
READS = [
    "/v1/sources", "/v1/sources/a", "/v1/sources/a/history", "/v1/questions",
    "/v1/questions/1", "/v1/questions/1/history", "/v1/questions/1/estimate",
    "/v1/questions/1/claims", "/v1/questions/1/claims/1", "/v1/questions/1/claims/1/history",
]


@pytest.fixture
def seeded(api: Api) -> None:
    api.source("a", "B")
    question = api.question()
    api.claim(question["id"], "a", 5)


@pytest.mark.parametrize(("method", "path", "body"), WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_every_write_without_a_key_is_a_401_problem(
    client: FlaskClient, seeded: None, method: str, path: str, body: dict[str, Any]
) -> None:
    response = client.open(path, method=method, json=body, headers={"If-Match": "*"})

    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="triangulate"'
    assert "Authorization: Bearer" in response.get_json()["detail"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer tri_000000000000_" + "x" * 43,  # well-formed, unknown id
        "Bearer not-a-key",
        "Basic dXNlcjpwYXNz",
        "Bearer",
    ],
)
def test_an_invalid_key_is_a_401_with_invalid_token(
    client: FlaskClient, key: str, header: str
) -> None:
    response = client.post("/v1/sources", json={"id": "x"}, headers={"Authorization": header})

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_a_known_key_id_with_a_wrong_secret_is_refused(client: FlaskClient, key: str) -> None:
    key_id, _ = keys.parse(key) or ("", "")
    forged = f"tri_{key_id}_{'A' * 43}"

    response = client.post("/v1/sources", json={"id": "x"},
                           headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401
    assert client.get("/v1/sources/x").status_code == 404


def test_a_revoked_key_stops_working_at_once(
    app: Flask, client: FlaskClient, auth: dict[str, str], settings: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Used once first, so that the process has the key among those it already verified.
    assert client.post("/v1/sources", json={"id": "a"}, headers=auth).status_code == 201
    monkeypatch.setenv("DATA_DIR", settings["DATA_DIR"])
    monkeypatch.setenv("DATABASE_URL", settings["DATABASE_URL"])

    assert main(["keys", "revoke", "tester"]) == 0

    response = client.post("/v1/sources", json={"id": "b"}, headers=auth)
    assert response.status_code == 401
    assert "revoked" in response.get_json()["detail"]
    assert "Revoked key 'tester'" in capsys.readouterr().out


def test_writes_record_the_key_name(app: Flask, client: FlaskClient) -> None:
    other = create_key(app, "newsroom-bot")

    response = client.post("/v1/sources", json={"id": "a"},
                           headers={"Authorization": f"Bearer {other}"})

    assert response.get_json()["created_by"] == "newsroom-bot"


def test_keys_are_stored_hashed_never_in_clear(app: Flask, key: str) -> None:
    key_id, secret = keys.parse(key) or ("", "")

    with app.app_context(), get_database().session() as session:
        row = session.query(ApiKey).one()
        assert row.key_id == key_id
        assert secret.encode() not in (row.digest, row.salt)
        assert len(row.digest) == keys.DIGEST_BYTES and len(row.salt) == keys.SALT_BYTES
    data_dir = Path(app.config["DATA_DIR"])
    for path in data_dir.glob("*"):
        assert secret.encode() not in path.read_bytes()


def test_production_keys_use_scrypt_at_full_cost() -> None:
    new = keys.generate()

    assert new.kdf == f"scrypt:n={2**14},r=8,p=1"
    _, secret = keys.parse(new.token) or ("", "")
    assert keys.verify(secret, new.salt, new.kdf, new.digest)
    assert not keys.verify(secret[:-1] + ("B" if secret[-1] != "B" else "C"), new.salt,
                           new.kdf, new.digest)
    assert not keys.verify(secret, new.salt, "md5", new.digest)


def test_reads_are_open_by_default(client: FlaskClient, seeded: None) -> None:
    for path in READS:
        assert client.get(path).status_code == 200, path


def test_reads_can_require_a_key(make_app: AppMaker) -> None:
    app = make_app(READS_REQUIRE_KEY=True)
    client = app.test_client()
    token = create_key(app)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/v1/sources", json={"id": "a"}, headers=headers).status_code == 201

    refused = client.get("/v1/sources/a")
    allowed = client.get("/v1/sources/a", headers=headers)

    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"]
    assert allowed.status_code == 200


def test_reconcile_stays_open_when_reads_require_a_key(
    make_app: AppMaker, troop_body: dict[str, Any]
) -> None:
    client = make_app(READS_REQUIRE_KEY=True).test_client()

    assert client.post("/v1/reconcile", json=troop_body).status_code == 200
    assert client.get("/healthz").status_code == 200


def test_key_names_are_checked_and_never_reused(app: Flask) -> None:
    with app.app_context(), get_database().session() as session:
        repository = Repository(session)
        repository.create_key("alice", cost=2**10)
        repository.revoke_key("alice")
        with pytest.raises(ValueError, match="Invalid key name"):
            repository.create_key("has space", cost=2**10)
        with pytest.raises(Conflict, match="already exists"):
            repository.create_key("alice", cost=2**10)
