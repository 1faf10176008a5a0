"""The compiled dumper (:mod:`service.http.schemas.dumping`) answers exactly what marshmallow's
own ``Schema.dump`` would: same keys in the same order, same values of the same types."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask

from models.reconcile import reconcile
from service.http.mapping import reconcile_response
from service.http.schemas.base import StrictSchema
from service.http.schemas.dumping import compile_dump
from service.http.schemas.reconcile import ReconcileRequestSchema, ReconcileResponseSchema
from tests.helpers import reconcile_bodies

BODIES = reconcile_bodies()


def _marshmallow(schema: ma.Schema, obj: Any, many: bool | None = None) -> Any:
    """What marshmallow itself dumps, bypassing the compiled dumper."""
    return ma.Schema.dump(schema, obj, many=many)


def _same(a: Any, b: Any) -> bool:
    # repr tells 1 from 1.0 and True from 1, and shows the key order.
    return repr(a) == repr(b)


@pytest.mark.parametrize("path", BODIES, ids=lambda p: p.stem)
def test_every_fixture_answer_dumps_as_marshmallow_does(app: Flask, path: Path) -> None:
    schema = ReconcileResponseSchema()
    with app.test_request_context():
        body = ReconcileRequestSchema().load(json.loads(path.read_text())["input"])
        result = reconcile(body.claims, body.sources, **body.options())
        document = reconcile_response(body, result)

    assert compile_dump(schema) is not None
    assert _same(schema.dump(document), _marshmallow(schema, document))


# --- The rules of marshmallow's dump, one by one ------------------------------------------------


class Inner(StrictSchema):
    n = ma.fields.Integer()
    when = ma.fields.Date(allow_none=True)
    at = ma.fields.DateTime(format="%Y-%m-%d %H:%M")


class Outer(StrictSchema):
    x = ma.fields.Float(allow_none=True)
    label = ma.fields.String(data_key="name")
    renamed = ma.fields.Integer(attribute="source_key")
    flag = ma.fields.Boolean()
    default = ma.fields.Integer(dump_default=7)
    made = ma.fields.List(ma.fields.Integer(), dump_default=list)
    inner = ma.fields.Nested(Inner, allow_none=True)
    inners = ma.fields.List(ma.fields.Nested(Inner))
    many = ma.fields.Nested(Inner, many=True)
    only_n = ma.fields.Nested(Inner, only=("n",))
    raw = ma.fields.Raw()


FULL: dict[str, Any] = {
    "x": 3,  # an int dumped through a Float field becomes 3.0
    "label": 12,  # a String field writes str(12)
    "source_key": 2.9,  # an Integer field truncates, as int() does
    "flag": 1,  # a Boolean field dumps the value as it is
    "inner": {"n": "4", "when": dt.date(2024, 10, 18), "at": dt.datetime(2024, 1, 2, 3, 4)},
    "inners": [{"n": 1, "when": None}, {}],
    "many": [{"n": 2}],
    "only_n": {"n": 5, "when": dt.date(2020, 1, 1)},
    "raw": {"anything": [1, 2]},
    "extra": "not in the schema, not in the answer",
}


@pytest.mark.parametrize(
    "document",
    [
        FULL,
        {},  # every key missing: defaults only
        {"x": None, "inner": None, "inners": None, "label": None},
        {"items": 1},  # a key named like a dict method
    ],
    ids=["full", "empty", "nulls", "dict_method_name"],
)
def test_rules_match_marshmallow(document: dict[str, Any]) -> None:
    schema = Outer()

    assert compile_dump(schema) is not None
    assert _same(schema.dump(document), _marshmallow(schema, document))
    assert _same(schema.dump([document], many=True), _marshmallow(schema, [document], many=True))


def test_objects_are_read_by_attribute() -> None:
    @dataclasses.dataclass
    class Row:
        n: int
        when: dt.date | None = None

    schema = Inner()
    row = Row(3, dt.date(2024, 5, 6))

    assert _same(schema.dump(row), _marshmallow(schema, row))
    assert _same(Inner(many=True).dump([row, row]), _marshmallow(Inner(many=True), [row, row]))


def test_a_schema_with_a_dump_hook_dumps_the_ordinary_way() -> None:
    class Hooked(StrictSchema):
        n = ma.fields.Integer()

        @ma.post_dump
        def doubled(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            return {"n": data["n"] * 2}

    assert compile_dump(Hooked()) is None
    assert Hooked().dump({"n": 2}) == {"n": 4}


def test_a_custom_field_dumps_the_ordinary_way() -> None:
    class Upper(ma.fields.String):
        def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
            return str(value).upper()

    class WithCustom(StrictSchema):
        word = Upper()

    class Nesting(StrictSchema):
        inner = ma.fields.Nested(WithCustom)

    assert compile_dump(WithCustom()) is None
    assert Nesting().dump({"inner": {"word": "ab"}}) == {"inner": {"word": "AB"}}


def test_a_copy_with_other_fields_gets_its_own_plan() -> None:
    full = Inner()
    document = {"n": 1, "when": dt.date(2024, 1, 1)}
    assert set(full.dump(document)) == {"n", "when"}

    # Nested copies a schema instance and re-initialises its fields for `only`.
    class Parent(StrictSchema):
        child = ma.fields.Nested(full, only=("n",))

    assert Parent().dump({"child": document}) == {"child": {"n": 1}}
    assert set(full.dump(document)) == {"n", "when"}
