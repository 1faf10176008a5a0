"""Learning credibility from resolved questions (empirical Bayes over track records)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import spearmanr

from models.claims import Claim, Hedge
from models.credibility import profile_for
from models.errors import InvalidClaimError
from models.track_record import ResolvedClaim, learn_track_records
from tests.tolerances import INVARIANCE_RTOL, QUALITY_SPEARMAN_MIN


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
            records.append(ResolvedClaim(Claim(f"s{s}", "point", value=value), truth, "log",
                                         f"q{q}"))
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
    record = ResolvedClaim(Claim("e", "point", value=1000.0), 1000.0, "log", "q1")
    out = learn_track_records([record], priors, {"e": "anonymous", "a": "government"})
    assert out["e"].credibility is not None
    assert profile_for("E").credibility < out["e"].credibility < 0.45
    assert out["a"].credibility is None and out["a"].profile == priors["a"]


def test_systematic_inflation_is_learned_as_bias() -> None:
    rng = np.random.default_rng(5)
    records = [
        ResolvedClaim(Claim("inflator", "point", value=t * math.exp(0.3 + rng.normal(0, 0.05))),
                      t, "log", f"q{i}")
        for i, t in enumerate(np.exp(rng.uniform(4, 10, 80)))
    ]
    out = learn_track_records(records, {"inflator": profile_for("B")},
                              {"inflator": "government"})
    assert out["inflator"].bias == pytest.approx(0.3, abs=0.03)
    assert out["inflator"].spread is not None and out["inflator"].spread < 0.15


def test_calibration_counts_stated_intervals_containing_the_truth() -> None:
    records = [
        ResolvedClaim(Claim("s", "range", low=90.0, high=110.0), 100.0, "log", "q1"),
        ResolvedClaim(Claim("s", "at_least", value=120.0), 100.0, "log", "q2"),
        ResolvedClaim(Claim("s", "at_most", value=150.0), 100.0, "log", "q3"),
        ResolvedClaim(Claim("s", "point", value=101.0, ci_low=95.0, ci_high=99.0), 100.0, "log",
                      "q4"),
        ResolvedClaim(Claim("s", "point", value=101.0), 100.0, "log", "q5"),
    ]
    out = learn_track_records(records, {"s": profile_for("C")}, {"s": "expert"})["s"]
    assert out.n_calibration == 4
    assert out.calibration == pytest.approx(0.5)
    assert out.observed_hit_rate == pytest.approx(1.0)
    assert out.n_resolved == 5


def test_linear_scale_and_bad_truth() -> None:
    ok = [ResolvedClaim(Claim("s", "point", value=-21.0), -20.0, "linear", "q")]
    out = learn_track_records(ok, {"s": profile_for("B")}, {"s": "other"})
    assert out["s"].credibility is not None and 0 < out["s"].credibility < 1
    bad = [ResolvedClaim(Claim("s", "point", value=1.0), 0.0, "log", "q")]
    with pytest.raises(InvalidClaimError, match="resolution"):
        learn_track_records(bad, {"s": profile_for("B")}, {"s": "other"})
    with pytest.raises(InvalidClaimError, match="Unknown source"):
        learn_track_records(ok, {}, {})


def test_hit_rate_orders_the_grades() -> None:
    rates = [profile_for(g).hit_rate() for g in "ABCDE"]
    assert rates == sorted(rates, reverse=True)
    assert 0 < rates[-1] < rates[0] < 1


# --- Issue 13, point 7 -----------------------------------------------------------------------


def test_an_unjudged_source_stays_a_mixture_after_one_resolution() -> None:
    """A miss by a factor 2 moves the A–E posterior towards D and E; it does not collapse the
    unknown grade into one component, nor make the source look better than before."""
    prior = profile_for("F")
    record = ResolvedClaim(Claim("f", "point", value=2000.0), 1000.0, "log", "q1")
    learned = learn_track_records([record], {"f": prior}, {"f": "other"})["f"]
    comps = learned.profile.components
    assert len(comps) == len(prior.components) == 5
    # Components keep the grade order (A first, E last): D and E gain weight.
    assert comps[3].weight + comps[4].weight > 0.4 + 0.05
    assert comps[0].weight < 0.2
    assert learned.profile.expected_miss() > prior.expected_miss()
    assert learned.quality is not None and learned.quality < prior.equivalent_credibility()


def test_claims_of_one_source_on_one_question_count_once() -> None:
    one = [ResolvedClaim(Claim("s", "point", value=3000.0), 1000.0, "log", "q1")]
    many = one * 10
    a = learn_track_records(one, {"s": profile_for("B")}, {"s": "other"})["s"]
    b = learn_track_records(many, {"s": profile_for("B")}, {"s": "other"})["s"]
    assert b.n_resolved == 10 and b.n_questions == 1
    assert b.credibility == pytest.approx(a.credibility, rel=INVARIANCE_RTOL)
    assert b.spread == pytest.approx(a.spread, rel=INVARIANCE_RTOL)


def test_a_miss_the_claim_stated_does_not_widen_its_source() -> None:
    """Claims stating sd ≈ 50 %, missing by what they stated: the source is as precise as its
    grade says (the reconciler adds the claim's own sd to σ; learning must too)."""
    rng = np.random.default_rng(11)
    s_log = 0.5
    sd = math.sqrt(math.expm1(s_log**2))  # the log-normal sd ratio that encodes to 0.5
    records = [
        ResolvedClaim(Claim("s", "point",
                            value=1000.0 * math.exp(s_log * float(rng.standard_normal())),
                            sd=1000.0 * sd), 1000.0, "log", f"q{i}")
        for i in range(60)
    ]
    out = learn_track_records(records, {"s": profile_for("B")}, {"s": "other"})["s"]
    assert out.spread is not None and out.spread < 0.25
    assert out.credibility is not None and out.credibility > 0.8


def test_a_wrong_rumour_costs_less_credibility_than_a_wrong_plain_figure() -> None:
    """A rumour has triple the odds of being wrong when reconciled, so when it turns out wrong
    it was expected to be: its source loses less credibility than for a plain wrong figure."""
    def after(hedge: Hedge) -> float:
        rec = ResolvedClaim(Claim("s", "point", value=100_000.0, hedge=hedge), 1000.0, "log",
                            "q1")
        out = learn_track_records([rec], {"s": profile_for("B")}, {"s": "other"})["s"]
        assert out.credibility is not None
        return out.credibility

    assert after("rumour") > after("none") + 0.02


def _independent_world(
    rng: np.random.Generator, n_sources: int, n_questions: int, per_question: int
) -> tuple[list[ResolvedClaim], np.ndarray, np.ndarray]:
    """Sources whose credibility and spread vary independently, with the simulator's own law
    (no parameter of the model): right figures N(β, σ²) off on the log scale, wrong ones a
    blunder by a factor e^0.7-e^3 either way. True quality: the mean miss capped at a factor e,
    by Monte Carlo over 200,000 of the source's figures; also P(right) for comparison."""
    c = rng.uniform(0.6, 0.97, n_sources)
    sigma = np.exp(rng.uniform(math.log(0.05), math.log(1.0), n_sources))
    bias = np.where(rng.random(n_sources) < 0.3, rng.normal(0.0, 0.2, n_sources), 0.0)

    def offsets(s: int, size: int) -> np.ndarray:
        right = rng.random(size) < c[s]
        blunder = rng.choice([-1.0, 1.0], size) * rng.uniform(0.7, 3.0, size)
        return np.where(right, bias[s] + sigma[s] * rng.standard_normal(size), blunder)

    records = []
    for q in range(n_questions):
        truth = math.exp(rng.uniform(5, 12))
        for s in rng.choice(n_sources, size=per_question, replace=False):
            value = truth * math.exp(float(offsets(int(s), 1)[0]))
            records.append(ResolvedClaim(Claim(f"s{s}", "point", value=value), truth, "log",
                                         f"q{q}"))
    miss = np.array([np.mean(np.minimum(np.abs(offsets(s, 200_000)), 1.0))
                     for s in range(n_sources)])
    return records, miss, c


@pytest.mark.parametrize("seed", [0, 3, 4])
def test_quality_ranks_sources_that_differ_in_spread(seed: int) -> None:
    """20 sources entered as grade C, 150 resolved questions of 5 claims. The learned P(right)
    (the number shown as ``learned`` before issue 13) ranks them by true quality with Spearman
    ρ 0.63, 0.79, 0.85 on these seeds and 0.64 on average over seeds 0-4; ``quality`` with
    0.943, 0.925, 0.925, and 0.913 over seeds 0-4 (0.884-0.943)."""
    rng = np.random.default_rng(seed)
    records, miss, _ = _independent_world(rng, 20, 150, 5)
    priors = {f"s{s}": profile_for("C") for s in range(20)}
    out = learn_track_records(records, priors, {s: "other" for s in priors})
    quality = [out[f"s{s}"].quality for s in range(20)]
    assert spearmanr(quality, -miss).statistic >= QUALITY_SPEARMAN_MIN
    assert all(r.converged for r in out.values())


def test_quality_of_a_graded_prior_is_its_credibility() -> None:
    for grade in "ABCDE":
        p = profile_for(grade)
        assert p.equivalent_credibility() == pytest.approx(p.credibility, rel=1e-9)


def test_the_learning_fit_reports_its_convergence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 13, point 9: every fit says whether it converged, the track-record EM too."""
    from models.track_record import em

    records, _, _, _ = simulate(np.random.default_rng(2), 6, 30, 3)
    priors = {f"s{s}": profile_for("C") for s in range(6)}
    done = learn_track_records(records, priors, {s: "other" for s in priors})
    assert all(r.converged and 1 < r.iterations < em.EM_MAX_ITERATIONS
               for r in done.values())
    monkeypatch.setattr(em, "EM_MAX_ITERATIONS", 2)
    cut = learn_track_records(records, priors, {s: "other" for s in priors})
    assert all(not r.converged and r.iterations == 2 for r in cut.values())


def test_a_known_shared_error_is_not_charged_to_the_spread() -> None:
    """Residuals log x − log t = δ_q + e_i with δ_q ~ N(0, 0.3²) shared by a question's
    claims and e_i ~ N(0, 0.05²): told s_q = 0.3, the source's spread is well under the
    √(0.05² + 0.3²) ≈ 0.3 it learns blind. (Not down to 0.05: each residual is read alone,
    so σ² is the residuals' variance less s², whose sampling error at 600 claims,
    0.09·√(2/600) ≈ 0.005, is twice σ² itself.)"""
    rng = np.random.default_rng(5)
    records: dict[float, list[ResolvedClaim]] = {0.0: [], 0.3: []}
    for q in range(300):
        truth = math.exp(float(rng.uniform(5.0, 10.0)))
        delta = float(rng.normal(0.0, 0.3))
        for k in range(2):
            value = truth * math.exp(delta + float(rng.normal(0.0, 0.05)))
            for shared, out in records.items():
                out.append(ResolvedClaim(Claim(f"s{k}", "point", value=value), truth, "log",
                                         f"q{q}", shared=shared))
    priors = {f"s{k}": profile_for("B") for k in range(2)}
    blind = learn_track_records(records[0.0], priors, {})["s0"].spread
    told = learn_track_records(records[0.3], priors, {})["s0"].spread
    assert blind is not None and told is not None
    assert blind > 0.25 and told < 0.5 * blind


@pytest.mark.parametrize("shared", [-0.1, math.nan, math.inf])
def test_an_invalid_shared_error_is_refused(shared: float) -> None:
    record = ResolvedClaim(Claim("a", "point", value=11.0, sd=1.0), 10.0, "linear", "q",
                           shared=shared)
    with pytest.raises(InvalidClaimError) as caught:
        learn_track_records([record], {"a": profile_for("B")}, {})
    assert caught.value.field == "shared_error"
