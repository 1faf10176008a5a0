"""Writes against a large archive: adding a claim to a resolved question and resolving a
question, through the API, with N resolved questions stored (issue 15).

Two paths in the same run, on the same database:

* ``deferred`` (what the service does): the write marks the track records pending; the
  learning job relearns after it. Its cost is printed apart (``job``: one full relearn), and
  the write is timed with the job held back, so the two do not share the CPU.
* ``in_write`` (the baseline, the path before): the write relearns every record inside its own
  transaction. Forced on the app by giving each request an ``in_write`` repository.

Setup stores N resolved questions (5 point claims each from 300 sources of 4 types) with bulk
inserts through the repository's session, then runs the learning job once. Storage is the
database's growth per cycle (a new question, 5 claims, its resolution and one more claim
on it; SQLite's file after a checkpoint, PostgreSQL's ``pg_database_size``); ``snap/write``
is the track-record history rows written per relearning write (the resolution and the late
claim), with the job run after every such write (``deferred, job each``: the worst case, no
writes folded into one run) and by the in-write path.

SQLite always (a file under /tmp); PostgreSQL too when ``TEST_DATABASE_URL`` is set (the
suite's throw-away database: its schema is dropped).

    .venv/bin/python bench/bench_writes.py [--sizes 100,1000,10000] [--runs 30] [--base-runs 5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from _common import ROOT  # noqa: F401  (puts the repository on sys.path)
from flask import Flask, g
from sqlalchemy import create_engine, func, insert, select, text, update
from sqlalchemy.pool import NullPool

from service import create_app
from service.config import defaults
from service.http.database import get_database, get_learner
from service.store.orm import Claim, LearningStateRow, Question, Source, TrackRecordSnapshot
from service.store.repository import Repository

SOURCES = 300
TYPES = ("pollster", "news_outlet", "government", "ngo")
CLAIMS_PER_QUESTION = 5
ACTOR = "bench"


def _seed(app: Flask, n: int, rng: np.random.Generator) -> float:
    """Store SOURCES sources and n resolved questions; returns the learning job's seconds."""
    with app.app_context():
        database = get_database()
        now = datetime.now(UTC)
        stamp = {"updated_at": now, "updated_by": ACTOR}
        with database.session() as session:
            session.execute(insert(Source), [
                {"id": f"s{k}", "type": TYPES[k % len(TYPES)], "grade": "ABCDEF"[k % 6],
                 "version": 1, "created_at": now, "created_by": ACTOR, **stamp}
                for k in range(SOURCES)
            ])
            truths = rng.lognormal(np.log(1000), 1.0, n)
            session.execute(insert(Question), [
                {"title": f"Q{q}", "scale": "log", "dynamics": "static", "status": "resolved",
                 "resolution_value": float(truths[q]), "version": 2, "created_at": now,
                 "created_by": ACTOR, "resolved_at": now, "resolved_by": ACTOR, **stamp}
                for q in range(n)
            ])
            ids = list(session.scalars(select(Question.id).order_by(Question.id)))
            rows = []
            for q, qid in enumerate(ids):
                for s in rng.choice(SOURCES, CLAIMS_PER_QUESTION, replace=False):
                    rows.append({
                        "question_id": qid, "source_id": f"s{s}", "kind": "point",
                        "value": float(truths[q] * rng.lognormal(0, 0.3)), "ci_level": 0.95,
                        "hedge": "none", "horizon": "level", "retracted": False, "version": 1,
                        "entered_at": now, "entered_by": ACTOR, **stamp,
                    })
            session.execute(insert(Claim), rows)
            session.execute(update(LearningStateRow).values(
                generation=LearningStateRow.generation + 1, changed_at=now))
            session.commit()
        start = time.perf_counter()
        get_learner().run_pending()
        return time.perf_counter() - start


def _size(app: Flask) -> int:
    with app.app_context():
        database = get_database()
        with database.engine.connect() as connection:
            if database.backend == "postgresql":
                return int(connection.execute(
                    text("SELECT pg_database_size(current_database())")).scalar_one())
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            path = database.engine.url.database
            return os.path.getsize(str(path))


def _snapshots(app: Flask) -> int:
    with app.app_context(), get_database().session() as session:
        return int(session.scalar(select(func.count()).select_from(TrackRecordSnapshot)) or 0)


@contextmanager
def _in_write(app: Flask) -> Iterator[None]:
    """Every request of ``app`` gets a repository that relearns inside the write (the old
    path)."""

    def install() -> None:
        g.repository = Repository(get_database().sessions(), learn="in_write")

    app.before_request_funcs.setdefault(None, []).append(install)
    try:
        yield
    finally:
        app.before_request_funcs[None].remove(install)


def _writes(app: Flask, auth: dict[str, str], runs: int, rng: np.random.Generator,
            after: Callable[[], object]) -> tuple[float, float, int, float]:
    """Median ms to add a claim to a resolved question and to resolve one; bytes and snapshot
    rows per resolution. ``after`` runs after each resolution, untimed (the job, or nothing)."""
    client = app.test_client()
    claim_ms, resolve_ms = [], []
    size0, snaps0 = _size(app), _snapshots(app)
    for _ in range(runs):
        qid = client.post("/v1/questions", json={"title": "Bench", "scale": "log"},
                          headers=auth).get_json()["id"]
        for s in rng.choice(SOURCES, CLAIMS_PER_QUESTION, replace=False):
            client.post(f"/v1/questions/{qid}/claims", headers=auth,
                        json={"source": f"s{s}", "kind": "point", "value": 1000.0})
        start = time.perf_counter()
        response = client.post(f"/v1/questions/{qid}/resolution", json={"value": 1100.0},
                               headers={**auth, "If-Match": '"1"'})
        resolve_ms.append((time.perf_counter() - start) * 1e3)
        assert response.status_code == 200, response.get_data(as_text=True)
        after()
        start = time.perf_counter()
        response = client.post(f"/v1/questions/{qid}/claims", headers=auth,
                               json={"source": f"s{rng.integers(SOURCES)}", "kind": "point",
                                     "value": 1050.0})
        claim_ms.append((time.perf_counter() - start) * 1e3)
        assert response.status_code == 201, response.get_data(as_text=True)
        after()
    grown = (_size(app) - size0) // runs
    snaps = (_snapshots(app) - snaps0) / (2 * runs)
    return statistics.median(claim_ms), statistics.median(resolve_ms), grown, snaps


def _app(backend: str, workdir: Path) -> Flask:
    url = ""
    if backend == "postgresql":
        url = os.environ["TEST_DATABASE_URL"]
        engine = create_engine(url, poolclass=NullPool)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    data = Path(tempfile.mkdtemp(prefix="writes_", dir=workdir))
    app = create_app({**defaults(), "DATA_DIR": str(data), "DATABASE_URL": url,
                      "WRITE_RATE_LIMIT": "off"})
    with app.app_context():
        get_learner().run = "manual"
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--runs", type=int, default=30, help="deferred writes timed per size")
    parser.add_argument("--base-runs", type=int, default=5, help="in-write writes per size")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    backends = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
    workdir = Path(tempfile.mkdtemp(prefix="writes_bench_"))
    print(f"{'backend':<11}{'N':>7}  {'path':<22}{'claim ms':>9}{'resolve ms':>11}"
          f"{'B/cycle':>10}{'snap/write':>11}   job s")
    try:
        for backend in backends:
            for n in sizes:
                rng = np.random.default_rng(n)
                app = _app(backend, workdir)
                job_s = _seed(app, n, rng)
                with app.app_context(), get_database().session() as session:
                    auth = {"Authorization": "Bearer "
                            + Repository(session).create_key(ACTOR, cost=2**10)}
                learner = get_learner_of(app)
                rows = [
                    ("deferred", _writes(app, auth, args.runs, rng, lambda: None)),
                    ("deferred, job each",
                     _writes(app, auth, max(args.base_runs, 3), rng, learner.run_pending)),
                ]
                with _in_write(app):
                    rows.append(("in_write (before)",
                                 _writes(app, auth, args.base_runs, rng, lambda: None)))
                for label, (claim, resolve, grown, snaps) in rows:
                    print(f"{backend:<11}{n:>7}  {label:<22}{claim:>9.1f}{resolve:>11.1f}"
                          f"{grown:>10,}{snaps:>11.1f}   {job_s:.2f}", flush=True)
                with app.app_context():
                    get_database().dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def get_learner_of(app: Flask) -> Any:
    with app.app_context():
        return get_learner()


if __name__ == "__main__":
    main()
