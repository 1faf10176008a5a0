"""What every finding of one answer reads: the result, the claims in content order, the figures.

:class:`Context` is built once per answer by :func:`models.summary.derive_findings` and passed to
each finding's builder; :func:`ends_beyond_claims` is the rule for a range's ends that no claim
sets (:data:`models.findings.OPEN_END_FACTOR`), which the words, the API and the plots share.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from models import findings
from models.claims import Claim, Source
from models.encode import precision_units, working_scale
from models.findings import Figure
from models.result import ClaimAssessment, ReconcileResult
from models.wording import Quotes, computed_exponent, format_computed, percent

__all__ = ["Context", "beyond_rule", "ends_beyond_claims", "is_whole"]


def is_whole(claims: Sequence[Claim]) -> bool:
    """True when every claimed figure is a whole number: the quantity is a count."""
    return all(float(x).is_integer() for c in claims for x in (c.value, c.low, c.high)
               if x is not None)


@dataclass(frozen=True, slots=True)
class Context:
    result: ReconcileResult
    claims: Sequence[Claim]
    sources: dict[str, Source]
    whole: bool
    #: Each claim's assessment by its index, built once: a finding per discounted claim looks
    #: it up, and rebuilding it each time made thousands of outliers cost O(n²).
    by: dict[int, ClaimAssessment] = field(init=False)
    #: The claims of each evidence unit in content order, built on first use (several
    #: findings read them; sorting 10,000 claims once per finding cost a tenth of a second).
    units: dict[str, tuple[int, ...]] | None = field(init=False, default=None)
    #: Each claim's content key (:meth:`key`), built once: the findings sort by it about
    #: thirty times per answer.
    keys: list[tuple[str, str, float, float, str, str]] = field(init=False)
    #: The answer's quoted figures' texts, shared with its explanation (:class:`Quotes`).
    quote: Quotes = field(default_factory=Quotes)
    #: The rule for range ends no claim sets (:func:`beyond_rule`), built on first use.
    beyond: Callable[[float | None, float | None], tuple[str, ...]] | None = field(
        init=False, default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by", {a.index: a for a in self.result.claims})
        object.__setattr__(self, "keys", [self._key(c) for c in self.claims])

    @property
    def n(self) -> int:
        return len(self.claims)

    def key(self, i: int) -> tuple[str, str, float, float, str, str]:
        return self.keys[i]

    def _key(self, c: Claim) -> tuple[str, str, float, float, str, str]:
        first = c.value if c.value is not None else (c.low if c.low is not None else 0.0)
        return (self.sources[c.source].label, c.kind, float(first),
                float(c.high if c.high is not None else 0.0), c.hedge, c.origin or "")

    def rank(self, i: int) -> int:
        """Position of claim i in content order (ties broken the same whatever the order)."""
        return sorted(range(self.n), key=self.key).index(i)

    def ordered(self, indices: Iterable[int]) -> tuple[int, ...]:
        return tuple(sorted(indices, key=self.key))

    def unit_members(self) -> dict[str, tuple[int, ...]]:
        """Claims by evidence unit, each unit in content order (read-only: shared)."""
        units = self.units
        if units is None:
            members: dict[str, list[int]] = {}
            for i, c in enumerate(self.claims):
                members.setdefault(c.evidence_unit, []).append(i)
            units = {u: self.ordered(m) for u, m in members.items()}
            object.__setattr__(self, "units", units)
        return units

    # -- figures ---------------------------------------------------------------------------

    def widest(self) -> tuple[int, float, float | None, float | None]:
        intervals = self.result.estimate.intervals
        k = max(range(len(intervals)), key=lambda j: intervals[j].level)
        iv = intervals[k]
        return k, iv.level, iv.low, iv.high

    def computed(self, name: str, x: float, path: str | None) -> Figure:
        _, _, low, high = self.widest()
        # An open range states no width: the figure keeps two significant figures of its own.
        if low is None or high is None:
            low = high = 0.0
        exponent = computed_exponent(low, high, x, whole=self.whole)
        return Figure(name, float(x), format_computed(x, exponent), path, exponent=exponent)

    def quoted(self, i: int) -> tuple[Figure, ...]:
        c = self.claims[i]
        names = ("low", "high") if c.kind == "range" else ("value",)
        out = []
        for name in names:
            x = getattr(c, name)
            out.append(Figure(f"claims.{i}.{name}", float(x), self.quote(x),
                              f"claims.{i}.{name}", quoted=True))
        return tuple(out)

    def anchored_without(self, leave: Iterable[int]) -> bool:
        """Whether a figure (a point or a stated range) remains without the claims ``leave``:
        else the estimate without them rests on bounds alone, is set by the prior, and is not
        printed (the answer without them would be a bound, not a figure)."""
        gone = set(leave)
        return any(c.kind in ("point", "range") for i, c in enumerate(self.claims)
                   if i not in gone)

    def share(self, name: str, x: float, path: str | None) -> Figure:
        return Figure(name, float(x), percent(x), path)

    def open_ends(self, low: float | None, high: float | None) -> tuple[bool, bool]:
        """Whether each end of a range is set by no claim (:func:`ends_beyond_claims`)."""
        rule = self.beyond
        if rule is None:
            rule = beyond_rule(self.claims, self.result.scale, self.result.precision)
            object.__setattr__(self, "beyond", rule)
        ends = rule(low, high)
        return "low" in ends, "high" in ends


def ends_beyond_claims(claims: Sequence[Claim], scale: str, low: float | None,
                       high: float | None, precision: float | None = None) -> tuple[str, ...]:
    """The ends of a range (``"low"``, ``"high"``) that no claim sets: :func:`beyond_rule`
    applied once."""
    return beyond_rule(claims, scale, precision)(low, high)


def beyond_rule(claims: Sequence[Claim], scale: str, precision: float | None = None
                ) -> Callable[[float | None, float | None], tuple[str, ...]]:
    """The rule for a range's ends that no claim sets, with what it reads of the claims
    computed once (an answer judges every interval of its estimate and of its course by it).

    An end is judged by :func:`models.findings.open_ends` (:data:`models.findings.OPEN_END_FACTOR`)
    against every claim's stated figures -- those judged wrong too: an end within a million-fold
    of a figure some claim states is printed. On the linear scale a point's figure ± its sd
    counts as stated too, and distances are measured in the larger of the figures' span and the
    coarsest precision P_i the model reads a claim at (:func:`models.encode.precision_units`:
    its own sd, else the request's ``precision``, else the figures' typical magnitude): two
    claims of 1,000 and 1,000.0001 with no sd are read at a precision of 1,000, not 0.0001."""
    stated = [float(x) for c in claims for x in c.numbers()]
    unit = 0.0
    if scale == "linear":
        stated += [float(c.value) + sign * float(c.sd) for c in claims
                   if c.value is not None and c.sd is not None for sign in (-1.0, 1.0)]
        if claims:
            ws = working_scale(claims, "linear")
            unit = float(precision_units(claims, ws, precision)[0].max()) * ws.unit

    def ends(low: float | None, high: float | None) -> tuple[str, ...]:
        open_low, open_high = findings.open_ends(scale, stated, low, high, unit)
        return ("low",) * open_low + ("high",) * open_high

    return ends
