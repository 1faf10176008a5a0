"""What the views of the stored resources (sources, questions, claims) have in common.

Each stored resource is read, listed, created and changed the same way over HTTP, so the
decorators of those operations are declared once here, with the problems each can answer:

* every route passes :func:`service.http.auth.guard`: 401 without a valid key where one is
  needed;
* a create or change has a JSON body (400, 413, 415), needs a key (its ``security``) and
  answers 429 when the key has used up its writes;
* a change to an existing resource needs ``If-Match`` (428 without it, 412 when stale) and
  answers the new ``ETag``; a create answers ``ETag`` and ``Location`` with its 201;
* a read of one resource answers its ``ETag``;
* every route can meet an unexpected error (500) or an unreachable database (503).

A view adds the statuses of its own (404 when its path names a resource, 409 for a
conflict) and keeps to the few lines of loading, one repository call and answering.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, Protocol, TypeVar

from flask import url_for

from service.http.api import Blueprint, compose
from service.http.auth import SECURITY, guard
from service.http.conditional import ETAG_HEADER, IF_MATCH_PARAMETER, etag_header
from service.http.links import CREATED_HEADERS
from service.http.pagination import QUERY

__all__ = ["Headers", "StoredBlueprint", "created", "versioned"]

F = TypeVar("F", bound=Callable[..., Any])

Headers = dict[str, str]

#: Problems of every route: no or a revoked key, an unexpected error, no database.
_ANY: Final = (401, 500, 503)
#: Problems of every request with a body that writes: bad JSON, too large, not JSON, no writes
#: left for the key.
_WRITE: Final = (*_ANY, 400, 413, 415, 429)
#: Problems of a change to an existing resource: as a write, plus a missing or stale If-Match.
_CHANGE: Final = (*_WRITE, 404, 412, 428)


class _Versioned(Protocol):
    @property
    def version(self) -> int: ...


V = TypeVar("V", bound=_Versioned)


def versioned(resource: V) -> tuple[V, Headers]:
    """``resource`` with the ``ETag`` of its version, as a view answers it."""
    return resource, etag_header(resource.version)


def created(resource: V, endpoint: str, **values: Any) -> tuple[V, Headers]:
    """``resource`` with its ``ETag`` and ``Location`` (the URL of ``endpoint`` at ``values``)."""
    return resource, {**etag_header(resource.version), "Location": url_for(endpoint, **values)}


class StoredBlueprint(Blueprint):
    """A blueprint of stored resources: its requests pass :func:`~service.http.auth.guard`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.before_request(guard)

    def gets(self, query: Any, out: Any, *problems: int) -> Callable[[F], F]:
        """A GET with ``query`` from the query string (a page, an as-of), answered through
        ``out``."""
        return compose(
            self.arguments(query, **QUERY),
            self.response(200, out),
            self.problems(*_ANY, *problems),
        )

    def reads(self, out: Any, *problems: int) -> Callable[[F], F]:
        """A read of one resource, answered through ``out`` with its ``ETag``."""
        return compose(
            self.response(200, out, headers={"ETag": ETAG_HEADER}),
            self.problems(*_ANY, 404, *problems),
        )

    def creates(self, body: Any, out: Any, *problems: int) -> Callable[[F], F]:
        """A create from ``body``: 201 through ``out`` with ``ETag`` and ``Location``."""
        return compose(
            self.arguments(body),
            self.response(201, out, headers=CREATED_HEADERS),
            self.doc(security=SECURITY),
            self.problems(*_WRITE, *problems),
        )

    def changes(self, body: Any, out: Any, *problems: int) -> Callable[[F], F]:
        """A change from ``body`` under ``If-Match``, answered through ``out`` with the new
        ``ETag``."""
        return compose(
            self.arguments(body),
            self.response(200, out, headers={"ETag": ETAG_HEADER}),
            self.doc(security=SECURITY, parameters=[IF_MATCH_PARAMETER]),
            self.problems(*_CHANGE, *problems),
        )
