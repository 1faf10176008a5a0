"""A claim is declared in three places (the core dataclass, the contract's base schema, the
store's columns with their migration); everything else derives from them. A field added to one
of the three but not the others fails here; a field added to all three reaches every schema,
the stored input and the core conversion without another edit."""

from __future__ import annotations

from dataclasses import fields

from models.claims import CLAIM_NUMBERS, KIND_NUMBERS, Claim
from service.http.schemas.batch import BatchClaimSchema
from service.http.schemas.claim import ClaimFields
from service.http.schemas.reconcile import ClaimSchema
from service.http.schemas.resources import (
    ClaimCreateSchema,
    ClaimOutSchema,
    ClaimPatchSchema,
    ClaimRevisionSchema,
)
from service.store.inputs import ClaimInput
from service.store.orm import CLAIM_FIELDS

#: Kept for the record only: stored and echoed, never used by the core.
RECORD_FIELDS = {"quote", "url"}
#: Stored state of a claim rather than what its source said.
STATE_FIELDS = {"retracted"}


def core_fields() -> set[str]:
    return {f.name for f in fields(Claim)}


def test_the_three_declarations_agree() -> None:
    contract = set(ClaimFields().fields)
    stored = {"source" if name == "source_id" else name for name in CLAIM_FIELDS}
    assert contract == core_fields() | RECORD_FIELDS
    assert stored == core_fields() | RECORD_FIELDS | STATE_FIELDS


def test_every_claim_schema_derives_its_fields() -> None:
    contract = set(ClaimFields().fields)
    for schema in (ClaimSchema, ClaimCreateSchema, ClaimPatchSchema, ClaimOutSchema,
                   ClaimRevisionSchema):
        assert contract <= set(schema().fields), schema.__name__
        assert issubclass(schema, ClaimFields), schema.__name__
    assert issubclass(BatchClaimSchema, ClaimFields)
    assert set(BatchClaimSchema().fields) - {"resolution"} <= contract


def test_the_stored_input_is_the_core_claim_plus_the_record() -> None:
    assert issubclass(ClaimInput, Claim)
    assert {f.name for f in fields(ClaimInput)} == core_fields() | RECORD_FIELDS


def test_kind_rules_are_declared_once_and_name_real_numbers() -> None:
    assert set(KIND_NUMBERS) == {"point", "at_least", "at_most", "range"}
    for variants in KIND_NUMBERS.values():
        for variant in variants:
            assert set(variant) <= set(CLAIM_NUMBERS) <= core_fields()
