"""A Python client generated from the served /openapi.json with openapi-python-client works.

What must hold:

* generation prints no warning and no error (a warning means the generator skipped an
  operation, a schema or a response: the client is missing part of the API);
* every operation of the document is in the generated client (``api/<tag>/<operationId>.py``,
  with ``sync_detailed``), and parses every response status the document gives it;
* the client, used as a person would, talks to a live server (werkzeug's, on a free port of
  127.0.0.1): reconcile the troop case, create a source and a question with an API key, add a
  claim, read the question's estimate and its plot.

The one setting the generator gets besides the package name maps the plots' media types
(``image/svg+xml``, ``image/png``) to ``application/octet-stream``: openapi-python-client parses
only JSON, text and octet-stream responses, and would otherwise leave the plot responses out
(with a warning). The document itself stays truthful about what the plots are.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import subprocess
import sys
import typing
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from openapi_python_client.strings import snake_case

from service.http.database import get_database
from service.store.repository import Repository
from tests.conftest import TROOP_CASE
from tests.http.live import fresh_app, serving

PACKAGE = "triangulate_client"
#: scrypt cost of the test's throw-away key (verification reads it from the stored key).
KEY_COST = 2**10
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")
#: Media types of the plots, which the generated client returns as bytes.
IMAGE_TYPES = ("image/svg+xml", "image/png")
#: Lines of the generator's output that report something left out or wrong.
COMPLAINT = re.compile(r"warning|error|unable|cannot|could not|not be generated|skipp", re.I)


@dataclass(frozen=True)
class Live:
    base: str
    key: str


@dataclass(frozen=True)
class Generated:
    output: str
    returncode: int
    package: ModuleType | None


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The app at default settings on a fresh DATA_DIR, served in a thread, and an API key."""
    app = fresh_app(tmp_path_factory.mktemp("client-data"))
    with app.app_context(), get_database().session() as session:
        key = Repository(session).create_key("generated-client", cost=KEY_COST)
    try:
        with serving(app, "client-server") as base:
            yield Live(base, key)
    finally:
        with app.app_context():
            get_database().dispose()


@pytest.fixture(scope="module")
def document(live: Live) -> dict[str, Any]:
    with urllib.request.urlopen(live.base + "/openapi.json", timeout=15) as response:
        served: dict[str, Any] = json.load(response)
    return served


@pytest.fixture(scope="module")
def generated(
    document: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Generated]:
    """Run the generator on the served document; import the package it wrote, if any."""
    work = tmp_path_factory.mktemp("generated-client")
    spec = work / "openapi.json"
    spec.write_text(json.dumps(document))
    config = work / "config.json"
    # No post hooks: the test judges the generator's own output, not a formatter's. The plots
    # are images, a response type the generator does not know: it is told to hand them over as
    # bytes (its documented way for binary types other than application/octet-stream).
    config.write_text(json.dumps({
        "package_name_override": PACKAGE,
        "post_hooks": [],
        "content_type_overrides": {kind: "application/octet-stream" for kind in IMAGE_TYPES},
    }))
    result = subprocess.run(
        [sys.executable, "-m", "openapi_python_client", "generate", "--path", str(spec),
         "--config", str(config), "--meta", "none", "--output-path", str(work / PACKAGE)],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    package = None
    if (work / PACKAGE / "__init__.py").is_file():
        sys.path.insert(0, str(work))
        package = importlib.import_module(PACKAGE)
    try:
        yield Generated(result.stdout + result.stderr, result.returncode, package)
    finally:
        if str(work) in sys.path:
            sys.path.remove(str(work))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method.upper(), path, item[method]


def operation_module(generated: Generated, operation: dict[str, Any]) -> ModuleType:
    """The generated module of ``operation`` (``api.<tag>.<operation id>``)."""
    assert generated.package is not None, f"No client was generated:\n{generated.output}"
    tag = snake_case((operation.get("tags") or ["default"])[0])
    name = f"{PACKAGE}.api.{tag}.{snake_case(operation['operationId'])}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        pytest.fail(f"{operation['operationId']} was not generated ({name}):\n{generated.output}")


def test_generation_prints_no_warnings(generated: Generated) -> None:
    complaints = [line for line in generated.output.splitlines() if COMPLAINT.search(line)]

    assert generated.returncode == 0, generated.output
    assert not complaints, f"openapi-python-client complained:\n{generated.output}"


def test_every_operation_is_generated(document: dict[str, Any], generated: Generated) -> None:
    assert generated.package is not None, f"No client was generated:\n{generated.output}"
    missing: list[str] = []
    unparsed: list[str] = []
    for method, path, operation in operations(document):
        label = f"{method} {path} ({operation['operationId']})"
        tag = snake_case((operation.get("tags") or ["default"])[0])
        name = f"{PACKAGE}.api.{tag}.{snake_case(operation['operationId'])}"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            missing.append(label)
            continue
        assert callable(getattr(module, "sync_detailed", None)), label
        source = Path(str(module.__file__)).read_text()
        for status in operation["responses"]:
            if status != "default" and f"response.status_code == {status}" not in source:
                unparsed.append(f"{label}: {status}")

    assert not missing, f"Operations not generated: {missing}\n{generated.output}"
    assert not unparsed, f"Responses the client does not parse: {unparsed}\n{generated.output}"


def body_of(module: ModuleType, payload: dict[str, Any]) -> Any:
    """``payload`` as the model the operation's ``body`` takes (a variant, for a union)."""
    hint = typing.get_type_hints(module.sync_detailed)["body"]
    candidates = typing.get_args(hint) or (hint,)
    for model in candidates:
        if not hasattr(model, "from_dict"):
            continue
        try:
            body = model.from_dict(copy.deepcopy(payload))
        except (KeyError, TypeError, ValueError):
            continue
        if body.to_dict() == payload:
            return body
    pytest.fail(f"No model of {hint} represents {payload}")


def call(module: ModuleType, client: Any, expected: int, **arguments: Any) -> Any:
    response = module.sync_detailed(client=client, **arguments)
    assert response.status_code == expected, response.content[:500]
    assert response.parsed is not None, response.content[:500]
    served = json.loads(response.content)
    assert response.parsed.to_dict() == served
    return response.parsed


def test_client_against_live_server(
    live: Live, document: dict[str, Any], generated: Generated
) -> None:
    assert generated.package is not None, f"No client was generated:\n{generated.output}"
    by_id = {operation["operationId"]: operation for _, _, operation in operations(document)}

    def module(operation_id: str) -> ModuleType:
        return operation_module(generated, by_id[operation_id])

    client_module = importlib.import_module(f"{PACKAGE}.client")
    with (
        client_module.Client(base_url=live.base, raise_on_unexpected_status=True) as anonymous,
        client_module.AuthenticatedClient(
            base_url=live.base, token=live.key, raise_on_unexpected_status=True
        ) as keyed,
    ):
        # Stateless: the troop case.
        reconcile = module("postReconcile")
        result = call(reconcile, anonymous, 200, body=body_of(reconcile, copy.deepcopy(TROOP_CASE)))
        assert 1500 < result.estimate.value < 12000

        # Stored: a source, a question, a claim, the question's estimate.
        create_source = module("createSource")
        source = call(
            create_source, keyed, 201,
            body=body_of(create_source, {"id": "nis", "name": "South Korea NIS",
                                         "type": "intelligence_agency", "reliability": "B"}),
        )
        assert source.id == "nis"
        create_question = module("createQuestion")
        question = call(
            create_question, keyed, 201,
            body=body_of(create_question, {"title": "North Korean soldiers in Russia",
                                           "unit": "soldiers", "scale": "log"}),
        )
        create_claim = module("createClaim")
        claim = call(
            create_claim, keyed, 201, question_id=question.id,
            body=body_of(create_claim, {"source": "nis", "kind": "point", "value": 1500}),
        )
        assert claim.source == "nis"
        estimate = call(module("getEstimate"), anonymous, 200, question_id=question.id)
        assert estimate.estimate.value == pytest.approx(1500)

        # The question's forest plot, as bytes (SVG by default).
        plot = module("getQuestionPlot").sync_detailed(client=anonymous, question_id=question.id)
        assert plot.status_code == 200, plot.content[:500]
        assert plot.headers["content-type"].startswith("image/svg+xml")
        assert plot.parsed.payload.read() == plot.content
        assert b"<svg" in plot.content
