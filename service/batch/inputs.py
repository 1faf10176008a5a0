"""Claims in: a single CSV, JSON Lines or Parquet file, or a directory of CSV or Parquet files.

A :class:`Frame` holds a file's claims as the columns of
:meth:`models.batch.ClaimTable.from_columns` (ids already coded) plus each claim's position
(file number and row), so that any selection or concatenation of frames still names the file
and line of a refused claim. Files of a directory are read in name order; ids are coded in
order of first appearance across them, as if the files were one. Parquet is read with
``pyarrow``, imported only then.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from models.batch import ClaimTable
from models.claims import CLAIM_KINDS, HEDGE_NAMES
from models.errors import ReconcileError
from service.cli.batch_files import (
    COLUMNS,
    NUMERIC,
    REQUIRED,
    InputError,
    columns_from_csv,
    split_csv,
)

__all__ = ["Frame", "claim_files", "concat", "file_format", "frame_of_table", "read_frame",
           "read_table"]

#: A claim's position: its file's number times this, plus its row in the file.
FILE_STRIDE: Final = 1 << 40
#: Extensions of each input format.
SUFFIXES: Final = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "jsonl",
                   ".ndjson": "jsonl"}

IntArray = np.ndarray[Any, np.dtype[np.int64]]
Coded = tuple[IntArray, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class Frame:
    """Claims as columns, with where each came from.

    Attributes
    ----------
    question, source, origin : (codes, ids)
        Coded ids (origin −1 where none).
    kind, hedge : (n,) int
        Codes into :data:`models.claims.CLAIM_KINDS` and :data:`~models.claims.HEDGE_NAMES`.
    numbers : dict of str to (n,) float
        ``value``, ``low``, ``high``, ``sd``, ``resolution`` (NaN where not given).
    pos : (n,) int
        File number × 2⁴⁰ + row in the file.
    files : tuple of (path, first line, word)
        Each file, the line of its first claim and the word for a position ("line", "row").
    """

    question: Coded
    source: Coded
    origin: Coded
    kind: IntArray
    hedge: IntArray
    numbers: dict[str, np.ndarray[Any, np.dtype[np.float64]]]
    pos: IntArray
    files: tuple[tuple[str, int, str], ...]

    @property
    def n(self) -> int:
        return int(self.kind.shape[0])

    def where(self, row: int) -> str:
        """The file and line (or row) of claim ``row``."""
        number, offset = divmod(int(self.pos[row]), FILE_STRIDE)
        path, first, word = self.files[number]
        return f"{path} {word} {offset + first}"

    def take(self, rows: IntArray) -> Frame:
        """The claims ``rows``, in that order (ids keep their codes)."""
        return Frame((self.question[0][rows], self.question[1]),
                     (self.source[0][rows], self.source[1]),
                     (self.origin[0][rows], self.origin[1]), self.kind[rows], self.hedge[rows],
                     {k: v[rows] for k, v in self.numbers.items()}, self.pos[rows], self.files)

    def table(self) -> ClaimTable:
        """The claims as a ClaimTable; a refusal names the claim's file and line.

        Raises
        ------
        InputError
        """
        codes, ids = self.origin
        origin = None if not (codes >= 0).any() else [ids[c] if c >= 0 else None
                                                      for c in codes.tolist()]
        try:
            return ClaimTable.from_columns(question=self.question, source=self.source,
                                           kind=self.kind, hedge=self.hedge, origin=origin,
                                           **self.numbers)
        except ReconcileError as exc:
            column, _, row = (exc.field or "").partition(".")
            if row.isdigit():
                raise InputError(f"{self.where(int(row))}, column {column}: {exc.message}") \
                    from None
            raise InputError(exc.message) from None


def file_format(path: Path, given: str | None = None) -> str:
    """``given``, else the format of ``path`` by its extension (csv by default)."""
    return given or SUFFIXES.get(path.suffix.lower(), "csv")


def claim_files(path: Path, given: str | None = None) -> tuple[list[Path], str]:
    """The files of an input: ``path`` itself, or a directory's claims files in name order.

    Raises
    ------
    InputError
        For an empty directory, one that mixes formats, or JSON Lines in a directory.
    OSError
        When ``path`` does not exist.
    """
    if not path.is_dir():
        if not path.exists():
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return [path], file_format(path, given)
    found = sorted(p for p in path.iterdir()
                   if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith("."))
    formats = {file_format(p, given) for p in found}
    if not found:
        raise InputError(f"{path}: no .csv or .parquet files in the directory.")
    if len(formats) > 1 or formats == {"jsonl"}:
        raise InputError(f"{path}: a directory must hold only CSV or only Parquet files.")
    return found, formats.pop()


def read_frame(path: Path, fmt: str, number: int = 0) -> Frame:
    """One CSV or Parquet file as a Frame whose positions carry the file's ``number``.

    Raises
    ------
    InputError
    OSError
    """
    if fmt == "parquet":
        kwargs, first, word = _parquet_columns(path), 1, "row"
    else:
        header, raw = split_csv(path)
        kwargs, _ = columns_from_csv(header, raw, path, first_line=2)
        first, word = 2, "line"
    n = len(kwargs["question"][0])
    origin_list = kwargs.get("origin")
    if origin_list is None:
        origin: Coded = (np.full(n, -1, dtype=np.int64), ())
    elif isinstance(origin_list, tuple):
        origin = origin_list
    else:
        index: dict[str, int] = {}
        codes = np.fromiter((index.setdefault(o, len(index)) if o else -1 for o in origin_list),
                            dtype=np.int64, count=n)
        origin = (codes, tuple(index))
    hedge = kwargs.get("hedge")
    return Frame(
        question=kwargs["question"], source=kwargs["source"], origin=origin,
        kind=np.asarray(kwargs["kind"], dtype=np.int64),
        hedge=(np.full(n, HEDGE_NAMES.index("none"), dtype=np.int64) if hedge is None
               else np.asarray(hedge, dtype=np.int64)),
        numbers={name: (np.asarray(kwargs[name], dtype=np.float64) if name in kwargs
                        else np.full(n, np.nan)) for name in NUMERIC},
        pos=number * FILE_STRIDE + np.arange(n, dtype=np.int64),
        files=((str(path), first, word),) if number == 0 else
        tuple(("", 0, "") for _ in range(number)) + ((str(path), first, word),),
    )


def frame_of_table(table: ClaimTable, number: int, name: str, word: str = "claim") -> Frame:
    """A ClaimTable's claims as the Frame numbered ``number`` (e.g. a chunk read from a store).

    A refused claim is then named ``{name} {word} {k}`` (k from 1). Origin codes become their
    text: origins matter only by equality within a question.
    """
    n = table.n
    origin_ids = tuple(str(k) for k in range(int(table.origin.max(initial=-1)) + 1))
    return Frame(
        question=(table.question, table.question_ids), source=(table.source, table.source_ids),
        origin=(table.origin, origin_ids), kind=table.kind, hedge=table.hedge,
        numbers={name_: np.asarray(getattr(table, name_), dtype=np.float64)
                 for name_ in NUMERIC},
        pos=number * FILE_STRIDE + np.arange(n, dtype=np.int64),
        files=tuple(("", 0, "") for _ in range(number)) + ((name, 1, word),),
    )


def _merge(parts: Sequence[Coded]) -> Coded:
    """Coded ids of several frames as one: codes in order of first appearance across them."""
    index: dict[str, int] = {}
    out = []
    for codes, ids in parts:
        remap = np.array([index.setdefault(i, len(index)) for i in ids] or [0], dtype=np.int64)
        out.append(remap[codes] if ids else np.where(codes >= 0, codes, -1))
    merged = np.concatenate(out)
    return merged, tuple(index)


def _merge_origin(parts: Sequence[Coded]) -> Coded:
    index: dict[str, int] = {}
    out = []
    for codes, ids in parts:
        remap = np.array([index.setdefault(i, len(index)) for i in ids] + [-1], dtype=np.int64)
        out.append(remap[codes])  # code −1 picks the appended −1
    return np.concatenate(out), tuple(index)


def concat(frames: Sequence[Frame]) -> Frame:
    """The frames' claims one after another, as if read from one file."""
    if len(frames) == 1:
        return frames[0]
    files: dict[int, tuple[str, int, str]] = {}
    for frame in frames:
        files.update({k: f for k, f in enumerate(frame.files) if f[0]})
    return Frame(
        question=_merge([f.question for f in frames]),
        source=_merge([f.source for f in frames]),
        origin=_merge_origin([f.origin for f in frames]),
        kind=np.concatenate([f.kind for f in frames]),
        hedge=np.concatenate([f.hedge for f in frames]),
        numbers={name: np.concatenate([f.numbers[name] for f in frames]) for name in NUMERIC},
        pos=np.concatenate([f.pos for f in frames]),
        files=tuple(files.get(k, ("", 0, "")) for k in range(max(files) + 1)),
    )


def read_table(path: Path, given: str | None = None) -> tuple[ClaimTable, Callable[[int], str]]:
    """All claims of a file or directory as one ClaimTable (the local engine's input).

    Returns the table and a function naming the file and line of a claim (by its row), for
    refusals that come later (a figure the log scale cannot take).

    Raises
    ------
    InputError
    OSError
    """
    files, fmt = claim_files(path, given)
    if fmt in ("csv", "jsonl") and len(files) == 1:
        from service.cli.batch_files import read_claims

        table = read_claims(files[0], fmt)
        if fmt == "jsonl":
            return table, lambda row: f"{files[0]} claim {row + 1}"
        return table, lambda row: f"{files[0]} line {row + 2}"
    frame = concat([read_frame(p, fmt, k) for k, p in enumerate(files)])
    return frame.table(), frame.where


def _parquet_columns(path: Path) -> dict[str, Any]:
    """The from_columns arguments of a Parquet file, ids coded by pyarrow."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        raise InputError(
            f"{path}: reading Parquet needs pyarrow (pip install -r requirements-dask.txt)."
        ) from None
    try:
        data = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"{path}: not a readable Parquet file ({exc}).") from None
    header = list(data.column_names)
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise InputError(
            f"{path}: unknown column {unknown[0]!r}; columns are {', '.join(COLUMNS)}."
        )
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError(f"{path}: missing column {missing[0]!r}.")
    if data.num_rows == 0:
        raise InputError(f"{path}: no claims.")

    def strings(name: str) -> tuple[IntArray, list[str | None]]:
        column = data.column(name)
        if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
            column = pc.cast(column, pa.string())
        encoded = pc.dictionary_encode(pc.utf8_trim_whitespace(column)).combine_chunks()
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        codes = np.where(np.isnan(codes), -1, codes) if codes.dtype.kind == "f" else codes
        return np.asarray(codes, dtype=np.int64), encoded.dictionary.to_pylist()

    def ids(name: str) -> Coded:
        codes, names = strings(name)
        bad = np.flatnonzero((codes < 0) | np.isin(codes, [k for k, v in enumerate(names)
                                                            if not v]))
        if bad.size:
            raise InputError(f"{path} row {int(bad[0]) + 1}, column {name}: empty.")
        # Codes in order of first appearance, as the CSV reader gives them.
        order = np.unique(codes, return_index=True)[1]
        first = codes[np.sort(order)]
        remap = np.empty(len(names), dtype=np.int64)
        remap[first] = np.arange(first.shape[0])
        return remap[codes], tuple(str(names[k]) for k in first.tolist())

    def names_of(name: str, allowed: Sequence[str], default: str | None) -> IntArray:
        codes, names = strings(name)
        lookup = {n: k for k, n in enumerate(allowed)}
        if default is not None:
            lookup[""] = lookup[default]
        table = np.array([lookup.get(n or "", -1) if (n or default is not None) else -1
                          for n in names] + [lookup.get("", -1)], dtype=np.int64)
        out = table[codes]
        bad = np.flatnonzero(out < 0)
        if bad.size:
            shown = names[codes[bad[0]]] if codes[bad[0]] >= 0 else None
            raise InputError(f"{path} row {int(bad[0]) + 1}, column {name}: {shown!r} is not "
                             f"one of {', '.join(allowed)}.")
        return np.asarray(out, dtype=np.int64)

    kwargs: dict[str, Any] = {"question": ids("question"), "source": ids("source"),
                              "kind": names_of("kind", CLAIM_KINDS, None)}
    if "hedge" in header:
        kwargs["hedge"] = names_of("hedge", HEDGE_NAMES, "none")
    if "origin" in header:
        codes, names = strings("origin")
        empty = [k for k, v in enumerate(names) if not v]
        codes = np.where(np.isin(codes, empty), -1, codes)
        kwargs["origin"] = (codes, tuple(str(v) for v in names))
    for name in NUMERIC:
        if name in header:
            try:
                column = pc.cast(data.column(name), pa.float64())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise InputError(f"{path}, column {name}: not numbers.") from None
            kwargs[name] = pc.fill_null(column, float("nan")).to_numpy()
    return kwargs
