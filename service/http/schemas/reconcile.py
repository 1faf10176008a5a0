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

from models.claims import SOURCE_TYPES, Claim, Source
from models.request import DEFAULT_LEVELS, ReconcileRequest
from service.http.schemas.base import (
    MAX_LEVELS,
    ConfiguredMaxItems,
    StrictSchema,
    no_duplicates,
    optional_str,
)
from service.http.schemas.claim import ClaimFields
from service.http.schemas.fields import FiniteNumber, Reliability

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


def _enum(choices: Sequence[str], default: str, description: str) -> ma.fields.String:
    return ma.fields.String(
        load_default=default,
        validate=validate.OneOf(choices),
        metadata={"description": description},
    )


class ReconcileRequestSchema(StrictSchema):
    """Body of ``POST /v1/reconcile``."""

    question = optional_str(500, "The question the claims answer (echoed, used in the text).")
    unit = optional_str(64, "Unit of the quantity, e.g. soldiers (echoed, used in the text).")
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


def _nested(
    schema: type[ma.Schema] | Callable[[], ma.Schema], description: str, **kwargs: Any
) -> ma.fields.Nested:
    return ma.fields.Nested(schema, required=True, metadata={"description": description}, **kwargs)


class IntervalSchema(StrictSchema):
    level = _num("Probability of the interval, as requested.")
    low = _num("Lower end, in the quantity's units.")
    high = _num("Upper end, in the quantity's units.")


class EstimateSchema(StrictSchema):
    value = _num("Posterior median (robust) or pooled mean (pooling), in the quantity's units.")
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
    weight = _num("The claim's share of the evidence; the weights of all claims sum to 1.")
    influence = _num(
        "estimate_without − estimate: how far the estimate moves without this claim's evidence."
    )
    estimate_without = _num(
        "The estimate without this claim; null when it was the only evidence.", nullable=True
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
    explanation = _str("The result in plain words.")


class HealthSchema(StrictSchema):
    """Body of ``GET /healthz``."""

    status = _str("Always ok while the process serves requests.")
