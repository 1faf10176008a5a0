"""The golden-fixture comparison of :mod:`service.cli.golden`, on hand-made documents and files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.cli import golden

DOC: dict[str, Any] = {
    "estimate": {"value": 100.0, "intervals": [{"level": 0.5, "low": 90, "high": 110}]},
    "claims": [{"weight": 0.25, "outlier": True}, {"weight": 0.75, "outlier": False}],
    "explanation": "The claims agree.",
    "warnings": [{"code": "single_claim"}],
    "method": "robust",
    "se": None,
    "errors": {"claims.0.value": ["Bad."], "claims.0": ["Whole claim."]},
}


@pytest.mark.parametrize(
    ("path", "want"),
    [
        ("estimate.value", 100.0),
        ("estimate.intervals.0.high", 110),
        ("claims.1.outlier", False),
        ("claims.-1.weight", 0.75),
        ("se", None),
        ("errors.claims.0.value.0", "Bad."),
        ("errors.claims.0", ["Whole claim."]),
    ],
)
def test_resolve(path: str, want: Any) -> None:
    assert golden.resolve(DOC, path) == want


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("estimate.nope", "no key 'nope' in estimate"),
        ("claims.2.weight", "index 2 out of range in claims"),
        ("claims.first", "is a list"),
        ("method.x", "not an object or a list"),
    ],
)
def test_resolve_errors(path: str, reason: str) -> None:
    with pytest.raises(golden.PathError, match=reason):
        golden.resolve(DOC, path)


PASSING: list[tuple[str, dict[str, Any]]] = [
    ("estimate.value", {"value": 100.0}),
    ("estimate.value", {"value": 100.0 * (1 + 1e-12)}),
    ("estimate.value", {"value": 101, "rtol": 0.01}),
    ("estimate.value", {"value": 99, "atol": 1}),
    ("estimate.value", {"value": 98.1, "atol": 1, "rtol": 0.01}),
    ("estimate.value", {"between": [90, 100]}),
    ("estimate.value", {"at_least": 100, "at_most": 100}),
    ("claims.0.outlier", {"equals": True}),
    ("estimate.intervals.0.low", {"equals": 90.0}),
    ("warnings.0", {"equals": {"code": "single_claim"}}),
    ("explanation", {"contains": "agree"}),
    ("warnings", {"contains": {"code": "single_claim"}}),
    ("claims.1.weight", {"greater_than_path": "claims.0.weight"}),
    ("estimate.intervals.0.low", {"less_than_path": "estimate.value"}),
]


@pytest.mark.parametrize(("path", "spec"), PASSING, ids=[f"{p}-{sorted(s)}" for p, s in PASSING])
def test_passing_specs(path: str, spec: dict[str, Any]) -> None:
    assert golden.check_expected(DOC, {path: spec}) == []
    assert golden.check_expected(DOC, [{"path": path, **spec}]) == []


FAILING: list[tuple[str, dict[str, Any], str]] = [
    ("estimate.value", {"value": 100.001}, "expected 100.001"),
    ("estimate.value", {"value": 102, "rtol": 0.01}, "expected 102"),
    ("estimate.value", {"between": [101, 200]}, "between"),
    ("estimate.value", {"at_least": 101}, "at least"),
    ("estimate.value", {"at_most": 99}, "at most"),
    ("claims.0.outlier", {"equals": 1}, "expected 1"),
    ("estimate.value", {"equals": "100"}, "expected \"100\""),
    ("explanation", {"contains": "disagree"}, "not found"),
    ("warnings", {"contains": "single_claim"}, "not an element"),
    ("estimate.value", {"contains": "1"}, "string or a list"),
    ("claims.0.weight", {"greater_than_path": "claims.1.weight"}, "not above"),
    ("claims.1.weight", {"less_than_path": "claims.0.weight"}, "not below"),
    ("claims.1.weight", {"less_than_path": "claims.9.weight"}, "out of range"),
    ("method", {"value": 1}, "not a finite number"),
    ("se", {"at_least": 0}, "not a finite number"),
    ("estimate.missing", {"value": 1}, "no key"),
    ("estimate.value", {"valeu": 1}, "unknown spec keys"),
    ("estimate.value", {}, "checks nothing"),
    ("estimate.value", {"rtol": 0.1}, "only apply to value"),
    ("estimate.value", {"between": [1]}, "between must be"),
]


@pytest.mark.parametrize(
    ("path", "spec", "reason"), FAILING, ids=[f"{p}-{sorted(s)}" for p, s, _ in FAILING]
)
def test_failing_specs(path: str, spec: dict[str, Any], reason: str) -> None:
    failures = golden.check_expected(DOC, {path: spec})

    assert len(failures) == 1, failures
    assert failures[0].startswith(f"{path}: ")
    assert reason in failures[0]


@pytest.mark.parametrize("expected", ["x", 3, [{"value": 1}], {"a": 1}])
def test_malformed_expected(expected: Any) -> None:
    assert golden.check_expected(DOC, expected)


def test_json_equal_keeps_booleans_apart() -> None:
    assert golden.json_equal(1, 1.0)
    assert not golden.json_equal(True, 1)
    assert not golden.json_equal([0], [False])
    assert golden.json_equal({"a": [1, None]}, {"a": [1.0, None]})
    assert not golden.json_equal({"a": 1}, {"a": 1, "b": 2})


# --- Whole fixtures through the app -----------------------------------------------------------

BODY: dict[str, Any] = {
    "sources": [{"id": "a", "reliability": "A"}],
    "claims": [{"source": "a", "kind": "point", "value": 1000}],
}


def _write(directory: Path, name: str, fixture: Any) -> Path:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(fixture) if not isinstance(fixture, str) else fixture)
    return path


def _fixture(**changes: Any) -> dict[str, Any]:
    fixture = {
        "name": "single",
        "description": "One claim from an A source.",
        "input": BODY,
        "expected": {"estimate.value": {"between": [900, 1100]}, "claims.0.weight": {"value": 1}},
        "provenance": {"derivation": "a single claim is its own estimate, to within its spread"},
    }
    fixture.update(changes)
    return {k: v for k, v in fixture.items() if v is not None}


def test_run_fixture_passes(client: FlaskClient, tmp_path: Path) -> None:
    outcome = golden.run_fixture(_write(tmp_path, "single", _fixture()), client)

    assert outcome.passed, outcome.failures
    assert outcome.line() == "PASS single"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"expected": {}}, "missing or empty expected"),
        ({"expected": None}, "missing or empty expected"),
        ({"provenance": None}, "missing provenance"),
        ({"provenance": {}}, "missing provenance"),
        ({"provenance": "trust me"}, "missing provenance"),
        ({"input": None}, "missing input"),
        ({"name": None}, "missing name"),
        ({"expected_status": "200"}, "expected_status must be an integer"),
        ({"expected": {"estimate.value": {"value": 5}}}, "expected 5"),
        ({"input": {"sources": []}}, "HTTP 422, expected 200"),
    ],
)
def test_run_fixture_fails(
    client: FlaskClient, tmp_path: Path, changes: dict[str, Any], reason: str
) -> None:
    outcome = golden.run_fixture(_write(tmp_path, "bad", _fixture(**changes)), client)

    assert not outcome.passed
    assert reason in outcome.line()
    assert outcome.line().startswith("FAIL bad: ")


def test_run_fixture_with_expected_status(client: FlaskClient, tmp_path: Path) -> None:
    fixture = _fixture(
        input={**BODY, "levels": [1.5]},
        expected_status=422,
        expected=[
            {"path": "status", "equals": 422},
            {"path": "errors.levels.0.0", "contains": "between 0 and 1"},
        ],
    )

    outcome = golden.run_fixture(_write(tmp_path, "refused", fixture), client)

    assert outcome.passed, outcome.failures


def test_unreadable_fixture_fails(client: FlaskClient, tmp_path: Path) -> None:
    outcome = golden.run_fixture(_write(tmp_path, "broken", "{not json"), client)

    assert not outcome.passed
    assert "cannot read fixture" in outcome.line()


def test_run_directory_and_summary(client: FlaskClient, tmp_path: Path) -> None:
    _write(tmp_path, "b-good", _fixture())
    _write(tmp_path, "a-bad", _fixture(provenance=None))
    (tmp_path / "notes.txt").write_text("not a fixture")

    outcomes = golden.run_directory(tmp_path, client)

    assert [o.name for o in outcomes] == ["a-bad", "b-good"]
    assert golden.summary(outcomes) == "1 passed, 1 failed"
