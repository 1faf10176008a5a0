"""The one error of extraction: input that cannot be read as an English article."""

from __future__ import annotations

__all__ = ["ExtractError"]


class ExtractError(ValueError):
    """The input cannot be read as text to extract from.

    Parameters
    ----------
    field : str
        The part of the input to blame (``text``, ``format``), for the HTTP layer's 422.
    message : str
        What was expected and what came, in a sentence.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
