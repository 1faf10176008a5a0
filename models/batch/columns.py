"""Parsing of the claim table's columns: ids to codes, optional numbers to floats, names to codes.

Each parser checks its column and raises :class:`~models.errors.InvalidClaimError` whose
``field`` names the column and the first offending row (``"value.17"``), so that a request or
a file can point at the cell to fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from models.batch.common import FloatArray, IntArray
from models.errors import InvalidClaimError


def code_strings(values: Sequence[Any], column: str) -> tuple[IntArray, tuple[str, ...]]:
    """Codes 0..K−1 in order of first appearance, and the K distinct strings.

    Parameters
    ----------
    values : sequence of str
        One id per claim.
    column : str
        The column's name, for the error's ``field``.

    Returns
    -------
    codes : (n,) int
        ``ids[codes[i]] == values[i]``.
    ids : tuple of str
        The K distinct ids in order of first appearance.

    Raises
    ------
    InvalidClaimError
        When an id is not a non-empty string.
    """
    try:
        distinct = dict.fromkeys(values)
    except TypeError:  # an unhashable item (a list, an object)
        distinct = {}
    if not distinct or not all(isinstance(k, str) and k for k in distinct):
        row = next(
            (i for i, v in enumerate(values) if not isinstance(v, str) or not v), 0
        )
        raise InvalidClaimError(
            f"Invalid {column} {values[row]!r}; must be a non-empty string.", f"{column}.{row}"
        )
    index = {key: code for code, key in enumerate(distinct)}
    codes = np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))
    return codes, tuple(index)


def is_coded(values: object) -> bool:
    """Whether ``values`` is already coded: a pair of an int array and a tuple of ids."""
    return (isinstance(values, tuple) and len(values) == 2
            and isinstance(values[0], np.ndarray) and isinstance(values[1], tuple))


def coded(
    values: Sequence[str] | tuple[IntArray, tuple[str, ...]], column: str
) -> tuple[IntArray, tuple[str, ...]]:
    """``values`` coded (see :func:`code_strings`), or passed through when already coded.

    Parameters
    ----------
    values : sequence of str, or (codes, ids)
    column : str
        The column's name, for the error's ``field``.

    Returns
    -------
    codes : (n,) int
    ids : tuple of str
    """
    if isinstance(values, tuple) and is_coded(values):
        codes, ids = values
        return np.asarray(codes, dtype=np.int64), tuple(ids)
    return code_strings(values, column)


def float_column(values: Sequence[Any] | FloatArray | None, n: int, column: str) -> FloatArray:
    """A column of optional numbers as floats (NaN = not given).

    Parameters
    ----------
    values : sequence of float or None, float array, or None
        ``None`` for the whole column means not given anywhere.
    n : int
        Number of claims.
    column : str
        The column's name, for the error's ``field``.

    Returns
    -------
    (n,) float

    Raises
    ------
    InvalidClaimError
        For a non-number (a boolean counts as one), an integer beyond the float range, an
        infinite number or a column of the wrong length.
    """
    if values is None:
        return np.full(n, np.nan)
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        out = np.asarray(values, dtype=np.float64)
    else:
        kinds = set(map(type, values))
        if any(not (k is type(None) or (issubclass(k, int | float) and not issubclass(k, bool)))
               for k in kinds):
            row = next(
                i for i, v in enumerate(values)
                if isinstance(v, bool) or not isinstance(v, int | float | type(None))
            )
            raise InvalidClaimError(
                f"Invalid {column} {values[row]!r}; must be a number or null.", f"{column}.{row}"
            )
        try:
            out = np.array(values, dtype=np.float64)
        except OverflowError:  # an integer beyond float range
            row = next(i for i, v in enumerate(values) if isinstance(v, int) and abs(v) > 1e308)
            raise InvalidClaimError(
                f"Invalid {column}; {values[row]!r} is beyond the float range.", f"{column}.{row}"
            ) from None
    if out.shape != (n,):
        raise InvalidClaimError(
            f"Column {column} has {out.shape[0] if out.ndim == 1 else out.shape} entries; "
            f"expected {n} (one per claim).",
            column,
        )
    if np.isinf(out).any():
        row = int(np.flatnonzero(np.isinf(out))[0])
        raise InvalidClaimError(
            f"Invalid {column} {float(out[row])!r}; must be finite.", f"{column}.{row}"
        )
    return out


def code_column(
    values: Sequence[Any] | IntArray | None, n: int, column: str, names: Sequence[str],
    default: int,
) -> IntArray:
    """A column of names (or their codes) as codes into ``names``.

    Parameters
    ----------
    values : sequence of str or None, int array, or None
        Names (``None`` or empty means ``default``), or codes already.
    n : int
        Number of claims.
    column : str
        The column's name, for the error's ``field``.
    names : sequence of str
        The allowed names; a name's code is its position.
    default : int
        Code of a missing name.

    Returns
    -------
    (n,) int

    Raises
    ------
    InvalidClaimError
        For an unknown name, a code outside 0..len(names)−1 or a column of the wrong length.
    """
    if values is None:
        return np.full(n, default, dtype=np.int64)
    if isinstance(values, np.ndarray) and values.dtype.kind in "iu":
        out = values.astype(np.int64)
    else:
        lookup = {name: k for k, name in enumerate(names)}
        lookup_none: dict[Any, int] = {None: default, "": default}
        try:
            out = np.fromiter(
                (lookup[v] if v in lookup else lookup_none[v] for v in values),
                dtype=np.int64, count=len(values),
            )
        except (KeyError, TypeError):
            row = next(
                i for i, v in enumerate(values)
                if not isinstance(v, str | None) or (v not in lookup and v not in ("", None))
            )
            raise InvalidClaimError(
                f"Invalid {column} {values[row]!r}; must be one of {', '.join(names)}.",
                f"{column}.{row}",
            ) from None
    if out.shape != (n,):
        raise InvalidClaimError(
            f"Column {column} has {out.shape[0]} entries; expected {n} (one per claim).", column
        )
    bad = np.flatnonzero((out < 0) | (out >= len(names)))
    if bad.size:
        row = int(bad[0])
        raise InvalidClaimError(
            f"Invalid {column} code {int(out[row])}; must be one of {', '.join(names)}.",
            f"{column}.{row}",
        )
    return out
