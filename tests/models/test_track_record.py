"""Learning credibility from resolved questions (empirical Bayes over track records)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from models.credibility import profile_for
from models.errors import InvalidClaimError
from models.track_record import ResolvedClaim, learn_track_records


def simulate(rng: np.random.Generator, n_sources: int, n_questions: int, per_question: int
             ) -> tuple[list[ResolvedClaim], np.ndarray, np.ndarray, np.ndarray]:
    """Point claims from sources of known quality (right w.p. c, N(β, σ) off; else Cauchy)."""
    c = rng.uniform(0.2, 0.97, n_sources)
    sigma = 0.05 + 0.6 * (1 - c)
    bias = rng.normal(0, 0.1, n_sources)
    records = []
    for q in range(n_questions):
        truth = math.exp(rng.uniform(5, 12))
        for s in rng.choice(n_sources, size=per_question, replace=False):
            if rng.random() < c[s]:
                offset = bias[s] + rng.normal(0, sigma[s])
            else:
                offset = float(rng.standard_cauchy())
            value = truth * math.exp(min(max(offset, -300.0), 300.0))
            records.append(ResolvedClaim(f"s{s}", "point", truth, "log", f"q{q}", value=value))
    return records, c, sigma, bias


def test_quality_order_is_recovered() -> None:
    rng = np.random.default_rng(3)
    records, c, sigma, bias = simulate(rng, 25, 200, 5)
    priors = {f"s{s}": profile_for("C") for s in range(25)}
    out = learn_track_records(records, priors, {s: "other" for s in priors})
    learned = [out[f"s{s}"] for s in range(25)]
    truth_rate = [
        learned_profile_rate(c[s], sigma[s], bias[s]) for s in range(25)
    ]
    rho = spearmanr([t.hit_rate for t in learned], truth_rate).statistic
    assert rho >= 0.8
    assert all(t.n_resolved > 0 and t.profile.origin == "learned" for t in learned)


def learned_profile_rate(c: float, sigma: float, bias: float) -> float:
    from models.credibility import learned_profile

    return learned_profile(c, sigma, bias).hit_rate()


def test_one_lucky_hit_does_not_make_an_unreliable_source_reliable() -> None:
    priors = {"e": profile_for("E"), "a": profile_for("A")}
    record = ResolvedClaim("e", "point", 1000.0, "log", "q1", value=1000.0)
    out = learn_track_records([record], priors, {"e": "anonymous", "a": "government"})
    assert out["e"].credibility is not None
    assert profile_for("E").credibility < out["e"].credibility < 0.45
    assert out["a"].credibility is None and out["a"].profile == priors["a"]


def test_systematic_inflation_is_learned_as_bias() -> None:
    rng = np.random.default_rng(5)
    records = [
        ResolvedClaim("inflator", "point", t, "log", f"q{i}",
                      value=t * math.exp(0.3 + rng.normal(0, 0.05)))
        for i, t in enumerate(np.exp(rng.uniform(4, 10, 80)))
    ]
    out = learn_track_records(records, {"inflator": profile_for("B")},
                              {"inflator": "government"})
    assert out["inflator"].bias == pytest.approx(0.3, abs=0.03)
    assert out["inflator"].spread is not None and out["inflator"].spread < 0.15


def test_calibration_counts_stated_intervals_containing_the_truth() -> None:
    records = [
        ResolvedClaim("s", "range", 100.0, "log", "q1", low=90.0, high=110.0),
        ResolvedClaim("s", "at_least", 100.0, "log", "q2", value=120.0),
        ResolvedClaim("s", "at_most", 100.0, "log", "q3", value=150.0),
        ResolvedClaim("s", "point", 100.0, "log", "q4", value=101.0, ci_low=95.0,
                      ci_high=99.0),
        ResolvedClaim("s", "point", 100.0, "log", "q5", value=101.0),
    ]
    out = learn_track_records(records, {"s": profile_for("C")}, {"s": "expert"})["s"]
    assert out.n_calibration == 4
    assert out.calibration == pytest.approx(0.5)
    assert out.observed_hit_rate == pytest.approx(1.0)
    assert out.n_resolved == 5


def test_linear_scale_and_bad_truth() -> None:
    ok = [ResolvedClaim("s", "point", -20.0, "linear", "q", value=-21.0)]
    out = learn_track_records(ok, {"s": profile_for("B")}, {"s": "other"})
    assert out["s"].credibility is not None and 0 < out["s"].credibility < 1
    bad = [ResolvedClaim("s", "point", 0.0, "log", "q", value=1.0)]
    with pytest.raises(InvalidClaimError, match="resolution"):
        learn_track_records(bad, {"s": profile_for("B")}, {"s": "other"})
    with pytest.raises(InvalidClaimError, match="Unknown source"):
        learn_track_records(ok, {}, {})


def test_hit_rate_orders_the_grades() -> None:
    rates = [profile_for(g).hit_rate() for g in "ABCDE"]
    assert rates == sorted(rates, reverse=True)
    assert 0 < rates[-1] < rates[0] < 1
