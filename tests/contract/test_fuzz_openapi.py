"""Schemathesis fuzzes every operation of the service's own ``/openapi.json``, in process.

The app runs on a fresh SQLite ``DATA_DIR`` with a test API key, so writes get past the key
check and reach the schemas and the repository. Every response must pass four checks: no 5xx
(``not_a_server_error``), a status code the document lists for the operation, the documented
content type, and a body that validates against the documented schema.

``FUZZ_EXAMPLES`` sets the examples per operation (default :data:`DEFAULT_EXAMPLES`, what CI
runs); ``make fuzz`` runs more.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from service import create_app
from service.config import SETTINGS, defaults
from service.http.database import get_database
from service.store.repository import Repository

#: Examples per operation in CI (each operation gets its own Hypothesis run).
DEFAULT_EXAMPLES = 300
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", str(DEFAULT_EXAMPLES)))
#: scrypt cost of the throw-away key (the stored parameters make verification as cheap).
KEY_COST = 2**10
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _build_app() -> Flask:
    """The app on a fresh SQLite database, whatever the developer's environment says.

    Built when the module is collected, to make one test per operation (schemathesis' own
    ``from_fixture``/``parametrize`` fail on pytest 9: they set ``Function._nodeid``).
    """
    data_dir = tempfile.mkdtemp(prefix="triangulate-fuzz-")
    with pytest.MonkeyPatch.context() as patch:
        for setting in SETTINGS:
            patch.delenv(setting.name, raising=False)
        # No write rate limit: 300 writes per operation would mostly get (documented) 429s
        # instead of reaching the schemas; tests/store/test_security.py covers the limit.
        return create_app(
            {**defaults(), "DATA_DIR": data_dir, "TESTING": True, "WRITE_RATE_LIMIT": "off"}
        )


APP = _build_app()
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)


@pytest.fixture(scope="module")
def fuzz_key() -> Iterator[str]:
    """An API key on the fuzzed app's database; the database is deleted afterwards."""
    with APP.app_context(), get_database().session() as session:
        key = Repository(session).create_key("fuzzer", cost=KEY_COST)
    yield key
    with APP.app_context():
        get_database().dispose()
    shutil.rmtree(APP.config["DATA_DIR"], ignore_errors=True)


#: Every operation of the document (a broken one would fail here, at collection).
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_operation_conforms(operation: Any, fuzz_key: str) -> None:
    """Valid and invalid requests alike get a documented, well-formed, non-5xx answer."""
    cases = st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )
    headers = {"Authorization": f"Bearer {fuzz_key}"}

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        calls.append(case.method)
        case.call_and_validate(headers=headers, checks=CHECKS)

    calls: list[str] = []
    check()
    print(f"fuzz: {operation.label}: {len(calls)} requests")  # shown with pytest -s
    # call_and_validate raises on any failed check; this guards against a run that sent nothing.
    assert calls, f"no request generated for {operation.label}"
