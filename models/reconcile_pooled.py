"""Inverse-variance pooling's answer to one static question (:func:`pooled_result`, called by
:func:`models.reconcile.reconcile` for ``random_effects`` and ``fixed_effect``)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import norm

from models.claim_words import outlier_warning
from models.claims import Claim, Source
from models.credibility import SourceProfile
from models.encode import WorkingScale, claim_sd
from models.errors import InvalidClaimError
from models.findings import HETEROGENEITY_LEVEL
from models.pooling import FixedEffect, PoolingFit, RandomEffects
from models.result import (
    ClaimAssessment,
    Disagreement,
    Estimate,
    Heterogeneity,
    Interval,
    PredictionInterval,
    ReconcileResult,
    Warning,
    source_uses,
)


def pooled_result(
    claims: Sequence[Claim], by_id: dict[str, Source], sources: Sequence[Source],
    profiles: Mapping[str, SourceProfile], ws: WorkingScale, units: np.ndarray,
    levels: tuple[float, ...], warnings: list[Warning], method: str, tau2_method: str,
    ci_method: str, unit: str | None = None,
) -> ReconcileResult:
    for i, claim in enumerate(claims):
        if claim.kind != "point" or (claim.sd is None and claim.ci_low is None):
            raise InvalidClaimError(
                f"Method {method} needs every claim to be a point with its own sd or "
                "ci_low/ci_high.",
                f"claims.{i}.sd" if claim.kind == "point" else f"claims.{i}.kind",
            )
    y_claim = np.array([ws.forward(float(c.value or 0.0)) for c in claims])
    sd_claim = np.array([claim_sd(c, ws, cap=math.inf) for c in claims])
    with np.errstate(over="ignore", under="ignore"):
        v_claim = sd_claim**2
    bad = np.flatnonzero(~(np.isfinite(v_claim) & (v_claim > 0)) | ~np.isfinite(y_claim))
    if bad.size:
        j = int(bad[0])
        raise InvalidClaimError(
            f"The uncertainty of claim {j} is too small or too large to pool in floating "
            "point (its variance is not a positive finite number); restate it in other units.",
            f"claims.{j}.sd" if claims[j].sd is not None else f"claims.{j}.ci_low",
        )
    # One observation per evidence unit: echoes of one study are one study.
    n_units = int(units.max()) + 1
    counts = np.bincount(units, minlength=n_units).astype(float)
    y = np.bincount(units, weights=y_claim, minlength=n_units) / counts
    v = np.bincount(units, weights=v_claim, minlength=n_units) / counts
    model = (
        RandomEffects(tau2_method=tau2_method, ci_method=ci_method)
        if method == "random_effects" else FixedEffect(ci_method=ci_method)
    )
    fit: PoolingFit = model.fit(y, v)
    value = ws.backward(fit.mu)
    bounds = {q: fit.interval(q) for q in levels}
    intervals = tuple(
        Interval(q, ws.backward(bounds[q][0]), ws.backward(bounds[q][1])) for q in levels
    )
    estimate = Estimate(value, intervals, fit.se)
    if n_units >= 2:
        mu_loo, _ = fit.leave_one_out()
        resid = fit.studentized_residuals()
    else:
        mu_loo = np.full(1, np.nan)
        resid = np.full(1, np.nan)
    crit = float(norm.ppf(0.975))
    assessments = []
    for i, claim in enumerate(claims):
        u = int(units[i])
        share = float(fit.weights[u]) / float(counts[u])
        if counts[u] > 1:
            without_theta = fit.mu  # the rest of its unit still carries the same evidence
        else:
            without_theta = float(mu_loo[u])
        est_without = None if math.isnan(without_theta) else ws.backward(without_theta)
        unit_out = float(mu_loo[u]) if n_units >= 2 else math.nan
        r = float(resid[u])
        assessments.append(ClaimAssessment(
            index=i, source=claim.source, weight=share,
            influence=0.0 if est_without is None else est_without - value,
            estimate_without=est_without,
            # With two units the two residuals are equal and opposite: the test cannot tell
            # which one is off, so neither is called an outlier (the Q test reports the split).
            outlier=bool(n_units >= 3 and math.isfinite(r) and abs(r) > crit),
            residual=r if math.isfinite(r) else None,
            estimate_without_unit=None if math.isnan(unit_out) else ws.backward(unit_out),
        ))
    het = Heterogeneity(
        tau2=fit.tau2, tau=math.sqrt(fit.tau2), i2=fit.i2, h2=fit.h2, q=fit.q, q_df=fit.q_df,
        q_pvalue=fit.q_pvalue,
        convention=(
            "Cochran's Q with fixed-effect weights; I² = τ²/(τ² + s²) with s² the typical "
            "within-claim variance (metafor's definition); τ² on the working scale."
        ),
    )
    top = max(levels)
    p_lo, p_hi = fit.prediction_interval(top)
    prediction = PredictionInterval(
        top, ws.backward(p_lo), ws.backward(p_hi),
        "metafor: mu ± crit·sqrt(se² + τ²), crit from the normal (z) or t with k−1 df (knha)",
    )
    outliers = tuple(a.index for a in assessments if a.outlier)
    warnings = [*warnings, *(outlier_warning(i, claims[i], by_id[claims[i].source].label, unit,
                                             residual=assessments[i].residual)
                             for i in outliers)]
    detected = bool(outliers) or (fit.q_df > 0 and fit.q_pvalue < HETEROGENEITY_LEVEL)
    disagreement = Disagreement(
        detected=detected, conflicts=(), clusters=(tuple(range(len(claims))),),
        outliers=outliers, modes=1, i2=fit.i2,
    )
    return ReconcileResult(
        method="random_effects" if method == "random_effects" else "fixed_effect",
        scale=ws.scale, estimate=estimate, claims=tuple(assessments),
        disagreement=disagreement, warnings=tuple(warnings), explanation="",
        sources=source_uses(sources, profiles), heterogeneity=het, prediction=prediction,
    )
