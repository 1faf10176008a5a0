"""Review r1 (issue 13, point 7): ``quality`` (``learned`` in the API) is documented as the
credibility of a graded source whose figures miss the truth by as much on average
(E min(|error|, 1) on the working scale). The grade table only spans expected misses from
0.812 (c -> 0, sigma 0.80) to 0.0798 (c -> 1, sigma 0.10). Outside that span there is no such
graded source; :meth:`SourceProfile.equivalent_credibility` returned its bisection bracket's
end, 1/(1 + e^12) = 6.1e-6 or 1 - 6.1e-6, for every such source alike, until the curve it
inverts (:func:`models.credibility.graded_miss`) was extended beyond A and E. And taken at the
MAP parameters, the number can fall when the record gains an exact hit (still so: xfail)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.claims import Claim
from models.credibility import graded_miss, profile_for
from models.track_record import ResolvedClaim, TrackRecord, learn_track_records
from tests.tolerances import QUALITY_MISS_RTOL


def _learn(grade: str, offsets: dict[str, np.ndarray]) -> dict[str, TrackRecord]:
    """Sources of one grade, one resolved point claim a question, off by ``offsets`` (log)."""
    records = [ResolvedClaim(Claim(sid, "point", value=1000.0 * math.exp(float(e))), 1000.0,
                             "log", f"q{i}")
               for sid, off in offsets.items() for i, e in enumerate(off)]
    priors = {sid: profile_for(grade) for sid in offsets}
    return learn_track_records(records, priors, {sid: "agency" for sid in offsets})


def _precise() -> dict[str, TrackRecord]:
    """Two A sources, 30 questions each, off by N(0, 0.03²) and N(0, 0.08²) (the same draws):
    both learn spreads below the table's A (0.040 and 0.067) and P(right) 0.994."""
    z = np.random.default_rng(0).standard_normal(30)
    return _learn("A", {"p3": 0.03 * z, "p8": 0.08 * z})


def _defined(rec: TrackRecord) -> bool:
    assert rec.quality is not None
    return math.isclose(graded_miss(rec.quality), rec.profile.expected_miss(),
                        rel_tol=QUALITY_MISS_RTOL)


def test_quality_of_a_source_better_than_an_a_is_a_graded_source_missing_as_much() -> None:
    """Today: quality 0.9999938558 (the bracket end), whose table source misses by 0.0798,
    against the learned profile's 0.0356."""
    assert _defined(_precise()["p3"])


def test_quality_ranks_sources_better_than_an_a() -> None:
    """Today both are 0.9999938558253978: the 3 % source does not rank above the 8 % one."""
    out = _precise()
    assert out["p3"].quality is not None and out["p8"].quality is not None
    assert out["p3"].quality > out["p8"].quality


def test_quality_of_a_source_worse_than_an_e_is_a_graded_source_missing_as_much() -> None:
    """An E source off by a factor e to e³ either way on 30 questions. Today: quality 6.1e-6
    (the bracket end), whose table source misses by 0.812, against the profile's 0.822."""
    rng = np.random.default_rng(1)
    off = rng.choice([-1.0, 1.0], 30) * rng.uniform(1.0, 3.0, 30)
    assert _defined(_learn("E", {"e": off})["e"])


@pytest.mark.xfail(strict=True, reason=(
    "Known defect, not fixed: quality is taken at the EM's MAP parameters, which can flip on "
    "one more claim; a posterior average over (c, σ, β) would fix it (3 of 300 random "
    "records in the review, all A sources)."))
def test_an_exact_hit_does_not_lower_quality() -> None:
    """An A source that missed once by a factor e^0.39 (0.68×), then hits a question exactly.
    Today quality falls from 0.9094 to 0.8933: the MAP flips from "the miss was right, σ 0.155"
    (c 0.949) to "the miss was wrong, σ 0.094" (c 0.834), and the expected miss is taken at the
    MAP (0.1615 → 0.1824). Averaged over the posterior (an independent grid over c, σ, β with
    priors whose MAP updates are the module's), the expected miss falls on the hit
    (0.250 → 0.231)."""
    before = _learn("A", {"s": np.array([-0.39])})["s"].quality
    after = _learn("A", {"s": np.array([-0.39, 0.0])})["s"].quality
    assert before is not None and after is not None
    assert after >= before
