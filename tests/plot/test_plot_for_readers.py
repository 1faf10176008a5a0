"""The forest plot as a newspaper reader meets it: plain words, names in full, grades told apart
at a glance, echoes drawn together, and answers without a central figure or with an open end."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text

from models.claims import Claim, Source
from models.reconcile import reconcile
from models.result import ReconcileResult
from service.plot.forest import PlotFormat, build_figure, render_plot
from service.plot.style import GRADES, UNKNOWN
from service.plot.text import Measure, fit_lines
from tests.helpers import troop_case

Case = tuple[ReconcileResult, list[Claim], list[Source], dict[str, Any]]

#: Words of the statistician's trade that a reader should never meet on the plot.
JARGON: Final = ("posterior", "density", "credible interval", "likelihood", "approximation",
                 "prediction interval", "standard error", "± se")


def _texts(fig: Figure) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


def _svg_texts(result: ReconcileResult, claims: list[Claim], sources: list[Source],
               text: dict[str, Any]) -> list[str]:
    """The text content of the SVG: matplotlib draws text as outlines and notes each string
    in a comment beside its glyphs."""
    svg = render_plot(result, claims, sources, fmt="svg", **text).decode()
    return re.findall(r"<!-- (.*?) -->", svg, flags=re.DOTALL)


def _troop() -> Case:
    claims, sources, text = troop_case()
    return reconcile(claims, sources, **text), claims, sources, text


def _pooled() -> Case:
    sources = [Source(f"t{i}", f"Station {i}", reliability="ABCDE"[i]) for i in range(5)]
    values = [(0.8, 0.2), (1.1, 0.15), (0.4, 0.3), (-0.2, 0.4), (0.9, 0.1)]
    claims = [Claim(f"t{i}", "point", v, sd=s) for i, (v, s) in enumerate(values)]
    text: dict[str, Any] = {"question": "Temperature anomaly", "unit": "°C"}
    return reconcile(claims, sources, scale="linear", method="random_effects", **text), \
        claims, sources, text


def _bound() -> Case:
    sources = [Source("u", "the organisers", reliability="C")]
    claims = [Claim("u", "at_least", 100000)]
    text: dict[str, Any] = {"question": "How many marched?", "unit": "people"}
    return reconcile(claims, sources, **text), claims, sources, text


def _split() -> Case:
    sources = [Source("a", "IFHS", reliability="B"), Source("b", "The Lancet survey",
                                                              reliability="B")]
    claims = [Claim("a", "point", 151000, ci_low=104000, ci_high=223000),
              Claim("b", "point", 601027, ci_low=426369, ci_high=793663)]
    text: dict[str, Any] = {"question": "Violent deaths in Iraq", "unit": "deaths"}
    return reconcile(claims, sources, **text), claims, sources, text


#: A wire report copied by two outlets, the copies apart in the request.
_ECHO_SOURCES: Final = [
    Source("min", "Ministry of Health", reliability="A"),
    Source("afp", "Agence France-Presse", reliability="B"),
    Source("un", "United Nations", reliability="C"),
    Source("rt", "Reuters", reliability="B"),
]
_ECHO_CLAIMS: Final = [
    Claim("afp", "point", 5200, origin="ministry briefing"),
    Claim("min", "point", 3166),
    Claim("un", "range", low=3500, high=6000),
    Claim("rt", "point", 5200, hedge="about", origin="ministry briefing"),
]


def _echo() -> Case:
    claims, sources = list(_ECHO_CLAIMS), list(_ECHO_SOURCES)
    text: dict[str, Any] = {"question": "Flood deaths", "unit": "people"}
    return reconcile(claims, sources, **text), claims, sources, text


def _no_value() -> Case:
    """Bounds on one side only, as the core is to report them: no central figure, the 90 %
    range open above."""
    result, claims, sources, text = _bound()
    intervals = tuple(dataclasses.replace(i, high=None) for i in result.estimate.intervals)
    estimate = dataclasses.replace(result.estimate, value=None, intervals=intervals)
    return dataclasses.replace(result, estimate=estimate), claims, sources, text


CASES: Final[dict[str, Callable[[], Case]]] = {
    "troop": _troop, "pooled": _pooled, "bound": _bound, "split": _split, "echo": _echo,
    "no-value": _no_value,
}


# --- Words ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(CASES))
def test_no_statistical_jargon_in_the_picture(case: str) -> None:
    result, claims, sources, text = CASES[case]()

    words = " ".join(_texts(build_figure(result, claims, sources, **text)))
    svg = " ".join(_svg_texts(result, claims, sources, text))

    for printed in (words, svg):
        assert printed  # the SVG still carries its text
        for jargon in JARGON:
            assert jargon not in printed.lower(), (jargon, printed)


@pytest.mark.parametrize("case", ["bound", "split", "troop", "echo"])
def test_subtitle_leads_with_the_summary(case: str) -> None:
    result, claims, sources, text = CASES[case]()
    assert result.summary is not None

    texts = _texts(build_figure(result, claims, sources, **text))

    assert result.summary.text in texts  # the headline the words print, as printed
    if result.summary.kind != "figure":
        # Not a computed "About …" figure the summary refuses to give.
        assert not any(t.startswith("About ") for t in texts)


def test_summary_row_uses_the_summary_rounding() -> None:
    result, claims, sources, text = _troop()
    assert result.summary is not None and result.summary.kind == "figure"
    printed = {f.name: f.text for f in result.summary.figures}

    texts = _texts(build_figure(result, claims, sources, **text))

    assert f"{printed['estimate']} ({printed['level']}: {printed['low']}–{printed['high']})" \
        in texts


# --- Names ------------------------------------------------------------------------------------

LONG_NAMES: Final = (
    "Ministry of Health of the Islamic Republic — Office of Emergency Statistics",
    "Ελληνική Εφημερίδα των Συντακτών, ανταποκριτής στην Αθήνα",
    "Министерство по чрезвычайным ситуациям Российской Федерации",
    "Médecins Sans Frontières (Opérations d'urgence, Genève)",
    "Donaudampfschifffahrtsgesellschaftskapitänswitwenversicherung",
)


def test_long_and_unicode_names_are_shown_in_full() -> None:
    sources = [Source(f"s{i}", name, reliability="ABCDE"[i]) for i, name in enumerate(LONG_NAMES)]
    claims = [Claim(f"s{i}", "point", 1000.0 * (i + 1)) for i in range(len(LONG_NAMES))]
    result = reconcile(claims, sources)

    fig = build_figure(result, claims, sources, question="Evacuated", unit="people")
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]

    labels = {t.get_text(): t for t in fig.findobj(Text)}
    for name in LONG_NAMES:
        shown = [text for text in labels if text.replace("\n", " ") == name
                 or text.replace("\n", "") == name]
        assert shown, name  # wrapped onto lines, never cut
        assert "…" not in shown[0]
        assert shown[0].count("\n") <= 1
        box = labels[shown[0]].get_window_extent(renderer)
        assert box.x0 >= 0, name  # inside the picture, not cut by its left edge


def test_short_names_keep_the_usual_width() -> None:
    result, claims, sources, text = _troop()

    fig = build_figure(result, claims, sources, **text)

    assert fig.get_figwidth() == pytest.approx(8.0)


@pytest.mark.parametrize(
    ("text", "width", "expected"),
    [
        ("Reuters", 2.0, ["Reuters"]),
        ("United Nations Office for the Coordination of Humanitarian Affairs", 2.0,
         ["United Nations Office for the", "Coordination of Humanitarian Affairs"]),
    ],
)
def test_fit_lines_wraps_between_words(text: str, width: float, expected: list[str]) -> None:
    lines = fit_lines(text, Measure(), 8.5, width if len(expected) == 1 else 2.3)
    assert lines == expected


def test_fit_lines_breaks_a_long_word_and_cuts_only_what_cannot_fit() -> None:
    measure = Measure()
    word = "Donaudampfschifffahrtsgesellschaftskapitän"

    broken = fit_lines(word, measure, 8.5, 1.5)
    cut = fit_lines(word * 4, measure, 8.5, 1.5)

    assert "".join(broken) == word and len(broken) == 2
    assert len(cut) == 2 and cut[-1].endswith("…")
    assert all(measure.width(line, 8.5) <= 1.5 for line in broken + cut)


# --- Grades -----------------------------------------------------------------------------------


def test_every_grade_has_its_own_colour_and_marker() -> None:
    styles = [*GRADES.values(), UNKNOWN]

    assert len({s.colour for s in styles}) == len(styles)
    assert len({s.marker for s in styles}) == len(styles)
    assert GRADES["B"].marker != GRADES["C"].marker


# Colour-vision deficiencies simulated by the matrices of Machado, Oliveira & Fernandes (2009),
# severity 1, on linear RGB; colours compared by their CIELAB distance (ΔE*ab, D65).
_CVD: Final = {
    "normal": np.eye(3),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
#: ΔE*ab of about 2 is a just-noticeable difference; 15 keeps two markers apart at a glance.
MIN_DELTA_E: Final = 15.0


def _lab(colour: str, cvd: np.ndarray) -> np.ndarray:
    srgb = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    linear = np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    rgb = np.clip(cvd @ linear, 0, 1)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ rgb / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


@pytest.mark.parametrize("vision", list(_CVD))
def test_grade_colours_stay_apart_for_colour_blind_readers(vision: str) -> None:
    styles = [*GRADES.values(), UNKNOWN]
    for a, b in itertools.combinations(styles, 2):
        distance = float(np.linalg.norm(_lab(a.colour, _CVD[vision]) - _lab(b.colour,
                                                                              _CVD[vision])))
        assert distance >= MIN_DELTA_E, (vision, a.letter, b.letter, distance)


def _markers_at(fig: Figure, y: float) -> list[tuple[Any, Any]]:
    """(face colour, path) of every scatter mark at height ``y`` in the claims' panel."""
    found = []
    for collection in fig.axes[0].collections:
        if not isinstance(collection, PathCollection):
            continue
        offsets = collection.get_offsets()
        colours = np.asarray(collection.get_facecolor())
        for k, (_x, at) in enumerate(np.asarray(offsets)):
            if at == y:
                colour = tuple(colours[k % len(colours)]) if len(colours) else ()
                found.append((colour, collection.get_paths()[0]))
    return found


def test_grades_b_and_c_differ_in_colour_and_marker_with_the_letter_beside_the_name() -> None:
    sources = [Source("b", "Bee agency", reliability="B"), Source("c", "Sea agency",
                                                                    reliability="C")]
    claims = [Claim("b", "point", 100.0), Claim("c", "point", 120.0)]
    result = reconcile(claims, sources)

    fig = build_figure(result, claims, sources)

    texts = {t.get_text(): t for t in fig.findobj(Text)}
    rows = {name: texts[name].get_position()[1] for name in ("Bee agency", "Sea agency")}
    for name, letter in (("Bee agency", "B"), ("Sea agency", "C")):
        assert any(t.get_text() == letter and t.get_position()[1] == rows[name]
                   for t in fig.findobj(Text)), letter
    b_marks, c_marks = (_markers_at(fig, rows[name]) for name in ("Bee agency", "Sea agency"))
    assert b_marks and c_marks
    assert {colour for colour, _ in b_marks}.isdisjoint({colour for colour, _ in c_marks})
    b_paths = {tuple(map(tuple, path.vertices.round(3))) for _, path in b_marks}
    c_paths = {tuple(map(tuple, path.vertices.round(3))) for _, path in c_marks}
    assert b_paths.isdisjoint(c_paths)


# --- Echoes -----------------------------------------------------------------------------------


def test_echoes_of_one_origin_are_adjacent_under_one_heading() -> None:
    result, claims, sources, text = _echo()

    fig = build_figure(result, claims, sources, **text)

    texts = {t.get_text(): t.get_position()[1] for t in fig.findobj(Text)}
    afp, reuters = texts["Agence France-Presse"], texts["Reuters"]
    others = [texts["Ministry of Health"], texts["United Nations"]]
    assert abs(afp - reuters) == 1.0  # next to each other, though apart in the request
    assert all(not min(afp, reuters) < y < max(afp, reuters) for y in others)
    heading = "One origin, counted once: ministry briefing"
    assert heading in texts and texts[heading] == max(afp, reuters) + 1.0
    total = sum(a.share for a in result.claims if claims[a.index].origin is not None)
    assert any(t.startswith("2 claims · ") and t.endswith(" together")
               and f"{100 * total:.0f}%" in t for t in texts)
    assert "one origin, counted once" in texts  # the legend explains the band


def test_a_plot_without_echoes_has_no_echo_band() -> None:
    result, claims, sources, text = _troop()

    texts = _texts(build_figure(result, claims, sources, **text))

    assert not any("counted once" in t for t in texts)


# --- No central figure, open ends -------------------------------------------------------------


def _summary_arrows(fig: Figure) -> set[str]:
    return {str(line.get_marker()) for line in fig.axes[0].lines
            if isinstance(line, Line2D) and line.get_marker() in ("<", ">")}


def _dashed_lines(fig: Figure) -> list[Line2D]:
    return [line for ax in fig.axes for line in ax.lines if line.get_linestyle() == "--"]


def _two_lower_bounds() -> Case:
    sources = [Source("a", "Police", reliability="B"), Source("b", "Organisers",
                                                                reliability="C")]
    claims = [Claim("a", "at_least", 2000.0), Claim("b", "at_least", 5000.0)]
    text: dict[str, Any] = {"unit": "people"}
    return reconcile(claims, sources, **text), claims, sources, text


@pytest.mark.parametrize("fmt", ["svg", "png"])
@pytest.mark.parametrize("case", [_two_lower_bounds, _pooled], ids=["bounds", "pooled"])
def test_no_value_and_an_open_end_draw_an_arrow_and_no_central_line(
    fmt: PlotFormat, case: Callable[[], Case]
) -> None:
    result, claims, sources, text = case()
    ends = tuple(dataclasses.replace(i, high=None) for i in result.estimate.intervals)
    estimate = dataclasses.replace(result.estimate, value=None, intervals=ends)
    open_result = dataclasses.replace(result, estimate=estimate)

    fig = build_figure(open_result, claims, sources, **text)
    body = render_plot(open_result, claims, sources, fmt=fmt, **text)

    assert body.startswith(b"\x89PNG" if fmt == "png" else b"<?xml")
    assert _summary_arrows(fig) == {">"}  # the open end runs to the plot's edge
    assert _dashed_lines(fig) == []  # no central figure, so no line at one
    widest = max(result.estimate.intervals, key=lambda i: i.level)
    assert any(t.startswith(f"{widest.level:.0%}: at least ") for t in _texts(fig))


def test_both_ends_open_and_the_low_end_open_are_drawn() -> None:
    result, claims, sources, text = _troop()
    for low_only in (True, False):
        ends = tuple(dataclasses.replace(i, low=None, high=i.high if low_only else None)
                     for i in result.estimate.intervals)
        estimate = dataclasses.replace(result.estimate, value=None, intervals=ends)

        fig = build_figure(dataclasses.replace(result, estimate=estimate), claims, sources,
                           **text)

        assert _summary_arrows(fig) >= ({"<"} if low_only else {"<", ">"})
        assert _dashed_lines(fig) == []


def test_a_central_value_with_one_open_end_keeps_its_line() -> None:
    result, claims, sources, text = _troop()
    ends = tuple(dataclasses.replace(i, high=None) for i in result.estimate.intervals)
    estimate = dataclasses.replace(result.estimate, intervals=ends)

    fig = build_figure(dataclasses.replace(result, estimate=estimate), claims, sources, **text)

    assert ">" in _summary_arrows(fig)
    assert len(_dashed_lines(fig)) == 2  # through the curve and through the claims


def test_an_answer_set_by_bounds_alone_has_no_curve() -> None:
    # The curve is the fitted model's; when the bounds alone set the answer, it would show a
    # shape the answer disowns, so the panel is left out rather than drawn empty.
    result, claims, sources, text = _bound()
    assert result.estimate.basis == "bounds"

    fig = build_figure(result, claims, sources, **text)

    assert len(fig.axes) == 1
    assert not any("How likely" in t for t in _texts(fig))


def test_two_echo_groups_interleaved_in_the_request_come_out_as_two_blocks() -> None:
    sources = [Source(f"s{i}", f"Outlet {i}", reliability="BCD"[i % 3]) for i in range(6)]
    origins = ["wire", "briefing", "wire", None, "briefing", "wire"]
    claims = [Claim(f"s{i}", "point", 100.0 + 10 * i, origin=o) for i, o in enumerate(origins)]
    result = reconcile(claims, sources)

    texts = {t.get_text(): t.get_position()[1]
             for t in build_figure(result, claims, sources).findobj(Text)}

    ys = {i: texts[f"Outlet {i}"] for i in range(6)}
    wire, briefing = sorted(ys[i] for i in (0, 2, 5)), sorted(ys[i] for i in (1, 4))
    assert wire == [wire[0], wire[0] + 1, wire[0] + 2]
    assert briefing == [briefing[0], briefing[0] + 1]
    assert texts["One origin, counted once: wire"] == wire[-1] + 1
    assert texts["One origin, counted once: briefing"] == briefing[-1] + 1
    # In request order: the wire block (first claim 0) above the briefing block, claim 3 last.
    assert min(wire) > max(briefing) + 1 > ys[3]


@pytest.mark.parametrize("name", ["   ", "x" * 300, "a " * 150])
def test_odd_names_are_drawn(name: str) -> None:
    sources = [Source("a", name, reliability="A"), Source("b", reliability="B")]
    claims = [Claim("a", "point", 10.0), Claim("b", "point", 12.0)]
    result = reconcile(claims, sources)

    assert render_plot(result, claims, sources, fmt="png").startswith(b"\x89PNG")
