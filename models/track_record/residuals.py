"""Resolved claims as residual rows on their working scales
(:class:`~models.track_record_sums.Residuals`), the rows every step of the learning sums over.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.special import ndtri

from models.claims import HEDGES
from models.encode import WorkingScale, claim_sd
from models.errors import InvalidClaimError
from models.track_record.records import ResolvedClaim
from models.track_record_sums import Residuals


def _precision(rec: ResolvedClaim) -> float:
    """P_i of a linear-scale claim: its own sd, else its precision, else |truth|."""
    c = rec.claim
    if c.sd is not None and c.sd > 0:
        return c.sd
    if c.ci_low is not None and c.ci_high is not None and c.ci_high > c.ci_low:
        return (c.ci_high - c.ci_low) / (2.0 * float(ndtri(0.5 + c.ci_level / 2.0)))
    if rec.precision is not None and rec.precision > 0:
        return rec.precision
    return abs(rec.truth)


def _working_scale(rec: ResolvedClaim) -> WorkingScale:
    # Residuals against the truth: log x − log t, or (x − t)/P_i on the linear scale.
    if rec.scale == "log":
        return WorkingScale("log")
    return WorkingScale("linear", rec.truth, _precision(rec))


def residuals(records: Sequence[ResolvedClaim], index: Mapping[str, int]) -> Residuals:
    """The rows of ``records`` on their working scales, grouped by ``index`` of their source.

    ``records`` must hold every claim of each of their questions (the weights w_i count a
    source's claims on one question). Raises InvalidClaimError for an unusable resolution or
    shared error, KeyError for a source not in ``index`` (:func:`check_sources`).
    """
    n = len(records)
    group = np.empty(n, dtype=np.int64)
    point = np.zeros(n, dtype=bool)
    r = np.zeros(n)
    lo = np.full(n, -np.inf)
    hi = np.full(n, np.inf)
    h = np.ones(n)
    log_f = np.zeros(n)
    s2 = np.zeros(n)
    contains = np.zeros(n, dtype=bool)
    has_interval = np.zeros(n, dtype=bool)
    per_question: dict[tuple[str, str], int] = {}
    for rec in records:
        key = (rec.claim.source, rec.question)
        per_question[key] = per_question.get(key, 0) + 1
    weight = np.array([1.0 / per_question[(rec.claim.source, rec.question)]
                       for rec in records])
    for i, rec in enumerate(records):
        ws = _working_scale(rec)
        if not (math.isfinite(rec.truth) and (rec.truth > 0 if rec.scale == "log"
                                              else math.isfinite(ws.unit) and ws.unit > 0)):
            raise InvalidClaimError(
                f"Invalid resolution {rec.truth!r} for a {rec.scale}-scale question "
                f"{rec.question!r}; learning needs a positive truth (log) or, for a truth of "
                "0 (linear), a claim sd or the question's precision.",
                field="value",
            )
        if isinstance(rec.shared, bool) or not (math.isfinite(rec.shared)
                                                and rec.shared >= 0.0):
            raise InvalidClaimError(
                f"Invalid shared error {rec.shared!r} for question {rec.question!r}; it must "
                "be a finite number >= 0.", field="shared_error")
        claim = rec.claim
        group[i] = index[claim.source]
        hedge = HEDGES[claim.hedge]
        h[i], log_f[i] = hedge.spread_factor, math.log(hedge.wrong_factor)
        t = rec.truth
        origin = ws.forward(t)
        # The reconciler's own sd on the working scale (models.encode.claim_sd and
        # precision_units): on the linear scale a claim without one takes the question's
        # precision, which is then its unit.
        own = claim_sd(claim, ws)
        if own <= 0.0 and rec.scale == "linear" and rec.precision is not None \
                and rec.precision > 0:
            own = 1.0
        # The shared error is in every claim's residual x_i − t = β + δ_q + e_i + u_i, like
        # the claim's own stated error; left out, each source's spread absorbs it.
        shared = rec.shared / ws.unit if rec.scale == "linear" else rec.shared
        s2[i] = own ** 2 + shared ** 2
        if claim.kind == "point" and claim.value is not None:
            point[i] = True
            r[i] = ws.forward(claim.value) - origin
            if claim.ci_low is not None and claim.ci_high is not None:
                has_interval[i] = True
                contains[i] = claim.ci_low <= t <= claim.ci_high
            elif claim.sd is not None:
                half = 1.959963984540054 * claim.sd
                has_interval[i] = True
                contains[i] = claim.value - half <= t <= claim.value + half
            continue
        if claim.kind == "at_least" and claim.value is not None:
            lo[i] = ws.forward(claim.value) - origin
            contains[i] = t >= claim.value
        elif claim.kind == "at_most" and claim.value is not None:
            hi[i] = ws.forward(claim.value) - origin
            contains[i] = t <= claim.value
        elif claim.kind == "range" and claim.low is not None and claim.high is not None:
            lo[i] = ws.forward(claim.low) - origin
            hi[i] = ws.forward(claim.high) - origin
            contains[i] = claim.low <= t <= claim.high
        has_interval[i] = True
    return Residuals(group, weight, point, r, lo, hi, h, log_f, s2, contains, has_interval)


def check_sources(records: Sequence[ResolvedClaim], index: Mapping[str, int]) -> None:
    """Refuse a record whose source is not in ``index`` (InvalidClaimError naming ``source``)."""
    for rec in records:
        if rec.claim.source not in index:
            raise InvalidClaimError(f"Unknown source {rec.claim.source!r} in a resolved claim.",
                                    field="source")

