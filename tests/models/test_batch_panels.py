"""The exact posterior's breakpoints: the vectorised thinning against a loop over one question.

:func:`models.batch.panels._thin` sorts each question's candidate breakpoints by position alone
and thins all questions at once, one column at a time. The reference below is the rule as
:mod:`models.batch.exact` states it, one question at a time, with ties in position ordered by
scale (the order the code used before it sorted by position alone). The two must keep the same
breakpoints bit for bit: a question's panels, hence its answer, must not depend on the order in
which tied candidates happen to come out of a sort.
"""

from __future__ import annotations

import math

import numpy as np

from models.batch.panels import THIN, _thin


def reference(x: list[float], h: list[float]) -> list[float]:
    """The kept breakpoints of one question, from its candidates ``x`` (inf: dropped)."""
    pairs = sorted((xi, hi) for xi, hi in zip(x, h, strict=True) if math.isfinite(xi))
    last, last_h = pairs[0]
    kept = [last]
    for xi, hi in pairs[1:]:
        if xi - last >= THIN * min(hi, last_h):
            kept.append(xi)
            last, last_h = xi, hi
        else:
            last_h = min(last_h, hi)
    return kept


def test_thinning_keeps_what_the_rule_keeps_whatever_the_order_of_ties() -> None:
    # Positions on a coarse grid and scales from a few values, so that many candidates tie
    # in position with unequal scales (as agreed figures do), and some are dropped (inf).
    rng = np.random.default_rng(7)
    x = rng.integers(0, 40, size=(300, 60)).astype(np.float64) * 0.25
    h = rng.choice([0.1, 0.3, 0.5, 1.0, 2.0], size=x.shape)
    x[rng.random(x.shape) < 0.2] = np.inf
    x[:, 0] = -1.0  # every question keeps at least one breakpoint

    edges, kept = _thin(x, h)

    for row in range(x.shape[0]):
        want = reference(x[row].tolist(), h[row].tolist())
        assert int(kept[row]) == len(want)
        np.testing.assert_array_equal(edges[row, :len(want)], want)
        # Padded with the last kept breakpoint.
        assert np.all(edges[row, len(want):] == want[-1])
