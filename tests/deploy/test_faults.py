"""Faults under load against real gunicorn on loopback: nothing acknowledged is ever lost.

* ``kill -9`` of the whole server (arbiter and workers) in the middle of writes, then a restart
  on the same SQLite file: every write answered 201 is there with its value (count and
  checksum), and SQLite's integrity check passes (WAL).
* ``kill -9`` of one worker under write load: gunicorn replaces it, only requests in flight on
  that worker fail (as connection errors, never as a wrong answer), every 201 is stored.

Bounded: a few hundred small writes from four client threads, each test well under a minute.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import signal
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from flask import Flask

from service import create_app
from service.config import SETTINGS, defaults
from service.http.database import get_database
from service.store.repository import Repository
from tests.deploy.test_gunicorn import Server, gunicorn, start_server
from tests.helpers import ClientThreads, child_pids
from tests.store.conftest import empty_database, postgresql_url

WRITERS = 4
#: Acknowledged writes before the fault, and the most a test makes in all.
BEFORE_FAULT = 80
MAX_WRITES = 400
WRITE_DEADLINE = 30.0


def _make_key(data_dir: Path, database_url: str = "") -> str:
    """Migrate a fresh database (SQLite in ``data_dir``, or ``database_url``) and make a key."""
    saved = {s.name: os.environ.pop(s.name) for s in SETTINGS if s.name in os.environ}
    try:
        app: Flask = create_app({**defaults(), "DATA_DIR": str(data_dir), "TESTING": True,
                                 "DATABASE_URL": database_url})
        with app.app_context(), get_database().session() as session:
            key = Repository(session).create_key("loader", cost=2**10)
        with app.app_context():
            get_database().dispose()
    finally:
        os.environ.update(saved)
    return key


class Writers(ClientThreads):
    """Client threads adding claims; remembers every acknowledged one."""

    join_timeout = 20.0

    def __init__(self, server: Server, key: str, question: int) -> None:
        super().__init__(WRITERS)
        self.server, self.question = server, question
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        self.acked: dict[int, float] = {}
        self.failed: list[str] = []

    def _run(self, number: int) -> None:
        sent = 0
        while not self.stop.is_set() and len(self.acked) < MAX_WRITES:
            sent += 1
            value = float(number * 1_000_000 + sent)
            body = json.dumps({"source": "wire", "kind": "point", "value": value}).encode()
            try:
                status, _, reply = self.server.request(
                    f"/v1/questions/{self.question}/claims", headers=self.headers, body=body,
                    timeout=10,
                )
            except (OSError, http.client.HTTPException) as exc:  # the server died mid-request
                with self.lock:
                    self.failed.append(type(exc).__name__)
                time.sleep(0.05)
                continue
            with self.lock:
                if status == 201:
                    self.acked[int(json.loads(reply)["id"])] = value
                else:
                    self.failed.append(f"{status} {reply[:200]!r}")

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + WRITE_DEADLINE
        while len(self.acked) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.acked) >= count, (len(self.acked), self.failed[:5])


def _setup(server: Server, key: str) -> int:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    status, _, _ = server.request("/v1/sources", headers=headers,
                                  body=b'{"id": "wire", "reliability": "B"}')
    assert status == 201
    status, _, reply = server.request("/v1/questions", headers=headers,
                                      body=b'{"title": "Faults"}')
    assert status == 201
    return int(json.loads(reply)["id"])


def _stored(server: Server, question: int) -> dict[int, float]:
    stored: dict[int, float] = {}
    page = 1
    while True:
        status, _, reply = server.request(
            f"/v1/questions/{question}/claims?page={page}&page_size=500"
        )
        assert status == 200
        body = json.loads(reply)
        stored.update({int(item["id"]): float(item["value"]) for item in body["items"]})
        if page >= body["pages"]:
            return stored
        page += 1


def _checksum(claims: dict[int, float]) -> str:
    text = ";".join(f"{k}:{claims[k]!r}" for k in sorted(claims))
    return hashlib.sha256(text.encode()).hexdigest()


def test_sqlite_keeps_every_acknowledged_write_after_kill_9(tmp_path: Path) -> None:
    key = _make_key(tmp_path / "data")
    settings = {"WEB_CONCURRENCY": "2", "WRITE_RATE_LIMIT": "off"}
    server = start_server(tmp_path, gunicorn("service.deploy.wsgi:app"), **settings)
    try:
        question = _setup(server, key)
        with Writers(server, key, question) as writers:
            writers.wait_for(BEFORE_FAULT)
            for pid in [server.process.pid, *child_pids(server.process.pid)]:
                os.kill(pid, signal.SIGKILL)  # a crash: no shutdown code runs anywhere
            server.process.wait(10)
        acked = dict(writers.acked)
    finally:
        if server.process.poll() is None:
            server.process.kill()
    time.sleep(0.5)  # the orphaned workers notice their arbiter is gone (if any survived)

    database = tmp_path / "data" / "triangulate.sqlite3"
    with sqlite3.connect(database) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)

    restarted = start_server(tmp_path, gunicorn("service.deploy.wsgi:app"), **settings)
    try:
        stored = _stored(restarted, question)
    finally:
        assert restarted.stop() == 0
    kept = {k: stored.get(k) for k in acked}
    assert kept == acked, "acknowledged writes lost or altered after kill -9"
    assert _checksum({k: stored[k] for k in acked}) == _checksum(acked)
    print(f"kill -9 of the server: {len(acked)} acknowledged writes, all {len(acked)} present "
          f"after restart ({len(stored)} stored, checksum {_checksum(acked)[:12]})")


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_9_of_a_worker_loses_no_committed_write(tmp_path: Path, backend: str) -> None:
    url = ""
    if backend == "postgresql":
        url = postgresql_url()
        empty_database(url)
    key = _make_key(tmp_path / "data", url)
    server = start_server(tmp_path, gunicorn("service.deploy.wsgi:app"), DATABASE_URL=url,
                          WEB_CONCURRENCY="2", WRITE_RATE_LIMIT="off")
    try:
        question = _setup(server, key)
        with Writers(server, key, question) as writers:
            writers.wait_for(BEFORE_FAULT)
            victim = child_pids(server.process.pid)[0]
            os.kill(victim, signal.SIGKILL)
            writers.wait_for(BEFORE_FAULT * 3)  # gunicorn replaced it; writes go on
        acked, failed = dict(writers.acked), list(writers.failed)
        stored = _stored(server, question)
        assert server.request("/healthz")[0] == 200
        assert victim not in child_pids(server.process.pid)
    finally:
        assert server.stop() == 0
    assert {k: stored.get(k) for k in acked} == acked
    assert _checksum({k: stored[k] for k in acked}) == _checksum(acked)
    # Only requests in flight on the killed worker may fail, and only as dropped connections.
    assert len(failed) <= WRITERS and all(not f[0].isdigit() for f in failed), failed
    print(f"kill -9 of a worker ({backend}): {len(acked)} acknowledged, all present; "
          f"{len(failed)} requests dropped in flight ({failed})")


def test_write_limit_holds_across_workers(tmp_path: Path) -> None:
    # With the buckets in each process, two workers let a key write twice the limit.
    key = _make_key(tmp_path / "data")
    server = start_server(tmp_path, gunicorn("service.deploy.wsgi:app"),
                          WEB_CONCURRENCY="2", WRITE_RATE_LIMIT="5/minute")
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            statuses = list(pool.map(
                lambda n: server.request("/v1/questions", headers=headers,
                                         body=json.dumps({"title": f"q{n}"}).encode())[0],
                range(12),
            ))
        served_by = {entry.get("pid") for entry in server.log_entries()
                     if "POST /v1/questions" in str(entry.get("message", ""))}
    finally:
        assert server.stop() == 0
    assert sorted(statuses) == [201] * 5 + [429] * 7, statuses
    print(f"write limit 5/minute, 12 concurrent writes on 2 workers: {statuses.count(201)} "
          f"created, {statuses.count(429)} refused (pids seen in the access log: {served_by})")
