"""A moving quantity as a reconcile result: its level on a date, its course and its total.

The filter of :mod:`models.dynamics` gives the level on each claim date and the eventual
total. This module turns that into the :class:`~models.result.ReconcileResult` every caller
reads, so the response, the findings and the plot need no second shape:

* ``estimate`` is the level on ``at`` (default: the latest claim date);
* each claim's ``p_wrong`` is the filter's, and it is an ``outlier`` by the static model's rule
  (p_wrong ≥ 1/2 and the data raised its odds of being wrong at least
  :data:`OUTLIER_BAYES_FACTOR`-fold);
* each claim's ``estimate_without`` (and ``estimate_without_unit``) is the level on the same
  date refitted without it (without its whole evidence unit), so its ``share`` means what it
  means for a static question; ``weight`` equals the share (the filter has no sensitivity);
* ``time`` holds the trajectory, the eventual total and the drift.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from models.claim_words import outlier_warning
from models.claims import Claim, DynamicsName, Source
from models.credibility import SourceProfile
from models.dynamics import DynamicEstimator, DynamicResult, reconcile_dynamic
from models.result import (
    ClaimAssessment,
    Disagreement,
    Estimate,
    Posterior,
    ReconcileResult,
    SourceUse,
    TimeView,
    Warning,
)

__all__ = ["OUTLIER_BAYES_FACTOR", "reconcile_moving"]

#: The static robust model's rule (models.robust.RobustEstimator's default): a claim is an
#: outlier when the data raised its odds of being wrong at least three-fold ("substantial" on
#: Jeffreys' scale) and it is more likely wrong than right.
OUTLIER_BAYES_FACTOR = 3.0


@dataclass(frozen=True, slots=True)
class _Options:
    sources: Sequence[Source]
    dynamics: DynamicsName
    scale: str
    levels: Sequence[float]
    drift: float | None
    profiles: Mapping[str, SourceProfile]

    def fit(self, claims: Sequence[Claim], at: date | float | None) -> DynamicResult:
        if self.dynamics == "static":
            raise ValueError("A static question is reconciled by models.reconcile.")
        return reconcile_dynamic(
            claims, self.sources, dynamics=self.dynamics,
            horizons=[c.horizon for c in claims], scale=self.scale, levels=self.levels, at=at,
            profiles=self.profiles,
            estimator=DynamicEstimator(self.dynamics, drift_scale=self.drift),
        )

    def without(self, claims: Sequence[Claim], leave: set[int], fit: DynamicResult
                ) -> float | None:
        """The level on ``fit``'s date refitted without the claims ``leave`` (None if none
        stay)."""
        rest = [c for i, c in enumerate(claims) if i not in leave]
        if not rest:
            return None
        at = fit.estimate.date if fit.estimate.date is not None else fit.estimate.day
        return self.fit(rest, at).estimate.value


def _posterior(fit: DynamicResult) -> Posterior:
    """The level's distribution on ``at``, as a density over the quantity, for plots."""
    f = fit.fit
    theta = np.asarray(f.theta, dtype=np.float64)
    density = f.marginals[f.timeline.at] / np.gradient(theta)
    values = np.exp(theta) if fit.scale == "log" else theta
    keep = np.isfinite(values) & np.isfinite(density)
    return Posterior(tuple(values[keep].tolist()), tuple(density[keep].tolist()))


def _not_every_claim_of_a_moment(claims: Sequence[Claim], flagged: list[int]) -> list[int]:
    """The outliers, except that the claims about one moment (a date's level, or the total) are
    never all called wrong: when they are, they disagree with each other, and the evidence
    splits there rather than every claim being wrong (the static model's camps rule)."""
    moments: dict[tuple[str, date | None], list[int]] = {}
    for i, c in enumerate(claims):
        moments.setdefault((c.horizon, c.as_of if c.horizon == "level" else None), []).append(i)
    keep = set(flagged)
    for members in moments.values():
        if len(members) >= 2 and all(i in keep for i in members):
            keep -= set(members)
    if keep == set(range(len(claims))):
        keep = set()
    return sorted(keep)


def reconcile_moving(
    claims: Sequence[Claim],
    sources: Sequence[Source],
    *,
    dynamics: DynamicsName,
    scale: str,
    levels: Sequence[float],
    at: date | None,
    drift: float | None,
    profiles: Mapping[str, SourceProfile],
    uses: tuple[SourceUse, ...],
    warnings: Sequence[Warning],
    unit: str | None = None,
) -> ReconcileResult:
    """The result of a moving question, words not yet written (see the module docstring).

    Parameters
    ----------
    claims, sources : sequence of Claim, sequence of Source
        Validated by the caller.
    dynamics : {"cumulative", "drifting"}
    scale : {"log", "linear"}
        The resolved working scale.
    levels : sequence of float
    at : datetime.date or None
        The date of the estimate; None for the latest claim date.
    drift : float or None
        The stated drift per day on the working scale; None to learn it.
    profiles : mapping of source id to SourceProfile
        Every source's credibility.
    uses : tuple of SourceUse
        The credibility each source was used with, echoed.
    warnings : sequence of Warning
        Warnings already found (shared with the static path); each outlier adds one, as on
        the static path.
    unit : str or None
        The quantity's unit as the request names it (it words the outlier warnings).

    Returns
    -------
    ReconcileResult
    """
    options = _Options(sources, dynamics, scale, levels, drift, profiles)
    fit = options.fit(claims, at)
    value = fit.estimate.value
    units: dict[str, set[int]] = {}
    for i, c in enumerate(claims):
        units.setdefault(c.evidence_unit, set()).add(i)
    def is_outlier(p_wrong: float, prior: float) -> bool:
        prior_odds = prior / max(1.0 - prior, 1e-300)
        post_odds = p_wrong / max(1.0 - p_wrong, 1e-300)
        return p_wrong >= 0.5 and post_odds >= OUTLIER_BAYES_FACTOR * prior_odds

    outliers = _not_every_claim_of_a_moment(
        claims, [i for i, d in enumerate(fit.claims) if is_outlier(d.p_wrong, d.prior_p_wrong)])
    # One refit per claim, and one per evidence unit of several claims (shared by its echoes).
    without_units = {key: options.without(claims, unit, fit)
                     for key, unit in units.items() if len(unit) > 1}
    assessments = []
    for i, (claim, dated) in enumerate(zip(claims, fit.claims, strict=True)):
        without = options.without(claims, {i}, fit)
        without_unit = without_units.get(claim.evidence_unit, without)
        assessments.append(ClaimAssessment(
            index=i, source=claim.source, weight=0.0,
            influence=0.0 if without is None else without - value,
            estimate_without=without, outlier=i in outliers, p_wrong=dated.p_wrong,
            estimate_without_unit=without_unit,
        ))
    time = TimeView(
        dynamics=fit.dynamics, at=fit.estimate.date,
        trajectory=fit.trajectory, total=fit.total,
        drift=fit.drift_scale, drift_learned=fit.drift_learned,
    )
    seen = {w.code for w in warnings}
    by_id = {s.id: s for s in sources}
    flagged = [outlier_warning(i, claims[i], by_id[claims[i].source].label, unit,
                               p_wrong=fit.claims[i].p_wrong) for i in outliers]
    return ReconcileResult(
        method="robust",
        scale="log" if fit.scale == "log" else "linear",
        estimate=Estimate(value, fit.estimate.intervals),
        claims=tuple(assessments),
        disagreement=Disagreement(detected=bool(outliers), outliers=tuple(outliers)),
        warnings=(*warnings, *(w for w in fit.warnings if w.code not in seen), *flagged),
        explanation="",
        sources=uses,
        posterior=_posterior(fit),
        time=time,
    )
