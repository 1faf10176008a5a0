"""``triangulate learn agreement --engine dask``: the stored values equal the local engine's.

A ``distributed.LocalCluster`` of two worker processes (one thread each) learns from an
archive stored through the API, read in chunks of a few questions, on both backends
(PostgreSQL where ``TEST_DATABASE_URL`` is set, as in CI).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from distributed import Client
from flask import Flask
from sqlalchemy import select

from service.cli.learn import learn_agreement
from service.cli.main import main
from service.http.database import get_database
from service.store.orm import AgreementRow
from service.store.repository import Repository
from tests.dask_cluster import local_client, output_on_dask
from tests.store.conftest import Api
from tests.store.test_learn_agreement import CAREFUL, TRUTHS, WILD, environment  # noqa: F401
from tests.tolerances import DASK_RTOL

NUMBERS = ("credibility", "spread", "bias", "hit_rate")
COUNTS = ("n_claims", "n_questions")
#: Questions per chunk in the tests: the 15 stored questions (one skipped) make four chunks.
CHUNK = 4


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Client]:
    with local_client() as c:
        yield c


@pytest.fixture
def archive(api: Api) -> None:
    """Twelve questions of three careful sources and a wild one, plus a range, bounds, two
    copies of one wire (one origin), a retracted claim and a question with a negative figure
    (skipped)."""
    for source in (*CAREFUL, "wild", "wire-a", "wire-b"):
        api.source(source, "C")
    for k, truth in enumerate(TRUTHS):
        question = api.question(f"Question {k}", unit="people")["id"]
        for source, errors in CAREFUL.items():
            api.claim(question, source, round(truth * errors[k]))
        api.claim(question, "wild", round(truth * WILD[k]))
        if k % 3 == 0:
            api.claim(question, "wire-a", round(truth * 1.05), origin="wire")
            api.claim(question, "wire-b", round(truth * 1.05), origin="wire")
    ranged = api.question("Ranged", unit="people")["id"]
    api.claim(ranged, "a", kind="range", low=900, high=1100)
    api.claim(ranged, "b", kind="at_least", value=950)
    api.claim(ranged, "wild", kind="at_most", value=4000)
    api.claim(ranged, "c", 1020)
    retracted = api.question("Retracted", unit="people")["id"]
    api.claim(retracted, "a", 300)
    claim = api.claim(retracted, "b", 310)
    api.retract(retracted, claim["id"], claim["version"])
    negative = api.question("Change", scale="linear")["id"]
    api.claim(negative, "a", -3.5)
    api.claim(negative, "b", 2.0)


def _stored(app: Flask) -> dict[str, dict[str, float]]:
    with app.app_context(), get_database().session() as session:
        rows = session.scalars(select(AgreementRow)).all()
        return {r.source_id: {name: getattr(r, name) for name in (*NUMBERS, *COUNTS)}
                for r in rows}


def _on_dask(app: Flask, client: Client) -> str:
    with app.app_context(), get_database().session() as session:
        return learn_agreement(Repository(session), client,
                               questions_per_chunk=CHUNK).summary()


def _assert_same(dask: dict[str, dict[str, float]], local: dict[str, dict[str, float]]) -> None:
    assert dask.keys() == local.keys()
    for source, values in local.items():
        for name in COUNTS:
            assert dask[source][name] == values[name], (source, name)
        got = [dask[source][name] for name in NUMBERS]
        want = [values[name] for name in NUMBERS]
        np.testing.assert_allclose(got, want, rtol=DASK_RTOL, err_msg=source)


def test_dask_in_chunks_stores_what_the_local_engine_stores(
    environment: dict[str, Any], app: Flask, api: Api, archive: None,  # noqa: F811
    dask_client: Client, capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["learn", "agreement"]) == 0
    local_out = capsys.readouterr().out
    local = _stored(app)

    summary = _on_dask(app, dask_client)

    assert local_out.startswith("Agreement-based credibility: 6 source(s) updated from 61 "
                                "claim(s) on 14 question(s); 1 question(s) skipped")
    assert summary.startswith("Agreement-based credibility (Dask, 2 workers): 6 source(s) "
                              "updated from 61 claim(s) on 14 question(s); 1 question(s) "
                              "skipped")
    assert local["a"]["n_questions"] == 14 and local["wire-a"]["n_questions"] == 4
    _assert_same(_stored(app), local)


def test_the_command_names_the_dask_engine(
    environment: dict[str, Any], app: Flask, api: Api, archive: None,  # noqa: F811
    dask_client: Client, capsys: pytest.CaptureFixture[str],
) -> None:
    out = output_on_dask(["learn", "agreement"], dask_client, capsys, lambda: _stored(app),
                         _assert_same)

    assert out.startswith("Agreement-based credibility (Dask, 2 workers): 6 source(s)")


def test_a_dropped_chunk_shows(
    environment: dict[str, Any], app: Flask, api: Api, archive: None,  # noqa: F811
    dask_client: Client, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The comparison above must see a chunk the Dask path lost.
    assert main(["learn", "agreement"]) == 0
    local = _stored(app)
    chunks = Repository.agreement_chunks

    def dropping(self: Repository, questions_per_chunk: int) -> Iterator[Any]:
        for k, chunk in enumerate(chunks(self, questions_per_chunk)):
            if k != 1:
                yield chunk

    monkeypatch.setattr(Repository, "agreement_chunks", dropping)
    _on_dask(app, dask_client)

    with pytest.raises(AssertionError):
        _assert_same(_stored(app), local)


def test_on_an_empty_database_dask_learns_nothing(
    environment: dict[str, Any], app: Flask, dask_client: Client,  # noqa: F811
) -> None:
    summary = _on_dask(app, dask_client)

    assert "(Dask, 2 workers): 0 source(s) updated from 0 claim(s) on 0 question(s)" in summary
    assert _stored(app) == {}


def test_without_dask_the_dask_engine_exits_2(
    environment: dict[str, Any], app: Flask, api: Api, archive: None,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("dask", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # import dask now raises ImportError
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)

    assert main(["learn", "agreement", "--engine", "dask"]) == 2

    assert "--engine dask needs dask and distributed" in capsys.readouterr().err
    assert _stored(app) == {}
