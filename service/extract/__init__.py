"""From article text to draft claims: find the figures, who gave them, and how.

Text processing, not statistics: pure functions over a string, no Flask, no database. The
figures themselves (digits, scale words, ranges, currencies) are read by ``quantulum3``
(:mod:`service.extract.figures`); around each figure, small word lists read its kind ("up to",
"at least", "between … and"), its hedge ("about", "could be", "reportedly") and its horizon
("already", "could join", "the final figure") (:mod:`service.extract.cues`), who said it
(:mod:`service.extract.attribution`), what it counts (:mod:`service.extract.units`), and which
figures speak of one quantity (:mod:`service.extract.grouping`). :func:`extract` ties them
together (:mod:`service.extract.draft`).
"""

from service.extract.draft import extract
from service.extract.errors import ExtractError
from service.extract.inputs import text_from_bytes
from service.extract.model import DraftClaim, Extraction, Quantity

__all__ = [
    "DraftClaim",
    "ExtractError",
    "Extraction",
    "Quantity",
    "extract",
    "text_from_bytes",
]
