"""``/v1/sources``: the sources claims come from, with their prior and learned credibility."""

from __future__ import annotations

from typing import Any

from flask import url_for

from service.http.api import Blueprint
from service.http.auth import SECURITY, current_actor, guard
from service.http.conditional import ETAG_HEADER, IF_MATCH_PARAMETER, etag_header, if_match
from service.http.database import get_repository
from service.http.links import CREATED_HEADERS
from service.http.pagination import QUERY, PageQuerySchema, envelope
from service.http.schemas.resources import (
    SourceCreateSchema,
    SourceHistorySchema,
    SourceListQuery,
    SourceOutSchema,
    SourcePageSchema,
    SourcePatchSchema,
)
from service.store.inputs import SourceInput
from service.store.orm import Source

blp = Blueprint(
    "sources",
    __name__,
    url_prefix="/v1/sources",
    description=(
        "Stored sources. Writes need an API key. A source's credibility is its grade's prior "
        "until questions it made claims on are resolved, then what its track record shows."
    ),
)
blp.before_request(guard)

Headers = dict[str, str]


@blp.route("", methods=["GET"])
@blp.arguments(SourceListQuery, **QUERY)
@blp.response(200, SourcePageSchema)
@blp.problems(401, 500, 503)
def list_sources(**query: Any) -> dict[str, Any]:
    """List sources, ordered by id; filter by type and grade."""
    return envelope(get_repository().list_sources(**query))


@blp.route("", methods=["POST"])
@blp.arguments(SourceCreateSchema)
@blp.response(201, SourceOutSchema, headers=CREATED_HEADERS)
@blp.doc(security=SECURITY)
@blp.problems(400, 401, 409, 413, 415, 429, 500, 503)
def create_source(new: SourceInput) -> tuple[Source, Headers]:
    """Create a source; 409 when the id is taken."""
    source = get_repository().create_source(new, current_actor())
    location = url_for(".get_source", source_id=source.id)
    return source, {**etag_header(source.version), "Location": location}


@blp.route("/<source_id>", methods=["GET"])
@blp.response(200, SourceOutSchema, headers={"ETag": ETAG_HEADER})
@blp.problems(401, 404, 500, 503)
def get_source(source_id: str) -> tuple[Source, Headers]:
    """Get a source with its credibility: prior, learned, and what estimates use."""
    source = get_repository().get_source(source_id)
    return source, etag_header(source.version)


@blp.route("/<source_id>", methods=["PATCH"])
@blp.arguments(SourcePatchSchema)
@blp.response(200, SourceOutSchema, headers={"ETag": ETAG_HEADER})
@blp.doc(security=SECURITY, parameters=[IF_MATCH_PARAMETER])
@blp.problems(400, 401, 404, 412, 413, 415, 428, 429, 500, 503)
def patch_source(changes: dict[str, Any], source_id: str) -> tuple[Source, Headers]:
    """Change a source's name, type or reliability; needs If-Match."""
    repository = get_repository()
    source = repository.update_source(source_id, changes, if_match(), current_actor())
    return source, etag_header(source.version)


@blp.route("/<source_id>/history", methods=["GET"])
@blp.arguments(PageQuerySchema, **QUERY)
@blp.response(200, SourceHistorySchema)
@blp.problems(401, 404, 500, 503)
def source_history(source_id: str, **query: Any) -> dict[str, Any]:
    """Every revision of a source, oldest first."""
    return envelope(get_repository().source_history(source_id, **query))
