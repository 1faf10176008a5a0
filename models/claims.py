"""Claims and sources: the plain inputs of the statistical core.

A *claim* is one figure a source gave for the quantity in question:

* ``point``     -- "1,500 soldiers are there" (``value``; optional ``sd``, or ``ci_low`` and
  ``ci_high``);
* ``at_least``  -- "at least 1,500" (``value`` is the lower bound);
* ``at_most``   -- "up to 10,000" (``value`` is the upper bound);
* ``range``     -- "between 10,000 and 12,000" (``low``, ``high``).

A *hedge* says how loosely the figure was stated; it multiplies the source's spread and, for the
speculative hedges, raises the chance that the claim is simply wrong (see ``HEDGES``).

Claims that share an ``origin`` are one piece of evidence however many outlets repeat them. A
claim without an ``origin`` belongs to its source's own evidence unit for its side: two figures
from the same source on the same question are not independent confirmations of each other, but
one source's "at least 1,000", "at most 2,000" and "1,500" are complementary statements, each
counted (tempering them as echoes gave a 90 % range of 9 to 220,000 for an A-graded source).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal, cast, get_args

from models.errors import InvalidClaimError, InvalidSourceError

ClaimKind = Literal["point", "at_least", "at_most", "range"]
CLAIM_KINDS: Final[tuple[str, ...]] = get_args(ClaimKind)

Hedge = Literal["exact", "none", "about", "could_be", "rumour"]
HEDGE_NAMES: Final[tuple[str, ...]] = get_args(Hedge)

#: What a claim speaks of in time: ``level``, the quantity on the claim's date ("1,500 are
#: already in Russia"); ``total``, its eventual or planned total ("up to 10,000 could join",
#: "the final figure could be closer to 12,000"). Static questions ignore it.
Horizon = Literal["level", "total"]
HORIZONS: Final[tuple[str, ...]] = get_args(Horizon)

#: How a question's quantity moves in time: ``static`` (one fixed quantity; dates ignored),
#: ``cumulative`` (never decreases: deaths, troops sent), ``drifting`` (a random walk on the
#: working scale). See :mod:`models.dynamics`.
DynamicsName = Literal["static", "cumulative", "drifting"]
DYNAMICS_NAMES: Final[tuple[str, ...]] = get_args(DynamicsName)

SourceType = Literal[
    "intelligence_agency",
    "government",
    "head_of_state",
    "military",
    "wire_service",
    "media_outlet",
    "anonymous",
    "expert",
    "other",
]
SOURCE_TYPES: Final[tuple[str, ...]] = get_args(SourceType)

Scale = Literal["log", "linear"]

#: The numbers a claim can state, in the order problems with them are reported.
CLAIM_NUMBERS: Final[tuple[str, ...]] = ("value", "low", "high", "sd", "ci_low", "ci_high")
#: The one declaration of which numbers each kind of claim carries: the sets it may state (each
#: set whole). The HTTP contract's checks and documentation derive from it.
KIND_NUMBERS: Final[dict[str, tuple[tuple[str, ...], ...]]] = {
    "point": (("value",), ("value", "sd"), ("value", "ci_low", "ci_high")),
    "at_least": (("value",),),
    "at_most": (("value",),),
    "range": (("low", "high"),),
}


def describe_kinds() -> str:
    """One sentence per kind saying which numbers it takes (for documentation)."""
    parts = []
    for kind, variants in KIND_NUMBERS.items():
        first, *rest = variants
        text = f"{kind}: {' and '.join(first)}"
        extra = [" and ".join(v[len(first):]) for v in rest]
        if extra:
            text += " (optionally " + ", or ".join(extra) + ")"
        parts.append(text)
    return "; ".join(parts) + "."


def shape_errors(kind: str, numbers: Mapping[str, float | None]) -> dict[str, list[str]]:
    """Field → messages for stated numbers that do not fit ``kind`` (see :data:`KIND_NUMBERS`).

    Parameters
    ----------
    kind : str
        One of :data:`CLAIM_KINDS`.
    numbers : mapping
        The claim's numbers by name; absent or None means not stated.

    Returns
    -------
    dict
        Empty when the numbers fit; else each offending field with its messages, in the order
        of :data:`CLAIM_NUMBERS` (a missing number, a number the kind does not take, low above
        high, an interval that is empty or leaves out the value).
    """
    errors: dict[str, list[str]] = {}
    given = {name for name in CLAIM_NUMBERS if numbers.get(name) is not None}
    if given in _VARIANT_SETS[kind]:
        # Exactly one of the kind's sets: nothing is missing or extra (every set holds the
        # first), so only the numbers' order is left to check.
        return _order_errors(given, numbers, errors)
    variants = KIND_NUMBERS[kind]
    allowed = {name for variant in variants for name in variant}
    needed = set(variants[0])
    takes = " and ".join(variants[0])

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in CLAIM_NUMBERS:
        if name in needed and name not in given:
            add(name, f"Missing {name}; a {kind} claim needs {takes}.")
        elif name in given and name not in allowed:
            if name in ("sd", "ci_low", "ci_high") and kind != "range":
                add(name, f"Only point claims carry their own uncertainty; {kind} got {name}.")
            else:
                add(name, f"A {kind} claim takes {takes}, not {name}.")
    if errors:
        return errors
    if not any(set(variant) == given for variant in variants):
        has_ci = {"ci_low", "ci_high"} & given
        if "sd" in given and has_ci:
            add("sd", "Give either sd or ci_low/ci_high, not both.")
        elif len(has_ci) == 1:
            missing = ({"ci_low", "ci_high"} - has_ci).pop()
            add(missing, "ci_low and ci_high must be given together.")
        return errors
    return _order_errors(given, numbers, errors)


#: Each kind's number sets (:data:`KIND_NUMBERS`) as sets, for :func:`shape_errors`.
_VARIANT_SETS: Final[dict[str, tuple[set[str], ...]]] = {
    kind: tuple(set(variant) for variant in variants) for kind, variants in KIND_NUMBERS.items()
}


def _order_errors(given: set[str], numbers: Mapping[str, float | None],
                  errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """:func:`shape_errors`' checks of a well-formed claim: low ≤ high, ci_low < ci_high."""

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if given == {"low", "high"} and _number(numbers, "low") > _number(numbers, "high"):
        add("low", f"Invalid range: low {numbers['low']!r} is above high {numbers['high']!r}.")
    if {"ci_low", "ci_high"} <= given:
        lo, hi = _number(numbers, "ci_low"), _number(numbers, "ci_high")
        if not lo < hi:
            add("ci_low", f"Invalid confidence interval: ci_low {lo!r} must be below ci_high "
                f"{hi!r}.")
        elif not lo <= _number(numbers, "value") <= hi:
            add("value", f"The value {numbers['value']!r} lies outside its own interval "
                f"[{lo!r}, {hi!r}].")
    return errors


def _number(numbers: Mapping[str, float | None], name: str) -> float:
    return float(cast(float, numbers[name]))


@dataclass(frozen=True, slots=True)
class HedgeEffect:
    """How a hedge changes a claim's likelihood.

    Attributes
    ----------
    spread_factor : float
        Multiplies the source's spread σ_s for this claim.
    wrong_factor : float
        Multiplies the odds (1 − c)/c that the claim is wrong.
    description : str
        The wording the hedge stands for, for documentation and explanations.
    """

    spread_factor: float
    wrong_factor: float
    description: str


#: The hedge vocabulary. ``exact`` halves the spread ("exactly 1,500", an official count);
#: ``none`` is a plain statement; ``about`` ("about", "around", "roughly", "some") widens it by
#: half; ``could_be`` ("could be closer to 12,000", "may reach") is speculative: twice the spread
#: and twice the odds of being wrong; ``rumour`` ("reportedly", unconfirmed chatter) is wider
#: still, with triple odds.
HEDGES: Final[dict[str, HedgeEffect]] = {
    "exact": HedgeEffect(0.5, 1.0, "stated as an exact figure"),
    "none": HedgeEffect(1.0, 1.0, "stated plainly"),
    "about": HedgeEffect(1.5, 1.0, "stated as an approximate figure"),
    "could_be": HedgeEffect(2.0, 2.0, "stated as a possibility"),
    "rumour": HedgeEffect(2.5, 3.0, "reported as unconfirmed"),
}


#: The side of the quantity a claim speaks to, for its evidence unit: a figure (a point or a
#: stated range), a lower bound or an upper bound.
SIDES: Final[dict[str, str]] = {
    "point": "figure", "range": "figure", "at_least": "lower", "at_most": "upper",
}


@dataclass(frozen=True, slots=True)
class Claim:
    """One numeric claim about the quantity in question.

    Parameters
    ----------
    source : str
        Id of the source that made the claim.
    kind : {"point", "at_least", "at_most", "range"}
        What the figure asserts.
    value : float or None
        The figure (point) or the bound (``at_least``/``at_most``).
    low, high : float or None
        The ends of a ``range`` claim.
    sd : float or None
        The claim's own standard deviation (point claims only), in the quantity's units.
    ci_low, ci_high : float or None
        The claim's own confidence interval (point claims only); ``ci_level`` gives its level.
    ci_level : float
        Level of ``ci_low``/``ci_high``, in (0, 1).
    hedge : str
        One of ``HEDGES``.
    origin : str or None
        Shared provenance: claims with the same origin are one piece of evidence.
    as_of : datetime.date or None
        When the figure held according to the source (the claim's date). Used by questions
        whose quantity moves (``cumulative`` or ``drifting``); a static question ignores it.
    horizon : {"level", "total"}
        What the figure speaks of in time (``HORIZONS``): the level on ``as_of``, or the
        eventual total. Static questions ignore it.
    """

    source: str
    kind: ClaimKind
    value: float | None = None
    low: float | None = None
    high: float | None = None
    sd: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    ci_level: float = 0.95
    hedge: Hedge = "none"
    origin: str | None = None
    as_of: date | None = None
    horizon: Horizon = "level"

    @property
    def evidence_unit(self) -> str:
        """Key of the piece of evidence this claim belongs to: its origin; else its source and
        side (:data:`SIDES`). Two figures from one source are one piece of evidence, but its
        lower bound, upper bound and figure are complementary statements and each counts."""
        if self.origin is not None:
            return f"origin:{self.origin}"
        return f"source:{self.source}:{SIDES[self.kind]}"

    def numbers(self) -> tuple[float, ...]:
        """Every figure the claim states, for scale checks."""
        values = (self.value, self.low, self.high, self.ci_low, self.ci_high)
        return tuple(v for v in values if v is not None)


@dataclass(frozen=True, slots=True)
class Source:
    """A source of claims.

    Parameters
    ----------
    id : str
        Stable identifier, unique within a request.
    name : str or None
        Display name used in explanations (falls back to ``id``).
    type : str
        One of ``SOURCE_TYPES``.
    reliability : str, float or None
        Admiralty/NATO grade ``"A"``–``"F"`` or a credibility in (0, 1). ``None`` and ``"F"``
        both mean "cannot be judged" (see :mod:`models.credibility`).
    """

    id: str
    name: str | None = None
    type: SourceType = "other"
    reliability: str | float | None = None

    @property
    def label(self) -> str:
        """The name to print for this source."""
        return self.name or self.id


def _is_finite_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def validate_claim(claim: Claim, index: int) -> None:
    """Check that ``claim`` carries exactly what its kind needs.

    Parameters
    ----------
    claim : Claim
        The claim to check.
    index : int
        Its position in the request, used in field paths (``claims.3.low``).

    Raises
    ------
    InvalidClaimError
        With ``field`` naming the offending attribute.
    """
    path = f"claims.{index}"
    if claim.kind not in CLAIM_KINDS:
        raise InvalidClaimError(
            f"Invalid kind {claim.kind!r}; must be one of {', '.join(CLAIM_KINDS)}.",
            field=f"{path}.kind",
        )
    if claim.hedge not in HEDGES:
        raise InvalidClaimError(
            f"Invalid hedge {claim.hedge!r}; must be one of {', '.join(HEDGES)}.",
            field=f"{path}.hedge",
        )
    if claim.horizon not in HORIZONS:
        raise InvalidClaimError(
            f"Invalid horizon {claim.horizon!r}; must be one of {', '.join(HORIZONS)}.",
            field=f"{path}.horizon",
        )
    numbers = {name: getattr(claim, name) for name in CLAIM_NUMBERS}
    for name, x in numbers.items():
        if x is not None and not _is_finite_number(x):
            raise InvalidClaimError(f"Invalid {name} {x!r}; must be a finite number.",
                                    field=f"{path}.{name}")
    errors = shape_errors(claim.kind, numbers)
    if errors:
        name, messages = next(iter(errors.items()))
        raise InvalidClaimError(messages[0], field=f"{path}.{name}")
    if claim.sd is not None and claim.sd <= 0:
        raise InvalidClaimError(f"Invalid sd {claim.sd!r}; must be positive.", field=f"{path}.sd")
    if claim.ci_low is not None:
        if not (_is_finite_number(claim.ci_level) and 0.0 < claim.ci_level < 1.0):
            raise InvalidClaimError(
                f"Invalid ci_level {claim.ci_level!r}; must lie in (0, 1).",
                field=f"{path}.ci_level",
            )


def validate_sources(sources: tuple[Source, ...]) -> dict[str, Source]:
    """Index sources by id, refusing duplicates and empty ids.

    Raises
    ------
    InvalidSourceError
        On a duplicate or empty id.
    """
    by_id: dict[str, Source] = {}
    for i, source in enumerate(sources):
        if not source.id:
            raise InvalidSourceError("A source id must not be empty.", field=f"sources.{i}.id")
        if source.id in by_id:
            raise InvalidSourceError(
                f"Duplicate source id {source.id!r}.", field=f"sources.{i}.id"
            )
        if source.type not in SOURCE_TYPES:
            raise InvalidSourceError(
                f"Invalid type {source.type!r}; must be one of {', '.join(SOURCE_TYPES)}.",
                field=f"sources.{i}.type",
            )
        by_id[source.id] = source
    return by_id


def validate_scale(claims: tuple[Claim, ...], scale: str) -> Scale:
    """Resolve ``scale`` ("auto", "log" or "linear") against the claims' values.

    ``auto`` picks the log scale when every stated number is positive (counts span orders of
    magnitude and errors are multiplicative), else linear.

    Raises
    ------
    InvalidClaimError
        When ``scale == "log"`` and a claim states a non-positive number.
    """
    if scale not in ("auto", "log", "linear"):
        raise InvalidClaimError(
            f"Invalid scale {scale!r}; must be one of auto, log, linear.", field="scale"
        )
    if scale == "linear":
        return "linear"
    for i, claim in enumerate(claims):
        for name in ("value", "low", "high", "ci_low", "ci_high"):
            x = getattr(claim, name)
            if x is not None and x <= 0:
                if scale == "log":
                    raise InvalidClaimError(
                        f"Invalid {name} {x!r} on the log scale; values must be positive "
                        "(use scale 'linear' for quantities that can be zero or negative).",
                        field=f"claims.{i}.{name}",
                    )
                return "linear"
    return "log"


def pooling_scale(
    claims: Sequence[Claim], requested: str, resolved: Scale, whole_numbers: bool | None = None
) -> Scale:
    """The scale of a pooling fit (``random_effects``, ``fixed_effect``) under ``auto``.

    Pooled estimates with standard errors are usually effect sizes, proportions or means
    (0.42 ± 0.1), which meta-analysis pools as given (metafor's convention; a ratio measure is
    given as its log already): ``auto`` keeps them linear. Only counts and amounts, stated in
    whole units (1,500 soldiers, 2,300,000 dollars), go to the log scale as with the robust
    model. ``whole_numbers`` says whether the quantity is a count; by default, whether every
    figure is a whole number. An explicit ``log`` or ``linear`` is kept.
    """
    if requested != "auto" or resolved == "linear":
        return resolved
    if whole_numbers is None:
        whole_numbers = all(float(x).is_integer() for c in claims
                            for x in (c.value, c.low, c.high) if x is not None)
    return "log" if whole_numbers else "linear"
