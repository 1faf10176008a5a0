"""The robust model: the founding case, robustness promises, and invariances (hypothesis)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.claims import Claim, Source
from models.reconcile import reconcile
from models.robust import RobustEstimator, conflicts_and_clusters
from tests.helpers import TROOP_CLAIMS, TROOP_SOURCES, estimate_numbers, same_estimate
from tests.tolerances import (
    EQUIVARIANCE_RTOL,
    INVARIANCE_RTOL,
    PLAUSIBLE_EDGE_RTOL,
    QUADRATURE_RTOL,
)

#: τ₀, the smallest standard deviation of the linear scale's prior, restated from
#: docs/model.md (the references below write the model out again rather than import it).
PRIOR_SCALE = 10.0
#: The log scale's prior, restated from docs/model.md: flat in θ over the figures' mid-range
#: ± FLAT_REACH, inside LOG_WINDOW (the whole logs inside the positive doubles' range) and
#: widened to every figure.
FLAT_REACH = 600.0
LOG_WINDOW = (-708.0, 709.0)


def flat_window(thetas: list[float]) -> tuple[float, float]:
    """The log scale's flat-prior window for figures at ``thetas`` (see LOG_WINDOW)."""
    mid = 0.5 * (min(thetas) + max(thetas))
    return (min(max(mid - FLAT_REACH, LOG_WINDOW[0]), min(thetas)),
            max(min(mid + FLAT_REACH, LOG_WINDOW[1]), max(thetas)))


def interval(result, level):  # type: ignore[no-untyped-def]
    return next(iv for iv in result.estimate.intervals if iv.level == level)


def test_troop_case_meets_the_founding_promises() -> None:
    r = reconcile(TROOP_CLAIMS, TROOP_SOURCES, levels=(0.5, 0.9))
    assert r.method == "robust" and r.scale == "log"
    assert 1500 <= r.estimate.value <= 12000
    iv90 = interval(r, 0.9)
    assert iv90.low <= 1500 <= iv90.high
    assert iv90.high > 5000, "the other sources must not be ignored"
    nis, _, anon = r.claims
    assert nis.weight > anon.weight
    assert r.disagreement.detected
    for name in ("South Korea NIS", "Sources to South Korean media"):
        assert name in r.explanation
    assert math.isclose(sum(c.weight for c in r.claims), 1.0, rel_tol=1e-12)


def test_total_deployment_reading_treats_nis_as_lower_bound() -> None:
    claims = [
        Claim("nis", "at_least", 1500),
        Claim("zelensky", "at_most", 10000),
        Claim("anon-media", "point", 12000, hedge="about"),
    ]
    r = reconcile(claims, TROOP_SOURCES, levels=(0.9,))
    assert r.estimate.value > 1500
    assert interval(r, 0.9).low >= 1500 * 0.8


def test_wild_low_credibility_figure_does_not_drag_the_estimate() -> None:
    sources = [Source("a", reliability="B"), Source("b", reliability="B"),
               Source("wild", reliability="E")]
    base = [Claim("a", "point", 1000), Claim("b", "point", 1100)]
    without = reconcile(base, sources[:2]).estimate.value
    with_wild = reconcile([*base, Claim("wild", "point", 1e7)], sources)
    assert abs(math.log(with_wild.estimate.value / without)) < 0.05
    assert with_wild.claims[2].outlier
    assert with_wild.claims[2].weight < 0.05
    assert 2 in with_wild.disagreement.outliers


def test_two_reliable_bounds_pin_the_range() -> None:
    sources = [Source("lo", reliability="A"), Source("hi", reliability="A")]
    claims = [Claim("lo", "at_least", 1000), Claim("hi", "at_most", 2000)]
    r = reconcile(claims, sources, levels=(0.5, 0.9))
    iv = interval(r, 0.9)
    # A-grade bounds are soft by σ_A = 0.1 on the log scale: allow that much beyond each bound.
    assert 1000 * math.exp(-0.1) <= iv.low and iv.high <= 2000 * math.exp(0.1)
    assert 1000 < r.estimate.value < 2000
    assert not r.disagreement.detected


def test_contradictory_bounds_give_finite_numbers_and_a_warning() -> None:
    sources = [Source("lo", reliability="A"), Source("hi", reliability="A")]
    claims = [Claim("lo", "at_least", 10000), Claim("hi", "at_most", 100)]
    r = reconcile(claims, sources)
    # Equally credible bounds that cross split: no value and no closed range, both named.
    assert r.estimate.value is None and r.estimate.p_bounds_hold == 0.0
    assert all(iv.low is None and iv.high is None for iv in r.estimate.intervals)
    assert "contradictory_bounds" in {w.code for w in r.warnings}
    assert r.summary is not None and r.summary.kind == "split"


def test_single_claim_and_single_origin_are_warned() -> None:
    one = reconcile([Claim("nis", "point", 1500)], TROOP_SOURCES)
    assert "single_claim" in {w.code for w in one.warnings}
    assert one.claims[0].weight == 1.0 and one.claims[0].estimate_without is None
    echo = reconcile(
        [Claim(s.id, "point", 1500, origin="yonhap") for s in TROOP_SOURCES], TROOP_SOURCES
    )
    assert "single_origin" in {w.code for w in echo.warnings}


def test_unknown_grade_is_more_uncertain_than_average() -> None:
    def width(grade: str | None) -> float:
        r = reconcile([Claim("s", "point", 1000)], [Source("s", reliability=grade)],
                      levels=(0.9,))
        return interval(r, 0.9).high / interval(r, 0.9).low

    assert width("F") > width("C")
    assert width(None) == width("F")
    assert width("A") < width("B") < width("C") < width("D") < width("E")


def test_hedges_widen_in_order() -> None:
    def width(hedge: str) -> float:
        claim = Claim("s", "point", 1000, hedge=hedge)  # type: ignore[arg-type]
        r = reconcile([claim], [Source("s", reliability="B")], levels=(0.9,))
        return interval(r, 0.9).high / interval(r, 0.9).low

    widths = [width(h) for h in ("exact", "none", "about", "could_be", "rumour")]
    assert widths == sorted(widths) and len(set(widths)) == 5


def test_gaussian_limit_matches_closed_form() -> None:
    # With credibility → 1 the mixture loses its "wrong" part and two point claims give the
    # inverse-variance Normal posterior (the prior, sd ≥ 10, is negligible against σ = 0.1).
    sources = [Source("a", reliability=0.999999), Source("b", reliability=0.999999)]
    r = reconcile([Claim("a", "point", 1000), Claim("b", "point", 1050)], sources,
                  levels=(0.5, 0.9))
    centre = 0.5 * (math.log(1000) + math.log(1050))
    sd = 0.1 / math.sqrt(2)
    assert math.log(r.estimate.value) == pytest.approx(centre, abs=QUADRATURE_RTOL * sd)
    for iv, z in zip(r.estimate.intervals, (0.6744897501960817, 1.6448536269514722),
                     strict=True):
        assert math.log(iv.high) - math.log(iv.low) == pytest.approx(2 * z * sd,
                                                                     rel=QUADRATURE_RTOL)
    assert r.claims[0].weight == pytest.approx(0.5, abs=1e-3)


def _independent_troop_posterior() -> tuple[float, float, float]:
    """Median and 90 % interval of the troop posterior by adaptive quadrature (scipy.integrate),
    with the likelihood written out again from the model's definition, not from our code."""
    from scipy import integrate, optimize, stats

    grades = {"A": (0.95, 0.10), "B": (0.85, 0.20), "C": (0.70, 0.35), "D": (0.50, 0.55),
              "E": (0.30, 0.80)}

    def mix(c: float, s: float, right, wrong) -> float:  # type: ignore[no-untyped-def]
        return c * right(s) + (1 - c) * wrong(max(1.0, 2 * s))

    def nis(t: float) -> float:  # point 1500, grade B
        x = math.log(1500)
        return mix(*grades["B"], lambda s: stats.norm.pdf(x, t, s),
                   lambda s: stats.cauchy.pdf(x, t, s))

    def zel(t: float) -> float:  # at_most 10000, grade C
        u = math.log(10000)
        return mix(*grades["C"], lambda s: stats.norm.cdf(u, t, s),
                   lambda s: stats.cauchy.cdf(u, t, s))

    def anon(t: float) -> float:  # point 12000 "about" (spread ×1.5), grade F = mixture A–E
        x = math.log(12000)
        return sum(0.2 * mix(c, 1.5 * s, lambda q: stats.norm.pdf(x, t, q),
                             lambda q: stats.cauchy.pdf(x, t, q)) for c, s in grades.values())

    def post(t: float) -> float:  # the log scale's prior is flat over flat_window
        return float(nis(t) * zel(t) * anon(t))

    lo, hi = flat_window(figures := [math.log(1500), math.log(10000), math.log(12000)])
    # Breaks at the figures and at tenfold distances (the Cauchy tails reach the window's ends).
    pts = sorted({x + sign * d for x in figures for d in (0.0, 1.0, 10.0, 100.0)
                  for sign in (-1, 1) if lo < x + sign * d < hi})
    total = integrate.quad(post, lo, hi, points=pts, limit=500, epsabs=0, epsrel=1e-10)[0]

    def cdf(t: float) -> float:
        inner = [p for p in pts if lo < p < t]
        return integrate.quad(post, lo, t, points=inner or None, limit=500, epsabs=0,
                              epsrel=1e-10)[0] / total

    def q(p: float) -> float:
        return math.exp(optimize.brentq(lambda t: cdf(t) - p, lo + 1, hi - 1, xtol=1e-10))

    return q(0.5), q(0.05), q(0.95)


def test_grid_posterior_matches_independent_quadrature() -> None:
    median, low, high = _independent_troop_posterior()
    r = reconcile(TROOP_CLAIMS, TROOP_SOURCES, levels=(0.9,))
    assert r.estimate.value == pytest.approx(median, rel=QUADRATURE_RTOL)
    assert r.estimate.intervals[0].low == pytest.approx(low, rel=QUADRATURE_RTOL)
    assert r.estimate.intervals[0].high == pytest.approx(high, rel=QUADRATURE_RTOL)


def _independent_points_posterior(
    thetas: list[float], grades: list[str], flat: bool = False
) -> tuple[float, float, float]:
    """Median and 90 % interval, on the working scale, of point claims at ``thetas`` from
    single-grade sources, by adaptive quadrature with the model written out again; ``flat``:
    the log scale's flat prior over LOG_WINDOW, else the linear scale's Normal."""
    from scipy import integrate, optimize, stats

    table = {"A": (0.95, 0.10), "B": (0.85, 0.20), "C": (0.70, 0.35), "D": (0.50, 0.55),
             "E": (0.30, 0.80)}
    centre = 0.5 * (min(thetas) + max(thetas))
    scale = max(PRIOR_SCALE, max(thetas) - min(thetas))

    def post(t: float) -> float:
        p = 1.0 if flat else float(stats.norm.pdf(t, centre, scale))
        for x, grade in zip(thetas, grades, strict=True):
            c, s = table[grade]
            p *= c * stats.norm.pdf(x, t, s) + (1 - c) * stats.cauchy.pdf(x, t, max(1.0, 2 * s))
        return p

    # Break the line at every claim, a few spreads around it (the peaks are narrow) and at
    # distances growing tenfold (the tails are long), so that each piece is an easy integral.
    lo, hi = flat_window(thetas) if flat else (centre - 40 * scale, centre + 40 * scale)
    reach = [10.0**k for k in range(-1, int(math.log10(hi - lo)) + 2)]
    pts = sorted({x + sign * d for x in thetas for d in (0.0, 0.03, 0.3, *reach)
                  for sign in (-1, 1) if lo < x + sign * d < hi})

    def mass(a: float, b: float) -> float:
        return float(integrate.quad(post, a, b, limit=200, epsabs=0, epsrel=1e-11)[0])

    edges = [lo, *pts, hi]
    pieces = np.array([mass(u, v) for u, v in zip(edges, edges[1:], strict=False)])
    cdf = np.concatenate([[0.0], np.cumsum(pieces)]) / pieces.sum()

    def q(p: float) -> float:
        k = int(np.searchsorted(cdf, p) - 1)  # the piece [edges[k], edges[k+1]] holds it
        start = edges[k]
        return float(optimize.brentq(
            lambda t: cdf[k] + mass(start, t) / pieces.sum() - p, start, edges[k + 1],
            xtol=1e-13,
        ))

    return q(0.5), q(0.05), q(0.95)


@pytest.mark.parametrize(
    ("figures", "scale"),
    [
        ((1.0, 2.0, 1e4), "log"),
        ((1.0, 2.0, 1e9), "log"),
        ((-1.0, 2.0, 1e3), "linear"),
        ((-1.0, 2.0, 1e9), "linear"),
    ],
    ids=["log-1e4", "log-1e9", "linear-1e3", "linear-1e9"],
)
def test_figures_many_spreads_apart_match_independent_quadrature(
    figures: tuple[float, float, float], scale: str
) -> None:
    # Two precise sources that disagree and a poor one orders of magnitude away: the grid's
    # uniform step is then many times the precise sources' spread (it was 31.6 instead of
    # about 0.53 for linear-1e4 before the grid was refined around such claims).
    grades = ["A", "A", "E"]
    sources = [Source(f"s{i}", reliability=g) for i, g in enumerate(grades)]
    claims = [Claim(f"s{i}", "point", x) for i, x in enumerate(figures)]
    if scale == "log":
        thetas = [math.log(x) for x in figures]
    else:  # θ = (x − median) / median |x ≠ 0|
        centre, unit = float(np.median(figures)), float(np.median(np.abs(figures)))
        thetas = [(x - centre) / unit for x in figures]
    median, low, high = _independent_points_posterior(thetas, grades, flat=scale == "log")

    r = reconcile(claims, sources, scale=scale, levels=(0.9,))

    def back(t: float) -> float:
        return math.exp(t) if scale == "log" else centre + unit * t

    assert r.estimate.value == pytest.approx(back(median), rel=QUADRATURE_RTOL)
    assert interval(r, 0.9).low == pytest.approx(back(low), rel=QUADRATURE_RTOL)
    assert interval(r, 0.9).high == pytest.approx(back(high), rel=QUADRATURE_RTOL)


def test_linear_scale_handles_negative_values() -> None:
    sources = [Source("a", reliability="B"), Source("b", reliability="B")]
    r = reconcile([Claim("a", "point", -2.0), Claim("b", "point", -2.2)], sources)
    assert r.scale == "linear"
    assert -2.2 <= r.estimate.value <= -2.0


def test_conflicts_and_clusters_sweep() -> None:
    plausible = np.array([[0.0, 1.0], [-np.inf, 5.0], [3.0, 4.0], [10.0, np.inf]])
    conflicts, clusters = conflicts_and_clusters(plausible, np.arange(4))
    assert conflicts == [(0, 2), (0, 3), (1, 3), (2, 3)]
    assert sorted(clusters) == [[0, 1], [1, 2], [3]]


def test_estimator_validates_hyperparameters() -> None:
    with pytest.raises(ValueError, match="grid_size"):
        RobustEstimator(grid_size=3)
    with pytest.raises(ValueError, match="compatibility"):
        RobustEstimator(compatibility=1.5)


# -- properties ------------------------------------------------------------------------------

GRADES = st.sampled_from(["A", "B", "C", "D", "E", "F", None])


@st.composite
def claim_sets(draw: st.DrawFn) -> tuple[list[Claim], list[Source]]:
    n = draw(st.integers(1, 7))
    sources = [Source(f"s{i}", reliability=draw(GRADES)) for i in range(n)]
    claims = []
    for i in range(n):
        kind = draw(st.sampled_from(["point", "point", "at_least", "at_most", "range"]))
        x = draw(st.floats(10.0, 1e6))
        if kind == "range":
            width = draw(st.floats(1.0, 3.0))
            claims.append(Claim(f"s{i}", "range", low=x, high=x * width))
        else:
            claims.append(Claim(f"s{i}", kind, x))  # type: ignore[arg-type]
    return claims, sources


@settings(max_examples=60, deadline=None)
@given(claim_sets(), st.randoms(use_true_random=False))
def test_claim_order_does_not_matter(data: tuple[list[Claim], list[Source]], rnd) -> None:  # type: ignore[no-untyped-def]
    claims, sources = data
    r1 = reconcile(claims, sources, levels=(0.5, 0.9))
    order = list(range(len(claims)))
    rnd.shuffle(order)
    r2 = reconcile([claims[i] for i in order], sources[::-1], levels=(0.5, 0.9))
    assert same_estimate(r1.estimate, r2.estimate, INVARIANCE_RTOL), (r1.estimate, r2.estimate)
    for new_pos, old in enumerate(order):
        assert r2.claims[new_pos].weight == pytest.approx(r1.claims[old].weight, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(claim_sets(), st.floats(1e-3, 1e3))
def test_scaling_all_values_scales_estimate_and_range(
    data: tuple[list[Claim], list[Source]], k: float
) -> None:
    claims, sources = data
    scaled = [
        replace(c, value=None if c.value is None else c.value * k,
                low=None if c.low is None else c.low * k,
                high=None if c.high is None else c.high * k)
        for c in claims
    ]
    r1 = reconcile(claims, sources, levels=(0.9,))
    r2 = reconcile(scaled, sources, levels=(0.9,))
    assert same_estimate(r1.estimate, r2.estimate, EQUIVARIANCE_RTOL, k), (r1, r2)


@settings(max_examples=60, deadline=None)
@given(claim_sets())
def test_outputs_are_finite_nested_and_contain_the_estimate(
    data: tuple[list[Claim], list[Source]]
) -> None:
    claims, sources = data
    r = reconcile(claims, sources, levels=(0.5, 0.8, 0.95))
    ivs = r.estimate.intervals
    # Open ends (None) only where bounds on one side are all the evidence: then no value.
    numbers = estimate_numbers(r.estimate)
    assert all(math.isfinite(x) for x in numbers if x is not None)
    assert (None in numbers) == (r.estimate.value is None) == (r.estimate.basis == "bounds"
                                                               and r.estimate.value is None)
    inf = math.inf
    value = r.centre if r.estimate.value is None else r.estimate.value
    for inner, outer in zip(ivs, ivs[1:], strict=False):
        lows = [-inf if x is None else x for x in (outer.low, inner.low)]
        highs = [inf if x is None else x for x in (inner.high, outer.high)]
        assert lows[0] <= lows[1] and highs[0] <= highs[1]
    for iv in ivs:
        if r.estimate.value is not None:
            assert (-inf if iv.low is None else iv.low) <= value
            assert value <= (inf if iv.high is None else iv.high)
    weights = [c.weight for c in r.claims]
    assert all(0.0 <= w <= 1.0 for w in weights)
    assert sum(weights) == pytest.approx(1.0, abs=1e-9)
    assert all(0.0 <= (c.p_wrong or 0.0) <= 1.0 for c in r.claims)


@settings(max_examples=40, deadline=None)
@given(st.floats(100, 1e5), st.floats(1.5, 20), st.floats(0.05, 0.9), st.floats(0.05, 0.9))
def test_more_credibility_pulls_the_estimate_towards_the_source(
    x: float, ratio: float, c_low: float, c_gain: float
) -> None:
    c_high = min(0.99, c_low + c_gain)
    claims = [Claim("anchor", "point", x), Claim("other", "point", x * ratio)]

    def estimate(c_other: float) -> float:
        sources = [Source("anchor", reliability="C"), Source("other", reliability=c_other)]
        return reconcile(claims, sources).estimate.value

    assert estimate(c_high) >= estimate(c_low) * (1 - 1e-9)


@settings(max_examples=40, deadline=None)
@given(claim_sets(), st.integers(1, 4))
def test_echoes_of_one_origin_count_once(
    data: tuple[list[Claim], list[Source]], copies: int
) -> None:
    claims, sources = data
    tagged = [replace(c, origin=f"o{i}") for i, c in enumerate(claims)]
    echoes = [replace(tagged[0], source=f"echo{j}") for j in range(copies)]
    echo_sources = [replace(sources[0], id=f"echo{j}") for j in range(copies)]
    r1 = reconcile(tagged, sources, levels=(0.9,))
    r2 = reconcile(tagged + echoes, sources + echo_sources, levels=(0.9,))
    assert same_estimate(r1.estimate, r2.estimate, INVARIANCE_RTOL), (r1.estimate, r2.estimate)


@settings(max_examples=40, deadline=None)
@given(st.floats(100, 1e5), st.floats(0.2, 5.0), st.sampled_from(["A", "B", "C"]))
def test_adding_a_credible_claim_moves_the_estimate_towards_it(
    x: float, ratio: float, grade: str
) -> None:
    base_sources = [Source("a", reliability="C"), Source("b", reliability="C")]
    base = [Claim("a", "point", x), Claim("b", "point", x * 1.1)]
    before = reconcile(base, base_sources).estimate.value
    target = x * ratio
    after = reconcile([*base, Claim("new", "point", target)],
                      [*base_sources, Source("new", reliability=grade)]).estimate.value
    assert abs(math.log(after / target)) <= abs(math.log(before / target)) + 1e-9


@pytest.mark.parametrize(
    ("claims", "method"),
    [
        ([Claim("a", "point", 100, sd=1e300), Claim("b", "point", 120)], "robust"),
        ([Claim("a", "point", -5, sd=1e308), Claim("b", "point", 3)], "robust"),
        ([Claim("a", "point", 100, ci_low=99.9999999, ci_high=100.0000001),
          Claim("b", "point", 1e6)], "robust"),
        ([Claim("a", "point", 5e-324), Claim("b", "point", 1e-323)], "robust"),
        ([Claim("a", "point", 0.0), Claim("b", "point", 0.0)], "robust"),
    ],
)
def test_extreme_but_legal_input_gives_finite_numbers(claims: list[Claim], method: str) -> None:
    sources = [Source("a", reliability="B"), Source("b", reliability="C")]
    r = reconcile(claims, sources, levels=(1e-9, 0.5, 0.999999999), method=method)
    numbers = [r.estimate.value] + [x for iv in r.estimate.intervals for x in (iv.low, iv.high)]
    numbers += [c.weight for c in r.claims] + [c.influence for c in r.claims]
    assert all(math.isfinite(x) for x in numbers)


@pytest.mark.parametrize("method", ["random_effects", "fixed_effect"])
def test_pooling_refuses_unrepresentable_variances_naming_the_claim(method: str) -> None:
    sources = [Source("a"), Source("b")]
    claims = [Claim("a", "point", -5, sd=1e200), Claim("b", "point", 3, sd=1.0)]
    with pytest.raises(ValueError, match="too small or too large") as info:
        reconcile(claims, sources, method=method)
    assert getattr(info.value, "field", None) == "claims.0.sd"


def test_one_sources_complementary_claims_are_not_tempered_as_echoes() -> None:
    """Issue 13, point 4: "at least 1,000", "at most 2,000" and "1,500" from one A source gave a
    90 % range of 9 to 220,000 (each tempered to the power 1/3 as if it repeated the others)."""
    source = [Source("a", reliability="A")]
    claims = [Claim("a", "at_least", 1000.0), Claim("a", "at_most", 2000.0),
              Claim("a", "point", 1500.0)]
    wide = reconcile(claims, source, levels=(0.9,)).estimate.intervals[0]
    assert wide.low is not None and wide.high is not None
    assert 1000 * math.exp(-0.3) < wide.low < 1500 < wide.high < 2000 * math.exp(0.3)
    # Two figures from one source stay one piece of evidence: a repeat adds nothing.
    once = reconcile([Claim("a", "point", 1500.0)], source).estimate
    twice = reconcile([Claim("a", "point", 1500.0), Claim("a", "point", 1500.0)], source).estimate
    assert same_estimate(once, twice, INVARIANCE_RTOL)


# --- Issue 13, point 9 -----------------------------------------------------------------------

#: The documented grade table (docs/model.md), restated: (c, σ) of A-E.
DOCUMENTED_GRADES = {"A": (0.95, 0.10), "B": (0.85, 0.20), "C": (0.70, 0.35),
                     "D": (0.50, 0.55), "E": (0.30, 0.80)}


def plausible_width(grade: str | None) -> float:
    from models.credibility import profile_for
    from models.encode import encode, working_scale

    claims = (Claim("s", "point", 1000.0),)
    enc = encode(claims, {"s": profile_for(grade)}, working_scale(claims, "log"))
    low, high = RobustEstimator().fit(enc, np.zeros(1, dtype=np.int64), (0.9,)).plausible[0]
    return float(high - low)


def test_an_unjudged_claim_is_plausible_over_more_than_a_c_claim() -> None:
    """'Cannot be judged' means more uncertain: the F claim's set (the A-E mixture's central
    95.4 %) is wider than the C claim's (±2σ_C) and narrower than the E claim's."""
    assert plausible_width("C") == pytest.approx(4 * 0.35, rel=1e-9)
    assert plausible_width("C") < plausible_width(None) < plausible_width("E")


@pytest.mark.parametrize("grade", ["A", "C", "E"])
def test_a_ranges_plausible_set_ends_where_its_likelihood_ratio_is_the_threshold(
    grade: str,
) -> None:
    """Taken at its word, a range [L, U] of spread σ makes θ plausible where
    [Φ((log U − θ)/σ) − Φ((log L − θ)/σ)] / [2Φ(w/σ) − 1] ≥ t = e⁻², w the half-width: at both
    ends of the set the ratio is t itself (recomputed here with scipy from the grade table)."""
    from scipy.stats import norm

    from models.credibility import profile_for
    from models.encode import encode, working_scale

    claims = (Claim("s", "range", None, 1000.0, 2000.0),)
    enc = encode(claims, {"s": profile_for(grade)}, working_scale(claims, "log"))
    low, high = RobustEstimator().fit(enc, np.zeros(1, dtype=np.int64), (0.9,)).plausible[0]
    sigma = DOCUMENTED_GRADES[grade][1]
    lo, hi = math.log(1000.0), math.log(2000.0)
    peak = 2.0 * norm.cdf((hi - lo) / (2 * sigma)) - 1.0
    for end in (low, high):
        ratio = (norm.cdf((hi - end) / sigma) - norm.cdf((lo - end) / sigma)) / peak
        assert ratio == pytest.approx(math.exp(-2.0), rel=PLAUSIBLE_EDGE_RTOL)
    assert 0.5 * (low + high) == pytest.approx(0.5 * (lo + hi), rel=PLAUSIBLE_EDGE_RTOL)


def test_robust_i2_is_metafors_tau2_based_i2_with_the_claims_variances() -> None:
    """Two unjudged point claims: I² = τ²/(τ² + s²) (DerSimonian-Laird τ², Higgins & Thompson
    2002) with each claim's right-part variance Σ ω_k σ_k², ω_k ∝ c_k (the A-E mixture),
    recomputed here from the documented table."""
    figures = (1000.0, 2600.0)
    claims = tuple(Claim(f"s{i}", "point", x) for i, x in enumerate(figures))
    r = reconcile(claims, tuple(Source(f"s{i}") for i in range(2)))
    c = np.array([v[0] for v in DOCUMENTED_GRADES.values()])
    s = np.array([v[1] for v in DOCUMENTED_GRADES.values()])
    v = float(np.sum(c * s**2) / c.sum())
    y = np.log(figures)
    q = float(np.sum((y - y.mean()) ** 2) / v)  # equal weights 1/v
    w = np.full(2, 1.0 / v)
    tau2 = max(0.0, (q - 1) / (w.sum() - (w**2).sum() / w.sum()))
    typical = (2 - 1) * w.sum() / (w.sum() ** 2 - (w**2).sum())
    assert r.disagreement.i2 == pytest.approx(tau2 / (tau2 + typical), rel=1e-9)
