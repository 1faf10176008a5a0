"""Precision and recall of draft claims on real news paragraphs (issue 17).

Reads ``fixtures/extract/paragraphs.json`` (real paragraphs, annotated by hand, with
provenance) and scores two readers in the same run:

* **extract**: :func:`service.extract.extract`, the service's reader;
* **library alone**: quantulum3 as it reads the text (every quantity it finds, a range when it
  reads one, no hedge, no attribution): what the parsing library gives without our layer.

Scores
------
A predicted figure *matches* an annotated claim when its span overlaps the annotated figure's
and its numbers agree (value; or low and high for a range) within 1e-6 relative. Then, over
all paragraphs:

* figures: precision = matched / predicted, recall = matched / annotated;
* kinds, hedges, attribution: a *positive* is a claim whose kind is not ``point``, whose hedge
  is not ``none``, or that has an attribution; precision = right positives / predicted
  positives, recall = right positives / annotated positives, where a positive is right when it
  belongs to a matched figure and equals the annotation (an attribution is right when one of
  the annotated words appears in the drafted attribution or source name).

Run: ``.venv/bin/python bench/extract_eval.py`` (about 5 s; no network).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from service.extract import extract  # noqa: E402
from service.extract.figures import library_figures  # noqa: E402

FIXTURE = ROOT / "fixtures" / "extract" / "paragraphs.json"
ASPECTS = ("figures", "kinds", "hedges", "attribution")


@dataclass(frozen=True)
class Predicted:
    """One predicted claim, as the scorer needs it."""

    span: tuple[int, int]
    kind: str
    value: float | None
    low: float | None
    high: float | None
    hedge: str = "none"
    attribution: str | None = None


@dataclass
class Tally:
    """Counts per aspect: predicted positives, annotated positives, right positives."""

    predicted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ASPECTS, 0))
    annotated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ASPECTS, 0))
    right: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ASPECTS, 0))

    def precision(self, aspect: str) -> float:
        return self.right[aspect] / self.predicted[aspect] if self.predicted[aspect] else math.nan

    def recall(self, aspect: str) -> float:
        return self.right[aspect] / self.annotated[aspect] if self.annotated[aspect] else math.nan


Reader = Callable[[str], list[Predicted]]


def read_extract(text: str) -> list[Predicted]:
    """The service's reader."""
    answer = extract(text)
    names = {s.id: s.name for s in answer.sources}
    found = []
    for quantity in answer.quantities:
        for c in quantity.claims:
            who = None
            if c.attribution is not None:
                who = f"{c.attribution} | {names.get(c.source, '')}"
            found.append(Predicted(c.span, c.kind, c.value, c.low, c.high, c.hedge, who))
    return found


def read_library(text: str) -> list[Predicted]:
    """quantulum3 alone."""
    return [
        Predicted((f.start, f.end), "range" if f.low is not None else "point", f.value, f.low,
                  f.high)
        for f in library_figures(text)
    ]


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    return math.isclose(a, b, rel_tol=1e-6)


def _numbers_agree(p: Predicted, claim: dict[str, Any]) -> bool:
    if claim["kind"] == "range":
        return _close(p.low, claim["low"]) and _close(p.high, claim["high"])
    value = p.value if p.value is not None else p.high if p.kind == "range" else None
    return _close(value, claim["value"])


def _spans(text: str, claims: Sequence[dict[str, Any]]) -> list[tuple[int, int]]:
    spans, at = [], 0
    for claim in claims:
        start = text.find(claim["figure"], at)
        if start < 0:
            start = text.find(claim["figure"])
        if start < 0:
            raise ValueError(f"{claim['figure']!r} is not in its paragraph")
        spans.append((start, start + len(claim["figure"])))
        at = start + 1
    return spans


def score(paragraphs: Sequence[dict[str, Any]], reader: Reader) -> Tally:
    """Tally ``reader``'s predictions against the annotations."""
    tally = Tally()
    for paragraph in paragraphs:
        text, claims = paragraph["text"], paragraph["claims"]
        predicted = reader(text)
        tally.predicted["figures"] += len(predicted)
        tally.annotated["figures"] += len(claims)
        for p in predicted:
            tally.predicted["kinds"] += p.kind != "point"
            tally.predicted["hedges"] += p.hedge != "none"
            tally.predicted["attribution"] += p.attribution is not None
        used: set[int] = set()
        for claim, (start, end) in zip(claims, _spans(text, claims), strict=True):
            tally.annotated["kinds"] += claim["kind"] != "point"
            tally.annotated["hedges"] += claim["hedge"] != "none"
            tally.annotated["attribution"] += claim["attribution"] is not None
            match = next((i for i, p in enumerate(predicted) if i not in used
                          and p.span[0] < end and start < p.span[1]
                          and _numbers_agree(p, claim)), None)
            if match is None:
                continue
            used.add(match)
            p = predicted[match]
            tally.right["figures"] += 1
            tally.right["kinds"] += claim["kind"] != "point" and p.kind == claim["kind"]
            tally.right["hedges"] += claim["hedge"] != "none" and p.hedge == claim["hedge"]
            words = claim["attribution"]
            tally.right["attribution"] += bool(
                words and p.attribution
                and any(w.lower() in p.attribution.lower() for w in words))
    return tally


def load() -> list[dict[str, Any]]:
    paragraphs: list[dict[str, Any]] = json.loads(FIXTURE.read_text(encoding="utf-8"))[
        "paragraphs"]
    return paragraphs


def _cell(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{x:5.2f}"


def _ratio(a: float, b: float) -> str:
    if math.isnan(a) or math.isnan(b):
        return "  n/a"
    if b == 0:
        return "  inf" if a > 0 else "  n/a"
    return f"{a / b:5.2f}"


def table(ours: Tally, base: Tally) -> str:
    """The Markdown table of both readers and their ratios."""
    lines = [
        "| aspect | annotated | extract P | extract R | library P | library R | P ratio | "
        "R ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for aspect in ASPECTS:
        lines.append(
            f"| {aspect} | {ours.annotated[aspect]} | {_cell(ours.precision(aspect))} | "
            f"{_cell(ours.recall(aspect))} | {_cell(base.precision(aspect))} | "
            f"{_cell(base.recall(aspect))} | {_ratio(ours.precision(aspect), base.precision(aspect))} | "  # noqa: E501
            f"{_ratio(ours.recall(aspect), base.recall(aspect))} |"
        )
    return "\n".join(lines)


def main() -> None:
    paragraphs = load()
    ours, base = score(paragraphs, read_extract), score(paragraphs, read_library)
    outlets = {p["provenance"]["outlet"] for p in paragraphs}
    topics = sorted({p["topic"] for p in paragraphs})
    print(f"{len(paragraphs)} paragraphs from {len(outlets)} outlets ({', '.join(topics)}); "
          f"{ours.annotated['figures']} annotated claims.")
    print(table(ours, base))


if __name__ == "__main__":
    main()
