"""``triangulate learn records``: relearn every source's track record over the stored database.

    triangulate learn records [--engine {local,dask}] [--scheduler ADDRESS]

Relearns and stores every source's track record and the shared error of each question category
from the resolved questions, exactly as the store's own relearn does
(:meth:`service.store.learning.LearningStore.relearn`: the records and the shared errors fitted
in turn; a record is stored, with a history snapshot, only when it changed). Use it after
importing a history, or to bring pending records up to date without the server.

``--engine dask`` learns on a Dask cluster instead (at ``--scheduler`` or
``$DASK_SCHEDULER_ADDRESS``, else a local cluster it starts, as ``triangulate batch`` does):
the resolved claims are read in chunks of whole questions, each chunk handed to a worker as
soon as it is read, and the EM's per-iteration sums are computed on the workers
(:mod:`service.batch.dask_records`); the stored records are the same as the local engine's. The
summary names the engine.

Exit status: 0 on success (an empty database included); 1 when the stored claims were refused
(a resolution unusable on its scale); 2 for invalid settings (reported by
:mod:`service.cli.main`), an unreachable scheduler or ``--engine dask`` without dask installed.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.cli.batch import add_engine_arguments
from service.cli.on_store import run_on_store

if TYPE_CHECKING:
    from distributed import Client

    from service.store.repository import Repository

__all__ = ["RecordsRun", "add_parser", "learn_records", "run"]


@dataclass(frozen=True, slots=True)
class RecordsRun:
    """What one relearn stored.

    Attributes
    ----------
    n_sources : int
        Sources whose track record was relearned (every stored source).
    n_learned : int
        Of those, sources with a resolved claim (the others keep their grade's prior).
    n_claims, n_questions : int
        Current claims on resolved questions, and those questions.
    seconds : float
        Wall-clock time of the whole run (reading, learning, storing).
    engine : str
        Where the model ran when not in this process, e.g. ``"Dask, 2 workers"``.
    warnings : tuple of str
        The model's warnings (none today: the relearn logs an unconverged EM instead).
    """

    n_sources: int
    n_learned: int
    n_claims: int
    n_questions: int
    seconds: float
    engine: str = ""
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for the terminal."""
        engine = f" ({self.engine})" if self.engine else ""
        return (
            f"Track records{engine}: {self.n_sources} source(s) relearned from "
            f"{self.n_claims} claim(s) on {self.n_questions} resolved question(s) "
            f"({self.n_learned} with resolved claims; the others keep their grade's prior), "
            f"in {self.seconds:.2f} s."
        )


def learn_records(repository: Repository, client: Client | None = None, *,
                  questions_per_chunk: int | None = None) -> RecordsRun:
    """Relearn and store every source's track record and the shared errors.

    Parameters
    ----------
    repository : Repository
    client : distributed.Client, optional
        Of the cluster that learns (:class:`service.batch.dask_records.DaskRecordEngine`);
        None: this process.
    questions_per_chunk : int, optional
        Resolved questions read at once by the Dask engine (default
        :data:`service.batch.dask_records.QUESTIONS_PER_CHUNK`).

    Returns
    -------
    RecordsRun

    Raises
    ------
    models.errors.ReconcileError
        When a stored resolution or claim cannot be learned from (written around the API).
    """
    start = time.perf_counter()
    engine_name = ""
    engine: Any = None
    if client is not None:
        from service.batch.dask_records import QUESTIONS_PER_CHUNK, DaskRecordEngine

        engine = DaskRecordEngine(repository, client,
                                  questions_per_chunk=questions_per_chunk or QUESTIONS_PER_CHUNK)
        n = engine.n_workers
        engine_name = f"Dask, {n} worker{'s' if n != 1 else ''}"
    learned = repository.relearn(engine)
    n_claims, n_questions = repository.resolved_counts()
    return RecordsRun(
        n_sources=len(learned), n_learned=sum(1 for r in learned.values() if r.n_resolved > 0),
        n_claims=n_claims, n_questions=n_questions, seconds=time.perf_counter() - start,
        engine=engine_name,
    )


def add_parser(actions: Any) -> None:
    """Register ``records`` on the ``triangulate learn`` parser's actions."""
    records = actions.add_parser(
        "records",
        help="relearn and store each source's track record (and the shared errors) from the "
             "resolved questions",
    )
    add_engine_arguments(records, "the resolved claims read in chunks of questions and")


def run(args: argparse.Namespace) -> int:
    """Run ``triangulate learn records``; returns the exit status.

    Raises
    ------
    service.config.ConfigError
        On an invalid setting (the caller reports it).
    """
    return run_on_store(args, "learn records", learn_records)
