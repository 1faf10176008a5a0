"""The whole domain of valid claims: any finite figures give finite answers or a named refusal.

The API's property tests (tests/http/test_api_properties.py) draw figures in [1, 1e6]; the
fuzzers found that figures spread over hundreds of orders of magnitude, negative and tiny ones,
intervals at levels near 0 broke the core (overflow warnings, a division by zero, an empty
grid). Here every float a client can send is fair game: ``reconcile`` must either return a result
whose numbers are all finite, with nested intervals holding the estimate, or raise a
:class:`~models.errors.ReconcileError` that names a field. Warnings are errors in this suite,
so a silent overflow fails too.
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from models.claims import Claim, Source
from models.errors import ReconcileError
from models.reconcile import reconcile

#: Slack for an estimate on an interval's end (a posterior spike), relative to its magnitude.
REL_TOL = 1e-9
GRADES = ["A", "B", "C", "D", "E", "F", None]
HEDGES = ["exact", "none", "about", "could_be", "rumour"]

#: Every finite double, with the awkward ones (0, ±tiny, ±huge, subnormals) drawn often.
figure = st.floats(allow_nan=False, allow_infinity=False)
positive_figure = st.floats(min_value=0.0, exclude_min=True, allow_infinity=False)
open_unit = st.floats(min_value=0.0, max_value=1.0, exclude_min=True, exclude_max=True)


@st.composite
def claim(draw: st.DrawFn, sources: list[str]) -> Claim:
    source = draw(st.sampled_from(sources))
    kind = draw(st.sampled_from(["point", "at_least", "at_most", "range"]))
    hedge = draw(st.sampled_from(HEDGES))
    if kind == "range":
        low, high = sorted((draw(figure), draw(figure)))
        return Claim(source, kind, low=low, high=high, hedge=hedge)
    value = draw(figure)
    if kind != "point":
        return Claim(source, kind, value, hedge=hedge)
    own = draw(st.sampled_from(["none", "sd", "ci"]))
    if own == "sd":
        return Claim(source, kind, value, sd=draw(positive_figure), hedge=hedge)
    if own == "ci":
        low, high = sorted((draw(figure), draw(figure)))
        if not low < high or not low <= value <= high:
            return Claim(source, kind, value, hedge=hedge)
        return Claim(source, kind, value, ci_low=low, ci_high=high,
                     ci_level=draw(open_unit), hedge=hedge)
    return Claim(source, kind, value, hedge=hedge)


@st.composite
def reconcile_request(draw: st.DrawFn) -> dict[str, Any]:
    ids = [f"s{i}" for i in range(draw(st.integers(1, 3)))]
    sources = [Source(i, reliability=draw(st.sampled_from(GRADES))) for i in ids]
    claims = draw(st.lists(claim(ids), min_size=1, max_size=6))
    return {
        "claims": claims,
        "sources": sources,
        "scale": draw(st.sampled_from(["auto", "log", "linear"])),
        "method": draw(st.sampled_from(["auto", "robust"])),
        "levels": (0.5, 0.9),
    }


def _numbers(node: Any) -> list[float]:
    if isinstance(node, bool) or node is None or isinstance(node, str):
        return []
    if isinstance(node, int | float):
        return [float(node)]
    if isinstance(node, dict):
        return [x for value in node.values() for x in _numbers(value)]
    if isinstance(node, list | tuple):
        return [x for value in node for x in _numbers(value)]
    if hasattr(node, "__dataclass_fields__"):
        return [x for name in node.__dataclass_fields__ for x in _numbers(getattr(node, name))]
    return []


@settings(max_examples=600, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(body=reconcile_request())
def test_any_finite_claims_give_finite_answers_or_a_named_refusal(body: dict[str, Any]) -> None:
    note(f"claims={list(body['claims'])!r} scale={body['scale']} method={body['method']}")
    note(f"sources={list(body['sources'])!r}")
    try:
        result = reconcile(**body)
    except ReconcileError as error:
        event(f"refused: {type(error).__name__}")
        assert error.field, f"refusal names no field: {error.message}"
        return
    event(f"answered: {result.scale}")
    # Bounds on one side only leave the value and the other side open (None), nothing else.
    value = result.centre if result.estimate.value is None else result.estimate.value
    assert math.isfinite(value)
    numbers = _numbers(result)
    assert all(math.isfinite(x) for x in numbers if not math.isnan(x)), "a result is infinite"
    slack = REL_TOL * max(1.0, abs(value))
    intervals = sorted(result.estimate.intervals, key=lambda i: i.level)
    inf = math.inf
    lows = [-inf if i.low is None else i.low for i in intervals]
    highs = [inf if i.high is None else i.high for i in intervals]
    if result.estimate.value is not None:
        for low, high in zip(lows, highs, strict=True):
            assert low - slack <= value <= high + slack, (low, high)
    for k in range(len(intervals) - 1):
        assert lows[k + 1] <= lows[k] + slack and highs[k] <= highs[k + 1] + slack
