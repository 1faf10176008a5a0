"""The contract of ``POST /v1/extract``: an article in, draft claims grouped into quantities
out.

A draft claim is a claim of the reconcile contract (:class:`ClaimFields`: ``source``, ``kind``,
``value`` / ``low`` / ``high``, ``hedge``, ``as_of``, ``horizon``, ``quote``) with where it
came from: ``span``, ``figure``, ``attribution``, ``unit``, ``confidence`` and ``cues``. A
drafted source is a source of the reconcile contract without a reliability (an editor grades
it).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from service.extract.inputs import MAX_CHARACTERS
from service.http.schemas.base import StrictSchema
from service.http.schemas.claim import ClaimFields
from service.http.schemas.reconcile import SourceSchema

__all__ = ["ExtractRequestSchema", "ExtractResponseSchema"]

FORMATS = ("plain", "html")


class ExtractRequestSchema(StrictSchema):
    """An article to read. A ``text/plain`` or ``text/html`` body is read as ``text`` with
    that ``format``."""

    text = ma.fields.String(
        required=True,
        validate=validate.Length(
            max=MAX_CHARACTERS,
            error=f"The text is longer than {MAX_CHARACTERS:,} characters (about one long "
            "article); send one article at a time.",
        ),
        metadata={"description": "The article: plain text, or HTML when format is html."},
    )
    format = ma.fields.String(
        load_default="plain",
        validate=validate.OneOf(FORMATS),
        metadata={"description": "How text is written: plain or html (tags are dropped)."},
    )
    published = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={
            "description": (
                "ISO date the article was published: weekdays it names ('Last Friday') become "
                "the claims' as_of dates."
            )
        },
    )


class SpanField(ma.fields.Field[tuple[int, int]]):
    """``[start, end]``: character offsets of the figure in the text read."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return [int(value[0]), int(value[1])]


class DraftClaimSchema(ClaimFields):
    """A figure read as a claim: the claim's fields, then where it came from."""

    class Meta(ClaimFields.Meta):
        exclude = ("sd", "ci_low", "ci_high", "ci_level", "origin", "url")

    span = SpanField(
        required=True,
        metadata={
            "description": "[start, end]: character offsets of the figure in `text`.",
            "type": "array",
            "items": {"type": "integer", "minimum": 0},
            "minItems": 2,
            "maxItems": 2,
        },
    )
    figure = ma.fields.String(
        required=True, metadata={"description": "The figure as written: text[start:end]."}
    )
    attribution = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Who the text says gave the figure, as written; null if none."},
    )
    unit = ma.fields.String(
        required=True,
        metadata={"description": "What the figure counts: a noun phrase, ISO currency or %."},
    )
    confidence = ma.fields.Float(
        required=True,
        metadata={
            "description": (
                "How completely the draft was read, from 0 to 1 (a figure, a unit of its own, "
                "a named source); a score for sorting the review, not a probability."
            )
        },
    )
    cues = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "The words that decided kind, hedge and horizon ('up to')."},
    )


class QuantitySchema(StrictSchema):
    """Figures that speak of one quantity."""

    id = ma.fields.String(required=True, metadata={"description": "q1, q2, … in text order."})
    unit = ma.fields.String(required=True, metadata={"description": "The first claim's unit."})
    label = ma.fields.String(
        required=True, metadata={"description": "The wording most of its claims use."}
    )
    claims = ma.fields.List(ma.fields.Nested(DraftClaimSchema), required=True)


class DraftSourceSchema(SourceSchema):
    """A source drafted from an attribution (grade it before reconciling)."""

    class Meta(SourceSchema.Meta):
        exclude = ("reliability",)


class ExtractWarningSchema(StrictSchema):
    code = ma.fields.String(required=True, metadata={"description": "no_figures."})
    message = ma.fields.String(required=True)


class ExtractResponseSchema(StrictSchema):
    """Quantities with their draft claims, the drafted sources, and warnings."""

    text = ma.fields.String(
        required=True,
        metadata={"description": "The text read (HTML reduced to text); spans refer to it."},
    )
    quantities = ma.fields.List(ma.fields.Nested(QuantitySchema), required=True)
    sources = ma.fields.List(ma.fields.Nested(DraftSourceSchema), required=True)
    warnings = ma.fields.List(ma.fields.Nested(ExtractWarningSchema), required=True)
