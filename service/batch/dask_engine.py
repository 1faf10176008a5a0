"""The Dask engine of ``triangulate batch``: the batch EM on a cluster, by partitions of questions.

The files are read on the workers and their claims hashed by question id into partitions, so
that a question never spans two; each partition is then encoded once and stays on the worker
that built it (every later task is pinned there), holding its claims, their encoding and the
latest posterior. Every EM iteration maps one E-step over the partitions and sends the driver
only what the loop of :mod:`models.batch.loop` needs: the per-source sums
(:class:`models.batch.sums.SourceSums`, added on the driver), each question's move |Δμ|/τ and
the count of mode hops. The driver therefore holds (S,) arrays and Q floats, and runs the very
loop the local estimator runs, taking the same decisions. Question and source codes follow the
order of first appearance across the files (read in name order), as the local engine reads
them, so the warm start's every k-th question is the same sample; that sample, small by
construction (:meth:`models.batch.BatchEstimator.warm_stride`), is gathered and fitted on the
driver, where its many iterations cost no round trips. The answers are written
partition by partition, each fetched when the writer needs it. ``dask`` and ``distributed``
are imported by :func:`connect` only.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.batch import BatchEstimator, BatchWarning, ClaimTable, SourceEstimates
from models.batch.encode import archive_scale, encode, resolve_scale
from models.batch.loop import LocalQuestions, Step, start_part, step_part
from models.batch.result import PopulationPrior, QuestionEstimates
from models.batch.state import Encoded, Hyper, Params, Posterior
from models.batch.summary import fit_warnings, question_estimates, source_estimates
from models.batch.sums import total
from models.checks import check_levels
from models.errors import InvalidParameterError, ReconcileError
from service.batch.inputs import Frame, read_frame
from service.batch.outputs import EstimatesWriter
from service.cli.batch_files import InputError

if TYPE_CHECKING:
    from distributed import Client, Future

    from models.credibility import SourceProfile

__all__ = ["DaskFit", "DaskUnavailable", "connect", "fit_frames_on_dask", "fit_on_dask"]


class DaskUnavailable(RuntimeError):
    """``--engine dask`` without dask and distributed installed."""


def connect(address: str | None, workers: int | None = None,
            memory_limit: str | None = None) -> tuple[Client, Callable[[], None], str]:
    """A client of the scheduler at ``address``, else of a new local cluster.

    Returns the client, a function that closes it (and the local cluster) and a sentence
    saying which it is.

    Raises
    ------
    DaskUnavailable
        Without dask and distributed.
    OSError
        When the scheduler cannot be reached.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise DaskUnavailable(
            "--engine dask needs dask and distributed (pip install -r requirements-dask.txt)."
        ) from None
    if address:
        client = Client(address, timeout="20s")
        return client, client.close, f"using the Dask scheduler at {address}"
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, memory_limit=memory_limit or "auto")
    client = Client(cluster)
    count = len(client.scheduler_info()["workers"])

    def close() -> None:
        client.close()
        cluster.close()

    return client, close, (f"no scheduler address given: started a local Dask cluster of "
                           f"{count} worker process{'es' if count != 1 else ''}")


# --- what a worker holds -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Part:
    """One partition on its worker: whole questions, their encoding and latest posterior.

    ``rank`` is each local question's index in the archive (order of first appearance);
    local question codes follow it, so a partition's sample is in the archive's order.
    """

    frame: Frame
    table: ClaimTable | None = None
    rank: Any = None
    scale: str = ""
    error: tuple[int, str] | None = None
    enc: Encoded | None = None
    post: Posterior | None = None
    report: Step | None = None


def _bucket(ids: tuple[str, ...], n_parts: int) -> Any:
    """The partition of each id: CRC-32 of its UTF-8, stable across processes and runs."""
    return np.array([zlib.crc32(i.encode()) % n_parts for i in ids] or [0], dtype=np.int64)


def _read(path: str, fmt: str, number: int) -> Frame:
    return read_frame(Path(path), fmt, number)


def _sources(frame: Frame) -> tuple[tuple[str, ...], Any]:
    """Each source of the frame and the position of its first claim."""
    codes, ids = frame.source
    first = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, frame.pos)
    return ids, first


def _split(frame: Frame, n_parts: int) -> list[Frame]:
    part = _bucket(frame.question[1], n_parts)[frame.question[0]]
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(n_parts + 1))
    return [frame.take(order[bounds[j]:bounds[j + 1]]) for j in range(n_parts)]


def _collect(j: int, splits: list[list[Frame]], source_ids: tuple[str, ...]) -> Part:
    """Partition ``j``: its pieces of every file, in file order, with the archive's sources."""
    from service.batch.inputs import concat

    pieces = [s[j] for s in splits if s[j].n]
    if not pieces:
        return Part(frame=splits[0][j])
    frame = concat(pieces)
    index = {sid: k for k, sid in enumerate(source_ids)}
    remap = np.array([index[sid] for sid in frame.source[1]], dtype=np.int64)
    frame = replace(frame, source=(remap[frame.source[0]], source_ids))
    frame = frame.take(np.argsort(frame.pos, kind="stable"))
    # The pieces carry every id of their files: keep the partition's own questions.
    codes, ids = frame.question
    used, inverse = np.unique(codes, return_inverse=True)
    frame = replace(frame, question=(inverse.astype(np.int64),
                                     tuple(ids[k] for k in used.tolist())))
    return Part(frame=frame)


def _firsts(part: Part) -> Any:
    """The position of each local question's first claim."""
    codes, ids = part.frame.question
    first = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, part.frame.pos)
    return first


def _build(part: Part, rank: Any, scale: str) -> Part:
    """The partition's ClaimTable, questions coded in archive order, and its scale."""
    frame = part.frame
    if frame.n == 0:
        # No question hashed here (fewer questions than partitions): nothing to fit.
        return part
    order = np.argsort(rank)
    new = np.empty_like(order)
    new[order] = np.arange(order.shape[0])
    codes, ids = frame.question
    frame = replace(frame, question=(new[codes], tuple(ids[k] for k in order.tolist())))
    try:
        table = frame.table()
        resolved = resolve_scale(table, scale)
    except InputError as exc:
        return Part(frame=frame, error=(int(frame.pos.min()), str(exc)))
    except ReconcileError as exc:
        column, _, row = (exc.field or "").partition(".")
        if row.isdigit():
            return Part(frame=frame, error=(int(frame.pos[int(row)]),
                                            f"{frame.where(int(row))}, column {column}: "
                                            f"{exc.message}"))
        return Part(frame=frame, error=(int(frame.pos.min()), exc.message))
    return Part(frame=frame, table=table, rank=np.sort(rank), scale=resolved)


def _info(part: Part) -> tuple[int, str, tuple[int, str] | None]:
    return (part.table.n if part.table is not None else 0), part.scale, part.error


def _prepare(part: Part, estimator: BatchEstimator, scale: str) -> Part:
    """Prepare the claims (ranges, rounding) and encode them."""
    if part.table is None:
        return part
    table = estimator.prepare(part.table, scale)  # type: ignore[arg-type]
    enc = encode(table, scale, estimator.rounding,  # type: ignore[arg-type]
                 estimator.hyper.prior_scale)
    # The frame is no longer needed: the table holds the claims.
    return Part(frame=_empty(part.frame), table=table, rank=part.rank, scale=scale, enc=enc)


def _sample(
    part: Part, estimator: BatchEstimator, scale: str, stride: int
) -> tuple[ClaimTable, Any] | None:
    """The partition's questions of the warm start (index a multiple of ``stride``), prepared."""
    if part.table is None:
        return None
    keep = np.flatnonzero(part.rank % stride == 0)
    if keep.size == 0:
        return None
    table = estimator.prepare(part.table, scale)  # type: ignore[arg-type]
    return table.take_questions(keep), part.rank[keep]


def join_sample(pieces: Sequence[tuple[ClaimTable, Any]]) -> ClaimTable:
    """The partitions' sample questions as one table, questions in the archive's order.

    Origin codes are made distinct per piece (they matter within a question only).
    """
    offset = 0
    origins = []
    for table, _ in pieces:
        origins.append(np.where(table.origin >= 0, table.origin + offset, -1))
        offset += int(table.origin.max(initial=-1)) + 1
    q_offsets = np.cumsum([0] + [t.n_questions for t, _ in pieces])
    joined = ClaimTable(
        question=np.concatenate([t.question + q_offsets[k] for k, (t, _) in enumerate(pieces)]),
        **{name: np.concatenate([getattr(t, name) for t, _ in pieces])
           for name in ("source", "kind", "value", "low", "high", "sd", "hedge",
                        "resolution")},
        origin=np.concatenate(origins),
        question_ids=tuple(qid for t, _ in pieces for qid in t.question_ids),
        source_ids=pieces[0][0].source_ids,
    )
    return joined.take_questions(np.argsort(np.concatenate([r for _, r in pieces])))


def _empty(frame: Frame) -> Frame:
    return frame.take(np.zeros(0, dtype=np.int64))


def _start(part: Part, params: Params, hyper: Hyper) -> Part:
    if part.enc is None:
        return part
    post, report = start_part(part.enc, params, hyper)
    return replace(part, post=post, report=report)


def _step(part: Part, params: Params, shift: float, hop: bool, hyper: Hyper) -> Part:
    if part.enc is None or part.post is None:
        return part
    post, report = step_part(part.enc, part.post, params, shift, hop, hyper)
    return replace(part, post=post, report=report)


def _report(part: Part) -> Step | None:
    return part.report


def _atoms(part: Part) -> tuple[int, int]:
    if part.enc is None:
        return 0, 0
    return part.enc.n_questions, int(part.enc.atom_q.shape[0])


def _estimates(
    part: Part, params: Params, levels: tuple[float, ...], hyper: Hyper
) -> tuple[QuestionEstimates, list[tuple[int, str]]] | None:
    if part.table is None or part.enc is None or part.post is None:
        return None
    questions, beyond = question_estimates(part.table, part.enc, params, part.post, levels,
                                           hyper)
    named = [(int(part.rank[k]), part.table.question_ids[k]) for k in np.flatnonzero(beyond)]
    return questions, named


def _counts(
    part: Part, params: Params, levels: tuple[float, ...], hyper: Hyper
) -> tuple[int, list[tuple[int, str]]]:
    """What the warnings need of :func:`_estimates`: single-claim questions and those beyond."""
    got = _estimates(part, params, levels, hyper)
    if got is None:
        return 0, []
    return int(np.sum(got[0].n_claims == 1)), got[1]


# --- the driver ----------------------------------------------------------------------------


class DaskQuestions:
    """The partitions as a :class:`models.batch.loop.QuestionSet` for the EM loop."""

    def __init__(self, client: Client, parts: list[Future[Any]], homes: list[str]) -> None:
        self.client = client
        self.parts = parts
        self.homes = homes
        counts = client.gather([self._on(k, _atoms, p) for k, p in enumerate(parts)])
        self._n_questions = sum(c[0] for c in counts)
        self._has_atoms = any(c[1] for c in counts)

    def _on(self, k: int, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        # Every task of a partition runs where its data is: never moved by work stealing.
        return self.client.submit(fn, *args, workers=[self.homes[k]],
                                  allow_other_workers=False, pure=False)

    @property
    def n_questions(self) -> int:
        return int(self._n_questions)

    @property
    def has_atoms(self) -> bool:
        return self._has_atoms

    def _advance(self, fn: Callable[..., Part], *args: Any) -> Step:
        self.parts = [self._on(k, fn, p, *args) for k, p in enumerate(self.parts)]
        reports = [r for r in self.client.gather(
            [self._on(k, _report, p) for k, p in enumerate(self.parts)]) if r is not None]
        moved = [r.moved for r in reports]
        return Step(total(r.sums for r in reports),
                    np.concatenate(moved) if moved else np.zeros(0),
                    sum(r.hops for r in reports))

    def start(self, params: Params, hyper: Hyper) -> Step:
        return self._advance(_start, params, hyper)

    def step(self, params: Params, shift: float, hop: bool, hyper: Hyper) -> Step:
        return self._advance(_step, params, shift, hop, hyper)


@dataclass(frozen=True, slots=True)
class DaskFit:
    """What the driver keeps of a fit: the sources, the warnings and how EM ended."""

    sources: SourceEstimates
    population: PopulationPrior
    warnings: tuple[BatchWarning, ...]
    iterations: int
    converged: bool
    n_claims: int
    n_questions: int
    n_partitions: int


def fit_on_dask(
    client: Client, files: Sequence[Path], fmt: str, writer: EstimatesWriter, *,
    estimator: BatchEstimator | None = None,
    priors: Mapping[str, SourceProfile] | None = None,
    levels: Sequence[float] = (0.9,), scale: str = "auto", partitions: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    phase: Callable[[str], None] | None = None,
) -> DaskFit:
    """Fit the archive in ``files`` on the cluster and write every question's answer.

    Parameters
    ----------
    client : distributed.Client
    files : sequence of Path
        CSV or Parquet files, in the archive's order; the workers must be able to read them.
    fmt : {"csv", "parquet"}
    writer : EstimatesWriter
        Receives each partition's QuestionEstimates in turn.
    estimator : BatchEstimator, optional
        Its hyper-parameters (default ones otherwise).
    priors, levels, scale, progress
        As :meth:`models.batch.BatchEstimator.fit`.
    partitions : int, optional
        Partitions of whole questions (default twice the workers' threads).
    phase : callable(text), optional
        Told what the engine is doing.

    Returns
    -------
    DaskFit

    Raises
    ------
    InputError
        For the first refused claim in the archive's order (file and line named).
    ReconcileError
        For invalid levels, scale or priors.
    """
    say = phase or (lambda _text: None)
    workers = sorted(client.scheduler_info()["workers"])
    say(f"reading {len(files)} file{'s' if len(files) != 1 else ''} on {len(workers)} "
        f"worker{'s' if len(workers) != 1 else ''}")
    read = [client.submit(_read, str(p), fmt, k, pure=False) for k, p in enumerate(files)]
    return _fit(client, read, writer, estimator=estimator, priors=priors, levels=levels,
                scale=scale, partitions=partitions, progress=progress, phase=phase)


def fit_frames_on_dask(
    client: Client, frames: Iterable[Frame], *,
    estimator: BatchEstimator | None = None,
    priors: Mapping[str, SourceProfile] | None = None,
    scale: str = "auto", partitions: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    phase: Callable[[str], None] | None = None,
) -> DaskFit:
    """Fit claims handed over as frames (e.g. chunks read from a database) on the cluster.

    Each frame is sent to a worker as soon as it is produced and dropped here, so that the
    driver holds one frame at a time; the frames then play the part of the files of
    :func:`fit_on_dask` (their claims in order, ``pos`` numbering them across frames), and
    the fit is the same. No question estimates are computed: the sources are the result.

    Parameters
    ----------
    frames : iterable of Frame
        At least one, each with positions numbered after the previous frame's.
    estimator, priors, scale, partitions, progress, phase
        As :func:`fit_on_dask`.

    Returns
    -------
    DaskFit
    """
    read = [client.scatter(frame, hash=False) for frame in frames]
    if not read:
        raise InvalidParameterError("No claims to fit.", "frames")
    return _fit(client, read, None, estimator=estimator, priors=priors, scale=scale,
                partitions=partitions, progress=progress, phase=phase)


def _fit(
    client: Client, read: list[Future[Any]], writer: EstimatesWriter | None, *,
    estimator: BatchEstimator | None, priors: Mapping[str, SourceProfile] | None,
    levels: Sequence[float] = (0.9,), scale: str, partitions: int | None,
    progress: Callable[[int, int], None] | None, phase: Callable[[str], None] | None,
) -> DaskFit:
    """The fit of :func:`fit_on_dask` once the claims are on the workers, one future a file."""
    est = estimator or BatchEstimator()
    checked = check_levels(levels)
    say = phase or (lambda _text: None)
    workers = sorted(client.scheduler_info()["workers"])
    threads = sum(w["nthreads"] for w in client.scheduler_info()["workers"].values())
    n_parts = max(1, partitions or 2 * threads)
    first: dict[str, int] = {}
    for ids, pos in client.gather([client.submit(_sources, f, pure=False) for f in read]):
        for sid, at in zip(ids, pos.tolist(), strict=True):
            first[sid] = min(first.get(sid, at), at)
    source_ids = tuple(sorted(first, key=first.__getitem__))
    say(f"partitioning by question into {n_parts} partitions")
    splits = [client.submit(_split, f, n_parts, pure=False) for f in read]
    homes = [workers[j % len(workers)] for j in range(n_parts)]
    parts = [client.submit(_collect, j, splits, source_ids, workers=[homes[j]],
                           allow_other_workers=False, pure=False) for j in range(n_parts)]
    firsts = client.gather([client.submit(_firsts, p, pure=False) for p in parts])
    del read, splits
    # Global question index = rank of the first claim's position (order of first appearance).
    sizes = [f.shape[0] for f in firsts]
    rank = np.empty(sum(sizes), dtype=np.int64)
    rank[np.argsort(np.concatenate(firsts), kind="stable")] = np.arange(rank.shape[0])
    ranks = np.split(rank, np.cumsum(sizes)[:-1])
    del rank, firsts
    if scale not in ("auto", "log", "linear"):
        raise InvalidParameterError(
            f"Invalid scale {scale!r}; must be one of auto, log, linear.", "scale"
        )
    parts = [client.submit(_build, p, r, scale, workers=[homes[j]],
                           allow_other_workers=False, pure=False)
             for j, (p, r) in enumerate(zip(parts, ranks, strict=True))]
    info = client.gather([client.submit(_info, p, pure=False) for p in parts])
    errors = [e for _, _, e in info if e is not None]
    if errors:
        raise InputError(min(errors)[1])
    n_claims = sum(n for n, _, _ in info)
    resolved = archive_scale(s for n, s, _ in info if n)
    stride = est.warm_stride(n_claims, len(source_ids))
    params, prior = est.initial(source_ids, priors)
    keep = [j for j, (n, _, _) in enumerate(info) if n]
    parts = [parts[j] for j in keep]
    homes = [homes[j] for j in keep]
    say("fitting")

    sample = None
    if stride:
        # The warm start's sample is small by construction (max(warm_start_claims, 20 × S)
        # claims, whatever the archive's size): it is fitted here, in this process, where an
        # iteration costs no round trip to the workers; only the full data's refining
        # iterations run on the cluster.
        pieces = [got for got in client.gather(
            [client.submit(_sample, p, est, resolved, stride, workers=[homes[k]],
                           allow_other_workers=False, pure=False)
             for k, p in enumerate(parts)]) if got is not None]
        sample = LocalQuestions(encode(join_sample(pieces), resolved, est.rounding,
                                       est.hyper.prior_scale))
        del pieces
    held: list[DaskQuestions] = []

    def full() -> DaskQuestions:
        prepared = [client.submit(_prepare, p, est, resolved, workers=[homes[k]],
                                  allow_other_workers=False, pure=False)
                    for k, p in enumerate(parts)]
        # The built partitions are released once prepared: a worker holds each claim once.
        parts.clear()
        held.append(DaskQuestions(client, prepared, homes))
        return held[0]

    outcome = est.learn(full, sample, params, prior, progress)
    del sample
    final = held[0]
    single = 0
    beyond: list[tuple[int, str]] = []
    if writer is not None:
        say("writing")
    for k, p in enumerate(final.parts):
        if writer is None:
            # Only the counts behind the warnings travel: the same warnings as the local fit.
            counted = final.client.gather(final._on(k, _counts, p, outcome.params, checked,
                                                    est.hyper))
            single += counted[0]
            beyond += counted[1]
            continue
        got = final.client.gather(final._on(k, _estimates, p, outcome.params, checked,
                                            est.hyper))
        if got is None:
            continue
        questions, named = got
        writer.write(questions)
        single += int(np.sum(questions.n_claims == 1))
        beyond += named
    sources = source_estimates(outcome.sums, outcome.params, outcome.prior, est.hyper,
                               source_ids)
    beyond.sort()
    warnings = fit_warnings(single, int(np.sum(sources.n_claims == 1)),
                            [qid for _, qid in beyond[:5]], len(beyond), outcome.iterations,
                            outcome.converged, est.tol)
    return DaskFit(sources, outcome.prior.population, warnings, outcome.iterations,
                   outcome.converged, n_claims, final.n_questions, len(final.parts))
