"""Learn every source's track record: the type-pooled priors, the MAP EM of each hypothesis, the
posterior over hypotheses, and the records (:mod:`models.track_record`, "Empirical Bayes" and
"A posterior over hypotheses").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from models.credibility import CredibilityComponent, SourceProfile
from models.likelihood import FloatArray
from models.track_record.em import map_fit
from models.track_record.records import ResolvedClaim, TrackRecord, unlearned
from models.track_record.residuals import check_sources, residuals
from models.track_record_sums import (
    Grouping,
    LocalRows,
    RowSums,
    count_sums,
    evidence_sums,
    totals_sums,
)

#: Weight of a type's claims at which its pooled record moves members' priors a quarter of the
#: way (λ = ½ · n_T / (n_T + 20)).
TYPE_HALF_WEIGHT = 20.0
#: A hypothesis whose posterior weight falls below this is dropped from the learned profile
#: (its log-weight would be -inf in the reconciler).
MIN_WEIGHT = 1e-9


def learn_track_records(
    records: Sequence[ResolvedClaim],
    priors: Mapping[str, SourceProfile],
    source_types: Mapping[str, str],
) -> dict[str, TrackRecord]:
    """Empirical-Bayes track records for every source in ``priors``.

    Parameters
    ----------
    records : sequence of ResolvedClaim
    priors : mapping of source id to SourceProfile
        Each source's prior (from its grade); every source in ``records`` must be here.
    source_types : mapping of source id to source type
        For pooling the record of sources of one type.

    Returns
    -------
    dict of source id to TrackRecord
        One per source in ``priors``; sources without resolved claims keep their prior
        (``credibility`` None).

    Raises
    ------
    InvalidClaimError
        When a record names an unknown source or a resolution unusable on its scale.
    """
    ids = list(priors)
    index = {sid: k for k, sid in enumerate(ids)}
    check_sources(records, index)
    if not records:
        return {sid: unlearned(sid, priors[sid]) for sid in ids}
    return fit_track_records(LocalRows([residuals(records, index)]), priors, source_types)



def fit_track_records(
    rows: RowSums,
    priors: Mapping[str, SourceProfile],
    source_types: Mapping[str, str],
) -> dict[str, TrackRecord]:
    """:func:`learn_track_records` from residual rows however they are held.

    Parameters
    ----------
    rows : RowSums
        Sums over the rows of :func:`residuals` (grouped by the position of each source in
        ``priors``), in one part or in several, each of whole questions
        (:mod:`models.track_record_sums`; a distributed engine's parts on its workers).
    priors, source_types
        As :func:`learn_track_records`.

    Returns
    -------
    dict of source id to TrackRecord
        As :func:`learn_track_records`; the same numbers up to the order of the additions.
    """
    ids = list(priors)
    n_src = len(ids)
    n_resolved, n_questions, n_cal, hits, n_points, near = rows(
        Grouping("source", n_src), count_sums)
    if not n_resolved.any():
        return {sid: unlearned(sid, priors[sid]) for sid in ids}
    # Hypotheses: the components of each source's prior, contiguous per source.
    comps = [priors[s].components for s in ids]
    count = np.array([len(k) for k in comps], dtype=np.int64)
    start = np.cumsum(count) - count
    owner = np.repeat(np.arange(n_src, dtype=np.int64), count)
    flat: list[CredibilityComponent] = [k for ks in comps for k in ks]
    log_pi = np.log([k.weight for k in flat])
    h_c = np.array([k.c for k in flat])
    h_sigma = np.array([k.sigma for k in flat])
    h_beta = np.array([k.bias for k in flat])

    # Type-pooled records: the same EM with one group per source type, from the sources'
    # summary priors.
    m_c = np.array([priors[s].credibility for s in ids])
    m_sigma = np.array([priors[s].spread for s in ids])
    m_beta = np.bincount(owner, weights=np.exp(log_pi) * h_beta, minlength=n_src).astype(
        np.float64)
    types = sorted({source_types.get(s, "other") for s in ids})
    t_index = np.array([types.index(source_types.get(s, "other")) for s in ids])
    by_type = Grouping("type", len(types), type_of=t_index)
    n_type = rows(by_type, totals_sums)[0]
    members = np.maximum(np.bincount(t_index, minlength=len(types)), 1)

    def type_mean(v: FloatArray) -> FloatArray:
        return np.bincount(t_index, weights=v, minlength=len(types)) / members

    tfit = map_fit(rows, by_type, type_mean(m_c), type_mean(m_sigma), type_mean(m_beta))
    lam = (0.5 * n_type / (n_type + TYPE_HALF_WEIGHT))[t_index[owner]]
    t_of = t_index[owner]
    prior_c = (1 - lam) * h_c + lam * tfit.c[t_of]
    prior_sigma = np.exp((1 - lam) * np.log(h_sigma) + lam * np.log(tfit.sigma[t_of]))
    prior_beta = (1 - lam) * h_beta + lam * tfit.beta[t_of]

    expanded = Grouping("hypothesis", int(count.sum()), start=start, count=count)
    fit = map_fit(rows, expanded, prior_c, prior_sigma, prior_beta)
    # Posterior over hypotheses, each taken at its prior centre (see the module docstring).
    log_post = log_pi + rows(expanded, evidence_sums, prior_c, prior_sigma, prior_beta)[0]
    top = np.full(n_src, -np.inf)
    np.maximum.at(top, owner, log_post)
    post = np.exp(log_post - top[owner])
    post /= np.bincount(owner, weights=post, minlength=n_src)[owner]

    iterations = max(tfit.iterations, fit.iterations)
    converged = tfit.converged and fit.converged
    out: dict[str, TrackRecord] = {}
    for k, sid in enumerate(ids):
        if n_resolved[k] == 0:
            out[sid] = replace(unlearned(sid, priors[sid]), iterations=iterations,
                               converged=converged)
            continue
        hyps = range(int(start[k]), int(start[k] + count[k]))
        kept = [j for j in hyps if post[j] >= MIN_WEIGHT]
        total = float(sum(post[j] for j in kept))
        profile = SourceProfile(tuple(
            CredibilityComponent(float(post[j]) / total, float(fit.c[j]), float(fit.sigma[j]),
                                 float(fit.beta[j]))
            for j in kept
        ), "learned")
        out[sid] = TrackRecord(
            source=sid,
            n_resolved=int(n_resolved[k]),
            credibility=profile.credibility,
            spread=profile.spread,
            bias=float(sum(comp.weight * comp.bias for comp in profile.components)),
            hit_rate=profile.hit_rate(),
            observed_hit_rate=float(near[k] / n_points[k]) if n_points[k] > 0 else None,
            calibration=float(hits[k] / n_cal[k]) if n_cal[k] > 0 else None,
            n_calibration=int(n_cal[k]),
            profile=profile,
            quality=profile.equivalent_credibility(),
            n_questions=int(round(n_questions[k])),
            iterations=iterations,
            converged=converged,
        )
    return out

