"""The generated OpenAPI document is the contract: any change to it shows up as a diff.

Regenerate the snapshot after an intended change with::

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/contract
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from service.http.problems import PROBLEM_MIMETYPE

SNAPSHOT = Path(__file__).with_name("openapi.snapshot.json")
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.get_json()
    return document


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_openapi_matches_snapshot(client: FlaskClient) -> None:
    current = _dump(_document(client))

    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(current, encoding="utf-8")
        return
    assert SNAPSHOT.exists(), (
        f"{SNAPSHOT} is missing; create it with UPDATE_SNAPSHOTS=1 and review it"
    )
    committed = SNAPSHOT.read_text(encoding="utf-8")
    assert current == committed, (
        "The OpenAPI document changed. If intended, regenerate the snapshot with "
        "UPDATE_SNAPSHOTS=1 and commit the diff."
    )


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    target: Any = document
    for step in ref.removeprefix("#/").split("/"):
        target = target[step]
    resolved: dict[str, Any] = target
    return resolved


def test_every_operation_documents_problem_errors(client: FlaskClient) -> None:
    document = _document(client)
    operations = [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]
    assert operations

    for path, method, operation in operations:
        errors = {
            status: _resolve(document, response)
            for status, response in operation["responses"].items()
            if status == "default" or int(status) >= 400
        }
        assert errors, f"{method.upper()} {path} documents no error response"
        for status, response in errors.items():
            content = response.get("content", {})
            assert list(content) == [PROBLEM_MIMETYPE], (
                f"{method.upper()} {path} {status} is not documented as {PROBLEM_MIMETYPE}"
            )
            schema = _resolve(document, content[PROBLEM_MIMETYPE]["schema"])
            assert {"type", "title", "status", "detail", "instance"} <= set(schema["required"])


def test_reconcile_documents_its_error_statuses(client: FlaskClient) -> None:
    responses = _document(client)["paths"]["/v1/reconcile"]["post"]["responses"]

    assert {"200", "400", "413", "415", "422", "500", "default"} <= set(responses)


def test_openapi_version_and_title(client: FlaskClient) -> None:
    document = _document(client)

    assert document["openapi"] == "3.0.3"
    assert document["info"]["title"] == "Triangulate"


def test_reliability_is_a_oneof_grade_or_number(client: FlaskClient) -> None:
    schemas = _document(client)["components"]["schemas"]
    reliability = schemas["Source"]["properties"]["reliability"]

    kinds = {alternative["type"]: alternative for alternative in reliability["oneOf"]}
    assert kinds["string"]["enum"] == ["A", "B", "C", "D", "E", "F"]
    number = kinds["number"]
    assert (number["minimum"], number["maximum"]) == (0, 1)
    assert number["exclusiveMinimum"] is True and number["exclusiveMaximum"] is True


def test_limits_follow_configuration(app_factory: Any) -> None:
    client = app_factory(MAX_CLAIMS=7, MAX_SOURCES=3).test_client()

    request = _document(client)["components"]["schemas"]["ReconcileRequest"]["properties"]

    assert request["claims"]["maxItems"] == 7
    assert request["sources"]["maxItems"] == 3


def test_every_response_field_is_described(client: FlaskClient) -> None:
    schemas = _document(client)["components"]["schemas"]
    response_schemas = [
        "ReconcileResponse",
        "Estimate",
        "Interval",
        "ClaimResult",
        "SourceResult",
        "Disagreement",
        "Conflict",
        "Heterogeneity",
        "Prediction",
        "Warning",
    ]
    for name in response_schemas:
        for field, spec in schemas[name]["properties"].items():
            assert spec.get("description"), f"{name}.{field} has no description"


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    found: dict[str, tuple[str, dict[str, Any]]] = {}
    for path, item in document["paths"].items():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation_id = operation["operationId"]
                assert operation_id not in found, f"operationId {operation_id} used twice"
                found[operation_id] = (path, operation)
    return found


def test_operation_ids_are_unique_and_links_lead_somewhere(client: FlaskClient) -> None:
    """Every operation has its own id; every link names an operation of the document and
    fills only path parameters that operation has, or its If-Match header."""
    operations = _operations(_document(client))
    assert {"createClaim", "createQuestion", "createSource"} <= set(operations)
    links = 0
    for _, (_, operation) in operations.items():
        for response in operation["responses"].values():
            for name, link in response.get("links", {}).items():
                links += 1
                assert link["operationId"] in operations, name
                target_path, _ = operations[link["operationId"]]
                for parameter in link["parameters"]:
                    location, _, bare = parameter.rpartition(".")
                    assert location == "header" or "{" + bare + "}" in target_path, (name, bare)
    assert links >= 60
