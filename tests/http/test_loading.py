"""The compiled field loader (:mod:`service.http.schemas.loading`) loads a valid body to what
marshmallow's own code makes of it, and leaves every invalid one to marshmallow, whose problem
documents are unchanged; with the compiled dumper, a reconcile runs none of marshmallow's
per-field code."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import marshmallow as ma
import pytest
from flask import Flask
from flask.testing import FlaskClient

from service.http.schemas import base
from service.http.schemas.base import StrictSchema
from service.http.schemas.loading import compile_fields
from service.http.schemas.reconcile import ReconcileRequestSchema
from tests.conftest import TROOP_CASE
from tests.helpers import reconcile_bodies

BODIES = reconcile_bodies()


def _without_compiled_loader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(base, "compile_fields", lambda schema: None)


@pytest.mark.parametrize("path", BODIES, ids=lambda p: p.stem)
def test_every_fixture_body_loads_as_marshmallow_does(
    app: Flask, path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.loads(path.read_text())["input"]
    schema = ReconcileRequestSchema()
    with app.test_request_context():
        fast = schema.load(copy.deepcopy(body))
        assert compile_fields(schema) is not None
        _without_compiled_loader(monkeypatch)
        plain = ReconcileRequestSchema().load(copy.deepcopy(body))

    assert repr(fast) == repr(plain)


@pytest.mark.parametrize("per_field", ["deserialize", "serialize"])
def test_a_reconcile_makes_no_per_field_call(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, per_field: str
) -> None:
    """Neither loading the body nor dumping the answer calls marshmallow's per-field code: the
    compiled loader and the compiled dumper (:mod:`service.http.schemas.dumping`) do it all."""
    expected = client.post("/v1/reconcile", json=TROOP_CASE).get_json()

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"marshmallow's per-field {per_field} was used")

    monkeypatch.setattr(ma.fields.Field, per_field, refuse)
    response = client.post("/v1/reconcile", json=TROOP_CASE)

    assert response.status_code == 200
    assert response.get_json() == expected


def _changed(change: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    body = copy.deepcopy(TROOP_CASE)
    change(body)
    return body


#: Bodies each wrong in one or several ways, at the top level and inside nested objects.
INVALID: dict[str, dict[str, Any]] = {
    "unknown_top_key": _changed(lambda b: b.update(colour="red")),
    "unknown_claim_key": _changed(lambda b: b["claims"][1].update(colour="red")),
    "missing_required": _changed(lambda b: b["claims"][0].pop("kind")),
    "null_not_allowed": _changed(lambda b: b["claims"][0].update(kind=None)),
    "wrong_type": _changed(lambda b: b["claims"][2].update(value="12000")),
    "validator_refuses": _changed(lambda b: b.update(levels=[0.5, 1.5])),
    "schema_rule": _changed(lambda b: b["claims"][0].update(low=1)),
    "unknown_source": _changed(lambda b: b["claims"][0].update(source="nobody")),
    "several_at_once": _changed(lambda b: (b["claims"][0].update(value=float("nan")),
                                           b["sources"][1].update(reliability="Z"),
                                           b.update(scale="cubic"))),
    "style_blank_subject": _changed(lambda b: b.update(style={"subject": " "})),
}


@pytest.mark.parametrize("body", INVALID.values(), ids=INVALID.keys())
def test_invalid_bodies_get_marshmallows_problem(
    app: Flask, body: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = app.test_client()
    text = json.dumps(body)  # NaN on purpose: the schema refuses it, naming the field
    headers = {"Content-Type": "application/json"}
    fast = client.post("/v1/reconcile", data=text, headers=headers)
    _without_compiled_loader(monkeypatch)
    plain = client.post("/v1/reconcile", data=text, headers=headers)

    assert fast.status_code == plain.status_code == 422
    assert fast.get_json() == plain.get_json()


# --- The rules of marshmallow's load, one by one ------------------------------------------------


class Inner(StrictSchema):
    n = ma.fields.Integer(required=True)


class Rules(StrictSchema):
    x = ma.fields.Float(load_default=1.5)
    made = ma.fields.List(ma.fields.Integer(), load_default=list)
    absent = ma.fields.String()  # no default: absent stays absent
    nullable = ma.fields.String(allow_none=True)
    renamed = ma.fields.Integer(data_key="wire_name")
    stored = ma.fields.Integer(attribute="kept.under")
    inner = ma.fields.Nested(Inner)
    inners = ma.fields.List(ma.fields.Nested(Inner))
    when = ma.fields.Date()
    ranked = ma.fields.Integer(validate=lambda v: v > 0)  # a validator answering False


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"x": 2, "nullable": None, "wire_name": "3", "stored": 4, "inner": {"n": 1},
         "inners": [{"n": 2}, {"n": "3"}], "when": "2024-10-18", "ranked": 5},
        {"ranked": 0},  # refused by the validator
        {"renamed": 1},  # the attribute name is not the key on the wire
        {"inner": {}},  # a nested required field missing
        {"nullable": 1, "x": True},
    ],
    ids=["defaults", "all_set", "validator_false", "attribute_name_on_wire", "nested_missing",
         "wrong_types"],
)
def test_rules_match_marshmallow(data: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    def outcome() -> Any:
        try:
            return Rules().load(copy.deepcopy(data))
        except ma.ValidationError as error:
            return error.messages

    assert compile_fields(Rules()) is not None
    fast = outcome()
    _without_compiled_loader(monkeypatch)
    assert repr(fast) == repr(outcome())


def test_a_field_with_its_own_load_functions_loads_the_ordinary_way() -> None:
    class Trimmed(StrictSchema):
        word = ma.fields.String(pre_load=[str.strip])

    assert compile_fields(Trimmed()) is None
    assert Trimmed().load({"word": " a "}) == {"word": "a"}


def test_a_reconcile_loads_its_nested_objects_without_marshmallows_load(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The claims and sources load through the compiled nested path: marshmallow's
    ``Schema._do_load`` runs once, for the body, not once more per claim and source."""
    expected = client.post("/v1/reconcile", json=TROOP_CASE).get_json()
    calls: list[str] = []
    do_load = ma.Schema._do_load

    def counted(self: ma.Schema, *args: Any, **kwargs: Any) -> Any:
        calls.append(type(self).__name__)
        return do_load(self, *args, **kwargs)

    monkeypatch.setattr(ma.Schema, "_do_load", counted)
    response = client.post("/v1/reconcile", json=TROOP_CASE)

    assert response.status_code == 200
    assert response.get_json() == expected
    assert calls == ["ReconcileRequestSchema"]


class Hooked(StrictSchema):
    """A nested schema with the hooks the nested path runs itself (marshmallow runs each kind in
    the order of the methods' names)."""

    n = ma.fields.Integer(required=True)
    m = ma.fields.Integer(load_default=0)

    @ma.validates_schema
    def small(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["n"] > 100:
            raise ma.ValidationError("too big", "n")

    @ma.validates_schema(pass_original=True, skip_on_field_errors=False)
    def no_extra_m(self, data: dict[str, Any], original: dict[str, Any], **kwargs: Any) -> None:
        if isinstance(original, dict) and original.get("m") == -1:
            raise ma.ValidationError("m of -1 is reserved")

    @ma.post_load
    def a_pair(self, data: dict[str, Any], **kwargs: Any) -> tuple[int, int, str]:
        return data["n"], data["m"], str(sorted(kwargs.items()))

    @ma.post_load(pass_original=True)
    def b_keep_raw(self, data: tuple[int, int, str], original: dict[str, Any],
                 **kwargs: Any) -> tuple[Any, ...]:
        return (*data, sorted(original))


class WithHooked(StrictSchema):
    one = ma.fields.Nested(Hooked, allow_none=True)
    many = ma.fields.List(ma.fields.Nested(Hooked), validate=lambda v: len(v) < 4)


class FieldValidated(StrictSchema):
    """A nested schema with an @validates method: marshmallow's load is kept for it."""

    n = ma.fields.Integer()

    @ma.validates("n")
    def positive(self, value: int, **kwargs: Any) -> None:
        if value <= 0:
            raise ma.ValidationError("not positive")


class WithFieldValidated(StrictSchema):
    inner = ma.fields.List(ma.fields.Nested(FieldValidated))


@pytest.mark.parametrize(
    ("schema", "data"),
    [
        (WithHooked, {"one": {"n": 1}, "many": [{"n": 2, "m": 3}, {"n": 4}]}),
        (WithHooked, {"one": None, "many": []}),
        (WithHooked, {"many": [{"n": 200}]}),  # a schema validator refuses
        (WithHooked, {"many": [{"n": 2, "m": -1}]}),  # one given the original refuses
        (WithHooked, {"many": [{"n": 2}] * 4}),  # the list's validator answers False
        (WithHooked, {"many": [{"n": 2, "x": 1}]}),  # an unknown key inside
        (WithHooked, {"many": [[1, 2]]}),  # not an object
        (WithHooked, {"one": {"n": 300}, "many": None}),
        (WithFieldValidated, {"inner": [{"n": 1}]}),
        (WithFieldValidated, {"inner": [{"n": 0}]}),
    ],
    ids=["hooks_run", "empty", "validator_refuses", "original_refuses", "list_too_long",
         "unknown_inner_key", "not_an_object", "several", "field_validator",
         "field_validator_refuses"],
)
def test_nested_hooks_match_marshmallow(
    schema: type[ma.Schema], data: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def outcome() -> Any:
        try:
            return schema().load(copy.deepcopy(data))
        except ma.ValidationError as error:
            return error.messages

    assert compile_fields(schema()) is not None
    fast = outcome()
    _without_compiled_loader(monkeypatch)
    assert repr(fast) == repr(outcome())
