"""Workers that open a fresh SQLite file together all come up.

The image's smoke test once lost a gunicorn worker at boot: two workers switched a new file to
WAL at the same moment and one got "database is locked" from ``PRAGMA journal_mode = WAL``,
which SQLite returns at once, without the busy handler, when waiting could deadlock (about one
open in 120-360 with 6-12 processes racing on a fresh file, measured). The switch is retried
for as long as the busy timeout allows; here a connection that is locked twice, then free.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from service.store import engine as store_engine


class _Cursor:
    def __init__(self, outcomes: list[str]) -> None:
        self.outcomes = outcomes

    def execute(self, sql: str) -> None:
        assert sql == "PRAGMA journal_mode = WAL"
        outcome = self.outcomes.pop(0)
        if outcome != "ok":
            raise sqlite3.OperationalError(outcome)


class _Raw:
    def __init__(self, outcomes: list[str]) -> None:
        self.outcomes = outcomes
        self.closed = False

    def cursor(self) -> _Cursor:
        return _Cursor(self.outcomes)

    def close(self) -> None:
        self.closed = True


class _Engine:
    def __init__(self, outcomes: list[str]) -> None:
        self.outcomes = outcomes
        self.opened: list[_Raw] = []

    def raw_connection(self) -> _Raw:
        raw = _Raw(self.outcomes)
        self.opened.append(raw)
        return raw


def _wal(engine: Any) -> None:
    store_engine._journal_wal(engine)  # noqa: SLF001 -- the mechanism under test


def test_a_locked_switch_to_wal_is_retried_until_it_succeeds() -> None:
    engine = _Engine(["database is locked", "database is locked", "ok"])
    _wal(engine)
    assert len(engine.opened) == 3
    assert all(raw.closed for raw in engine.opened)


def test_other_errors_and_a_lock_past_the_busy_timeout_are_raised(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        _wal(_Engine(["disk I/O error"]))
    monkeypatch.setattr(store_engine, "SQLITE_BUSY_TIMEOUT_MS", 0)
    engine = _Engine(["database is locked"] * 5)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _wal(engine)
    assert len(engine.opened) == 1
