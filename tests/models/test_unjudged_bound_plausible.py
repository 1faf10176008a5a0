"""Review r1 (issue 13, point 9): "unknown means wider" holds for an unjudged source's point
claims (the central 95.4 % of its A-E mixture) but not for its bounds and ranges, whose
plausible sets are still a level set of the mixture on a local grid. There the sharp A and B
hypotheses dominate (weights ∝ c), so the set reaches 0.30 log units beyond "at most 2,000"
against a C claim's 0.386, and 0.297 beyond a range's ends against C's 0.456 (recomputed with
scipy: the mixture's 13.5 % quantile is -0.3006). An unjudged range then conflicts with an A
figure that a C range is compatible with."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models.claims import Claim, Source
from models.credibility import profile_for
from models.encode import encode, working_scale
from models.reconcile import reconcile
from models.robust import RobustEstimator


def _reach_above(claim: Claim, grade: str | None) -> float:
    """How far (log units) the claim's plausible set reaches above its upper end, 2,000."""
    claims = (claim,)
    enc = encode(claims, {claim.source: profile_for(grade)}, working_scale(claims, "log"))
    _, high = RobustEstimator().fit(enc, np.zeros(1, dtype=np.int64), (0.9,)).plausible[0]
    return float(high) - math.log(2000.0)


@pytest.mark.parametrize("claim", [Claim("s", "at_most", 2000.0),
                                   Claim("s", "range", None, 1000.0, 2000.0)])
def test_an_unjudged_bound_or_range_is_plausible_over_more_than_a_c_one(claim: Claim) -> None:
    """Today 0.300 < 0.386 (at_most) and 0.297 < 0.456 (range)."""
    assert _reach_above(claim, "C") < _reach_above(claim, None) < _reach_above(claim, "E")


def test_an_unjudged_range_conflicts_no_sooner_than_a_c_range() -> None:
    """A range 1,000-2,000 beside an A figure of 3,300: no conflict when the range's source is
    C (or E), a conflict (0, 1) today when its grade is unknown."""
    claims = (Claim("s0", "range", None, 1000.0, 2000.0), Claim("s1", "point", 3300.0))

    def conflicts(grade: str | None) -> int:
        r = reconcile(claims, (Source("s0", reliability=grade), Source("s1", reliability="A")),
                      method="robust")
        return len(r.disagreement.conflicts)

    assert conflicts("C") == 0
    assert conflicts(None) == 0
