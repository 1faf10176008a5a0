"""The seed article (BBC News Mundo, 23 October 2024, in English) gives the draft claims an
editor would enter by hand, with the other quantities kept apart (issue 17)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]
#: The seed lives in the shared folder beside the repository; a copy travels with the tests.
SEED = ROOT / "fixtures" / "extract" / "seed_article.txt"


@pytest.fixture(scope="module")
def article() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture
def answer(client: FlaskClient, article: str) -> dict[str, Any]:
    response = client.post(
        "/v1/extract", json={"text": article, "published": "2024-10-23"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, Any] = response.get_json()
    return body


def _claim(answer: dict[str, Any], figure: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for quantity in answer["quantities"]:
        for claim in quantity["claims"]:
            if claim["figure"] == figure:
                return quantity, claim
    raise AssertionError(f"no draft claim for {figure!r}")


def _source(answer: dict[str, Any], source_id: str) -> dict[str, Any]:
    return next(s for s in answer["sources"] if s["id"] == source_id)


def test_the_three_troop_claims_are_one_quantity(answer: dict[str, Any]) -> None:
    nis_q, nis = _claim(answer, "1,500")
    anon_q, anon = _claim(answer, "12,000")
    zel_q, zel = _claim(answer, "10,000")
    assert nis_q["id"] == anon_q["id"] == zel_q["id"]
    assert (nis["kind"], nis["value"], nis["hedge"], nis["horizon"]) == (
        "point", 1500, "none", "level")
    assert nis["as_of"] == "2024-10-18"  # "Last Friday", published Wednesday 23 October
    assert (anon["kind"], anon["value"], anon["hedge"], anon["horizon"]) == (
        "point", 12000, "could_be", "total")
    assert (zel["kind"], zel["value"], zel["horizon"]) == ("at_most", 10000, "total")
    assert "NIS" in _source(answer, nis["source"])["name"]
    assert _source(answer, nis["source"])["type"] == "intelligence_agency"
    assert _source(answer, anon["source"]) == {
        "id": anon["source"], "name": "Other sources to South Korean media", "type": "anonymous"}
    assert _source(answer, zel["source"])["name"] == "Volodymyr Zelensky"
    assert _source(answer, zel["source"])["type"] == "head_of_state"


@pytest.mark.parametrize(
    ("figure", "kind", "value", "unit"),
    [("13,000", "point", 13_000, "cargo containers"),
     ("8 million", "at_most", 8_000_000, "projectiles"),
     ("1.3 million", "point", 1_300_000, "active soldiers")],
)
def test_other_quantities_are_kept_apart(
    answer: dict[str, Any], figure: str, kind: str, value: float, unit: str
) -> None:
    troops, _ = _claim(answer, "1,500")
    quantity, claim = _claim(answer, figure)
    assert quantity["id"] != troops["id"]
    assert (claim["kind"], claim["value"], claim["unit"]) == (kind, value, unit)
    others = [c["figure"] for c in quantity["claims"]]
    assert others == [figure]


def test_the_containers_and_projectiles_are_the_nis_s(answer: dict[str, Any]) -> None:
    nis = _claim(answer, "1,500")[1]["source"]
    assert _claim(answer, "13,000")[1]["source"] == nis
    assert _claim(answer, "8 million")[1]["source"] == nis  # "He specified …"
    assert _claim(answer, "1.3 million")[1]["hedge"] == "about"  # "approximately"


def test_every_claim_quotes_its_sentence_and_spans_its_figure(
    answer: dict[str, Any], article: str
) -> None:
    for quantity in answer["quantities"]:
        for claim in quantity["claims"]:
            start, end = claim["span"]
            assert article[start:end] == claim["figure"]
            assert claim["figure"] in claim["quote"]
            assert " ".join(claim["quote"].split()) in " ".join(article.split())
            assert 0 <= claim["confidence"] <= 1


def test_the_drafts_reconcile_as_they_are(client: FlaskClient, answer: dict[str, Any]) -> None:
    """Confirming the troop drafts is enough to reconcile them: the claim contract is one."""
    quantity, _ = _claim(answer, "1,500")
    keep = ("source", "kind", "value", "low", "high", "hedge", "as_of", "horizon", "quote")
    claims = [{k: c[k] for k in keep if c[k] is not None} for c in quantity["claims"]]
    used = {c["source"] for c in claims}
    sources = [s for s in answer["sources"] if s["id"] in used]
    response = client.post("/v1/reconcile", json={
        "question": "North Korean soldiers in Russia", "unit": quantity["unit"],
        "sources": sources, "claims": claims})
    assert response.status_code == 200, response.get_data(as_text=True)
