"""Page-number pagination for the list routes.

``?page=1&page_size=50`` (at most :data:`MAX_PAGE_SIZE`). Every list answers with the same
envelope: ``items``, ``total`` (items matching the filters), ``page``, ``page_size``, ``pages``
and ``links`` (``self``, ``first``, ``last``, ``prev``, ``next``: relative URLs keeping the
filters, ``prev``/``next`` null at the ends). A page past the last is empty, not an error.
Items are in a fixed order (documented per route), so pages do not overlap.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlencode

import marshmallow as ma
from flask import request
from marshmallow import validate

from service.http.schemas.base import StrictSchema
from service.store.inputs import Page

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "QUERY",
    "PageQuerySchema",
    "envelope",
    "page_schema",
]

DEFAULT_PAGE_SIZE: Final = 50
MAX_PAGE_SIZE: Final = 500
#: Highest page number: keeps the row offset, (page - 1) × page_size, far inside the databases'
#: 64-bit integers (a larger page overflowed SQLite's driver: a 500 found by fuzzing).
MAX_PAGE: Final = 1_000_000_000
#: ``blp.arguments`` options of a query-string schema: passed to the view as keyword
#: arguments, and unknown parameters refused (webargs would otherwise drop them silently,
#: whatever the schema says).
QUERY: Final[dict[str, Any]] = {"location": "query", "unknown": ma.RAISE, "as_kwargs": True}


class PageQuerySchema(StrictSchema):
    """Query parameters of every list: which page, and how long."""

    page = ma.fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE, error="Must be between {min} and {max}."),
        metadata={"description": f"Page number, from 1 to {MAX_PAGE}."},
    )
    page_size = ma.fields.Integer(
        load_default=DEFAULT_PAGE_SIZE,
        validate=validate.Range(
            min=1, max=MAX_PAGE_SIZE, error="Must be between {min} and {max}."
        ),
        metadata={"description": f"Items per page, 1 to {MAX_PAGE_SIZE}."},
    )


class LinksSchema(StrictSchema):
    """Where the neighbouring pages are."""

    self = ma.fields.String(required=True, metadata={"description": "This page."})
    first = ma.fields.String(required=True, metadata={"description": "The first page."})
    last = ma.fields.String(required=True, metadata={"description": "The last page."})
    prev = ma.fields.String(
        required=True, allow_none=True,
        metadata={"description": "The previous page; null on the first."},
    )
    next = ma.fields.String(
        required=True, allow_none=True,
        metadata={"description": "The next page; null on the last."},
    )


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The envelope schema of a list of ``item``, named ``name`` in the OpenAPI document."""
    fields: dict[str, Any] = {
        "items": ma.fields.List(
            ma.fields.Nested(item), required=True, metadata={"description": "This page's items."}
        ),
        "total": ma.fields.Integer(
            required=True, metadata={"description": "Items matching the filters, all pages."}
        ),
        "page": ma.fields.Integer(required=True, metadata={"description": "This page's number."}),
        "page_size": ma.fields.Integer(
            required=True, metadata={"description": "Items per page."}
        ),
        "pages": ma.fields.Integer(
            required=True, metadata={"description": "Number of pages (at least 1)."}
        ),
        "links": ma.fields.Nested(
            LinksSchema, required=True, metadata={"description": "Links to other pages."}
        ),
        "__doc__": f"One page of {name.removesuffix('PageSchema').lower()}s.",
    }
    return type(name, (StrictSchema,), fields)


def _link(page: int) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    return f"{request.path}?{urlencode([*args, ('page', str(page))])}"


def envelope(page: Page[Any]) -> dict[str, Any]:
    """The response body of a list, for :func:`page_schema`'s schema to dump."""
    return {
        "items": page.items,
        "total": page.total,
        "page": page.page,
        "page_size": page.page_size,
        "pages": page.pages,
        "links": {
            "self": _link(page.page),
            "first": _link(1),
            "last": _link(page.pages),
            "prev": _link(page.page - 1) if page.page > 1 else None,
            "next": _link(page.page + 1) if page.page < page.pages else None,
        },
    }
