"""Ranges from bounds alone (models.bounds): set by the bounds and their grades, not the prior.

References are computed here independently: the two-sided quantiles by adaptive quadrature of
Φ((θ − a)/σ_a)·Φ((b − θ)/σ_b) with root finding, the one-sided end in closed form.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, optimize
from scipy.stats import norm

from models.claims import Claim, Source
from models.reconcile import reconcile
from models.result import ReconcileResult
from models.robust import RobustEstimator
from tests.tolerances import BOUNDS_RTOL

#: Spreads of a right claim by grade, as documented in docs/model.md (restated, not imported).
SPREAD = {"A": 0.10, "B": 0.20, "C": 0.35, "D": 0.55, "E": 0.80}
CHANCE_RIGHT = {"A": 0.95, "B": 0.85, "C": 0.70, "D": 0.50, "E": 0.30}


def _two(lo: float, hi: float, g_lo: str, g_hi: str,
         estimator: RobustEstimator | None = None) -> ReconcileResult:
    sources = [Source("lo", reliability=g_lo), Source("hi", reliability=g_hi)]
    claims = [Claim("lo", "at_least", lo), Claim("hi", "at_most", hi)]
    return reconcile(claims, sources, levels=(0.5, 0.9), estimator=estimator)


def _reference_quantiles(lo: float, hi: float, s_lo: float, s_hi: float,
                         probs: tuple[float, ...]) -> list[float]:
    a, b = math.log(lo), math.log(hi)

    def density(t: float) -> float:
        return float(norm.cdf((t - a) / s_lo) * norm.cdf((b - t) / s_hi))

    left, right = a - 12 * s_lo, b + 12 * s_hi
    total = integrate.quad(density, left, right, epsabs=0, epsrel=1e-12, limit=200)[0]

    def cdf(t: float) -> float:
        return integrate.quad(density, left, t, epsabs=0, epsrel=1e-12, limit=200)[0] / total

    return [math.exp(optimize.brentq(lambda t, p=p: cdf(t) - p, left, right, xtol=1e-12))
            for p in probs]


def test_two_b_bounds_give_a_range_near_the_bounds_not_the_priors_tail() -> None:
    r = _two(2000, 3000, "B", "B")
    e = r.estimate
    assert e.basis == "bounds"
    wide = e.intervals[1]
    # Before: 457 to 13,132. Softness 0.2 (B) allows about ±40 % at 90 %, no more.
    assert 2000 * math.exp(-2 * 0.2) < wide.low < 2000
    assert 3000 < wide.high < 3000 * math.exp(2 * 0.2)
    assert e.value == pytest.approx(math.sqrt(2000 * 3000), rel=1e-6)
    assert e.p_bounds_hold == pytest.approx(CHANCE_RIGHT["B"] ** 2, rel=1e-12)


@pytest.mark.parametrize(("lo", "hi", "g_lo", "g_hi"), [
    (2000, 3000, "B", "B"), (1000, 2000, "A", "A"), (50, 5000, "C", "A"), (10, 11, "C", "B"),
    (2000, 2100, "A", "B"),  # a tight pair: both kept, the soft overlap
])
def test_two_sided_quantiles_match_quadrature(lo: float, hi: float, g_lo: str, g_hi: str) -> None:
    e = _two(lo, hi, g_lo, g_hi).estimate
    if e.basis != "bounds":
        pytest.fail(f"expected the bounds rule, got {e}")
    expected = _reference_quantiles(lo, hi, SPREAD[g_lo], SPREAD[g_hi],
                                    (0.5, 0.25, 0.75, 0.05, 0.95))
    got = [e.value, e.intervals[0].low, e.intervals[0].high, e.intervals[1].low,
           e.intervals[1].high]
    assert got == pytest.approx(expected, rel=BOUNDS_RTOL)


@given(st.floats(0.1, 10.0))
@settings(max_examples=15, deadline=None)
def test_the_prior_does_not_set_a_bounds_only_range(prior_scale: float) -> None:
    base = _two(2000, 3000, "C", "B").estimate
    other = _two(2000, 3000, "C", "B",
                 estimator=RobustEstimator(prior_scale=prior_scale)).estimate
    assert other == base


def test_softer_grades_widen_the_range() -> None:
    widths = []
    for grade in ("A", "B", "C", "D"):
        iv = _two(2000, 3000, grade, grade).estimate.intervals[1]
        widths.append(math.log(iv.high / iv.low))
    assert widths == sorted(widths) and widths[0] < widths[-1]


@pytest.mark.parametrize(("kind", "grade", "hedge", "factor"), [
    ("at_least", "B", "none", 1.0), ("at_least", "A", "about", 1.5),
    ("at_most", "C", "could_be", 2.0), ("at_most", "B", "exact", 0.5),
])
def test_a_lone_bound_gives_an_open_range_from_its_softness(
    kind: str, grade: str, hedge: str, factor: float
) -> None:
    r = reconcile([Claim("s", kind, 100_000.0, hedge=hedge)],  # type: ignore[arg-type]
                  [Source("s", reliability=grade)], levels=(0.5, 0.9))
    e = r.estimate
    assert e.value is None and e.basis == "bounds"
    sigma = SPREAD[grade] * factor
    for iv in e.intervals:
        # A right "at least a" leaves θ below a − z σ with probability (1 − q)/2, z = Φ⁻¹(…).
        z = norm.ppf(0.5 * (1 + iv.level))
        if kind == "at_least":
            assert iv.high is None
            assert iv.low == pytest.approx(100_000 * math.exp(-z * sigma), rel=BOUNDS_RTOL)
        else:
            assert iv.low is None
            assert iv.high == pytest.approx(100_000 * math.exp(z * sigma), rel=BOUNDS_RTOL)
    hedge_odds = {"could_be": 2.0}.get(hedge, 1.0)
    c = CHANCE_RIGHT[grade]
    assert e.p_bounds_hold == pytest.approx(c / (c + hedge_odds * (1 - c)), rel=1e-9)


def test_a_bound_judged_wrong_drops_out_and_opens_its_side() -> None:
    sources = [Source("b", reliability="B"), Source("a", reliability="A"),
               Source("e", reliability="E")]
    claims = [Claim("b", "at_least", 2000.0), Claim("a", "at_least", 5000.0),
              Claim("e", "at_most", 1000.0)]
    r = reconcile(claims, sources)
    assert [a.outlier for a in r.claims] == [False, False, True]
    e = r.estimate
    assert e.value is None and all(iv.high is None for iv in e.intervals)
    assert all(iv.low is not None and 4000 < iv.low < 5000 for iv in e.intervals)
    # The range rests on the 5,000 alone (it sets the end): only its chance of holding counts.
    assert e.p_bounds_hold == pytest.approx(CHANCE_RIGHT["A"], rel=1e-9)
    assert r.summary is not None and r.summary.text.startswith("At least 5,000")


def test_a_figure_keeps_the_fitted_range() -> None:
    sources = [Source("lo", reliability="B"), Source("p", reliability="C")]
    claims = [Claim("lo", "at_least", 2000.0), Claim("p", "point", 2500.0)]
    e = reconcile(claims, sources).estimate
    assert e.basis == "fit" and e.p_bounds_hold is None and e.value is not None


def test_crossing_bounds_of_equal_grades_split_and_close_no_range() -> None:
    """Review: B "at least 10,000" and B "at most 100" gave "about 1,000 (790 to 1,260)", a
    range between them that the model's own posterior gives 0.2 % of its mass."""
    r = _two(10_000, 100, "B", "B")
    assert r.estimate.value is None and r.estimate.p_bounds_hold == 0.0
    assert all(iv.low is None and iv.high is None for iv in r.estimate.intervals)
    assert not any(a.outlier for a in r.claims)
    assert r.summary is not None and r.summary.kind == "split"
    assert "up to 100" in r.summary.text and "at least 10,000" in r.summary.text


def test_crossing_bounds_drop_the_less_credible_one_whatever_the_prior() -> None:
    for prior_scale in (2.5, 10.0, 40.0):
        r = _two(10_000, 100, "A", "C", estimator=RobustEstimator(prior_scale=prior_scale))
        assert [a.outlier for a in r.claims] == [False, True]
        # P(the C bound is the wrong one | exactly one is) = 0.3·0.95 / (0.3·0.95 + 0.7·0.05).
        assert r.claims[1].p_wrong == pytest.approx(0.285 / (0.285 + 0.035), rel=1e-9)
        assert r.estimate.value is None and r.estimate.intervals[0].high is None


def test_a_tight_compatible_pair_keeps_both_bounds_whatever_the_prior() -> None:
    """Review: with τ₀ = 10, A "at least 1,000" and B "at most 1,020" lost the upper bound."""
    for prior_scale in (2.5, 10.0, 40.0):
        r = _two(1000, 1020, "A", "B", estimator=RobustEstimator(prior_scale=prior_scale))
        assert not any(a.outlier for a in r.claims)
        assert r.summary is not None and r.summary.text.startswith("Between 1,000 and 1,020")


def test_crossing_bounds_beside_a_discounted_figure_never_give_a_range_between_them() -> None:
    """CI (hypothesis): the police (A) "at least 12", the organisers (C) "up to 10" and a wire
    figure of 10 judged wrong gave 13.6, and the words said "up to 10" held the estimate
    down. The kept bounds cross: the less credible one is left out."""
    sources = [Source("s0", "the police", reliability="A"),
               Source("s1", "the organisers", reliability="C")]
    claims = [Claim("s0", "at_least", 12.0), Claim("s1", "at_most", 10.0, origin="wire"),
              Claim("s0", "point", 10.0, origin="wire")]
    r = reconcile(claims, sources)
    assert "holds the estimate down" not in r.explanation
    value = r.estimate.value
    assert value is None or value >= 12.0 * (1 - 1e-9) or r.claims[0].outlier


@pytest.mark.parametrize(("kind", "code", "side"),
                         [("at_least", "open_above", "a lower bound, so the top"),
                          ("at_most", "open_below", "an upper bound, so the bottom")])
def test_bounds_all_on_one_side_warn_that_the_other_side_is_open(
    kind: str, code: str, side: str
) -> None:
    sources = [Source("a", reliability="B"), Source("b", reliability="C")]
    r = reconcile([Claim("a", kind, 100.0), Claim("b", kind, 150.0)],  # type: ignore[arg-type]
                  sources)
    (warning,) = [w for w in r.warnings if w.code.startswith("open_")]
    assert warning.code == code and warning.claims == (0, 1)
    assert f"Every claim is {side} of the range" in warning.message
    mixed = reconcile([Claim("a", kind, 100.0), Claim("b", "point", 150.0)],  # type: ignore[arg-type]
                      sources)
    assert not [w for w in mixed.warnings if w.code.startswith("open_")]
