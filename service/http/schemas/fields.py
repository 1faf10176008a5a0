"""Strict marshmallow fields of the HTTP contract.

JSON numbers reach the service through Python's ``json`` module, which accepts the non-standard
literals ``NaN``, ``Infinity`` and ``-Infinity`` and turns an overflowing literal such as
``1e400`` into ``inf``. Rather than failing the whole body with a 400, the parse lets them
through and :class:`FiniteNumber` refuses them, so the 422 names the field that carried them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

import marshmallow as ma

from models.credibility import GRADES

__all__ = ["GRADE_CHOICES", "FiniteNumber", "JsonBoolean", "Reliability"]

#: Reliability grades accepted on the wire: upper case only, so the OpenAPI enum is exact.
GRADE_CHOICES: Final[tuple[str, ...]] = GRADES


def _json_type(value: object) -> str:
    """The JSON name of ``value``'s type, for messages ("got a string")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def _finite_float(value: object) -> float | None:
    """``value`` as a finite float, or ``None`` when it is not a finite JSON number."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        # A huge integer literal (10**400) parses as a Python int and overflows here.
        result = float(value)
    except OverflowError:
        return None
    return result if math.isfinite(result) else None


class FiniteNumber(ma.fields.Float):
    """A JSON number that is finite: no NaN, no ±Infinity, no booleans, no numeric strings.

    Deserializes to ``float``. Integers are accepted and converted.
    """

    default_error_messages = {
        "invalid": "Not a finite number; got {kind}.",
        "non_finite": "Not a finite number; NaN, Infinity and values beyond ±1.8e308 are refused.",
    }

    def _validated(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid", kind=_json_type(value))
        result = _finite_float(value)
        if result is None:
            raise self.make_error("non_finite")
        return result


class JsonBoolean(ma.fields.Boolean):
    """A JSON ``true`` or ``false``: no 1, no "yes", no "true" (marshmallow takes all three)."""

    default_error_messages = {"invalid": "Not a boolean; got {kind}."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", kind=_json_type(value))
        return value


class Reliability(ma.fields.Field[str | float]):
    """A source's reliability: an Admiralty grade ``"A"``–``"F"`` or a number in (0, 1).

    Grades are upper case only. ``null`` (or omitting the field) means "cannot be judged", the
    same as ``"F"``. The OpenAPI document shows the union as ``oneOf`` (see
    :func:`service.http.api.reliability_to_oneof`).
    """

    default_error_messages = {
        "invalid": (
            "Invalid reliability {input}; must be a grade A-F (upper case) or a number "
            "strictly between 0 and 1."
        ),
    }

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> str | float:
        if isinstance(value, str):
            if value in GRADE_CHOICES:
                return value
            raise self.make_error("invalid", input=repr(value))
        number = _finite_float(value)
        if number is not None and 0.0 < number < 1.0:
            return number
        shown = "true" if value is True else "false" if value is False else repr(value)
        raise self.make_error("invalid", input=shown)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value
