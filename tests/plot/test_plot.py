"""``POST /v1/reconcile/plot``, the drawing in :mod:`service.plot.forest`, and the editors' page
files."""

from __future__ import annotations

import copy
import io
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from matplotlib.text import Text
from PIL import Image

from models.claims import Claim, Source
from models.reconcile import reconcile
from service.http.problems import PROBLEM_MIMETYPE
from service.plot.forest import (
    PNG_DPI,
    WIDTH_IN,
    build_figure,
    format_count,
    log_ticks,
    render_plot,
)
from tests.helpers import troop_case

ROOT = Path(__file__).resolve().parents[2]
PLOT = "/v1/reconcile/plot"
SVG = "image/svg+xml"
PNG = "image/png"


def _texts(fig: Any) -> list[str]:
    return [t.get_text() for t in fig.findobj(Text) if t.get_text()]


# --- The route: content types, negotiation, errors ------------------------------------------


def test_svg_by_default(client: FlaskClient, troop_body: dict[str, Any]) -> None:
    response = client.post(PLOT, json=troop_body)

    assert response.status_code == 200
    assert response.mimetype == SVG
    assert response.headers["Vary"] == "Accept"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    body = response.get_data()
    assert body.startswith(b"<?xml") and b"<svg" in body[:500]
    assert 20_000 < len(body) < 1_000_000
    # The title reaches the document's metadata; the drawing itself has its text as outlines.
    assert b"<dc:title>North Korean soldiers in Russia</dc:title>" in body


@pytest.mark.parametrize(
    ("query", "headers"),
    [("", {"Accept": PNG}), ("?format=png", {}), ("?format=png", {"Accept": SVG})],
    ids=["accept", "query", "query-wins"],
)
def test_png_when_asked(
    client: FlaskClient, troop_body: dict[str, Any], query: str, headers: dict[str, str]
) -> None:
    response = client.post(PLOT + query, json=troop_body, headers=headers)

    assert response.status_code == 200
    assert response.mimetype == PNG
    body = response.get_data()
    assert body.startswith(b"\x89PNG\r\n\x1a\n")
    assert 20_000 < len(body) < 2_000_000
    with Image.open(io.BytesIO(body)) as image:
        assert image.width == round(WIDTH_IN * PNG_DPI)
        assert image.height > image.width / 2


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, SVG),
        ("*/*", SVG),
        ("image/*", SVG),
        ("image/png, image/svg+xml;q=0.5", PNG),
        ("image/svg+xml;q=0.2, image/png;q=0.9", PNG),
        ("text/html, application/xhtml+xml, */*;q=0.8", SVG),
        ("image/avif, image/webp, image/png, */*;q=0.5", PNG),
    ],
)
def test_accept_negotiation(
    client: FlaskClient, troop_body: dict[str, Any], accept: str | None, expected: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {}

    response = client.post(PLOT, json=troop_body, headers=headers)

    assert response.status_code == 200
    assert response.mimetype == expected


@pytest.mark.parametrize("accept", ["application/json", "text/plain", "image/gif"])
def test_unsupported_accept_is_406(
    client: FlaskClient, troop_body: dict[str, Any], accept: str
) -> None:
    response = client.post(PLOT, json=troop_body, headers={"Accept": accept})

    assert response.status_code == 406
    assert response.mimetype == PROBLEM_MIMETYPE
    problem = response.get_json()
    assert problem["title"] == "Not Acceptable"
    assert problem["instance"] == PLOT
    assert accept in problem["detail"] and "image/png" in problem["detail"]


def test_unknown_format_is_422_naming_the_parameter(
    client: FlaskClient, troop_body: dict[str, Any]
) -> None:
    response = client.post(PLOT + "?format=gif", json=troop_body)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"query.format": ["Must be one of: svg, png."]}


def _broken(change: str, body: dict[str, Any]) -> dict[str, Any]:
    body = copy.deepcopy(body)
    if change == "negative-on-log":
        body["claims"][0]["value"] = -1500
    elif change == "low-above-high":
        body["claims"][1] = {"source": "zelensky", "kind": "range", "low": 9000, "high": 100}
    elif change == "unknown-source":
        body["claims"][2]["source"] = "nobody"
    elif change == "string-value":
        body["claims"][0]["value"] = "1,500"
    elif change == "no-claims":
        body["claims"] = []
    elif change == "unknown-field":
        body["colour"] = "red"
    return body


@pytest.mark.parametrize(
    "change",
    ["negative-on-log", "low-above-high", "unknown-source", "string-value", "no-claims",
     "unknown-field"],
)
def test_bad_body_gets_the_same_problem_as_reconcile(
    client: FlaskClient, troop_body: dict[str, Any], change: str
) -> None:
    body = _broken(change, troop_body)

    plotted = client.post(PLOT, json=body)
    reconciled = client.post("/v1/reconcile", json=body)

    assert plotted.status_code == reconciled.status_code == 422
    assert plotted.mimetype == PROBLEM_MIMETYPE
    ours, theirs = plotted.get_json(), reconciled.get_json()
    assert ours.pop("instance") == PLOT
    theirs.pop("instance")
    assert ours == theirs


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [(b"{not json", "application/json", 400), (b"claims", "text/plain", 415)],
)
def test_malformed_bodies(
    client: FlaskClient, data: bytes, content_type: str, status: int
) -> None:
    response = client.post(PLOT, data=data, content_type=content_type)

    assert response.status_code == status
    assert response.mimetype == PROBLEM_MIMETYPE


def test_openapi_documents_the_plot(client: FlaskClient) -> None:
    document = client.get("/openapi.json").get_json()
    operation = document["paths"][PLOT]["post"]

    assert set(operation["responses"]["200"]["content"]) == {SVG, PNG}
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ReconcileRequest"}
    assert {"400", "406", "413", "415", "422", "500"} <= set(operation["responses"])
    assert [p["name"] for p in operation["parameters"]] == ["format"]


# --- The drawing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1500, "1.5k"),
        (12000, "12k"),
        (1.2e6, "1.2M"),
        (999_999, "1M"),
        (950, "950"),
        (0.25, "0.25"),
        (0, "0"),
        (-3000, "\N{MINUS SIGN}3k"),
        (2.5e9, "2.5B"),
        (1e12, "1T"),
        (150_000, "150k"),
        (1e16, "1e+16"),
    ],
)
def test_format_count(value: float, text: str) -> None:
    assert format_count(value) == text


@pytest.mark.parametrize(
    ("low", "high"),
    [(900.0, 14000.0), (1.0, 1e12), (1000.0, 1300.0), (0.002, 0.9), (40.0, 60000.0)],
)
def test_log_ticks_are_few_readable_and_inside(low: float, high: float) -> None:
    ticks = log_ticks(low, high)
    labels = [format_count(t) for t in ticks]

    assert 2 <= len(ticks) <= 8
    assert ticks == sorted(ticks) and all(low <= t <= high for t in ticks)
    assert len(set(labels)) == len(labels), labels  # no two ticks read the same
    assert all(len(label) <= 5 for label in labels), labels


def test_troop_plot_has_rows_summary_and_readable_ticks() -> None:
    claims, sources, text = troop_case()
    result = reconcile(claims, sources, **text)

    fig = build_figure(result, claims, sources, **text)
    fig.canvas.draw()

    texts = _texts(fig)
    assert "North Korean soldiers in Russia" in texts
    for label in ("South Korea NIS", "Volodymyr Zelensky", "Sources to South Korean media",
                  "B", "C", "F", "Estimate"):
        assert label in texts
    assert any(t.startswith("1,500 · ") for t in texts)
    assert any(t.startswith("up to 10,000 · ") for t in texts)
    assert any(t.startswith("about 12,000 · ") and t.endswith("likely wrong") for t in texts)
    assert "soldiers (log scale)" in texts
    forest = fig.axes[0]
    assert forest.get_xscale() == "log"
    ticks = [t.get_text() for t in forest.get_xticklabels()]
    assert {"1.5k", "10k"} <= set(ticks)
    assert "How likely\neach value is" in texts


def test_pooled_linear_plot_draws_normal_approximation_and_prediction() -> None:
    sources = [Source(f"t{i}") for i in range(5)]
    values = [(0.8, 0.2), (1.1, 0.15), (0.4, 0.3), (-0.2, 0.4), (0.9, 0.1)]
    claims = [Claim(f"t{i}", "point", v, sd=s) for i, (v, s) in enumerate(values)]
    result = reconcile(claims, sources, scale="linear", method="random_effects")

    fig = build_figure(result, claims, sources, question="Temperature anomaly", unit="°C")
    fig.canvas.draw()

    texts = _texts(fig)
    assert fig.axes[0].get_xscale() == "linear"
    assert "How likely\neach value is\n(roughly)" in texts
    assert result.prediction is not None
    assert f"{result.prediction.level:.0%} range of a new source" in texts
    assert "°C (linear scale)" in texts


def test_text_is_printed_not_parsed_as_mathtext() -> None:
    sources = [Source("a", "Wire $x$ & co", reliability="A"), Source("b", reliability=0.6)]
    claims = [Claim("a", "point", 10.0), Claim("b", "range", low=8.0, high=20.0)]
    result = reconcile(claims, sources)

    fig = build_figure(result, claims, sources, question="Cost in $ millions")
    png = render_plot(result, claims, sources, question="Cost in $ millions", fmt="png")

    assert "Wire $x$ & co" in _texts(fig)
    assert "60%" in _texts(fig)  # a credibility given as a number, on the grades' scale
    assert png.startswith(b"\x89PNG")


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_characters_the_font_lacks_are_replaced_not_an_error(fmt: str) -> None:
    # Found by the stateful fuzzer: a stored question titled with an unassigned code point made
    # matplotlib warn "Glyph … missing" (a 500 under -W error, a blank box otherwise).
    sources = [Source("a", "Wire \U0004c22e\x1f", reliability="A"), Source("b", reliability=0.6)]
    claims = [Claim("a", "point", 10.0), Claim("b", "range", low=8.0, high=20.0)]
    result = reconcile(claims, sources)
    question, unit = "Troops \U0004c22e in \u0007 Kursk", "men\U000e0001"

    fig = build_figure(result, claims, sources, question=question, unit=unit)
    body = render_plot(result, claims, sources, question=question, unit=unit, fmt=fmt)

    texts = _texts(fig)
    assert "Wire \ufffd\ufffd" in texts
    assert "Troops \ufffd in \ufffd Kursk" in texts
    assert any(text.startswith("men\ufffd") for text in texts)
    assert body.startswith(b"\x89PNG" if fmt == "png" else b"<?xml")


def test_renders_are_thread_safe() -> None:
    claims, sources, text = troop_case()
    result = reconcile(claims, sources, **text)
    other_claims = [*claims, Claim("nis", "range", low=900.0, high=2500.0)]
    other = reconcile(other_claims, sources, **text)
    cases = [(result, claims), (other, other_claims)]
    expected = [render_plot(r, c, sources, fmt="png", **text) for r, c in cases]

    def draw(i: int) -> bytes:
        case_result, case_claims = cases[i % 2]
        return render_plot(case_result, case_claims, sources, fmt="png", **text)

    with ThreadPoolExecutor(max_workers=4) as pool:
        outputs = list(pool.map(draw, range(8)))

    assert [out == expected[i % 2] for i, out in enumerate(outputs)] == [True] * 8


def test_rendering_never_imports_pyplot() -> None:
    probe = (
        "import sys\n"
        "from models.claims import Claim, Source\n"
        "from models.reconcile import reconcile\n"
        "from service.plot.forest import render_plot\n"
        "s = [Source('a', reliability='B'), Source('b', reliability='C')]\n"
        "c = [Claim('a', 'point', 100.0), Claim('b', 'at_most', 300.0)]\n"
        "render_plot(reconcile(c, s), c, s, fmt='png')\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


# --- The editors' page ------------------------------------------------------------------------


def test_page_is_served_with_a_strict_policy(client: FlaskClient) -> None:
    with client.get("/") as response:  # a file response: close it
        assert response.status_code == 200
        assert response.mimetype == "text/html"
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "blob:" in policy
        assert b"Load example" in response.get_data()


@pytest.mark.parametrize(
    ("asset", "mimetype"),
    [
        ("main.js", "text/javascript"),
        ("form.js", "text/javascript"),
        ("stored.js", "text/javascript"),
        ("editor.css", "text/css"),
    ],
)
def test_page_assets_are_served(client: FlaskClient, asset: str, mimetype: str) -> None:
    with client.get(f"/static/editor/{asset}") as response:
        assert response.status_code == 200
        assert response.mimetype == mimetype


def test_page_loads_nothing_from_elsewhere() -> None:
    folder = ROOT / "service" / "static" / "editor"
    for path in folder.iterdir():
        text = path.read_text(encoding="utf-8")
        # Only relative or same-origin references: no CDN, so the page works offline.
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path.name
        assert not re.search(r"import\s.*from\s+\"(https?:)?//", text), path.name
        assert not re.search(r"fetch\(\s*[\"'`]https?:", text), path.name


def test_example_in_page_is_the_troop_case(troop_body: dict[str, Any]) -> None:
    source = (ROOT / "service" / "static" / "editor" / "form.js").read_text(encoding="utf-8")
    block = source[source.index("export const EXAMPLE = ") :].split("};", 1)[0] + "}"
    as_json = re.sub(r"(\w+):", r'"\1":', block.removeprefix("export const EXAMPLE = "))
    as_json = re.sub(r",(\s*[\]}])", r"\1", as_json)

    assert json.loads(as_json) == troop_body
