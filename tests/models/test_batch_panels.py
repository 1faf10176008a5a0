"""The exact posterior's panels: their thinning, and their reuse by the quantiles.

:func:`models.batch.panels._thin` sorts each question's candidate breakpoints by position alone
and thins all questions at once, one column at a time. The reference below is the rule as
:mod:`models.batch.exact` states it, one question at a time, with ties in position ordered by
scale (the order the code used before it sorted by position alone). The two must keep the same
breakpoints bit for bit: a question's panels, hence its answer, must not depend on the order in
which tied candidates happen to come out of a sort.

The quantiles of exact questions read the panels that the last E-step kept
(:class:`models.batch.panels.Panels`) only when they were built at the parameters asked for.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from models.batch import ClaimTable
from models.batch.em import e_step
from models.batch.encode import encode
from models.batch.mode import initial_centre
from models.batch.panels import THIN, _thin
from models.batch.state import Hyper, Params
from models.batch.summary import mixture_quantiles

HYPER = Hyper(wrong_spread=1.0, prior_scale=2.5, pooled_strength=4.0, graded_strength=12.0,
              spread_strength=4.0, bias_strength=4.0, learn_bias=True)


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


def test_quantiles_read_kept_panels_only_at_the_parameters_they_were_built_at() -> None:
    # Two questions of three claims (exact) whose claims disagree, one source shared.
    table = ClaimTable.from_columns(
        ["q1", "q1", "q1", "q2", "q2", "q2"], ["a", "b", "c", "a", "b", "d"], ["point"] * 6,
        [1234.5, 1301.0, 2210.9, 70.31, 74.62, 52.0],
    )
    enc = encode(table, "log", "infer", HYPER.prior_scale)
    p = Params(c=np.array([0.9, 0.8, 0.7, 0.85]), eta=np.full(4, 1e-3),
               sigma=np.array([0.05, 0.1, 0.2, 0.1]), beta=np.zeros(4))
    post, _ = e_step(enc, p, initial_centre(enc, p), True, HYPER, keep_panels=True)
    probs = np.array([0.5, 0.05, 0.95])
    assert post.panels is not None and post.exact.all()
    rebuilt = replace(post, panels=None)

    # At the E-step's own parameters the kept panels give the rebuilt ones' quantiles.
    np.testing.assert_array_equal(mixture_quantiles(post, enc, probs, p, HYPER),
                                  mixture_quantiles(rebuilt, enc, probs, p, HYPER))
    # At other parameters they are not used: the answer is that of new panels, which differs.
    other = replace(p, sigma=p.sigma * 1.5)
    at_other = mixture_quantiles(rebuilt, enc, probs, other, HYPER)
    np.testing.assert_array_equal(mixture_quantiles(post, enc, probs, other, HYPER), at_other)
    assert not np.allclose(at_other, mixture_quantiles(rebuilt, enc, probs, p, HYPER))
