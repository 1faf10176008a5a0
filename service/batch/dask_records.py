"""Track records relearned on a Dask cluster: ``triangulate learn records --engine dask``.

The store's relearn (:meth:`service.store.learning.LearningStore.relearn`) alternates two fits:
the track records given each question's shared error, and the shared errors given the track
records. :class:`DaskRecordEngine` does both on a cluster, from the database read in chunks of
whole questions (keyset paging), so that this process holds one chunk at a time:

* **Track records.** Each chunk of resolved claims
  (:meth:`~service.store.learning.LearningStore.resolved_claim_chunks`) is sent to a worker as
  soon as it is read, and turned there into residual rows
  (:func:`models.track_record.residuals`); it stays on that worker as one partition. The EM of
  :func:`models.track_record.fit_track_records` then runs on the driver as it runs locally,
  but each of its per-group sums (:mod:`models.track_record_sums`: the E-step's Σ w g,
  Σ γ ρ r and Σ γ ρ; the hedge Newton steps' Σ w c′ and Σ w c′(1 − c′); the EM σ step's
  Σ γ E[e²] and Σ γ; and the ECME objective Q with its derivatives Q′ and Q″ at each trial
  log σ) is computed per partition on the workers and added on the driver, in partition order.
  The driver holds only per-group arrays (sources, types, hypotheses).
* **Shared errors.** Each chunk of resolved, static questions with a category
  (:meth:`~service.store.learning.LearningStore.shared_error_chunks`) is reconciled on a
  worker with the records just learned
  (:func:`service.store.shared_errors.shared_error_entries`); the driver gathers each
  question's posterior grid and fits s per category as the local path does
  (:func:`service.store.shared_errors.fit_shared_errors`). That fit holds one grid per such
  question on the driver.

Same data, same functions, same iteration counts and stopping rules: the stored records equal
the local relearn's up to the order of the additions (compared to 1e-9 relative in the tests).
``dask`` and ``distributed`` are imported by :func:`service.batch.dask_engine.connect` only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from models.likelihood import FloatArray
from models.shared_error import SharedErrorFit
from models.track_record import (
    ResolvedClaim,
    TrackRecord,
    check_sources,
    fit_track_records,
    residuals,
)
from models.track_record_sums import Grouping, LocalRows, Residuals, Step, regroup
from service.store.learning import LearningStore, SharedFits, warn_unconverged
from service.store.shared_errors import (
    fit_shared_errors,
    learned_profiles_of,
    shared_error_entries,
)

if TYPE_CHECKING:
    from distributed import Client, Future

    from models.claims import Source as CoreSource

__all__ = ["QUESTIONS_PER_CHUNK", "DaskRecordEngine", "DaskRows", "Partitions"]

#: Resolved questions read per chunk (one partition each): bounds what this process holds.
QUESTIONS_PER_CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class _Chunk:
    """A chunk as one object (``Client.scatter`` would split a bare list into its items)."""

    items: list[Any]


def _entries(chunk: _Chunk, sources: Mapping[str, CoreSource],
             profiles: Mapping[str, Any]) -> list[Any]:
    return shared_error_entries(chunk.items, sources, profiles)


class Partitions:
    """A Dask actor on one worker: the residual rows of the chunks sent to it, in order, and
    their regroupings (built once per fit), on which it computes each step's sums.

    An actor rather than a task per step: a method call goes from the driver straight to the
    worker, a few milliseconds where a task through the scheduler takes several times that,
    and the EM makes several reductions in each of its iterations.
    """

    def __init__(self) -> None:
        self._parts: list[Residuals] = []
        self._views: dict[str, list[Residuals]] = {}

    def add(self, chunk: list[ResolvedClaim], index: Mapping[str, int]) -> int:
        """Keep the rows of ``chunk`` (whole questions); returns how many."""
        part = residuals(chunk, index)
        self._parts.append(part)
        return int(part.group.shape[0])

    def sums(self, grouping: Grouping, step: Step, *args: Any) -> FloatArray | None:
        """Σ over this worker's parts of ``step`` on their rows regrouped by ``grouping``
        (None without a part). A grouping's kind names it: one set of actors serves one fit."""
        if not self._parts:
            return None
        views = self._views.get(grouping.kind)
        if views is None:
            views = self._views[grouping.kind] = [regroup(p, grouping) for p in self._parts]
        total = step(views[0], grouping.size, *args)
        for view in views[1:]:
            total = total + step(view, grouping.size, *args)
        return np.asarray(total, dtype=np.float64)


class DaskRows:
    """:class:`models.track_record_sums.RowSums` over partitions held by Dask workers.

    Each worker's :class:`Partitions` actor computes the sums of its partitions; only the
    (k, groups) sums come back, and are added in worker order.
    """

    def __init__(self, actors: list[Any]) -> None:
        self._actors = actors

    def __call__(self, grouping: Grouping, step: Step, *args: Any) -> FloatArray:
        calls = [actor.sums(grouping, step, *args) for actor in self._actors]
        results = [r for r in (call.result() for call in calls) if r is not None]
        total: FloatArray = results[0]
        for result in results[1:]:
            total = total + result
        return total


class DaskRecordEngine:
    """The fits of :meth:`LearningStore.relearn` on a Dask cluster (a
    :class:`service.store.learning.RecordEngine`), reading ``store`` in chunks."""

    def __init__(self, store: LearningStore, client: Client, *,
                 questions_per_chunk: int = QUESTIONS_PER_CHUNK) -> None:
        self._store = store
        self._client = client
        self._per_chunk = questions_per_chunk
        self._workers = sorted(client.scheduler_info()["workers"])
        #: Resolved claims and questions of the last track-record fit (for the summary).
        self.n_claims = 0
        self.n_questions = 0

    @property
    def n_workers(self) -> int:
        """Workers of the cluster when the engine was made."""
        return len(self._workers)

    def _scatter(self, items: list[Any], j: int) -> tuple[Future[_Chunk], str]:
        home = self._workers[j % len(self._workers)]
        data = self._client.scatter(  # type: ignore[no-untyped-call]
            _Chunk(items), workers=[home], hash=False)
        return data, home

    def _actor(self, worker: str) -> Any:
        """A new :class:`Partitions` actor on ``worker``, its calls made through this client."""
        future = self._client.submit(Partitions, actor=True, workers=[worker],
                                     allow_other_workers=False)
        actor: Any = future.result()
        # The proxy binds to the process's default client, which need not be ours when the
        # process has several (a test's and the command's): its calls would then never return.
        actor._client, actor._future = self._client, future
        return actor

    def learn(self, shared: SharedFits | None = None) -> dict[str, TrackRecord]:
        """Every source's track record, each claim's residual holding its shared error."""
        priors, types = self._store.source_priors()
        index = {sid: k for k, sid in enumerate(priors)}
        actors = [self._actor(w) for w in self._workers]
        n_claims = n_questions = 0
        for j, chunk in enumerate(self._store.resolved_claim_chunks(self._per_chunk, shared)):
            check_sources(chunk, index)
            n_claims += len(chunk)
            # Chunks hold whole questions, so their question counts add up.
            n_questions += len({rec.question for rec in chunk})
            # Sent as soon as read, and kept by one worker; waiting bounds what is held here.
            actors[j % len(actors)].add(chunk, index).result()
            del chunk
        self.n_claims, self.n_questions = n_claims, n_questions
        # Without a resolved claim the fit sees no rows and keeps the priors.
        rows = DaskRows(actors) if n_claims else LocalRows([residuals([], index)])
        learned = fit_track_records(rows, priors, types)
        del rows, actors
        warn_unconverged(learned)
        return learned

    def fit_shared(self, learned: Mapping[str, TrackRecord]) -> dict[tuple[str, str],
                                                                      SharedErrorFit]:
        """The shared error of each (category, scale) given ``learned``, the questions
        reconciled on the workers chunk by chunk."""
        sources: dict[str, CoreSource] | None = None
        profiles = learned_profiles_of(learned)
        futures: list[Future[list[Any]]] = []
        for j, chunk in enumerate(self._store.shared_error_chunks(self._per_chunk)):
            if sources is None:
                sources = self._store.core_sources()
            data, home = self._scatter(chunk, j)
            futures.append(self._client.submit(_entries, data, sources, profiles,
                                               workers=[home], allow_other_workers=False,
                                               pure=False))
        if not futures:
            return {}
        entries: list[Any] = []
        for future in futures:
            entries.extend(future.result())
            future.release()  # type: ignore[no-untyped-call]
        return fit_shared_errors(entries)
