"""When each claim was made and what it speaks of: the nodes of the filter over time.

Symbols
-------
t_1 < … < t_T : the distinct days of the claims (and of the requested date), in days.
θ_t           : the quantity's level on day t_j, on the working scale.
θ_∞           : the eventual total (the "final figure"), a node after the last day.

Days
----
A claim's date is a ``datetime.date`` (its proleptic ordinal day, :meth:`date.toordinal`), a
``datetime.datetime`` (the ordinal day plus the fraction of the day elapsed, in UTC when it
carries a time zone, so figures given over one day -- crowd counts, vote counts -- keep their
order), or a plain number of days on any origin. Dates and plain numbers cannot be mixed in one
question: their origins are unrelated.

A claim with no date is taken as made on the latest date of the dated claims: an undated figure
in a report is read as current when the report is written, and the latest date is the most
recent information available. When no claim has a date, every claim is on the requested day
(day 0 when none is requested) and the filter has one level node: the static model with its
prior.

Horizons
--------
``level`` (the default) speaks of θ on the claim's own day ("1,500 are in Russia"); ``total``
speaks of θ_∞ ("up to 10,000 could join", "will send", "the final figure could be closer to
12,000"). The date of a ``total`` claim still adds a (level) node: it is a day on which the
level is reported, even though the claim itself enters only θ_∞.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Final, Literal, get_args

import numpy as np

from models.errors import InvalidClaimError, InvalidParameterError
from models.likelihood import FloatArray, IntArray

Horizon = Literal["level", "total"]
HORIZONS: Final[tuple[str, ...]] = get_args(Horizon)

#: A date as the core accepts it: a calendar date, a date and time, or a number of days.
DayLike = date | datetime | int | float

_SECONDS_PER_DAY: Final = 86_400.0


def day_number(when: DayLike, field: str = "as_of") -> float:
    """A date as a number of days (see the module docstring).

    Raises
    ------
    InvalidClaimError
        For anything but a date, a datetime or a finite number (booleans are refused).
    """
    if isinstance(when, datetime):
        moment = when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
        midnight = datetime(moment.year, moment.month, moment.day)
        return moment.toordinal() + (moment - midnight).total_seconds() / _SECONDS_PER_DAY
    if isinstance(when, date):
        return float(when.toordinal())
    if isinstance(when, int | float) and not isinstance(when, bool) and math.isfinite(when):
        return float(when)
    raise InvalidClaimError(
        f"Invalid date {when!r}; must be a date, a datetime or a finite number of days.", field
    )


@dataclass(frozen=True, slots=True)
class Timeline:
    """The nodes of the filter and which claims enter each.

    Attributes
    ----------
    days : (T,) float
        The level nodes' days, increasing (claim days and the requested day).
    calendar : bool
        Whether the days are calendar days (``date.fromordinal`` turns them back into dates).
    node : (n,) int
        The node each claim enters: 0..T−1 for a level claim, T for a total claim.
    has_total : bool
        Whether a node θ_∞ follows the last level node (some claim speaks of the total).
    at : int
        Index of the requested day's node.
    undated : (k,) int
        Claims that had no date and were put on the latest date.
    claim_day : (n,) float
        Each claim's day (an undated claim's is the latest date).
    """

    days: FloatArray
    calendar: bool
    node: IntArray
    has_total: bool
    at: int
    undated: IntArray
    claim_day: FloatArray

    @property
    def n_levels(self) -> int:
        """T, the number of level nodes."""
        return int(self.days.shape[0])

    @property
    def n_nodes(self) -> int:
        """T, plus one for the total node when present."""
        return self.n_levels + int(self.has_total)

    def when(self, j: int) -> date | None:
        """The calendar date of level node j (None for plain day numbers)."""
        return date.fromordinal(int(math.floor(self.days[j]))) if self.calendar else None


def build_timeline(
    as_of: Sequence[DayLike | None],
    horizons: Sequence[str] | None,
    at: DayLike | None = None,
) -> Timeline:
    """The nodes for claims made on ``as_of`` about ``horizons``, plus the requested day ``at``.

    Parameters
    ----------
    as_of : sequence of DayLike or None, length n
        Each claim's date (None: taken as the latest date; see the module docstring).
    horizons : sequence of {"level", "total"}, length n, or None
        What each claim speaks of; None means every claim speaks of the level.
    at : DayLike or None
        The day of the estimate (None: the latest claim date). A day between or beyond the
        claim days becomes a node of its own.

    Returns
    -------
    Timeline

    Raises
    ------
    InvalidClaimError
        A bad date or horizon, dates mixed with plain day numbers, or lengths that differ.
    InvalidParameterError
        A bad ``at``, or ``at`` of the other kind (date versus number) than the claims.
    """
    n = len(as_of)
    if n == 0:
        raise InvalidClaimError("At least one claim is required.", "claims")
    chosen = ["level"] * n if horizons is None else list(horizons)
    if len(chosen) != n:
        raise InvalidClaimError(
            f"Got {len(chosen)} horizons for {n} claims; give one per claim.", "horizons"
        )
    for i, h in enumerate(chosen):
        if h not in HORIZONS:
            raise InvalidClaimError(
                f"Invalid horizon {h!r}; must be one of {', '.join(HORIZONS)}.",
                f"claims.{i}.horizon",
            )
    dated = [i for i, w in enumerate(as_of) if w is not None]
    kinds = {isinstance(as_of[i], date) for i in dated}
    if len(kinds) > 1:
        raise InvalidClaimError(
            "Claims mix calendar dates with plain day numbers; give every date the same way.",
            "claims",
        )
    calendar = kinds == {True}
    raw = np.zeros(n)
    for i in dated:
        when = as_of[i]
        if when is not None:
            raw[i] = day_number(when, f"claims.{i}.as_of")
    at_day: float | None = None
    if at is not None:
        if dated and isinstance(at, date) != calendar:
            raise InvalidParameterError(
                f"Invalid date {at!r}; the claims give their dates "
                f"{'as calendar dates' if calendar else 'as day numbers'}, so must it.",
                "at",
            )
        try:
            at_day = day_number(at, "at")
        except InvalidClaimError as exc:
            raise InvalidParameterError(exc.message, "at") from exc
        calendar = calendar or (not dated and isinstance(at, date))
    # With no dated claim, the claims are taken as made on the requested day (else day 0).
    latest = float(raw[dated].max()) if dated else (at_day if at_day is not None else 0.0)
    undated = np.array([i for i in range(n) if as_of[i] is None], dtype=np.int64)
    raw[undated] = latest
    if at_day is None:
        at_day = latest
    days = np.unique(np.r_[raw, at_day])
    index = np.searchsorted(days, raw)
    total = np.array([h == "total" for h in chosen])
    node = np.where(total, days.shape[0], index).astype(np.int64)
    return Timeline(
        days=days.astype(np.float64), calendar=calendar, node=node,
        has_total=bool(total.any()), at=int(np.searchsorted(days, at_day)), undated=undated,
        claim_day=raw,
    )
