"""Figures that move (issue 14): the filter over time in ``models/dynamics``.

The forward–backward marginals are checked against brute-force enumeration of every path; the
cumulative transition against its defining property; the founding case against properties
derived from the claims' grades (see :func:`test_founding_case`), not against our own output.
"""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from models.claims import Claim, Source
from models.credibility import profile_for
from models.dynamics import (
    DynamicEstimator,
    build_timeline,
    forward_backward,
    reconcile_dynamic,
    step_kernel,
)
from models.dynamics.estimator import grid_quantiles
from models.dynamics.kernels import log_prior, step_cells, step_operator
from models.encode import encode, working_scale
from models.errors import InvalidClaimError, InvalidParameterError
from models.likelihood import log_likelihood_parts
from models.robust import RobustEstimator

ROOT = Path(__file__).resolve().parents[2]

#: Forward–backward against enumeration: the same sums in another order (a 30-point grid and
#: three nodes: 27,000 paths), so only rounding differs.
BRUTE_FORCE_ATOL = 1e-9
#: One-day answers against the static robust model: both integrate the same posterior on
#: different grids (theirs refined with Hermite quadrature, ours uniform with linear density),
#: quantiles agree to O(h²) with h ≈ 0.02 log units.
STATIC_ATOL = 5e-3

#: The filter against the Kalman/RTS smoother (exact for a Gaussian walk with Gaussian claims),
#: in posterior standard deviations. With the grid step at a third of the posterior's spread,
#: the grid's linear-density quantiles are off by O(h²): ≈ 0.001 sd for the median (it sits
#: where the density is flat), ≈ 0.015 sd for the 5 % and 95 % points. A transition whose
#: step variance is off by a share ε over n steps moves them by ≈ ε/2 of the spread it adds;
#: the bin-integrated kernel (excess h²/12 a step, or a walk stuck in its cell when s ≪ h)
#: misses the median by 0.013–0.07 sd.
RTS_MEDIAN_SD = 0.005
RTS_TAIL_SD = 0.03
#: A cumulative series of 365 daily claims fitted on a coarse grid (the fine step chosen by the
#: estimator) against a 2,000-point grid whose step is below a quarter of the daily step's
#: mean (the continuous limit): log units at days 90 and 365. Measured 0.001–0.021; the grid
#: the estimator picks is then at most the mean daily step, where the lattice keeps the
#: step's mean and variance (see models.dynamics.kernels.resolving_step).
GRID_LOG_ATOL = 0.03

D17, D18 = date(2024, 10, 17), date(2024, 10, 18)


def _encode(claims: list[Claim], grades: dict[str, str | None]):  # type: ignore[no-untyped-def]
    profiles = {s: profile_for(g) for s, g in grades.items()}
    ws = working_scale(claims, "log")
    return encode(claims, profiles, ws)


# -- the filter --------------------------------------------------------------------------------


@pytest.mark.parametrize("monotone", [False, True])
@pytest.mark.parametrize("with_total", [False, True])
def test_forward_backward_equals_brute_force(monotone: bool, with_total: bool) -> None:
    claims = [Claim("a", "point", 900.0), Claim("b", "at_least", 1500.0),
              Claim("c", "point", 2500.0, hedge="about"), Claim("d", "point", 400.0)]
    enc = _encode(claims, {"a": "B", "b": "C", "c": None, "d": "E"})
    theta = np.linspace(math.log(200.0), math.log(6000.0), 30)
    right, wrong = log_likelihood_parts(enc, theta)
    ell = np.logaddexp(right, wrong)
    node = np.array([0, 1, 2, 1])  # claim d (a later, lower E figure) joins b's node
    log_ev = np.zeros((3, 30))
    np.add.at(log_ev, node, ell)
    step = float(theta[1] - theta[0])
    kernels = [step_kernel(30, step, 0.4, monotone),
               step_kernel(30, step, 2.5 if with_total else 0.7, monotone)]
    lp = log_prior(theta, 7.5, 2.5)

    chain = forward_backward(lp, log_ev, kernels)

    joint = np.zeros((30, 30, 30))
    for a, b, c in itertools.product(range(30), repeat=3):
        joint[a, b, c] = math.exp(lp[a] + log_ev[0, a] + log_ev[1, b] + log_ev[2, c]) \
            * kernels[0][a, b] * kernels[1][b, c]
    z = joint.sum()
    expected = np.stack([joint.sum(axis=(1, 2)), joint.sum(axis=(0, 2)),
                         joint.sum(axis=(0, 1))]) / z
    np.testing.assert_allclose(chain.marginals, expected, rtol=0, atol=BRUTE_FORCE_ATOL)
    assert chain.log_evidence == pytest.approx(math.log(z), abs=BRUTE_FORCE_ATOL)
    # The same chain with the transitions applied by convolution (what the estimator runs).
    operators = [step_operator(30, step, 0.4, monotone),
                 step_operator(30, step, 2.5 if with_total else 0.7, monotone)]
    fast = forward_backward(lp, log_ev, operators)
    np.testing.assert_allclose(fast.marginals, expected, rtol=0, atol=BRUTE_FORCE_ATOL)
    assert fast.log_evidence == pytest.approx(math.log(z), abs=BRUTE_FORCE_ATOL)


@pytest.mark.parametrize("monotone", [False, True])
def test_toeplitz_step_equals_its_matrix(monotone: bool) -> None:
    op = step_operator(57, 0.03, 0.2, monotone)
    v = np.random.default_rng(5).random(57)

    np.testing.assert_allclose(op.push(v), v @ op.dense(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(op.pull(v), op.dense() @ v, rtol=1e-12, atol=1e-15)


def test_forward_backward_two_nodes_by_hand() -> None:
    prior = np.log(np.array([0.5, 0.5]))
    log_ev = np.log(np.array([[0.9, 0.1], [0.2, 0.8]]))
    k = np.array([[0.7, 0.3], [0.0, 1.0]])

    chain = forward_backward(prior, log_ev, [k])

    joint = np.array([[0.5 * 0.9 * 0.7 * 0.2, 0.5 * 0.9 * 0.3 * 0.8],
                      [0.0, 0.5 * 0.1 * 1.0 * 0.8]])
    np.testing.assert_allclose(chain.marginals[0], joint.sum(axis=1) / joint.sum(), atol=1e-15)
    np.testing.assert_allclose(chain.marginals[1], joint.sum(axis=0) / joint.sum(), atol=1e-15)


@pytest.mark.parametrize("scale", [0.0, 1e-4, 0.05, 0.3, 3.0])
def test_cumulative_transition_never_puts_mass_on_decreases(scale: float) -> None:
    k = step_kernel(80, 0.05, scale, monotone=True)

    assert np.all(np.tril(k, -1) == 0.0)
    np.testing.assert_allclose(k.sum(axis=1), 1.0, atol=1e-12)
    assert np.all(k >= 0.0)


def test_drifting_transition_is_symmetric_inside_the_grid() -> None:
    k = step_kernel(200, 0.05, 0.2, monotone=False)

    np.testing.assert_allclose(k[100, 100 - 7], k[100, 100 + 7], rtol=1e-12)
    assert k[100].sum() == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("monotone", [False, True])
@pytest.mark.parametrize("ratio", [1e-3, 0.05, 0.2, 0.5, math.sqrt(2.0 / math.pi), 1.0, 3.0,
                                   40.0])
def test_transition_keeps_the_steps_mean_and_variance(ratio: float, monotone: bool) -> None:
    """Whatever s/h: the exact mean, and the exact variance wherever a lattice allows it.

    A Gaussian step has mean 0 and variance r² (in grid steps); a folded one r √(2/π) and
    r² (1 − 2/π). A kernel on the integers with mean μ has variance ≥ f(1 − f), f = μ − ⌊μ⌋,
    which the folded step's variance reaches at r = √(2/π); below, that floor is the answer.
    """
    cells, first = step_cells(ratio, monotone)
    d = first + np.arange(cells.shape[0])
    mean = float(cells @ d)
    var = float(cells @ (d - mean) ** 2)
    want_mean = ratio * math.sqrt(2.0 / math.pi) if monotone else 0.0
    want_var = ratio**2 * (1.0 - 2.0 / math.pi) if monotone else ratio**2
    frac = want_mean - math.floor(want_mean)

    assert cells.sum() == pytest.approx(1.0, abs=1e-13)
    assert np.all(cells >= 0.0) and (not monotone or first == 0)
    assert mean == pytest.approx(want_mean, rel=1e-12, abs=1e-14)
    assert var == pytest.approx(max(want_var, frac * (1.0 - frac)), rel=1e-9, abs=1e-15)


def _rts(days: np.ndarray, node: np.ndarray, y: np.ndarray, r: float, m0: float, p0: float,
         q: float) -> tuple[np.ndarray, np.ndarray]:
    """Kalman filter and Rauch–Tung–Striebel smoother for θ_{j+1} = θ_j + N(0, q²Δ_j),
    y_i = θ_{node(i)} + N(0, r²), θ_1 ~ N(m0, p0): smoothed means and variances."""
    n = days.shape[0]
    mf, pf, mp, pp = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    for j in range(n):
        mp[j], pp[j] = (m0, p0) if j == 0 else (mf[j - 1], pf[j - 1] + q * q * (days[j]
                                                                             - days[j - 1]))
        m, p = mp[j], pp[j]
        for i in np.flatnonzero(node == j):
            gain = p / (p + r * r)
            m, p = m + gain * (y[i] - m), (1.0 - gain) * p
        mf[j], pf[j] = m, p
    ms, ps = mf.copy(), pf.copy()
    for j in range(n - 2, -1, -1):
        c = pf[j] / pp[j + 1]
        ms[j] = mf[j] + c * (ms[j + 1] - mp[j + 1])
        ps[j] = pf[j] + c * c * (ps[j + 1] - pp[j + 1])
    return ms, ps


@pytest.mark.parametrize("ratio", [0.05, 0.25, 1.0, 2.0])
def test_drifting_filter_equals_the_kalman_smoother(ratio: float) -> None:
    """A Gaussian walk with Gaussian claims (right only: a test likelihood) over 365 daily
    nodes, on a grid whose step is 1/ratio daily steps: forward–backward must give the RTS
    smoother's Normal marginals (RTS_MEDIAN_SD, RTS_TAIL_SD)."""
    rng = np.random.default_rng(7)
    h, r = 0.02, 0.3
    q = ratio * h
    days = np.arange(365.0)
    truth = np.cumsum(np.r_[0.0, rng.normal(0.0, q, 364)])
    node = np.sort(rng.choice(365, 25, replace=False))
    y = truth[node] + r * rng.normal(size=25)
    mean, var = _rts(days, node, y, r, 0.0, 1.0, q)
    sd = np.sqrt(var)
    lo, hi = float((mean - 8 * sd).min()), float((mean + 8 * sd).max())
    theta = lo + h * np.arange(int(math.ceil((hi - lo) / h)) + 1)
    assert h <= sd.min() / 2.5
    log_ev = np.zeros((365, theta.shape[0]))
    np.add.at(log_ev, node, -0.5 * ((theta[None, :] - y[:, None]) / r) ** 2)
    step = step_operator(theta.shape[0], h, q, monotone=False)

    chain = forward_backward(-0.5 * theta**2, log_ev, [step] * 364)

    found = np.array([grid_quantiles(theta, m, np.array([0.5, 0.05, 0.95]))
                      for m in chain.marginals])
    z = 1.6448536269514722
    assert np.max(np.abs(found[:, 0] - mean) / sd) <= RTS_MEDIAN_SD
    assert np.max(np.abs(found[:, 1] - (mean - z * sd)) / sd) <= RTS_TAIL_SD
    assert np.max(np.abs(found[:, 2] - (mean + z * sd)) / sd) <= RTS_TAIL_SD


@pytest.mark.parametrize("seed", [365, 2])
def test_a_long_daily_cumulative_series_does_not_depend_on_the_grid(seed: int) -> None:
    """365 daily claims (grade C, drawn right) about a count growing by |N(0, 0.02²)| a day
    on the log scale, the drift learned: the estimator's own grid, from a floor of 64 points,
    must give the late levels of a 2,000-point grid (GRID_LOG_ATOL)."""
    rng = np.random.default_rng(seed)
    truth = math.log(2000.0) + np.cumsum(np.r_[0.0, np.abs(rng.normal(0.0, 0.02, 364))])
    claims = [Claim("C", "point", float(math.exp(f)))
              for f in truth + 0.35 * rng.normal(size=365)]
    enc = _encode(claims, {"C": "C"})
    days = list(range(365))

    coarse = DynamicEstimator("cumulative", grid_size=64).fit(enc, days)
    fine = DynamicEstimator("cumulative", grid_size=2000, max_grid_size=2000).fit(enc, days)

    assert coarse.drift_scale == fine.drift_scale
    for day in (90, 364):
        assert abs(coarse.medians[day] - fine.medians[day]) <= GRID_LOG_ATOL, day


# -- claims over time --------------------------------------------------------------------------


def test_a_later_lower_claim_from_a_weak_source_is_wrong_not_a_fall() -> None:
    sources = [Source("s1", reliability="B"), Source("s2", reliability="B"),
               Source("weak", reliability="D")]
    claims = [Claim("s1", "point", 1000.0, as_of=0), Claim("s2", "point", 2000.0, as_of=10),
              Claim("weak", "point", 500.0, as_of=20)]

    cum = reconcile_dynamic(claims, sources, dynamics="cumulative")
    drift = reconcile_dynamic(claims, sources, dynamics="drifting")

    assert cum.claims[2].p_wrong > 0.5
    assert cum.claims[2].p_wrong > cum.claims[2].prior_p_wrong
    values = [t.value for t in cum.trajectory]
    assert values == sorted(values)
    assert cum.estimate.day == 20
    assert cum.estimate.value >= 0.9 * cum.trajectory[1].value
    # The D figure, 2.5 of its spreads below, may pull a wandering level down, not a count.
    assert drift.estimate.value < cum.estimate.value
    assert cum.claims[2].p_wrong > drift.claims[2].p_wrong


def test_a_toll_counted_while_it_grows_many_fold_is_not_called_wrong() -> None:
    """Official counts of a disaster's toll, each right on its day, grow 15-fold in two days
    and again 5-fold in a day (Derna, 2023: 150 on 11 September, 2,300 on the 13th, 11,300 on
    the 14th). Nothing is wrong here: the level rises through every count, each day's 90 %
    range holds that day's count, and no count is called probably wrong."""
    days_counts = ((0, 150.0), (2, 2300.0), (3, 11300.0))
    sources = [Source(f"official{d}", reliability="B") for d, _ in days_counts]
    claims = [Claim(f"official{d}", "point", x, as_of=d) for d, x in days_counts]

    result = reconcile_dynamic(claims, sources, dynamics="cumulative")

    assert all(a.p_wrong < 0.5 for a in result.claims), [a.p_wrong for a in result.claims]
    by_day = {t.day: t for t in result.trajectory}
    for day, count in days_counts:
        wide = by_day[day].intervals[-1]
        assert (wide.low or 0.0) <= count <= (wide.high or math.inf), (day, wide)


def test_cumulative_medians_never_decrease_with_noisy_claims() -> None:
    rng = np.random.default_rng(14)
    days = rng.integers(0, 40, 12)
    claims = [Claim(f"s{i}", "point", float(500 * math.exp(0.03 * d + 0.3 * rng.normal())),
                    as_of=int(d)) for i, d in enumerate(days)]
    sources = [Source(f"s{i}", reliability="C") for i in range(12)]

    result = reconcile_dynamic(claims, sources, dynamics="cumulative")

    values = np.array([t.value for t in result.trajectory])
    assert np.all(np.diff(values) >= -1e-9 * values[1:])


def test_one_claim() -> None:
    result = reconcile_dynamic([Claim("s", "point", 1500.0, as_of=D18)],
                               [Source("s", reliability="B")], dynamics="cumulative")

    assert len(result.trajectory) == 1 and result.total is None
    assert result.estimate.date == D18
    assert result.estimate.value == pytest.approx(1500.0, rel=0.02)
    iv90 = result.estimate.intervals[1]
    assert iv90.low is not None and iv90.high is not None
    assert iv90.low < 1500.0 < iv90.high
    assert [w.code for w in result.warnings] == ["single_claim"]


def test_two_claims_and_a_day_between_them() -> None:
    sources = [Source("a", reliability="B"), Source("b", reliability="B")]
    claims = [Claim("a", "point", 1000.0, as_of=0), Claim("b", "point", 2000.0, as_of=10)]

    result = reconcile_dynamic(claims, sources, dynamics="cumulative", at=5)

    assert [t.day for t in result.trajectory] == [0.0, 5.0, 10.0]
    assert result.estimate.day == 5.0 and result.estimate.claims == ()
    assert result.trajectory[0].value < result.estimate.value < result.trajectory[2].value
    # θ_0 ≤ θ_5 ≤ θ_10 on every path, so every quantile of day 5 is sandwiched.
    for k in range(2):
        first, mid, last = (result.trajectory[j].intervals[k] for j in range(3))
        assert first.low <= mid.low <= last.low  # type: ignore[operator]
        assert first.high <= mid.high <= last.high  # type: ignore[operator]


def test_a_day_after_the_last_claim_widens_the_range() -> None:
    sources = [Source("a", reliability="B")]
    claims = [Claim("a", "point", 1000.0, as_of=0), Claim("a", "point", 1200.0, as_of=10)]

    now = reconcile_dynamic(claims, sources, dynamics="drifting")
    later = reconcile_dynamic(claims, sources, dynamics="drifting", at=40)

    iv_now, iv_later = now.estimate.intervals[1], later.estimate.intervals[1]
    assert iv_later.low < iv_now.low and iv_later.high > iv_now.high
    assert later.trajectory[-1].day == 40.0


def test_twenty_claims_track_a_growing_truth() -> None:
    rng = np.random.default_rng(20)
    days = np.sort(rng.choice(60, 20, replace=False))
    truth = 1000.0 * np.exp(0.02 * days)
    claims = [Claim(f"s{i % 4}", "point", float(t * math.exp(0.2 * rng.normal())),
                    as_of=int(d)) for i, (d, t) in enumerate(zip(days, truth, strict=True))]
    sources = [Source(f"s{i}", reliability="B") for i in range(4)]

    for dynamics in ("cumulative", "drifting"):
        result = reconcile_dynamic(claims, sources, dynamics=dynamics)  # type: ignore[arg-type]
        est = np.array([t.value for t in result.trajectory])
        low = np.array([t.intervals[1].low for t in result.trajectory])
        high = np.array([t.intervals[1].high for t in result.trajectory])
        assert np.mean((low <= truth) & (truth <= high)) >= 0.8
        assert np.median(np.abs(np.log(est / truth))) < 0.12
        assert result.drift_learned and 0.0 < result.drift_scale < 0.5


def test_claims_on_one_date_reduce_to_the_static_model() -> None:
    claims = [Claim("a", "point", 1500.0), Claim("b", "at_most", 10000.0),
              Claim("c", "point", 12000.0, hedge="about"), Claim("d", "range", low=900.0,
                                                                  high=2500.0)]
    enc = _encode(claims, {"a": "B", "b": "C", "c": None, "d": "D"})
    units = np.arange(4)
    for dynamics in ("cumulative", "drifting"):
        # The same prior as the filter's first node (its own, documented τ₀).
        prior = DynamicEstimator(dynamics).prior_scale  # type: ignore[arg-type]
        static = RobustEstimator(prior_scale=prior).fit(enc, units, (0.5, 0.9))
        fit = DynamicEstimator(dynamics).fit(enc, [D18] * 4, units=units)  # type: ignore[arg-type]
        assert fit.marginals.shape[0] == 1
        assert fit.medians[0] == pytest.approx(static.median, abs=STATIC_ATOL)
        for k, q in enumerate((0.5, 0.9)):
            assert fit.intervals[0, k, 0] == pytest.approx(static.quantiles[q][0],
                                                           abs=STATIC_ATOL)
            assert fit.intervals[0, k, 1] == pytest.approx(static.quantiles[q][1],
                                                           abs=STATIC_ATOL)
        np.testing.assert_allclose(fit.p_wrong, static.p_wrong, atol=STATIC_ATOL)


def test_undated_claims_go_to_the_latest_date_with_a_warning() -> None:
    sources = [Source("a", reliability="B")]
    claims = [Claim("a", "point", 1000.0, as_of=D17), Claim("a", "point", 1100.0)]

    result = reconcile_dynamic(claims, sources, dynamics="cumulative")

    assert result.claims[1].day == D17.toordinal()
    assert [w.code for w in result.warnings] == ["undated_claims"]


def test_datetimes_keep_their_order_within_a_day() -> None:
    morning = datetime(2024, 10, 18, 9, tzinfo=timezone(timedelta(hours=9)))  # 00:00 UTC
    evening = datetime(2024, 10, 18, 18)
    timeline = build_timeline([morning, evening], None)

    assert timeline.days[0] == D18.toordinal()
    assert timeline.days[1] == pytest.approx(D18.toordinal() + 0.75)
    assert timeline.calendar and timeline.when(1) == D18


def test_total_only_claims_still_give_a_level() -> None:
    sources = [Source("a", reliability="C")]
    claims = [Claim("a", "point", 10000.0, as_of=D18)]

    result = reconcile_dynamic(claims, sources, dynamics="cumulative", horizons=["total"])

    assert result.total is not None and result.total.value == pytest.approx(10000.0, rel=0.1)
    assert result.claims[0].horizon == "total"
    assert "total_only" in [w.code for w in result.warnings]


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"horizons": ["level", "later"]}, InvalidClaimError),
        ({"horizons": ["level"]}, InvalidClaimError),
        ({"at": 5}, InvalidParameterError),
        ({"levels": (0.9, 1.5)}, InvalidParameterError),
    ],
)
def test_bad_input_is_refused(kwargs: dict[str, object], error: type[Exception]) -> None:
    claims = [Claim("a", "point", 1000.0, as_of=D17), Claim("a", "point", 1100.0, as_of=D18)]
    with pytest.raises(error):
        reconcile_dynamic(claims, [Source("a", reliability="B")], dynamics="drifting",
                          **kwargs)  # type: ignore[arg-type]


def test_mixed_dates_and_day_numbers_are_refused() -> None:
    with pytest.raises(InvalidClaimError, match="mix"):
        build_timeline([D17, 3], None)


@pytest.mark.parametrize("kwargs", [{"dynamics": "static"}, {"dynamics": "drifting",
                                                             "drift_scale": -1.0},
                                    {"dynamics": "drifting", "drift_fit": "median"},
                                    {"dynamics": "drifting", "grid_size": 8}])
def test_bad_hyperparameters_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterError):
        DynamicEstimator(**kwargs)  # type: ignore[arg-type]


# -- the founding case -------------------------------------------------------------------------


def founding_case(anon_grade: str | None) -> tuple[list[Claim], list[Source], list[str]]:
    """The claims of BBC News Mundo, 23 October 2024, with their dates and horizons.

    * NIS (grade B), Friday 18 October: 1,500 soldiers *are* in Russia: a level on 18 October.
    * Sources to South Korean media, 18 October: "the final figure could be closer to 12,000":
      the total, hedge ``could_be``.
    * Zelensky (grade C), "a day earlier" (17 October): intelligence that "up to 10,000"
      soldiers could join: the total. "Up to" names the size of the planned force, the figure
      he warned of; it is not a ceiling on an estimate (he was not saying "no more than 10,000
      and possibly far fewer", which a bound would say). So it is a point of 10,000 with hedge
      ``could_be`` for "could join". Read as ``at_most`` it would fight the 12,000 (its
      probability of being wrong rises to ≈ 0.47) and pull the total down to ≈ 8,800.
    """
    sources = [
        Source("nis", "South Korea NIS", "intelligence_agency", "B"),
        Source("zelensky", "Volodymyr Zelensky", "head_of_state", "C"),
        Source("anon-media", "Sources to South Korean media", "anonymous", anon_grade),
    ]
    claims = [
        Claim("nis", "point", 1500.0, as_of=D18),
        Claim("zelensky", "point", 10000.0, hedge="could_be", as_of=D17),
        Claim("anon-media", "point", 12000.0, hedge="could_be", as_of=D18),
    ]
    return claims, sources, ["level", "total", "total"]


@pytest.mark.parametrize("anon_grade", [None, "C"])
def test_founding_case(anon_grade: str | None) -> None:
    """Expected properties, derived from the grades before running the model.

    Level on 18 October. Only the NIS speaks of it: 1,500 with a B spread σ = 0.2. The prior
    (centre ≈ log 4,250, sd 2.5) and the cumulative link to the total (a half-Normal step of
    scale τ_∞ = 2.5 up to ≈ log 11,000, whose log-density slope there is ≈ 2.0/2.5² = 0.32 per
    log unit) each move the centre by about slope·σ² ≈ 0.01–0.015: the median is 1,500·e^{±0.05},
    within [1,400, 1,650]; its 90 % range holds 1,500 and stays inside 1,500·e^{±1.65·0.2·2}
    ≈ [770, 2,900] (the Cauchy "wrong" part only fattens the tails).

    The eventual total. Two claims speak of it: 10,000 (C, could_be: σ = 0.7, odds of being
    wrong doubled to 0.86) and 12,000 (unknown grade: the A–E mixture with doubled spreads
    0.2–1.6 and odds; or C: σ = 0.7). Their precision-weighted centre lies between log 10,000
    and log 12,000; the posterior sd is ≈ 0.7/√2 ≈ 0.5, so the 90 % range is about
    ×/÷ e^{1.65·0.5} ≈ 2.3 around ≈ 11,000: [≈ 4,800, ≈ 25,000] ⊇ [10,000, 12,000]. The half-
    Normal step from 1,500 can only narrow the upper side slightly.

    No claim is wrong: the two totals agree within one spread, so the data lower both claims'
    odds of being wrong from their prior 0.46 (right density at 0.2σ ≈ 0.57, Cauchy density
    ≈ 0.23); the NIS is alone on its day, near its prior 0.15. All stay below 1/2.
    """
    claims, sources, horizons = founding_case(anon_grade)

    result = reconcile_dynamic(claims, sources, dynamics="cumulative", horizons=horizons)

    oct18 = result.estimate
    assert oct18.date == D18
    assert 1400.0 <= oct18.value <= 1650.0
    iv90 = oct18.intervals[1]
    assert iv90.low is not None and iv90.high is not None
    assert 770.0 <= iv90.low < 1500.0 < iv90.high <= 2900.0
    assert result.total is not None
    total90 = result.total.intervals[1]
    assert total90.low is not None and total90.high is not None
    assert total90.low <= 10000.0 and total90.high >= 12000.0
    assert 10000.0 <= result.total.value <= 12000.0
    assert all(c.p_wrong < 0.5 for c in result.claims)
    assert [t.date for t in result.trajectory] == [D17, D18]
    assert result.trajectory[0].value <= oct18.value


FIXTURE = ROOT / "fixtures" / "dynamics" / "founding_case.json"


def _lookup(obj: object, path: list[str]) -> list[object]:
    """Values at a dotted path; ``*`` fans out over a sequence."""
    if not path:
        return [obj]
    head, rest = path[0], path[1:]
    if head == "*":
        return [v for item in obj for v in _lookup(item, rest)]  # type: ignore[attr-defined]
    if head.isdigit():
        return _lookup(obj[int(head)], rest)  # type: ignore[index]
    return _lookup(getattr(obj, head), rest)


def test_founding_case_fixture() -> None:
    case = json.loads(FIXTURE.read_text(encoding="utf-8"))
    data = case["input"]
    sources = [Source(s["id"], s["name"], s["type"], s["reliability"]) for s in data["sources"]]
    claims = [Claim(c["source"], c["kind"], float(c["value"]), hedge=c.get("hedge", "none"),
                    as_of=date.fromisoformat(c["as_of"])) for c in data["claims"]]

    result = reconcile_dynamic(claims, sources, dynamics=data["dynamics"],
                               horizons=[c["horizon"] for c in data["claims"]],
                               scale=data["scale"], levels=data["levels"])

    assert case["provenance"]["derivation"]
    for check in case["expected"]:
        for value in _lookup(result, check["path"].split(".")):
            if "equals" in check:
                assert str(value) == check["equals"], check
            if "between" in check:
                assert check["between"][0] <= value <= check["between"][1], (check, value)
            if "at_most" in check:
                assert value <= check["at_most"], (check, value)
            if "at_least" in check:
                assert value >= check["at_least"], (check, value)
            if "below" in check:
                assert value < check["below"], (check, value)


# -- the bench ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_coverage_bench_smoke() -> None:
    bench = ROOT / "bench" / "dynamics_coverage.py"
    result = subprocess.run(
        [sys.executable, str(bench), "--questions", "12", "--seed", "3"],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "cover 90%" in result.stdout
