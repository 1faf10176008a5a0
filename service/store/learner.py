"""The learning job's runner: relearns track records after the writes that left them pending.

A ``deferred`` write (see :mod:`service.store.learning`) commits, then calls
:meth:`Learner.notify`. In ``thread`` mode that wakes one background thread per process, which
runs :meth:`~service.store.learning.LearningStore.learn_pending` on a session of its own until
nothing is pending; notifications that come while it learns are folded into its next run, so a
burst of writes costs one or two relearns, not one each. Several processes may each run one:
the job stores its result only when nothing newer was stored meanwhile.

``inline`` runs the job in the caller's thread at once (after the write committed: tests and
scripts that want current records when the write returns); ``manual`` does nothing until
:meth:`Learner.run_pending` is called (tests of the pending state, benchmarks).

The thread starts on the first notification, never at import or app creation, so a server
that forks its workers after loading the app gives each worker its own.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Final, Literal

from service.store.engine import Database
from service.store.learning import LearningState, LearningStore

__all__ = ["Learner", "RunMode"]

RunMode = Literal["thread", "inline", "manual"]
_LOG: Final = logging.getLogger(__name__)
#: How long closing the database waits for a running job to end, in seconds.
DISPOSE_WAIT_S: Final = 120.0


class Learner:
    """Runs the learning job of one database.

    Parameters
    ----------
    database : Database
    run : {"thread", "inline", "manual"}
        Where :meth:`notify` runs the job (see the module docstring).
    """

    def __init__(self, database: Database, *, run: RunMode = "thread") -> None:
        self.database = database
        self.run: RunMode = run
        self._lock = threading.Condition()
        self._wanted = False
        self._busy = False
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        database.before_dispose.append(lambda: self.wait_idle(DISPOSE_WAIT_S))

    def notify(self) -> None:
        """A change is pending: learn it (now, soon, or when asked, by ``run``)."""
        if self.run == "manual":
            return
        if self.run == "inline":
            self._run_logged()
            return
        with self._lock:
            self._wanted = True
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                # A forked child inherits the object but not the thread.
                self._pid = os.getpid()
                self._busy = False
                self._thread = threading.Thread(
                    target=self._loop, name="triangulate-learner", daemon=True
                )
                self._thread.start()
            self._lock.notify_all()

    def run_pending(self) -> LearningState:
        """Run the learning job once, in this thread; returns the state after it."""
        with self.database.session() as session:
            return LearningStore(session, learn="deferred").learn_pending()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until the thread has nothing left to do; False when ``timeout`` ran out."""
        if self._pid != os.getpid():
            return True  # the thread was the parent's
        with self._lock:
            return self._lock.wait_for(lambda: not (self._wanted or self._busy), timeout)

    def _run_logged(self) -> None:
        try:
            self.run_pending()
        except Exception:
            # The write that notified is committed; the records stay pending (and say so), and
            # the next write or read that finds them pending notifies again.
            _LOG.exception("Learning track records failed; they stay pending.")

    def _loop(self) -> None:
        while True:
            with self._lock:
                self._lock.wait_for(lambda: self._wanted)
                self._wanted, self._busy = False, True
            try:
                self._run_logged()
            finally:
                with self._lock:
                    self._busy = False
                    self._lock.notify_all()
