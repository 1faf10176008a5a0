"""marshmallow schemas: the one contract of ``POST /v1/reconcile``.

Request schemas load JSON into the core's frozen dataclasses (:class:`models.claims.Claim`,
:class:`models.claims.Source`) and a small :class:`ReconcileRequest`; response schemas dump
the plain dicts built by :mod:`service.http.mapping`. Every schema refuses unknown keys.

A claim's fields and kind rules are declared once, in :mod:`service.http.schemas.claim` (which
takes the kind rules from :data:`models.claims.KIND_NUMBERS`); the core re-checks them for
library callers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import marshmallow as ma
from marshmallow import validate

from models.claims import DYNAMICS_NAMES, SOURCE_TYPES, Claim, Source
from models.findings import (
    HETEROGENEITY_LEVEL,
    NEGLIGIBLE_SHIFT,
    PIVOTAL_SHARE,
    PIVOTAL_SHIFT,
    RESTS_ON_SHARE,
    TROUGH_DENSITY,
)
from models.request import DEFAULT_LEVELS, ReconcileRequest
from service.http.schemas.base import (
    MAX_LEVELS,
    ConfiguredMaxItems,
    StrictSchema,
    no_duplicates,
    optional_str,
)
from service.http.schemas.claim import ClaimFields
from service.http.schemas.fields import FiniteNumber, JsonBoolean, Reliability

__all__ = [
    "DEFAULT_LEVELS",
    "HealthSchema",
    "ReconcileRequest",
    "ReconcileRequestSchema",
    "ReconcileResponseSchema",
]

SCALES: Final[tuple[str, ...]] = ("auto", "log", "linear")
METHODS: Final[tuple[str, ...]] = ("auto", "robust", "random_effects", "fixed_effect")
TAU2_METHODS: Final[tuple[str, ...]] = ("DL", "PM", "REML")
CI_METHODS: Final[tuple[str, ...]] = ("z", "knha")

class SourceSchema(StrictSchema):
    """A source of claims."""

    id = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "Identifier, unique within the request; claims refer to it."},
    )
    name = optional_str(200, "Display name used in explanations (defaults to the id).")
    type = ma.fields.String(
        load_default="other",
        validate=validate.OneOf(SOURCE_TYPES),
        metadata={"description": "Kind of source."},
    )
    reliability = Reliability(
        load_default=None,
        allow_none=True,
        metadata={
            "description": (
                "Admiralty/NATO reliability grade A (completely reliable) to F (cannot be "
                "judged), upper case only; or a credibility strictly between 0 and 1 (the share "
                "of the source's figures expected to be right). null or omitted means the same "
                "as F."
            )
        },
    )

    @ma.post_load
    def make_source(self, data: dict[str, Any], **kwargs: Any) -> Source:
        return Source(**data)


class ClaimSchema(ClaimFields):
    """One numeric claim about the quantity."""

    @ma.post_load
    def make_claim(self, data: dict[str, Any], **kwargs: Any) -> Claim:
        data.pop("quote", None)
        data.pop("url", None)
        return Claim(**data)


def _dicts(original: Any, key: str) -> list[tuple[int, Mapping[str, Any]]]:
    """(index, item) for the object items of the raw list ``original[key]``, if it is one."""
    items = original.get(key) if isinstance(original, Mapping) else None
    if not isinstance(items, list):
        return []
    return [(i, item) for i, item in enumerate(items) if isinstance(item, Mapping)]


def _noun_phrase(text: str) -> None:
    if not text.strip():
        raise ma.ValidationError("A subject must not be blank.")
    if text.rstrip().endswith("?"):
        raise ma.ValidationError(
            "A subject is a noun phrase (\"the troops sent\"), not a question ending in \"?\"."
        )


class StyleSchema(StrictSchema):
    """How the summary and the explanation are worded; every option has a default."""

    subject = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=[validate.Length(min=1, max=200), _noun_phrase],
        metadata={"description": (
            "The noun phrase the text is about, e.g. \"North Korean soldiers in Russia\" (not "
            "blank, not a question ending in \"?\"). Without it the text speaks of \"the best "
            "estimate\" alone: the question is never used as the subject."
        )},
    )
    whole_numbers = JsonBoolean(
        load_default=None,
        allow_none=True,
        metadata={
            "description": (
                "Whether the quantity is a count, never printed with decimals. null (default): "
                "true when every claimed figure is a whole number."
            )
        },
    )


def _enum(choices: Sequence[str], default: str, description: str) -> ma.fields.String:
    return ma.fields.String(
        load_default=default,
        validate=validate.OneOf(choices),
        metadata={"description": description},
    )


class ReconcileRequestSchema(StrictSchema):
    """Body of ``POST /v1/reconcile``."""

    question = optional_str(500, "The question the claims answer (echoed, used in the text).")
    unit = optional_str(
        64,
        "Unit of the quantity, e.g. soldiers (echoed; in the text put in the right number, "
        "\"1 soldier\", \"1,600 soldiers\"; \"%\" is attached to the figure).",
    )
    style = ma.fields.Nested(
        StyleSchema,
        load_default=None,
        allow_none=True,
        metadata={"description": "Wording options of the summary and explanation: subject, "
                                 "whole_numbers. Omitted or null: the defaults."},
    )
    scale = _enum(
        SCALES,
        "auto",
        "Working scale: log for positive counts (errors are multiplicative), linear otherwise; "
        "auto picks log when every stated number is positive.",
    )
    levels = ma.fields.List(
        FiniteNumber(
            validate=validate.Range(
                min=0.0,
                max=1.0,
                min_inclusive=False,
                max_inclusive=False,
                error="Invalid level {input!r}; must lie strictly between 0 and 1.",
            )
        ),
        load_default=lambda: list(DEFAULT_LEVELS),
        validate=[
            validate.Length(min=1, max=MAX_LEVELS, error="Give between {min} and {max} levels."),
            no_duplicates,
        ],
        metadata={
            "description": "Probabilities of the central intervals, each in (0, 1).",
            "default": list(DEFAULT_LEVELS),  # apispec cannot show a callable load_default
        },
    )
    method = _enum(
        METHODS,
        "auto",
        "robust: mixture model tolerant of wrong claims; random_effects / fixed_effect: "
        "inverse-variance pooling; auto chooses.",
    )
    tau2_method = _enum(TAU2_METHODS, "REML", "Estimator of τ² for random_effects.")
    ci_method = _enum(CI_METHODS, "z", "Confidence intervals of pooling: z or Knapp-Hartung.")
    dynamics = _enum(
        DYNAMICS_NAMES,
        "static",
        "How the quantity moves in time. static: one fixed quantity, claims' dates ignored. "
        "cumulative: never decreases (deaths, troops sent); a later, lower figure is evidence "
        "of error, not of a fall. drifting: wanders up and down (a random walk on the working "
        "scale). The moving kinds read each claim's as_of and horizon and answer with a "
        "timeline.",
    )
    at = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": (
            "For a moving quantity: the date of the estimate (default: the latest claim date)."
        )},
    )
    drift = FiniteNumber(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0.0, min_inclusive=False, error="Must be positive."),
        metadata={"description": (
            "For a moving quantity: how fast it may move, as the standard deviation of its "
            "change over one day on the working scale (log units on the log scale: 0.05 is "
            "about 5 % a day). null (default): learned from the claims."
        )},
    )
    shared_error = FiniteNumber(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0.0, error="Must be 0 or more."),
        metadata={"description": (
            "The standard deviation of the error all the claims share (as all polls of one "
            "race miss together), added to the answer's uncertainty: in log units on the log "
            "scale (0.05 is about 5 %), in the quantity's units on the linear scale. null "
            "(default): 0. Static quantities only. The response's shared_error says which "
            "value was used and where it came from."
        )},
    )
    precision = FiniteNumber(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=0.0, min_inclusive=False, error="Must be positive."),
        metadata={"description": (
            "Linear scale: the standard deviation, in the quantity's units, of a claim that "
            "states no sd or interval of its own. Without it such a claim's spread is read "
            "relative to the figures' size, which means nothing when the zero is arbitrary "
            "(°C, a margin); the answer then warns (interval_scale) for such units. Ignored "
            "on the log scale."
        )},
    )
    sources = ma.fields.List(
        ma.fields.Nested(SourceSchema),
        required=True,
        validate=[
            validate.Length(min=1, error="At least one source is required."),
            ConfiguredMaxItems("MAX_SOURCES", "sources"),
        ],
        metadata={"description": "The sources, 1 to MAX_SOURCES of them, ids unique."},
    )
    claims = ma.fields.List(
        ma.fields.Nested(ClaimSchema),
        required=True,
        validate=[
            validate.Length(min=1, error="At least one claim is required."),
            ConfiguredMaxItems("MAX_CLAIMS", "claims"),
        ],
        metadata={"description": "The claims, 1 to MAX_CLAIMS of them, in any order."},
    )

    # Runs even when some fields failed, so a duplicate source id and a bad claim value are
    # reported together. It reads the raw input: after a field error the loaded lists lack the
    # bad items, and their positions would no longer match the request's.
    @ma.validates_schema(skip_on_field_errors=False, pass_original=True)
    def check_references(
        self, data: dict[str, Any], original: Any, **kwargs: Any
    ) -> None:
        """Source ids are unique and every claim names a known source."""
        raw_sources = _dicts(original, "sources")
        raw_claims = _dicts(original, "claims")
        errors: dict[str, dict[int, dict[str, list[str]]]] = {}
        ids: set[str] = set()
        for i, source in raw_sources:
            sid = source.get("id")
            if not isinstance(sid, str):
                continue
            if sid in ids:
                errors.setdefault("sources", {})[i] = {
                    "id": [f"Duplicate source id {sid!r}; ids must be unique."]
                }
            ids.add(sid)
        if raw_sources:
            for i, claim in raw_claims:
                ref = claim.get("source")
                if isinstance(ref, str) and ref and ref not in ids:
                    errors.setdefault("claims", {})[i] = {
                        "source": [f"Unknown source {ref!r}; no source has this id."]
                    }
        if errors:
            raise ma.ValidationError(errors)

    @ma.validates_schema(skip_on_field_errors=True)
    def check_dynamics(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Dates of the estimate and a drift belong to moving quantities, which the robust
        model alone follows in time; a shared error to static ones."""
        if data["dynamics"] != "static" and data["shared_error"]:
            raise ma.ValidationError(
                "A shared error applies to a static quantity (dynamics static).",
                "shared_error")
        if data["dynamics"] == "static":
            for name in ("at", "drift"):
                if data[name] is not None:
                    raise ma.ValidationError(
                        "Only a moving quantity (dynamics cumulative or drifting) takes "
                        f"{name}.", name)
        elif data["method"] not in ("auto", "robust"):
            raise ma.ValidationError(
                "A moving quantity is followed by the robust model; method must be auto or "
                "robust.", "method")

    @ma.post_load
    def make_request(self, data: dict[str, Any], **kwargs: Any) -> ReconcileRequest:
        return ReconcileRequest(
            sources=tuple(data["sources"]),
            claims=tuple(data["claims"]),
            question=data["question"],
            unit=data["unit"],
            scale=data["scale"],
            levels=tuple(data["levels"]),
            method=data["method"],
            tau2_method=data["tau2_method"],
            ci_method=data["ci_method"],
            subject=(data["style"] or {}).get("subject"),
            whole_numbers=(data["style"] or {}).get("whole_numbers"),
            dynamics=data["dynamics"],
            at=data["at"],
            drift=data["drift"],
            shared_error=data["shared_error"],
            precision=data["precision"],
        )


# --- Response -------------------------------------------------------------------------------


def _num(description: str, *, nullable: bool = False) -> ma.fields.Float:
    return ma.fields.Float(
        required=True, allow_none=nullable, metadata={"description": description}
    )


def _int(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(required=True, metadata={"description": description})


def _str(description: str, *, nullable: bool = False) -> ma.fields.String:
    return ma.fields.String(
        required=True, allow_none=nullable, metadata={"description": description}
    )


def _int_nullable(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(required=True, allow_none=True,
                             metadata={"description": description})


def _nested(
    schema: type[ma.Schema] | Callable[[], ma.Schema], description: str, **kwargs: Any
) -> ma.fields.Nested:
    return ma.fields.Nested(schema, required=True, metadata={"description": description}, **kwargs)


class IntervalSchema(StrictSchema):
    level = _num("Probability of the interval, as requested.")
    low = _num("Lower end, in the quantity's units; null when the evidence sets no lower "
               "limit (upper bounds only).", nullable=True)
    high = _num("Upper end, in the quantity's units; null when the evidence sets no upper "
                "limit (lower bounds only, as for a lone 'at least 100,000').", nullable=True)


class EstimateSchema(StrictSchema):
    value = _num("Posterior median (robust) or pooled mean (pooling), in the quantity's units; "
                 "null when the evidence is bounds on one side only, which support no central "
                 "figure.", nullable=True)
    basis = ma.fields.String(
        required=True, validate=validate.OneOf(["fit", "bounds"]),
        metadata={"description": (
            "fit: value and intervals are the fitted model's. bounds: every claim the answer "
            "keeps is a bound, and the range is set by those bounds and their softness alone "
            "(docs/model.md, 'Bounds alone'); it assumes they hold.")})
    p_bounds_hold = _num("With basis 'bounds': the chance, by the grades and hedges of the "
                         "bounds kept, that all of them hold; null otherwise.", nullable=True)
    intervals = ma.fields.List(
        _nested(IntervalSchema, "An interval."),
        required=True,
        metadata={
            "description": (
                "One per requested level, in request order: equal-tailed credible intervals "
                "(robust) or confidence intervals (pooling)."
            )
        },
    )
    se = _num(
        "Standard error of the pooled mean on the working scale; null for robust.", nullable=True
    )


class ClaimResultSchema(StrictSchema):
    index = _int("Position of the claim in the request.")
    source = _str("The claim's source id.")
    kind = _str("The claim's kind, echoed.")
    value = _num("The claim's value, echoed (null for range claims).", nullable=True)
    low = _num("Lower end of a range claim, echoed.", nullable=True)
    high = _num("Upper end of a range claim, echoed.", nullable=True)
    hedge = _str("The claim's hedge, echoed.")
    origin = _str("The claim's origin, echoed.", nullable=True)
    as_of = ma.fields.Date(
        required=True, allow_none=True, metadata={"description": "The claim's date, echoed."}
    )
    horizon = _str("What the claim speaks of in time (level or total), echoed.")
    weight = _num(
        "Sensitivity of the estimate to this claim's figure: how far the estimate moves per "
        "unit shift of the figure on the working scale, normalised so that all weights sum to "
        "1. Not how much the claim counted (a discounted figure or a slack bound has weight 0 "
        "however far leaving it out would move the estimate); see share."
    )
    share = _num(
        "How much the estimate rests on this claim, from leave-out shifts. For each evidence "
        "unit u (claims sharing an origin, else one source's claims) d_u = |g(m_-u) - g(m)|, "
        "g = log on the log scale, m the estimate, m_-u the estimate without u "
        "(estimate_without_unit); the unit's share is d_u / sum of d, split equally among its "
        f"claims. A unit, or a claim, whose removal moves the estimate by more than "
        f"{PIVOTAL_SHIFT:.0%} shows at least {PIVOTAL_SHARE:.0%}. Shares sum to 1. "
        "Example: a ministry says 1,000 and "
        "three outlets repeat one agency report of 3,000; the estimate is 1,732 and leaving "
        "out either side moves it by the same log-distance, so the ministry has share 0.5 and "
        "each outlet 1/6 (their echo group 0.5)."
    )
    influence = _num(
        "estimate_without − estimate: how far the estimate moves without this claim's evidence."
    )
    estimate_without = _num(
        "The estimate without this claim; null when it was the only evidence.", nullable=True
    )
    estimate_without_unit = _num(
        "The estimate without every claim of this claim's evidence unit (its echoes too); "
        "equals estimate_without for a claim alone in its unit; null when the unit was the "
        "only evidence.",
        nullable=True,
    )
    outlier = ma.fields.Boolean(
        required=True,
        metadata={"description": "Whether the claim is judged inconsistent with the rest."},
    )
    p_wrong = _num("Robust model: posterior probability that the claim is wrong.", nullable=True)
    residual = _num("Pooling methods: externally studentized residual.", nullable=True)


class SourceResultSchema(StrictSchema):
    id = _str("The source id.")
    name = _str("The source's display name, echoed.", nullable=True)
    credibility = _num("Prior probability that a claim of this source is right.")
    spread = _num("Typical spread of a right claim on the working scale.")
    credibility_from = _str(
        "Where the credibility came from: grade, number, unknown or learned."
    )
    grade = _str("The grade the credibility was built from, if any.", nullable=True)


class ConflictSchema(StrictSchema):
    a = _int("Index of the first claim.")
    b = _int("Index of the second claim.")
    compatibility = _num("How compatible the two claims are, in [0, 1]; low means conflict.")


class DisagreementSchema(StrictSchema):
    detected = ma.fields.Boolean(
        required=True,
        metadata={"description": "True when at least one pair conflicts or a claim is an outlier."},
    )
    conflicts = ma.fields.List(
        _nested(ConflictSchema, "A conflicting pair."),
        required=True,
        metadata={"description": "Pairs of claims that cannot both be right."},
    )
    clusters = ma.fields.List(
        ma.fields.List(ma.fields.Integer()),
        required=True,
        metadata={"description": "Groups of mutually compatible claim indices, largest first."},
    )
    outliers = ma.fields.List(
        ma.fields.Integer(),
        required=True,
        metadata={"description": "Indices of outlying claims."},
    )
    modes = _int("Number of separated modes of the posterior (robust), 1 for pooling.")
    i2 = _num(
        "Share of the spread of point claims beyond what their stated uncertainty explains.",
        nullable=True,
    )


class HeterogeneitySchema(StrictSchema):
    tau2 = _num("τ², between-claim variance on the working scale.")
    tau = _num("τ, its square root.")
    i2 = _num("I² (metafor's τ²-based definition), in [0, 1].")
    h2 = _num("H².")
    q = _num("Cochran's Q.")
    q_df = _int("Degrees of freedom of Q.")
    q_pvalue = _num("p-value of the test of homogeneity.")
    convention = _str("Which convention the statistics follow.")


class PredictionSchema(StrictSchema):
    level = _num("Probability of the prediction interval.")
    low = _num("Lower end, in the quantity's units.")
    high = _num("Upper end, in the quantity's units.")
    convention = _str("Which convention the interval follows.")


class WarningSchema(StrictSchema):
    code = _str("Machine-readable warning code.")
    message = _str("The warning as a sentence.")
    claims = ma.fields.List(
        ma.fields.Integer(),
        required=True,
        metadata={"description": "Indices of the claims concerned."},
    )


FINDING_KINDS: Final[tuple[str, ...]] = (
    "central_figure", "one_sided_bound", "bounds_only", "split", "rests_on", "discounted",
    "echo_group", "conflict", "agreement", "heterogeneity", "binding_bound", "violated_bound",
    "slack_bounds", "time_course",
)


class FigureSchema(StrictSchema):
    name = _str("What the number is: estimate, low, high, level, share.<i>, p_wrong, "
                "estimate_without, total_share, groups.<g>.min/max/share, p, claims.<i>.value …")
    value = _num("The number; for a date (date, first_date) its proleptic ordinal (1 is 1 "
                 "January of year 1), the path holding the ISO date.")
    text = _str("The number as printed: exactly as claimed when quoted; else rounded (see "
                "exponent) or a percentage.")
    path = _str("The response field that holds the same number (e.g. claims.2.p_wrong), or "
                "null when it exists only in the finding (a group's total share).", nullable=True)
    quoted = ma.fields.Boolean(
        required=True, metadata={"description": "True for a claimed figure quoted exactly."}
    )
    exponent = _int_nullable(
        "Computed figures: text is value rounded to a multiple of 10^exponent. The rule: two "
        "significant figures of the width of the widest interval, never coarser than two "
        "significant figures of the number itself, never finer than 1 for whole-number "
        "quantities."
    )


class FindingSchema(StrictSchema):
    """One typed fact the explanation is rendered from."""

    kind = ma.fields.String(
        required=True,
        validate=validate.OneOf(FINDING_KINDS),
        metadata={
            "description": (
                "central_figure: the estimate and its widest range. one_sided_bound: every "
                "claim bounds one side; the strongest bound is the answer. bounds_only: no "
                "claim gives a figure; bounds close both sides. split: groups of claims that "
                "cannot all be right, the estimate in a trough between them (posterior density "
                f"there under {TROUGH_DENSITY:.0%} of its peak, or for pooling the Q test "
                "rejecting and the estimate outside every claim's interval). rests_on: the "
                f"fewest evidence units whose shares reach {RESTS_ON_SHARE:.0%}. discounted: a "
                "claim judged probably wrong (outlier) and the estimate without it "
                f"(negligible: it moves under {NEGLIGIBLE_SHIFT:.0%}). echo_group: claims "
                "repeating one origin, counted once, with their total share. conflict: pairs "
                "that cannot both be right. agreement: the claims can all be right. "
                f"heterogeneity: Cochran's Q test at level {HETEROGENEITY_LEVEL}. binding_bound: "
                f"a bound whose removal moves the estimate by {NEGLIGIBLE_SHIFT:.0%} or more. "
                "violated_bound: a bound the estimate lies beyond by more than "
                f"{NEGLIGIBLE_SHIFT:.0%}. slack_bounds: bounds the estimate satisfies. "
                "time_course (moving quantities): the level on time.at with its range and "
                "where it started, the claimed eventual totals and the total's range."
            )
        },
    )
    claims = ma.fields.List(
        ma.fields.Integer(), required=True,
        metadata={"description": "Indices of the claims the finding cites."},
    )
    figures = ma.fields.List(
        _nested(FigureSchema, "A number."), required=True,
        metadata={"description": "Every number the finding prints, with its source field."},
    )
    text = _str("The finding's sentence; the explanation is these sentences in order.")
    side = _str("Bound findings: at_least or at_most.", nullable=True)
    origin = _str("echo_group: the shared origin.", nullable=True)
    groups = ma.fields.List(
        ma.fields.List(ma.fields.Integer()), required=True, allow_none=True,
        metadata={"description": "split: the claim indices of each group, lowest figure first."},
    )
    pairs = ma.fields.List(
        ma.fields.List(ma.fields.Integer()), required=True, allow_none=True,
        metadata={"description": "conflict: every conflicting pair."},
    )
    test = _str("heterogeneity: the test (cochran_q).", nullable=True)
    significant = ma.fields.Boolean(
        required=True, allow_none=True,
        metadata={"description": "heterogeneity: whether p is below the level."},
    )
    negligible = ma.fields.Boolean(
        required=True, allow_none=True,
        metadata={"description": "discounted: whether leaving the claim out barely moves the "
                                 "estimate."},
    )


class SummarySchema(StrictSchema):
    """The headline that fits the evidence."""

    kind = ma.fields.String(
        required=True,
        validate=validate.OneOf(("figure", "range", "bound", "split", "course")),
        metadata={
            "description": (
                "figure: one estimate with its range. range: no claim gives a figure and "
                "bounds close both sides (the claimed bounds are quoted). bound: every claim "
                "bounds one side (\"at least 100,000\"). split: groups that cannot all be "
                "right, reported as their figures, never as a figure between them. course: a "
                "moving quantity, its level on a date and the claimed eventual total."
            )
        },
    )
    text = _str("The headline words, e.g. \"About 1,600 soldiers (90% range 1,100 to 8,900)\".")
    figures = ma.fields.List(
        _nested(FigureSchema, "A number."), required=True,
        metadata={"description": "The numbers in text."},
    )


class MomentSchema(StrictSchema):
    date = ma.fields.Date(required=True, allow_none=True, metadata={
        "description": "The date (null for the eventual total, or when no claim is dated)."})
    total = ma.fields.Boolean(required=True, metadata={
        "description": "True for the eventual total, false for the level on date."})
    value = _num("Median of the level on date (or of the total), in the quantity's units.")
    intervals = ma.fields.List(_nested(IntervalSchema, "An interval."), required=True,
                               metadata={"description": "One per requested level, in order."})
    claims = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": "The claims that speak of this moment directly (request indices)."})


class TimeSchema(StrictSchema):
    dynamics = _str("How the quantity moves: cumulative or drifting.")
    at = ma.fields.Date(required=True, allow_none=True, metadata={
        "description": "The date of estimate (null when no claim is dated)."})
    trajectory = ma.fields.List(_nested(MomentSchema, "The level on one date."), required=True,
                                metadata={"description": "The level on every claim date and "
                                                         "on at, in time order."})
    total = _nested(MomentSchema, "The eventual total; null when no claim speaks of it.",
                    allow_none=True)
    drift = _num("Standard deviation of the change over one day on the working scale.")
    drift_learned = ma.fields.Boolean(required=True, metadata={
        "description": "Whether drift was learned from the claims (else stated)."})


class SharedErrorSchema(StrictSchema):
    """The shared error the answer used."""

    value = _num("s: log units on the log scale, the quantity's units on the linear scale.")
    origin = ma.fields.String(
        required=True, validate=validate.OneOf(("request", "category", "pooled", "default")),
        metadata={"description": (
            "request: stated in the request; category: learned from the resolved questions "
            "of the question's category; pooled: learned from every category on this scale "
            "(the category has too few resolved questions); default: no history, 0.")},
    )
    category = _str("The question's category, if any.", nullable=True)
    n_questions = _int("Resolved questions behind a learned value (0 otherwise).")


class ReconcileResponseSchema(StrictSchema):
    """Result of ``POST /v1/reconcile``."""

    question = _str("The question, echoed.", nullable=True)
    unit = _str("The unit, echoed.", nullable=True)
    method = _str("The method used: robust, random_effects or fixed_effect.")
    scale = _str("The working scale used: log or linear.")
    estimate = _nested(EstimateSchema, "The reconciled value and its intervals.")
    claims = ma.fields.List(
        _nested(ClaimResultSchema, "One claim."),
        required=True,
        metadata={"description": "What each claim did to the estimate, in request order."},
    )
    sources = ma.fields.List(
        _nested(SourceResultSchema, "One source."),
        required=True,
        metadata={"description": "The credibility each source was used with."},
    )
    disagreement = _nested(DisagreementSchema, "How much the claims disagree.")
    heterogeneity = _nested(
        HeterogeneitySchema,
        "Between-claim heterogeneity of a pooling fit; null for robust.",
        allow_none=True,
    )
    prediction = _nested(
        PredictionSchema, "Prediction interval of a pooling fit; null otherwise.", allow_none=True
    )
    warnings = ma.fields.List(
        _nested(WarningSchema, "One warning."),
        required=True,
        metadata={"description": "Legal but suspicious input, e.g. a single claim."},
    )
    summary = _nested(
        SummarySchema, "The headline; null only for results made without findings.",
        allow_none=True,
    )
    findings = ma.fields.List(
        _nested(FindingSchema, "One finding."),
        required=True,
        metadata={"description": "Typed facts, headline first; the explanation is their "
                                 "sentences in order."},
    )
    explanation = _str("The result in plain words, rendered only from the findings.")
    time = _nested(TimeSchema, "A moving quantity followed in time (dynamics cumulative or "
                               "drifting): its course and eventual total; estimate is then its "
                               "level on time.at. null for a static question.", allow_none=True)
    shared_error = _nested(SharedErrorSchema, "The error all the claims share, as used; null "
                                              "for a moving quantity.", allow_none=True)


class HealthSchema(StrictSchema):
    """Body of ``GET /healthz``."""

    status = _str("Always ok while the process serves requests.")


class StoredClaimResultSchema(ClaimResultSchema):
    """What one stored claim did to its question's estimate."""

    id = _int("The claim's stored id (its path is /v1/questions/{question}/claims/{id}).")


class LearningSchema(StrictSchema):
    """Whether the learned credibility shown includes every change it depends on."""

    status = ma.fields.String(
        required=True, validate=validate.OneOf(("current", "pending")),
        metadata={"description": (
            "current: the track records include every resolution and every change to a "
            "resolved question's claims; pending: a change is still being learned, and the "
            "credibility shown is the one learned up to as_of (it becomes current when the "
            "learning job ends, usually within seconds).")},
    )
    as_of = ma.fields.DateTime(
        required=True, allow_none=True,
        metadata={"description": "Time of the newest change the learned credibility includes; "
                                 "null before anything was learned."},
    )


class StoredEstimateSchema(ReconcileResponseSchema):
    """Result of ``GET /v1/questions/{id}/estimate``: that of ``POST /v1/reconcile``, each claim
    naming its stored id, and whether the learned credibility it used is current."""

    learning = _nested(
        LearningSchema,
        "Whether the learned credibility the sources were used with is current; null with "
        "as_of (the estimate is rebuilt with the credibility stored at that moment).",
        allow_none=True,
    )

    claims = ma.fields.List(
        _nested(StoredClaimResultSchema, "One stored claim."),
        required=True,
        metadata={"description": "What each claim did to the estimate, in the order entered."},
    )
