"""Entry point for moving quantities: claims and sources in, dated estimates out.

:func:`reconcile_dynamic` validates the claims and sources as :func:`models.reconcile.reconcile`
does, puts the claims on the same working scale with the same credibility
(:func:`models.encode.encode`), fits :class:`~models.dynamics.estimator.DynamicEstimator`, and
returns every number in the quantity's own units. The static path (``models.reconcile``) is not
involved: a ``static`` question keeps exactly today's answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from models.claims import Claim, Source
from models.credibility import SourceProfile
from models.dynamics.estimator import DynamicEstimator, DynamicFit, Dynamics
from models.dynamics.timeline import DayLike, Horizon, Timeline, build_timeline
from models.encode import WorkingScale, encode, working_scale
from models.inputs import checked_inputs
from models.result import Interval, Moment, Warning


@dataclass(frozen=True, slots=True)
class DatedEstimate(Moment):
    """The level on one day (or the eventual total), in the quantity's units: a
    :class:`~models.result.Moment` with the filter's day number.

    Attributes
    ----------
    date : datetime.date or None
        The calendar date, when the claims gave calendar dates; None for the total.
    value : float
        Posterior median.
    intervals : tuple of Interval
        Equal-tailed intervals, one per requested level, in request order.
    claims : tuple of int
        The claims (request indices) that speak of this node directly.
    total : bool
        Whether this is the eventual total.
    day : float or None
        Day number of the node (the proleptic ordinal for calendar dates); None for the total.
    """

    day: float | None = None


@dataclass(frozen=True, slots=True)
class DatedClaim:
    """What the filter made of one claim.

    Attributes
    ----------
    index : int
        Position in the request.
    source : str
    horizon : {"level", "total"}
    day : float
        The day it entered (an undated claim: the latest date).
    p_wrong, prior_p_wrong : float
        Posterior and prior probability that the claim is wrong.
    """

    index: int
    source: str
    horizon: Horizon
    day: float
    p_wrong: float
    prior_p_wrong: float


@dataclass(frozen=True, slots=True)
class DynamicResult:
    """Result of :func:`reconcile_dynamic`; numbers in the quantity's units.

    Attributes
    ----------
    dynamics : {"cumulative", "drifting"}
    scale : {"log", "linear"}
    trajectory : tuple of DatedEstimate
        The level on every claim day and the requested day, in time order.
    estimate : DatedEstimate
        The level on the requested day (default: the latest claim day).
    total : DatedEstimate or None
        The eventual total, when some claim speaks of it.
    claims : tuple of DatedClaim
        One per claim, in request order.
    drift_scale : float
        q on the working scale per √day (log units on the log scale): stated, or the
        maximum-marginal-likelihood candidate.
    drift_learned : bool
    warnings : tuple of Warning
    fit : DynamicFit
        The working-scale fit (grid, marginals, drift evidence) for plots and diagnostics.
    """

    dynamics: Dynamics
    scale: str
    trajectory: tuple[DatedEstimate, ...]
    estimate: DatedEstimate
    total: DatedEstimate | None
    claims: tuple[DatedClaim, ...]
    drift_scale: float
    drift_learned: bool
    warnings: tuple[Warning, ...]
    fit: DynamicFit


def _node_estimate(fit: DynamicFit, j: int, ws: WorkingScale, is_total: bool) -> DatedEstimate:
    tl = fit.timeline
    intervals = tuple(
        Interval(q, ws.backward(float(fit.intervals[j, k, 0])),
                 ws.backward(float(fit.intervals[j, k, 1])))
        for k, q in enumerate(fit.levels)
    )
    return DatedEstimate(
        date=None if is_total else tl.when(j),
        value=ws.backward(float(fit.medians[j])),
        intervals=intervals,
        claims=tuple(int(i) for i in np.flatnonzero(tl.node == j)),
        total=is_total,
        day=None if is_total else float(tl.days[j]),
    )


def _warnings(claims: Sequence[Claim], fit: DynamicFit) -> list[Warning]:
    out: list[Warning] = []
    tl = fit.timeline
    if tl.undated.size and tl.undated.size < len(claims):
        out.append(Warning(
            "undated_claims",
            "Some claims have no date; they are taken as made on the latest date.",
            tuple(int(i) for i in tl.undated),
        ))
    if len(claims) == 1:
        out.append(Warning("single_claim", "The estimate rests on a single claim.", (0,)))
    claim_days = np.unique(tl.node[tl.node < tl.n_levels]).shape[0]
    if (fit.drift_learned and claim_days >= 3
            and fit.drift_scale >= float(fit.drift_candidates.max())):
        out.append(Warning(
            "fast_drift",
            "The figures change faster than the largest drift the model considers; the "
            "level between claim dates is poorly determined.",
        ))
    if tl.has_total and not (tl.node < tl.n_levels).any():
        out.append(Warning(
            "total_only",
            "Every claim speaks of the eventual total; the level on each date is bounded only "
            "by the dynamics and the prior.",
            tuple(range(len(claims))),
        ))
    return out


def evidence_units(claims: Sequence[Claim], timeline: Timeline) -> np.ndarray:
    """Evidence unit of each claim, coded 0..U−1, for the filter's tempering (1/k_u).

    Claims sharing an ``origin`` are one report however many outlets repeat it, on whatever
    dates: they count once. Claims that share only their source count once per node: two
    figures a source gives for the same day (or the same total) are not independent, but its
    figures for different days are different statements about different levels (a daily
    count is not an echo of yesterday's).
    """
    keys: dict[str, int] = {}
    out = []
    for claim, node in zip(claims, timeline.node.tolist(), strict=True):
        key = (f"origin:{claim.origin}" if claim.origin is not None
               else f"source:{claim.source}@{node}")
        out.append(keys.setdefault(key, len(keys)))
    return np.array(out, dtype=np.int64)


def reconcile_dynamic(
    claims: Sequence[Claim],
    sources: Sequence[Source],
    *,
    dynamics: Dynamics,
    horizons: Sequence[Horizon] | None = None,
    scale: str = "auto",
    levels: Sequence[float] = (0.5, 0.9),
    at: DayLike | None = None,
    profiles: Mapping[str, SourceProfile] | None = None,
    estimator: DynamicEstimator | None = None,
) -> DynamicResult:
    """Reconcile dated claims about a moving quantity.

    Parameters
    ----------
    claims : sequence of Claim
        At least one; each names a source in ``sources``. ``Claim.as_of`` is the claim's date
        (None: the latest date among the dated claims).
    sources : sequence of Source
        Unique ids.
    dynamics : {"cumulative", "drifting"}
        Ignored when ``estimator`` is given (its own dynamics apply).
    horizons : sequence of {"level", "total"} or None
        One per claim (None: all ``level``).
    scale : {"auto", "log", "linear"}
    levels : sequence of float
        Interval levels in (0, 1), reported in this order.
    at : DayLike or None
        The day of :attr:`DynamicResult.estimate` (default: the latest claim date).
    profiles : mapping of source id to SourceProfile, optional
        Credibility to use instead of the sources' stated reliability (e.g. learned).
    estimator : DynamicEstimator, optional
        Hyper-parameters (stated drift, grid sizes); default ``DynamicEstimator(dynamics)``.

    Returns
    -------
    DynamicResult

    Raises
    ------
    ReconcileError
        With ``field`` naming the offending input.
    """
    checked = checked_inputs(claims, sources, scale, profiles)
    resolved, all_profiles = checked.scale, checked.profiles
    ws = working_scale(claims, resolved)
    enc = encode(claims, all_profiles, ws)
    model = estimator or DynamicEstimator(dynamics)
    units = evidence_units(claims, build_timeline([c.as_of for c in claims], horizons, at))
    fit = model.fit(enc, [c.as_of for c in claims], horizons, units=units, levels=levels, at=at)
    tl = fit.timeline
    trajectory = tuple(_node_estimate(fit, j, ws, False) for j in range(tl.n_levels))
    total = _node_estimate(fit, tl.n_levels, ws, True) if tl.has_total else None
    horizon_of: list[Horizon] = ["total" if tl.has_total and n == tl.n_levels else "level"
                                 for n in tl.node.tolist()]
    assessed = tuple(
        DatedClaim(i, c.source, horizon_of[i], float(tl.claim_day[i]), float(fit.p_wrong[i]),
                   float(fit.prior_p_wrong[i]))
        for i, c in enumerate(claims)
    )
    return DynamicResult(
        dynamics=model.dynamics, scale=ws.scale, trajectory=trajectory,
        estimate=trajectory[tl.at], total=total, claims=assessed,
        drift_scale=fit.drift_scale, drift_learned=fit.drift_learned,
        warnings=tuple(_warnings(claims, fit)), fit=fit,
    )

