"""Estimates out, a chunk of questions at a time: CSV, JSON Lines or Parquet.

:class:`EstimatesWriter` takes the :class:`~models.batch.QuestionEstimates` of one partition
after another (or of the whole archive at once) and appends them to one file, so that the
Dask engine never holds every question's answer in one process. CSV and JSON Lines are
written as :func:`service.cli.batch_files.write_questions` writes them; Parquet holds the same
columns (``pyarrow``, imported only then).
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from models.batch import QuestionEstimates
from service.cli.batch_files import InputError, estimate_columns, write_questions

__all__ = ["EstimatesWriter"]


class EstimatesWriter:
    """Append estimates to ``path`` (standard output when None) in ``fmt``.

    Parameters
    ----------
    path : Path or None
    fmt : {"csv", "jsonl", "parquet"}

    Raises
    ------
    InputError
        Parquet to standard output, or without pyarrow.
    OSError
        When the file cannot be opened.
    """

    def __init__(self, path: Path | None, fmt: str) -> None:
        self.fmt = fmt
        self.started = False
        self._parquet: Any = None
        self._text: IO[str] | None = None
        self._own = False
        if fmt == "parquet":
            if path is None:
                raise InputError("Parquet output needs --out FILE.parquet.")
            try:
                import pyarrow  # noqa: F401
            except ImportError:
                raise InputError(
                    "writing Parquet needs pyarrow (pip install -r requirements-dask.txt)."
                ) from None
            self.path: Path | None = path
        else:
            self.path = path
            if path is None:
                self._text = sys.stdout
            else:
                self._text = path.open("w", encoding="utf-8", newline="")
                self._own = True

    def write(self, qe: QuestionEstimates) -> None:
        """Append one chunk of questions."""
        if self.fmt != "parquet":
            if self._text is None:
                raise ValueError("write() after close()")
            write_questions(self._text, qe, self.fmt, header=not self.started)
            self.started = True
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        names = estimate_columns(qe.levels)
        arrays: list[Any] = [list(qe.ids), qe.value]
        for j in range(len(qe.levels)):
            arrays += [qe.low[:, j], qe.high[:, j]]
        arrays += [qe.n_claims, qe.n_sources, qe.p_exact]
        table = pa.table(dict(zip(names, arrays, strict=True)))
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(str(self.path), table.schema)
        self._parquet.write_table(table)
        self.started = True

    def close(self) -> None:
        """Finish the file."""
        if self._parquet is not None:
            self._parquet.close()
            self._parquet = None
        if self._own and self._text is not None:
            self._text.close()
            self._text = None

    def __enter__(self) -> EstimatesWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
