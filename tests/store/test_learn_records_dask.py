"""``triangulate learn records --engine dask``: the stored track records and shared errors equal
the local relearn's.

A ``distributed.LocalCluster`` of two worker processes (one thread each) relearns an archive of
a few hundred resolved questions (sources of several grades and types, an unjudged one among
them; points with and without an sd or interval, bounds, ranges, hedges, a retracted claim;
log and linear scales, a linear truth of 0; categories with a shared error), read in chunks of a
few dozen questions, on both backends (PostgreSQL where ``TEST_DATABASE_URL`` is set, as in CI).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from typing import Any, Final

import numpy as np
import pytest
from distributed import Client
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.track_record_sums import e_step_sums, sigma_q_sums
from service.batch.dask_records import DaskRows
from service.cli.learn_records import learn_records
from service.cli.main import main
from service.store.engine import Database, database_url
from service.store.inputs import ClaimInput, QuestionInput, ResolutionInput, SourceInput
from service.store.orm import Question, SharedErrorRow, TrackRecordRow
from service.store.repository import Repository
from service.store.versions import UNCONDITIONAL
from tests.dask_cluster import ROOT, local_client, output_on_dask
from tests.tolerances import DASK_RTOL

ACTOR: Final = "tester"
#: Questions per chunk: the archive's resolved questions make several partitions a worker.
CHUNK: Final = 45
N_QUESTIONS: Final = 240
#: Source id, grade (or number; None: unjudged), type.
SOURCES: Final = (
    ("agency", "A", "government"), ("paper", "B", "media_outlet"),
    ("wire", "C", "wire_service"), ("ngo", "D", "expert"), ("blog", "E", "other"),
    ("anon", None, "anonymous"), ("think", 0.7, "expert"),
)
#: Each source's systematic offset and spread (log units, or units of the truth's scale).
BEHAVIOUR: Final = {"agency": (0.0, 0.03), "paper": (0.02, 0.08), "wire": (-0.05, 0.15),
                    "ngo": (0.1, 0.3), "blog": (0.3, 0.8), "anon": (0.0, 0.2),
                    "think": (-0.02, 0.05)}
HEDGE_CYCLE: Final = ("none", "none", "about", "exact", "could_be", "rumour")
NUMBERS: Final = ("credibility", "spread", "bias", "hit_rate", "observed_hit_rate",
                  "calibration")
COUNTS: Final = ("n_resolved", "n_calibration")


@pytest.fixture(scope="module")
def dask_client() -> Iterator[Client]:
    with local_client() as c:
        yield c


@pytest.fixture
def database(settings: dict[str, Any]) -> Iterator[Database]:
    database = Database(database_url(settings))
    yield database
    database.dispose()


def _claim(rng: np.random.Generator, source: str, truth: float, log: bool, k: int,
           j: int) -> ClaimInput:
    bias, spread = BEHAVIOUR[source]
    hedge = HEDGE_CYCLE[(k + j) % len(HEDGE_CYCLE)]
    miss = bias + spread * rng.standard_normal()
    if rng.random() < 0.08:
        miss += rng.choice([-1.5, 1.5])  # a wrong figure
    value = truth * float(np.exp(miss)) if log else truth + miss * 10.0
    shape = (k * 7 + j) % 9
    if shape == 0:
        low, high = sorted((value * 0.8, value * 1.25) if log else (value - 8.0, value + 8.0))
        return ClaimInput(source, "range", low=low, high=high, hedge=hedge)
    if shape == 1:
        return ClaimInput(source, "at_least", value=value * 0.9 if log else value - 5.0)
    if shape == 2:
        return ClaimInput(source, "at_most", value=value * 1.1 if log else value + 5.0)
    if shape == 3:
        return ClaimInput(source, "point", value=value, sd=abs(value) * 0.05 + 0.5, hedge=hedge)
    if shape == 4:
        width = abs(value) * 0.1 + 1.0
        return ClaimInput(source, "point", value=value, ci_low=value - width,
                          ci_high=value + width, hedge=hedge)
    return ClaimInput(source, "point", value=value, hedge=hedge)


def _seed(repo: Repository, n_questions: int = N_QUESTIONS) -> None:
    """The archive: ``n_questions`` resolved questions, two open, one retracted claim."""
    rng = np.random.default_rng(20261205)
    for sid, grade, kind in SOURCES:
        repo.create_source(SourceInput(id=sid, type=kind, reliability=grade), ACTOR)  # type: ignore[arg-type]
    ids = [s[0] for s in SOURCES]
    for k in range(n_questions + 2):
        log = k % 4 != 3
        category = ("senate", "population", "budget", None)[k % 4] if k % 5 else None
        truth = float(np.exp(rng.uniform(3.0, 12.0))) if log else (
            0.0 if k % 40 == 3 else float(rng.uniform(-50.0, 50.0)))
        question = repo.create_question(QuestionInput(
            f"Question {k}", scale="log" if log else "linear", category=category), ACTOR)
        shared = 0.25 * rng.standard_normal() if category else 0.0
        chosen = rng.choice(len(ids), size=int(rng.integers(2, 6)), replace=False)
        for j, s in enumerate(sorted(chosen)):
            claim = _claim(rng, ids[s], truth * float(np.exp(shared)) if log else truth + 10.0
                           * shared, log, k, j)
            if not log and truth == 0.0 and claim.kind == "point" and claim.sd is None:
                claim = ClaimInput(claim.source, "point", value=claim.value, sd=2.0)
            repo.create_claim(question.id, claim, ACTOR)
        if k == 5:
            extra = repo.create_claim(question.id, ClaimInput("blog", "point", value=truth * 9),
                                      ACTOR)
            repo.retract_claim(question.id, extra.id, UNCONDITIONAL, ACTOR, "withdrawn")
        if k < n_questions:
            repo.resolve_question(question.id, ResolutionInput(truth), UNCONDITIONAL, ACTOR)


def _stored(session: Session) -> tuple[dict[str, dict[str, Any]], dict[Any, float]]:
    session.rollback()
    records = {r.source_id: {name: getattr(r, name) for name in (*NUMBERS, *COUNTS, "profile")}
               for r in session.scalars(select(TrackRecordRow))}
    shared = {(r.category, r.scale): r.value for r in session.scalars(select(SharedErrorRow))}
    session.rollback()  # no read transaction left open to block the command's write
    return records, shared


def _numbers(record: dict[str, Any]) -> list[float]:
    values = [float("nan") if record[n] is None else record[n] for n in NUMBERS]
    for comp in record["profile"]["components"]:
        values.extend((comp["weight"], comp["c"], comp["sigma"], comp["bias"]))
    return values


def _assert_same(dask: tuple[dict[str, dict[str, Any]], dict[Any, float]],
                 local: tuple[dict[str, dict[str, Any]], dict[Any, float]]) -> None:
    records, shared = dask
    want_records, want_shared = local
    assert records.keys() == want_records.keys()
    for source, want in want_records.items():
        got = records[source]
        for name in COUNTS:
            assert got[name] == want[name], (source, name)
        assert len(got["profile"]["components"]) == len(want["profile"]["components"]), source
        np.testing.assert_allclose(_numbers(got), _numbers(want), rtol=DASK_RTOL,
                                   err_msg=source)
    assert shared.keys() == want_shared.keys()
    np.testing.assert_allclose([shared[k] for k in want_shared],
                               list(want_shared.values()), rtol=DASK_RTOL)


@pytest.fixture
def archive(database: Database) -> Iterator[Session]:
    session = database.sessions()
    _seed(Repository(session, learn="deferred"))
    yield session
    session.close()


def test_dask_relearn_stores_what_the_local_relearn_stores(
    archive: Session, dask_client: Client,
) -> None:
    run = learn_records(Repository(archive), dask_client, questions_per_chunk=CHUNK)
    on_dask = _stored(archive)
    Repository(archive).relearn()
    local = _stored(archive)

    assert run.summary().startswith(
        f"Track records (Dask, 2 workers): 7 source(s) relearned from {run.n_claims} "
        f"claim(s) on {N_QUESTIONS} resolved question(s) (7 with resolved claims; the others "
        f"keep their grade's prior), in ")
    # The archive exercises what it should: every source learned, an unjudged source's five
    # hypotheses, intervals, and shared errors the alternation fits.
    records, shared = local
    assert all(r["n_resolved"] > 0 for r in records.values())
    assert len(records["anon"]["profile"]["components"]) > 1
    assert all(r["n_calibration"] > 0 for r in records.values())
    assert len(shared) >= 4 and max(shared.values()) > 0.0
    _assert_same(on_dask, local)


def test_a_wrong_sum_on_dask_shows(
    archive: Session, dask_client: Client, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The comparison above must see a Dask path whose reduction is off by a part in a million.
    Repository(archive).relearn()
    local = _stored(archive)
    reduce = DaskRows.__call__

    def perturbed(self: DaskRows, grouping: Any, step: Any, *args: Any) -> Any:
        total = reduce(self, grouping, step, *args)
        return total * (1.0 + 1e-6) if step in (e_step_sums, sigma_q_sums) else total

    monkeypatch.setattr(DaskRows, "__call__", perturbed)
    learn_records(Repository(archive), dask_client, questions_per_chunk=CHUNK)

    with pytest.raises(AssertionError):
        _assert_same(_stored(archive), local)


# --- the command -----------------------------------------------------------------------------

#: Resolved questions of the small archive the command tests learn from.
SMALL: Final = 24


@pytest.fixture
def small(database: Database, settings: dict[str, Any],
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    """A small archive, and the test's database in the environment the command reads."""
    monkeypatch.setenv("DATA_DIR", settings["DATA_DIR"])
    monkeypatch.setenv("DATABASE_URL", settings["DATABASE_URL"])
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    session = database.sessions()
    _seed(Repository(session, learn="deferred"), SMALL)
    yield session
    session.close()


def _counts(session: Session) -> tuple[int, int]:
    session.rollback()
    counts = Repository(session).resolved_counts()
    session.rollback()
    return counts


def test_the_command_relearns_locally(small: Session, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["learn", "records"]) == 0

    n_claims, n_questions = _counts(small)
    assert n_questions == SMALL
    out = capsys.readouterr().out
    assert out.startswith(f"Track records: 7 source(s) relearned from {n_claims} claim(s) "
                          f"on {SMALL} resolved question(s) (7 with resolved claims; the "
                          f"others keep their grade's prior), in ")
    records, _ = _stored(small)
    assert sum(r["n_resolved"] for r in records.values()) == n_claims


def test_the_command_names_the_dask_engine(
    small: Session, dask_client: Client, capsys: pytest.CaptureFixture[str],
) -> None:
    out = output_on_dask(["learn", "records"], dask_client, capsys, lambda: _stored(small),
                         _assert_same)

    assert out.startswith("Track records (Dask, 2 workers): 7 source(s) relearned")


def test_without_a_scheduler_the_command_starts_a_local_cluster(
    small: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    # The cluster's worker processes import this checkout's packages.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(
        None, [str(ROOT), os.environ.get("PYTHONPATH")])))

    assert main(["learn", "records", "--engine", "dask"]) == 0

    captured = capsys.readouterr()
    assert "no scheduler address given: started a local Dask cluster of" in captured.err
    assert captured.out.startswith("Track records (Dask, ")
    assert all(r["n_resolved"] > 0 for r in _stored(small)[0].values())


@pytest.mark.parametrize("engine", ["local", "dask"])
def test_an_unusable_resolution_exits_1(
    small: Session, dask_client: Client, engine: str, capsys: pytest.CaptureFixture[str],
) -> None:
    # Written around the API: a log-scale question resolved at a negative value.
    question = small.scalars(select(Question).where(Question.scale == "log")
                             .order_by(Question.id)).first()
    assert question is not None
    question.resolution_value = -5.0
    small.commit()
    address = str(dask_client.scheduler_info()["address"])
    args = ["--engine", "dask", "--scheduler", address] if engine == "dask" else []

    assert main(["learn", "records", *args]) == 1

    assert "the stored claims were refused: Invalid resolution -5.0" in capsys.readouterr().err
    assert _stored(small)[0] == {}


def test_without_dask_the_dask_engine_exits_2(
    small: Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("dask", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)  # import dask now raises ImportError

    assert main(["learn", "records", "--engine", "dask"]) == 2

    assert "--engine dask needs dask and distributed" in capsys.readouterr().err
    assert _stored(small)[0] == {}
