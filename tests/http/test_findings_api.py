"""Findings and summary through ``POST /v1/reconcile``: every printed number traces to a field.

For generated requests (hypothesis): each figure of each finding and of the summary that names
a response field (``path``) equals that field exactly; quoted figures equal the request's claims;
the explanation is the findings' sentences in order and every number in it is a figure's text.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.cli.golden import resolve

NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
NAMES = ("the police", "the organisers", "Reuters", "the Red Crescent", "AFP")
GRADES = ("A", "B", "C", "D", "E", None)


def draw_sources(draw: st.DrawFn) -> list[dict[str, Any]]:
    """One to four named sources of random grades, ids s0, s1, …"""
    return [{"id": f"s{k}", "name": NAMES[k], "reliability": draw(st.sampled_from(GRADES))}
            for k in range(draw(st.integers(1, 4)))]


def draw_claim(draw: st.DrawFn, n_sources: int, hedges: tuple[str, ...],
               **fields: st.SearchStrategy[Any]) -> dict[str, Any]:
    """A claim of a random kind by one of ``n_sources`` sources, with the numbers its kind
    takes; ``fields`` are drawn into it too."""
    kind = draw(st.sampled_from(("point", "point", "at_least", "at_most", "range")))
    claim: dict[str, Any] = {"source": f"s{draw(st.integers(0, n_sources - 1))}", "kind": kind,
                             "hedge": draw(st.sampled_from(hedges))}
    claim.update({name: draw(strategy) for name, strategy in fields.items()})
    if kind == "range":
        low = draw(st.integers(10, 10**6))
        claim.update(low=low, high=low + draw(st.integers(1, 10**5)))
    else:
        claim["value"] = draw(st.integers(10, 10**6))
    return claim


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    sources = draw_sources(draw)
    claims = []
    for _ in range(draw(st.integers(1, 5))):
        claim = draw_claim(draw, len(sources), ("none", "exact", "about"))
        if draw(st.booleans()):
            claim["origin"] = "wire"
        claims.append(claim)
    return {"sources": sources, "claims": claims, "unit": "people",
            "question": "How many people marched?"}


def _check(doc: dict[str, Any], body: dict[str, Any]) -> None:
    findings = doc["findings"]
    assert doc["explanation"] == " ".join(f["text"] for f in findings)
    printed = {tok for f in findings for fig in f["figures"] for tok in NUMBER.findall(fig["text"])}
    # Words the caller wrote (the subject, names, origins) may hold digits of their own.
    text = doc["explanation"]
    own = [(body.get("style") or {}).get("subject"), body.get("question"),
           *(s.get("name") for s in body["sources"]), *(c.get("origin") for c in body["claims"])]
    for words in sorted((w for w in own if w), key=len, reverse=True):
        text = text.replace(words, "")
    for tok in NUMBER.findall(text):
        assert tok in printed, (tok, doc["explanation"])
    figures = [fig for f in findings for fig in f["figures"]] + doc["summary"]["figures"]
    for fig in figures:
        if fig["path"] is None:
            continue
        got = resolve(doc, fig["path"])
        if isinstance(got, str):  # a date: the figure holds its ordinal
            got = float(date.fromisoformat(got).toordinal())
        assert got == fig["value"], fig
        if fig["quoted"]:
            _, i, name = fig["path"].split(".")
            assert body["claims"][int(i)][name] == fig["value"]
    head = findings[0]
    assert doc["summary"]["figures"] == head["figures"]
    assert "How many" not in doc["explanation"] and "Triangulate" not in doc["explanation"]
    assert not re.search(r"s's\b", doc["explanation"])
    assert sum(c["share"] for c in doc["claims"]) == pytest.approx(1.0)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(body=bodies())
def test_every_printed_number_traces_to_a_response_field(
    client: FlaskClient, body: dict[str, Any]
) -> None:
    response = client.post("/v1/reconcile", json=body)

    assert response.status_code == 200, response.get_json()
    _check(response.get_json(), body)


def test_style_subject_and_units(client: FlaskClient) -> None:
    body = {
        "question": "How many North Korean soldiers are in Russia?",
        "unit": "soldiers",
        "style": {"subject": "North Korean soldiers in Russia"},
        "sources": [{"id": "nis", "name": "South Korea's NIS", "reliability": "B"},
                    {"id": "z", "name": "Volodymyr Zelensky", "reliability": "C"}],
        "claims": [{"source": "nis", "kind": "point", "value": 1500},
                   {"source": "z", "kind": "point", "value": 10000, "hedge": "could_be"}],
    }
    doc = client.post("/v1/reconcile", json=body).get_json()

    assert "North Korean soldiers in Russia" in doc["explanation"]
    assert "?" not in doc["explanation"]
    assert "South Korea's NIS's figure of 1,500" in doc["explanation"]
    assert doc["summary"]["kind"] in ("figure", "split")
    _check(doc, body)


def test_style_is_optional_and_strict(client: FlaskClient) -> None:
    body = {"sources": [{"id": "a"}], "claims": [{"source": "a", "kind": "at_least",
                                                   "value": 3166, "hedge": "exact"}]}
    doc = client.post("/v1/reconcile", json=body).get_json()
    assert doc["summary"] == {"kind": "bound", "text": "At least 3,166",
                              "figures": doc["findings"][0]["figures"]}

    bad = client.post("/v1/reconcile", json={**body, "style": {"voice": "passive"}})
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("style", "field"),
    [({"subject": "How many soldiers went?"}, "style.subject"),
     ({"subject": "   "}, "style.subject"),
     ({"subject": ""}, "style.subject"),
     ({"subject": 5}, "style.subject"),
     ({"whole_numbers": "yes"}, "style.whole_numbers"),
     ({"whole_numbers": 1}, "style.whole_numbers"),
     ("plain", "style")],
)
def test_bad_style_is_a_422_naming_the_field(
    client: FlaskClient, style: Any, field: str
) -> None:
    """A question is never pasted in as a subject, even when sent as one; booleans are JSON's."""
    body = {"sources": [{"id": "a"}], "claims": [{"source": "a", "kind": "point", "value": 3}],
            "style": style}
    response = client.post("/v1/reconcile", json=body)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_whole_numbers_option_controls_decimals(client: FlaskClient) -> None:
    body = {"sources": [{"id": "a", "reliability": "B"}, {"id": "b", "reliability": "B"}],
            "claims": [{"source": "a", "kind": "point", "value": 38.3},
                       {"source": "b", "kind": "point", "value": 41.2}],
            "unit": "%"}
    decimals = client.post("/v1/reconcile", json=body).get_json()
    whole = client.post("/v1/reconcile",
                        json={**body, "style": {"whole_numbers": True}}).get_json()

    assert "%" in decimals["summary"]["text"] and " %" not in decimals["summary"]["text"]
    assert not re.search(r"\d\.\d", whole["findings"][0]["figures"][0]["text"])


# -- the corpus of real cases -----------------------------------------------------------------

CASES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "cases"
CASES = sorted(CASES_DIR.glob("*.json"))
MINIMUM_CASES = 20


def test_the_corpus_has_enough_cases_with_provenance() -> None:
    assert len(CASES) >= MINIMUM_CASES
    for path in CASES:
        case = json.loads(path.read_text(encoding="utf-8"))
        sources = case["provenance"]["sources"]
        assert sources and all({"outlet", "date", "link"} <= set(s) for s in sources), path.name
        assert case["editor"], f"{path.name} states no property an editor would check"


def _editor_checks(doc: dict[str, Any], editor: dict[str, Any]) -> list[str]:
    """The properties a careful editor would check, each failure as a sentence."""
    text = doc["explanation"]
    kinds = [f["kind"] for f in doc["findings"]]
    wrong = {i for f in doc["findings"] if f["kind"] in ("discounted", "violated_bound")
             for i in f["claims"]}
    failures: list[str] = []
    expected_kind = editor.get("summary_kind")
    if expected_kind is not None:
        allowed = [expected_kind] if isinstance(expected_kind, str) else expected_kind
        if doc["summary"]["kind"] not in allowed:
            failures.append(f"summary kind {doc['summary']['kind']}, expected {allowed}")
    if "summary_starts" in editor and not doc["summary"]["text"].startswith(
            editor["summary_starts"]):
        failures.append(f"summary {doc['summary']['text']!r}")
    if editor.get("no_central_figure") and "central_figure" in kinds:
        failures.append("prints a central figure the evidence does not support")
    failures += [f"does not quote {q!r} exactly" for q in editor.get("quoted", []) if q not in text]
    failures += [f"says {p!r}" for p in editor.get("not_in_explanation", []) if p in text]
    failures += [f"does not name {name}" for name in editor.get("names", []) if name not in text]
    failures += [f"calls claim {i} wrong" for i in editor.get("not_discounted", []) if i in wrong]
    if editor.get("no_discounted") and "discounted" in kinds:
        failures.append("calls a claim wrong")
    origin = editor.get("echo_group_named")
    if origin is not None and not any(f["kind"] == "echo_group" and f["origin"] == origin
                                      and origin in f["text"] for f in doc["findings"]):
        failures.append(f"does not name the echo group {origin!r}")
    if editor.get("no_decimals") and re.search(r"\d\.\d+(?! (million|billion))", text):
        failures.append("prints decimals for a count")
    if editor.get("percent_attached") and " %" in text + doc["summary"]["text"]:
        failures.append("detaches %")
    return failures


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_real_case(client: FlaskClient, path: Path) -> None:
    case = json.loads(path.read_text(encoding="utf-8"))

    response = client.post("/v1/reconcile", json=case["input"])

    assert response.status_code == 200, response.get_json()
    doc = response.get_json()
    _check(doc, case["input"])
    assert _editor_checks(doc, case["editor"]) == [], doc["explanation"]
