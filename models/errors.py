"""Domain errors of the statistical core.

Every error names what was expected and what came, so the service can pass the message
through to a client unchanged.
"""

from __future__ import annotations


class ReconcileError(ValueError):
    """Input that the statistical core cannot reconcile.

    Parameters
    ----------
    message : str
        Human-readable explanation, e.g. ``"Invalid level 1.5; must lie in (0, 1)."``.
    field : str or None
        Dotted path of the offending input (``"claims.2.value"``) when one field is to blame.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidClaimError(ReconcileError):
    """A claim that is malformed for its kind or for the requested scale."""


class InvalidSourceError(ReconcileError):
    """A source description (id, type or reliability) that cannot be used."""


class InvalidParameterError(ReconcileError):
    """An estimator hyper-parameter outside its declared domain."""


class NumericalRangeError(ReconcileError):
    """Legal input whose numbers cannot be represented in floating point on this scale."""
