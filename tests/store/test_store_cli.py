"""``triangulate db`` and ``triangulate keys`` on the database the settings name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.cli.main import main
from service.store import keys
from service.store.engine import head_revision
from tests.store.conftest import AppMaker


@pytest.fixture
def environment(settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The test's database in the environment, where the command reads its settings."""
    monkeypatch.setenv("DATA_DIR", settings["DATA_DIR"])
    monkeypatch.setenv("DATABASE_URL", settings["DATABASE_URL"])
    return settings


def test_db_upgrade_and_current(
    environment: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "current"]) == 0

    out = capsys.readouterr().out
    assert f"revision {head_revision()}" in out
    assert "***" in out or "sqlite" in out  # a PostgreSQL password is never printed


def test_a_created_key_works_for_the_server(
    environment: dict[str, Any], make_app: AppMaker, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The production cost is used here on purpose: the CLI is what operators run.
    assert main(["keys", "create", "newsroom"]) == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    client = make_app().test_client()

    response = client.post("/v1/sources", json={"id": "a"},
                           headers={"Authorization": f"Bearer {token}"})

    assert keys.parse(token) is not None
    assert "shown only this once" in captured.err
    assert response.status_code == 201
    assert response.get_json()["created_by"] == "newsroom"


def test_keys_list_shows_names_and_status_never_keys(
    environment: dict[str, Any], app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "alice"]) == 0
    token = capsys.readouterr().out.strip()
    assert main(["keys", "create", "bob"]) == 0
    assert main(["keys", "revoke", "bob"]) == 0
    capsys.readouterr()

    assert main(["keys", "list"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == ["alice", "bob"]
    assert lines[0].endswith("active") and "revoked" in lines[1]
    assert token not in "\n".join(lines)


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["keys", "create", "bad name"], 2, "Invalid key name"),
        (["keys", "revoke", "nobody"], 1, "no key named"),
    ],
)
def test_key_command_errors(
    environment: dict[str, Any], capsys: pytest.CaptureFixture[str], argv: list[str],
    code: int, message: str,
) -> None:
    assert main(argv) == code
    assert message in capsys.readouterr().err


def test_a_key_name_cannot_be_created_twice(
    environment: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "alice"]) == 0
    assert main(["keys", "create", "alice"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_db_current_fails_on_an_empty_database(
    environment: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "fresh"))
    monkeypatch.setenv("DATABASE_URL", "")

    assert main(["db", "current"]) == 1
    assert "none (empty)" in capsys.readouterr().out
