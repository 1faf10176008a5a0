"""The findings of a reconciliation in the contract: the typed facts its words are rendered from.

Every sentence of ``explanation`` is one :class:`FindingSchema` (its kind, the claims it cites,
each number it prints with the response field holding it); ``summary`` is the headline
(:class:`SummarySchema`). The thresholds quoted in the descriptions are the core's
(:mod:`models.findings`), so the document says what the code does.
"""

from __future__ import annotations

from typing import Final

import marshmallow as ma

from models.findings import (
    HETEROGENEITY_LEVEL,
    NEGLIGIBLE_SHIFT,
    RESTS_ON_SHARE,
    TROUGH_DENSITY,
)
from service.http.schemas.base import StrictSchema, one_of, out_int, out_list, out_num, out_str

__all__ = ["FINDING_KINDS", "SUMMARY_KINDS", "FigureSchema", "FindingSchema", "SummarySchema"]


#: What a headline can be.
SUMMARY_KINDS: Final[tuple[str, ...]] = ("figure", "range", "bound", "split", "course")
#: What a finding can state.
FINDING_KINDS: Final[tuple[str, ...]] = (
    "central_figure", "one_sided_bound", "bounds_only", "split", "rests_on", "discounted",
    "echo_group", "conflict", "agreement", "heterogeneity", "binding_bound", "violated_bound",
    "slack_bounds", "time_course",
)


class FigureSchema(StrictSchema):
    name = out_str("What the number is: estimate, low, high, level, share.<i>, p_wrong, "
                   "estimate_without, total_share, groups.<g>.min/max/share, p, claims.<i>.value …")
    value = out_num("The number; for a date (date, first_date) its proleptic ordinal (1 is 1 "
                    "January of year 1), the path holding the ISO date.")
    text = out_str("The number as printed: exactly as claimed when quoted; else rounded (see "
                   "exponent) or a percentage.")
    path = out_str("The response field that holds the same number (e.g. claims.2.p_wrong), or "
                   "null when it exists only in the finding (a group's total share).",
                   nullable=True)
    quoted = ma.fields.Boolean(
        required=True, metadata={"description": "True for a claimed figure quoted exactly."}
    )
    exponent = out_int(
        "Computed figures: text is value rounded to a multiple of 10^exponent. The rule: two "
        "significant figures of the width of the widest interval, never coarser than two "
        "significant figures of the number itself, never finer than 1 for whole-number "
        "quantities.",
        nullable=True,
    )


class FindingSchema(StrictSchema):
    """One typed fact the explanation is rendered from."""

    kind = one_of(
        FINDING_KINDS,
        (
            "central_figure: the estimate and its widest range. one_sided_bound: every "
            "claim bounds one side; the strongest bound is the answer. bounds_only: no "
            "claim gives a figure; bounds close both sides. split: groups of claims that "
            "cannot all be right, the estimate in a trough between them (posterior density "
            f"there under {TROUGH_DENSITY:.0%} of its peak, or for pooling the Q test "
            "rejecting and the estimate outside every claim's interval). rests_on: the "
            f"fewest evidence units whose shares reach {RESTS_ON_SHARE:.0%}. discounted: a "
            "claim judged probably wrong (outlier) and the estimate without it "
            f"(negligible: it moves under {NEGLIGIBLE_SHIFT:.0%}). echo_group: claims "
            "repeating one origin, counted once, with their total share. conflict: pairs "
            "that cannot both be right. agreement: the claims can all be right. "
            f"heterogeneity: Cochran's Q test at level {HETEROGENEITY_LEVEL}. binding_bound: "
            f"a bound whose removal moves the estimate by {NEGLIGIBLE_SHIFT:.0%} or more. "
            "violated_bound: a bound the estimate lies beyond by more than "
            f"{NEGLIGIBLE_SHIFT:.0%}. slack_bounds: bounds the estimate satisfies. "
            "time_course (moving quantities): the level on time.at with its range and "
            "where it started, the claimed eventual totals and the total's range."
        ),
        required=True,
    )
    claims = ma.fields.List(
        ma.fields.Integer(), required=True,
        metadata={"description": "Indices of the claims the finding cites."},
    )
    figures = out_list(
        FigureSchema, "A number.",
        "Every number the finding prints, with its source field.",
    )
    text = out_str("The finding's sentence; the explanation is these sentences in order.")
    side = out_str("Bound findings: at_least or at_most.", nullable=True)
    origin = out_str("echo_group: the shared origin.", nullable=True)
    groups = ma.fields.List(
        ma.fields.List(ma.fields.Integer()), required=True, allow_none=True,
        metadata={"description": "split: the claim indices of each group, lowest figure first."},
    )
    pairs = ma.fields.List(
        ma.fields.List(ma.fields.Integer()), required=True, allow_none=True,
        metadata={"description": "conflict: every conflicting pair."},
    )
    test = out_str("heterogeneity: the test (cochran_q).", nullable=True)
    significant = ma.fields.Boolean(
        required=True, allow_none=True,
        metadata={"description": "heterogeneity: whether p is below the level."},
    )
    negligible = ma.fields.Boolean(
        required=True, allow_none=True,
        metadata={"description": "discounted: whether leaving the claim out barely moves the "
                                 "estimate."},
    )


class SummarySchema(StrictSchema):
    """The headline that fits the evidence."""

    kind = one_of(
        SUMMARY_KINDS,
        (
            "figure: one estimate with its range. range: no claim gives a figure and "
            "bounds close both sides (the claimed bounds are quoted). bound: every claim "
            "bounds one side (\"at least 100,000\"). split: groups that cannot all be "
            "right, reported as their figures, never as a figure between them. course: a "
            "moving quantity, its level on a date and the claimed eventual total."
        ),
        required=True,
    )
    text = out_str("The headline words, e.g. \"About 1,600 soldiers (90% range 1,100 to 8,900)\".")
    figures = out_list(FigureSchema, "A number.", "The numbers in text.")
