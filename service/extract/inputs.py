"""Reading the input: bytes to text, HTML to text, and the checks that refuse what is not an
English article (binary data, text too long to read in one request, another language).

Every refusal is an :class:`~service.extract.errors.ExtractError` naming ``text``.
"""

from __future__ import annotations

import re
import unicodedata
from html import unescape
from html.parser import HTMLParser
from typing import Final

from service.extract.errors import ExtractError

__all__ = ["MAX_CHARACTERS", "check_text", "html_to_text", "text_from_bytes"]

#: The longest text read in one request. quantulum3 reads about 30,000 characters of prose a
#: second (and a tenth of that for text made of bare numbers), so this keeps one request well
#: inside a worker's timeout; a long article is 30,000–60,000 characters.
MAX_CHARACTERS: Final = 60_000

#: Share of control characters (other than tab and newlines) above which input is binary.
_MAX_CONTROL_SHARE: Final = 0.01

#: Function words of English: a text of some length with almost none of them is in another
#: language (or is not prose).
_ENGLISH: Final = frozenset(
    "the a an of to in and or is are was were be been has have had that this with for on at by "
    "from as it its he she they their his her said says not but which who would could will "
    "than more there about after".split()
)
_WORD = re.compile(r"[^\W\d_]+")
#: Fewest words before the language is judged; shorter texts are read whatever they look like.
_MIN_WORDS_JUDGED: Final = 12
_MIN_ENGLISH_SHARE: Final = 0.08

_BLOCKS: Final = frozenset(
    "p div br li h1 h2 h3 h4 h5 h6 tr blockquote section article header footer figcaption "
    "title ul ol table pre".split()
)
_SKIPPED: Final = frozenset({"script", "style", "noscript", "template", "svg", "head"})


def text_from_bytes(raw: bytes) -> str:
    """Decode a body as UTF-8 text (a leading byte-order mark is dropped).

    Raises
    ------
    ExtractError
        When the bytes are not UTF-8 or hold binary data (NUL bytes, control characters).
    """
    if b"\x00" in raw:
        raise ExtractError("text", "The body is binary data (it holds NUL bytes); send text.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExtractError(
            "text", f"The body is not UTF-8 text (invalid byte at offset {exc.start}); send "
            "the article as UTF-8."
        ) from None
    return text


def _control_share(text: str) -> float:
    controls = sum(
        1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v"
    )
    return controls / max(len(text), 1)


class _TextOfHTML(HTMLParser):
    """The visible text of an HTML document, a blank line between blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED:
            self._skipping += 1
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The visible text of ``html``: tags dropped, entities decoded, one paragraph per block.

    Spaces inside a paragraph are collapsed, as a browser shows them; span offsets of the
    answer refer to this text.
    """
    parser = _TextOfHTML()
    parser.feed(html)
    parser.close()
    joined = unescape("".join(parser.parts))
    paragraphs = (re.sub(r"[ \t\r\f\v\n]+", " ", p).strip() for p in joined.split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


def check_text(text: str) -> None:
    """Refuse text that cannot be read as an English article.

    Raises
    ------
    ExtractError
        Binary data, more than :data:`MAX_CHARACTERS` characters, or text that is clearly not
        English (judged from its share of English function words once it has a dozen words).
    """
    if len(text) > MAX_CHARACTERS:
        raise ExtractError(
            "text", f"The text has {len(text):,} characters; the limit is {MAX_CHARACTERS:,} "
            "(about one long article). Send one article at a time."
        )
    if _control_share(text) > _MAX_CONTROL_SHARE:
        raise ExtractError("text", "The text holds control characters: it looks like binary "
                           "data, not an article.")
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) >= _MIN_WORDS_JUDGED:
        english = sum(1 for w in words if w in _ENGLISH) / len(words)
        if english < _MIN_ENGLISH_SHARE:
            raise ExtractError(
                "text", "The text does not read as English (almost none of its words are "
                "common English words); extraction reads English articles only."
            )
