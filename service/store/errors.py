"""The store's domain errors: what went wrong in terms of stored data, not of HTTP.

The HTTP layer answers each with a problem document (:mod:`service.http.problems` maps
:class:`NotFound` to 404, :class:`Conflict` to 409, :class:`Invalid` to 422,
:class:`VersionRequired` to 428 and :class:`StaleVersion` to 412); the command line prints the
sentence. ``version``, where given, is the resource's current version, so that an answer can
tell the caller what to read again.
"""

from __future__ import annotations

__all__ = ["Conflict", "Invalid", "NotFound", "StaleVersion", "StoreError", "VersionRequired"]


class StoreError(Exception):
    """Base class: a sentence saying what was refused, and the current version if it matters.

    Parameters
    ----------
    detail : str
        The sentence, written for the person who sent the change.
    version : int, optional
        The stored resource's current version.
    """

    def __init__(self, detail: str, *, version: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.version = version


class NotFound(StoreError):
    """No stored resource with this id."""


class Conflict(StoreError):
    """The change contradicts the stored state (a duplicate id, an edit of a retracted claim)."""


class Invalid(StoreError):
    """A value that cannot be stored, naming its field (``claims.0.value``, ``truth``).

    Parameters
    ----------
    field : str
        Path of the offending field in the input.
    message : str
        What is wrong with it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"Invalid {field}: {message}")
        self.field = field
        self.message = message


class VersionRequired(StoreError):
    """A change to an existing resource made without saying which version it was based on."""


class StaleVersion(StoreError):
    """A change based on a version that is no longer current."""
