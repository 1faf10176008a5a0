"""marshmallow schemas: the one contract of ``POST /v1/reconcile``.

Request schemas load JSON into the core's frozen dataclasses (:class:`models.claims.Claim`,
:class:`models.claims.Source`) and a small :class:`ReconcileRequest`; response schemas dump
the plain dicts built by :mod:`service.http.mapping`; the findings and the headline they hold
are declared in :mod:`service.http.schemas.findings`. Every schema refuses unknown keys, and the
field builders they share are in :mod:`service.http.schemas.base`.

A claim's fields and kind rules are declared once, in :mod:`service.http.schemas.claim` (which
takes the kind rules from :data:`models.claims.KIND_NUMBERS`); the core re-checks them for
library callers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Final

import marshmallow as ma
from marshmallow import validate

from models.claims import DYNAMICS_NAMES, SOURCE_TYPES, Claim, Source
from models.findings import (
    OPEN_END_FACTOR,
    PIVOTAL_SHARE,
    PIVOTAL_SHIFT,
)
from models.request import DEFAULT_LEVELS, ReconcileRequest
from service.http.schemas.base import (
    POSITIVE,
    DataSchema,
    StrictSchema,
    bounded_list,
    level_list,
    one_of,
    optional_number,
    optional_str,
    out_int,
    out_list,
    out_nested,
    out_num,
    out_str,
)
from service.http.schemas.claim import ClaimFields
from service.http.schemas.fields import JsonBoolean, Reliability
from service.http.schemas.findings import FindingSchema, SummarySchema

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

class SourceSchema(DataSchema):
    """A source of claims."""

    # Declared wide: the stored source's create schema loads the same fields as SourceInput.
    loads_as: ClassVar[Callable[..., Any]] = Source

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
    # A parsed body's objects are dicts: the ABC's isinstance only for anything else.
    return [(i, item) for i, item in enumerate(items)
            if type(item) is dict or isinstance(item, Mapping)]


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
    scale = one_of(
        SCALES,
        "Working scale: log for positive counts (errors are multiplicative), linear otherwise; "
        "auto picks log when every stated number is positive.",
        load_default="auto",
    )
    levels = level_list(
        DEFAULT_LEVELS, "Probabilities of the central intervals, each in (0, 1)."
    )
    method = one_of(
        METHODS,
        "robust: mixture model tolerant of wrong claims; random_effects / fixed_effect: "
        "inverse-variance pooling; auto chooses.",
        load_default="auto",
    )
    tau2_method = one_of(TAU2_METHODS, "Estimator of τ² for random_effects.", load_default="REML")
    ci_method = one_of(
        CI_METHODS, "Confidence intervals of pooling: z or Knapp-Hartung.", load_default="z"
    )
    dynamics = one_of(
        DYNAMICS_NAMES,
        "How the quantity moves in time. static: one fixed quantity, claims' dates ignored. "
        "cumulative: never decreases (deaths, troops sent); a later, lower figure is evidence "
        "of error, not of a fall. drifting: wanders up and down (a random walk on the working "
        "scale). The moving kinds read each claim's as_of and horizon and answer with a "
        "timeline.",
        load_default="static",
    )
    at = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": (
            "For a moving quantity: the date of the estimate (default: the latest claim date)."
        )},
    )
    drift = optional_number(
        "For a moving quantity: how fast it may move, as the standard deviation of its "
        "change over one day on the working scale (log units on the log scale: 0.05 is "
        "about 5 % a day). null (default): learned from the claims.",
        validate=POSITIVE,
    )
    shared_error = optional_number(
        "The standard deviation of the error all the claims share (as all polls of one "
        "race miss together), added to the answer's uncertainty: in log units on the log "
        "scale (0.05 is about 5 %), in the quantity's units on the linear scale. null "
        "(default): 0. Static quantities only. The response's shared_error says which "
        "value was used and where it came from.",
        validate=validate.Range(min=0.0, error="Must be 0 or more."),
    )
    precision = optional_number(
        "Linear scale: the standard deviation, in the quantity's units, of a claim that "
        "states no sd or interval of its own. Without it such a claim's spread is read "
        "relative to the figures' size, which means nothing when the zero is arbitrary "
        "(°C, a margin); the answer then warns (interval_scale) for such units. Ignored "
        "on the log scale.",
        validate=POSITIVE,
    )
    sources = bounded_list(
        SourceSchema, "MAX_SOURCES", "sources",
        "The sources, 1 to MAX_SOURCES of them, ids unique.",
    )
    claims = bounded_list(
        ClaimSchema, "MAX_CLAIMS", "claims", "The claims, 1 to MAX_CLAIMS of them, in any order."
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


class IntervalSchema(StrictSchema):
    level = out_num("Probability of the interval, as requested.")
    low = out_num("Lower end, in the quantity's units; null when the evidence sets no lower "
                  "limit (upper bounds only).", nullable=True)
    high = out_num("Upper end, in the quantity's units; null when the evidence sets no upper "
                   "limit (lower bounds only, as for a lone 'at least 100,000').", nullable=True)
    beyond_claims = ma.fields.List(
        ma.fields.String(validate=validate.OneOf(["low", "high"])), required=True,
        metadata={"description": (
            "The ends (low, high) that no claim sets: more than a factor "
            f"{OPEN_END_FACTOR:,.0f} beyond every figure the claims state on the log scale, "
            f"more than {OPEN_END_FACTOR:,.0f} times the claims' spread beyond them on the "
            "linear scale, where only the assumed tails of a wrong claim put them. The number "
            "is the model's and is kept; the words do not print it (\"from 0.92 up; no claim "
            "sets its upper end\"). Empty for most answers.")})


class EstimateSchema(StrictSchema):
    value = out_num("Posterior median (robust) or pooled mean (pooling), in the quantity's units; "
                    "null when the evidence is bounds on one side only, which support no central "
                    "figure.", nullable=True)
    basis = ma.fields.String(
        required=True, validate=validate.OneOf(["fit", "bounds"]),
        metadata={"description": (
            "fit: value and intervals are the fitted model's. bounds: every claim the answer "
            "keeps is a bound, and the range is set by those bounds and their softness alone "
            "(docs/model.md, 'Bounds alone'); it assumes they hold.")})
    p_bounds_hold = out_num("With basis 'bounds': the chance, by the grades and hedges of the "
                            "bounds kept, that all of them hold; null otherwise.", nullable=True)
    intervals = out_list(
        IntervalSchema, "An interval.",
        "One per requested level, in request order: equal-tailed credible intervals "
        "(robust) or confidence intervals (pooling).",
    )
    se = out_num(
        "Standard error of the pooled mean on the working scale; null for robust.", nullable=True
    )


class ClaimResultSchema(StrictSchema):
    index = out_int("Position of the claim in the request.")
    source = out_str("The claim's source id.")
    kind = out_str("The claim's kind, echoed.")
    value = out_num("The claim's value, echoed (null for range claims).", nullable=True)
    low = out_num("Lower end of a range claim, echoed.", nullable=True)
    high = out_num("Upper end of a range claim, echoed.", nullable=True)
    hedge = out_str("The claim's hedge, echoed.")
    origin = out_str("The claim's origin, echoed.", nullable=True)
    as_of = ma.fields.Date(
        required=True, allow_none=True, metadata={"description": "The claim's date, echoed."}
    )
    horizon = out_str("What the claim speaks of in time (level or total), echoed.")
    weight = out_num(
        "Sensitivity of the estimate to this claim's figure: how far the estimate moves per "
        "unit shift of the figure on the working scale, normalised so that all weights sum to "
        "1. Not how much the claim counted (a discounted figure or a slack bound has weight 0 "
        "however far leaving it out would move the estimate); see share."
    )
    share = out_num(
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
    influence = out_num(
        "estimate_without − estimate: how far the estimate moves without this claim's evidence."
    )
    estimate_without = out_num(
        "The estimate without this claim; null when it was the only evidence.", nullable=True
    )
    estimate_without_unit = out_num(
        "The estimate without every claim of this claim's evidence unit (its echoes too); "
        "equals estimate_without for a claim alone in its unit; null when the unit was the "
        "only evidence.",
        nullable=True,
    )
    outlier = ma.fields.Boolean(
        required=True,
        metadata={"description": "Whether the claim is judged inconsistent with the rest."},
    )
    p_wrong = out_num("Robust model: posterior probability that the claim is wrong.", nullable=True)
    residual = out_num("Pooling methods: externally studentized residual.", nullable=True)


class SourceResultSchema(StrictSchema):
    id = out_str("The source id.")
    name = out_str("The source's display name, echoed.", nullable=True)
    credibility = out_num("Prior probability that a claim of this source is right.")
    spread = out_num("Typical spread of a right claim on the working scale.")
    credibility_from = out_str(
        "Where the credibility came from: grade, number, unknown or learned."
    )
    grade = out_str("The grade the credibility was built from, if any.", nullable=True)


class ConflictSchema(StrictSchema):
    a = out_int("Index of the first claim.")
    b = out_int("Index of the second claim.")
    compatibility = out_num("How compatible the two claims are, in [0, 1]; low means conflict.")


class DisagreementSchema(StrictSchema):
    detected = ma.fields.Boolean(
        required=True,
        metadata={"description": "True when at least one pair conflicts or a claim is an outlier."},
    )
    conflicts = out_list(
        ConflictSchema, "A conflicting pair.",
        "Pairs of claims that cannot both be right.",
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
    modes = out_int("Number of separated modes of the posterior (robust), 1 for pooling.")
    i2 = out_num(
        "Share of the spread of point claims beyond what their stated uncertainty explains.",
        nullable=True,
    )


class HeterogeneitySchema(StrictSchema):
    tau2 = out_num("τ², between-claim variance on the working scale.")
    tau = out_num("τ, its square root.")
    i2 = out_num("I² (metafor's τ²-based definition), in [0, 1].")
    h2 = out_num("H².")
    q = out_num("Cochran's Q.")
    q_df = out_int("Degrees of freedom of Q.")
    q_pvalue = out_num("p-value of the test of homogeneity.")
    convention = out_str("Which convention the statistics follow.")


class PredictionSchema(StrictSchema):
    level = out_num("Probability of the prediction interval.")
    low = out_num("Lower end, in the quantity's units.")
    high = out_num("Upper end, in the quantity's units.")
    convention = out_str("Which convention the interval follows.")


class WarningSchema(StrictSchema):
    code = out_str("Machine-readable warning code.")
    message = out_str("The warning as a sentence.")
    claims = ma.fields.List(
        ma.fields.Integer(),
        required=True,
        metadata={"description": "Indices of the claims concerned."},
    )


class MomentSchema(StrictSchema):
    date = ma.fields.Date(required=True, allow_none=True, metadata={
        "description": "The date (null for the eventual total, or when no claim is dated)."})
    total = ma.fields.Boolean(required=True, metadata={
        "description": "True for the eventual total, false for the level on date."})
    value = out_num("Median of the level on date (or of the total), in the quantity's units.")
    intervals = out_list(IntervalSchema, "An interval.", "One per requested level, in order.")
    claims = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": "The claims that speak of this moment directly (request indices)."})


class TimeSchema(StrictSchema):
    dynamics = out_str("How the quantity moves: cumulative or drifting.")
    at = ma.fields.Date(required=True, allow_none=True, metadata={
        "description": "The date of estimate (null when no claim is dated)."})
    trajectory = out_list(
        MomentSchema, "The level on one date.",
        "The level on every claim date and on at, in time order.",
    )
    total = out_nested(MomentSchema, "The eventual total; null when no claim speaks of it.",
                       allow_none=True)
    drift = out_num("Standard deviation of the change over one day on the working scale.")
    drift_learned = ma.fields.Boolean(required=True, metadata={
        "description": "Whether drift was learned from the claims (else stated)."})


class SharedErrorSchema(StrictSchema):
    """The shared error the answer used."""

    value = out_num("s: log units on the log scale, the quantity's units on the linear scale.")
    origin = ma.fields.String(
        required=True, validate=validate.OneOf(("request", "category", "pooled", "default")),
        metadata={"description": (
            "request: stated in the request; category: learned from the resolved questions "
            "of the question's category; pooled: learned from every category on this scale "
            "(the category has too few resolved questions); default: no history, 0.")},
    )
    category = out_str("The question's category, if any.", nullable=True)
    n_questions = out_int("Resolved questions behind a learned value (0 otherwise).")


class ReconcileResponseSchema(StrictSchema):
    """Result of ``POST /v1/reconcile``."""

    question = out_str("The question, echoed.", nullable=True)
    unit = out_str("The unit, echoed.", nullable=True)
    method = out_str("The method used: robust, random_effects or fixed_effect.")
    scale = out_str("The working scale used: log or linear.")
    estimate = out_nested(EstimateSchema, "The reconciled value and its intervals.")
    claims = out_list(
        ClaimResultSchema, "One claim.",
        "What each claim did to the estimate, in request order.",
    )
    sources = out_list(
        SourceResultSchema, "One source.",
        "The credibility each source was used with.",
    )
    disagreement = out_nested(DisagreementSchema, "How much the claims disagree.")
    heterogeneity = out_nested(
        HeterogeneitySchema,
        "Between-claim heterogeneity of a pooling fit; null for robust.",
        allow_none=True,
    )
    prediction = out_nested(
        PredictionSchema, "Prediction interval of a pooling fit; null otherwise.", allow_none=True
    )
    warnings = out_list(
        WarningSchema, "One warning.",
        "Legal but suspicious input, e.g. a single claim.",
    )
    summary = out_nested(
        SummarySchema, "The headline; null only for results made without findings.",
        allow_none=True,
    )
    findings = out_list(
        FindingSchema, "One finding.",
        "Typed facts, headline first; the explanation is their sentences in order.",
    )
    explanation = out_str("The result in plain words, rendered only from the findings.")
    time = out_nested(TimeSchema, "A moving quantity followed in time (dynamics cumulative or "
                               "drifting): its course and eventual total; estimate is then its "
                               "level on time.at. null for a static question.", allow_none=True)
    shared_error = out_nested(SharedErrorSchema, "The error all the claims share, as used; "
                              "null for a moving quantity.", allow_none=True)


class HealthSchema(StrictSchema):
    """Body of ``GET /healthz``."""

    status = out_str("Always ok while the process serves requests.")


class StoredClaimResultSchema(ClaimResultSchema):
    """What one stored claim did to its question's estimate."""

    id = out_int("The claim's stored id (its path is /v1/questions/{question}/claims/{id}).")


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

    learning = out_nested(
        LearningSchema,
        "Whether the learned credibility the sources were used with is current; null with "
        "as_of (the estimate is rebuilt with the credibility stored at that moment).",
        allow_none=True,
    )

    claims = out_list(
        StoredClaimResultSchema, "One stored claim.",
        "What each claim did to the estimate, in the order entered.",
    )
