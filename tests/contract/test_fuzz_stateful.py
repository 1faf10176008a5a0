"""Stateful fuzzing: schemathesis follows the document's OpenAPI links through real resources.

The stateless fuzzer (``test_fuzz_openapi.py``) sends random ids, so reads and changes of a
stored question, source or claim mostly meet 404. Here schemathesis builds a state machine from
the links of ``/openapi.json`` (:mod:`service.http.links`): create a question, then read,
edit (If-Match from the ETag), resolve, add claims, estimate, plot; create a claim, then edit,
retract, read its history; and so on, in random sequences of up to :data:`STEPS` calls, with
valid and invalid data mixed at every step.

Every response passes schemathesis' built-in checks except ``positive_data_acceptance`` (see
:data:`EXCLUDED`), among them: no 5xx; documented status codes, content types, headers and
body schemas; ``ignored_auth`` (each write is re-sent without a key and with a wrong key and
must get 401); ``ensure_resource_availability`` (what a 201 created can be read at once);
``negative_data_rejection`` (a request that breaks the schema is refused).

Each scenario starts from the same stored state (a copy of a seeded SQLite file), so that what
one scenario stored cannot change another's answers. Schemathesis still follows each link
parameter with a probability drawn outside Hypothesis' record, so a replayed prefix can take
another branch and Hypothesis stops with ``FlakyStrategyDefinition``; the test then starts a new
run until :data:`SCENARIOS` have run, as schemathesis' own runner does, and keeps every check
failure it saw (see ``failures``).

``FUZZ_SCENARIOS`` sets the number of scenarios (default :data:`DEFAULT_SCENARIOS`, what CI
runs); ``make fuzz`` runs more.
"""

from __future__ import annotations

import collections
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, seed, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis.specs.openapi.checks import positive_data_acceptance

from models.claims import CLAIM_NUMBERS, KIND_NUMBERS
from service import create_app
from service.config import SETTINGS, defaults
from service.http.database import get_database
from service.http.links import LINKS
from service.store.engine import SQLITE_FILE
from service.store.inputs import SourceInput
from service.store.repository import Repository

#: Scenarios in CI; each is one sequence of linked calls.
DEFAULT_SCENARIOS = 300
SCENARIOS = int(os.environ.get("FUZZ_SCENARIOS", str(DEFAULT_SCENARIOS)))
#: Most calls in one scenario.
STEPS = 15
#: Most Hypothesis runs to reach SCENARIOS (a run ends early when a replay flakes, see below).
MAX_SUITES = 50
#: Longest source id the claim schemas take (longer ones are invalid on purpose).
SOURCE_ID_LENGTH = 128
#: scrypt cost of the throw-away key (the stored parameters make verification as cheap).
KEY_COST = 2**10
#: Sources stored before every scenario, so that generated claims can name one that exists
#: (the document cannot link a claim's body to a source created in another branch).
SEEDED_SOURCES = ("wire", "ministry", "anonymous")
#: ``positive_data_acceptance`` expects every schema-valid body to be accepted. Ours are
#: refused with 422 when they break a rule JSON Schema cannot state: a range's low above its
#: high, a value missing for its kind, a claim naming a source that does not exist. The
#: stateless property tests (tests/http/test_api_properties.py) cover valid bodies instead.
EXCLUDED = [positive_data_acceptance]


def _build() -> tuple[Flask, str, Path]:
    """The app on a seeded SQLite file, its API key, and a pristine copy of that file."""
    data_dir = Path(tempfile.mkdtemp(prefix="triangulate-stateful-"))
    with pytest.MonkeyPatch.context() as patch:
        for setting in SETTINGS:
            patch.delenv(setting.name, raising=False)
        app = create_app(
            {**defaults(), "DATA_DIR": str(data_dir), "TESTING": True, "WRITE_RATE_LIMIT": "off"}
        )
    with app.app_context():
        with get_database().session() as session:
            repository = Repository(session)
            key = repository.create_key("fuzzer", cost=KEY_COST)
            for grade, source in zip("BCF", SEEDED_SOURCES, strict=True):
                repository.create_source(
                    SourceInput(id=source, reliability=grade), "fuzzer"
                )
        get_database().dispose()
    template = data_dir / "template.sqlite3"
    shutil.copyfile(data_dir / SQLITE_FILE, template)
    return app, key, template


APP, KEY, TEMPLATE = _build()
HEADERS = {"Authorization": f"Bearer {KEY}"}
schema = schemathesis.openapi.from_wsgi("/openapi.json", APP)
# Only the document's own links: inferred ones (from list responses, from names) would test
# schemathesis' guesses, and dilute the budget with links that extract nothing.
schema.config.phases.stateful.inference.algorithms = []


def _reset_database() -> None:
    """Put the seeded file back; the next connection opens it afresh."""
    with APP.app_context():
        get_database().dispose()
    database = Path(APP.config["DATA_DIR"]) / SQLITE_FILE
    for suffix in ("-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(TEMPLATE, database)


def _existing_source(generated: str) -> str:
    """A seeded source picked by the generated id: deterministic, so replays stay identical."""
    digest = hashlib.sha256(generated.encode("utf-8", "surrogatepass")).digest()
    return SEEDED_SOURCES[digest[0] % len(SEEDED_SOURCES)]


def _number_or_null(value: Any) -> bool:
    return value is None or (isinstance(value, float | int) and not isinstance(value, bool))


def _reach_storage(body: dict[str, Any]) -> None:
    """Nudge a generated claim body towards one the service stores, in place.

    Three rules of a claim are beyond the document's JSON Schema, so generated bodies mostly
    break them and stop at 422 before any claim exists to follow links from: the source must
    exist (a seeded one is named instead of a random id), a kind takes only its own numbers
    (the others are dropped here, as :data:`models.claims.KIND_NUMBERS` says; a point keeps sd
    or its interval, not both), and needs them (a missing one is filled in), and the numbers
    must be in order (low ≤ high, ci_low ≤ value ≤
    ci_high; sorted here). Values of the wrong type or length are left alone, so invalid bodies
    stay invalid; the stateless fuzzer sends the unordered ones.
    """
    kind = body.get("kind")
    if isinstance(kind, str) and kind in KIND_NUMBERS:
        allowed = {name for variant in KIND_NUMBERS[kind] for name in variant}
        if "sd" in body:
            allowed -= {"ci_low", "ci_high"}
        for name in CLAIM_NUMBERS:
            # Only numbers (and nulls) are dropped: a value of the wrong type is what makes
            # a negative case negative, and dropping it would send a valid body that
            # schemathesis still expects to be refused.
            if name not in allowed and _number_or_null(body.get(name)):
                body.pop(name, None)
        # The numbers every variant of the kind needs: a missing one is filled in. The
        # document cannot mark them required (they depend on kind), so a body without them is
        # schema-valid, and filling them keeps a negative case negative.
        for name, filler in zip(KIND_NUMBERS[kind][0], (400.0, 4000.0), strict=False):
            body.setdefault(name, filler)
    source = body.get("source")
    if isinstance(source, str) and 0 < len(source) <= SOURCE_ID_LENGTH:
        body["source"] = _existing_source(source)
    for names in (("low", "high"), ("ci_low", "value", "ci_high")):
        numbers = [body.get(name) for name in names]
        if all(isinstance(x, float | int) and not isinstance(x, bool) for x in numbers):
            body.update(zip(names, sorted(numbers), strict=True))  # type: ignore[type-var]


@pytest.fixture(scope="module", autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    with APP.app_context():
        get_database().dispose()
    shutil.rmtree(APP.config["DATA_DIR"], ignore_errors=True)


def test_linked_sequences_conform() -> None:
    """Random sequences along the links: every response passes every check."""
    calls: collections.Counter[tuple[str, int]] = collections.Counter()
    linked: collections.Counter[str] = collections.Counter()
    failures: list[str] = []
    scenarios = 0

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            nonlocal scenarios
            scenarios += 1
            _reset_database()

        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": HEADERS}

        def before_call(self, case: Any) -> None:
            body = case.body
            if "/claims" in case.operation.path and isinstance(body, dict):
                _reach_storage(body)

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            calls[(case.operation.label, response.status_code)] += 1
            if 200 <= response.status_code < 300 and "{" in case.operation.path:
                linked[case.operation.label] += 1

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                case.validate_response(
                    response, excluded_checks=EXCLUDED, headers=HEADERS,
                    transport_kwargs=kwargs or None, recorder=self.recorder,
                )
            except Exception as exc:
                failures.append(f"{case.operation.label}: {exc}")  # kept even if a replay flakes
                raise

    # Every operation a link leads to must be reached with an id that exists (a 2xx): the
    # links were followed, not just declared. Link-following draws coins outside Hypothesis,
    # so a rare target (a plot needs a question with a usable claim) may take more scenarios:
    # the run goes on, in budgets of SCENARIOS, up to twice that many.
    targets = {link.operation_id for links in LINKS.values() for link in links.values()}

    def unreached() -> set[str]:
        return targets - {_operation_id(label) for label in linked}

    suites = 0
    while (
        (scenarios < SCENARIOS or unreached()) and scenarios < 2 * SCENARIOS
        and suites < MAX_SUITES
    ):
        suites += 1
        budget = (SCENARIOS if scenarios < SCENARIOS else 2 * SCENARIOS) - scenarios
        try:
            seed(suites)(Machine).run(
                settings=settings(
                    max_examples=budget,
                    stateful_step_count=STEPS,
                    phases=[Phase.generate],
                    deadline=None,
                    suppress_health_check=list(HealthCheck),
                    database=None,
                )
            )
        except FlakyStrategyDefinition:
            # Schemathesis follows each link parameter with a probability drawn outside
            # Hypothesis' record (use_true_random), so a replayed prefix can take another
            # branch; its own runner then starts a new suite, and so does this loop. A check
            # failure is never lost this way: `failures` holds it.
            continue
    total = sum(calls.values())
    print(f"stateful fuzz: {scenarios} scenarios in {suites} suites, {total} requests")
    for (label, status), count in sorted(calls.items()):
        print(f"  {label} -> {status}: {count}")  # shown with pytest -s
    assert not failures, failures[:3]
    assert scenarios >= SCENARIOS, f"only {scenarios} scenarios in {suites} suites"
    assert not unreached(), f"never reached with a stored id: {sorted(unreached())}"


def _operation_id(label: str) -> str:
    method, path = label.split(" ", 1)
    operation = schema.raw_schema["paths"][path][method.lower()]
    return str(operation["operationId"])
