"""One reconciliation's inputs as a value: the claims, their sources and the options.

The HTTP schemas load a request body into a :class:`ReconcileRequest`; the store builds one
from a stored question. Both then call :func:`models.reconcile.reconcile` with
``request.claims``, ``request.sources`` and ``**request.options()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from models.claims import Claim, DynamicsName, Source
from models.result import SharedErrorUse

__all__ = ["DEFAULT_LEVELS", "ReconcileRequest"]

#: Probabilities of the central intervals reported when none are asked for.
DEFAULT_LEVELS: Final[tuple[float, ...]] = (0.5, 0.9)


@dataclass(frozen=True, slots=True)
class ReconcileRequest:
    """The core's inputs plus the fields echoed in the answer (question, unit)."""

    sources: tuple[Source, ...]
    claims: tuple[Claim, ...]
    question: str | None = None
    unit: str | None = None
    scale: str = "auto"
    levels: tuple[float, ...] = DEFAULT_LEVELS
    method: str = "auto"
    tau2_method: str = "REML"
    ci_method: str = "z"
    subject: str | None = None
    whole_numbers: bool | None = None
    dynamics: DynamicsName = "static"
    at: date | None = None
    drift: float | None = None
    #: The error all claims share (a number, or one learned for the question's category).
    shared_error: float | SharedErrorUse | None = None
    #: Linear scale: the sd of a claim that states none, in the quantity's units.
    precision: float | None = None

    def options(self) -> dict[str, Any]:
        """Keyword arguments of :func:`models.reconcile.reconcile` besides claims and sources."""
        return {
            "scale": self.scale,
            "levels": self.levels,
            "method": self.method,
            "tau2_method": self.tau2_method,
            "ci_method": self.ci_method,
            "question": self.question,
            "unit": self.unit,
            "subject": self.subject,
            "whole_numbers": self.whole_numbers,
            "dynamics": self.dynamics,
            "at": self.at,
            "drift": self.drift,
            "shared_error": self.shared_error,
            "precision": self.precision,
        }
