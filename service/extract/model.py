"""What extraction returns: draft claims grouped into quantities, and the drafted sources.

A draft claim carries the fields of a reconcile claim (``source``, ``kind``, ``value`` /
``low`` / ``high``, ``hedge``, ``as_of``, ``horizon``, ``quote``) so that an editor can confirm
it and send it to ``POST /v1/reconcile`` as it is, plus what shows where it came from:
``span`` (character offsets of the figure in the text), ``figure`` (the figure as written),
``attribution`` (who the text says gave it), ``unit`` and a ``confidence`` in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from models.claims import ClaimKind, Hedge, Horizon, Source
from models.result import Warning

__all__ = ["DraftClaim", "Extraction", "Quantity"]


@dataclass(frozen=True, slots=True)
class DraftClaim:
    """One figure read as a claim.

    ``span`` is ``(start, end)``: ``text[start:end] == figure`` in the text extraction ran on
    (for HTML, the text of the page; :attr:`Extraction.text`).
    """

    source: str
    kind: ClaimKind
    value: float | None
    low: float | None
    high: float | None
    hedge: Hedge
    horizon: Horizon
    as_of: date | None
    span: tuple[int, int]
    figure: str
    quote: str
    attribution: str | None
    unit: str
    confidence: float
    cues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Quantity:
    """Figures that speak of one quantity: the same unit, worded alike."""

    id: str
    unit: str
    label: str
    claims: tuple[DraftClaim, ...]


@dataclass(frozen=True, slots=True)
class Extraction:
    """The answer: quantities with their draft claims, the sources, warnings.

    A drafted source is a core :class:`~models.claims.Source` whose reliability the editor has
    yet to give (None): its id, the name the text gives, its type. A warning is legal input
    worth saying something about (no figures, figures left out, text cut), as the core's
    :class:`~models.result.Warning` (no claim indices).
    """

    text: str
    quantities: tuple[Quantity, ...]
    sources: tuple[Source, ...]
    warnings: tuple[Warning, ...] = field(default=())
