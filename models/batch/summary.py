"""From the EM's final state to a :class:`~models.batch.BatchFit`.

:func:`assemble_fit` reads each question's estimate and intervals off its posterior (an exact
or a Gaussian continuous part plus uniform atoms, :func:`question_estimates`,
:func:`mixture_quantiles`), summarises each source's credibility by its Beta posterior
(:func:`source_estimates`, from per-source sums), back-transforms to the quantity's units and adds
the warnings (single claims, cold starts, no convergence).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from statistics import NormalDist

import numpy as np

from models.batch.common import BoolArray, FloatArray, logistic, logit
from models.batch.exact import exact_quantiles
from models.batch.panels import ONE_SD, ClaimKernels, Panels
from models.batch.result import BatchFit, BatchWarning, QuestionEstimates, SourceEstimates
from models.batch.state import Encoded, Hyper, Params, Posterior, SourcePrior
from models.batch.sums import SourceSums, source_sums
from models.batch.table import ClaimTable

#: The largest float: where a question's answer is held when it reaches beyond.
FLOAT_MAX = float(np.finfo(np.float64).max)


def assemble_fit(
    table: ClaimTable, enc: Encoded, p: Params, post: Posterior, prior: SourcePrior,
    levels: tuple[float, ...], iterations: int, converged: bool, hyper: Hyper, tol: float,
    learned: tuple[SourceSums, Params] | None = None, other: FloatArray | None = None,
) -> BatchFit:
    """The fit's estimates, intervals, source summaries and warnings.

    The questions' part is :func:`question_estimates`, the sources' :func:`source_estimates`
    (from the final E-step's sums, :func:`~models.batch.sums.source_sums`) and the warnings
    :func:`fit_warnings`; a distributed engine calls the three on partitions and totals.

    Parameters
    ----------
    table : ClaimTable
    enc : Encoded
    p : Params
        The final source parameters.
    post : Posterior
        The final posterior.
    prior : SourcePrior
    levels : tuple of float
        Interval levels in (0, 1).
    iterations : int
    converged : bool
    hyper : Hyper
    tol : float
        The convergence tolerance, for the warning.
    learned : (SourceSums, Params), optional
        The sources' learned parameters and their last E-step's sums, when ``p`` and
        ``post`` are the final interval pass's (:meth:`~models.batch.BatchEstimator.
        predictive`); by default the sources are summarised from ``post`` at ``p``.
    other : (S,) float, optional
        Each source's credibility under a wider wrong part, which its interval spans too
        (:func:`source_estimates`).

    Returns
    -------
    BatchFit
    """
    questions, beyond = question_estimates(table, enc, p, post, levels, hyper)
    sums, own = learned if learned is not None else (source_sums(enc, post, p), p)
    sources = replace(source_estimates(sums, own, prior, hyper, table.source_ids, other),
                      interval_spread=p.sigma)
    named = [table.question_ids[k] for k in np.flatnonzero(beyond)[:5]]
    warnings = fit_warnings(int(np.sum(questions.n_claims == 1)),
                            int(np.sum(sources.n_claims == 1)), named, int(beyond.sum()),
                            iterations, converged, tol,
                            widened_sources(sources, sums, own, prior, hyper, other))
    return BatchFit(
        questions=questions,
        sources=sources,
        p_wrong=np.clip(post.r_wrong, 0.0, 1.0),
        scale=enc.scale,
        population=prior.population,
        iterations=iterations,
        converged=converged,
        warnings=warnings,
    )


def question_estimates(
    table: ClaimTable, enc: Encoded, p: Params, post: Posterior, levels: tuple[float, ...],
    hyper: Hyper,
) -> tuple[QuestionEstimates, BoolArray]:
    """Each question's estimate, intervals, spread and counts, from its own posterior.

    A question's value is its posterior median and its intervals are equal-tailed, read off
    the mixture of its continuous part -- exact (:mod:`models.batch.exact`) or N(μ_q, τ_q²)
    -- and the atoms; on the log scale they are exponentiated, on the linear scale mapped back
    as centre_q + unit_q θ. Its spread is τ_q, or for an exact question half its central
    68.27 % interval. Only the question's own claims enter, so whole questions may be
    summarised anywhere.

    Parameters
    ----------
    table : ClaimTable
    enc : Encoded
    p : Params
    post : Posterior
    levels : tuple of float
    hyper : Hyper

    Returns
    -------
    QuestionEstimates
    beyond : (Q,) bool
        Questions with an end beyond the largest float in the quantity's units: held at
        ±1.8e308 and named in a ``beyond_float`` warning (one question never sinks the
        archive).
    """
    n_q = enc.n_questions
    probs = [0.5] + [x for q in levels for x in ((1 - q) / 2, (1 + q) / 2)]
    # The last two: the central 68.27 % interval, whose half-width is an exact question's
    # spread (its posterior need not have a standard deviation: a lone claim's Cauchy part).
    quant = mixture_quantiles(post, enc, np.array([*probs, *ONE_SD[1:]]), p, hyper)
    spread = np.where(post.exact, 0.5 * (quant[:, -1] - quant[:, -2]), post.tau)
    quant = quant[:, :-2]
    if enc.scale == "log":
        with np.errstate(over="ignore"):
            units = np.exp(quant)
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            units = enc.centre[:, None] + enc.unit[:, None] * quant
    beyond = ~np.isfinite(units).all(axis=1)
    units = np.clip(units, -FLOAT_MAX, FLOAT_MAX)
    value = units[:, 0] + 0.0  # + 0.0 turns a −0.0 median into 0.0
    low = units[:, 1::2]
    high = units[:, 2::2]
    n_claims = table.question_counts()
    # Distinct sources per question: sort (question, source) keys and count the firsts.
    keys = np.sort(table.question.astype(np.int64) * table.n_sources + table.source)
    first = np.r_[True, keys[1:] != keys[:-1]]
    n_sources_q = np.bincount(keys[first] // table.n_sources, minlength=n_q).astype(np.int64)
    questions = QuestionEstimates(
        ids=table.question_ids, value=value, levels=levels, low=low, high=high,
        n_claims=n_claims, n_sources=n_sources_q, p_exact=1.0 - post.p_cont, spread=spread,
    )
    return questions, np.asarray(beyond, dtype=bool)


def source_estimates(
    sums: SourceSums, p: Params, prior: SourcePrior, hyper: Hyper, ids: tuple[str, ...],
    other: FloatArray | None = None,
) -> SourceEstimates:
    """Each source's learned parameters and the 90 % interval of its credibility.

    A source's credibility c_s is read with its Beta(α, β) posterior, α = R_s + κ c̄_s,
    β = W_s + κ (1 − c̄_s) (expected right and wrong claims weighted by t_i, from the final
    E-step), whose mean is the estimate c_s. Treating those expected counts as observed
    would overstate what is known: whether a claim was right is itself inferred. By Louis
    (1982) the observed information is the complete-data information less the missing
    information, the variance of the complete-data score given the data. On the logit scale
    x = logit c the complete-data (Beta) information at the mean is αβ/(α + β) and the score
    is Σ t_i (z_i − c) for the labels z_i (1 right, 0 wrong), whose conditional variance is

        U_s = Σ t_i P(i right) P(i wrong)

    (a claim's t_i rather than the strict t_i². They differ only for echoes, t_i < 1: where
    one source repeats an origin several times on a question its claims are right or wrong
    together, so their labels' variance counts once, as t_i gives; where several sources echo
    it t_i² is exact and t_i overstates U_s, widening the interval, the safe side). The
    interval is the central 90 % of

        logit c ~ N(log α − log β, 1 / max(αβ/(α + β) − U_s, κ c̄_s (1 − c̄_s))),

    centred on the estimate (a mode does not move when information is subtracted), with the
    prior's own information as a floor. The information is the credibility's marginal one,
    I_cc − I_cw²/I_ww, of the 2 × 2 observed information of (logit c_s, w = log σ_s) by the
    same rule: I_ww = 2(Σ t r ē + ν) − Var(w's score | data) and I_cw = −Cov(the two scores |
    data) (:class:`~models.batch.sums.SourceSums`: ``spread_info``, ``spread_missing``,
    ``cross_missing``), since a source's credibility and spread trade against each other
    (a wider spread counts more of its claims right); :func:`logit_half_width`. Where every
    label is resolved (P(right) 0 or 1)
    U_s is 0 and this is the logit-normal approximation to Beta(α, β) (ψ ≈ log, ψ′ ≈ 1/x:
    the variance 1/α + 1/β); a claim alone on its question resolves nothing (P(right) ≈ c_s)
    and adds about no information. Labels are taken independent across the claims of a question,
    which leaves out the covariance of a right and a wrong claim on one question (Louis's
    off-diagonal terms); the simulations in the tests bound what that costs.

    That is the uncertainty under the model. For a loose source the model's credibility also
    rests on how much of its wrong part lies near the truth, which precise sources can
    contradict: where they do (:func:`models.batch.sensitivity.wrong_factor`), ``other`` is
    the credibility under a wider wrong part and the interval is the union of the two logit
    intervals of half-width 1.645/√I_s, an uncertainty region (Vansteelandt et al. 2006).

    Parameters
    ----------
    sums : SourceSums
        Of the final E-step, over the whole archive.
    p : Params
    prior : SourcePrior
    hyper : Hyper
    ids : tuple of str
        The sources' ids, (S,).
    other : (S,) float, optional
        The credibility under a wider wrong part
        (:func:`models.batch.sensitivity.other_credibility`): the interval then spans that
        value's interval of the same logit half-width too.

    Returns
    -------
    SourceEstimates

    References
    ----------
    Louis, T. A. (1982). Finding the observed information matrix when using the EM
    algorithm. JRSS B 44(2), 226-233. doi:10.1111/j.2517-6161.1982.tb01203.x
    Vansteelandt, S., Goetghebeur, E., Kenward, M. G. & Molenberghs, G. (2006). Ignorance
    and uncertainty regions as inferential tools in a sensitivity analysis. Statistica
    Sinica 16(3), 953-979.
    """
    c0 = np.where(prior.rated, prior.c0, prior.population.credibility)
    kappa = np.where(prior.rated, hyper.graded_strength, hyper.pooled_strength)
    alpha = sums.right + kappa * c0
    beta_b = sums.wrong + kappa * (1.0 - c0)
    centre = np.log(alpha) - np.log(beta_b)
    half = logit_half_width(sums, prior, hyper)
    low, high = centre - half, centre + half
    if other is not None:
        # Where c_s rests on how much of the wrong part lies near the truth, the interval
        # spans the credibility under a wrong part that puts far less there
        # (models.batch.sensitivity): the archive cannot tell the two apart.
        at = logit(other)
        low, high = np.minimum(low, at - half), np.maximum(high, at + half)
    return SourceEstimates(
        ids=ids,
        credibility=p.c,
        credibility_low=logistic(low),
        credibility_high=logistic(high),
        exact_share=p.eta,
        spread=p.sigma,
        bias=p.beta,
        n_claims=np.rint(sums.claims).astype(np.int64),
        prior_credibility=c0,
        rated=prior.rated,
    )


def logit_half_width(sums: SourceSums, prior: SourcePrior, hyper: Hyper) -> FloatArray:
    """Half-width of each source's displayed 90 % interval of logit c_s, (S,).

    1.645 / √I_s with I_s = max(I_cc − I_cw²/I_ww, κ c̄_s (1 − c̄_s)), the credibility's
    marginal observed information of :func:`source_estimates` (Louis 1982: complete less
    missing, of (logit c_s, log σ_s), never below the prior's), I_cc = αβ/(α + β) − U_s.
    Read from (S,) sums only, so the EM loop's stopping rule (:mod:`models.batch.persource`)
    can measure each source's moves in it on any engine.

    Parameters
    ----------
    sums : SourceSums
    prior : SourcePrior
    hyper : Hyper

    Returns
    -------
    (S,) float
    """
    c0 = np.where(prior.rated, prior.c0, prior.population.credibility)
    kappa = np.where(prior.rated, hyper.graded_strength, hyper.pooled_strength)
    alpha = sums.right + kappa * c0
    beta_b = sums.wrong + kappa * (1.0 - c0)
    # Observed information = complete − missing (Louis 1982), never below the prior's.
    floor = kappa * c0 * (1.0 - c0)
    info_c = alpha * beta_b / (alpha + beta_b) - np.maximum(sums.unsure, 0.0)
    # The same for w = log σ_s, and the pair's: the credibility's marginal information is
    # I_cc − I_cw²/I_ww (whatever the spread, which c and σ trade against each other).
    # The spread prior's information on w is 1/v (models.batch.spread).
    info_w = (2.0 * sums.spread_info + 1.0 / prior.population.spread_dispersion
              - sums.spread_missing)
    with np.errstate(divide="ignore", invalid="ignore"):
        marginal = np.where(info_w > 0, info_c - sums.cross_missing ** 2 / info_w, 0.0)
    info = np.maximum(marginal, floor)
    return np.asarray(1.6448536269514722 / np.sqrt(info), dtype=np.float64)


def widened_sources(
    sources: SourceEstimates, sums: SourceSums, p: Params, prior: SourcePrior, hyper: Hyper,
    other: FloatArray | None,
) -> int:
    """How many sources' credibility intervals ``other`` widened beyond the model's own.

    Parameters
    ----------
    sources : SourceEstimates
        :func:`source_estimates` with ``other``.
    sums, p, prior, hyper
        Its other arguments.
    other : (S,) float or None

    Returns
    -------
    int
    """
    if other is None:
        return 0
    plain = source_estimates(sums, p, prior, hyper, sources.ids)
    return int(np.sum((sources.credibility_low < plain.credibility_low)
                      | (sources.credibility_high > plain.credibility_high)))


def fit_warnings(
    single: int, once: int, beyond_named: Sequence[str], beyond: int, iterations: int,
    converged: bool, tol: float, widened: int = 0,
) -> tuple[BatchWarning, ...]:
    """The fit's warnings: single-claim questions, one-claim sources, overflow, no convergence,
    widened credibility intervals.

    Parameters
    ----------
    single : int
        Questions resting on one claim.
    once : int
        Sources with one claim.
    beyond_named : sequence of str
        Ids of up to five questions whose range reaches beyond the largest float.
    beyond : int
        How many such questions there are in all.
    iterations : int
    converged : bool
    tol : float
    widened : int
        Sources whose credibility interval spans the credibility under a wider wrong part
        (:func:`widened_sources`).

    Returns
    -------
    tuple of BatchWarning
    """
    warnings: list[BatchWarning] = []
    if single:
        warnings.append(BatchWarning(
            "single_claim",
            f"{single} question(s) rest on a single claim; their range reflects only that "
            "source's learned credibility.",
            single,
        ))
    if once:
        warnings.append(BatchWarning(
            "cold_start",
            f"{once} source(s) made a single claim; their credibility stays close to its "
            "prior.",
            once,
        ))
    if beyond:
        named = ", ".join(repr(qid) for qid in beyond_named[:5])
        more = beyond - min(beyond, 5)
        warnings.append(BatchWarning(
            "beyond_float",
            f"The range of {beyond} question(s) ({named}"
            f"{f' and {more} more' if more else ''}) reaches beyond the largest representable "
            "number; its ends are shown as ±1.8e308. Restate their figures in a larger unit "
            "(e.g. thousands).",
            beyond,
        ))
    if widened:
        # Otherwise a user could not tell a range widened for the model's doubt about its own
        # wrong-claim law from one that is wide for want of claims.
        warnings.append(BatchWarning(
            "credibility_widened",
            f"The credibility range of {widened} source(s) was widened: precise sources' "
            "claims show wrong claims near the truth far less often than the model assumes, "
            "so each range also covers the credibility under a wider wrong-claim law.",
            widened,
        ))
    if not converged:
        warnings.append(BatchWarning(
            "not_converged",
            f"EM stopped after {iterations} iterations before converging (tol {tol}); "
            "the estimates are usable but may still move slightly.",
            0,
        ))
    return tuple(warnings)


def mixture_quantiles(
    post: Posterior, enc: Encoded, probs: FloatArray, p: Params, hyper: Hyper
) -> FloatArray:
    """Quantiles (Q, P) of each question's posterior: continuous part plus uniform atoms.

    The posterior's CDF is P(continuous) F_q(θ) + Σ_v P(v) clip((θ − l_v)/(u_v − l_v), 0, 1).
    Where the continuous part is exact (``post.exact``, small questions) F_q is its CDF by
    quadrature at the final parameters (:func:`models.batch.exact.exact_quantiles`, on the
    panels of the E-step that ``post`` kept when they were built at ``p``, else on new ones):
    rival modes keep their mass. Elsewhere it is Φ((θ − μ)/τ): without atoms the quantile is
    μ + z_p τ, with atoms 60 bisection steps on the CDF between the lowest and highest of
    μ ∓ 10τ and the atoms' windows.

    Parameters
    ----------
    post : Posterior
    enc : Encoded
    probs : (P,) float
        Probabilities in (0, 1).
    p : Params
        The source parameters of ``post``.
    hyper : Hyper

    Returns
    -------
    (Q, P) float
        On the working scale.
    """
    n_q = enc.n_questions
    z = np.array([NormalDist().inv_cdf(float(x)) for x in probs])
    out = post.mu[:, None] + post.tau[:, None] * z[None, :]
    if post.exact.any():
        kern = ClaimKernels.of(enc, p, hyper.wrong_spread)
        # The last E-step's panels, when it kept them at these parameters.
        kept = post.panels
        blocks = (kept.blocks if isinstance(kept, Panels) and kept.built_at(p, hyper.wrong_spread)
                  else None)
        questions, quant = exact_quantiles(enc, post.exact, kern, probs, post.p_cont,
                                           post.p_atom, blocks)
        out[questions] = quant
    if enc.atom_q.shape[0] == 0:
        return np.asarray(out, dtype=np.float64)
    gaussian = ~post.exact[enc.atom_q]
    with_atoms = np.unique(enc.atom_q[(post.p_atom > 1e-12) & gaussian])
    if with_atoms.size == 0:
        return np.asarray(out, dtype=np.float64)
    # Bisection on the mixture CDF for the questions that have atoms.
    local = np.full(n_q, -1)
    local[with_atoms] = np.arange(with_atoms.size)
    sel = local[enc.atom_q] >= 0
    aq = local[enc.atom_q[sel]]
    alo, ahi, ap = enc.atom_lo[sel], enc.atom_hi[sel], post.p_atom[sel]
    mu, tau, pc = post.mu[with_atoms], post.tau[with_atoms], post.p_cont[with_atoms]
    lo_b = np.minimum(mu - 10 * tau, np.full(with_atoms.size, np.inf))
    hi_b = mu + 10 * tau
    np.minimum.at(lo_b, aq, alo)
    np.maximum.at(hi_b, aq, ahi)
    from scipy.special import ndtr  # only questions with atoms need it

    m = with_atoms.size
    for j, prob in enumerate(probs):
        lo = lo_b.copy()
        hi = hi_b.copy()
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            cdf = pc * ndtr((mid - mu) / tau)
            frac = np.clip((mid[aq] - alo) / np.maximum(ahi - alo, 1e-300), 0.0, 1.0)
            cdf = cdf + np.bincount(aq, weights=ap * frac, minlength=m)
            below = cdf < prob
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        out[with_atoms, j] = 0.5 * (lo + hi)
    return np.asarray(out, dtype=np.float64)
