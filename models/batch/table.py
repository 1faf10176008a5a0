"""The claim table: claims about many questions, one array entry per claim (columnar).

:class:`ClaimTable` holds the claims as parallel columns of codes and numbers, checked once on
construction; :func:`infer_resolution` reads a figure's rounding step from its digits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.batch.columns import code_column, coded, float_column, is_coded
from models.batch.common import (
    HEDGE_NONE,
    KIND_POINT,
    KIND_RANGE,
    BoolArray,
    FloatArray,
    IntArray,
)
from models.claims import CLAIM_KINDS, HEDGE_NAMES
from models.errors import InvalidClaimError


def _first(rows: BoolArray) -> int | None:
    """The first row where ``rows`` is true (the one an error names), or None."""
    found = np.flatnonzero(rows)
    return int(found[0]) if found.size else None


@dataclass(frozen=True, slots=True)
class ClaimTable:
    """Claims about many questions, one array entry per claim (columnar).

    Build it with :meth:`from_columns` (arrays or lists, as read from CSV or a columnar
    request) or :meth:`from_records` (one mapping per claim); the constructor checks every
    column and raises :class:`~models.errors.InvalidClaimError` whose ``field`` names the column
    and row (``"value.17"``).

    Attributes
    ----------
    question : (n,) int
        Question code, 0..Q−1; ``question_ids[code]`` is its id.
    source : (n,) int
        Source code, 0..S−1; ``source_ids[code]`` is its id.
    kind : (n,) int
        ``KIND_POINT``, ``KIND_AT_LEAST``, ``KIND_AT_MOST`` or ``KIND_RANGE``
        (:mod:`models.likelihood`).
    value : (n,) float
        The figure (point) or bound (at_least, at_most); NaN for a range.
    low, high : (n,) float
        Ends of a range; NaN otherwise.
    sd : (n,) float
        The claim's own standard deviation (points only), NaN when not given.
    hedge : (n,) int
        Index into :data:`models.claims.HEDGE_NAMES`.
    origin : (n,) int
        Origin code (claims of one origin on one question count once), −1 when not given.
    resolution : (n,) float
        Rounding step of the figure in the quantity's units (1 for a count given to the unit,
        1000 for "12,000"), NaN to infer it from the figure's digits.
    question_ids, source_ids : tuple of str
    """

    question: IntArray
    source: IntArray
    kind: IntArray
    value: FloatArray
    low: FloatArray
    high: FloatArray
    sd: FloatArray
    hedge: IntArray
    origin: IntArray
    resolution: FloatArray
    question_ids: tuple[str, ...]
    source_ids: tuple[str, ...]

    def __post_init__(self) -> None:
        self._validate()

    @property
    def n(self) -> int:
        """Number of claims."""
        return int(self.question.shape[0])

    @property
    def n_questions(self) -> int:
        """Number of distinct questions, Q."""
        return len(self.question_ids)

    @property
    def n_sources(self) -> int:
        """Number of distinct sources, S."""
        return len(self.source_ids)

    def _validate(self) -> None:
        """Check shapes, codes, the numbers each kind needs or forbids, and their signs.

        Raises
        ------
        InvalidClaimError
            With ``field`` = ``"<column>.<row>"`` for the first offending row.
        """
        n = self.n
        if n == 0:
            raise InvalidClaimError("At least one claim is required.", "question")
        for name in ("source", "kind", "value", "low", "high", "sd", "hedge", "origin",
                     "resolution"):
            column = getattr(self, name)
            if column.shape != (n,):
                raise InvalidClaimError(
                    f"Column {name} has shape {column.shape}; expected ({n},).", name
                )
        for name, codes, size in (("question", self.question, self.n_questions),
                                  ("source", self.source, self.n_sources)):
            if (row := _first((codes < 0) | (codes >= size))) is not None:
                raise InvalidClaimError(
                    f"Invalid {name} code {int(codes[row])}; must lie in 0..{size - 1}.",
                    f"{name}.{row}",
                )
        if (row := _first((self.kind < 0) | (self.kind > KIND_RANGE))) is not None:
            raise InvalidClaimError(
                f"Invalid kind code {int(self.kind[row])}; must be one of "
                f"{', '.join(CLAIM_KINDS)}.",
                f"kind.{row}",
            )
        is_range = self.kind == KIND_RANGE
        self._require(~is_range, self.value, "value", "Missing value; a {kind} claim needs one.")
        self._require(is_range, self.low, "low", "Missing low; a range claim needs low and high.")
        self._require(is_range, self.high, "high",
                      "Missing high; a range claim needs low and high.")
        self._forbid(is_range, self.value, "value", "A range claim takes low and high, not value.")
        self._forbid(~is_range, self.low, "low", "A {kind} claim takes value, not low.")
        self._forbid(~is_range, self.high, "high", "A {kind} claim takes value, not high.")
        self._forbid(self.kind != KIND_POINT, self.sd, "sd",
                     "Only point claims carry their own uncertainty; {kind} got sd.")
        with np.errstate(invalid="ignore"):
            if (row := _first(is_range & (self.low > self.high))) is not None:
                raise InvalidClaimError(
                    f"Invalid range: low {float(self.low[row])!r} is above high "
                    f"{float(self.high[row])!r}.",
                    f"low.{row}",
                )
            if (row := _first(self.sd <= 0)) is not None:
                raise InvalidClaimError(
                    f"Invalid sd {float(self.sd[row])!r}; must be positive.", f"sd.{row}"
                )
            if (row := _first(self.resolution <= 0)) is not None:
                raise InvalidClaimError(
                    f"Invalid resolution {float(self.resolution[row])!r}; must be positive.",
                    f"resolution.{row}",
                )
        if (row := _first((self.hedge < 0) | (self.hedge >= len(HEDGE_NAMES)))) is not None:
            raise InvalidClaimError(
                f"Invalid hedge code {int(self.hedge[row])}; must be one of "
                f"{', '.join(HEDGE_NAMES)}.",
                f"hedge.{row}",
            )

    def _require(self, rows: BoolArray, column: FloatArray, name: str, message: str) -> None:
        """Raise for the first of ``rows`` where ``column`` is missing (NaN)."""
        if (row := _first(rows & np.isnan(column))) is not None:
            kind = CLAIM_KINDS[int(self.kind[row])]
            raise InvalidClaimError(message.format(kind=kind), f"{name}.{row}")

    def _forbid(self, rows: BoolArray, column: FloatArray, name: str, message: str) -> None:
        """Raise for the first of ``rows`` where ``column`` is given (not NaN)."""
        if (row := _first(rows & ~np.isnan(column))) is not None:
            kind = CLAIM_KINDS[int(self.kind[row])]
            raise InvalidClaimError(message.format(kind=kind), f"{name}.{row}")

    @classmethod
    def from_columns(
        cls,
        question: Sequence[str] | tuple[IntArray, tuple[str, ...]],
        source: Sequence[str] | tuple[IntArray, tuple[str, ...]],
        kind: Sequence[str] | IntArray,
        value: Sequence[float | None] | FloatArray | None = None,
        low: Sequence[float | None] | FloatArray | None = None,
        high: Sequence[float | None] | FloatArray | None = None,
        sd: Sequence[float | None] | FloatArray | None = None,
        hedge: Sequence[str | None] | IntArray | None = None,
        origin: Sequence[str | None] | None = None,
        resolution: Sequence[float | None] | FloatArray | None = None,
    ) -> ClaimTable:
        """A table from parallel columns (lists or arrays), one entry per claim.

        Parameters
        ----------
        question, source : sequence of str, or (codes, ids)
            Ids, coded in order of first appearance; or already coded as a pair of an int
            array and the tuple of distinct ids.
        kind : sequence of str, or int array of KIND_* codes
        value, low, high, sd, resolution : sequence of float or None, or float array
            NaN or None where a claim does not give the number.
        hedge : sequence of str or None, or int array of codes
            ``None``/empty means ``"none"``.
        origin : sequence of str or None
            Empty string or ``None`` means no origin.

        Raises
        ------
        InvalidClaimError
            With ``field`` = ``"<column>.<row>"`` (or the column alone for a length mismatch).
        """
        n = len(question[0]) if is_coded(question) else len(question)
        if n == 0:
            raise InvalidClaimError("At least one claim is required.", "question")
        n_source = len(source[0]) if is_coded(source) else len(source)
        if n_source != n:
            raise InvalidClaimError(
                f"Column source has {n_source} entries; expected {n} (one per claim).",
                "source",
            )
        q_codes, q_ids = coded(question, "question")
        s_codes, s_ids = coded(source, "source")
        kind_codes = code_column(kind, n, "kind", CLAIM_KINDS, -1)
        hedge_codes = code_column(hedge, n, "hedge", HEDGE_NAMES, HEDGE_NONE)
        if origin is None:
            origin_codes = np.full(n, -1, dtype=np.int64)
        else:
            if len(origin) != n:
                raise InvalidClaimError(
                    f"Column origin has {len(origin)} entries; expected {n} (one per claim).",
                    "origin",
                )
            index: dict[str, int] = {}
            for row, o in enumerate(origin):
                if o is not None and not isinstance(o, str):
                    raise InvalidClaimError(
                        f"Invalid origin {o!r}; must be a string or null.", f"origin.{row}"
                    )
            origin_codes = np.fromiter(
                (index.setdefault(o, len(index)) if o else -1 for o in origin),
                dtype=np.int64, count=n,
            )
        return cls(
            question=q_codes,
            source=s_codes,
            kind=kind_codes,
            value=float_column(value, n, "value"),
            low=float_column(low, n, "low"),
            high=float_column(high, n, "high"),
            sd=float_column(sd, n, "sd"),
            hedge=hedge_codes,
            origin=origin_codes,
            resolution=float_column(resolution, n, "resolution"),
            question_ids=q_ids,
            source_ids=s_ids,
        )

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> ClaimTable:
        """A table from one mapping per claim (keys as in :meth:`from_columns`).

        Raises
        ------
        InvalidClaimError
            As :meth:`from_columns`; the row is the record's position.
        """
        rows = list(records)
        names = ("question", "source", "kind", "value", "low", "high", "sd", "hedge", "origin",
                 "resolution")
        for row, record in enumerate(rows):
            unknown = set(record) - set(names)
            if unknown:
                name = sorted(unknown)[0]
                raise InvalidClaimError(f"Unknown field {name!r}.", f"{name}.{row}")
            for required in ("question", "source", "kind"):
                if record.get(required) is None:
                    raise InvalidClaimError(f"Missing {required}.", f"{required}.{row}")
        columns: dict[str, Any] = {name: [r.get(name) for r in rows] for name in names}
        return cls.from_columns(**columns)

    def take_questions(self, questions: IntArray) -> ClaimTable:
        """The claims about ``questions`` (codes), re-coded 0..len(questions)−1.

        Source codes and ids are kept, so per-source arrays stay aligned.
        """
        new_code = np.full(self.n_questions, -1, dtype=np.int64)
        new_code[questions] = np.arange(questions.shape[0])
        rows = np.flatnonzero(new_code[self.question] >= 0)
        return ClaimTable(
            question=new_code[self.question[rows]], source=self.source[rows],
            kind=self.kind[rows], value=self.value[rows], low=self.low[rows],
            high=self.high[rows], sd=self.sd[rows], hedge=self.hedge[rows],
            origin=self.origin[rows], resolution=self.resolution[rows],
            question_ids=tuple(self.question_ids[k] for k in questions.tolist()),
            source_ids=self.source_ids,
        )

    def question_counts(self) -> IntArray:
        """Number of claims per question, (Q,)."""
        return np.bincount(self.question, minlength=self.n_questions).astype(np.int64)

    def source_counts(self) -> IntArray:
        """Number of claims per source, (S,)."""
        return np.bincount(self.source, minlength=self.n_sources).astype(np.int64)


def infer_resolution(x: FloatArray) -> FloatArray:
    """Rounding step implied by each figure's digits.

    An integer figure's step is the largest power of ten dividing it (596,638 → 1,
    12,000 → 1,000); a fractional figure's step is 10^−d for its d decimals (3.25 → 0.01).
    Figures with more than 15 significant digits get 10^(e − 15), with e their decimal
    exponent (a full-precision float is taken at its word).

    Parameters
    ----------
    x : (n,) float
        Finite figures.

    Returns
    -------
    (n,) float
        Positive steps in the figures' units.
    """
    ax = np.abs(np.asarray(x, dtype=np.float64))
    positive = ax > 0
    with np.errstate(divide="ignore"):
        exponent = np.floor(np.log10(np.where(positive, ax, 1.0)))
    # The figure as an integer of 15 significant digits, m = x·10^(14−e); the step is
    # 10^(e−14+z) for the number z of trailing decimal zeros of m. Divisibility by 10^z is
    # monotone in z, so a vectorised binary search over z ∈ [0, 15] needs four passes.
    # 10^(14−e) in two factors: one power would overflow for figures below ~1e-294.
    half = np.floor(0.5 * (14.0 - exponent))
    m = np.rint(ax * 10.0 ** half * 10.0 ** (14.0 - exponent - half)).astype(np.int64)
    pow10 = 10 ** np.arange(17, dtype=np.int64)
    lo = np.zeros(ax.shape, dtype=np.int64)  # m is divisible by 10^lo
    hi = np.full(ax.shape, 16, dtype=np.int64)  # … and not by 10^hi
    for _ in range(5):
        mid = (lo + hi) // 2
        divisible = m % pow10[mid] == 0
        lo = np.where(divisible, mid, lo)
        hi = np.where(divisible, hi, mid)
    out = 10.0 ** (exponent - 14.0 + lo)
    # A subnormal figure's step can round to 0: keep it positive (the narrowest window then
    # applies, models.batch.common.MIN_WINDOW).
    out = np.maximum(out, np.finfo(np.float64).smallest_subnormal)
    return np.asarray(np.where(positive, out, 1.0), dtype=np.float64)
