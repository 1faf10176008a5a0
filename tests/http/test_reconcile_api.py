"""``POST /v1/reconcile`` through the test client: the success shape and every error class."""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.http.problems import PROBLEM_MIMETYPE
from service.http.schemas.reconcile import ReconcileResponseSchema

URL = "/v1/reconcile"

# A minimal valid body that the bad-input cases below break in exactly one place.
BASE: dict[str, Any] = {
    "sources": [{"id": "a", "reliability": "B"}, {"id": "b", "reliability": "C"}],
    "claims": [
        {"source": "a", "kind": "point", "value": 100},
        {"source": "b", "kind": "point", "value": 120},
    ],
}

RESPONSE_KEYS = {
    "question",
    "unit",
    "method",
    "scale",
    "estimate",
    "claims",
    "sources",
    "disagreement",
    "heterogeneity",
    "prediction",
    "warnings",
    "summary",
    "findings",
    "explanation",
    "time",
    "shared_error",
}
CLAIM_KEYS = {
    "index",
    "source",
    "kind",
    "value",
    "low",
    "high",
    "hedge",
    "origin",
    "as_of",
    "horizon",
    "weight",
    "influence",
    "estimate_without",
    "estimate_without_unit",
    "share",
    "outlier",
    "p_wrong",
    "residual",
}


def _strict_json(text: str) -> Any:
    """Parse JSON refusing NaN/Infinity, which are not JSON."""

    def refuse(literal: str) -> Any:
        raise AssertionError(f"response contains the non-JSON literal {literal}")

    return json.loads(text, parse_constant=refuse)


def _numbers(node: Any) -> Iterator[float]:
    if isinstance(node, dict):
        for value in node.values():
            yield from _numbers(value)
    elif isinstance(node, list):
        for value in node:
            yield from _numbers(value)
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield float(node)


# --- The troop case ---------------------------------------------------------------------------


def test_troop_case_returns_documented_shape(
    client: FlaskClient, troop_body: dict[str, Any]
) -> None:
    response = client.post(URL, json=troop_body)

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    doc = _strict_json(response.get_data(as_text=True))
    assert set(doc) == RESPONSE_KEYS
    # Loading the answer back through the response schema checks every documented field, its
    # type and that nothing undocumented is present (the schemas refuse unknown keys).
    ReconcileResponseSchema().load(doc)
    assert doc["question"] == troop_body["question"]
    assert doc["unit"] == "soldiers"
    assert doc["scale"] == "log"
    assert doc["method"] in {"robust", "random_effects", "fixed_effect"}
    assert [c["index"] for c in doc["claims"]] == [0, 1, 2]
    assert [c["source"] for c in doc["claims"]] == ["nis", "zelensky", "anon-media"]
    assert [c["kind"] for c in doc["claims"]] == ["point", "at_most", "point"]
    assert doc["claims"][2]["hedge"] == "about"
    assert all(set(c) == CLAIM_KEYS for c in doc["claims"])
    assert [i["level"] for i in doc["estimate"]["intervals"]] == [0.5, 0.9]
    assert {s["id"] for s in doc["sources"]} == {"nis", "zelensky", "anon-media"}
    names = {s["id"]: s["name"] for s in doc["sources"]}
    assert names["nis"] == "South Korea NIS"
    assert all(math.isfinite(x) for x in _numbers(doc))
    estimate = doc["estimate"]
    for interval in estimate["intervals"]:
        assert interval["low"] <= estimate["value"] <= interval["high"]
    assert math.isclose(sum(c["weight"] for c in doc["claims"]), 1.0, rel_tol=1e-6)
    assert isinstance(doc["explanation"], str) and doc["explanation"]


def test_defaults_apply(client: FlaskClient) -> None:
    response = client.post(URL, json=BASE)

    assert response.status_code == 200, response.get_data(as_text=True)
    doc = response.get_json()
    assert [i["level"] for i in doc["estimate"]["intervals"]] == [0.5, 0.9]
    assert doc["question"] is None and doc["unit"] is None
    assert doc["claims"][0]["hedge"] == "none"


# --- Every bad-input class --------------------------------------------------------------------


@dataclass(frozen=True)
class Bad:
    """One bad request: how to send it and what the problem must say."""

    id: str
    status: int
    names: str  # the field path (422) or a word the detail must contain
    body: Any = None
    raw: str | bytes | None = None
    content_type: str | None = "application/json"
    method: str = "POST"
    path: str = URL
    config: dict[str, Any] = field(default_factory=dict)


def _with(edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = copy.deepcopy(BASE)
    edit(body)
    return body


def _claim(**changes: Any) -> dict[str, Any]:
    """BASE with claim 0 replaced by ``changes`` on top of a point claim from source a."""

    def edit(body: dict[str, Any]) -> None:
        claim = {"source": "a", "kind": "point", "value": 100, **changes}
        body["claims"][0] = {k: v for k, v in claim.items() if v is not _DROP}

    return _with(edit)


def _source(**changes: Any) -> dict[str, Any]:
    def edit(body: dict[str, Any]) -> None:
        body["sources"][0].update(changes)

    return _with(edit)


def _top(**changes: Any) -> dict[str, Any]:
    return _with(lambda body: body.update(changes))


_DROP = object()
_RAW_CLAIM = '{"sources": [{"id": "a"}], "claims": [{"source": "a", "kind": "point", "value": %s}]}'

BAD: list[Bad] = [
    # Numbers that are not finite JSON numbers.
    Bad("nan-literal", 422, "claims.0.value", raw=_RAW_CLAIM % "NaN"),
    Bad("infinity-literal", 422, "claims.0.value", raw=_RAW_CLAIM % "Infinity"),
    Bad("minus-infinity-literal", 422, "claims.0.value", raw=_RAW_CLAIM % "-Infinity"),
    Bad("overflowing-1e400", 422, "claims.0.value", raw=_RAW_CLAIM % "1e400"),
    Bad("overflowing-integer", 422, "claims.0.value", raw=_RAW_CLAIM % ("9" * 400)),
    Bad("integer-beyond-parser-limit", 400, "parsed", raw=_RAW_CLAIM % ("9" * 5000)),
    Bad("boolean-as-number", 422, "claims.0.value", body=_claim(value=True)),
    Bad("string-as-number", 422, "claims.0.value", body=_claim(value="1.5")),
    Bad("nan-in-levels", 422, "levels.0", raw='{"levels": [NaN], "sources": [{"id": "a"}], '
        '"claims": [{"source": "a", "kind": "point", "value": 1}]}'),
    # Claims malformed for their kind or scale.
    Bad("non-positive-on-log-scale", 422, "claims.0.value", body=_top(scale="log") | {
        "claims": [{"source": "a", "kind": "point", "value": 0}]}),
    Bad("negative-bound-on-log-scale", 422, "claims.0.value", body=_top(scale="log") | {
        "claims": [{"source": "a", "kind": "at_least", "value": -5}]}),
    Bad("point-without-value", 422, "claims.0.value", body=_claim(value=_DROP)),
    Bad("point-with-null-value", 422, "claims.0.value", body=_claim(value=None)),
    Bad("range-without-low", 422, "claims.0.low",
        body=_claim(kind="range", value=_DROP, high=5)),
    Bad("range-without-high", 422, "claims.0.high",
        body=_claim(kind="range", value=_DROP, low=5)),
    Bad("range-low-above-high", 422, "claims.0.low",
        body=_claim(kind="range", value=_DROP, low=9, high=5)),
    Bad("range-with-value", 422, "claims.0.value",
        body=_claim(kind="range", value=7, low=5, high=9)),
    Bad("bound-with-sd", 422, "claims.0.sd", body=_claim(kind="at_most", sd=3)),
    Bad("sd-zero", 422, "claims.0.sd", body=_claim(sd=0)),
    Bad("sd-negative", 422, "claims.0.sd", body=_claim(sd=-1)),
    Bad("ci-low-without-ci-high", 422, "claims.0.ci_high", body=_claim(ci_low=90)),
    Bad("ci-high-without-ci-low", 422, "claims.0.ci_low", body=_claim(ci_high=110)),
    Bad("ci-reversed", 422, "claims.0.ci_low", body=_claim(ci_low=110, ci_high=90)),
    Bad("value-outside-own-ci", 422, "claims.0.value", body=_claim(ci_low=10, ci_high=20)),
    Bad("ci-level-one", 422, "claims.0.ci_level", body=_claim(ci_low=90, ci_high=110, ci_level=1)),
    Bad("invalid-hedge", 422, "claims.0.hedge", body=_claim(hedge="probably")),
    Bad("invalid-kind", 422, "claims.0.kind", body=_claim(kind="estimate")),
    Bad("null-kind", 422, "claims.0.kind", body=_claim(kind=None)),
    Bad("missing-kind", 422, "claims.0.kind", body=_claim(kind=_DROP)),
    Bad("invalid-date", 422, "claims.0.as_of", body=_claim(as_of="2024-13-01")),
    Bad("unknown-claim-field", 422, "claims.0.colour", body=_claim(colour="red")),
    Bad("claim-not-an-object", 422, "claims.0",
        body=_with(lambda b: b["claims"].__setitem__(0, 5))),
    # Sources and references.
    Bad("unknown-source-in-claim", 422, "claims.1.source",
        body=_with(lambda b: b["claims"][1].update(source="nobody"))),
    Bad("duplicate-source-ids", 422, "sources.1.id",
        body=_with(lambda b: b["sources"][1].update(id="a"))),
    Bad("empty-source-id", 422, "sources.0.id", body=_source(id="")),
    Bad("source-id-129-chars", 422, "sources.0.id", body=_source(id="s" * 129)),
    Bad("source-name-201-chars", 422, "sources.0.name", body=_source(name="n" * 201)),
    Bad("invalid-source-type", 422, "sources.0.type", body=_source(type="blogger")),
    Bad("reliability-G", 422, "sources.0.reliability", body=_source(reliability="G")),
    Bad("reliability-lowercase", 422, "sources.0.reliability", body=_source(reliability="b")),
    Bad("reliability-0", 422, "sources.0.reliability", body=_source(reliability=0)),
    Bad("reliability-1", 422, "sources.0.reliability", body=_source(reliability=1)),
    Bad("reliability-1.5", 422, "sources.0.reliability", body=_source(reliability=1.5)),
    Bad("reliability-true", 422, "sources.0.reliability", body=_source(reliability=True)),
    Bad("reliability-object", 422, "sources.0.reliability", body=_source(reliability={})),
    # Lists.
    Bad("empty-claims", 422, "claims", body=_top(claims=[])),
    Bad("empty-sources", 422, "sources", body=_top(sources=[])),
    Bad("missing-claims", 422, "claims", body=_with(lambda b: b.pop("claims"))),
    Bad("claims-not-a-list", 422, "claims", body=_top(claims={"0": {}})),
    Bad("too-many-claims", 422, "claims", body=BASE, config={"MAX_CLAIMS": 1}),
    Bad("too-many-sources", 422, "sources", body=BASE, config={"MAX_SOURCES": 1}),
    # Top-level options.
    Bad("unknown-top-level-field", 422, "colour", body=_top(colour="red")),
    Bad("level-0", 422, "levels.0", body=_top(levels=[0])),
    Bad("level-1", 422, "levels.0", body=_top(levels=[1])),
    Bad("level-1.5", 422, "levels.1", body=_top(levels=[0.5, 1.5])),
    Bad("too-many-levels", 422, "levels", body=_top(levels=[i / 20 for i in range(1, 12)])),
    Bad("no-levels", 422, "levels", body=_top(levels=[])),
    Bad("duplicate-levels", 422, "levels", body=_top(levels=[0.5, 0.5])),
    Bad("question-501-chars", 422, "question", body=_top(question="q" * 501)),
    Bad("unit-65-chars", 422, "unit", body=_top(unit="u" * 65)),
    Bad("invalid-scale", 422, "scale", body=_top(scale="sqrt")),
    Bad("invalid-method", 422, "method", body=_top(method="median")),
    Bad("invalid-tau2-method", 422, "tau2_method", body=_top(tau2_method="HS")),
    Bad("invalid-ci-method", 422, "ci_method", body=_top(ci_method="t")),
    Bad("body-is-a-list", 422, "_schema", raw="[1, 2]"),
    # Transport-level problems.
    Bad("malformed-json", 400, "JSON", raw='{"sources": [}'),
    Bad("empty-body", 400, "empty", raw=""),
    Bad("duplicate-key", 400, "duplicate", raw='{"claims": [], "claims": []}'),
    Bad("invalid-utf8", 400, "UTF-8", raw=b'{"question": "\xff"}'),
    Bad("deeply-nested", 400, "parsed", raw="[" * 100_000 + "]" * 100_000,
        config={"MAX_CONTENT_LENGTH": 1_000_000}),
    Bad("oversized-body", 413, "MAX_CONTENT_LENGTH", body=_top(question="q" * 400),
        config={"MAX_CONTENT_LENGTH": 300}),
    Bad("text-plain-body", 415, "application/json", raw=json.dumps(BASE),
        content_type="text/plain"),
    Bad("form-body", 415, "application/json", raw="a=1",
        content_type="application/x-www-form-urlencoded"),
    Bad("no-content-type", 415, "application/json", raw=json.dumps(BASE), content_type=None),
    Bad("get-reconcile", 405, "POST", method="GET"),
    Bad("put-reconcile", 405, "POST", method="PUT", body=BASE),
    Bad("unknown-path", 404, "/v1/nothing", path="/v1/nothing"),
]


def _send(client: FlaskClient, bad: Bad) -> Any:
    kwargs: dict[str, Any] = {}
    if bad.raw is not None:
        kwargs["data"] = bad.raw
        if bad.content_type is not None:
            kwargs["content_type"] = bad.content_type
    elif bad.body is not None:
        kwargs["data"] = json.dumps(bad.body)
        kwargs["content_type"] = bad.content_type
    return client.open(bad.path, method=bad.method, **kwargs)


@pytest.mark.parametrize("bad", BAD, ids=[b.id for b in BAD])
def test_bad_input_is_a_problem_naming_the_field(
    app_factory: Callable[..., Flask], bad: Bad
) -> None:
    client = app_factory(**bad.config).test_client()

    response = _send(client, bad)

    assert response.status_code == bad.status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_MIMETYPE
    problem = response.get_json(force=True)
    assert {"type", "title", "status", "detail", "instance"} <= set(problem)
    assert problem["status"] == bad.status
    assert problem["instance"] == bad.path
    assert "Traceback" not in response.get_data(as_text=True)
    if bad.status == 422:
        assert bad.names in problem["errors"], problem
        assert problem["type"].startswith("https://triangulate.invalid/problems/")
        assert all(isinstance(m, list) and m for m in problem["errors"].values())
        # The detail names the first bad field; each case here has one, or this one first.
        assert f"Invalid {bad.names}" in problem["detail"] or (
            bad.names == "_schema" and "request body" in problem["detail"]
        ), problem["detail"]
    else:
        assert "errors" not in problem
        assert bad.names in problem["detail"], problem["detail"]


def test_malformed_json_problem_type(client: FlaskClient) -> None:
    response = client.post(URL, data="{", content_type="application/json")

    problem = response.get_json(force=True)
    assert problem["type"] == "https://triangulate.invalid/problems/malformed-json"
    assert "line 1 column 2" in problem["detail"]


def test_method_not_allowed_sends_allow_header(client: FlaskClient) -> None:
    response = client.get(URL)

    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert response.get_json(force=True)["type"] == "about:blank"


def test_schema_and_core_errors_have_distinct_types(client: FlaskClient) -> None:
    schema = client.post(URL, json=_claim(value="x")).get_json(force=True)
    core = client.post(URL, json=_top(scale="log") | {
        "claims": [{"source": "a", "kind": "point", "value": -1}]}).get_json(force=True)

    assert schema["type"].endswith("/validation-error")
    assert core["type"].endswith("/reconcile-error")
    assert core["errors"] == {"claims.0.value": [core["errors"]["claims.0.value"][0]]}


def test_several_errors_are_reported_together(client: FlaskClient) -> None:
    body = _with(lambda b: b["sources"][1].update(id="a"))
    body["claims"][0]["value"] = "x"

    problem = client.post(URL, json=body).get_json(force=True)

    assert {"sources.1.id", "claims.0.value"} <= set(problem["errors"])
    assert "more in errors" in problem["detail"]


@pytest.mark.parametrize(
    ("status", "kwargs", "want"),
    [
        (409, {"message": "Already reconciled."}, {"detail": "Already reconciled."}),
        (503, {"message": "Down for maintenance."}, {"detail": "Down for maintenance."}),
        (422, {"message": "No."}, {"errors": {"_schema": ["No."]}}),
        (422, {"errors": {"json": {"claims": {"0": {"value": ["Bad."]}}}}},
         {"errors": {"claims.0.value": ["Bad."]}, "detail": "Invalid claims.0.value: Bad."}),
        (404, {}, {"detail": "No resource at /test-abort."}),
    ],
)
def test_abort_from_a_view_is_a_problem(
    app: Flask, status: int, kwargs: dict[str, Any], want: dict[str, Any]
) -> None:
    from flask_smorest import abort

    def view() -> None:
        abort(status, **kwargs)

    app.add_url_rule("/test-abort", view_func=view)

    response = app.test_client().get("/test-abort")

    assert response.status_code == status
    assert response.mimetype == PROBLEM_MIMETYPE
    problem = response.get_json(force=True)
    assert problem["status"] == status
    assert want.items() <= problem.items()


# --- Unexpected failures ----------------------------------------------------------------------


def _boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("secret internals: /etc/passwd")


def test_unexpected_exception_is_a_500_problem_without_traceback(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("service.http.views.reconcile.reconcile", _boom)

    response = client.post(URL, json=BASE)

    assert response.status_code == 500
    assert response.mimetype == PROBLEM_MIMETYPE
    text = response.get_data(as_text=True)
    for leak in ("Traceback", "RuntimeError", "secret", "File \""):
        assert leak not in text
    problem = json.loads(text)
    assert problem["type"] == "about:blank"
    assert problem["title"] == "Internal Server Error"
    assert "traceback" not in problem
    assert "RuntimeError" in caplog.text  # logged for the operator


def test_debug_mode_shows_the_traceback(
    app_factory: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("service.http.views.reconcile.reconcile", _boom)
    app = app_factory(DEBUG=True)
    app.debug = True

    problem = app.test_client().post(URL, json=BASE).get_json(force=True)

    assert problem["status"] == 500
    assert "RuntimeError" in "".join(problem["traceback"])


# --- Legal but extreme input: an answer with finite numbers or a clear 4xx, never a 500 -------


def _claims(*claims: dict[str, Any], scale: str = "auto") -> dict[str, Any]:
    return {
        "scale": scale,
        "sources": [{"id": "A", "reliability": "A"}, {"id": "B", "reliability": "B"}],
        "claims": list(claims),
    }


EXTREME: dict[str, dict[str, Any]] = {
    "1e308-log-scale": _claims(
        {"source": "A", "kind": "point", "value": 1e308},
        {"source": "B", "kind": "point", "value": 1e307},
        scale="log",
    ),
    "1e308-linear-scale": _claims(
        {"source": "A", "kind": "point", "value": 1e308},
        {"source": "B", "kind": "point", "value": -1e308},
        scale="linear",
    ),
    "tiny-positive-log-scale": _claims(
        {"source": "A", "kind": "point", "value": 5e-324},
        {"source": "B", "kind": "point", "value": 1e-300},
        scale="log",
    ),
    "fifty-identical-claims": _claims(
        *({"source": "A", "kind": "point", "value": 1000} for _ in range(50))
    ),
    "contradictory-bounds-same-source": _claims(
        {"source": "A", "kind": "at_least", "value": 10000},
        {"source": "A", "kind": "at_most", "value": 100},
    ),
    "single-claim": _claims({"source": "A", "kind": "point", "value": 42}),
    "single-bound": _claims({"source": "B", "kind": "at_least", "value": 42}),
    "zero-width-range": _claims({"source": "A", "kind": "range", "low": 7, "high": 7}),
    "all-zero-linear": _claims(
        {"source": "A", "kind": "point", "value": 0},
        {"source": "B", "kind": "point", "value": 0},
    ),
    "meta-analysis-one-study": {
        "sources": [{"id": "s"}],
        "claims": [{"source": "s", "kind": "point", "value": 1.0, "sd": 0.1}],
    },
    "meta-analysis-identical-studies": {
        "sources": [{"id": "s"}, {"id": "t"}],
        "claims": [
            {"source": "s", "kind": "point", "value": 1.0, "sd": 0.1},
            {"source": "t", "kind": "point", "value": 1.0, "sd": 0.1},
        ],
    },
    "unknown-grades-only": {
        "sources": [{"id": "x"}, {"id": "y", "reliability": "F"}],
        "claims": [
            {"source": "x", "kind": "point", "value": 10},
            {"source": "y", "kind": "point", "value": 1e6, "hedge": "rumour"},
        ],
    },
    "many-claims": {
        "sources": [{"id": f"s{i}", "reliability": "ABCDEF"[i % 6]} for i in range(300)],
        "claims": [
            {"source": f"s{i}", "kind": "point", "value": 1000 + 7 * i} for i in range(300)
        ],
    },
}


@pytest.mark.parametrize("body", EXTREME.values(), ids=list(EXTREME))
def test_extreme_input_gets_finite_answer_or_clear_refusal(
    client: FlaskClient, body: dict[str, Any]
) -> None:
    response = client.post(URL, json=body)

    assert response.status_code < 500, response.get_data(as_text=True)
    doc = _strict_json(response.get_data(as_text=True))
    if response.status_code == 200:
        ReconcileResponseSchema().load(doc)
        assert all(math.isfinite(x) for x in _numbers(doc))
        assert len(doc["claims"]) == len(body["claims"])
    else:
        assert response.mimetype == PROBLEM_MIMETYPE
        assert doc["errors"], doc


def test_single_claim_is_warned_about(client: FlaskClient) -> None:
    doc = client.post(URL, json=EXTREME["single-claim"]).get_json()

    assert doc["warnings"], "a single claim should produce a warning"
