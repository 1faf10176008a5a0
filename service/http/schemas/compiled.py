"""One cache for the plans compiled from a schema's fields (:mod:`.dumping`, :mod:`.loading`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import marshmallow as ma

Plan = TypeVar("Plan")


def cached_plan(schema: ma.Schema, key: str, fields: Mapping[str, Any],
                build: Callable[[ma.Schema], Plan]) -> Plan:
    """``build(schema)``, cached on the instance under ``key`` and keyed by ``fields``.

    ``fields`` is the instance's ``dump_fields`` or ``load_fields``: marshmallow rebuilds that
    dict when it re-initialises the fields (a copied schema given other ``only``/``exclude``),
    and the copy would otherwise inherit a plan made for the original's fields.
    """
    cached = schema.__dict__.get(key)
    if cached is not None and cached[0] is fields:
        plan: Plan = cached[1]
        return plan
    plan = build(schema)
    schema.__dict__[key] = (fields, plan)
    return plan
