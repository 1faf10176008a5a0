"""Properties of ``POST /v1/reconcile`` over generated bodies, through the test client.

* Any valid body (at least one point claim, so the core has a figure to centre on) gets 200
  with only finite numbers; the intervals are nested by level and contain the estimate; the
  claims come back in request order.
* Any valid body with figures drawn from every finite double gets 200 with finite numbers, or a
  422 problem naming the claims when floating point cannot compare them.
* Any body made invalid by one random mutation of a valid one (a wrong type, NaN or Infinity,
  a missing required field, an unknown key) gets a 4xx ``application/problem+json`` document.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.http.problems import PROBLEM_MIMETYPE

URL = "/v1/reconcile"
#: The estimate may sit on an interval's end when the posterior is a spike (one exact claim):
#: relative slack for the quantiles' floating-point rounding.
REL_TOL = 1e-9
PROPERTY_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

GRADES = ["A", "B", "C", "D", "E", "F"]
HEDGES = ["exact", "none", "about", "could_be", "rumour"]
positive = st.floats(min_value=1.0, max_value=1e6, allow_nan=False, allow_infinity=False)


@st.composite
def claim(draw: st.DrawFn, source_ids: list[str], kind: str) -> dict[str, Any]:
    body: dict[str, Any] = {"source": draw(st.sampled_from(source_ids)), "kind": kind}
    if kind == "range":
        low, high = sorted((draw(positive), draw(positive)))
        body.update(low=low, high=high)
    else:
        body["value"] = draw(positive)
    if kind == "point" and draw(st.booleans()):
        body["sd"] = body["value"] * draw(st.floats(min_value=0.01, max_value=1.0))
    if draw(st.booleans()):
        body["hedge"] = draw(st.sampled_from(HEDGES))
    if draw(st.booleans()):
        body["origin"] = draw(st.sampled_from(["wire-1", "wire-2"]))
    return body


@st.composite
def valid_body(draw: st.DrawFn) -> dict[str, Any]:
    """A valid reconcile body with at least one point claim (a method that fits the claims)."""
    n_sources = draw(st.integers(min_value=1, max_value=4))
    ids = [f"s{i}" for i in range(n_sources)]
    sources = []
    for source_id in ids:
        source: dict[str, Any] = {"id": source_id}
        reliability = draw(st.one_of(
            st.none(), st.sampled_from(GRADES), st.floats(min_value=0.05, max_value=0.95)
        ))
        if reliability is not None:
            source["reliability"] = reliability
        sources.append(source)
    kinds = ["point"] + draw(st.lists(
        st.sampled_from(["point", "at_least", "at_most", "range"]), max_size=5
    ))
    claims = draw(st.permutations([draw(claim(ids, kind)) for kind in kinds]))
    levels = draw(st.lists(
        st.floats(min_value=0.05, max_value=0.99), min_size=1, max_size=4, unique=True
    ))
    body: dict[str, Any] = {"sources": sources, "claims": claims, "levels": levels}
    methods = ["auto", "robust"]
    if all(c["kind"] == "point" and "sd" in c for c in claims):
        # The pooling methods need every claim's own sd (the core refuses others with a 422).
        methods += ["random_effects", "fixed_effect"]
    for name, choices in (("method", methods), ("scale", ["auto", "log", "linear"])):
        if draw(st.booleans()):
            body[name] = draw(st.sampled_from(choices))
    return body


def numbers(node: Any) -> list[float]:
    """Every number of a JSON document (booleans excluded)."""
    if isinstance(node, bool):
        return []
    if isinstance(node, int | float):
        return [float(node)]
    if isinstance(node, dict):
        return [x for value in node.values() for x in numbers(value)]
    if isinstance(node, list):
        return [x for value in node for x in numbers(value)]
    return []


def _assert_finite_nested_holding_the_estimate(result: Any, levels: list[float]) -> None:
    """Only finite numbers; one interval per level, nested by level, each holding the estimate."""
    assert all(math.isfinite(x) for x in numbers(result))
    estimate = result["estimate"]
    value = estimate["value"]
    intervals = sorted(estimate["intervals"], key=lambda i: i["level"])
    assert [i["level"] for i in intervals] == sorted(levels)
    # Open ends (null) and no value only for bounds on one side, which the basis says.
    opened = value is None or any(i["low"] is None or i["high"] is None for i in intervals)
    assert not opened or (estimate["basis"] == "bounds" and value is None)
    lows = [-math.inf if i["low"] is None else i["low"] for i in intervals]
    highs = [math.inf if i["high"] is None else i["high"] for i in intervals]
    slack = REL_TOL * max(1.0, abs(value or 0.0), *(abs(x) for x in lows + highs
                                                     if math.isfinite(x)))
    if value is not None:
        for low, high in zip(lows, highs, strict=True):
            assert low - slack <= value <= high + slack, (low, high)
    for k in range(len(intervals) - 1):
        assert lows[k + 1] <= lows[k] + slack and highs[k] <= highs[k + 1] + slack


@PROPERTY_SETTINGS
@given(body=valid_body())
def test_valid_body_gives_finite_nested_intervals_in_order(
    client: FlaskClient, body: dict[str, Any]
) -> None:
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    result = response.get_json()

    _assert_finite_nested_holding_the_estimate(result, body["levels"])

    assert [c["index"] for c in result["claims"]] == list(range(len(body["claims"])))
    for sent, got in zip(body["claims"], result["claims"], strict=True):
        assert (got["source"], got["kind"]) == (sent["source"], sent["kind"])
        for name in ("value", "low", "high"):
            if name in sent:
                assert got[name] == sent[name]


# --- Valid bodies over every finite double ------------------------------------------------------

any_figure = st.floats(allow_nan=False, allow_infinity=False)


@st.composite
def wide_body(draw: st.DrawFn) -> dict[str, Any]:
    """A valid body whose figures are any finite doubles (tiny, huge, zero, negative)."""
    body = copy.deepcopy(draw(valid_body()))
    for item in body["claims"]:
        item.pop("sd", None)
        if item["kind"] == "range":
            low, high = sorted((draw(any_figure), draw(any_figure)))
            item.update(low=low, high=high)
        else:
            item["value"] = draw(any_figure)
    body.pop("method", None)
    return body


@PROPERTY_SETTINGS
@given(body=wide_body())
def test_any_finite_figures_give_finite_numbers_or_a_problem_naming_claims(
    client: FlaskClient, body: dict[str, Any]
) -> None:
    # Any finite figure is valid input; the core may refuse what floating point cannot compare
    # (figures 1e12 typical magnitudes apart on the linear scale, negatives on the log scale),
    # as a 422 naming the claims, and must answer everything else with finite numbers.
    response = client.post(URL, json=body)
    if response.status_code == 422:
        assert response.mimetype == PROBLEM_MIMETYPE
        assert any(key.startswith("claims") for key in response.get_json()["errors"])
        return
    assert response.status_code == 200, response.get_data(as_text=True)
    _assert_finite_nested_holding_the_estimate(response.get_json(), body["levels"])


# --- Invalid bodies ------------------------------------------------------------------------------

WRONG_VALUES: list[Any] = [
    "text", True, None, [], {}, [1], math.nan, math.inf, -math.inf, 10**400,
]


@st.composite
def invalid_body(draw: st.DrawFn) -> Any:
    """A valid body broken in one place."""
    body = copy.deepcopy(draw(valid_body()))
    targets: list[tuple[dict[str, Any], str, bool]] = [
        # (object, key, required)
        (body, "sources", True),
        (body, "claims", True),
        (body, "levels", False),
    ]
    for item in body["claims"]:
        targets += [(item, "source", True), (item, "kind", True)]
        targets += [(item, key, False) for key in ("value", "low", "high") if key in item]
    for item in body["sources"]:
        targets.append((item, "id", True))
    target, key, required = draw(st.sampled_from(targets))
    mutation = draw(st.sampled_from(
        ["wrong", "unknown"] + (["missing"] if required else [])
    ))
    if mutation == "missing":
        del target[key]
    elif mutation == "unknown":
        obj = draw(st.sampled_from([body, *body["claims"], *body["sources"]]))
        obj[draw(st.sampled_from(["extra", "Value", "claims_", "__proto__"]))] = 1
    else:
        target[key] = draw(st.sampled_from(WRONG_VALUES))
    return body


@PROPERTY_SETTINGS
@given(body=invalid_body())
def test_invalid_body_gives_problem_json(client: FlaskClient, body: Any) -> None:
    # json.dumps writes NaN/Infinity literals, which the parser reads so the schema can refuse
    # them by field; 10**400 overflows to infinity the same way.
    raw = json.dumps(body, allow_nan=True)
    response = client.post(URL, data=raw, content_type="application/json")
    assert 400 <= response.status_code < 500, (raw, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM_MIMETYPE
    problem = response.get_json()
    assert problem["status"] == response.status_code
    assert {"type", "title", "status", "detail", "instance"} <= set(problem)
