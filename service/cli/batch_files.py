"""Claims files in and estimates out for ``triangulate batch`` (CSV and JSON Lines).

Plain CSV (no quoted fields) is parsed without building a Python object per row: the file is
split into fields in one pass and each column is converted at once (ids coded from the raw bytes,
each distinct id decoded once), so a million claims read in about a second. Quoted CSV falls back
to the standard library's reader. Every refusal names the file, line and column.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

from models.batch import BatchFit, ClaimTable, QuestionEstimates, SourceEstimates
from models.claims import CLAIM_KINDS, HEDGE_NAMES
from models.errors import ReconcileError

if TYPE_CHECKING:  # models.credibility imports scipy: only --sources needs it
    from models.credibility import SourceProfile

__all__ = [
    "InputError",
    "Progress",
    "read_claims",
    "read_sources",
    "write_estimates",
    "write_sources",
]

REQUIRED: Final[tuple[str, ...]] = ("question", "source", "kind")
NUMERIC: Final[tuple[str, ...]] = ("value", "low", "high", "sd", "resolution")
TEXT: Final[tuple[str, ...]] = ("hedge", "origin")
COLUMNS: Final[tuple[str, ...]] = (*REQUIRED, *NUMERIC, *TEXT)


class Coded(NamedTuple):
    """A column of ids as codes plus the distinct ids (see ClaimTable.from_columns)."""

    codes: NDArray[np.int64]
    ids: tuple[str, ...]


class InputError(Exception):
    """Input the command refuses; the message names the file, line and column."""


# --- progress ---------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self, stream: IO[str] | None = None, enabled: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.started = time.monotonic()

    def phase(self, text: str) -> None:
        """Show what the command is doing now."""
        if self.enabled:
            self.stream.write(f"\r\x1b[Ktriangulate batch: {text}")
            self.stream.flush()

    def iteration(self, done: int, total: int) -> None:
        """EM progress, as a bar of 30 cells."""
        if not self.enabled:
            return
        filled = int(30 * min(done, total) / max(total, 1))
        bar = "#" * filled + "." * (30 - filled)
        self.phase(f"fitting [{bar}] iteration {done} (at most {total})")

    def close(self) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.started
            self.stream.write(f"\r\x1b[Ktriangulate batch: done in {elapsed:.1f} s\n")
            self.stream.flush()


# --- reading ----------------------------------------------------------------------------------


def format_of(path: Path, given: str | None) -> str:
    """``given``, else the format the file's extension suggests (csv or jsonl)."""
    if given is not None:
        return given
    return "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else "csv"


def _floats(column: Sequence[bytes], name: str, where: Callable[[int], str]) -> NDArray[np.float64]:
    """Parse a numeric column; empty fields are NaN (not given)."""
    try:
        return np.fromiter(map(float, column), dtype=np.float64, count=len(column))
    except ValueError:
        pass
    out = np.empty(len(column))
    for row, raw in enumerate(column):
        text = raw.strip()
        if not text:
            out[row] = math.nan
            continue
        try:
            out[row] = float(text)
        except ValueError:
            shown = raw.decode("utf-8", "replace")
            raise InputError(f"{where(row)}, column {name}: {shown!r} is not a number.") from None
    return out


def _texts(column: Sequence[bytes], name: str, where: Callable[[int], str]) -> list[str]:
    """Decode a text column, decoding each distinct value once."""
    decoded: dict[bytes, str] = {}
    for raw in dict.fromkeys(column):
        try:
            decoded[raw] = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            row = column.index(raw)
            raise InputError(f"{where(row)}, column {name}: not valid UTF-8.") from None
    return list(map(decoded.__getitem__, column))


def _split_plain_csv(data: bytes, path: Path) -> tuple[list[str], list[list[bytes]]]:
    """Header and columns of an unquoted CSV, split in one pass over the bytes.

    Lines end as the standard library's reader (:func:`_split_quoted_csv`) ends them, at
    ``\\r\\n``, ``\\n`` or a lone ``\\r``; both ignore blank lines at the end and count
    no field on a blank line elsewhere, so that quoting one field changes no answer.
    """
    if b"\r" in data:
        data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    head, _, body = data.partition(b"\n")
    header = [h.strip() for h in head.decode("utf-8-sig").split(",")]
    body = body.rstrip(b"\n")
    if not body:
        raise InputError(f"{path}: no claims after the header.")
    k = len(header)
    fields = body.replace(b"\n", b",").split(b",")
    n_lines = body.count(b"\n") + 1
    if len(fields) != n_lines * k:
        # Find the first line with the wrong number of fields (only on this error path).
        for number, line in enumerate(body.split(b"\n"), start=2):
            if line.count(b",") != k - 1:
                got = line.count(b",") + 1 if line else 0
                raise InputError(
                    f"{path} line {number}: expected {k} fields as in the header, got {got}."
                )
    return header, [fields[j::k] for j in range(k)]


def _split_quoted_csv(data: bytes, path: Path) -> tuple[list[str], list[list[bytes]]]:
    """Header and columns of a CSV with quoted fields (standard library reader)."""
    text = data.decode("utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip() for h in next(reader, [])]
    rows = list(reader)
    while rows and not rows[-1]:  # blank lines at the end, as the plain reader drops them
        rows.pop()
    for number, row in enumerate(rows, start=2):
        if len(row) != len(header):
            raise InputError(
                f"{path} line {number}: expected {len(header)} fields as in the header, got "
                f"{len(row)}."
            )
    if not rows:
        raise InputError(f"{path}: no claims after the header.")
    return header, [[row[j].encode() for row in rows] for j in range(len(header))]


def _table_from_columns(
    header: list[str], columns: list[list[bytes]], path: Path, first_line: int
) -> ClaimTable:
    kwargs, where = columns_from_csv(header, columns, path, first_line)
    return build_table(kwargs, where)


def columns_from_csv(
    header: list[str], columns: list[list[bytes]], path: Path, first_line: int
) -> tuple[dict[str, Any], Callable[[int], str]]:
    """The keyword arguments of ClaimTable.from_columns from a CSV's split columns.

    Returns them with a function naming a row's file and line for error messages.
    """
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise InputError(
            f"{path}: unknown column {unknown[0]!r}; columns are {', '.join(COLUMNS)}."
        )
    missing = [c for c in (*REQUIRED,) if c not in header]
    if missing:
        raise InputError(f"{path}: missing column {missing[0]!r}.")
    twice = duplicate_column(header)
    if twice is not None:  # else the later column would silently win
        raise InputError(f"{path}: column {twice!r} appears twice in the header.")
    by_name = dict(zip(header, columns, strict=True))

    def where(row: int) -> str:
        return f"{path} line {row + first_line}"

    kwargs: dict[str, Any] = {}
    for name in NUMERIC:
        if name in by_name:
            kwargs[name] = _floats(by_name[name], name, where)
    # Ids and names are coded straight from the bytes: each distinct value is decoded once.
    for name in ("question", "source"):
        kwargs[name] = _ids(by_name[name], name, where)
    kwargs["kind"] = _names(by_name["kind"], "kind", CLAIM_KINDS, None, where)
    if "hedge" in by_name:
        kwargs["hedge"] = _names(by_name["hedge"], "hedge", HEDGE_NAMES, "none", where)
    if "origin" in by_name:
        kwargs["origin"] = [o or None for o in _texts(by_name["origin"], "origin", where)]
    return kwargs, where


def duplicate_column(header: Sequence[str]) -> str | None:
    """The first column name that a header repeats, if any."""
    seen: set[str] = set()
    for name in header:
        if name in seen:
            return name
        seen.add(name)
    return None


def _ids(column: Sequence[bytes], name: str, where: Callable[[int], str]) -> Coded:
    """Codes in order of first appearance, and the decoded ids."""
    distinct = dict.fromkeys(column)
    ids: list[str] = []
    for raw in distinct:
        try:
            text = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise InputError(f"{where(column.index(raw))}, column {name}: not valid UTF-8.") \
                from None
        if not text:
            raise InputError(f"{where(column.index(raw))}, column {name}: empty.")
        ids.append(text)
    index = {raw: code for code, raw in enumerate(distinct)}
    codes = np.fromiter(map(index.__getitem__, column), dtype=np.int64, count=len(column))
    return Coded(codes, tuple(ids))


def _names(
    column: Sequence[bytes], name: str, names: Sequence[str], default: str | None,
    where: Callable[[int], str],
) -> NDArray[np.int64]:
    """Codes of a column of names (kind, hedge); an empty field means ``default``."""
    lookup = {n.encode(): k for k, n in enumerate(names)}
    if default is not None:
        lookup[b""] = names.index(default)
    try:
        return np.fromiter(map(lookup.__getitem__, column), dtype=np.int64, count=len(column))
    except KeyError:
        pass
    stripped = {raw: raw.strip() for raw in dict.fromkeys(column)}
    for row, raw in enumerate(column):
        if stripped[raw] not in lookup:
            shown = raw.decode("utf-8", "replace")
            raise InputError(
                f"{where(row)}, column {name}: {shown!r} is not one of {', '.join(names)}."
            )
    return np.fromiter((lookup[stripped[raw]] for raw in column), dtype=np.int64,
                       count=len(column))


def build_table(kwargs: dict[str, Any], where: Callable[[int], str]) -> ClaimTable:
    """ClaimTable.from_columns, its refusal turned into an InputError naming file and line."""
    try:
        return ClaimTable.from_columns(**kwargs)
    except ReconcileError as exc:
        column, _, row = (exc.field or "").partition(".")
        if row.isdigit():
            raise InputError(f"{where(int(row))}, column {column}: {exc.message}") from None
        raise InputError(f"{exc.message}") from None


def split_csv(path: Path) -> tuple[list[str], list[list[bytes]]]:
    """Header and columns (raw bytes) of a claims CSV.

    Raises
    ------
    InputError
    OSError
    """
    data = path.read_bytes()
    splitter = _split_quoted_csv if b'"' in data else _split_plain_csv
    try:
        return splitter(data, path)
    except UnicodeDecodeError:
        raise InputError(f"{path}: the header is not valid UTF-8.") from None


def read_claims(path: Path, fmt: str | None = None) -> ClaimTable:
    """Read a claims file (CSV or JSON Lines) into a :class:`~models.batch.ClaimTable`.

    Parameters
    ----------
    path : Path
    fmt : {"csv", "jsonl"}, optional
        Defaults by extension (``.jsonl``/``.ndjson`` → JSON Lines, else CSV).

    Raises
    ------
    InputError
        Naming the line and column of the first problem.
    OSError
        When the file cannot be read.
    """
    if format_of(path, fmt) == "jsonl":
        return _read_jsonl(path.read_bytes(), path)
    header, columns = split_csv(path)
    return _table_from_columns(header, columns, path, first_line=2)


def _read_jsonl(data: bytes, path: Path) -> ClaimTable:
    lines = [(k, line) for k, line in enumerate(data.splitlines(), start=1) if line.strip()]
    if not lines:
        raise InputError(f"{path}: no claims.")
    columns: dict[str, list[Any]] = {name: [None] * len(lines) for name in COLUMNS}
    given: set[str] = set()
    for row, (number, line) in enumerate(lines):
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path} line {number}: not valid JSON ({exc}).") from None
        if not isinstance(record, dict):
            raise InputError(f"{path} line {number}: expected a JSON object per line.")
        for key, value in record.items():
            if key not in columns:
                raise InputError(
                    f"{path} line {number}: unknown key {key!r}; keys are {', '.join(COLUMNS)}."
                )
            columns[key][row] = value
            given.add(key)
    numbers = [number for number, _ in lines]

    def where(row: int) -> str:
        return f"{path} line {numbers[row]}"

    kwargs = {name: values for name, values in columns.items() if name in given}
    for name in REQUIRED:
        kwargs.setdefault(name, [None] * len(lines))
    return build_table(kwargs, where)


def read_sources(path: Path) -> dict[str, SourceProfile]:
    """Priors from a CSV with columns ``id,reliability`` (and optionally ``type``).

    ``reliability`` is a grade A-F, a number in (0, 1), or empty (unknown).

    Raises
    ------
    InputError
        Naming the line of the first bad row.
    """
    from models.credibility import profile_for

    text = path.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    if reader.fieldnames is None or "id" not in reader.fieldnames:
        raise InputError(f"{path}: expected a header with columns id,reliability[,type].")
    profiles: dict[str, SourceProfile] = {}
    for number, row in enumerate(reader, start=2):
        sid = (row.get("id") or "").strip()
        if not sid:
            raise InputError(f"{path} line {number}: empty id.")
        if sid in profiles:
            raise InputError(f"{path} line {number}: duplicate id {sid!r}.")
        raw = (row.get("reliability") or "").strip()
        reliability: str | float | None
        if not raw:
            reliability = None
        else:
            try:
                reliability = float(raw)
            except ValueError:
                reliability = raw
        try:
            profiles[sid] = profile_for(reliability)
        except ReconcileError as exc:
            raise InputError(f"{path} line {number}, column reliability: {exc.message}") from None
    return profiles


# --- writing ----------------------------------------------------------------------------------


def level_names(levels: Sequence[float]) -> list[str]:
    """Suffixes of the interval columns: none for one level, ``_90`` etc. for several."""
    if len(levels) == 1:
        return [""]
    return [f"_{100 * level:g}".replace(".", "_") for level in levels]


def write_estimates(out: IO[str], fit: BatchFit, fmt: str) -> None:
    """Write one row (CSV) or object (JSON Lines) per question."""
    write_questions(out, fit.questions, fmt)


def write_questions(
    out: IO[str], qe: QuestionEstimates, fmt: str, header: bool = True
) -> None:
    """Write one row (CSV) or object (JSON Lines) per question of ``qe``.

    ``header=False`` appends a further chunk of questions to a CSV already begun.
    """
    levels = qe.levels
    if fmt == "jsonl":
        for k, qid in enumerate(qe.ids):
            record = {
                "question": qid,
                "value": float(qe.value[k]),
                "intervals": [
                    {"level": level, "low": float(qe.low[k, j]), "high": float(qe.high[k, j])}
                    for j, level in enumerate(levels)
                ],
                "n_claims": int(qe.n_claims[k]),
                "n_sources": int(qe.n_sources[k]),
                "p_exact": float(qe.p_exact[k]),
            }
            out.write(json.dumps(record, allow_nan=False) + "\n")
        return
    columns = estimate_columns(levels)
    writer = csv.writer(out, lineterminator="\n")
    if header:
        writer.writerow(columns)
    # Ids go through the csv module (they may need quoting); the numbers are formatted with one
    # %-template per row (12 significant digits), several times faster than csv's float repr.
    if any("\n" in qid or "\r" in qid for qid in qe.ids):
        rows_slow: list[list[Any]] = [list(qe.ids), qe.value.tolist()]
        for j in range(len(levels)):
            rows_slow += [qe.low[:, j].tolist(), qe.high[:, j].tolist()]
        rows_slow += [qe.n_claims.tolist(), qe.n_sources.tolist(), qe.p_exact.tolist()]
        writer.writerows(zip(*rows_slow, strict=True))
        return
    ids = io.StringIO()
    csv.writer(ids, lineterminator="\n").writerows([qid] for qid in qe.ids)
    template = "%s," + "%.12g," * (1 + 2 * len(levels)) + "%d,%d,%.6g\n"
    numbers: list[list[Any]] = [qe.value.tolist()]
    for j in range(len(levels)):
        numbers += [qe.low[:, j].tolist(), qe.high[:, j].tolist()]
    numbers += [qe.n_claims.tolist(), qe.n_sources.tolist(), qe.p_exact.tolist()]
    rows = zip(ids.getvalue().splitlines(), *numbers, strict=True)
    out.write("".join(map(template.__mod__, rows)))


def estimate_columns(levels: Sequence[float]) -> list[str]:
    """The columns of the estimates, in order."""
    names = ["question", "value"]
    for suffix in level_names(levels):
        names += [f"low{suffix}", f"high{suffix}"]
    return [*names, "n_claims", "n_sources", "p_exact"]


def write_sources(out: IO[str], src: SourceEstimates, fmt: str) -> None:
    """Write what was learned about each source.

    ``credibility_low``/``_high`` are the credibility's range: the model's 90 % interval,
    widened to cover the credibility under a wider wrong-claim law where precise sources show
    that wrong claims avoid the truth (the summary's ``credibility_widened`` warning), so not
    necessarily centred on ``credibility``.
    """
    names = ("credibility", "credibility_low", "credibility_high", "exact_share", "spread",
             "bias", "prior_credibility")
    if fmt == "jsonl":
        for k, sid in enumerate(src.ids):
            record: dict[str, Any] = {"id": sid, "n_claims": int(src.n_claims[k])}
            record.update({name: float(getattr(src, name)[k]) for name in names})
            out.write(json.dumps(record, allow_nan=False) + "\n")
        return
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "n_claims", *names])
    columns: list[list[Any]] = [list(src.ids), src.n_claims.tolist()]
    columns += [getattr(src, name).tolist() for name in names]
    writer.writerows(zip(*columns, strict=True))
