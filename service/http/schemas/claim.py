"""One declaration of a claim in the contract: its fields, their limits and the kind rules.

Every claim schema derives from :class:`ClaimFields`: the body of ``POST /v1/reconcile``'s
claims, the stored claim's create, patch (loaded partially) and out schemas, and the batch
claim. The kind rules (which numbers a point, a bound or a range takes) come from the core's
:data:`models.claims.KIND_NUMBERS`, so the service, the core and the document agree.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import validate

from models.claims import CLAIM_KINDS, HEDGE_NAMES, HORIZONS, describe_kinds, shape_errors
from service.http.schemas.base import (
    OPEN_UNIT,
    POSITIVE,
    StrictSchema,
    one_of,
    optional_number,
    optional_str,
)
from service.http.schemas.fields import FiniteNumber

__all__ = ["ClaimChanges", "ClaimFields", "StoredClaimFields"]


class ClaimFields(StrictSchema):
    """The fields of one claim and the rules of its kind: the base of every claim schema.

    Loading checks that the stated numbers fit the kind (:func:`models.claims.shape_errors`),
    except when loading partially (a PATCH body states only what changes; the repository checks
    the claim as changed).
    """

    source = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=128),
        metadata={"description": "Id of the source that made the claim."},
    )
    kind = one_of(
        CLAIM_KINDS,
        "point: the figure is `value`; at_least / at_most: `value` is a lower / upper bound; "
        "range: the figure lies between `low` and `high`. Numbers each kind takes: "
        + describe_kinds(),
        required=True,
    )
    value = optional_number("The figure (point) or the bound (at_least, at_most).")
    low = optional_number("Lower end of a range claim.")
    high = optional_number("Upper end of a range claim.")
    sd = optional_number(
        "The claim's own standard deviation (point claims only), in the quantity's units.",
        validate=POSITIVE,
    )
    ci_low = optional_number("Lower end of the claim's own confidence interval (point only).")
    ci_high = optional_number("Upper end of the claim's own confidence interval (point only).")
    ci_level = FiniteNumber(
        load_default=0.95,
        validate=OPEN_UNIT,
        metadata={"description": "Level of ci_low / ci_high, strictly between 0 and 1."},
    )
    hedge = one_of(
        HEDGE_NAMES,
        "How loosely the figure was stated: exact, none (plain), about, could_be, rumour.",
        load_default="none",
    )
    origin = optional_str(
        128, "Shared provenance: claims with the same origin count as one piece of evidence."
    )
    as_of = ma.fields.Date(
        load_default=None,
        allow_none=True,
        metadata={"description": "ISO date at which the figure held, per the source."},
    )
    horizon = one_of(
        HORIZONS,
        "What the figure speaks of in time, for a question whose quantity moves: level (the "
        "quantity on as_of: '1,500 are already in Russia') or total (its eventual or planned "
        "total: 'up to 10,000 could join'). Static questions ignore it.",
        load_default="level",
    )
    quote = optional_str(2000, "The wording of the claim, for the record (not used).")
    url = optional_str(2000, "Where the claim was published, for the record (not used).")

    @ma.validates_schema(skip_on_field_errors=True)
    def check_kind(self, data: dict[str, Any], *, partial: Any = None, **kwargs: Any) -> None:
        """Check that the claim carries exactly the numbers its kind needs."""
        if partial:
            return
        errors = shape_errors(data["kind"], data)
        if errors:
            raise ma.ValidationError(errors)


class ClaimChanges(ClaimFields):
    """The claim's fields as changes: none required, none defaulted (a PATCH body).

    Always loaded partially, so a field left out means "unchanged" rather than its default;
    the document shows no defaults for the same reason.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("partial", True)
        super().__init__(**kwargs)
        for field in self.fields.values():
            field.load_default = ma.missing


class StoredClaimFields(ClaimFields):
    """The claim's fields as the service answers them: every one present (null when unset)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for field in self.fields.values():
            field.load_default = ma.missing
            field.required = True
