"""The log scale's flat prior needs a proper likelihood; a point of an echoed origin may not be.

docs/model.md ("Prior") says the flat window (figures' mid-range ± 600 log units) "only keeps
the answer inside floating point". The code used it as soon as any claim was a point or a range
(review r1); it now asks models.robust.prior.tail_powers. But claims of one origin enter with the
power 1/k: a point's Cauchy tail ~ d^-2 becomes d^(-2/k), and a bound's open side is flat. So a
point and an "at least" of one origin (k = 2) leave a posterior ~ 1/d upwards, and a point, an
"at least" and an "at most" of one origin (k = 3) ~ 1/d on both sides: both improper, and the
answer is set by the window. Independent quadrature of the documented model (origin X, grade B,
1,000 with 800-1,500): 90 % range 1.2e-50 to 9.2e55 at reach 300, 1.8e-96 to 6.2e101 at 600,
5.4e-182 to 2.0e187 at 1,200; the product prints "90% range of 0 to 620,000,...,000" (34 digit
groups). With "1,000" and "at least 800" only, the improper tail makes the 1,000 "probably wrong
(69%)", it is dropped and the words say "No claim gives a figure". Properness on a side needs
the tempered tail exponents there to sum above 1 (points, ranges 2/k; a bound 1/k on its closed
side, 0 on its open side); otherwise the weak Normal stays, as for bounds alone. Before that
rule both cases below failed (strict xfail); they now give 1,309 (90 % 496-11.1 million) and
1,033 (90 % 1.3-871,000), the answers of the weak Normal.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import models.robust.prior as robust_prior
from models.claims import Claim, Source
from models.reconcile import reconcile
from tests.tolerances import WINDOW_INVARIANCE_LOG_ABS

SOURCES = [Source(id=s, type="media_outlet", reliability="B") for s in ("a", "b", "c")]
LONE_E = ([Claim(source="a", kind="point", value=1000.0)],
          [Source(id="a", type="media_outlet", reliability="E")])
ECHO_POINT_AND_LOWER = ([
    Claim(source="a", kind="point", value=1000.0, origin="X"),
    Claim(source="b", kind="at_least", value=800.0, origin="X"),
], SOURCES)
ECHO_POINT_AND_BOUNDS = ([
    Claim(source="a", kind="point", value=1000.0, origin="X"),
    Claim(source="b", kind="at_least", value=800.0, origin="X"),
    Claim(source="c", kind="at_most", value=1500.0, origin="X"),
], SOURCES)


def _ends(case: tuple[list[Claim], list[Source]], reach: float,
          monkeypatch: pytest.MonkeyPatch) -> list[float]:
    monkeypatch.setattr(robust_prior, "FLAT_REACH", reach)
    est = reconcile(case[0], case[1], scale="log", levels=(0.9,)).estimate
    out: list[float | None] = [est.value]
    out += [v for iv in est.intervals for v in (iv.low, iv.high)]
    return [math.log(v) if v is not None else math.nan for v in out]


def test_lone_point_ignores_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Control: a lone E point's answer moves by 0.075 log units when the window is halved."""
    wide, narrow = _ends(LONE_E, 600.0, monkeypatch), _ends(LONE_E, 300.0, monkeypatch)
    assert all(abs(x - y) <= WINDOW_INVARIANCE_LOG_ABS for x, y in zip(wide, narrow, strict=True))


@pytest.mark.parametrize("case", [ECHO_POINT_AND_LOWER, ECHO_POINT_AND_BOUNDS],
                         ids=["point+at_least", "point+at_least+at_most"])
def test_echoed_point_with_bounds_ignores_window(
        case: tuple[list[Claim], list[Source]], monkeypatch: pytest.MonkeyPatch) -> None:
    wide, narrow = _ends(case, 600.0, monkeypatch), _ends(case, 300.0, monkeypatch)
    assert not math.isnan(wide[0]), "the figure 1,000 was dropped: no value"
    assert all(abs(x - y) <= WINDOW_INVARIANCE_LOG_ABS for x, y in zip(wide, narrow, strict=True))


@pytest.mark.parametrize("case", [ECHO_POINT_AND_LOWER, ECHO_POINT_AND_BOUNDS],
                         ids=["point+at_least", "point+at_least+at_most"])
def test_echoed_point_with_bounds_keeps_its_figure(
        case: tuple[list[Claim], list[Source]]) -> None:
    """The echoed 1,000 is the answer's figure, not dropped as "probably wrong", and the words
    name it (under the improper flat posterior they said "No claim gives a figure")."""
    result = reconcile(case[0], case[1], scale="log", levels=(0.9,))
    assert result.estimate.value is not None
    assert 800.0 <= result.estimate.value <= 1500.0
    assert "No claim gives a figure" not in result.explanation
    assert "1,000" in result.explanation


def test_tail_powers_decide_properness() -> None:
    """The rule itself: a point with an "at least" of one origin is open above (1 + 0 = 1);
    two echoes of one point are proper (2 × 2/2 = 2); a lone "at most" is open below."""
    from models.likelihood import KIND_AT_LEAST, KIND_AT_MOST, KIND_POINT

    def sides(kinds: list[int], weights: list[float]) -> tuple[float, float]:
        below, above = robust_prior.tail_powers(np.array(kinds), np.array(weights))
        return float(below.sum()), float(above.sum())

    assert sides([KIND_POINT, KIND_AT_LEAST], [0.5, 0.5]) == (1.5, 1.0)
    assert sides([KIND_POINT, KIND_POINT], [0.5, 0.5]) == (2.0, 2.0)
    assert sides([KIND_AT_MOST], [1.0]) == (0.0, 1.0)
