"""``triangulate learn agreement``: learn credibility from agreement over the stored database.

    triangulate learn agreement [--engine {local,dask}] [--scheduler ADDRESS]

Loads every current (non-retracted) claim of every stored question, open or resolved, through
the repository (:meth:`service.store.repository.Repository.agreement_input`), fits
:class:`models.batch.BatchEstimator` over all of them with each source's current profile as its
prior (its learned track record once it has resolved claims, else its grade's prior), and
stores per source the agreement-based credibility, spread, bias and hit rate
(:meth:`~service.store.repository.Repository.store_agreement`), replacing the previous run's. The
resolution-based track records are left as they are, and estimates keep using them (or the
grade's prior): agreement-based credibility is shown on ``GET /v1/sources/{id}``, not used.

``--engine dask`` fits on a Dask cluster instead (at ``--scheduler`` or
``$DASK_SCHEDULER_ADDRESS``, else a local cluster it starts, as ``triangulate batch`` does):
the claims are read in chunks of whole questions
(:meth:`~service.store.repository.Repository.agreement_chunks`), each chunk handed to the
workers as soon as it is read, so that this process holds one chunk at a time
(:func:`service.batch.dask_engine.fit_frames_on_dask`); the stored results are the same as
the local engine's. The summary names the engine.

The batch model learns on the log scale, so questions with a zero or negative figure are left
out; the summary says how many. The command uses the same settings as the server
(``DATABASE_URL``, else ``DATA_DIR``) and brings the schema up to date first.

Exit status: 0 on success (an empty database included); 1 when the model refused the stored
claims; 2 for invalid settings (reported by :mod:`service.cli.main`), an unreachable
scheduler or ``--engine dask`` without dask installed.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from service.cli import learn_records
from service.cli.batch import add_engine_arguments
from service.cli.on_store import run_on_store

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from distributed import Client

    from models.batch import BatchEstimator, BatchFit, ClaimTable, SourceEstimates
    from service.batch.dask_engine import DaskFit
    from service.batch.inputs import Frame
    from service.store.repository import Repository

__all__ = ["QUESTIONS_PER_CHUNK", "AgreementRun", "add_parser", "learn_agreement", "run"]

#: Questions read per chunk by ``--engine dask``: bounds what this process holds at once.
QUESTIONS_PER_CHUNK = 20_000


@dataclass(frozen=True, slots=True)
class AgreementRun:
    """What one run learned and stored.

    Attributes
    ----------
    n_sources : int
        Sources whose agreement-based credibility was stored.
    n_claims, n_questions : int
        Claims and questions the model learned from.
    n_skipped : int
        Questions left out because a figure is zero or negative (no log scale).
    seconds : float
        Wall-clock time of the whole run (reading, fitting, storing).
    warnings : tuple of str
        The model's warnings about the claims.
    engine : str
        Where the model ran when not in this process, e.g. ``"Dask, 2 workers"``.
    """

    n_sources: int
    n_claims: int
    n_questions: int
    n_skipped: int
    seconds: float
    warnings: tuple[str, ...] = ()
    engine: str = ""

    def summary(self) -> str:
        """One line for the terminal."""
        skipped = f"; {self.n_skipped} question(s) skipped (zero or negative figures)" if (
            self.n_skipped
        ) else ""
        engine = f" ({self.engine})" if self.engine else ""
        return (
            f"Agreement-based credibility{engine}: {self.n_sources} source(s) updated from "
            f"{self.n_claims} claim(s) on {self.n_questions} question(s){skipped}, "
            f"in {self.seconds:.2f} s."
        )


def learn_agreement(
    repository: Repository, client: Client | None = None, *,
    estimator: BatchEstimator | None = None, questions_per_chunk: int = QUESTIONS_PER_CHUNK,
) -> AgreementRun:
    """Learn agreement-based credibility from every stored claim and store it.

    On a Dask cluster the claims are read in chunks of questions
    (:meth:`~service.store.repository.Repository.agreement_chunks`), each chunk becoming one
    frame handed to a worker as soon as it is read
    (:func:`service.batch.dask_engine.fit_frames_on_dask`), so this process holds one chunk
    at a time; the engine partitions the claims by question and runs the same EM as the
    local estimator, and what is stored is the same.

    Parameters
    ----------
    repository : Repository
        Reads the claims and priors, then replaces the stored results in one transaction.
    client : distributed.Client, optional
        Of the cluster that fits; None: this process.
    estimator : BatchEstimator, optional
        Defaults to ``BatchEstimator()`` with its documented hyper-parameters.
    questions_per_chunk : int
        Questions read at once on a cluster.

    Returns
    -------
    AgreementRun

    Raises
    ------
    models.errors.ReconcileError
        When the model refuses the stored claims (they were checked when entered, so this
        means data written around the API).
    service.cli.batch_files.InputError
        When a worker refuses a claim.
    """
    start = time.perf_counter()
    engine = ""
    fit: BatchFit | DaskFit | None
    if client is None:
        counts, fit = _fit_here(repository, estimator)
    else:
        n_workers = len(client.scheduler_info()["workers"])
        engine = f"Dask, {n_workers} worker{'s' if n_workers != 1 else ''}"
        counts, fit = _fit_on_dask(repository, client, estimator, questions_per_chunk)
    if fit is None:
        # Nothing to learn from: every stored result would be stale, so none is kept.
        repository.store_agreement({})
        return AgreementRun(0, 0, 0, counts.n_skipped, time.perf_counter() - start,
                            engine=engine)
    n_sources = _store(repository, fit.sources, counts.per_source)
    return AgreementRun(
        n_sources=n_sources, n_claims=counts.n_claims, n_questions=counts.n_questions,
        n_skipped=counts.n_skipped, seconds=time.perf_counter() - start,
        warnings=tuple(w.message for w in fit.warnings), engine=engine,
    )


@dataclass(slots=True)
class _Counts:
    """What the claims learned from add up to, counted as they are read."""

    n_claims: int = 0
    n_questions: int = 0
    n_skipped: int = 0
    priors: Any = None
    per_source: dict[str, int] = field(default_factory=dict)

    def add(self, table: ClaimTable) -> None:
        """Count ``table``, whose questions are not in any table counted before."""
        self.n_claims += table.n
        self.n_questions += table.n_questions
        # Tables hold whole questions, so per-table question counts add up.
        for sid, n in _questions_per_source(table).items():
            self.per_source[sid] = self.per_source.get(sid, 0) + n


def _fit_here(repository: Repository,
              estimator: BatchEstimator | None) -> tuple[_Counts, BatchFit | None]:
    """Every stored claim read at once and fitted in this process (None: no claims)."""
    from models.batch import BatchEstimator, ClaimTable

    data = repository.agreement_input()
    counts = _Counts(n_skipped=data.n_skipped, priors=data.priors)
    if not data.records:
        return counts, None
    table = ClaimTable.from_records(data.records)
    counts.add(table)
    return counts, (estimator or BatchEstimator()).fit(table, priors=data.priors, scale="log")


def _fit_on_dask(repository: Repository, client: Client, estimator: BatchEstimator | None,
                 questions_per_chunk: int) -> tuple[_Counts, DaskFit | None]:
    """The stored claims read in chunks and fitted on the cluster (None: no claims)."""
    from service.batch.dask_engine import fit_frames_on_dask

    counts = _Counts()
    frames = _frames(repository, questions_per_chunk, counts)
    first = next(frames, None)
    if first is None:
        return counts, None

    def chained() -> Iterator[Frame]:
        yield first
        yield from frames

    return counts, fit_frames_on_dask(client, chained(), estimator=estimator,
                                      priors=counts.priors, scale="log")


def _frames(repository: Repository, questions_per_chunk: int,
            counts: _Counts) -> Iterator[Frame]:
    """Each chunk of stored claims as a Frame numbered in order (chunks of only skipped
    questions give none), counting as they pass."""
    from models.batch import ClaimTable
    from service.batch.inputs import frame_of_table

    number = 0
    for chunk in repository.agreement_chunks(questions_per_chunk):
        counts.priors = chunk.priors
        counts.n_skipped += chunk.n_skipped
        if not chunk.records:
            continue
        table = ClaimTable.from_records(chunk.records)
        counts.add(table)
        yield frame_of_table(table, number, f"stored claims, chunk {number + 1},")
        number += 1


def _questions_per_source(table: Any) -> dict[str, int]:
    """Questions each source has a claim on: distinct (question, source) pairs, by source."""
    import numpy as np

    pairs = np.unique(table.question * table.n_sources + table.source)
    n_questions = np.bincount(pairs % table.n_sources, minlength=table.n_sources)
    return {sid: int(n_questions[k]) for k, sid in enumerate(table.source_ids)}


def _store(repository: Repository, src: SourceEstimates, n_questions: Mapping[str, int]) -> int:
    """Store what was learned of each source; returns how many sources were stored."""
    from models.batch import learned_profiles
    from service.store.inputs import AgreementValues

    profiles = learned_profiles(src)
    index = {sid: k for k, sid in enumerate(src.ids)}
    values = {
        sid: AgreementValues(
            credibility=profile.credibility, spread=float(src.spread[index[sid]]),
            bias=float(src.bias[index[sid]]), hit_rate=profile.hit_rate(),
            n_claims=int(src.n_claims[index[sid]]), n_questions=int(n_questions.get(sid, 0)),
        )
        for sid, profile in profiles.items()
    }
    repository.store_agreement(values)
    return len(values)


def add_parser(commands: Any) -> None:
    """Register ``learn`` on the ``triangulate`` sub-command parser."""
    learn = commands.add_parser(
        "learn", help="learn source credibility over the stored database: agreement, or "
                      "track records"
    )
    actions = learn.add_subparsers(dest="learn_command", required=True, metavar="WHAT")
    agreement = actions.add_parser(
        "agreement",
        help="learn each source's credibility from agreement across every stored question "
             "and store it next to the resolution-based track record",
    )
    add_engine_arguments(agreement, "the stored claims read in chunks of questions and")
    learn_records.add_parser(actions)


def run(args: argparse.Namespace) -> int:
    """Run ``triangulate learn agreement`` (or ``learn records``); returns the exit status.

    Raises
    ------
    service.config.ConfigError
        On an invalid setting (the caller reports it).
    """
    if getattr(args, "learn_command", None) == "records":
        return learn_records.run(args)
    return run_on_store(args, "learn agreement", learn_agreement)
