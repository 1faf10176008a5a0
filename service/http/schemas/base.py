"""What every schema of the contract shares: unknown keys refused, configured list limits, and
the small field builders the request schemas use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from service.http.schemas.fields import FiniteNumber

__all__ = [
    "MAX_LEVELS",
    "OPEN_UNIT",
    "ConfiguredMaxItems",
    "StrictSchema",
    "no_duplicates",
    "optional_number",
    "optional_str",
]

#: At most this many interval levels per request.
MAX_LEVELS: Final = 10

#: Strictly between 0 and 1.
OPEN_UNIT: Final = validate.Range(
    min=0.0,
    max=1.0,
    min_inclusive=False,
    max_inclusive=False,
    error="Invalid value {input!r}; must lie strictly between 0 and 1.",
)


class StrictSchema(ma.Schema):
    """Base schema: unknown keys are an error, never silently dropped."""

    class Meta:
        unknown = ma.RAISE


class ConfiguredMaxItems(validate.Validator):
    """At most ``app.config[setting]`` items, read per request so tests can lower the limit.

    The OpenAPI document gets the configured value as ``maxItems`` when the app is built
    (:func:`service.http.api.register_openapi_extras`).
    """

    def __init__(self, setting: str, noun: str) -> None:
        self.setting = setting
        self.noun = noun

    def __call__(self, value: Sequence[Any]) -> Sequence[Any]:
        limit = int(current_app.config[self.setting])
        if len(value) > limit:
            raise ma.ValidationError(
                f"Too many {self.noun}: got {len(value)}, the limit is {limit} ({self.setting})."
            )
        return value


def no_duplicates(values: Sequence[float]) -> None:
    seen: set[float] = set()
    for value in values:
        if value in seen:
            raise ma.ValidationError(f"Duplicate level {value!r}; each level must appear once.")
        seen.add(value)


def optional_str(max_length: int, description: str) -> ma.fields.String:
    return ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=max_length),
        metadata={"description": description},
    )


def optional_number(description: str, **kwargs: Any) -> FiniteNumber:
    return FiniteNumber(
        load_default=None, allow_none=True, metadata={"description": description}, **kwargs
    )


