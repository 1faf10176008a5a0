"""marshmallow schemas of the stored resources: sources, questions, claims, their histories.

Request schemas load into the repository's input dataclasses (or, for PATCH, a dict of the
fields sent); response schemas dump ORM rows. The claim and source fields reuse the
``POST /v1/reconcile`` schemas, so a claim is validated the same way whether it is reconciled
on the fly or stored. Every schema refuses unknown keys, including read-only ones sent back
(``id``, ``version``…): the version to check goes in ``If-Match``.
"""

from __future__ import annotations

from typing import Any, Final

import marshmallow as ma
from marshmallow import validate

from models.claims import CLAIM_KINDS, DYNAMICS_NAMES, SOURCE_TYPES
from service.http.database import learning_state
from service.http.pagination import PageQuerySchema, page_schema
from service.http.schemas.base import (
    MAX_LEVELS,
    OPEN_UNIT,
    DataSchema,
    StrictSchema,
    one_of,
    optional_str,
    out_int,
    out_num,
    out_str,
    out_time,
)
from service.http.schemas.claim import ClaimChanges, ClaimFields, StoredClaimFields
from service.http.schemas.fields import GRADE_CHOICES, FiniteNumber, Reliability
from service.http.schemas.reconcile import (
    DEFAULT_LEVELS,
    METHODS,
    SCALES,
    LearningSchema,
    SourceSchema,
)
from service.store.inputs import (
    ClaimInput,
    QuestionInput,
    ResolutionInput,
    SourceInput,
    credibility_summary,
)
from service.store.orm import (
    CATEGORY_LENGTH,
    ID_LENGTH,
    NAME_LENGTH,
    TEXT_LENGTH,
    TITLE_LENGTH,
    UNIT_LENGTH,
    Question,
    QuestionRevision,
    Source,
)

#: Stored source ids appear in URLs: letters, digits and ``. _ : -`` only.
SOURCE_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
STATUSES: Final = ("open", "resolved")


def _desc(text: str, **kwargs: Any) -> dict[str, Any]:
    return {"metadata": {"description": text}, **kwargs}


def _text(max_length: int, text: str) -> ma.fields.String:
    return ma.fields.String(
        allow_none=True, validate=validate.Length(max=max_length), **_desc(text)
    )


class _StoredSchema(StrictSchema):
    """Dumps a stored row (or revision): each field is the row's attribute of that name, except
    those :meth:`derived` gives."""

    def derived(self, row: Any) -> dict[str, Any]:
        """The fields that are not plain attributes of ``row``, by name."""
        return {}

    @ma.pre_dump
    def read_row(self, row: Any, **kwargs: Any) -> dict[str, Any]:
        derived = self.derived(row)
        return {
            name: derived[name] if name in derived else getattr(row, name)
            for name in self.dump_fields
        }


# --- Sources ------------------------------------------------------------------------------------


class SourceCreateSchema(SourceSchema):
    """Body of ``POST /v1/sources``."""

    loads_as = SourceInput

    id = ma.fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=ID_LENGTH),
            validate.Regexp(
                SOURCE_ID_PATTERN,
                error="Invalid id {input!r}; use letters, digits, '.', '_', ':' or '-', "
                "starting with a letter or digit.",
            ),
        ],
        **_desc(
            "Identifier chosen by you, e.g. nis; unique, fixed once created, used in URLs and "
            "in claims."
        ),
    )


class SourcePatchSchema(StrictSchema):
    """Body of ``PATCH /v1/sources/{id}``: only the fields to change."""

    name = _text(NAME_LENGTH, "Display name; null clears it.")
    type = one_of(SOURCE_TYPES, "Kind of source.")
    reliability = Reliability(
        allow_none=True,
        **_desc("Admiralty grade A-F or a credibility in (0, 1); null means cannot be judged."),
    )


class AgreementSchema(StrictSchema):
    """Credibility learned from agreement across every stored question, by
    ``triangulate learn agreement``. Shown only: estimates do not use it."""

    credibility = out_num(
        "Probability that a claim of the source is right, learned from how its figures agree "
        "with the other sources' across every stored question; comparable with prior."
    )
    spread = out_num("Spread of its right claims on the log scale.")
    bias = out_num("Systematic offset on the log scale (+0.1 inflates by ~10 %).")
    hit_rate = out_num(
        "Probability that a figure lands within about ±25 % of the consensus; comparable with "
        "prior_hit_rate and hit_rate."
    )
    n_claims = out_int("Claims of the source behind these values.")
    n_questions = out_int("Questions those claims are about.")
    computed_at = out_time("When `triangulate learn agreement` computed these values.")


class CredibilitySchema(StrictSchema):
    """How credible a source is: its grade's prior and what its track record taught."""

    prior = out_num("Credibility of the source's grade (or number): P(a claim is right).")
    prior_spread = out_num("Spread of a right claim under the prior, on the working scale.")
    prior_hit_rate = out_num(
        "Under the prior, the probability that a figure lands within about ±25 % of the truth."
    )
    prior_from = out_str("Where the prior comes from: grade, number or unknown (F / none).")
    grade = out_str("The grade the prior was built from, if any.", nullable=True)
    learned = out_num(
        "How good the source's resolved record shows it to be, on the scale of prior: the "
        "credibility of a graded source whose figures miss the truth by as much on average "
        "(0.95 as good as an A source, 0.30 as an E; misses beyond a factor e count as e). "
        "Credibility, spread, bias and the uncertainty about an ungraded source all count. "
        "Null before any of the source's claims was resolved.",
        nullable=True,
    )
    p_right = out_num(
        "Learned probability that a claim of the source is right, as estimates use it; null "
        "before any of the source's claims was resolved.",
        nullable=True,
    )
    n_resolved = out_int("Resolved claims behind the learned values.")
    spread = out_num("Learned spread of right claims on the working scale.", nullable=True)
    bias = out_num(
        "Learned systematic offset on the working scale (log units: +0.1 inflates by ~10 %).",
        nullable=True,
    )
    hit_rate = out_num(
        "Learned probability that a figure lands within about ±25 % of the truth; folds "
        "credibility, spread and bias into one number comparable with prior_hit_rate.",
        nullable=True,
    )
    observed_hit_rate = out_num(
        "Raw share of the source's resolved point figures within about ±25 % of the truth.",
        nullable=True,
    )
    calibration = out_num(
        "Share of the source's stated ranges, bounds and intervals that held the truth.",
        nullable=True,
    )
    n_calibration = out_int("Stated intervals behind calibration.")
    used = out_str(
        "What estimates use now: learned, or the prior's origin (grade, number, unknown)."
    )
    updated_at = out_time("When the track record last changed.", nullable=True)
    learning = ma.fields.Nested(
        LearningSchema, required=True,
        **_desc("Whether the learned values include every change they depend on: pending "
                "right after a resolution or a change to a resolved question's claims, until "
                "the learning job has relearned them."),
    )
    agreement = ma.fields.Nested(
        AgreementSchema, required=True, allow_none=True,
        **_desc(
            "Credibility learned from agreement across the stored questions (shown, not used "
            "by estimates); null until `triangulate learn agreement` has run with claims of "
            "this source."
        ),
    )


class SourceOutSchema(_StoredSchema):
    """A stored source."""

    id = out_str("The source's id.")
    name = out_str("Display name.", nullable=True)
    type = out_str("Kind of source.")
    reliability = Reliability(
        required=True, allow_none=True, **_desc("Grade A-F, a number in (0, 1), or null.")
    )
    credibility = ma.fields.Nested(
        CredibilitySchema, required=True, **_desc("Prior and learned credibility.")
    )
    version = out_int('Grows with each change; the ETag is this number in quotes ("3").')
    created_at = out_time("When the source was created.")
    created_by = out_str("Name of the API key that created it.")
    updated_at = out_time("When it last changed.")
    updated_by = out_str("Name of the API key that last changed it.")

    def derived(self, source: Source) -> dict[str, Any]:
        return {"credibility": credibility_summary(source, learning_state())}


class SourceRevisionSchema(_StoredSchema):
    """A source as it was after one change."""

    version = out_int("The version this change produced.")
    action = out_str("create or edit.")
    name = out_str("Display name.", nullable=True)
    type = out_str("Kind of source.")
    reliability = Reliability(
        required=True, allow_none=True, **_desc("Grade A-F, a number in (0, 1), or null.")
    )
    recorded_at = out_time("When the change was made.")
    recorded_by = out_str("Name of the API key that made it.")

    def derived(self, revision: Any) -> dict[str, Any]:
        grade = revision.grade
        return {"reliability": grade if grade is not None else revision.reliability_number}


class SourceListQuery(PageQuerySchema):
    """Query of ``GET /v1/sources``."""

    type = one_of(SOURCE_TYPES, "Only this type.")
    grade = one_of(GRADE_CHOICES, "Only this grade; F also lists sources given no reliability.")


SourcePageSchema = page_schema(SourceOutSchema, "SourcePageSchema")
SourceHistorySchema = page_schema(SourceRevisionSchema, "SourceRevisionPageSchema")


# --- Questions ----------------------------------------------------------------------------------


class QuestionCreateSchema(DataSchema):
    """Body of ``POST /v1/questions``."""

    loads_as = QuestionInput

    title = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=TITLE_LENGTH),
        **_desc("The quantity asked about, e.g. North Korean soldiers in Russia."),
    )
    unit = optional_str(UNIT_LENGTH, "Unit of the quantity, e.g. soldiers.")
    scale = one_of(
        SCALES,
        "Working scale: log, linear, or auto (log when every figure is positive).",
        load_default="auto",
    )
    dynamics = one_of(
        DYNAMICS_NAMES,
        "How the quantity moves in time: static (one fixed quantity; claims' dates ignored), "
        "cumulative (never decreases: deaths, troops sent) or drifting (wanders up and down). "
        "The moving kinds read each claim's as_of and horizon; see POST /v1/reconcile.",
        load_default="static",
    )
    category = ma.fields.String(
        load_default=None, allow_none=True, validate=validate.Length(min=1, max=CATEGORY_LENGTH),
        **_desc(
            "The kind of question, e.g. Sen-G for a Senate race: its shared error (the error all "
            "its claims make together) is learned from the resolved questions of the same "
            "category. Omitted or null: no category, no shared error."
        ),
    )


class QuestionPatchSchema(StrictSchema):
    """Body of ``PATCH /v1/questions/{id}``: only the fields to change."""

    title = ma.fields.String(
        validate=validate.Length(min=1, max=TITLE_LENGTH), **_desc("The quantity asked about.")
    )
    unit = _text(UNIT_LENGTH, "Unit of the quantity; null clears it.")
    scale = one_of(SCALES, "Working scale.")
    dynamics = one_of(DYNAMICS_NAMES, "How the quantity moves in time.")
    category = ma.fields.String(
        allow_none=True, validate=validate.Length(min=1, max=CATEGORY_LENGTH),
        **_desc("The kind of question (its shared error is learned per category); null "
                "clears it."),
    )


class ResolutionSchema(DataSchema):
    """Body of ``POST /v1/questions/{id}/resolution``: the true value, once known."""

    loads_as = ResolutionInput

    value = FiniteNumber(required=True, **_desc("The true value, in the question's unit."))
    date = ma.fields.Date(
        load_default=None, allow_none=True, **_desc("ISO date at which the value held.")
    )
    reference = optional_str(TEXT_LENGTH, "Where the true value comes from (a report, a URL).")


class ResolutionOutSchema(StrictSchema):
    """The recorded truth of a resolved question."""

    value = out_num("The true value.")
    date = ma.fields.Date(required=True, allow_none=True, **_desc("When it held."))
    reference = out_str("Where it comes from.", nullable=True)


def _resolution(state: Question | QuestionRevision) -> dict[str, Any] | None:
    if state.status != "resolved":
        return None
    return {
        "value": state.resolution_value, "date": state.resolution_date,
        "reference": state.resolution_reference,
    }


class QuestionOutSchema(_StoredSchema):
    """A stored question."""

    id = out_int("The question's id.")
    title = out_str("The quantity asked about.")
    unit = out_str("Unit of the quantity.", nullable=True)
    scale = out_str("Working scale: auto, log or linear.")
    dynamics = out_str("How the quantity moves in time: static, cumulative or drifting.")
    category = out_str("The kind of question; its shared error is learned per category.",
                       nullable=True)
    status = out_str("open, or resolved once the true value is recorded.")
    resolution = ma.fields.Nested(
        ResolutionOutSchema, required=True, allow_none=True,
        **_desc("The true value; null while open."),
    )
    resolved_at = out_time("When the resolution was recorded.", nullable=True)
    resolved_by = out_str("Name of the API key that recorded it.", nullable=True)
    version = out_int('Grows with each change; the ETag is this number in quotes ("3").')
    created_at = out_time("When the question was created.")
    created_by = out_str("Name of the API key that created it.")
    updated_at = out_time("When it last changed.")
    updated_by = out_str("Name of the API key that last changed it.")

    def derived(self, question: Question) -> dict[str, Any]:
        return {"resolution": _resolution(question)}


class QuestionRevisionSchema(_StoredSchema):
    """A question as it was after one change."""

    version = out_int("The version this change produced.")
    action = out_str("create, edit or resolve.")
    title = out_str("The quantity asked about.")
    unit = out_str("Unit of the quantity.", nullable=True)
    scale = out_str("Working scale.")
    dynamics = out_str("How the quantity moves in time.")
    category = out_str("The kind of question.", nullable=True)
    status = out_str("open or resolved.")
    resolution = ma.fields.Nested(
        ResolutionOutSchema, required=True, allow_none=True, **_desc("The true value, if any.")
    )
    recorded_at = out_time("When the change was made.")
    recorded_by = out_str("Name of the API key that made it.")

    def derived(self, revision: QuestionRevision) -> dict[str, Any]:
        return {"resolution": _resolution(revision)}


class QuestionListQuery(PageQuerySchema):
    """Query of ``GET /v1/questions``."""

    status = one_of(STATUSES, "open or resolved.")
    q = ma.fields.String(
        validate=validate.Length(min=1, max=200),
        **_desc("Words the title contains (case-insensitive substring)."),
    )


QuestionPageSchema = page_schema(QuestionOutSchema, "QuestionPageSchema")
QuestionHistorySchema = page_schema(QuestionRevisionSchema, "QuestionRevisionPageSchema")


class EstimateQuery(StrictSchema):
    """Query of ``GET /v1/questions/{id}/estimate``."""

    as_of = ma.fields.AwareDateTime(
        load_default=None,
        **_desc(
            "Recompute the estimate as it stood at this moment (ISO 8601 with a time zone, "
            "e.g. 2024-10-23T12:00:00Z): the question, claims, sources and learned "
            "credibilities of then."
        ),
    )
    levels = ma.fields.List(
        # Query strings carry text: a plain Float parses "0.9" (and refuses nan, inf).
        ma.fields.Float(allow_nan=False, validate=OPEN_UNIT),
        load_default=lambda: list(DEFAULT_LEVELS),
        validate=validate.Length(min=1, max=MAX_LEVELS),
        metadata={
            "description": "Interval levels in (0, 1); repeat the parameter for several.",
            "default": list(DEFAULT_LEVELS),
        },
    )
    method = one_of(METHODS, "As in /v1/reconcile.", load_default="auto")
    at = ma.fields.Date(
        load_default=None,
        **_desc(
            "For a moving quantity (dynamics cumulative or drifting): the date of the "
            "estimate, e.g. 2024-10-18 (default: the latest claim date). Unlike as_of, which "
            "replays what was stored at a past moment, at asks about the quantity on a date."
        ),
    )


# --- Claims -------------------------------------------------------------------------------------


class ClaimCreateSchema(ClaimFields, DataSchema):
    """Body of ``POST /v1/questions/{id}/claims``: one claim, as in ``/v1/reconcile``."""

    loads_as = ClaimInput


class ClaimPatchSchema(ClaimChanges):
    """Body of ``PATCH …/claims/{claim_id}``: only the fields to change, plus why.

    The claim as changed must still be a valid claim of its kind (checked as a whole by the
    store).
    """

    reason = optional_str(TEXT_LENGTH, "Why the claim is edited (kept in its history).")


class RetractSchema(StrictSchema):
    """Body of ``POST …/claims/{claim_id}/retract``."""

    reason = optional_str(TEXT_LENGTH, "Why the claim is retracted (kept in its history).")


class _ClaimOut(StoredClaimFields, _StoredSchema):
    """A claim's fields as stored, plus whether it was retracted. The store keeps the source's
    id as ``source_id``."""

    retracted = ma.fields.Boolean(
        required=True, **_desc("Retracted claims no longer count but stay listed.")
    )


class _ClaimIdentityOut(StrictSchema):
    id = out_int("The claim's id.")
    question = out_int("Id of the question.")


# marshmallow lists the fields of the last base first, so the ids lead.
class ClaimOutSchema(_ClaimOut, _ClaimIdentityOut):
    """A stored claim in its current revision."""

    version = out_int('Grows with each change; the ETag is this number in quotes ("3").')
    entered_at = out_time("When the claim was entered.")
    entered_by = out_str("Name of the API key that entered it.")
    updated_at = out_time("When it last changed.")
    updated_by = out_str("Name of the API key that last changed it.")

    def derived(self, claim: Any) -> dict[str, Any]:
        return {"question": claim.question_id, "source": claim.source_id}


class ClaimRevisionSchema(_ClaimOut):
    """A claim as it was after one change."""

    version = out_int("The version this change produced.")
    action = out_str("create, edit or retract.")
    reason = out_str("Why, when the editor said.", nullable=True)
    recorded_at = out_time("When the change was made.")
    recorded_by = out_str("Name of the API key that made it.")

    def derived(self, revision: Any) -> dict[str, Any]:
        return {"source": revision.source_id}


class ClaimListQuery(PageQuerySchema):
    """Query of ``GET /v1/questions/{id}/claims``."""

    source = ma.fields.String(
        validate=validate.Length(min=1, max=ID_LENGTH), **_desc("Only this source's claims.")
    )
    kind = one_of(CLAIM_KINDS, "Only this kind.")
    include_retracted = ma.fields.Boolean(
        load_default=False, **_desc("Also list retracted claims (default false).")
    )


ClaimPageSchema = page_schema(ClaimOutSchema, "ClaimPageSchema")
ClaimHistorySchema = page_schema(ClaimRevisionSchema, "ClaimRevisionPageSchema")
