"""What every schema of the contract shares: unknown keys refused, configured list limits, and
the small field builders of request fields (optional, a choice, a bounded list) and of
response fields (always present, nullable only when said)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, ClassVar, Final, TypeVar

import marshmallow as ma
from flask import current_app
from marshmallow import validate
from marshmallow.error_store import ErrorStore

from service.http.schemas.dumping import compile_dump
from service.http.schemas.fields import FiniteNumber
from service.http.schemas.loading import Refused, compile_fields

__all__ = [
    "MAX_LEVELS",
    "OPEN_UNIT",
    "POSITIVE",
    "ConfiguredMaxItems",
    "DataSchema",
    "StrictSchema",
    "bounded_list",
    "level_list",
    "no_duplicates",
    "one_of",
    "optional_number",
    "optional_str",
    "out_field",
    "out_int",
    "out_list",
    "out_nested",
    "out_num",
    "out_str",
    "out_time",
]

FieldT = TypeVar("FieldT", bound=ma.fields.Field[Any])

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
#: Strictly above 0 (a standard deviation, a drift, a rounding step).
POSITIVE: Final = validate.Range(min=0.0, min_inclusive=False, error="Must be positive.")


class StrictSchema(ma.Schema):
    """Base schema: unknown keys are an error, never silently dropped.

    Dumping goes through the schema's compiled dumper (:mod:`service.http.schemas.dumping`),
    and loading a valid object through its compiled field loader
    (:mod:`service.http.schemas.loading`): the same results as marshmallow's, without its
    per-field calls.
    """

    class Meta:
        unknown = ma.RAISE

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        """As :meth:`marshmallow.Schema.dump`, through the compiled dumper when there is one."""
        one = compile_dump(self)
        if one is None or obj is None:
            return super().dump(obj, many=many)
        if self.many if many is None else many:
            return [one(item) for item in obj]
        return one(obj)

    def _deserialize(
        self,
        data: Any,
        *,
        error_store: ErrorStore,
        many: bool = False,
        partial: Any = None,
        unknown: Any = ma.RAISE,
        index: int | None = None,
    ) -> Any:
        """As marshmallow's, through the compiled field loader while nothing is wrong."""
        if not many and type(data) is dict and unknown == ma.RAISE and partial in (None, False):
            load_fields = compile_fields(self)
            if load_fields is not None:
                try:
                    return load_fields(data, {} if partial is None else {"partial": partial})
                except Refused:
                    pass  # marshmallow's own code reports what is wrong
        return super()._deserialize(
            data, error_store=error_store, many=many, partial=partial, unknown=unknown,
            index=index,
        )


class DataSchema(StrictSchema):
    """A schema whose loaded fields are the keyword arguments of :attr:`loads_as` (a dataclass
    of the core or the store), which loading returns."""

    loads_as: ClassVar[Callable[..., Any]]

    @ma.post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> Any:
        return self.loads_as(**data)


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


def one_of(choices: Sequence[str], description: str, **kwargs: Any) -> ma.fields.String:
    """A string that must be one of ``choices`` (the document lists them as its ``enum``)."""
    return ma.fields.String(
        validate=validate.OneOf(choices), metadata={"description": description}, **kwargs
    )


def bounded_list(
    item: type[ma.Schema], setting: str, noun: str, description: str
) -> ma.fields.List[Any]:
    """A required list of ``item`` objects: at least one, at most ``app.config[setting]``."""
    return ma.fields.List(
        ma.fields.Nested(item),
        required=True,
        validate=[
            validate.Length(min=1, error=f"At least one {noun.removesuffix('s')} is required."),
            ConfiguredMaxItems(setting, noun),
        ],
        metadata={"description": description},
    )


def level_list(defaults: Sequence[float], description: str) -> ma.fields.List[Any]:
    """Probabilities of intervals: 1 to :data:`MAX_LEVELS` distinct numbers in (0, 1)."""
    return ma.fields.List(
        FiniteNumber(
            validate=validate.Range(
                min=0.0,
                max=1.0,
                min_inclusive=False,
                max_inclusive=False,
                error="Invalid level {input!r}; must lie strictly between 0 and 1.",
            )
        ),
        load_default=lambda: list(defaults),
        validate=[
            validate.Length(min=1, max=MAX_LEVELS, error="Give between {min} and {max} levels."),
            no_duplicates,
        ],
        # apispec cannot show a callable load_default
        metadata={"description": description, "default": list(defaults)},
    )


# Response fields: every one is present in every answer (``required`` in the document), null
# only where it says so.


def out_field(
    kind: type[FieldT], description: str, *, nullable: bool = False, **kwargs: Any
) -> FieldT:
    """A response field of type ``kind``, present in every answer; null only if ``nullable``."""
    return kind(required=True, allow_none=nullable, metadata={"description": description}, **kwargs)


out_num = partial(out_field, ma.fields.Float)
out_int = partial(out_field, ma.fields.Integer)
out_str = partial(out_field, ma.fields.String)
out_time = partial(out_field, ma.fields.DateTime)


def out_nested(
    schema: type[ma.Schema] | Callable[[], ma.Schema], description: str, **kwargs: Any
) -> ma.fields.Nested:
    return ma.fields.Nested(schema, required=True, metadata={"description": description}, **kwargs)


def out_list(
    schema: type[ma.Schema] | Callable[[], ma.Schema], item: str, description: str, **kwargs: Any
) -> ma.fields.List[Any]:
    """A response list of ``schema`` objects (each described as ``item``), present in every
    answer."""
    return ma.fields.List(
        out_nested(schema, item), required=True, metadata={"description": description}, **kwargs
    )
