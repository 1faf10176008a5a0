"""models.mixture_stats.solve_increasing stops when it has converged, and what it returns is
the root: the plausible set of an unjudged source's figure (the A–E mixture's central 95.4 %)
against scipy's brentq on the mixture's own CDF, written here from the docstring.

Near a root, f is a sum of rounded Φ terms whose value is noise of about 1e-16, so Newton's
steps cycle at a few 1e-15; a tolerance of 1e-15 was never met and every call ran all 60 steps
(a third of a ten-claim reconcile's estimator time) for an unjudged source's hedged figure.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.optimize import brentq
from scipy.special import ndtr

import models.mixture_stats as ms
from models.claims import Claim, Hedge
from models.credibility import profile_for
from models.encode import encode, working_scale
from models.likelihood import EncodedClaims
from tests.tolerances import RANGE_REACH_ABS

#: The plausible set's tail each side at the default compatibility t = exp(−2).
COMPATIBILITY = math.exp(-2.0)


def _unjudged(figures: list[tuple[float, Hedge]]) -> EncodedClaims:
    claims = tuple(Claim(f"s{i}", "point", v, hedge=h) for i, (v, h) in enumerate(figures))
    profiles = {c.source: profile_for(None) for c in claims}
    return encode(claims, profiles, working_scale(claims, "log"))


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Patch the solver so each call records how many times it evaluated its function."""
    calls: list[int] = []
    solve = ms.solve_increasing

    def counted(fn, lo, hi, start):  # type: ignore[no-untyped-def]
        seen = [0]

        def wrapped(x):  # type: ignore[no-untyped-def]
            seen[0] += 1
            return fn(x)

        out = solve(wrapped, lo, hi, start)
        calls.append(seen[0])
        return out

    monkeypatch.setattr(ms, "solve_increasing", counted)
    return calls


@pytest.mark.parametrize("figures", [
    [(5000.0, "none")], [(5000.0, "could_be")], [(5000.0, "rumour")],
    [(4800.0, "none"), (5200.0, "about"), (12000.0, "could_be"), (6000.0, "rumour")]])
def test_an_unjudged_figure_s_plausible_set_is_the_mixture_s_quantiles(
        figures: list[tuple[float, Hedge]], monkeypatch: pytest.MonkeyPatch) -> None:
    enc = _unjudged(figures)
    calls = _counting(monkeypatch)
    low, high = ms.point_plausible(enc, COMPATIBILITY)
    # Newton from the matched Normal's quantiles: a handful of steps, never the 60-step cap.
    assert calls and max(calls) <= 12, calls
    tail = float(ndtr(-math.sqrt(-2.0 * math.log(COMPATIBILITY))))
    w, bias, sigma = enc.right_share, enc.bias, enc.sigma
    for i in range(enc.n):
        rows = slice(int(enc.starts[i]), int(enc.starts[i]) + int(enc.counts[i]))

        def cdf(q: float, p: float, rows: slice = rows) -> float:
            return float(np.sum(w[rows] * ndtr((q - bias[rows]) / sigma[rows]))) - p

        upper = brentq(cdf, -50.0, 50.0, args=(1.0 - tail,), xtol=1e-14)
        lower = brentq(cdf, -50.0, 50.0, args=(tail,), xtol=1e-14)
        assert low[i] == pytest.approx(enc.a[i] - upper, abs=RANGE_REACH_ABS)
        assert high[i] == pytest.approx(enc.a[i] - lower, abs=RANGE_REACH_ABS)


def test_a_mixed_figure_among_graded_ones_is_solved_in_place_with_the_same_answer() -> None:
    # The robust fit solves only the unjudged sources' figures, reading their rows within the
    # whole claim set (its ω and moments are computed once per answer) instead of building a
    # subset: each claim's sums are the same, so the ends must agree to the bit.
    claims = (Claim("a", "point", 4800.0), Claim("u", "point", 6000.0, hedge="rumour"),
              Claim("b", "range", low=4000.0, high=6500.0), Claim("v", "point", 12000.0),
              Claim("c", "point", 5100.0, hedge="about"))
    profiles = {c.source: profile_for(None if c.source in "uv" else "B") for c in claims}
    enc = encode(claims, profiles, working_scale(claims, "log"))
    mixed = np.array([1, 3], dtype=np.int64)
    low, high = ms.point_plausible(enc, COMPATIBILITY, mixed)
    sub_low, sub_high = ms.point_plausible(enc.subset(mixed), COMPATIBILITY)
    assert low.tolist() == sub_low.tolist() and high.tolist() == sub_high.tolist()
    assert (low < enc.a[mixed]).all() and (high > enc.a[mixed]).all()
