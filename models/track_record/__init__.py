"""Learn each source's credibility from claims on questions whose true value became known.

Symbols
-------
r_i     : residual of claim i on the working scale, x_i − t (log x − log t on the log scale;
          (x − t)/P_i on the linear scale, P_i the claim's absolute precision as the reconciler
          reads it: its own sd, else the question's ``precision``, else |t|; see
          :mod:`models.encode`). A linear-scale truth of 0 is fine given P_i.
h_i     : the claim's hedge spread factor; f_i its factor on the odds of being wrong.
s_i     : the claim's own standard deviation on the working scale (from its sd or CI; the
          question's precision for a linear-scale claim without one, as the reconciler).
s_q     : the claim's question's shared error (``ResolvedClaim.shared``, on the working scale;
          :mod:`models.shared_error`): every claim of the question shares its miss δ_q, so it
          is part of the residual like the claim's own error, r_i = β_k + δ_q + h_i e_i + u_i,
          and s_i² above stands for s_i² + s_q² throughout (0 when the question has none).
          Left out, each source's spread absorbs s_q (the store learns s and the records
          together, :mod:`service.store.learning`).
w_i     : 1 / (claims of the same source on the same question): one source's claims on one
          question are one piece of evidence, not several (they share its view of the truth).
k       : a hypothesis about the source, one component of its prior profile (one for a grade or
          a number; five, A–E, for a source whose grade cannot be judged).
c_k     : probability that a claim is right; after the hedge c'_ik = c_k / (c_k + f_i(1 − c_k)).
σ_k     : spread of a right claim; β_k : systematic bias. A right point claim lies
          r_i ~ N(β_k, v_ik) with v_ik = (σ_k h_i)² + s_i²; a wrong one Cauchy(0, max(1, 2√v_ik)).
g_ik    : posterior probability that claim i was right under hypothesis k (EM responsibility).

These are the reconciler's σ and odds (:func:`models.encode.encode`), so a claim is judged by
the same likelihood when it teaches its source as when it is reconciled.

Model
-----
The reconciler's two-part mixture (:mod:`models.likelihood`). A bound or range is right with
probability Φ-of-the-gap as in the likelihood; it informs c_k (and calibration), not σ_k or β_k.

Empirical Bayes (after Cooke's classical model, which scores experts on seed questions, but
continuous and shrunk): each hypothesis k of source s gets a conjugate-style prior centred on

    m_k = (1 − λ) · (its grade's value) + λ · (its type's pooled value),  λ = ½ · n_T / (n_T + 20),

where the type's pooled value is the same EM run on all claims of sources of that type and n_T
their weight Σ w_i: a type's record can move a source's prior at most half-way from its grade.
Prior strengths are n₀ = 6 pseudo-questions for c and σ, κ₀ = 6 for β. With n_s = Σ_i w_i the
MAP updates are (EM; Dempster, Laird & Rubin 1977)

    logit c_k : Σ w_i g_ik + n₀ m_c = Σ w_i c'_ik + n₀ c_k    (concave in logit c; bisection;
                                                                 closed form when every f_i = 1)
    β_k  = (Σ_pt w_i g_ik ρ_ik r_i + κ₀ m_β) / (Σ_pt w_i g_ik ρ_ik + κ₀),   ρ_ik = σ_k² / v_ik
    σ_k² = (Σ_pt w_i g_ik E[e_i²] + n₀ m_σ²) / (Σ_pt w_i g_ik + n₀)   (then ECME, below),

where e_i ~ N(0, σ_k²) is the source's own error in r_i = β_k + h_i e_i + u_i, u_i ~ N(0, s_i²)
the error the claim itself stated: E[e_i²] = (σ_k² h_i (r_i − β_k) / v_ik)² + σ_k² s_i² / v_ik
(EM for variance components), so a miss the claim's own sd explains does not widen σ_k. With
h_i = 1, s_i = 0 and f_i = 1 these are the textbook updates. That σ step crawls when
s_i ≫ σ_k h_i (a precise source on questions with a shared error), so it is followed by an
ECME step (Liu & Rubin 1994): safeguarded Newton steps on log σ_k of the observed-data
objective whose stationary point is the same fixed point
(:func:`models.track_record.em.update_sigma`). One lucky
hit moves an E source only from 0.30 to 0.40, never to "A".

A posterior over hypotheses. The learned profile keeps every hypothesis of the prior, each with
its MAP parameters, weighted by

    P(k | record) ∝ π_k Π_i p_k(r_i)^{w_i},

with p_k the claim's likelihood at the hypothesis' prior centre m_k: an unjudged source stays
the A–E mixture, reweighted by its record (a miss by a factor 2 moves weight to D and E and
widens it), until its record singles one grade out.

How good a source is. ``quality`` is :meth:`SourceProfile.equivalent_credibility` of the learned
profile: the credibility of a rated source whose figures miss by as much on average (capped at
a factor e), so credibility, spread, bias and the uncertainty over hypotheses count together.

The parts: :mod:`models.track_record.records` (a resolved claim, and the values and record
learned of a source), :mod:`models.track_record.residuals` (resolved claims as residual rows on
their working scales), :mod:`models.track_record.em` (the MAP EM of each group's c, σ and β) and
:mod:`models.track_record.learn` (the type-pooled priors, the posterior over hypotheses and the
records); the sums each EM step takes over the rows are :mod:`models.track_record_sums`. This
package exports what modules outside it use.

References
----------
Cooke, R. M. (1991). Experts in Uncertainty. Oxford University Press.
Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete data via
the EM algorithm. JRSS B 39(1), 1-38. doi:10.1111/j.2517-6161.1977.tb01600.x.
Liu, C. & Rubin, D. B. (1994). The ECME algorithm: a simple extension of EM and ECM with faster
monotone convergence. Biometrika 81(4), 633-648. doi:10.1093/biomet/81.4.633.
Efron, B. & Morris, C. (1975). Data analysis using Stein's estimator and its generalizations.
JASA 70(350), 311-319. doi:10.1080/01621459.1975.10479864.
"""
from models.track_record.learn import fit_track_records, learn_track_records
from models.track_record.records import (
    NOTHING_LEARNED,
    LearnedValues,
    ResolvedClaim,
    TrackRecord,
    learned_fields,
)
from models.track_record.residuals import check_sources, residuals

__all__ = [
    "NOTHING_LEARNED",
    "LearnedValues",
    "ResolvedClaim",
    "TrackRecord",
    "check_sources",
    "fit_track_records",
    "learn_track_records",
    "learned_fields",
    "residuals",
]
