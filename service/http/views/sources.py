"""``/v1/sources``: the sources claims come from, with their prior and learned credibility."""

from __future__ import annotations

from typing import Any

from service.http.auth import current_actor
from service.http.conditional import if_match
from service.http.database import get_repository
from service.http.pagination import PageQuerySchema, envelope
from service.http.schemas.resources import (
    SourceCreateSchema,
    SourceHistorySchema,
    SourceListQuery,
    SourceOutSchema,
    SourcePageSchema,
    SourcePatchSchema,
)
from service.http.views.stored import Headers, StoredBlueprint, created, versioned
from service.store.inputs import SourceInput
from service.store.orm import Source

blp = StoredBlueprint(
    "sources",
    __name__,
    url_prefix="/v1/sources",
    description=(
        "Stored sources. Writes need an API key. A source's credibility is its grade's prior "
        "until questions it made claims on are resolved, then what its track record shows."
    ),
)


@blp.route("", methods=["GET"])
@blp.gets(SourceListQuery, SourcePageSchema)
def list_sources(**query: Any) -> dict[str, Any]:
    """List sources, ordered by id; filter by type and grade."""
    return envelope(get_repository().list_sources(**query))


@blp.route("", methods=["POST"])
@blp.creates(SourceCreateSchema, SourceOutSchema, 409)
def create_source(new: SourceInput) -> tuple[Source, Headers]:
    """Create a source; 409 when the id is taken."""
    source = get_repository().create_source(new, current_actor())
    return created(source, ".get_source", source_id=source.id)


@blp.route("/<source_id>", methods=["GET"])
@blp.reads(SourceOutSchema)
def get_source(source_id: str) -> tuple[Source, Headers]:
    """Get a source with its credibility: prior, learned, and what estimates use."""
    return versioned(get_repository().get_source(source_id))


@blp.route("/<source_id>", methods=["PATCH"])
@blp.changes(SourcePatchSchema, SourceOutSchema)
def patch_source(changes: dict[str, Any], source_id: str) -> tuple[Source, Headers]:
    """Change a source's name, type or reliability; needs If-Match."""
    repository = get_repository()
    return versioned(repository.update_source(source_id, changes, if_match(), current_actor()))


@blp.route("/<source_id>/history", methods=["GET"])
@blp.gets(PageQuerySchema, SourceHistorySchema, 404)
def source_history(source_id: str, **query: Any) -> dict[str, Any]:
    """Every revision of a source, oldest first."""
    return envelope(get_repository().source_history(source_id, **query))
