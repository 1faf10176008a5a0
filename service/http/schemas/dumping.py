"""Dumping a response through its schema without marshmallow's per-field machinery.

marshmallow dumps each value through ``Field.serialize``: an accessor call, a missing-value
check, then the field's ``_serialize``, for every field of every nested object. For the
10-claim reconcile answer (about 450 values) that was 1.2 ms a request, more than the rest of
the HTTP layer together.

:func:`compile_dump` reads a schema's dump fields once and returns a function doing the same
work with plain Python: a float field converts with ``float``, an integer with ``int``, a
string with ``str``, a date with its ISO format, a nested schema with its own compiled dumper.
The output is the same as ``Schema.dump``'s, value for value and key for key: the schema stays
the contract and the OpenAPI document does not change. Anything this module does not know
exactly (a dump hook, a custom field's ``_serialize``, an overridden ``get_attribute``, a
``dict_class`` other than ``dict``) makes :func:`compile_dump` return ``None``, and the schema
dumps the ordinary way (:meth:`service.http.schemas.base.StrictSchema.dump`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import marshmallow as ma
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import ensure_text_type, get_value

from service.http.schemas.compiled import cached_plan

__all__ = ["Dumper", "compile_dump"]

#: Dumps one object (``many`` already resolved by the caller).
Dumper = Callable[[Any], Any]
_Convert = Callable[[Any], Any]

_ABSENT: Final = object()
_MISSING: Final = ma.missing
_CACHE: Final = "_compiled_dump"


def _number(num_type: type[Any]) -> _Convert:
    def convert(value: Any) -> Any:
        return None if value is None else num_type(value)

    return convert


def _text(value: Any) -> Any:
    if type(value) is str:  # most values: ensure_text_type would return str(value), the same
        return value
    return None if value is None else ensure_text_type(value)


def _same(value: Any) -> Any:
    return value


_TEMPORAL: Final = (ma.fields.Date, ma.fields.DateTime, ma.fields.Time)


def _temporal(field: ma.fields.Date | ma.fields.DateTime | ma.fields.Time) -> _Convert:
    # As _TemporalField._serialize: a named format's function, else strftime with the format.
    data_format = field.format or field.DEFAULT_FORMAT
    named = field.SERIALIZATION_FUNCS.get(data_format)

    def convert(value: Any) -> Any:
        if value is None:
            return None
        return named(value) if named is not None else value.strftime(data_format)

    return convert


def _nested(field: ma.fields.Nested) -> _Convert | None:
    schema = field.schema
    many = bool(schema.many or field.many)
    dump_one = _plan(schema)
    if dump_one is None:
        def fallback(value: Any) -> Any:
            return None if value is None else schema.dump(value, many=many)

        return fallback
    one: Dumper = dump_one
    if many:
        def dump_many(value: Any) -> Any:
            return None if value is None else [one(item) for item in value]

        return dump_many

    def dump_single(value: Any) -> Any:
        return None if value is None else one(value)

    return dump_single


def _list(field: ma.fields.List[Any]) -> _Convert | None:
    inner = _converter(field.inner)
    if inner is None:
        return None
    each: _Convert = inner

    def convert(value: Any) -> Any:
        return None if value is None else [each(item) for item in value]

    return convert


def _converter(field: ma.fields.Field[Any]) -> _Convert | None:
    """What ``field._serialize`` does to a value, or None when not known exactly."""
    kind = type(field)
    serialize = kind._serialize
    if serialize is ma.fields.Number._serialize and isinstance(field, ma.fields.Number):
        if field.as_string or type(field)._format_num is not ma.fields.Number._format_num:
            return None
        return _number(field.num_type)
    if serialize is ma.fields.String._serialize:
        return _text
    if serialize is ma.fields.Field._serialize:
        return _same
    # Date, DateTime and Time share _TemporalField's _serialize (a private class).
    if serialize is ma.fields.Date._serialize and isinstance(field, _TEMPORAL):
        return _temporal(field)
    if kind is ma.fields.Nested and isinstance(field, ma.fields.Nested):
        return _nested(field)
    if kind is ma.fields.List and isinstance(field, ma.fields.List):
        return _list(field)
    return None


def _plan(schema: ma.Schema) -> Dumper | None:
    """The compiled dumper of one object of ``schema``, cached on the instance (keyed by its
    ``dump_fields``, see :func:`.compiled.cached_plan`)."""
    return cached_plan(schema, _CACHE, schema.dump_fields, _compile)


def _compile(schema: ma.Schema) -> Dumper | None:
    if (
        schema._hooks[PRE_DUMP]
        or schema._hooks[POST_DUMP]
        or type(schema).get_attribute is not ma.Schema.get_attribute
        or schema.dict_class is not dict
    ):
        return None
    steps: list[tuple[str, str, _Convert, Any]] = []
    for name, field in schema.dump_fields.items():
        if not field._CHECK_ATTRIBUTE:
            return None
        convert = _converter(field)
        if convert is None:
            return None
        key = name if field.attribute is None else field.attribute
        out_key = name if field.data_key is None else field.data_key
        steps.append((key, out_key, convert, field.dump_default))
    plain = all("." not in key for key, _, _, _ in steps)

    def dump_one(obj: Any) -> dict[str, Any]:
        fast = plain and type(obj) is dict
        result: dict[str, Any] = {}
        for key, out_key, convert, default in steps:
            # As marshmallow.utils.get_value: obj[key], else the attribute, else missing.
            if fast:
                value = obj.get(key, _ABSENT)
                if value is _ABSENT:
                    value = getattr(obj, key, _MISSING)
            else:
                value = get_value(obj, key, _MISSING)
            if value is _MISSING:
                value = default() if callable(default) else default
                if value is _MISSING:
                    continue
            result[out_key] = convert(value)
        return result

    return dump_one


def compile_dump(schema: ma.Schema) -> Dumper | None:
    """A function dumping one object exactly as ``schema.dump`` would, or None.

    Parameters
    ----------
    schema : marshmallow.Schema
        A schema instance; its dump fields (after ``only``/``exclude``) are read once and the
        result is cached on the instance.

    Returns
    -------
    callable or None
        ``f(obj) -> dict``; None when the schema or one of its fields needs marshmallow's own
        dump (hooks, a custom ``_serialize``, ``as_string`` numbers, ...).
    """
    return _plan(schema)
