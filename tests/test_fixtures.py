"""Golden fixtures: every ``fixtures/*.json`` through the app, one test per file.

The comparison logic is :mod:`service.cli.golden`, shared with ``triangulate check fixtures/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from service.cli import golden

FIXTURES_DIR = Path(__file__).resolve().parent.parent / "fixtures"
FIXTURES = golden.find_fixtures(FIXTURES_DIR)


def test_there_are_fixtures_with_provenance() -> None:
    assert FIXTURES, f"no golden fixtures in {FIXTURES_DIR}"
    for path in FIXTURES:
        fixture = json.loads(path.read_text(encoding="utf-8"))
        provenance = fixture.get("provenance")
        assert isinstance(provenance, dict) and provenance, f"{path.name} has no provenance"


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_golden_fixture(client: FlaskClient, path: Path) -> None:
    outcome = golden.run_fixture(path, client)

    assert outcome.passed, outcome.line()
