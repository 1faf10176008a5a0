"""``triangulate learn agreement``: batch learning over the stored database, on both backends."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from service.cli.main import main
from service.http.database import get_database
from service.store.orm import AgreementRow
from tests.store.conftest import Api

#: Twelve true values and, per question, the relative errors of the three careful sources
#: (within 2 %) and the factor the wild source is off by (2× to 5× either way).
TRUTHS = (1200.0, 3400.0, 560.0, 7800.0, 910.0, 15600.0, 2300.0, 430.0, 6700.0, 1890.0,
          52000.0, 740.0)
CAREFUL = {"a": (1.01, 0.99, 1.0, 1.02, 0.98, 1.01, 1.0, 0.99, 1.01, 1.02, 0.99, 1.0),
           "b": (0.99, 1.01, 1.02, 1.0, 1.01, 0.98, 1.01, 1.0, 0.99, 1.0, 1.02, 0.98),
           "c": (1.0, 1.02, 0.98, 0.99, 1.0, 1.01, 0.98, 1.02, 1.0, 0.99, 1.0, 1.01)}
WILD = (3.1, 0.3, 4.7, 0.22, 2.6, 0.41, 5.3, 0.27, 3.8, 0.35, 2.2, 0.19)
FIELDS = {"credibility", "spread", "bias", "hit_rate", "n_claims", "n_questions", "computed_at"}


@pytest.fixture
def environment(settings: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The test's database in the environment, where the command reads its settings."""
    monkeypatch.setenv("DATA_DIR", settings["DATA_DIR"])
    monkeypatch.setenv("DATABASE_URL", settings["DATABASE_URL"])
    return settings


@pytest.fixture
def archive(api: Api) -> list[int]:
    """Three careful sources and a wild one, all graded C, on twelve open questions."""
    for source in (*CAREFUL, "wild"):
        api.source(source, "C")
    questions = []
    for k, truth in enumerate(TRUTHS):
        question = api.question(f"Question {k}", unit="people")["id"]
        for source, errors in CAREFUL.items():
            api.claim(question, source, round(truth * errors[k]))
        api.claim(question, "wild", round(truth * WILD[k]))
        questions.append(question)
    return questions


def _agreement(api: Api, source: str) -> Any:
    return api.get(f"/v1/sources/{source}")["credibility"]["agreement"]


def _learn(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["learn", "agreement"]) == 0
    return capsys.readouterr().out


def _rows(app: Flask) -> int:
    with app.app_context(), get_database().session() as session:
        return int(session.scalar(select(func.count()).select_from(AgreementRow)) or 0)


def test_on_an_empty_database_it_learns_nothing(
    environment: dict[str, Any], app: Flask, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _learn(capsys)

    assert "0 source(s) updated from 0 claim(s) on 0 question(s)" in out
    assert _rows(app) == 0


def test_before_a_run_the_agreement_is_null(api: Api, archive: list[int]) -> None:
    assert _agreement(api, "a") is None


def test_the_wild_source_gets_a_lower_agreement_credibility(
    environment: dict[str, Any], api: Api, archive: list[int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = _learn(capsys)

    careful = {source: _agreement(api, source) for source in CAREFUL}
    wild = _agreement(api, "wild")
    assert "4 source(s) updated from 48 claim(s) on 12 question(s)" in out
    assert set(wild) == FIELDS
    assert wild["n_claims"] == 12 and wild["n_questions"] == 12
    # The wild source (off by 2-5 times on every question) may be read as wrong or as right
    # but very imprecise; either way its claims must weigh far less, c/σ², than the careful
    # ones. (Its credibility alone was 0.35 only while the careful sources' agreeing figures
    # were read as exact copies, the pooled exact share having no prior; with the prior it
    # is 0.77 with a spread of 1.09, the careful sources' 0.83 with 0.21.)
    wild_weight = wild["credibility"] / wild["spread"] ** 2
    for record in careful.values():
        assert record["credibility"] / record["spread"] ** 2 > 10 * wild_weight
        assert record["hit_rate"] > wild["hit_rate"]
        assert record["spread"] < wild["spread"]
    assert 0 < wild["credibility"] < 1


def test_track_records_and_estimates_are_left_as_they_were(
    environment: dict[str, Any], api: Api, archive: list[int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    api.resolve(archive[0], TRUTHS[0])
    before = {s: api.get(f"/v1/sources/{s}")["credibility"] for s in (*CAREFUL, "wild")}
    estimate = api.estimate(archive[1])

    _learn(capsys)

    for source, credibility in before.items():
        after = api.get(f"/v1/sources/{source}")["credibility"]
        assert after["agreement"] is not None
        assert {**after, "agreement": None} == credibility
    assert api.estimate(archive[1]) == estimate


def test_a_second_run_replaces_the_values(
    environment: dict[str, Any], app: Flask, api: Api, archive: list[int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _learn(capsys)
    first = _agreement(api, "wild")
    question = api.question("One more", unit="people")["id"]
    api.claim(question, "a", 1000)
    api.claim(question, "wild", 1010)
    claim = api.claim(question, "b", 990)
    api.retract(question, claim["id"], claim["version"])

    out = _learn(capsys)

    second = _agreement(api, "wild")
    assert "4 source(s) updated from 50 claim(s) on 13 question(s)" in out
    assert second["n_claims"] == first["n_claims"] + 1
    assert second["credibility"] != first["credibility"]
    assert second["computed_at"] >= first["computed_at"]
    assert _agreement(api, "b")["n_claims"] == 12  # the retracted claim does not count
    assert _rows(app) == 4


def test_a_source_without_current_claims_loses_its_row(
    environment: dict[str, Any], app: Flask, api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    api.source("a", "B")
    api.source("b", "C")
    question = api.question("Tanks")["id"]
    api.claim(question, "a", 100)
    claim = api.claim(question, "b", 120)
    _learn(capsys)
    assert _agreement(api, "b") is not None

    api.retract(question, claim["id"], claim["version"])
    _learn(capsys)

    assert _agreement(api, "b") is None
    assert _agreement(api, "a")["n_claims"] == 1
    assert _rows(app) == 1


def test_questions_with_non_positive_figures_are_skipped_and_counted(
    environment: dict[str, Any], api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    api.source("a", "B")
    api.source("b", "C")
    change = api.question("Change", scale="linear")["id"]
    api.claim(change, "a", -3.5)
    api.claim(change, "b", 2.0)
    positive_linear = api.question("Temperature", scale="linear")["id"]
    api.claim(positive_linear, "a", 21.5)
    api.claim(positive_linear, "b", kind="range", low=20, high=23)

    out = _learn(capsys)

    assert "2 source(s) updated from 2 claim(s) on 1 question(s)" in out
    assert "1 question(s) skipped" in out
    assert _agreement(api, "a")["n_questions"] == 1
