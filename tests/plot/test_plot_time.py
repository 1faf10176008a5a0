"""The time view of a quantity that moves (:mod:`service.plot.timeview`): the course over dates
above the forest rows, the eventual total in a column of its own, for readers."""

from __future__ import annotations

import dataclasses
import functools
import io
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient
from matplotlib.axes import Axes
from matplotlib.text import Text
from PIL import Image

from models.claims import Claim, Source
from models.reconcile import reconcile
from models.result import Interval, ReconcileResult
from service.plot.forest import PNG_DPI, WIDTH_IN, PlotFormat, build_figure, render_plot
from service.plot.style import TOTAL_HEADING
from service.plot.timeview import DateTicks, date_ticks, day_number, short_date
from tests.helpers import troop_case
from tests.store.conftest import create_key

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "fixtures" / "troop_moving_with_dates.json"

#: Words of the statistician's trade that a reader should never meet on the plot.
JARGON: Final = ("posterior", "density", "credible", "likelihood", "median", "quantile",
                 "standard error", "trajectory")

#: A result with its claims, sources and text; built once per test session (reconciling 50
#: dated claims refits the course once per claim), so never changed by a test.
Case = tuple[ReconcileResult, list[Claim], list[Source], dict[str, Any]]

SOURCES: Final = [Source(f"s{i}", f"Source {i}", "other", "ABCDEF"[i % 6]) for i in range(6)]


@functools.cache
def _founding() -> Case:
    sources = [
        Source("nis", "South Korea NIS", "intelligence_agency", "B"),
        Source("zelensky", "Volodymyr Zelensky", "head_of_state", "C"),
        Source("anon-media", "Sources to South Korean media", "anonymous", None),
    ]
    claims = [
        Claim("nis", "point", 1500.0, as_of=date(2024, 10, 18)),
        Claim("zelensky", "point", 10000.0, hedge="could_be", as_of=date(2024, 10, 17),
              horizon="total"),
        Claim("anon-media", "point", 12000.0, hedge="could_be", as_of=date(2024, 10, 18),
              horizon="total"),
    ]
    text = {"question": "North Korean soldiers sent to Russia", "unit": "soldiers"}
    result = reconcile(claims, sources, dynamics="cumulative", scale="log", **text)
    return result, claims, sources, text


@functools.cache
def _dated(n: int, total: bool = True, seed: int = 7) -> Case:
    """``n`` claims a week apart about a growing count, of every kind, one wildly off, and
    (``total``) one bound on the eventual total."""
    rng = np.random.default_rng(seed)
    start, level, claims = date(2022, 2, 24), 100.0, []
    for k in range(n):
        level *= float(np.exp(rng.normal(0.05, 0.03)))
        day, v = start + timedelta(days=7 * k), float(round(level * np.exp(rng.normal(0, 0.1))))
        source = f"s{k % 6}"
        match k % 5:
            case 2:
                claims.append(Claim(source, "at_least", v, as_of=day))
            case 3:
                claims.append(Claim(source, "range", low=round(0.8 * v), high=round(1.2 * v),
                                    as_of=day))
            case _:
                claims.append(Claim(source, "point", v, as_of=day))
    if total:
        claims.append(Claim("s1", "at_most", 50_000.0, as_of=start, horizon="total"))
    text = {"question": "Losses", "unit": "people"}
    return reconcile(claims, SOURCES, dynamics="cumulative", **text), claims, SOURCES, text


def _undated() -> Case:
    claims = [Claim("s0", "point", 100.0), Claim("s1", "point", 300.0, horizon="total")]
    return reconcile(claims, SOURCES, dynamics="cumulative"), claims, SOURCES, {}


def _linear() -> Case:
    claims = [
        Claim("s0", "point", 1.0, sd=0.5, as_of=date(2024, 1, 1)),
        Claim("s1", "point", -2.0, as_of=date(2024, 3, 5)),
        Claim("s3", "range", low=-1.0, high=0.5, as_of=date(2024, 2, 1)),
        Claim("s2", "at_most", 3.0, as_of=date(2024, 2, 5), horizon="total"),
    ]
    text = {"question": "Temperature anomaly", "unit": "°C"}
    result = reconcile(claims, SOURCES, dynamics="drifting", scale="linear", **text)
    return result, claims, SOURCES, text


def _open_ends() -> Case:
    """Ranges open on a side (None), as an answer set by bounds gives them."""
    result, claims, sources, text = _dated(3, total=True)
    assert result.time is not None and result.time.total is not None

    def opened(intervals: tuple[Interval, ...], low: bool) -> tuple[Interval, ...]:
        return tuple(Interval(i.level, None if low else i.low, None if not low else i.high)
                     for i in intervals)

    time = result.time
    trajectory = tuple(dataclasses.replace(m, intervals=opened(m.intervals, k % 2 == 0))
                       for k, m in enumerate(time.trajectory))
    total = dataclasses.replace(time.total, intervals=opened(time.total.intervals, False))
    estimate = dataclasses.replace(result.estimate,
                                   intervals=opened(result.estimate.intervals, False))
    moved = dataclasses.replace(time, trajectory=trajectory, total=total)
    return dataclasses.replace(result, time=moved, estimate=estimate), claims, sources, text


def _svg_texts(case: Case) -> list[str]:
    """The text of the SVG: matplotlib draws text as outlines and notes each string in a
    comment beside its glyphs."""
    result, claims, sources, text = case
    svg = render_plot(result, claims, sources, fmt="svg", **text).decode()
    return re.findall(r"<!-- (.*?) -->", svg, flags=re.DOTALL)


def _texts(case: Case) -> list[str]:
    result, claims, sources, text = case
    fig = build_figure(result, claims, sources, **text)
    labels = [t.get_text() for t in fig.findobj(Text) if t.get_text()]
    for ax in fig.axes:  # tick labels are made when drawn: ask each axis's formatter
        assert isinstance(ax, Axes)
        for axis in (ax.xaxis, ax.yaxis):
            labels += [t for t in axis.get_major_formatter().format_ticks(
                list(axis.get_majorticklocs())) if t]
    return labels


CASES: Final = {
    "founding": _founding,
    "one_date": lambda: _dated(1),
    "three_dates": lambda: _dated(3, total=False),
    "fifty_dates": lambda: _dated(50),
    "undated": _undated,
    "linear": _linear,
    "open_ends": _open_ends,
}


# --- The founding case, as a reader meets it --------------------------------------------------


def test_the_founding_case_leads_with_the_summary_and_shows_dates_and_the_total() -> None:
    case = _founding()
    result = case[0]
    texts = _svg_texts(case)
    joined = "\n".join(texts)

    assert result.summary is not None and result.summary.text in joined
    # The summary comes right after the question: it is the first thing a reader reads.
    assert texts.index(result.summary.text) == texts.index(case[3]["question"]) + 1
    assert "17 Oct" in texts and "18 Oct" in texts  # dates on the time axis
    assert TOTAL_HEADING in texts
    assert any(t.startswith("about 11,000") or t.startswith("about 10,") for t in texts)
    assert "90% range" in texts and "50% range" in texts
    # The forest rows say what moment each claim speaks of.
    assert "1,500 · 18 Oct · 99%" in joined or re.search(r"1,500 · 18 Oct · \d+%", joined)
    assert re.search(r"possibly 10,000 in total · 17 Oct · ", joined)
    assert "On 18 Oct" in texts


def test_the_course_is_drawn_above_the_rows_and_the_figure_stays_a_sensible_size() -> None:
    result, claims, sources, text = _founding()
    fig = build_figure(result, claims, sources, **text)
    width, height = fig.get_size_inches()

    # The course, the total's column and the forest rows; no "how likely" curve beside them.
    assert len(fig.axes) == 3
    course, total, forest = sorted(fig.axes, key=lambda ax: (-ax.get_position().y0,
                                                             ax.get_position().x0))
    assert course.get_position().y0 > forest.get_position().y1
    assert total.get_position().x0 > course.get_position().x1
    assert course.get_yscale() == "log"
    assert WIDTH_IN <= width <= 9.5 and height <= 9.0
    assert not any("How likely" in t for t in _texts((result, claims, sources, text)))


@pytest.mark.parametrize("name", sorted(CASES))
def test_no_jargon(name: str) -> None:
    texts = " ".join(_texts(CASES[name]())).lower()
    for word in JARGON:
        assert word not in texts, (name, word)


# --- The total's column: present iff there is a total ------------------------------------------


@pytest.mark.parametrize(("name", "has_total"),
                         [("founding", True), ("fifty_dates", True), ("three_dates", False),
                          ("undated", True), ("linear", True)])
def test_eventual_total_column_iff_a_total(name: str, has_total: bool) -> None:
    case = CASES[name]()
    result = case[0]
    assert result.time is not None and (result.time.total is not None) == has_total
    assert (TOTAL_HEADING in _texts(case)) == has_total


# --- Every shape renders ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["png", "svg"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_every_case_renders(name: str, fmt: PlotFormat) -> None:
    result, claims, sources, text = CASES[name]()
    body = render_plot(result, claims, sources, fmt=fmt, **text)
    if fmt == "png":
        with Image.open(io.BytesIO(body)) as image:
            assert image.width >= round(WIDTH_IN * PNG_DPI)
            assert image.width / 2 < image.height < 40 * PNG_DPI
    else:
        assert body.startswith(b"<?xml") and b"<svg" in body[:500]


def test_fifty_dates_keep_the_axis_readable() -> None:
    case = _dated(50)
    texts = _texts(case)
    months = [t for t in texts if t.split("\n")[0] in ("Mar", "May", "Jul", "Sep", "Nov", "Jan")]
    assert 3 <= len(months) <= 7
    assert "Mar\n2022" in texts and "Jan\n2023" in texts  # the year where it changes


def test_undated_claims_are_said_undated() -> None:
    texts = _texts(_undated())
    assert "no date given" in texts
    assert any(t.startswith("100 · no date") for t in texts)


def test_linear_scale_has_a_linear_axis_and_minus_signs() -> None:
    result, claims, sources, text = _linear()
    fig = build_figure(result, claims, sources, **text)
    course = max(fig.axes, key=lambda ax: ax.get_position().y0)
    assert course.get_yscale() == "linear"
    assert any("linear scale" in t for t in _texts((result, claims, sources, text)))


def test_a_claim_judged_wrong_is_crossed_out_in_the_time_view() -> None:
    claims = [Claim(f"s{k % 5}", "point", 100.0 + 10 * k, as_of=date(2024, 1, 1 + k))
              for k in range(6)] + [Claim("s5", "point", 1e6, as_of=date(2024, 1, 4))]
    result = reconcile(claims, SOURCES, dynamics="cumulative")
    assert result.claims[-1].outlier
    fig = build_figure(result, claims, SOURCES)
    course = max(fig.axes, key=lambda ax: ax.get_position().y0)
    crossed = [c for c in course.collections
               if c.get_offsets().shape[0] and getattr(c, "get_paths", None)
               and np.allclose(c.get_offsets()[:, 1], 1e6)]
    assert len(crossed) >= 2  # the hollow marker and the cross over it


# --- Static questions are drawn as before ---------------------------------------------------------


def test_a_static_question_has_no_time_view() -> None:
    claims, sources, text = troop_case()
    result = reconcile(claims, sources, **text)
    fig = build_figure(result, claims, sources, **text)
    texts = _texts((result, claims, sources, text))

    assert result.time is None
    assert len(fig.axes) == 2  # the curve and the forest rows, as before
    assert "Estimate" in texts and "Claim · share of the estimate" in texts
    assert not any(t.startswith("Over time") or t == TOTAL_HEADING for t in texts)
    assert not any(re.search(r"· \d+ (Oct|Jan)", t) for t in texts)


# --- Dates --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "count", "step"),
    [(date(2024, 10, 16), date(2024, 10, 19), 4, 1),
     (date(2024, 1, 1), date(2024, 1, 31), 5, 7),
     (date(2022, 2, 20), date(2023, 2, 10), 6, 61),
     (date(1900, 1, 1), date(2024, 1, 1), 7, 7305)],
)
def test_date_ticks_are_few_and_even(first: date, last: date, count: int, step: int) -> None:
    ticks = date_ticks(first, last)
    assert len(ticks) == count
    assert all(first <= t <= last for t in ticks)
    gaps = {(b - a).days for a, b in zip(ticks, ticks[1:], strict=False)}
    assert max(gaps) - min(gaps) <= 3 and abs(min(gaps) - step) <= 3


def test_date_labels_put_the_year_where_it_changes() -> None:
    days = [date(2023, 12, 25), date(2024, 1, 1), date(2024, 1, 8)]
    labels = DateTicks(dated=True).format_ticks([day_number(d) for d in days])
    assert labels == ["25 Dec\n2023", "1 Jan\n2024", "8 Jan"]
    assert short_date(date(2024, 10, 18)) == "18 Oct 2024"


# --- Through HTTP: the reconcile plot and the stored question's plot -----------------------------


def test_post_plot_draws_the_time_view(client: FlaskClient) -> None:
    body = json.loads(FIXTURE.read_text())["input"]
    response = client.post("/v1/reconcile/plot", json=body)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    texts = re.findall(r"<!-- (.*?) -->", response.get_data(as_text=True), flags=re.DOTALL)
    assert TOTAL_HEADING in texts and "18 Oct" in texts


def test_question_plot_takes_at(app: Flask, client: FlaskClient) -> None:
    auth = {"Authorization": f"Bearer {create_key(app)}"}
    body = json.loads(FIXTURE.read_text())["input"]
    for source in body["sources"]:
        reply = client.post("/v1/sources", json=source, headers=auth)
        assert reply.status_code == 201, reply.get_json()
    question = {"title": body["question"], "unit": body["unit"], "dynamics": "cumulative"}
    reply = client.post("/v1/questions", json=question, headers=auth)
    assert reply.status_code == 201, reply.get_json()
    qid = reply.get_json()["id"]
    for claim in body["claims"]:
        reply = client.post(f"/v1/questions/{qid}/claims", json=claim, headers=auth)
        assert reply.status_code == 201, reply.get_json()

    latest = client.get(f"/v1/questions/{qid}/plot")
    earlier = client.get(f"/v1/questions/{qid}/plot?at=2024-10-17&format=png")

    texts = re.findall(r"<!-- (.*?) -->", latest.get_data(as_text=True), flags=re.DOTALL)
    assert "On 18 Oct" in texts and TOTAL_HEADING in texts
    assert earlier.status_code == 200 and earlier.get_data().startswith(b"\x89PNG")
    svg = client.get(f"/v1/questions/{qid}/plot?at=2024-10-17").get_data(as_text=True)
    assert "On 17 Oct" in re.findall(r"<!-- (.*?) -->", svg, flags=re.DOTALL)
