"""Findings: typed facts about one reconciliation, from which every printed word is rendered.

A finding states one thing a careful editor would check -- what the estimate rests on, which
claim was discounted and how far it would move the answer, which claims echo one origin, whether
the evidence splits into groups, which bounds bind, what the heterogeneity test says -- with the
claim indices it cites and every number it would print as a :class:`Figure`: the value, the text
as printed and, where there is one, the response field it equals. The derivation is in
:mod:`models.summary` (the headline in :mod:`models.summary_head`); the sentences are rendered
from findings alone by :mod:`models.explain`.

Thresholds are declared here, once, each with its reason.

Share
-----
A claim's *share* says how much the estimate rests on it, measured by what happens without it.
For each evidence unit u (the claims that share an origin, else a source's own claims), let
m be the estimate and m₋ᵤ the estimate with every claim of u left out, and

    d_u = |g(m₋ᵤ) − g(m)|,   g = log on the log scale, the identity on the linear scale,

the distance the estimate moves without u. The unit's share is d_u / Σ_v d_v; a claim's share
is its unit's share divided by the unit's k_u claims, so echoes split one share and the shares
of all claims sum to 1. Two guards make the share agree with the leave-one-out numbers:

* a unit whose removal moves the estimate by more than :data:`PIVOTAL_SHIFT` (15 %) gets at
  least :data:`PIVOTAL_SHARE` (5 %), and so does a single claim whose own removal does (one of
  a source's two different figures, say), the others scaled down to keep the sum at 1;
* with one unit only (a single claim, or all claims echoing one origin) that unit has share 1;
  shifts under :data:`SHIFT_RESOLUTION` count as none, and when no unit moves the estimate
  at all (identical figures) the units share equally.

Worked example (``fixtures/echo_one_origin.json``): a ministry says 1,000; three outlets repeat
one agency report of 3,000. The estimate is √(1,000 · 3,000) = 1,732. Without the ministry it
moves to about 3,000, |log(3,000/1,732)| = 0.55; without the agency report (all three echoes)
to about 1,000, |log(1,000/1,732)| = 0.55. So the ministry's share is 50 %, the agency report's
50 %, and each outlet shows 17 % (the echo group's total, 50 %, is reported by an
:class:`EchoGroup`).

The older ``weight`` of a claim is kept under its name: it is the *sensitivity* of the posterior
median to the claim's figure (how far the estimate moves per unit shift of the figure,
normalised to sum to 1), not how much the claim counted. A slack bound and a discounted figure
both have sensitivity 0, yet leaving the discounted one out can move the estimate a lot; the
share shows that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final, Literal

import numpy as np

__all__ = [
    "HETEROGENEITY_LEVEL",
    "NEGLIGIBLE_SHIFT",
    "OPEN_END_FACTOR",
    "PIVOTAL_SHARE",
    "PIVOTAL_SHIFT",
    "RESTS_ON_SHARE",
    "SHIFT_RESOLUTION",
    "TROUGH_DENSITY",
    "Agreement",
    "BindingBound",
    "BoundsOnly",
    "CentralFigure",
    "Conflict",
    "Discounted",
    "EchoGroup",
    "Figure",
    "Finding",
    "HeterogeneityTest",
    "OneSidedBound",
    "RestsOn",
    "Side",
    "SlackBounds",
    "Split",
    "TimeCourse",
    "Summary",
    "SummaryKind",
    "ViolatedBound",
    "claim_shares",
    "open_ends",
]

# -- Thresholds, declared once --------------------------------------------------------------

#: A move of the estimate smaller than this (relative) is "barely": 5 % is below the rounding
#: of a two-significant-figure estimate's last digit for most figures, so a reader could not
#: see it in print.
NEGLIGIBLE_SHIFT: Final = 0.05
#: A claim whose removal moves the estimate by more than this (relative) is one the answer
#: hinges on: 15 % is a change a headline would report ("1,600" becoming "1,900").
PIVOTAL_SHIFT: Final = 0.15
#: The least share such a pivotal claim (its evidence unit) shows: 5 %, so that no claim the
#: answer hinges on is presented as having counted for nothing.
PIVOTAL_SHARE: Final = 0.05
#: Leave-out shifts below this (a log-ratio, or a fraction of the largest figure on the linear
#: scale) are the grid's numerical noise, not influence: the estimate itself is reproducible
#: to about 1e-9 (tests/tolerances.py), so one part in a million is safely above the noise.
SHIFT_RESOLUTION: Final = 1e-6
#: "Rests mainly on": the fewest claims (by evidence unit) whose shares reach one half.
RESTS_ON_SHARE: Final = 0.5
#: Level of Cochran's Q test of homogeneity. The test has little power with the handful of
#: claims a news story has, hence the customary 0.10 rather than 0.05 (Cochran 1954; Higgins &
#: Thompson 2002).
HETEROGENEITY_LEVEL: Final = 0.10

#: With two or more posterior modes, the evidence "splits" when the estimate sits where the
#: posterior density is under this fraction of its peak: a trough no group of claims supports,
#: so printing it as "the figure" would report a number nobody's evidence points to.
TROUGH_DENSITY: Final = 0.5

#: An end of a printed range is *open* -- printed as "from 0.92 up", not as a number -- when it
#: lies more than this factor beyond every finite figure the claims state (on the log scale), or
#: more than this many times the claims' own spread beyond them (on the linear scale); see
#: :func:`open_ends`. Why a million: no claim's stated figure or grade reaches that far. The
#: widest reach the model gives a claim's own figure, a lone E-grade point (30 % credible, Cauchy
#: when wrong), is a factor of 1,030 either way at 90 % (tests/models/test_lone_claim_prior.py),
#: and a 90 % range spans what the claims' figures span and their grades widen; a million is about
#: that reach squared, so an end so far out is set by the assumed tails of a claim that is wrong
#: (how far a wrong figure may be wrong, which no claim says), not by any claim. Its digits
#: are then the tails' arithmetic, not evidence: an end of 2.8 × 10²⁸ beside figures of 1 to 4.5
#: printed thirty of them, the 14th following the claims' order.
OPEN_END_FACTOR: Final = 1e6

SummaryKind = Literal["figure", "range", "bound", "split", "course"]
#: The side a bound holds the quantity from (the claim kinds ``at_least`` and ``at_most``).
Side = Literal["at_least", "at_most"]


@dataclass(frozen=True, slots=True)
class Figure:
    """One number a finding may print.

    Attributes
    ----------
    name : str
        What the number is (``estimate``, ``low``, ``share``, ``p_wrong``, ``value`` …).
    value : float
        The number itself.
    text : str
        The number as printed: exactly as claimed for a quoted figure, rounded by
        :func:`models.wording.computed_exponent` for a computed one, a percentage for shares
        and probabilities.
    path : str or None
        The response field holding ``value`` (``estimate.value``, ``claims.2.p_wrong``), or
        None when the number exists only in the finding (a group's total share).
    quoted : bool
        True when the number is a claimed figure quoted exactly.
    exponent : int or None
        For computed figures rounded to a power of ten: the power (the printed text is
        ``value`` rounded to a multiple of 10^exponent).
    """

    name: str
    value: float
    text: str
    path: str | None = None
    quoted: bool = False
    exponent: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """Common fields: the claims a finding cites, its numbers and its sentence."""

    kind: ClassVar[str] = "finding"
    claims: tuple[int, ...] = ()
    figures: tuple[Figure, ...] = ()
    text: str = ""

    def figure(self, name: str) -> Figure:
        """The figure called ``name``."""
        for fig in self.figures:
            if fig.name == name:
                return fig
        raise KeyError(name)


@dataclass(frozen=True, slots=True, kw_only=True)
class CentralFigure(Finding):
    """The estimate and its widest interval, when the evidence supports a single figure.

    ``open`` names the interval's ends (``low``, ``high``) that no claim sets
    (:func:`open_ends`): they are not among the figures, and the words say that no claim sets
    them instead of printing them.
    """

    kind: ClassVar[str] = "central_figure"
    open: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class OneSidedBound(Finding):
    """Every claim bounds the quantity from one side: the strongest bound is the answer."""

    kind: ClassVar[str] = "one_sided_bound"
    side: Side


@dataclass(frozen=True, slots=True, kw_only=True)
class BoundsOnly(Finding):
    """No claim gives a figure; bounds (or stated ranges) close the quantity from both sides."""

    kind: ClassVar[str] = "bounds_only"


@dataclass(frozen=True, slots=True, kw_only=True)
class Split(Finding):
    """The evidence falls into groups that cannot all be right; the estimate sits between."""

    kind: ClassVar[str] = "split"
    groups: tuple[tuple[int, ...], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RestsOn(Finding):
    """The units the answer rests on, largest share first: the first ``mainly`` of them are the
    fewest whose shares reach :data:`RESTS_ON_SHARE`; the rest carry less."""

    kind: ClassVar[str] = "rests_on"
    mainly: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Discounted(Finding):
    """A claim judged probably wrong, and where the estimate would be without it."""

    kind: ClassVar[str] = "discounted"
    negligible: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class EchoGroup(Finding):
    """Claims that repeat one origin: they count once, with the group's total share."""

    kind: ClassVar[str] = "echo_group"
    origin: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Conflict(Finding):
    """Pairs of claims that cannot both be right at their sources' stated reliability."""

    kind: ClassVar[str] = "conflict"
    pairs: tuple[tuple[int, int], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Agreement(Finding):
    """The claims (from at least two evidence units) can all be right at once."""

    kind: ClassVar[str] = "agreement"


@dataclass(frozen=True, slots=True, kw_only=True)
class HeterogeneityTest(Finding):
    """Cochran's Q test of the pooling methods, at :data:`HETEROGENEITY_LEVEL`."""

    kind: ClassVar[str] = "heterogeneity"
    test: str
    significant: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class BindingBound(Finding):
    """A bound that holds the estimate: without it the estimate moves by ≥ NEGLIGIBLE_SHIFT."""

    kind: ClassVar[str] = "binding_bound"
    side: Side


@dataclass(frozen=True, slots=True, kw_only=True)
class ViolatedBound(Finding):
    """A bound the estimate lies beyond (by more than SHIFT_RESOLUTION, the grid's noise)."""

    kind: ClassVar[str] = "violated_bound"
    side: Side


@dataclass(frozen=True, slots=True, kw_only=True)
class SlackBounds(Finding):
    """Bounds the estimate satisfies and that barely move it."""

    kind: ClassVar[str] = "slack_bounds"


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeCourse(Finding):
    """A moving quantity: its level on the estimate's date (and, with several dates, where it
    stood on the first), and what the claims say of its eventual total.

    Figures: ``estimate``, ``low``, ``high``, ``level`` and ``date`` (the level on
    ``time.at``); ``first`` and ``first_date`` when the trajectory starts on an earlier date;
    ``total.min`` and ``total.max`` (the claimed totals kept, quoted) with ``total_low`` and
    ``total_high`` (the total's range) when a claim speaks of the total. Cites the claims about
    the level on that date and the totals. ``open`` names the ends of either range (``low``,
    ``high``, ``total_low``, ``total_high``) that no claim sets (:func:`open_ends`): they are
    not among the figures, and the words say that no claim sets them.
    """

    kind: ClassVar[str] = "time_course"
    dynamics: Literal["cumulative", "drifting"]
    has_level: bool
    #: The kept claims about the level are bounds only: ``level.lower`` / ``level.upper`` quote
    #: the tightest, and no central level is printed (it would be the prior's).
    level_bounds_only: bool = False
    open: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Summary:
    """The headline: what kind of answer the evidence supports and the words to print.

    Attributes
    ----------
    kind : {"figure", "range", "bound", "split", "course"}
        ``figure`` -- one estimate with its range; ``range`` -- bounds or stated ranges close
        the quantity from both sides and no claim gives a figure; ``bound`` -- every claim
        bounds it from one side; ``split`` -- the evidence falls into groups that cannot all
        be right, reported as the groups' figures, never as a figure between them; ``course``
        -- a moving quantity: its level on a date and the claimed eventual total.
    text : str
        The headline words ("about 1,600 soldiers (90% range 1,100 to 8,900)").
    figures : tuple of Figure
        The numbers in ``text``.
    """

    kind: SummaryKind
    text: str
    figures: tuple[Figure, ...] = ()


def claim_shares(
    scale: str,
    estimate: float,
    without_unit: Sequence[float | None],
    units: Sequence[str],
    without_claim: Sequence[float | None] | None = None,
) -> np.ndarray:
    """Each claim's share (see the module docstring), in claim order; they sum to 1.

    Parameters
    ----------
    scale : {"log", "linear"}
        The working scale: shifts are compared as log-ratios on the log scale.
    estimate : float
        The estimate m.
    without_unit : sequence of float or None, shape (n,)
        The estimate without each claim's whole evidence unit (None when that unit was the only
        evidence).
    units : sequence of str, shape (n,)
        Each claim's evidence unit key.
    without_claim : sequence of float or None, shape (n,), optional
        The estimate without each claim alone (the rest of its unit kept). A claim whose own
        removal moves the estimate by more than PIVOTAL_SHIFT gets at least PIVOTAL_SHARE too
        (a source's two different figures are one unit, yet one of them may be pivotal; an
        echo's own removal moves nothing, so echoes keep splitting their unit's share).

    Returns
    -------
    (n,) float
    """
    n = len(units)
    keys = sorted(set(units))
    index = {key: j for j, key in enumerate(keys)}
    # Per-claim work on Python lists: indexing numpy arrays one number at a time costs more.
    unit_of = [index[key] for key in units]
    u = np.array(unit_of, dtype=np.int64)
    size = np.bincount(u, minlength=len(keys)).astype(np.float64)
    shifts = [0.0] * len(keys)
    relatives = [0.0] * len(keys)
    known = [x for x in without_unit if x is not None and math.isfinite(x)]
    # Linear-scale distances are taken in units of the largest figure, so that differences of
    # figures near the float limit do not overflow.
    size_scale = max([abs(estimate), *map(abs, known)]) or 1.0
    for j, m_out in zip(unit_of, without_unit, strict=True):
        if m_out is None or not math.isfinite(m_out):
            continue
        distance = _distance(scale, estimate, m_out, size_scale)
        shifts[j] = distance if distance >= SHIFT_RESOLUTION else 0.0
        relatives[j] = _relative(estimate, m_out)
    shift = np.array(shifts)
    total = float(shift.sum())  # numpy's pairwise sum, as ever (not Python's running sum)
    if len(keys) == 1 or not (0 < total < math.inf):
        unit_share = np.full(len(keys), 1.0 / len(keys))
    else:
        unit_share = shift / total
    share = unit_share[u] / size[u]
    pivotal_claim = np.zeros(n, dtype=bool)
    if without_claim is not None:
        pivotal_claim = np.array([x is not None and math.isfinite(x)
                                  and _relative(estimate, x) > PIVOTAL_SHIFT
                                  for x in without_claim], dtype=bool)
    pivotal_unit = (np.array(relatives) > PIVOTAL_SHIFT if len(keys) > 1
                    else np.zeros(len(keys), bool))
    if not (pivotal_claim.any() or pivotal_unit.any()):
        return np.asarray(share / share.sum(), dtype=np.float64)  # no floor to raise
    return _with_floor(share, u, pivotal_claim, pivotal_unit)


def _distance(scale: str, a: float, b: float, size_scale: float) -> float:
    if scale == "log" and a > 0 and b > 0:
        return abs(math.log(b) - math.log(a))
    return abs(b / size_scale - a / size_scale)


def relative_shift(a: float, b: float) -> float:
    """|b − a| relative to |a| (inf when a is 0 and b is not)."""
    return _relative(a, b)


def _relative(a: float, b: float) -> float:
    if a == 0:
        return 0.0 if b == 0 else math.inf
    return abs(b / abs(a) - a / abs(a))


def _with_floor(share: np.ndarray, unit: np.ndarray, pivotal_claim: np.ndarray,
                pivotal_unit: np.ndarray) -> np.ndarray:
    """Claim shares (sum 1) raised so that every pivotal claim, and every pivotal unit's total,
    is at least PIVOTAL_SHARE.

    Water-filling: a claim or unit under its floor is raised to it (a unit's free members in
    proportion, or equally when they have none) and fixed; the free claims are scaled down
    together to keep the sum at 1; repeated until nothing is under its floor (at most 2n
    rounds). When the floors cannot all hold (more than 1/PIVOTAL_SHARE pivotal claims and
    units) the final normalisation lowers them alike.
    """
    n = share.shape[0]
    share = share.astype(np.float64).copy()
    fixed = np.zeros(n, dtype=bool)
    tolerance = 1e-12
    for _ in range(2 * n + 1):
        changed = False
        low = pivotal_claim & ~fixed & (share < PIVOTAL_SHARE - tolerance)
        if low.any():
            share[low] = PIVOTAL_SHARE
            fixed |= low
            changed = True
        for j in np.flatnonzero(pivotal_unit):
            members = unit == j
            need = PIVOTAL_SHARE - float(share[members].sum())
            free_members = members & ~fixed
            if need <= tolerance or not free_members.any():
                continue
            base = share[free_members]
            add = base / base.sum() * need if base.sum() > 0 else np.full(base.shape, need
                                                                          / base.shape[0])
            share[free_members] = base + add
            fixed |= free_members
            changed = True
        if not changed:
            break
        free = ~fixed
        room = 1.0 - float(share[fixed].sum())
        free_total = float(share[free].sum())
        if free_total > 0 and room > 0:
            share[free] *= room / free_total
        elif free.any():
            share[free] = 0.0
    return np.asarray(share / share.sum(), dtype=np.float64)


def open_ends(scale: str, figures: Sequence[float], low: float | None, high: float | None,
              unit: float = 0.0) -> tuple[bool, bool]:
    """Whether each end of a range is open: set by no claim (see :data:`OPEN_END_FACTOR`).

    With F the finite figures the claims state (points, range ends, bounds, stated confidence
    intervals' ends; on the linear scale also a point's figure ± its stated sd), an end is open

    * on the log scale when high > K · max F, or low < min F / K;
    * on the linear scale when high − max F > K · D, or min F − low > K · D, with D the larger
      of the figures' span max F − min F and ``unit``; never when D is 0 (nothing then
      measures a distance on a scale whose zero and unit are arbitrary);

    with K = :data:`OPEN_END_FACTOR`. Multiplying every figure by k > 0 (the log scale), or
    shifting every figure by any amount or multiplying by k > 0 (the linear scale), leaves the
    decision as it was: it depends on the claims' figures alone, never on their order.

    Parameters
    ----------
    scale : {"log", "linear"}
    figures : sequence of float
        F, the claims' stated figures (non-finite ones are skipped).
    low, high : float or None
        The range's ends; a missing end (None) is not open in this sense -- the evidence already
        sets no limit there and nothing is printed for it.
    unit : float
        Linear scale: the least unit of distance, in the quantity's units (the coarsest
        precision the model reads a claim at); a figures' span below it does not count.

    Returns
    -------
    (bool, bool)
        (low is open, high is open).
    """
    if scale == "log":
        stated = [x for x in figures if math.isfinite(x) and x > 0]
        if not stated:
            return False, False
        top, bottom = max(stated), min(stated)
        return (low is not None and low * OPEN_END_FACTOR < bottom,
                high is not None and high > top * OPEN_END_FACTOR)
    stated = [x for x in figures if math.isfinite(x)]
    if not stated:
        return False, False
    top, bottom = max(stated), min(stated)
    spread = max(top - bottom, unit)
    if not spread > 0:
        return False, False
    return (low is not None and bottom - low > OPEN_END_FACTOR * spread,
            high is not None and high - top > OPEN_END_FACTOR * spread)
