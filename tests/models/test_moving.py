"""A moving quantity as a reconcile result (models.moving), and static questions unchanged."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.claims import Claim, Source
from models.reconcile import reconcile
from tests.helpers import TROOP_CLAIMS, TROOP_SOURCES

D18 = date(2024, 10, 18)


@settings(max_examples=40, deadline=None)
@given(days=st.lists(st.integers(0, 400), min_size=3, max_size=3),
       horizons=st.lists(st.sampled_from(["level", "total"]), min_size=3, max_size=3))
def test_a_static_question_ignores_dates_and_horizons_exactly(
    days: list[int], horizons: list[str]
) -> None:
    """Dates and horizons are read only by moving quantities: a static question's answer is
    the same to the last bit with or without them (issue 14: no regression)."""
    plain = reconcile(TROOP_CLAIMS, TROOP_SOURCES, levels=(0.5, 0.9))
    dated = [replace(c, as_of=D18 + timedelta(days=d), horizon=h)  # type: ignore[arg-type]
             for c, d, h in zip(TROOP_CLAIMS, days, horizons, strict=True)]
    again = reconcile(dated, TROOP_SOURCES, levels=(0.5, 0.9))
    assert again.estimate == plain.estimate
    assert again.claims == plain.claims
    assert again.explanation == plain.explanation and again.time is None


def test_the_moving_estimate_is_the_level_on_its_date_and_shares_sum_to_one() -> None:
    sources = [Source("a", reliability="B"), Source("b", reliability="C")]
    claims = [Claim("a", "point", 1000.0, as_of=D18),
              Claim("b", "point", 3000.0, as_of=D18 + timedelta(days=30)),
              Claim("a", "point", 5000.0, as_of=D18 + timedelta(days=60), horizon="total")]
    r = reconcile(claims, sources, dynamics="cumulative", at=D18 + timedelta(days=30))
    assert r.time is not None and r.time.at == D18 + timedelta(days=30)
    moment = next(m for m in r.time.trajectory if m.date == r.time.at)
    assert r.estimate.value == moment.value
    assert sum(a.share for a in r.claims) == pytest.approx(1.0)
    assert all(a.weight == a.share for a in r.claims)
    values = [m.value for m in r.time.trajectory]
    assert values == sorted(values)  # cumulative: the median never falls
    assert r.time.total is not None
    assert r.time.total.value >= values[-1] * (1 - 1e-9)
    # Each claim's estimate_without is the level on the same date refitted without it.
    without = reconcile(claims[1:], sources[::-1], dynamics="cumulative", at=r.time.at)
    assert r.claims[0].estimate_without == pytest.approx(without.estimate.value, rel=1e-9)


def test_a_later_lower_figure_of_a_cumulative_count_is_called_wrong_not_a_fall() -> None:
    sources = [Source("a", reliability="A"), Source("b", reliability="A"),
               Source("c", reliability="C")]
    claims = [Claim("a", "point", 10_000.0, as_of=D18),
              Claim("b", "point", 11_000.0, as_of=D18 + timedelta(days=10)),
              Claim("c", "point", 2_000.0, as_of=D18 + timedelta(days=20))]
    r = reconcile(claims, sources, dynamics="cumulative")
    assert r.claims[2].outlier and not r.claims[0].outlier
    assert r.estimate.value is not None and r.estimate.value > 9_000
    assert "probably wrong" in r.explanation and "down from" not in r.explanation


@pytest.mark.parametrize("dynamics", ["cumulative", "drifting"])
def test_undated_claims_and_a_single_claim_give_finite_words(dynamics: str) -> None:
    r = reconcile([Claim("a", "point", 1500.0)], [Source("a", reliability="B")],
                  dynamics=dynamics)  # type: ignore[arg-type]
    assert r.time is not None and r.time.at is None
    assert r.estimate.value is not None and math.isfinite(r.estimate.value)
    assert r.summary is not None and r.summary.kind == "course"
    assert "1,500" in r.explanation


def test_two_conflicting_figures_on_one_date_split_and_neither_is_called_wrong() -> None:
    """Review: both were called wrong and the headline read 'Eventual total claimed: '."""
    sources = [Source("nis", "NIS", reliability="A"), Source("k", "Kyiv", reliability="A")]
    claims = [Claim("nis", "point", 1000.0, as_of=D18), Claim("k", "point", 5000.0, as_of=D18)]
    r = reconcile(claims, sources, dynamics="cumulative")
    assert not any(a.outlier for a in r.claims)
    assert r.summary is not None and r.summary.kind == "split"
    assert "1,000" in r.summary.text and "5,000" in r.summary.text


def test_the_total_words_keep_their_qualifier_and_name_each_end() -> None:
    sources = [Source("nis", "NIS", reliability="B"), Source("k", "Kyiv", reliability="B"),
               Source("z", "Zelensky", reliability="C")]
    up_to = reconcile([Claim("nis", "point", 1500.0, as_of=D18),
                       Claim("z", "at_most", 10_000.0, as_of=D18, horizon="total")],
                      sources, dynamics="cumulative")
    assert up_to.summary is not None and "total up to 10,000" in up_to.summary.text
    ranged = reconcile([Claim("nis", "point", 1500.0, as_of=D18),
                        Claim("k", "range", low=4000.0, high=5000.0, as_of=D18, horizon="total"),
                        Claim("z", "point", 3000.0, as_of=D18, horizon="total")],
                       sources, dynamics="cumulative")
    # Before: "range from Kyiv's figure of … to Kyiv's figure of …" (the range's high end
    # was looked up by its low end).
    assert "from Zelensky's figure of 3,000 to Kyiv's figure of between 4,000 and 5,000" in (
        ranged.explanation)


def test_no_up_from_without_a_claim_on_the_first_day() -> None:
    """A running total's earlier level is lower by construction: only a claim about that day
    makes 'up from' news (the founding case's Zelensky spoke of the total on 17 October)."""
    sources = [Source("nis", reliability="B"), Source("z", reliability="C")]
    claims = [Claim("z", "point", 10_000.0, as_of=D18 - timedelta(days=1), horizon="total"),
              Claim("nis", "point", 1500.0, as_of=D18)]
    r = reconcile(claims, sources, dynamics="cumulative")
    assert "up from" not in r.explanation


def test_a_lone_level_bound_is_quoted_not_turned_into_a_figure() -> None:
    """Review: a lone "at least 1,500" on a moving question read "About 7,800 soldiers … 90%
    range 1,500 to 200,000", a central figure from the prior."""
    r = reconcile([Claim("nis", "at_least", 1500.0, as_of=D18)], [Source("nis", reliability="B")],
                  dynamics="cumulative", unit="soldiers")
    assert r.summary is not None
    assert r.summary.text == "At least 1,500 soldiers on 18 October 2024"
    assert "no central figure" in r.explanation and "About" not in r.explanation
