"""Readiness: can this worker reach its database right now?

``GET /readyz`` calls :func:`check`, which runs ``SELECT 1`` through the engine of the
persistence layer (:meth:`service.store.engine.Database.ping`). Nothing is cached between probes:
every
probe checks out a connection, and the PostgreSQL engine's ``pool_pre_ping`` replaces pooled
connections that died with the server, so readiness comes back by itself once the database does.
For SQLite the database file must also still be where the URL says (a pooled connection would
go on answering from a file whose volume went away). An app without a database attached checks
instead that ``DATA_DIR`` accepts a new file.

A probe must not hang a worker: a connect to a black-holed host can block for minutes, and a
sync worker blocked that long is killed by gunicorn. So the check runs in a daemon thread and
the probe waits at most ``READINESS_TIMEOUT`` seconds for it; while a check is still pending,
later probes wait on the same one instead of starting another, so a dead database costs one
blocked thread per worker, not one per probe.
"""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["RETRY_AFTER", "Probe", "check"]

#: Seconds a client (a load balancer, compose) is asked to wait before probing again.
RETRY_AFTER: Final = 5
_EXTENSION: Final = "triangulate.readiness"


class _Attempt:
    """One run of a check in a daemon thread (never joined: it may hang at exit too)."""

    def __init__(self, run: Callable[[], None]) -> None:
        self.done = threading.Event()
        self.error: str | None = None
        self._run = run
        self._thread = threading.Thread(target=self._main, name="readiness", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _main(self) -> None:
        try:
            self._run()
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [""])[0]
            self.error = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        finally:
            self.done.set()


class Probe:
    """Run checks with a deadline, at most one at a time per process.

    Also remembers the last outcome, so that the log says when readiness changes rather than
    on every probe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: _Attempt | None = None
        self._pid = os.getpid()
        self.ready: bool | None = None

    def run(self, run: Callable[[], None], timeout: float) -> str | None:
        """Run ``run`` (or wait for the one still pending) for up to ``timeout`` seconds.

        Returns
        -------
        str or None
            None when it returned in time, else why not (the exception, or the timeout).
        """
        with self._lock:
            if self._pid != os.getpid():  # forked: the pending thread stayed in the parent
                self._pending, self._pid = None, os.getpid()
            attempt = self._pending
            if attempt is None or attempt.done.is_set():
                attempt = self._pending = _Attempt(run)
                attempt.start()
        if not attempt.done.wait(timeout):
            return f"no answer within {timeout:g} s"
        return attempt.error


def _check_writable(directory: Path) -> None:
    with tempfile.NamedTemporaryFile(dir=directory, prefix=".readyz-"):
        pass


def _database(app: Flask) -> Any:
    """The app's :class:`service.store.engine.Database`, or None when none is attached."""
    try:
        from service.http.database import get_database
    except ImportError:  # pragma: no cover - the persistence layer is part of the service
        return None
    with app.app_context():
        try:
            return get_database()
        except KeyError:
            return None


def _ping_sqlite(database: Any, path: Path) -> None:
    database.ping()
    # A pooled connection keeps answering from an open file after its volume went away (and
    # would write into a deleted file); the path must still lead to the database.
    if not path.is_file():
        raise FileNotFoundError(f"{path} no longer exists")


def _target(app: Flask) -> tuple[str, Callable[[], None]]:
    """What to probe, and its name for the log: the app's database, else DATA_DIR."""
    database = _database(app)
    if database is not None:
        url = database.engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            return str(database.describe()), partial(_ping_sqlite, database, Path(url.database))
        return str(database.describe()), database.ping
    data_dir = Path(str(app.config["DATA_DIR"]))
    return f"DATA_DIR {data_dir}", partial(_check_writable, data_dir)


def check(app: Flask) -> str | None:
    """Whether ``app`` can serve requests that need its database.

    Returns
    -------
    str or None
        None when ready; else the reason, for the log (it may name hosts: not for clients).
    """
    probe: Probe = app.extensions.setdefault(_EXTENSION, Probe())
    name, run = _target(app)
    problem = probe.run(run, float(app.config["READINESS_TIMEOUT"]))
    ready = problem is None
    if ready != probe.ready:
        if ready:
            app.logger.info("Ready: %s answers.", name)
        else:
            app.logger.warning("Not ready: %s: %s", name, problem)
        probe.ready = ready
    return problem
