"""Forest plots of reconciliations, as SVG or PNG.

* ``POST /v1/reconcile/plot``: the body is the body of ``POST /v1/reconcile`` and is validated
  the same way (the same 4xx problems); the answer is the picture drawn by
  :mod:`service.plot.forest`
  instead of JSON.
* ``GET /v1/questions/{id}/plot``: the picture of ``GET /v1/questions/{id}/estimate``, with the
  same query (``as_of``, ``levels``, ``method``, ``at``) and the same key rule as the other
  reads of stored questions.

A quantity that moves (dynamics ``cumulative`` or ``drifting``) is drawn with its time view
above the rows (:mod:`service.plot.timeview`): both routes reconcile with the request's or the
question's dynamics, so ``result.time`` reaches the renderer as it reaches the JSON answer.

Content negotiation
-------------------
``?format=svg|png`` wins when given; otherwise the ``Accept`` header chooses between
``image/svg+xml`` (the default, also for ``*/*`` or no header) and ``image/png``. An Accept header
that allows neither gets a 406 problem document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

import marshmallow as ma
from flask import Response, request
from werkzeug.exceptions import NotAcceptable

from models.claims import Claim, Source
from models.reconcile import reconcile
from models.result import ReconcileResult
from service.http.api import Blueprint
from service.http.auth import guard
from service.http.database import get_repository
from service.http.schemas.reconcile import ReconcileRequest, ReconcileRequestSchema
from service.http.schemas.resources import EstimateQuery
from service.plot.forest import MEDIA_TYPES, PlotFormat, render_plot

__all__ = [
    "PLOT_RESPONSE_DOC",
    "PlotQuerySchema",
    "QuestionPlotQuery",
    "blp",
    "negotiate_format",
    "plot_response",
]

F = TypeVar("F", bound=Callable[..., Any])

blp = Blueprint(
    "plot",
    __name__,
    url_prefix="/v1",
    description="Forest plots of the evidence and the estimate, for editors.",
)

#: OpenAPI schema of an image body.
_BINARY: Final = {"type": "string", "format": "binary"}
#: Description of a plot response, shared by every plot route.
PLOT_RESPONSE_DOC: Final = (
    "The forest plot, drawn for readers: one row per claim (marker area by its share; its "
    "source's grade as colour, marker and letter; echoes of one origin together under one "
    "heading; arrows for bounds, bars for ranges and stated uncertainty, claims judged wrong "
    "crossed out), the summary and its range as a summary row, how likely each value is "
    "above. A quantity that moves (dynamics cumulative or drifting) has a time view above "
    "the rows instead: the figures at their dates, the estimate's course with its ranges, "
    "and the eventual total in a column of its own. SVG unless PNG is asked for with "
    "Accept: image/png or ?format=png."
)


def _format_field() -> ma.fields.String:
    return ma.fields.String(
        data_key="format",
        validate=ma.validate.OneOf(tuple(MEDIA_TYPES)),
        metadata={
            "description": (
                "svg or png; overrides the Accept header. Without it, Accept decides "
                "(image/svg+xml by default)."
            )
        },
    )


class PlotQuerySchema(ma.Schema):
    """Query string of ``POST /v1/reconcile/plot``."""

    class Meta:
        unknown = ma.RAISE

    fmt = _format_field()


class QuestionPlotQuery(EstimateQuery):
    """Query string of ``GET /v1/questions/{id}/plot``: the estimate's, plus ``format``."""

    fmt = _format_field()


def _also_png(func: F) -> F:
    """Document image/png as the other content of a plot route's 200 response."""
    wrapped: F = blp.alt_response(
        200, schema=_BINARY, content_type=MEDIA_TYPES["png"], success=True,
        description=PLOT_RESPONSE_DOC,
    )(func)
    return wrapped


def negotiate_format(requested: str | None) -> PlotFormat:
    """The output format: ``requested`` (from ``?format=``), else the best match of Accept.

    Raises
    ------
    werkzeug.exceptions.NotAcceptable
        When the Accept header allows neither SVG nor PNG.
    """
    if requested == "png":
        return "png"
    if requested == "svg" or not request.accept_mimetypes:
        return "svg"
    best = request.accept_mimetypes.best_match(list(MEDIA_TYPES.values()))
    if best == MEDIA_TYPES["png"]:
        return "png"
    if best == MEDIA_TYPES["svg"]:
        return "svg"
    raise NotAcceptable(
        f"Cannot answer Accept: {request.headers.get('Accept', '')}; this resource is "
        "image/svg+xml (the default) or image/png (send Accept: image/png or ?format=png)."
    )


def plot_response(
    result: ReconcileResult,
    claims: Sequence[Claim],
    sources: Sequence[Source],
    *,
    question: str | None,
    unit: str | None,
    fmt: PlotFormat,
) -> Response:
    """The rendered plot as a response of the chosen media type."""
    body = render_plot(result, claims, sources, question=question, unit=unit, fmt=fmt)
    response = Response(body, mimetype=MEDIA_TYPES[fmt])
    response.headers["Vary"] = "Accept"
    response.headers["Content-Disposition"] = f'inline; filename="triangulate-plot.{fmt}"'
    # Opened on its own, the SVG may style itself but never run anything.
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blp.route("/reconcile/plot", methods=["POST"])
@blp.arguments(PlotQuerySchema, location="query", as_kwargs=True)
@blp.arguments(ReconcileRequestSchema)
@blp.response(200, _BINARY, content_type=MEDIA_TYPES["svg"], description=PLOT_RESPONSE_DOC)
@_also_png
@blp.problems(400, 406, 413, 415, 500)
def post_plot(body: ReconcileRequest, **query: Any) -> Response:
    """Draw the forest plot of a reconciliation.

    Takes the body of POST /v1/reconcile and answers with the picture of its result: SVG by
    default, PNG with Accept: image/png or ?format=png.
    """
    fmt = negotiate_format(query.get("fmt"))
    result = reconcile(body.claims, body.sources, **body.options())
    return plot_response(
        result, body.claims, body.sources, question=body.question, unit=body.unit, fmt=fmt
    )


@blp.route("/questions/<int:question_id>/plot", methods=["GET"])
@blp.arguments(QuestionPlotQuery, location="query", as_kwargs=True)
@blp.response(200, _BINARY, content_type=MEDIA_TYPES["svg"], description=PLOT_RESPONSE_DOC)
@_also_png
@blp.problems(401, 404, 406, 500, 503)
def get_question_plot(question_id: int, **query: Any) -> Response:
    """Draw the forest plot of a stored question's estimate.

    The picture of GET /v1/questions/{id}/estimate with the same query: the question's current
    claims (or those of as_of), each source with its learned credibility once it has a track
    record; for a quantity that moves, at chooses the date of the estimate. A key is needed
    only when reads need one (READS_REQUIRE_KEY).
    """
    guard()  # the stored-data blueprints' rule: a key for reads only when READS_REQUIRE_KEY
    fmt = negotiate_format(query.pop("fmt", None))
    data = get_repository().estimate_input(question_id, **query)
    body = data.request
    result = reconcile(body.claims, body.sources, profiles=data.profiles, **body.options())
    return plot_response(
        result, body.claims, body.sources, question=body.question, unit=body.unit, fmt=fmt
    )
