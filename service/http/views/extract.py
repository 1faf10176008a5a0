"""``POST /v1/extract``: draft claims from an article (plain text, HTML or JSON).

The body is JSON ``{"text": …, "format": "plain"|"html", "published": "YYYY-MM-DD"}``, or the
article itself sent as ``text/plain`` or ``text/html`` (UTF-8). Binary data, text that is not
UTF-8, too long or not English gets a 422 problem naming ``text``; a body over
``MAX_CONTENT_LENGTH`` a 413; another media type a 415.
"""

from __future__ import annotations

from typing import Any

from flask import Request

from service.extract import ExtractError, extract, text_from_bytes
from service.extract.model import Extraction
from service.http.api import Blueprint as ApiBlueprint
from service.http.api import JSONBodyParser
from service.http.problems import Invalid, NotJSON
from service.http.schemas.extract import ExtractRequestSchema, ExtractResponseSchema

_TEXT_TYPES = {"text/plain": "plain", "text/html": "html"}
_ACCEPTED = "application/json, text/plain or text/html"


class ArticleBodyParser(JSONBodyParser):
    """JSON as usual; a ``text/plain`` or ``text/html`` body becomes ``{"text", "format"}``."""

    def _raw_load_json(self, req: Request) -> Any:
        kind = _TEXT_TYPES.get(req.mimetype or "")
        if kind is None:
            if req.mimetype and not req.is_json:
                raise NotJSON(f"Send the article as {_ACCEPTED}; got {req.mimetype}.")
            return super()._raw_load_json(req)
        try:
            return {"text": text_from_bytes(req.get_data(cache=True)), "format": kind}
        except ExtractError as exc:
            raise Invalid(exc.field, exc.message) from None


class Blueprint(ApiBlueprint):
    ARGUMENTS_PARSER = ArticleBodyParser()


blp = Blueprint(
    "extract",
    __name__,
    url_prefix="/v1",
    description="Draft claims read from article text, for an editor to review and reconcile.",
)


@blp.route("/extract", methods=["POST"])
@blp.computes(ExtractRequestSchema, ExtractResponseSchema)
def post_extract(body: dict[str, Any]) -> Extraction:
    """Draft claims from an article.

    Finds each figure (with its scale words), reads its kind ("up to", "at least"), hedge
    ("about", "could be"), horizon ("could join"), unit and attribution, and groups the figures
    into quantities. Every claim quotes its sentence and gives the figure's character span.
    The article may also be sent as the body itself, as text/plain or text/html (UTF-8).
    """
    try:
        return extract(body["text"], format=body["format"], published=body["published"])
    except ExtractError as exc:
        raise Invalid(exc.field, exc.message) from None
