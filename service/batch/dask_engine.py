"""The Dask engine of ``triangulate batch``: the batch EM on a cluster, by partitions of questions.

The claims are read on the workers (files, or frames handed over by the driver) and hashed by
question id into partitions, so that a question never spans two. Partitions are sized by
claims (:data:`PARTITION_CLAIMS` each by default, at least two per worker thread), and every
partition lives in a file of its home worker's local directory, not in its memory: each task
loads its partition, works, writes it back and returns only what the driver needs. A worker
therefore holds one partition at a time (its claims, their encoding, the latest posterior and
the E-step's working arrays: about 0.9 KB a claim), whatever the archive's size; the spilled
partitions sit in files, that is in the page cache or on disk. Each file's pieces of every
partition are spilled the same way and collected a few partitions at a time.

Every EM iteration maps one E-step over the partitions and sends the driver only what the loop
of :mod:`models.batch.loop` needs: the per-source sums (:class:`models.batch.sums.SourceSums`,
added on the driver), each question's move |Δμ|/τ and the count of mode hops. The driver holds
(S,) arrays and Q floats, and runs the very loop the local estimator runs, taking the same
decisions. Question and source codes follow the order of first appearance across the files
(read in name order), as the local engine reads them, so the warm start's every k-th question
is the same sample; that sample, small by construction
(:meth:`models.batch.BatchEstimator.warm_stride`), is gathered and fitted on the driver, where
its many iterations cost no round trips. The answers are written partition by partition.
``dask`` and ``distributed`` are imported by :func:`connect` and inside the tasks only.

A local cluster started here leaves glibc's allocator at its defaults: ``distributed`` sets
``MALLOC_TRIM_THRESHOLD_`` for its workers, which fixes the mmap threshold, so that every
working array of an E-step is mapped and faulted in afresh; measured, that doubled the
E-step's CPU time (1.3 s against 2.8 s on 75,000 claims).
"""

from __future__ import annotations

# Partitions are pickled only to files a worker writes in its own local directory during one
# run and reads back itself (Dask moves the same objects between processes by pickle).
import pickle  # nosec B403
import shutil
import uuid
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from models.batch import BatchEstimator, BatchWarning, ClaimTable, SourceEstimates
from models.batch.encode import archive_scale, encode, resolve_scale
from models.batch.loop import LocalQuestions, Step, start_part, step_part
from models.batch.result import PopulationPrior, QuestionEstimates
from models.batch.state import Encoded, Hyper, Params, Posterior
from models.batch.summary import (
    fit_warnings,
    question_estimates,
    source_estimates,
    widened_sources,
)
from models.batch.sums import total
from models.checks import check_levels
from models.errors import InvalidParameterError, ReconcileError
from service.batch.inputs import Frame, concat, read_frame
from service.batch.outputs import EstimatesWriter
from service.cli.batch_files import InputError

if TYPE_CHECKING:
    from distributed import Client, Future

    from models.credibility import SourceProfile

__all__ = ["PARTITION_CLAIMS", "DaskFit", "DaskUnavailable", "connect", "fit_frames_on_dask",
           "fit_on_dask"]

#: Claims of a partition by default: its E-step then needs about 0.2 GiB on its worker.
PARTITION_CLAIMS: Final = 250_000


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
        from distributed import Client
    except ImportError:
        raise DaskUnavailable(
            "--engine dask needs dask and distributed (pip install -r requirements-dask.txt)."
        ) from None
    if address:
        client = Client(address, timeout="20s")
        return client, client.close, f"using the Dask scheduler at {address}"
    cluster = local_cluster(workers, memory_limit or "auto")
    client = Client(cluster)
    count = len(client.scheduler_info()["workers"])

    def close() -> None:
        client.close()
        cluster.close()

    return client, close, (f"no scheduler address given: started a local Dask cluster of "
                           f"{count} worker process{'es' if count != 1 else ''}")


def local_cluster(workers: int | None, memory_limit: str) -> Any:
    """A ``LocalCluster`` of one-thread worker processes, glibc's allocator left at defaults.

    See the module docstring: ``MALLOC_TRIM_THRESHOLD_`` (which ``distributed`` sets before
    spawning a worker) doubles the E-step's time; unset, freed arrays are reused.
    """
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        # No dashboard; the scheduler's own HTTP server on a free port, not on 8787, which
        # another cluster of this machine may hold (distributed then warns).
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None, memory_limit=memory_limit,
                            scheduler_kwargs={"dashboard_address": ":0"})


# --- what a worker keeps, in files of its local directory ----------------------------------


def _spill_dir(run: str) -> Path:
    from distributed import get_worker

    folder = Path(get_worker().local_directory) / f"triangulate-batch-{run}"
    folder.mkdir(exist_ok=True)
    return folder


def _put(obj: Any, run: str, name: str) -> str:
    """Write ``obj`` to the worker's local directory; returns its path."""
    path = str(_spill_dir(run) / f"{name}.pickle")
    _overwrite(path, obj)
    return path


def _get(path: str) -> Any:
    # A file this worker wrote itself (see the import).
    with open(path, "rb") as fh:
        return pickle.load(fh)  # nosec B301


def _take(path: str) -> Any:
    """What :func:`_put` wrote at ``path``; the file is removed (a piece is read once)."""
    obj = _get(path)
    Path(path).unlink()
    return obj


def _remove(run: str, dask_worker: Any = None) -> None:
    """Remove the run's files from a worker (by ``client.run``, which passes ``dask_worker``)."""
    shutil.rmtree(Path(dask_worker.local_directory) / f"triangulate-batch-{run}",
                  ignore_errors=True)


@contextmanager
def _run_files(client: Client) -> Iterator[str]:
    """A new run's id, under which the workers spill its files; they are removed from every
    worker when the block ends, however it ends."""
    run = uuid.uuid4().hex
    try:
        yield run
    finally:
        client.run(_remove, run)


@dataclass(frozen=True, slots=True)
class Part:
    """One partition: whole questions, their encoding and latest posterior.

    ``rank`` is each local question's index in the archive (order of first appearance);
    local question codes follow it, so a partition's sample is in the archive's order.
    """

    table: ClaimTable
    rank: Any
    enc: Encoded | None = None
    post: Posterior | None = None


@dataclass(frozen=True, slots=True)
class Split:
    """A file's claims hashed into partitions: each piece's path, its worker, the sources."""

    address: str
    n: int
    pieces: tuple[str | None, ...]
    source_ids: tuple[str, ...]
    source_first: Any


def _bucket(ids: tuple[str, ...], n_parts: int) -> Any:
    """The partition of each id: CRC-32 of its UTF-8, stable across processes and runs."""
    return np.array([zlib.crc32(i.encode()) % n_parts for i in ids] or [0], dtype=np.int64)


def _rows(path: str, fmt: str) -> int:
    """An upper bound of a file's claims (to size the partitions), read cheaply."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    lines = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            lines += chunk.count(b"\n")
    return lines + 1


def _stash(frame: Frame, run: str, number: int) -> tuple[str, int, str]:
    """A frame handed over by the driver, kept in a file until it is split."""
    from distributed import get_worker

    return _put(frame, run, f"frame{number}"), frame.n, get_worker().address


def _split(source: str | tuple[str, str, int], number: int, n_parts: int, run: str) -> Split:
    """One file's (or stashed frame's) claims, hashed by question into partition pieces.

    Each piece keeps only its own questions' ids, so that a piece costs its claims.
    """
    from distributed import get_worker

    frame = _take(source) if isinstance(source, str) else read_frame(Path(source[0]),
                                                                      source[1], source[2])
    codes, ids = frame.source
    first = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, frame.pos)
    part = _bucket(frame.question[1], n_parts)[frame.question[0]]
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(n_parts + 1))
    pieces: list[str | None] = []
    for j in range(n_parts):
        if bounds[j] == bounds[j + 1]:
            pieces.append(None)
            continue
        piece = _own_questions(frame.take(order[bounds[j]:bounds[j + 1]]))
        pieces.append(_put(piece, run, f"piece{number}-{j}"))
    return Split(get_worker().address, frame.n, tuple(pieces), ids, first)


def _own_questions(frame: Frame) -> Frame:
    """``frame`` with only the ids of its own questions, recoded 0..q−1 in id-code order."""
    codes, ids = frame.question
    used, inverse = np.unique(codes, return_inverse=True)
    return replace(frame, question=(inverse.astype(np.int64),
                                    tuple(ids[k] for k in used.tolist())))


def _collect(j: int, pieces: list[str | Frame], source_ids: tuple[str, ...],
             run: str) -> tuple[str, Any]:
    """Partition ``j`` from its pieces of every file, in file order, with the archive's sources.

    A piece is a path on this worker or a Frame fetched from another. Returns the path of the
    partition's frame and the position of each local question's first claim.
    """
    frame = concat([_take(p) if isinstance(p, str) else p for p in pieces])
    index = {sid: k for k, sid in enumerate(source_ids)}
    remap = np.array([index[sid] for sid in frame.source[1]], dtype=np.int64)
    frame = replace(frame, source=(remap[frame.source[0]], source_ids))
    frame = frame.take(np.argsort(frame.pos, kind="stable"))
    # The pieces carry every id of their files' pieces: keep the partition's own questions.
    frame = _own_questions(frame)
    codes, ids = frame.question
    first = np.full(len(ids), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, codes, frame.pos)
    return _put(frame, run, f"part{j}"), first


def _build(path: str, rank: Any, scale: str) -> tuple[int, str, tuple[int, str] | None]:
    """The partition's ClaimTable, questions coded in archive order: its size and scale.

    The frame at ``path`` is replaced by the :class:`Part` (or left, with an error).
    """
    frame: Frame = _get(path)
    order = np.argsort(rank)
    new = np.empty_like(order)
    new[order] = np.arange(order.shape[0])
    codes, ids = frame.question
    frame = replace(frame, question=(new[codes], tuple(ids[k] for k in order.tolist())))
    try:
        table = frame.table()
        resolved = resolve_scale(table, scale)
    except InputError as exc:
        return 0, "", (int(frame.pos.min()), str(exc))
    except ReconcileError as exc:
        column, _, row = (exc.field or "").partition(".")
        if row.isdigit():
            return 0, "", (int(frame.pos[int(row)]), f"{frame.where(int(row))}, column "
                                                     f"{column}: {exc.message}")
        return 0, "", (int(frame.pos.min()), exc.message)
    _overwrite(path, Part(table=table, rank=np.sort(rank)))
    return table.n, resolved, None


def _overwrite(path: str, obj: Any) -> None:
    """Write ``obj`` at ``path`` whole or not at all (through a partial file renamed)."""
    partial = Path(path).with_suffix(".partial")
    with partial.open("wb") as fh:
        pickle.dump(obj, fh, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)


def _prepare(path: str, estimator: BatchEstimator, scale: str, stride: int
             ) -> tuple[tuple[ClaimTable, Any] | None, int, int]:
    """Prepare the claims (ranges, rounding) and encode them.

    Returns the partition's questions of the warm start (index a multiple of ``stride``,
    prepared), its number of questions and of atoms.
    """
    part: Part = _get(path)
    table = estimator.prepare(part.table, scale)  # type: ignore[arg-type]
    enc = encode(table, scale, estimator.rounding,  # type: ignore[arg-type]
                 estimator.hyper.prior_scale)
    _overwrite(path, Part(table=table, rank=part.rank, enc=enc))
    sample = None
    if stride:
        keep = np.flatnonzero(part.rank % stride == 0)
        if keep.size:
            sample = table.take_questions(keep), part.rank[keep]
    return sample, enc.n_questions, int(enc.atom_q.shape[0])


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


def _fitted(path: str, posterior: bool = True) -> tuple[Part, Encoded, Posterior | None]:
    """The partition at ``path`` with its encoding (and posterior, after an E-step)."""
    part: Part = _get(path)
    if part.enc is None or (posterior and part.post is None):
        raise RuntimeError("a partition's task ran before the one it follows")
    return part, part.enc, part.post


def _start(path: str, params: Params, hyper: Hyper) -> Step:
    part, enc, _ = _fitted(path, posterior=False)
    post, report = start_part(enc, params, hyper)
    _overwrite(path, replace(part, post=post))
    return report


def _step(path: str, params: Params, shift: float, hop: bool, hyper: Hyper) -> Step:
    part, enc, old = _fitted(path)
    post, report = step_part(enc, old, params, shift, hop, hyper)  # type: ignore[arg-type]
    _overwrite(path, replace(part, post=post))
    return report


def _probe(path: str, params: Params, hyper: Hyper) -> Step:
    _, enc, old = _fitted(path)
    return step_part(enc, old, params, 0.0, False, hyper)[1]  # type: ignore[arg-type]


def _estimates(
    path: str, params: Params, levels: tuple[float, ...], hyper: Hyper
) -> tuple[QuestionEstimates, list[tuple[int, str]]]:
    part, enc, post = _fitted(path)
    questions, beyond = question_estimates(part.table, enc, params, post,  # type: ignore[arg-type]
                                           levels, hyper)
    named = [(int(part.rank[k]), part.table.question_ids[k]) for k in np.flatnonzero(beyond)]
    return questions, named


def _counts(
    path: str, params: Params, levels: tuple[float, ...], hyper: Hyper
) -> tuple[int, list[tuple[int, str]]]:
    """What the warnings need of :func:`_estimates`: single-claim questions and those beyond."""
    questions, named = _estimates(path, params, levels, hyper)
    return int(np.sum(questions.n_claims == 1)), named


# --- the driver ----------------------------------------------------------------------------


class DaskQuestions:
    """The partitions as a :class:`models.batch.loop.QuestionSet` for the EM loop.

    ``paths[k]`` is partition k's file on worker ``homes[k]``, where its every task runs.
    """

    def __init__(self, client: Client, paths: list[str], homes: list[str], n_questions: int,
                 has_atoms: bool) -> None:
        self.client = client
        self.paths = paths
        self.homes = homes
        self._n_questions = n_questions
        self._has_atoms = has_atoms

    def on(self, k: int, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """``fn(paths[k], *args)`` on partition k's worker."""
        # Never moved by work stealing: the partition's file is on its home worker.
        return self.client.submit(fn, self.paths[k], *args, workers=[self.homes[k]],
                                  allow_other_workers=False, pure=False)

    @property
    def n_questions(self) -> int:
        return int(self._n_questions)

    @property
    def has_atoms(self) -> bool:
        return self._has_atoms

    def _advance(self, fn: Callable[..., Step], *args: Any) -> Step:
        reports: list[Step] = self.client.gather(
            [self.on(k, fn, *args) for k in range(len(self.paths))])
        moved = [r.moved for r in reports]
        carried = [r.carried for r in reports]
        return Step(total(r.sums for r in reports),
                    np.concatenate(moved) if moved else np.zeros(0),
                    sum(r.hops for r in reports),
                    None if None in carried else sum(c for c in carried if c is not None))

    def start(self, params: Params, hyper: Hyper) -> Step:
        return self._advance(_start, params, hyper)

    def step(self, params: Params, shift: float, hop: bool, hyper: Hyper) -> Step:
        return self._advance(_step, params, shift, hop, hyper)

    def probe(self, params: Params, hyper: Hyper) -> Step:
        return self._advance(_probe, params, hyper)

    def each(self, fn: Callable[..., Any], *args: Any) -> Iterable[Any]:
        """``fn`` on every partition in turn, a few running ahead of the one handed back."""
        ahead = 2 * len(set(self.homes))
        queue: deque[Future[Any]] = deque()
        for k in range(len(self.paths)):
            queue.append(self.on(k, fn, *args))
            if len(queue) > ahead:
                yield queue.popleft().result()
        while queue:
            yield queue.popleft().result()


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
        Each is read whole by one worker.
    fmt : {"csv", "parquet"}
    writer : EstimatesWriter
        Receives each partition's QuestionEstimates in turn.
    estimator : BatchEstimator, optional
        Its hyper-parameters (default ones otherwise).
    priors, levels, scale, progress
        As :meth:`models.batch.BatchEstimator.fit`.
    partitions : int, optional
        Partitions of whole questions (default: one per :data:`PARTITION_CLAIMS` claims, at
        least twice the workers' threads).
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
    rows = client.gather([client.submit(_rows, str(p), fmt, pure=False) for p in files])
    sources: list[tuple[str | tuple[str, str, int], str | None]] = [
        ((str(p), fmt, k), None) for k, p in enumerate(files)]
    with _run_files(client) as run:
        return _fit(client, sources, sum(rows), writer, estimator=estimator, priors=priors,
                    levels=levels, scale=scale, partitions=partitions, progress=progress,
                    phase=phase, run=run)


def fit_frames_on_dask(
    client: Client, frames: Iterable[Frame], *,
    estimator: BatchEstimator | None = None,
    priors: Mapping[str, SourceProfile] | None = None,
    scale: str = "auto", partitions: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    phase: Callable[[str], None] | None = None,
) -> DaskFit:
    """Fit claims handed over as frames (e.g. chunks read from a database) on the cluster.

    Each frame is sent to a worker as soon as it is produced, kept there in a file and dropped
    here, so that the driver holds one frame at a time; the frames then play the part of the
    files of :func:`fit_on_dask` (their claims in order, ``pos`` numbering them across
    frames), and the fit is the same. No question estimates are computed: the sources are the
    result.

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
    with _run_files(client) as run:
        stashed = []
        for k, frame in enumerate(frames):
            sent = client.scatter(frame, hash=False)
            stashed.append(client.submit(_stash, sent, run, k, pure=False))
            del sent
        if not stashed:
            raise InvalidParameterError("No claims to fit.", "frames")
        got: list[tuple[str, int, str]] = client.gather(stashed)
        sources: list[tuple[str | tuple[str, str, int], str | None]] = [
            (path, address) for path, _, address in got]
        return _fit(client, sources, sum(n for _, n, _ in got), None, estimator=estimator,
                    priors=priors, scale=scale, partitions=partitions, progress=progress,
                    phase=phase, run=run)


def _fit(
    client: Client, sources: list[tuple[str | tuple[str, str, int], str | None]], n_rows: int,
    writer: EstimatesWriter | None, *,
    estimator: BatchEstimator | None, priors: Mapping[str, SourceProfile] | None,
    levels: Sequence[float] = (0.9,), scale: str, partitions: int | None,
    progress: Callable[[int, int], None] | None, phase: Callable[[str], None] | None,
    run: str,
) -> DaskFit:
    """The fit of :func:`fit_on_dask`: ``sources`` are files (path, format, number) to read
    anywhere, or stashed frames (path, the worker that holds it); ``n_rows`` bounds their
    claims. The workers' files go under ``run`` (see :func:`_run_files`)."""
    est = estimator or BatchEstimator()
    checked = check_levels(levels)
    if scale not in ("auto", "log", "linear"):
        raise InvalidParameterError(
            f"Invalid scale {scale!r}; must be one of auto, log, linear.", "scale"
        )
    say = phase or (lambda _text: None)
    info = client.scheduler_info()["workers"]
    workers = sorted(info)
    threads = sum(w["nthreads"] for w in info.values())
    n_parts = max(1, partitions or max(2 * threads, -(-n_rows // PARTITION_CLAIMS)))
    say(f"partitioning by question into {n_parts} partitions")
    splits: list[Split] = client.gather([
        client.submit(_split, src, k, n_parts, run, pure=False,
                      **({"workers": [at], "allow_other_workers": False} if at else {}))
        for k, (src, at) in enumerate(sources)])
    first: dict[str, int] = {}
    for split in splits:
        for sid, at in zip(split.source_ids, split.source_first.tolist(), strict=True):
            first[sid] = min(first.get(sid, at), at)
    source_ids = tuple(sorted(first, key=first.__getitem__))
    # Partitions are collected a wave at a time (one per worker): each wave's pieces only
    # are in memory, fetched from the workers that split them.
    kept = [j for j in range(n_parts) if any(s.pieces[j] for s in splits)]
    homes = [workers[k % len(workers)] for k in range(len(kept))]
    paths: list[str] = []
    firsts: list[Any] = []
    for start in range(0, len(kept), len(workers)):
        wave = []
        for k in range(start, min(start + len(workers), len(kept))):
            j = kept[k]
            pieces: list[Any] = []
            for s in splits:
                path = s.pieces[j]
                if path is None:
                    continue
                pieces.append(path if s.address == homes[k] else client.submit(
                    _take, path, workers=[s.address], allow_other_workers=False, pure=False))
            wave.append(client.submit(_collect, j, pieces, source_ids, run,
                                      workers=[homes[k]], allow_other_workers=False,
                                      pure=False))
        for path, got in client.gather(wave):
            paths.append(path)
            firsts.append(got)
    del splits
    # Global question index = rank of the first claim's position (order of first appearance).
    sizes = [f.shape[0] for f in firsts]
    rank = np.empty(sum(sizes), dtype=np.int64)
    rank[np.argsort(np.concatenate(firsts), kind="stable")] = np.arange(rank.shape[0])
    ranks = np.split(rank, np.cumsum(sizes)[:-1])
    del rank, firsts
    questions = DaskQuestions(client, paths, homes, sum(sizes), False)
    built = client.gather([questions.on(k, _build, r, scale) for k, r in enumerate(ranks)])
    errors = [e for _, _, e in built if e is not None]
    if errors:
        raise InputError(min(errors)[1])
    n_claims = sum(n for n, _, _ in built)
    resolved = archive_scale(s for _, s, _ in built)
    stride = est.warm_stride(n_claims, len(source_ids))
    params, prior = est.initial(source_ids, priors)
    prepared = client.gather([questions.on(k, _prepare, est, resolved, stride)
                              for k in range(len(paths))])
    questions._has_atoms = any(atoms for _, _, atoms in prepared)
    say("fitting")
    sample = None
    if stride:
        # The warm start's sample is small by construction (max(warm_start_claims, 20 × S)
        # claims, whatever the archive's size): it is fitted here, in this process, where an
        # iteration costs no round trip to the workers; only the full data's refining
        # iterations run on the cluster.
        pieces_ = [got for got, _, _ in prepared if got is not None]
        sample = LocalQuestions(encode(join_sample(pieces_), resolved, est.rounding,
                                       est.hyper.prior_scale))
        del pieces_
    del prepared
    outcome = est.learn(lambda: questions, sample, params, prior, progress)
    del sample
    # The credibility under a wider wrong part, then the intervals' E-step at the spreads
    # widened by their uncertainty, as the local fit's.
    other = est.other_credibility(questions, outcome)
    final = est.predictive(questions, outcome)
    single = 0
    beyond: list[tuple[int, str]] = []
    if writer is not None:
        say("writing")
        for got, named in questions.each(_estimates, final, checked, est.hyper):
            writer.write(got)
            single += int(np.sum(got.n_claims == 1))
            beyond += named
    else:
        # Only the counts behind the warnings travel: the same warnings as the local fit.
        for count, named in questions.each(_counts, final, checked, est.hyper):
            single += count
            beyond += named
    sources_ = replace(source_estimates(outcome.sums, outcome.params, outcome.prior, est.hyper,
                                        source_ids, other), interval_spread=final.sigma)
    beyond.sort()
    warnings = fit_warnings(single, int(np.sum(sources_.n_claims == 1)),
                            [qid for _, qid in beyond[:5]], len(beyond), outcome.iterations,
                            outcome.converged, est.tol,
                            widened_sources(sources_, outcome.sums, outcome.params,
                                            outcome.prior, est.hyper, other))
    return DaskFit(sources_, outcome.prior.population, warnings, outcome.iterations,
                   outcome.converged, n_claims, questions.n_questions, len(paths))
