"""marshmallow schemas of ``POST /v1/reconcile/batch``: many questions at once.

Two request forms carry the claims:

* ``questions``: ``[{"id": "q1", "claims": [{"source": "s1", "kind": "point", "value": 12}]}]``;
* ``columns``: ``{"question": [...], "source": [...], "kind": [...], "value": [...], ...}``, one
  array per field, for bulk clients.

Both are documented in the OpenAPI document through ordinary schemas, but neither is loaded
claim by claim through marshmallow, which costs tens of microseconds per nested object (seconds
for 100,000 claims). :class:`QuestionsField` walks the nested form once, checking each claim's
keys and types by hand; :class:`ColumnsField` checks each column at once. Both then build a
:class:`models.batch.ClaimTable`, whose vectorised checks (a kind's required numbers, finite
values, low ≤ high, …) name the offending row; errors come back as ordinary 422 problems with
paths such as ``questions.3.claims.2.value`` or ``columns.value.17``.

Responses are built as plain dicts by :func:`batch_response` and sent as JSON directly (see the
blueprint); :class:`BatchResponseSchema` documents them and a test loads a response with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import marshmallow as ma
from flask import current_app
from marshmallow import validate

from models.batch import BatchFit, ClaimTable
from models.claims import CLAIM_KINDS, HEDGE_NAMES, Source
from models.credibility import SourceProfile, profile_for
from models.errors import ReconcileError
from service.http.schemas.base import (
    POSITIVE,
    ConfiguredMaxItems,
    StrictSchema,
    level_list,
    one_of,
    out_int,
    out_num,
)
from service.http.schemas.claim import ClaimFields
from service.http.schemas.fields import FiniteNumber
from service.http.schemas.reconcile import SCALES, SourceSchema

__all__ = [
    "BatchRequest",
    "BatchRequestSchema",
    "BatchResponseSchema",
    "batch_response",
]

DEFAULT_BATCH_LEVELS: Final[tuple[float, ...]] = (0.9,)
MAX_ID_LENGTH: Final = 256


# --- documentation schemas (the shapes the custom fields accept) -------------------------------


class BatchClaimSchema(ClaimFields):
    """One claim of a question in the nested form: a claim's fields without its own interval,
    date or record fields, with longer ids, a nullable hedge, and the figure's rounding step.

    Parsed by :class:`QuestionsField` by hand for speed; the keys and number fields it accepts
    are read from this schema, and a test checks that both accept the same claims.
    """

    class Meta(ClaimFields.Meta):
        exclude = ("ci_low", "ci_high", "ci_level", "as_of", "horizon", "quote", "url")

    source = ma.fields.String(required=True, validate=validate.Length(min=1, max=MAX_ID_LENGTH),
                              metadata={"description": "Source id."})
    hedge = ma.fields.String(
        allow_none=True, validate=validate.OneOf(("", *HEDGE_NAMES)),
        metadata={"description": "exact, none, about, could_be, rumour; empty or null: none."},
    )
    origin = ma.fields.String(allow_none=True, validate=validate.Length(max=MAX_ID_LENGTH),
                              metadata={"description": "Shared provenance (echoes count once)."})
    resolution = FiniteNumber(
        allow_none=True,
        validate=POSITIVE,
        metadata={"description": "Rounding step of the figure (default: read from its digits)."},
    )


#: Keys of one claim in the nested form, and the numbers among them: those the schema documents.
_CLAIM_FIELDS: Final = BatchClaimSchema().fields
CLAIM_KEYS: Final[tuple[str, ...]] = tuple(_CLAIM_FIELDS)
NUMBER_KEYS: Final[tuple[str, ...]] = tuple(
    name for name, field in _CLAIM_FIELDS.items() if isinstance(field, FiniteNumber)
)
COLUMN_KEYS: Final[tuple[str, ...]] = ("question", *CLAIM_KEYS)


class BatchQuestionSchema(StrictSchema):
    """One question and its claims."""

    id = ma.fields.String(required=True, validate=validate.Length(min=1, max=MAX_ID_LENGTH),
                          metadata={"description": "Question id, unique in the request."})
    claims = ma.fields.List(ma.fields.Nested(BatchClaimSchema), required=True,
                            metadata={"description": "At least one claim."})


def _array(item: ma.fields.Field[Any], description: str) -> ma.fields.List[Any]:
    return ma.fields.List(item, metadata={"description": description})


class BatchColumnsSchema(StrictSchema):
    """The claims as parallel arrays, one entry per claim."""

    question = _array(ma.fields.String(), "Question id of each claim (required).")
    source = _array(ma.fields.String(), "Source id of each claim (required).")
    kind = _array(ma.fields.String(validate=validate.OneOf(CLAIM_KINDS)),
                  "Kind of each claim (required).")
    value = _array(FiniteNumber(allow_none=True), "Figure or bound; null for a range.")
    low = _array(FiniteNumber(allow_none=True), "Lower end of a range; null otherwise.")
    high = _array(FiniteNumber(allow_none=True), "Upper end of a range; null otherwise.")
    sd = _array(FiniteNumber(allow_none=True), "Own standard deviation; null when none.")
    hedge = _array(ma.fields.String(allow_none=True), "Hedge of each claim; null means none.")
    origin = _array(ma.fields.String(allow_none=True), "Origin of each claim, or null.")
    resolution = _array(FiniteNumber(allow_none=True), "Rounding step, or null to infer it.")


# --- fast loading fields --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LoadedClaims:
    """The claims of either form as a table, and where each row came from.

    Attributes
    ----------
    table : ClaimTable
    origins : tuple of (question index, claim index), or None
        The nested form's position of each row; None for the columnar form.
    """

    table: ClaimTable
    origins: tuple[tuple[int, int], ...] | None

    def path(self, field: str | None) -> str | None:
        """The request path of a table field such as ``"value.17"``."""
        column, _, row = (field or "").partition(".")
        if not row.isdigit():
            return "columns" if self.origins is None and field else field
        if self.origins is None:
            return f"columns.{column}.{row}"
        i, j = self.origins[int(row)]
        return f"questions.{i}.claims.{j}.{column}"


def _limit() -> int:
    return int(current_app.config["MAX_BATCH_CLAIMS"])


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _table_error(exc: ReconcileError, locate: Any) -> ma.ValidationError:
    """A ClaimTable error (field ``"value.17"``) as a marshmallow error at the claim's path."""
    column, _, row = (exc.field or "").partition(".")
    if row.isdigit():
        return ma.ValidationError(locate(int(row), column, exc.message))
    return ma.ValidationError(exc.message)


class QuestionsField(ma.fields.List):  # type: ignore[type-arg]
    """``questions``: documented as a list of :class:`BatchQuestionSchema`, loaded fast.

    Deserialises to :class:`LoadedClaims`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ma.fields.Nested(BatchQuestionSchema), **kwargs)

    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> LoadedClaims:
        if not isinstance(value, list):
            raise ma.ValidationError("Not a valid list.")
        if not value:
            raise ma.ValidationError("At least one question is required.")
        errors: dict[int, Any] = {}
        columns: dict[str, list[Any]] = {key: [] for key in COLUMN_KEYS}
        where: list[tuple[int, int]] = []
        seen: set[str] = set()
        limit = _limit()
        for i, question in enumerate(value):
            problem = self._question_problem(question, seen)
            if problem is not None:
                errors[i] = problem
                continue
            for j, claim in enumerate(question["claims"]):
                claim_errors = _claim_problems(claim)
                if claim_errors:
                    errors.setdefault(i, {}).setdefault("claims", {})[j] = claim_errors
                    continue
                columns["question"].append(question["id"])
                for key in CLAIM_KEYS:
                    columns[key].append(claim.get(key))
                where.append((i, j))
            if len(where) > limit:
                raise ma.ValidationError(
                    f"Too many claims: more than {limit}, the limit (MAX_BATCH_CLAIMS)."
                )
            if len(errors) >= 20:  # enough to fix; do not walk a huge broken body to the end
                break
        if errors:
            raise ma.ValidationError(errors)

        def locate(row: int, column: str, message: str) -> dict[int, Any]:
            i, j = where[row]
            return {i: {"claims": {j: {column: [message]}}}}

        try:
            table = ClaimTable.from_columns(**columns)
        except ReconcileError as exc:
            raise _table_error(exc, locate) from None
        return LoadedClaims(table, tuple(where))

    @staticmethod
    def _question_problem(question: Any, seen: set[str]) -> dict[str, list[str]] | None:
        if not isinstance(question, Mapping):
            return {"_schema": ["Not a valid object."]}
        unknown = sorted(set(question) - {"id", "claims"})
        if unknown:
            return {unknown[0]: ["Unknown field."]}
        qid = question.get("id")
        if not isinstance(qid, str) or not 0 < len(qid) <= MAX_ID_LENGTH:
            return {"id": [f"Must be a string of 1 to {MAX_ID_LENGTH} characters."]}
        if qid in seen:
            return {"id": [f"Duplicate question id {qid!r}; ids must be unique."]}
        seen.add(qid)
        claims = question.get("claims")
        if not isinstance(claims, list) or not claims:
            return {"claims": ["At least one claim is required."]}
        return None


def _claim_problems(claim: Any) -> dict[str, list[str]]:
    """Type errors of one nested claim (kind-specific rules are the ClaimTable's)."""
    if not isinstance(claim, Mapping):
        return {"_schema": ["Not a valid object."]}
    problems: dict[str, list[str]] = {}
    for key in claim:
        if key not in CLAIM_KEYS:
            problems[str(key)] = ["Unknown field."]
    for key in ("source", "kind"):
        item = claim.get(key)
        if not isinstance(item, str) or not 0 < len(item) <= MAX_ID_LENGTH:
            problems[key] = ["Missing data for required field." if item is None
                             else f"Must be a string of 1 to {MAX_ID_LENGTH} characters."]
    for key in NUMBER_KEYS:
        item = claim.get(key)
        if item is not None and (not _is_number(item) or not math.isfinite(float(item))):
            problems[key] = [f"Not a finite number; got {item!r}."]
    for key in ("hedge", "origin"):
        item = claim.get(key)
        if item is not None and not isinstance(item, str):
            problems[key] = ["Not a valid string."]
    return problems


class ColumnsField(ma.fields.Nested):
    """``columns``: documented as :class:`BatchColumnsSchema`, checked column by column.

    Deserialises to :class:`LoadedClaims`.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(BatchColumnsSchema, **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None,
        partial: Any = None, **kwargs: Any,
    ) -> LoadedClaims:
        if not isinstance(value, Mapping):
            raise ma.ValidationError("Not a valid object of columns.")
        unknown = sorted(set(value) - set(COLUMN_KEYS))
        if unknown:
            raise ma.ValidationError({unknown[0]: ["Unknown column."]})
        missing = [key for key in ("question", "source", "kind") if key not in value]
        if missing:
            raise ma.ValidationError({missing[0]: ["Missing data for required column."]})
        n: int | None = None
        for key, column in value.items():
            if not isinstance(column, list):
                raise ma.ValidationError({key: ["Not a valid list."]})
            if n is None:
                n = len(column)
            elif len(column) != n:
                raise ma.ValidationError(
                    {key: [f"Has {len(column)} entries; question has {n} (one per claim)."]}
                )
        if not n:
            raise ma.ValidationError({"question": ["At least one claim is required."]})
        limit = _limit()
        if n > limit:
            raise ma.ValidationError(
                f"Too many claims: got {n}, the limit is {limit} (MAX_BATCH_CLAIMS)."
            )
        for key in NUMBER_KEYS:
            if key in value:
                _check_numbers(value[key], key)
        for key in ("question", "source"):
            _check_ids(value[key], key)

        def locate(row: int, column: str, message: str) -> dict[str, Any]:
            return {column: {row: [message]}}

        try:
            table = ClaimTable.from_columns(**{key: value[key] for key in value})
        except ReconcileError as exc:
            raise _table_error(exc, locate) from None
        return LoadedClaims(table, None)


def _check_numbers(column: Sequence[Any], key: str) -> None:
    """Numbers or nulls; no booleans, strings, NaN or infinities (one pass, no per-item calls
    unless something is wrong)."""
    kinds = set(map(type, column))
    if kinds <= {int, float, type(None)}:
        # NaN is the only float unequal to itself; JSON has no NaN, the parser lets it through.
        if float in kinds and any(v != v or v in (math.inf, -math.inf)
                                  for v in column if type(v) is float):
            row = next(k for k, v in enumerate(column)
                       if type(v) is float and not math.isfinite(v))
            raise ma.ValidationError({key: {row: ["Not a finite number; NaN and Infinity are "
                                                  "refused."]}})
        return
    row = next(k for k, v in enumerate(column)
               if isinstance(v, bool) or not isinstance(v, int | float | None))
    raise ma.ValidationError({key: {row: [f"Not a finite number; got {column[row]!r}."]}})


def _check_ids(column: Sequence[Any], key: str) -> None:
    try:
        distinct = set(column)
    except TypeError:
        distinct = {None}
    if all(isinstance(v, str) and 0 < len(v) <= MAX_ID_LENGTH for v in distinct):
        return
    row = next(k for k, v in enumerate(column)
               if not isinstance(v, str) or not 0 < len(v) <= MAX_ID_LENGTH)
    raise ma.ValidationError(
        {key: {row: [f"Must be a string of 1 to {MAX_ID_LENGTH} characters."]}}
    )


# --- request --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BatchRequest:
    """A loaded ``POST /v1/reconcile/batch`` body."""

    claims: LoadedClaims
    sources: tuple[Source, ...]
    levels: tuple[float, ...]
    scale: str

    @property
    def table(self) -> ClaimTable:
        return self.claims.table

    def priors(self) -> dict[str, SourceProfile]:
        """Prior profiles of the listed sources (unlisted ones are unrated)."""
        return {s.id: profile_for(s.reliability) for s in self.sources}


class BatchRequestSchema(StrictSchema):
    """Body of ``POST /v1/reconcile/batch``: ``questions`` or ``columns``, not both."""

    sources = ma.fields.List(
        ma.fields.Nested(SourceSchema),
        load_default=list,
        validate=ConfiguredMaxItems("MAX_BATCH_SOURCES", "sources"),
        metadata={
            "description": (
                "Optional priors: sources with a reliability grade or number. A source that is "
                "not listed, or listed without reliability, is learned from the claims alone, "
                "shrunk towards the population of such sources."
            )
        },
    )
    questions = QuestionsField(
        metadata={"description": "The claims grouped by question (give this or columns)."}
    )
    columns = ColumnsField(
        metadata={"description": "The claims as parallel arrays (give this or questions)."}
    )
    levels = level_list(DEFAULT_BATCH_LEVELS, "Interval levels in (0, 1).")
    scale = one_of(
        SCALES, "Working scale; auto = log when every figure is positive.", load_default="auto"
    )

    @ma.validates_schema(skip_on_field_errors=True)
    def check_form(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Exactly one of questions and columns; source ids unique."""
        if ("questions" in data) == ("columns" in data):
            raise ma.ValidationError(
                "Give the claims either as questions or as columns (exactly one of them)."
            )
        ids: set[str] = set()
        for i, source in enumerate(data.get("sources") or []):
            if source.id in ids:
                raise ma.ValidationError(
                    {"sources": {i: {"id": [f"Duplicate source id {source.id!r}."]}}}
                )
            ids.add(source.id)

    @ma.post_load
    def make_request(self, data: dict[str, Any], **kwargs: Any) -> BatchRequest:
        claims = data.get("questions") or data["columns"]
        return BatchRequest(claims=claims, sources=tuple(data["sources"]),
                            levels=tuple(data["levels"]), scale=data["scale"])


# --- response -------------------------------------------------------------------------------


class BatchIntervalSchema(StrictSchema):
    level = out_num("Probability of the interval.")
    low = out_num("Lower end, in the quantity's units.")
    high = out_num("Upper end, in the quantity's units.")


class BatchEstimateSchema(StrictSchema):
    value = out_num("Posterior median, in the quantity's units.")
    intervals = ma.fields.List(ma.fields.Nested(BatchIntervalSchema), required=True,
                               metadata={"description": "One per requested level."})


class BatchQuestionResultSchema(StrictSchema):
    id = ma.fields.String(required=True, metadata={"description": "The question id."})
    estimate = ma.fields.Nested(BatchEstimateSchema, required=True)
    n_claims = out_int("Claims about the question.")
    n_sources = out_int("Distinct sources among them.")
    p_exact = out_num("Posterior probability that the truth is one of the exactly agreed figures.")
    spread = out_num("Standard deviation of the continuous part of the posterior (working scale).")


class BatchSourceResultSchema(StrictSchema):
    id = ma.fields.String(required=True, metadata={"description": "The source id."})
    credibility = out_num("Learned probability that a claim of the source is right.")
    credibility_low = out_num(
        "Lower end of the credibility's range: the model's 90 % interval, widened to cover "
        "the credibility under a wider wrong-claim law where precise sources show that wrong "
        "claims avoid the truth (warning credibility_widened); not centred on the estimate.")
    credibility_high = out_num("Upper end of that range (see credibility_low).")
    exact_share = out_num("Share of its right claims that are exact copies of the truth.")
    spread = out_num("Learned spread of its right claims (working scale).")
    bias = out_num("Learned systematic offset (working scale; +0.1 on log ≈ 10 % too high).")
    n_claims = out_int("Claims by the source.")
    prior_credibility = out_num("The centre its credibility was shrunk towards.")
    credibility_from = ma.fields.String(
        required=True,
        metadata={"description": "prior: a grade, number or track record; population: none."},
    )


class BatchPopulationSchema(StrictSchema):
    credibility = out_num("Mean credibility of the sources without a usable grade.")
    exact_share = out_num("Share of right claims that are exact copies, over the archive.")
    spread = out_num("Typical spread of the sources without a usable grade.")


class BatchWarningSchema(StrictSchema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    count = out_int("How many questions or sources it concerns.")


class BatchResponseSchema(StrictSchema):
    """Result of ``POST /v1/reconcile/batch``."""

    scale = ma.fields.String(required=True, metadata={"description": "log or linear."})
    questions = ma.fields.List(ma.fields.Nested(BatchQuestionResultSchema), required=True,
                               metadata={"description": "One per question, in first-seen order."})
    sources = ma.fields.List(ma.fields.Nested(BatchSourceResultSchema), required=True,
                             metadata={"description": "One per source that made a claim."})
    population = ma.fields.Nested(BatchPopulationSchema, required=True)
    iterations = out_int("EM iterations run.")
    converged = ma.fields.Boolean(required=True)
    warnings = ma.fields.List(ma.fields.Nested(BatchWarningSchema), required=True)


def batch_response(body: BatchRequest, fit: BatchFit) -> dict[str, Any]:
    """The response document (plain JSON types) for ``fit``."""
    qe = fit.questions
    levels = list(qe.levels)
    value = qe.value.tolist()
    low = qe.low.tolist()
    high = qe.high.tolist()
    n_claims = qe.n_claims.tolist()
    n_sources = qe.n_sources.tolist()
    p_exact = qe.p_exact.tolist()
    spread = qe.spread.tolist()
    questions = [
        {
            "id": qid,
            "estimate": {
                "value": value[k],
                "intervals": [
                    {"level": level, "low": low[k][j], "high": high[k][j]}
                    for j, level in enumerate(levels)
                ],
            },
            "n_claims": n_claims[k],
            "n_sources": n_sources[k],
            "p_exact": p_exact[k],
            "spread": spread[k],
        }
        for k, qid in enumerate(qe.ids)
    ]
    src = fit.sources
    names = ("credibility", "credibility_low", "credibility_high", "exact_share", "spread",
             "bias", "prior_credibility")
    lists = {name: getattr(src, name).tolist() for name in names}
    counts = src.n_claims.tolist()
    rated = src.rated.tolist()
    sources = []
    for k, sid in enumerate(src.ids):
        entry: dict[str, Any] = {"id": sid}
        entry.update({name: lists[name][k] for name in names})
        entry["n_claims"] = counts[k]
        entry["credibility_from"] = "prior" if rated[k] else "population"
        sources.append(entry)
    pop = fit.population
    return {
        "scale": fit.scale,
        "questions": questions,
        "sources": sources,
        "population": {"credibility": pop.credibility, "exact_share": pop.exact_share,
                       "spread": pop.spread},
        "iterations": fit.iterations,
        "converged": fit.converged,
        "warnings": [{"code": w.code, "message": w.message, "count": w.count}
                     for w in fit.warnings],
    }
