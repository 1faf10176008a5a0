"""The ``triangulate`` command line, called through :func:`service.cli.main`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.cli.main import main
from service.config import SETTINGS


@pytest.fixture(autouse=True)
def _default_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # The CLI builds its app from the environment; keep the developer's out of the tests, and
    # the database out of the working tree.
    for setting in SETTINGS:
        monkeypatch.delenv(setting.name, raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))


def _write(path: Path, content: Any) -> Path:
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_reconcile_prints_the_result(
    tmp_path: Path, troop_body: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["reconcile", str(_write(tmp_path / "troops.json", troop_body))])

    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("{\n  ")  # indented by 2
    result = json.loads(out)
    assert [c["source"] for c in result["claims"]] == ["nis", "zelensky", "anon-media"]


def test_reconcile_prints_the_problem_on_refusal(
    tmp_path: Path, troop_body: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    troop_body["levels"] = [1.5]

    code = main(["reconcile", str(_write(tmp_path / "bad.json", troop_body))])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    problem = json.loads(captured.err)
    assert problem["status"] == 422
    assert "levels.0" in problem["errors"]


def test_reconcile_malformed_file_is_a_400_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["reconcile", str(_write(tmp_path / "broken.json", "{nope"))])

    assert code == 1
    assert json.loads(capsys.readouterr().err)["status"] == 400


def test_reconcile_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["reconcile", str(tmp_path / "absent.json")])

    assert code == 2
    assert "cannot read" in capsys.readouterr().err


def test_reconcile_bad_setting(
    tmp_path: Path,
    troop_body: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("MAX_CLAIMS", "many")

    code = main(["reconcile", str(_write(tmp_path / "troops.json", troop_body))])

    assert code == 2
    assert "Invalid MAX_CLAIMS 'many'" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["frobnicate"], ["reconcile"], ["check", "a", "b"]])
def test_usage_errors(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage:" in capsys.readouterr().err


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "reconcile" in capsys.readouterr().out


def _fixture(expected_value: float) -> dict[str, Any]:
    return {
        "name": "one-claim",
        "description": "A single claim from an A source.",
        "input": {
            "sources": [{"id": "a", "reliability": "A"}],
            "claims": [{"source": "a", "kind": "point", "value": 1000}],
        },
        "expected": {"estimate.value": {"value": expected_value, "rtol": 0.1}},
        "provenance": {"derivation": "a single claim is its own estimate"},
    }


def test_check_all_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "one-claim.json", _fixture(1000))

    code = main(["check", str(tmp_path)])

    assert code == 0
    assert capsys.readouterr().out.splitlines() == ["PASS one-claim", "1 passed, 0 failed"]


def test_check_reports_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path / "a-good.json", _fixture(1000))
    _write(tmp_path / "b-wrong.json", _fixture(5000))
    _write(tmp_path / "c-no-provenance.json", {**_fixture(1000), "provenance": None})

    code = main(["check", str(tmp_path)])

    lines = capsys.readouterr().out.splitlines()
    assert code == 1
    assert lines[0] == "PASS a-good"
    assert lines[1].startswith("FAIL b-wrong: estimate.value: got ")
    assert lines[2] == "FAIL c-no-provenance: missing provenance object"
    assert lines[3] == "1 passed, 2 failed"


def test_check_empty_directory_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(tmp_path)])

    captured = capsys.readouterr()
    assert code == 1
    assert captured.out.splitlines() == ["0 passed, 0 failed"]
    assert "no fixtures" in captured.err


def test_check_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(tmp_path / "absent")]) == 2
    assert "not a directory" in capsys.readouterr().err


def test_the_package_runs_as_a_module() -> None:
    """``python -m service.cli`` is the ``triangulate`` command (a fresh clone without the
    console script on PATH); it was an error, as a package has no __main__ of its own."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-m", "service.cli", "--help"], cwd=root,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "usage: triangulate" in done.stdout
