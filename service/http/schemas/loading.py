"""Loading a valid request through its schema without marshmallow's per-field bookkeeping.

For each field of each object, marshmallow's ``Schema._deserialize`` builds a closure and a
keyword dict, calls it through an error-collecting wrapper, and ``Field.deserialize`` checks
for missing and null values around the field's own ``_deserialize`` and validators. For the
body of a 10-claim reconcile (20 objects, about 300 fields with their defaults) that
bookkeeping was most of the 0.5 ms its load took.

:func:`compile_fields` reads a schema's load fields once and returns a function that does, for
one object, what ``Schema._deserialize`` does when nothing is wrong: the same defaults, the
same calls to each field's ``_deserialize`` and validators (nested schemas load through their
own ``load``, hooks included), the same keys in the same order. At the first thing that is
not plainly valid (a required field missing, a null where none is allowed, an unknown key, a
field or validator refusing its value) it gives up, and
:meth:`service.http.schemas.base.StrictSchema._deserialize` runs marshmallow's own code on the
same data, which reports every error as before. Loading is free of side effects, so doing the
work again costs only time, and only for invalid bodies.

The schema-level validators and ``post_load`` hooks are marshmallow's and run unchanged
around this (:meth:`marshmallow.Schema._do_load`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import marshmallow as ma
from marshmallow.decorators import POST_LOAD, PRE_LOAD, VALIDATES, VALIDATES_SCHEMA
from marshmallow.utils import is_collection, set_value

from service.http.schemas.compiled import cached_plan

__all__ = ["FieldsLoader", "Refused", "compile_fields"]

#: Loads the fields of one object (a dict) or raises :class:`Refused`.
FieldsLoader = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]

_MISSING: Final = ma.missing
_CACHE: Final = "_compiled_load"


class Refused(Exception):
    """The object is not plainly valid: load it the ordinary way to report why."""


_Load = Callable[[Any, "str | None", Any, dict[str, Any]], Any]


def _value(field: ma.fields.Field[Any]) -> _Load | None:
    """What ``field.deserialize`` does to a present value, raising :class:`Refused` where it
    would raise a ValidationError; None when the field has load functions of its own."""
    if field.pre_load or field.post_load:
        return None
    allow_none = bool(field.allow_none)
    validators = tuple(field.validators)
    if type(field) is ma.fields.List and isinstance(field, ma.fields.List):
        # List._deserialize calls inner.deserialize for each item: compiled too.
        each = _value(field.inner)
        if each is None:
            return None
        item: _Load = each

        def load_list(raw: Any, key: str | None, data: Any, kwargs: dict[str, Any]) -> Any:
            if raw is None:
                if allow_none:
                    return None
                raise Refused
            if not is_collection(raw):
                raise Refused
            value = [item(one, None, None, kwargs) for one in raw]
            _validate(validators, value)
            return value

        return load_list
    if type(field) is ma.fields.Nested:
        nested = _nested(field, allow_none, validators)
        if nested is not None:
            return nested
    deserialize = field._deserialize

    def load(raw: Any, key: str | None, data: Any, kwargs: dict[str, Any]) -> Any:
        if raw is None:
            if allow_none:
                return None
            raise Refused
        try:
            value = deserialize(raw, key, data, **kwargs)
        except ma.ValidationError:
            raise Refused from None
        _validate(validators, value)
        return value

    return load


def _nested(field: ma.fields.Nested, allow_none: bool,
            validators: tuple[Callable[[Any], Any], ...]) -> _Load | None:
    """What ``field.deserialize`` does to a present object when its schema loads it without
    errors, or None when the nested schema needs marshmallow's own ``load``.

    ``Nested._deserialize`` calls ``schema.load``, which runs ``Schema._do_load``: with no
    pre-load hooks and no field validators (``@validates``), that is the fields' load (compiled
    here too), then each schema validator and each post-load hook, in marshmallow's order, with
    ``partial``, ``many=False`` and ``unknown`` as ``_do_load`` passes them. A validator or hook
    refusing (a ValidationError) gives up, as a field does; the whole body is then loaded the
    ordinary way, which reports it as before. Per object, this spares the error store, the
    hook look-ups and marshmallow's wrappers: about half a 10-claim body's load.
    """
    schema = field.schema
    if (schema.many or field.many or type(schema).load is not ma.Schema.load
            or type(schema)._do_load is not ma.Schema._do_load):
        return None
    unknown = schema.unknown if field.unknown is None else field.unknown
    hooks = schema._hooks
    if unknown != ma.RAISE or hooks[PRE_LOAD] or hooks[VALIDATES]:
        return None
    load_fields = compile_fields(schema)
    if load_fields is None:
        return None
    # Bound methods, each with whether it takes the original data; pass_collection hooks
    # (run first by marshmallow) are left to marshmallow.
    steps: list[tuple[Callable[..., Any], bool, bool]] = []
    for tag, is_processor in ((VALIDATES_SCHEMA, False), (POST_LOAD, True)):
        for name, pass_collection, hook_kwargs in hooks[tag]:
            if pass_collection:
                return None
            steps.append((getattr(schema, name), bool(hook_kwargs.get("pass_original")),
                          is_processor))
    own_partial = schema.partial

    def load_nested(raw: Any, key: str | None, data: Any, kwargs: dict[str, Any]) -> Any:
        if raw is None:
            if allow_none:
                return None
            raise Refused
        if type(raw) is not dict:
            raise Refused
        partial = kwargs.get("partial")
        if partial is None:
            partial = own_partial
        if partial not in (None, False):
            raise Refused
        result = load_fields(raw, {} if partial is None else {"partial": partial})
        try:
            for step, pass_original, is_processor in steps:
                out = (step(result, raw, partial=partial, many=False, unknown=unknown)
                       if pass_original else
                       step(result, partial=partial, many=False, unknown=unknown))
                if is_processor:
                    result = out
        except ma.ValidationError:
            raise Refused from None
        _validate(validators, result)
        return result

    return load_nested


def _validate(validators: tuple[Callable[[Any], Any], ...], value: Any) -> None:
    # As Field._validate: a validator refuses by raising, or by answering False.
    try:
        for validator in validators:
            if validator(value) is False:
                raise Refused
    except ma.ValidationError:
        raise Refused from None


def _compile(schema: ma.Schema) -> FieldsLoader | None:
    if schema.dict_class is not dict:
        return None
    steps: list[tuple[str, str, bool, _Load, bool, Any]] = []
    for name, field in schema.load_fields.items():
        load = _value(field)
        if load is None:
            return None
        key = name if field.data_key is None else field.data_key
        target = field.attribute or name
        steps.append((key, target, "." in target, load, bool(field.required),
                      field.load_default))
    known = frozenset(step[0] for step in steps)

    def load_fields(data: dict[str, Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        # As Schema._deserialize with unknown=RAISE when no field stores an error.
        for key in data:
            if key not in known:
                raise Refused
        result: dict[str, Any] = {}
        for key, target, dotted, load, required, default in steps:
            raw = data.get(key, _MISSING)
            if raw is _MISSING:
                if required:
                    raise Refused
                value = default() if callable(default) else default
                if value is _MISSING:
                    continue
            else:
                value = load(raw, key, data, kwargs)
            if dotted:
                set_value(result, target, value)
            else:
                result[target] = value
        return result

    return load_fields


def compile_fields(schema: ma.Schema) -> FieldsLoader | None:
    """The compiled loader of ``schema``'s fields, or None when marshmallow's is needed.

    Cached on the instance, keyed by its ``load_fields`` (rebuilt by marshmallow when a copy
    gets other ``only``/``exclude``).

    Returns
    -------
    callable or None
        ``f(data, kwargs) -> dict``, ``kwargs`` being what each field's ``_deserialize`` gets
        (``partial``, when the load was given one); raises :class:`Refused`. None when a field
        (or a list's item field) has its own pre- or post-load functions, or the schema's
        ``dict_class`` is not ``dict``.
    """
    return cached_plan(schema, _CACHE, schema.load_fields, _compile)
