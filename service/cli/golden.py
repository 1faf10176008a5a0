"""Golden fixtures: run a stored request through the app and compare the answer.

A fixture is a JSON file::

    {
      "name": "troops-nk",
      "description": "…",
      "input": { …body of POST /v1/reconcile… },
      "expected": { "estimate.value": {"value": 1500, "rtol": 0.05}, … },
      "provenance": { "method": "…", "tool": "metafor 4.6-0", … },
      "expected_status": 200
    }

``expected`` is either a mapping ``{path: spec}`` or a list of ``{"path": path, …spec}``. A
*path* walks the response JSON with dots, integers indexing lists (``estimate.intervals.1.high``).
A *spec* holds one or more checks:

=====================  ==========================================================================
``value``              a number; passes when ``|got − value| ≤ atol + rtol·|value|``, with
                       ``rtol``/``atol`` from the spec (both default 0; rtol 1e-9 if neither given)
``between: [lo, hi]``  ``lo ≤ got ≤ hi``
``at_least``           ``got ≥ at_least``
``at_most``            ``got ≤ at_most``
``equals``             exact JSON equality (``true`` is not ``1``; ``1`` equals ``1.0``)
``contains``           substring of a string, or member of a list (JSON equality)
``greater_than_path``  ``got >`` the number at another path
``less_than_path``     ``got <`` the number at another path
=====================  ==========================================================================

A fixture fails when it cannot be read, lacks a non-empty ``expected`` or a ``provenance``
object, answers with another status than ``expected_status`` (default 200), or any check fails.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Protocol

__all__ = [
    "DEFAULT_RTOL",
    "Client",
    "Outcome",
    "PathError",
    "check_expected",
    "find_fixtures",
    "json_equal",
    "resolve",
    "run_directory",
    "run_fixture",
    "summary",
]

#: Relative tolerance when a ``value`` spec gives neither ``rtol`` nor ``atol``: tight enough to
#: mean "this number", loose enough to survive summation order across platforms.
DEFAULT_RTOL: Final = 1e-9
SPEC_KEYS: Final = frozenset(
    {
        "value",
        "rtol",
        "atol",
        "between",
        "at_least",
        "at_most",
        "equals",
        "contains",
        "greater_than_path",
        "less_than_path",
    }
)
CHECK_KEYS: Final = SPEC_KEYS - {"rtol", "atol"}
RECONCILE_PATH: Final = "/v1/reconcile"


class PathError(LookupError):
    """A dotted path that does not lead anywhere in the document."""


class _Response(Protocol):
    status_code: int

    def get_json(self, silent: bool = ...) -> Any: ...


class Client(Protocol):
    """What the runner needs of a Flask test client."""

    def post(self, path: str, *, json: Any) -> Any: ...


@dataclass(frozen=True, slots=True)
class Outcome:
    """Result of one fixture: its name (the file's stem) and the reasons it failed."""

    name: str
    failures: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.failures

    def line(self) -> str:
        """``PASS name`` or ``FAIL name: reason; reason``."""
        if self.passed:
            return f"PASS {self.name}"
        return f"FAIL {self.name}: {'; '.join(self.failures)}"


def resolve(document: Any, path: str) -> Any:
    """The value at dotted ``path`` in ``document``.

    Integer steps index lists (negative from the end). A key that itself contains dots is
    found too: ``errors.claims.0.value`` reaches ``{"errors": {"claims.0.value": [...]}}``.

    Raises
    ------
    PathError
        When a key is missing, an index is out of range or not an integer, or a step goes into
        a scalar.
    """
    return _walk(document, path.split("."), [])


def _walk(node: Any, steps: list[str], walked: list[str]) -> Any:
    if not steps:
        return node
    where = ".".join(walked) or "the document"
    if isinstance(node, Mapping):
        # Keys may contain dots themselves (a 422's errors are keyed "claims.0.value"): try the
        # step alone, then joined with the following steps, backtracking on a dead end.
        first_error: PathError | None = None
        for end in range(1, len(steps) + 1):
            key = ".".join(steps[:end])
            if key in node:
                try:
                    return _walk(node[key], steps[end:], [*walked, key])
                except PathError as exc:
                    first_error = first_error or exc
        raise first_error or PathError(f"no key {steps[0]!r} in {where}")
    if isinstance(node, list):
        try:
            index = int(steps[0])
        except ValueError:
            raise PathError(f"{where} is a list; {steps[0]!r} is not an index") from None
        if not -len(node) <= index < len(node):
            raise PathError(f"index {index} out of range in {where} (length {len(node)})")
        return _walk(node[index], steps[1:], [*walked, steps[0]])
    raise PathError(f"{where} is {json.dumps(node)}, not an object or a list")


def json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: booleans are not numbers, ``1 == 1.0``, deep for containers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and bool(a == b)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _number(x: Any, what: str) -> float:
    if not _is_number(x) or not math.isfinite(x):
        raise ValueError(f"{what} is {json.dumps(x)}, not a finite number")
    return float(x)


def _check(document: Any, path: str, spec: Mapping[str, Any]) -> list[str]:
    """Failures of one spec at ``path`` (empty when it holds)."""
    unknown = set(spec) - SPEC_KEYS
    if unknown:
        return [f"{path}: unknown spec keys {sorted(unknown)}"]
    if ("rtol" in spec or "atol" in spec) and "value" not in spec:
        return [f"{path}: rtol/atol only apply to value"]
    if not CHECK_KEYS & set(spec):
        return [f"{path}: the spec checks nothing (give value, between, equals, …)"]
    try:
        got = resolve(document, path)
    except PathError as exc:
        return [f"{path}: {exc}"]
    failures: list[str] = []
    for key in sorted(CHECK_KEYS & set(spec), key=_ORDER.index):
        try:
            problem = _CHECKS[key](document, got, spec)
        except (ValueError, PathError, TypeError) as exc:
            problem = str(exc)
        if problem:
            failures.append(f"{path}: {problem}")
    return failures


def _check_value(document: Any, got: Any, spec: Mapping[str, Any]) -> str | None:
    want = _number(spec["value"], "spec value")
    rtol = _number(spec.get("rtol", 0.0), "rtol")
    atol = _number(spec.get("atol", 0.0), "atol")
    if "rtol" not in spec and "atol" not in spec:
        rtol = DEFAULT_RTOL
    value = _number(got, "got")
    if abs(value - want) <= atol + rtol * abs(want):
        return None
    return f"got {value!r}, expected {want!r} (rtol {rtol:g}, atol {atol:g})"


def _check_between(document: Any, got: Any, spec: Mapping[str, Any]) -> str | None:
    bounds = spec["between"]
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise ValueError("between must be [lo, hi]")
    lo, hi = _number(bounds[0], "between lo"), _number(bounds[1], "between hi")
    value = _number(got, "got")
    return None if lo <= value <= hi else f"got {value!r}, expected between {lo!r} and {hi!r}"


def _check_at_least(document: Any, got: Any, spec: Mapping[str, Any]) -> str | None:
    bound, value = _number(spec["at_least"], "at_least"), _number(got, "got")
    return None if value >= bound else f"got {value!r}, expected at least {bound!r}"


def _check_at_most(document: Any, got: Any, spec: Mapping[str, Any]) -> str | None:
    bound, value = _number(spec["at_most"], "at_most"), _number(got, "got")
    return None if value <= bound else f"got {value!r}, expected at most {bound!r}"


def _check_equals(document: Any, got: Any, spec: Mapping[str, Any]) -> str | None:
    want = spec["equals"]
    if json_equal(got, want):
        return None
    return f"got {json.dumps(got)}, expected {json.dumps(want)}"


def _check_contains(document: Any, got: Any, spec: Mapping[str, Any]) -> str | None:
    want = spec["contains"]
    if isinstance(got, str):
        if not isinstance(want, str):
            raise ValueError(f"got a string; contains needs a string, not {json.dumps(want)}")
        return None if want in got else f"{json.dumps(want)} not found in {json.dumps(got)}"
    if isinstance(got, list):
        if any(json_equal(item, want) for item in got):
            return None
        return f"{json.dumps(want)} is not an element of {json.dumps(got)}"
    return f"got {json.dumps(got)}; contains needs a string or a list"


def _compare_path(document: Any, got: Any, spec: Mapping[str, Any], key: str) -> str | None:
    other_path = spec[key]
    if not isinstance(other_path, str):
        raise ValueError(f"{key} must be a dotted path")
    other = _number(resolve(document, other_path), other_path)
    value = _number(got, "got")
    if key == "greater_than_path":
        return None if value > other else f"got {value!r}, not above {other_path} = {other!r}"
    return None if value < other else f"got {value!r}, not below {other_path} = {other!r}"


def _check_greater(document: Any, got: Any, spec: Mapping[str, Any]) -> str | None:
    return _compare_path(document, got, spec, "greater_than_path")


def _check_less(document: Any, got: Any, spec: Mapping[str, Any]) -> str | None:
    return _compare_path(document, got, spec, "less_than_path")


_CHECKS: Final = {
    "value": _check_value,
    "between": _check_between,
    "at_least": _check_at_least,
    "at_most": _check_at_most,
    "equals": _check_equals,
    "contains": _check_contains,
    "greater_than_path": _check_greater,
    "less_than_path": _check_less,
}
_ORDER: Final = tuple(_CHECKS)


def _specs(expected: Any) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """(path, spec) pairs of either form of ``expected``; raises ValueError when malformed."""
    if isinstance(expected, Mapping):
        for path, spec in expected.items():
            if not isinstance(spec, Mapping):
                raise ValueError(f"expected[{path!r}] must be an object")
            yield path, spec
    elif isinstance(expected, list):
        for i, item in enumerate(expected):
            if not isinstance(item, Mapping) or not isinstance(item.get("path"), str):
                raise ValueError(f"expected[{i}] must be an object with a string path")
            yield item["path"], {k: v for k, v in item.items() if k != "path"}
    else:
        raise ValueError("expected must be an object or a list")


def check_expected(document: Any, expected: Any) -> list[str]:
    """Every failure of ``expected`` (either form) against the response ``document``."""
    failures: list[str] = []
    try:
        for path, spec in _specs(expected):
            failures.extend(_check(document, path, spec))
    except ValueError as exc:
        failures.append(str(exc))
    return failures


def _fixture_problems(fixture: Any) -> list[str]:
    if not isinstance(fixture, Mapping):
        return ["the fixture is not a JSON object"]
    problems = []
    if not isinstance(fixture.get("name"), str) or not fixture["name"]:
        problems.append("missing name")
    if not isinstance(fixture.get("input"), Mapping):
        problems.append("missing input object")
    if not fixture.get("expected") or not isinstance(fixture["expected"], Mapping | list):
        problems.append("missing or empty expected")
    if not isinstance(fixture.get("provenance"), Mapping) or not fixture["provenance"]:
        problems.append("missing provenance object")
    status = fixture.get("expected_status", 200)
    if not isinstance(status, int) or isinstance(status, bool):
        problems.append("expected_status must be an integer")
    return problems


def run_fixture(path: Path, client: Client) -> Outcome:
    """Post the fixture at ``path`` to ``/v1/reconcile`` and check the answer."""
    name = path.stem
    try:
        fixture = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return Outcome(name, (f"cannot read fixture: {exc}",))
    problems = _fixture_problems(fixture)
    if problems:
        return Outcome(name, tuple(problems))
    response = client.post(RECONCILE_PATH, json=fixture["input"])
    want_status = fixture.get("expected_status", 200)
    document = response.get_json(silent=True)
    if response.status_code != want_status:
        detail = document.get("detail") if isinstance(document, Mapping) else None
        reason = f"HTTP {response.status_code}, expected {want_status}"
        return Outcome(name, (f"{reason}: {detail}" if detail else reason,))
    if document is None:
        return Outcome(name, ("the response is not JSON",))
    return Outcome(name, tuple(check_expected(document, fixture["expected"])))


def find_fixtures(directory: Path) -> list[Path]:
    """The ``*.json`` fixtures of ``directory``, sorted by name."""
    return sorted(directory.glob("*.json"))


def run_directory(directory: Path, client: Client) -> list[Outcome]:
    """Run every fixture of ``directory``."""
    return [run_fixture(path, client) for path in find_fixtures(directory)]


def summary(outcomes: Sequence[Outcome]) -> str:
    """``N passed, M failed``."""
    passed = sum(o.passed for o in outcomes)
    return f"{passed} passed, {len(outcomes) - passed} failed"
