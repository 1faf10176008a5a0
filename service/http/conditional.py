"""Optimistic concurrency over HTTP: ``ETag`` on reads, ``If-Match`` required on changes.

Every stored source, question and claim has a ``version`` integer that grows by one with each
change. Its ETag is that number in quotes (``"3"``), a strong validator of the resource's
*stored* fields, so a client can also build it from the ``version`` in a list item. (A source's
learned credibility is derived data: it changes when some question is resolved without
changing the source's version.)

A change to an existing resource (PATCH, retracting a claim, recording a resolution) must send
``If-Match``:

* missing → **428 Precondition Required**: a client that never read the resource cannot
  overwrite it by accident;
* not the current version → **412 Precondition Failed**, with the current ``ETag`` in the
  response so the client knows what to fetch;
* ``If-Match: *`` → applies to whatever version is current (an explicit "overwrite").

Weak tags (``W/"3"``) never match: If-Match uses strong comparison (RFC 9110 §13.1.1).
"""

from __future__ import annotations

from typing import Final

from flask import request

from service.store.versions import Precondition

__all__ = [
    "ETAG_HEADER",
    "IF_MATCH_PARAMETER",
    "etag",
    "etag_header",
    "if_match",
]

#: OpenAPI description of the If-Match header parameter.
IF_MATCH_PARAMETER: Final = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": (
        'The ETag of the version you read, e.g. "3" (the resource\'s version in quotes), or * '
        "to apply the change to whatever version is current. Missing: 428; stale: 412."
    ),
    "schema": {"type": "string"},
}
#: OpenAPI description of the ETag response header.
ETAG_HEADER: Final = {
    "description": 'The resource\'s version in quotes, e.g. "3"; send it back in If-Match.',
    "schema": {"type": "string"},
}


def etag(version: int) -> str:
    """The ETag of ``version``: the number in double quotes."""
    return f'"{version}"'


def etag_header(version: int) -> dict[str, str]:
    """Response headers carrying the ETag of ``version``."""
    return {"ETag": etag(version)}


def if_match() -> Precondition:
    """The request's ``If-Match`` header as a :class:`Precondition`."""
    if "If-Match" not in request.headers:
        return Precondition(frozenset(), missing=True)
    tags = request.if_match
    # Werkzeug parses the empty tag `If-Match: ""` as None; it matches no version (it was a
    # TypeError, so a 500, when the 412 message listed the tags: found by fuzzing).
    versions = frozenset(tag for tag in tags.as_set(include_weak=False) if tag)
    return Precondition(versions, any=tags.star_tag)
