"""Optimistic concurrency in the store's terms: which versions a change was based on.

Every stored source, question and claim has a ``version`` that each change increments. A
change names the versions it was read at (:class:`Precondition`); the repository checks it once
it has found the resource, so an unknown id is "not found" whatever the precondition says. The
HTTP layer builds a precondition from ``If-Match`` (:func:`service.http.conditional.if_match`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from service.store.errors import StaleVersion, VersionRequired

__all__ = ["UNCONDITIONAL", "Precondition"]


@dataclass(frozen=True, slots=True)
class Precondition:
    """The versions a change was based on: some versions, any (``*``), or none given."""

    versions: frozenset[str]
    any: bool = False
    missing: bool = False

    def check(self, what: str, version: int) -> None:
        """Raise unless a change based on this precondition may replace ``version``.

        Parameters
        ----------
        what : str
            The resource, for the message (``source 'nis'``).
        version : int
            Its current version.

        Raises
        ------
        VersionRequired
            When no version was given.
        StaleVersion
            When the given versions do not include the current one.
        """
        if self.missing:
            raise VersionRequired(
                f"Changing the {what} requires an If-Match header with the ETag you read (GET "
                f'it first), e.g. If-Match: "{version}"; If-Match: * overwrites whatever is '
                "current.",
                version=version,
            )
        if self.any or str(version) in self.versions:
            return
        sent = ", ".join(sorted(self.versions)) or "nothing usable"
        raise StaleVersion(
            f"The {what} has changed since you read it: If-Match names version {sent} but the "
            f"current version is {version}. Fetch it again and re-apply your change.",
            version=version,
        )


#: A precondition that always holds, for callers that hold the only reference (scripts).
UNCONDITIONAL: Final = Precondition(frozenset(), any=True)
