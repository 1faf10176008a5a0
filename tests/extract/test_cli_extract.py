"""``triangulate extract FILE`` prints the drafts of POST /v1/extract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from service.cli.main import main
from service.config import SETTINGS


@pytest.fixture(autouse=True)
def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))


def test_extract_prints_the_drafts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    article = tmp_path / "article.html"
    article.write_text("<p>Police said more than 100,000 people marched.</p>", encoding="utf-8")
    assert main(["extract", str(article)]) == 0
    body = json.loads(capsys.readouterr().out)
    [claim] = body["quantities"][0]["claims"]
    assert (claim["kind"], claim["value"]) == ("at_least", 100000)


def test_a_binary_file_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blob = tmp_path / "photo.txt"
    blob.write_bytes(b"\x89PNG\x00\x00")
    assert main(["extract", str(blob)]) == 1
    assert json.loads(capsys.readouterr().err)["status"] == 422


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["extract", str(tmp_path / "none.txt")]) == 2
