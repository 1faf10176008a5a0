"""Plain-language summaries a journalist can paste.

Pure string formatting: no statistics happens here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from models.claims import Claim, Source
from models.result import ClaimAssessment, Disagreement, Estimate


def fmt(x: float) -> str:
    """A figure rounded to three significant digits with thousands separators.

    >>> fmt(1534.2), fmt(12000), fmt(0.01234), fmt(2.5e6)
    ('1,530', '12,000', '0.0123', '2.5 million')
    """
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    magnitude = abs(x)
    if magnitude >= 1e6:
        for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
            if magnitude >= size:
                return f"{_round_sig(x / size):,g} {word}"
    rounded = _round_sig(x)
    if magnitude >= 1000:
        return f"{rounded:,.0f}"
    return f"{rounded:g}"


def _round_sig(x: float, digits: int = 3) -> float:
    return round(x, digits - 1 - int(math.floor(math.log10(abs(x)))))


def describe_claim(claim: Claim) -> str:
    """The claim's figure as words: "1,500", "up to 10,000", "between 10,000 and 12,000"."""
    if claim.kind == "range":
        return f"between {fmt(_num(claim.low))} and {fmt(_num(claim.high))}"
    value = fmt(_num(claim.value))
    prefix = {"at_least": "at least ", "at_most": "up to "}.get(claim.kind, "")
    hedge = {"about": "about ", "could_be": "possibly ", "rumour": "reportedly "}.get(
        claim.hedge, ""
    )
    return f"{prefix}{hedge}{value}"


def _num(x: float | None) -> float:
    return math.nan if x is None else x


def _percent(w: float) -> str:
    return f"{100 * w:.0f}%"


def _names(labels: Sequence[str]) -> str:
    unique = list(dict.fromkeys(labels))
    if len(unique) <= 1:
        return "".join(unique)
    return ", ".join(unique[:-1]) + " and " + unique[-1]


def explain(
    *,
    question: str | None,
    unit: str | None,
    method: str,
    estimate: Estimate,
    claims: Sequence[Claim],
    sources: dict[str, Source],
    assessments: Sequence[ClaimAssessment],
    disagreement: Disagreement,
) -> str:
    """A short paragraph naming the sources, the estimate, its range and what drove it.

    Parameters
    ----------
    question, unit : str or None
        The quantity and its unit, as the caller named them.
    method : str
        ``robust``, ``random_effects`` or ``fixed_effect``.
    estimate : Estimate
    claims : sequence of Claim
    sources : dict of id to Source
    assessments : sequence of ClaimAssessment, in claim order
    disagreement : Disagreement

    Returns
    -------
    str
    """
    subject = question.strip() if question else "the figure"
    unit_text = f" {unit}" if unit else ""
    widest = max(estimate.intervals, key=lambda iv: iv.level)
    sentences = [
        f"Triangulate puts {subject} at about {fmt(estimate.value)}{unit_text} "
        f"({_percent(widest.level)} range {fmt(widest.low)} to {fmt(widest.high)})."
    ]

    def label(i: int) -> str:
        return sources[claims[i].source].label

    ranked = sorted(assessments, key=lambda a: -a.weight)
    top = [a for a in ranked if a.weight >= 0.2][:2] or ranked[:1]
    lead = " and ".join(
        f"{label(a.index)}'s {describe_claim(claims[a.index])} ({_percent(a.weight)} of the weight)"
        for a in top
    )
    if method == "robust":
        sentences.append(f"It rests mainly on {lead}.")
    else:
        kind = "random-effects" if method == "random_effects" else "fixed-effect"
        sentences.append(
            f"It pools the claims' stated uncertainties ({kind} model); the largest shares are "
            f"{lead}."
        )

    outliers = [a.index for a in assessments if a.outlier]
    if outliers:
        who = _names([f"{label(i)}'s {describe_claim(claims[i])}" for i in outliers])
        verb = "looks" if len(outliers) == 1 else "look"
        sentences.append(
            f"{who[0].upper()}{who[1:]} {verb} inconsistent with the rest and "
            f"{'counts' if len(outliers) == 1 else 'count'} for little."
        )
    if disagreement.conflicts:
        first = disagreement.conflicts[0]
        more = len(disagreement.conflicts) - 1
        tail = f" ({more} more such pair{'s' if more > 1 else ''})" if more else ""
        sentences.append(
            f"The sources disagree: {label(first.a)}'s {describe_claim(claims[first.a])} and "
            f"{label(first.b)}'s {describe_claim(claims[first.b])} cannot both be right at their "
            f"stated reliability{tail}, which widens the range."
        )
    elif disagreement.detected:
        sentences.append("The claims disagree more than their stated uncertainty explains.")
    else:
        sentences.append("The claims are consistent with one another.")

    bounds = [a for a in assessments if claims[a.index].kind in ("at_least", "at_most")]
    slack = [a.index for a in bounds if a.weight < 0.05 and not a.outlier]
    if slack:
        who = _names([f"{label(i)}'s {describe_claim(claims[i])}" for i in slack])
        verb = "is" if len(slack) == 1 else "are"
        sentences.append(f"{who[0].upper()}{who[1:]} {verb} consistent with the estimate.")
    return " ".join(sentences)
