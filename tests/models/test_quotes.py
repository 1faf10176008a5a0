"""An answer's remembered quotes (models.wording.Quotes) print what quote_number prints."""

from __future__ import annotations

import numpy as np

from models import explain, summary
from models.claims import Claim, Source
from models.reconcile import reconcile
from models.wording import Quotes, quote_number


def test_a_remembered_quote_is_quote_number_s_text_for_every_float() -> None:
    rng = np.random.default_rng(5)
    figures = [0.0, -0.0, 1.0, -1.0, 3166.0, 1.5e6, 1234567.0, 38.3, 0.1 + 0.2, 1e21, 2.8e28,
               *(float(x) for x in rng.lognormal(5.0, 6.0, 200)),
               *(-float(x) for x in rng.lognormal(2.0, 3.0, 50))]
    quotes = Quotes()
    for _ in range(2):  # the second pass reads what the first remembered
        for x in figures:
            assert quotes(x) == quote_number(x), x
    # ±0 share a dict key but not a text: neither is remembered for the other.
    assert Quotes()(-0.0) == quote_number(-0.0)


def test_an_answer_s_words_are_the_same_with_fresh_quotes() -> None:
    """The findings and the explanation of one answer, their quotes shared or each fresh."""
    claims = [Claim("a", "point", 4800.0), Claim("b", "range", low=4000.0, high=6500.0),
              Claim("c", "at_least", 3000.0), Claim("d", "point", 12000.0, hedge="rumour"),
              Claim("e", "point", 5100.0, origin="w"), Claim("f", "point", 5100.0, origin="w")]
    sources = [Source(s, reliability=g) for s, g in zip("abcdef", "ABCDEF", strict=True)]
    result = reconcile(claims, sources)
    by_id = {s.id: s for s in sources}
    fresh = summary.derive_findings(result, claims, by_id)
    _, text_summary, text = explain.render(fresh, claims, by_id)
    assert result.explanation == text
    assert result.summary == text_summary
    assert "4,800" in text and "4,000 and 6,500" in text
