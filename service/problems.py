"""HTTP errors raised by the stored-data resources, answered as problem documents.

Each is a :class:`werkzeug.exceptions.HTTPException`, so :mod:`service.errors` turns it into
``application/problem+json`` like any other HTTP error: ``data["message"]`` becomes ``detail``,
``data["errors"]`` the field messages of a 422, ``data["headers"]`` extra response headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from werkzeug.exceptions import HTTPException

__all__ = [
    "Conflict",
    "Invalid",
    "NotFound",
    "PreconditionFailed",
    "PreconditionRequired",
    "Problem",
    "TooManyRequests",
    "Unauthorized",
]


class Problem(HTTPException):
    """Base class: an HTTP error with a sentence for ``detail``.

    Parameters
    ----------
    detail : str
        The problem's ``detail``.
    errors : mapping, optional
        Field path → messages (a 422 names the fields this way).
    headers : mapping, optional
        Extra response headers (``WWW-Authenticate``, ``ETag``).
    """

    code = 500

    def __init__(
        self,
        detail: str,
        *,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.data: dict[str, Any] = {"message": detail, "headers": dict(headers or {})}
        if errors is not None:
            self.data["errors"] = dict(errors)


class NotFound(Problem):
    """404: no resource with this id."""

    code = 404


class Unauthorized(Problem):
    """401: no API key, or one that is unknown or revoked."""

    code = 401


class TooManyRequests(Problem):
    """429: the API key has used up its writes for now (``WRITE_RATE_LIMIT``)."""

    code = 429


class Conflict(Problem):
    """409: the request contradicts the stored state (a duplicate id, an edit of a retracted
    claim)."""

    code = 409


class PreconditionFailed(Problem):
    """412: ``If-Match`` names a version that is no longer current."""

    code = 412


class PreconditionRequired(Problem):
    """428: a change to an existing resource sent without ``If-Match``."""

    code = 428


class Invalid(Problem):
    """422: the body (or a query parameter) is well-formed but cannot be accepted."""

    code = 422

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"Invalid {field}: {message}", errors={field: [message]})
