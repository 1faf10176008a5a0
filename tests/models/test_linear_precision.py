"""Issue 13, point 5: on the linear scale a claim's precision is absolute (its own sd or the
request's precision), so moving the zero (°C to kelvin, a margin of 0) changes nothing; the
answer warns when it must fall back to the figures' size for a unit whose zero is arbitrary;
and learning takes a true value of 0."""

from __future__ import annotations

import pytest

from models.claims import Claim, Source
from models.credibility import profile_for
from models.errors import InvalidParameterError
from models.reconcile import reconcile
from models.track_record import ResolvedClaim, learn_track_records
from tests.tolerances import EQUIVARIANCE_RTOL

KELVIN = 273.15
SOURCES = [Source("a", reliability="B"), Source("b", reliability="C")]


def _ends(result: object, shift: float) -> list[float]:
    estimate = result.estimate  # type: ignore[attr-defined]
    out = [estimate.value - shift]
    for iv in estimate.intervals:
        out += [iv.low - shift, iv.high - shift]
    return out


@pytest.mark.parametrize("stated", ["precision", "sd", "interval"])
def test_moving_the_zero_moves_the_answer_with_it(stated: str) -> None:
    def claims(shift: float) -> list[Claim]:
        if stated == "sd":
            return [Claim("a", "point", 20 + shift, sd=0.5), Claim("b", "point", 21 + shift, sd=1)]
        if stated == "interval":
            return [Claim("a", "point", 20 + shift, ci_low=19 + shift, ci_high=21 + shift),
                    Claim("b", "point", 21 + shift)]
        return [Claim("a", "point", 20 + shift), Claim("b", "point", 21 + shift)]

    precision = 1.0 if stated != "sd" else None
    celsius = reconcile(claims(0.0), SOURCES, scale="linear", precision=precision, unit="°C")
    kelvin = reconcile(claims(KELVIN), SOURCES, scale="linear", precision=precision, unit="K")
    width = celsius.estimate.intervals[-1].high - celsius.estimate.intervals[-1].low
    for c, k in zip(_ends(celsius, 0.0), _ends(kelvin, KELVIN), strict=True):
        assert k == pytest.approx(c, abs=EQUIVARIANCE_RTOL * width)
    # The claims' own precision sets the width: no longer the kelvin figures' size.
    assert width < 10.0
    assert not [w for w in celsius.warnings if w.code == "interval_scale"]


def test_an_arbitrary_zero_without_precision_warns() -> None:
    claims = [Claim("a", "point", 20.0), Claim("b", "point", 21.0, sd=0.5)]
    result = reconcile(claims, SOURCES, scale="linear", unit="°C")
    warned = [w for w in result.warnings if w.code == "interval_scale"]
    assert len(warned) == 1 and warned[0].claims == (0,)
    assert warned[0].message == (
        "The zero of °C is arbitrary, but one of the two claims states no uncertainty, so its "
        "spread was read relative to the figures' size; give each claim its sd or the request "
        "a precision.")
    on_log = reconcile(claims, SOURCES, scale="log", unit="°F")
    assert [w.claims for w in on_log.warnings if w.code == "interval_scale"] == [(0, 1)]
    # A ratio-scale unit does not warn.
    plain = reconcile(claims, SOURCES, scale="linear", unit="soldiers")
    assert not [w for w in plain.warnings if w.code == "interval_scale"]


@pytest.mark.parametrize("bad", [0.0, -1.0, float("inf"), float("nan")])
def test_a_bad_precision_is_refused_by_name(bad: float) -> None:
    with pytest.raises(InvalidParameterError) as err:
        reconcile([Claim("a", "point", 1.0)], SOURCES, scale="linear", precision=bad)
    assert err.value.field == "precision"


def test_learning_takes_a_truth_of_zero_and_measures_absolute_errors() -> None:
    def records(truth: float) -> list[ResolvedClaim]:
        misses = {"a": (0.5, -1.0, 1.5, 0.2), "b": (4.0, -6.0, 5.0, -3.0)}
        return [
            ResolvedClaim(Claim(s, "point", value=truth + miss, sd=2.0), truth=truth,
                          scale="linear", question=str(q))
            for s, row in misses.items() for q, miss in enumerate(row)
        ]

    priors = {"a": profile_for("C"), "b": profile_for("C")}
    at_zero = learn_track_records(records(0.0), priors, {})
    far = learn_track_records(records(1000.0), priors, {})
    for sid in priors:
        assert at_zero[sid].n_resolved == 4
        assert at_zero[sid].spread == pytest.approx(far[sid].spread, rel=1e-9)
        assert at_zero[sid].credibility == pytest.approx(far[sid].credibility, rel=1e-9)
    # b misses by two to three of its stated sds: it is learned to be less credible.
    assert (at_zero["b"].credibility or 1.0) < (at_zero["a"].credibility or 0.0)
