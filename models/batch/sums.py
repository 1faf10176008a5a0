"""The M-step as an additive reduction: per-source sufficient statistics, then the update.

Everything the M-step, the bias recentring, the convergence test and the sources' summaries
need from the claims is a sum over claims grouped by source. :func:`source_sums` computes those
sums for any set of whole questions (one partition of an archive, or all of it) as a
:class:`SourceSums`; sums of disjoint sets of questions add (``+``, :func:`total`), and
:func:`update_sources` turns the archive's total into the new source parameters under their
hierarchical prior. The local estimator and a distributed engine therefore run the same
M-step: only where the sums are taken differs. The formulas are in the docstring of
:mod:`models.batch` and of :func:`update_sources`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import MISSING, dataclass, fields, replace

import numpy as np

from models.batch.common import EPS, KIND_POINT, MIN_SPREAD, BoolArray, FloatArray, IntArray
from models.batch.kernels import noise_share
from models.batch.result import PopulationPrior
from models.batch.sensitivity import loose_right, near_truth_sums
from models.batch.spread import dispersion_floor, spread_dispersion, spread_map
from models.batch.state import Encoded, Hyper, Params, Posterior, SourcePrior


@dataclass(frozen=True, slots=True)
class SourceSums:
    """Per-source sums over claims (weighted by the evidence weights t_i), each (S,).

    Attributes
    ----------
    n_eff : (S,) float
        n_s = Σ t_i, the source's claims counted once per evidence unit.
    right, wrong : (S,) float
        R_s = Σ t_i P(i right or exact), W_s = Σ t_i P(i wrong).
    exact : (S,) float
        E_s = Σ t_i P(i exact) over tested claims: in an atom, or lone and exact
        (:func:`exact_if_unmatched`).
    tested : (S,) float
        T_s, right points on questions where another evidence unit stated a point (where
        exact versus noisy shows as agreement or its absence, :func:`exact_if_unmatched`).
    matched : (S,) float
        Σ t_i P(i exact) over members of atoms alone: 0 where no figures agree anywhere.
    ss, dev, rp : (S,) float
        The noise parts' Σ r E[(n − β_s)²]/h², Σ r E[n − β_s + β_s] and Σ r over noisy-right
        points (:func:`update_sources`).
    claims : (S,) float
        The number of claims (unweighted), for the convergence test's average over claims
        and the sources' claim counts.
    unsure : (S,) float
        U_s = Σ t_i P(i right) P(i wrong), the variance of the right count that the data leave
        unresolved: the missing information behind the credibility's interval
        (:func:`models.batch.summary.source_estimates`).
    spread_info, cross_missing, spread_missing : (S,) float
        For the same interval's coupling with the spread (w = log σ_s): with
        e_i = (y_i − θ − β_s)²/(σ_s h_i)² of a right point claim, ē_i its posterior mean given
        right and V_i its posterior variance (from θ's), Σ t r ē (half the complete-data
        information of w), Σ t r(1 − r⁺)(ē − 1) (the missing covariance of the scores of
        logit c and w; r noisy right, r⁺ right or exact) and Σ t [r(1 − r)(ē − 1)² + r V] (the
        missing variance of w's score).
    loose_right : (S, G) float or None
        Σ t_i P(i right) had the source's credibility been logit⁻¹(logit c_s + δ_g)
        (δ_g = :data:`~models.batch.sensitivity.LOOSE_OFFSETS`), from the E-step whose wrong
        part is wider (:mod:`models.batch.sensitivity`); None where the E-step did not ask.
    near_truth : (S, 2) float or None
        The source's precise claims seen near the truth but off it, and how many the model's
        wrong part expects there (:func:`~models.batch.sensitivity.near_truth_sums`); None
        where not asked.
    """

    n_eff: FloatArray
    right: FloatArray
    wrong: FloatArray
    exact: FloatArray
    tested: FloatArray
    matched: FloatArray
    ss: FloatArray
    dev: FloatArray
    rp: FloatArray
    claims: FloatArray
    unsure: FloatArray
    spread_info: FloatArray
    cross_missing: FloatArray
    spread_missing: FloatArray
    loose_right: FloatArray | None = None
    near_truth: FloatArray | None = None

    def __add__(self, other: SourceSums) -> SourceSums:
        def add(a: FloatArray | None, b: FloatArray | None) -> FloatArray | None:
            return None if a is None or b is None else a + b

        # The grids are present only on the interval pass's E-steps, on every partition alike.
        out = SourceSums(*(getattr(self, f.name) + getattr(other, f.name)
                           for f in fields(self) if f.default is MISSING))
        return replace(out, loose_right=add(self.loose_right, other.loose_right),
                       near_truth=add(self.near_truth, other.near_truth))


def total(parts: Iterable[SourceSums]) -> SourceSums:
    """The sum of the sums of disjoint sets of questions (at least one)."""
    iterator = iter(parts)
    out = next(iterator)
    for part in iterator:
        out = out + part
    return out


def _by_source(s: IntArray, weights: FloatArray, n_s: int) -> FloatArray:
    """Σ of ``weights`` per source, (S,)."""
    return np.asarray(np.bincount(s, weights=weights, minlength=n_s), dtype=np.float64)


def source_sums(
    enc: Encoded, post: Posterior, p: Params, hyper: Hyper | None = None
) -> SourceSums:
    """The sufficient statistics of the M-step from one E-step, summed per source.

    Parameters
    ----------
    enc : Encoded
        Whole questions (all of an archive or one partition), with global source codes.
    post : Posterior
        The E-step's posterior.
    p : Params
        The parameters of that E-step.
    hyper : Hyper, optional
        The E-step's hyper-parameters: with ``loose_grid`` set, the sums include
        :attr:`SourceSums.loose_right`, with ``near_check`` :attr:`SourceSums.near_truth`.

    Returns
    -------
    SourceSums
    """
    n_s = enc.n_sources
    s = enc.s
    t = enc.t
    right = post.r_exact + post.r_right
    n_eff = _by_source(s, t, n_s)
    right_s = _by_source(s, t * right, n_s)
    wrong_s = _by_source(s, t * post.r_wrong, n_s)
    # Exact versus noisy. On the exact path a point outside the atoms has an exact component
    # (models.batch.kernels.split_right), whose posterior share r_n says it. On the Laplace
    # path exactness shows only as agreement: a right point is tested where another evidence
    # unit stated a point it could have matched, and outside the atoms it is exact with the
    # censored probability π_i (exact_if_unmatched), not 0.
    on_exact = post.exact[enc.q]
    narrow = np.zeros(s.shape[0]) if post.r_narrow is None else post.r_narrow
    unmatched, testable = exact_if_unmatched(enc, p, post.r_exact, post.r_right)
    unmatched = np.where(on_exact, 0.0, unmatched)
    exact_i = post.r_exact + narrow + post.r_right * unmatched
    exact_s = _by_source(s, t * np.where(testable, exact_i, 0.0), n_s)
    tested_s = _by_source(s, t * np.where(testable, right, 0.0), n_s)
    # Spread and bias learn from noisy-right point claims: an atom's member's continuous
    # part and the exact path's noisy component (whose ss and dev are its alone) in full,
    # a Laplace-path right point outside the atoms with probability 1 − π_i.
    is_point = enc.kind == KIND_POINT
    r_noisy = post.r_right - narrow
    w_noisy = t * (1.0 - unmatched) * np.where(is_point, 1.0, 0.0)
    # Only the noise part of a residual teaches σ_s and β_s; the part that the claim's own
    # rounding window and sd explain does not (variance components; see update_sources).
    share, cond_var = noise_share(enc, p, on_exact)
    beta_old = p.beta[s]
    ss_noise = share * share * post.ss + r_noisy * cond_var
    dev_noise = share * post.dev + (1.0 - share) * r_noisy * beta_old
    hedge2 = enc.spread_factor * enc.spread_factor
    # The spread's score of a right point claim is e − 1 with e = (d − β)²/(σ h)², d = y − θ;
    # given right, d − β has mean m and variance v from θ's posterior (ss = r E[(d − β)²],
    # dev = r E[d]), so ē = (m² + v)/(σh)² and Var e = (4m²v + 2v²)/(σh)⁴ (Gaussian θ).
    r_pt = np.where(is_point, post.r_right, 0.0)
    safe = np.maximum(r_pt, 1e-300)
    scale2 = (p.sigma[s] ** 2) * hedge2
    m = np.where(r_pt > 1e-12, post.dev / safe - beta_old, 0.0)
    second = np.where(r_pt > 1e-12, post.ss / safe, 0.0)
    v = np.maximum(second - m * m, 0.0)
    e_bar = second / scale2
    var_e = (4.0 * m * m * v + 2.0 * v * v) / (scale2 * scale2)
    r_tot = right if enc.all_points else np.where(is_point, right, 0.0)
    grid = hyper is not None and hyper.loose_grid
    return SourceSums(
        n_eff=n_eff, right=right_s, wrong=wrong_s, exact=exact_s, tested=tested_s,
        matched=_by_source(s, t * post.r_exact, n_s),
        ss=_by_source(s, w_noisy * ss_noise / hedge2, n_s),
        dev=_by_source(s, w_noisy * dev_noise, n_s),
        rp=_by_source(s, w_noisy * r_noisy, n_s),
        claims=np.bincount(s, minlength=n_s).astype(np.float64),
        unsure=_by_source(s, t * right * post.r_wrong, n_s),
        spread_info=_by_source(s, t * r_pt * e_bar, n_s),
        cross_missing=_by_source(s, t * r_pt * (1.0 - r_tot) * (e_bar - 1.0), n_s),
        spread_missing=_by_source(s, t * (r_pt * (1.0 - r_pt) * (e_bar - 1.0) ** 2
                                          + r_pt * var_e), n_s),
        loose_right=loose_right(enc, p, right) if grid else None,
        near_truth=(near_truth_sums(enc, post, p, hyper.wrong_spread)
                    if hyper is not None and hyper.near_check else None),
    )


def exact_if_unmatched(
    enc: Encoded, p: Params, r_exact: FloatArray, r_right: FloatArray
) -> tuple[FloatArray, BoolArray]:
    """P(a right point is exact | it is in no atom), and where the question is testable.

    Exactness shows only as agreement: an exact claim forms an atom only when another
    evidence unit's claim on the question is exact too, so a lone exact figure among noisy
    ones looks like any right one. Counting exact claims only on questions that have an atom
    (E_s/T_s over those) is a selection on the outcome: on a question of two right claims an
    atom exists only when both are exact, so every right claim there is exact and the
    pooled share read η̄ ≈ 0.5-0.7 from a handful of undeclared copies whatever the true
    share. Treated as censored data, right claim i with exactness e_i ~ Bernoulli(η_i) is
    in an atom when e_i = 1 and some other unit's claim j is right and exact; with

        b_i = Π_{j ∉ unit(i)} (1 − x_j)^{t_j}      (no other unit's claim exact),

    x_j = P(j exact | data): its atoms' probability r_exact,j for a member of an atom (whose
    continuous part is its noisy one) and r_right,j η_j for any other point, the E-step of
    e_i for a right claim outside the atoms is

        π_i = P(e_i = 1 | not matched) = η_i b_i / (1 − η_i (1 − b_i)),

    0 for a member (its continuous part is noisy by construction, :func:`~models.batch.
    kernels.log_coefficients`); on a question whose atom is sure, b_i ≈ 0 and so π_i ≈ 0.
    A claim is tested where some other unit stated a point on the question (b_i < 1 is
    possible); elsewhere agreement says nothing of it and it is left out of E_s and T_s.
    On questions of two right claims this is unbiased: E[E/T] = η² + (1 − η²) η/(1 + η) = η.
    The own unit's factor is taken out as claim i's own, (1 − x_i): exact for t_i = 1,
    the usual one claim per unit and question, and near it for echoes.

    Parameters
    ----------
    enc : Encoded
        Whole questions.
    p : Params
        The sources' η_s.
    r_exact, r_right : (n,) float
        P(i exact | data) (in an atom) and P(i right | data) of the continuous part.

    Returns
    -------
    pi : (n,) float
        π_i for point claims outside the atoms (0 for members, bounds and ranges, which
        state no figure to copy).
    testable : (n,) bool
        Point claims whose question holds a point of another evidence unit.

    References
    ----------
    Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete
    data via the EM algorithm. JRSS B 39(1), 1-38 (EM for censored and grouped data).
    Dong, X. L., Berti-Equille, L. & Srivastava, D. (2009). Integrating conflicting data:
    the role of source dependence. PVLDB 2(1), 550-561. doi:10.14778/1687627.1687690
    (agreement as evidence of copying).
    """
    n_q = enc.n_questions
    point = enc.kind == KIND_POINT
    eta = p.eta[enc.s]
    x = np.where(point, r_exact + np.where(enc.member, 0.0, r_right * eta), 0.0)
    own = np.log1p(-np.clip(x, 0.0, 1.0 - EPS))
    none = np.bincount(enc.q, weights=enc.t * own, minlength=n_q)[enc.q] - own
    b = np.exp(np.minimum(none, 0.0))
    # Evidence weight of the other units' points: 1 a unit, so ≥ 1 where one exists.
    weight = np.bincount(enc.q, weights=np.where(point, enc.t, 0.0), minlength=n_q)[enc.q]
    testable = point & (weight > 1.0 + 1e-9)
    pi = np.where(point & ~enc.member, eta * b / (1.0 - eta * (1.0 - b)), 0.0)
    return np.asarray(pi, dtype=np.float64), np.asarray(testable, dtype=bool)


def update_sources(
    sums: SourceSums, p: Params, prior: SourcePrior, hyper: Hyper
) -> tuple[Params, PopulationPrior]:
    """Posterior means of every source's c_s, η_s, σ_s and β_s under its prior.

    With expected counts weighted by t_i -- R_s right claims among n_s, T_s right points
    that another evidence unit's point could have matched and E_s exact ones among them
    (:func:`exact_if_unmatched`) -- and spread and bias sums over noisy-right points,

        c_s = (R_s + κ_s c̄_s) / (n_s + κ_s),          η_s = (E_s + κ_η η̄) / (T_s + κ_η),
        β_s = (Σ r_i E[y_i − θ] + λ β̄_s) / (Σ r_i + λ),
        η̄ = (Σ_s E_s + κ_η η₀) / (Σ_s T_s + κ_η),
        σ_s = e^w,  −R_s + SS_s e^{−2w} − (w − log σ̄_s)/v = 0,

    with R_s = Σ r_i and SS_s = Σ r_i E[(y_i − θ − β_s)²] / h_i², where a rated source's
    prior centre is its own (strength κ_graded) and an unrated one's the population's
    (strength κ_pooled): the precision-weighted means of the unrated sources' raw
    credibility and log-spread, with weights n/(n + κ_pooled) and Σr/(Σr + ν), re-estimated
    here. σ_s is the mode of log σ_s under N(log σ̄_s, v), v the variance of the sources'
    log-spreads about their centres, learned here too, in [1/(2ν), v_max]
    (:mod:`models.batch.spread`; the inverse-χ² prior it replaces pulled precise sources to
    several times their spread). η̄ is the pooled exact share, the MAP under its
    Beta(1 + κ_η η₀, 1 + κ_η (1 − η₀)) prior (``hyper.exact_share``, ``exact_strength``),
    and η → 0 where no figures agree anywhere (no atom holds any mass).

    Only the noise part of a residual teaches σ_s and β_s. A right point's residual
    d_i = y_i − θ is read as n_i + u_i: the source's noise n_i ~ N(β_s, N_i), N_i = (σ_s h_i)²,
    and what the claim states of itself, u_i ~ N(0, K_i), K_i = sd_i² plus η_s w_i²/12 where
    the right kernel folds the rounding window in (:func:`~models.batch.kernels.noise_share`).
    With (θ, n_i) as complete data this is EM for variance components: given d_i,

        n_i ~ N(β_s + λ_i (d_i − β_s), λ_i K_i),      λ_i = N_i/(N_i + K_i),

    at the E-step's β_s and σ_s, so the sums above take, in place of r E[d − β_s] and
    r E[(d − β_s)²],

        r E[n − β_s] = λ_i r E[d − β_s],    r E[(n − β_s)²] = λ_i² r E[(d − β_s)²] + r λ_i K_i.

    A claim that states nothing of itself (K = 0) counts in full. One whose window or sd
    dwarfs its source's noise teaches it almost nothing however far it lies: a round
    "1000000" among figures near 1 (a window 10⁶ of the question's units) kept P(right)
    near 1 under its widened kernel, and r d² = 10¹² had made σ_s 10⁵ and every other
    question's answer 400 times its claims. The same residual in expectation,
    E[d²] = N + K, gives λ² (N + K) + λ K = N: unbiased, like the sd² it replaces.

    Parameters
    ----------
    sums : SourceSums
        Of the whole archive (:func:`source_sums`, added over partitions).
    p : Params
        The parameters of the E-step behind ``sums`` (its sums are at the old β_s, moved here
        to the new).
    prior : SourcePrior
    hyper : Hyper

    Returns
    -------
    Params
    PopulationPrior
        The re-estimated population centre.

    References
    ----------
    Dempster, A. P., Laird, N. M. & Rubin, D. B. (1977). Maximum likelihood from incomplete
    data via the EM algorithm. JRSS B 39(1), 1-38.
    """
    n_eff, right_s, exact_s, tested_s = sums.n_eff, sums.right, sums.exact, sums.tested
    ss_s, dev_s, rp_s = sums.ss, sums.dev, sums.rp
    # Empirical-Bayes population centre from the unrated sources, each weighted by the
    # precision of its own estimate, n/(n + κ) (the beta-binomial shrinkage weight).
    unrated = ~prior.rated
    raw_c = np.where(n_eff > 0, right_s / np.maximum(n_eff, 1e-300), 0.0)
    w_c = np.where(unrated, n_eff / (n_eff + hyper.pooled_strength), 0.0)
    pop_c = (float(np.clip((w_c @ raw_c) / w_c.sum(), 0.02, 0.98)) if w_c.sum() > 0
             else prior.population.credibility)
    tested = float(tested_s.sum())
    # The pooled share under its Beta prior (MAP): a lone pair of coincident figures on a
    # sparse archive is E ≈ T ≈ 2, whose raw share ≈ 1 made every source a copier, every
    # unmatched figure near-exact and every spread collapse to MIN_SPREAD. No agreed figure
    # anywhere: no evidence of exact copying at all, so η → 0 (the estimator also starts there).
    kappa_eta = hyper.exact_strength
    agreed = tested > 0 and float(sums.matched.sum()) > 0
    pop_eta = (float(np.clip((exact_s.sum() + kappa_eta * hyper.exact_share)
                             / (tested + kappa_eta), EPS, 1.0 - EPS)) if agreed else EPS)
    raw_sigma = np.sqrt(np.where(rp_s > 0, ss_s / np.maximum(rp_s, 1e-300), 0.0))
    w_sig = np.where(unrated & (raw_sigma > 0), rp_s / (rp_s + hyper.spread_strength), 0.0)
    pop_sigma = (float(np.exp((w_sig @ np.log(np.maximum(raw_sigma, MIN_SPREAD)))
                              / w_sig.sum())) if w_sig.sum() > 0
                 else prior.population.spread)
    c0 = np.where(prior.rated, prior.c0, pop_c)
    sigma0 = np.where(prior.rated, prior.sigma0, pop_sigma)
    kappa = np.where(prior.rated, hyper.graded_strength, hyper.pooled_strength)
    c = np.clip((right_s + kappa * c0) / (n_eff + kappa), EPS, 1.0 - EPS)
    # Each source's share is shrunk to the pooled one with the pooled prior's weight: one
    # source's lone coincidence (E_s = T_s = 1) must not make it a copier either.
    a = hyper.exact_strength
    eta = np.clip((exact_s + a * pop_eta) / (tested_s + a), EPS, 1.0 - EPS)
    nu = hyper.spread_strength
    lam = hyper.bias_strength
    if hyper.learn_bias:
        beta = (dev_s + lam * prior.beta0) / (rp_s + lam)
        # E[(y − θ − β)²] was computed at the previous β; move it to the new one.
        delta = p.beta - beta
        ss_s = np.maximum(ss_s + rp_s * delta * delta + 2.0 * delta * (dev_s - rp_s * p.beta),
                          0.0)
    else:
        beta = prior.beta0.copy()
    # log σ_s ~ N(log σ̄_s, v) with v learned from the sources' spread about their centres:
    # an additive ν σ̄² pulled precise sources to 3-11 times their spread (models.batch.spread).
    centre = np.log(sigma0)
    v = spread_dispersion(ss_s, rp_s, centre, dispersion_floor(nu),
                          hyper.spread_dispersion_max)
    sigma = spread_map(ss_s, rp_s, centre, v)
    return Params(c, eta, sigma, beta), PopulationPrior(pop_c, pop_eta, pop_sigma, v)


def recentre_sources(
    n_eff: FloatArray, p: Params, prior: SourcePrior, hyper: Hyper
) -> tuple[Params, float]:
    """Move every bias by one common amount δ so that biases average zero.

    Continuous claims only see θ_q + β_s, so shifting all biases up and all truths down
    leaves the fit unchanged: the archive alone cannot say where "unbiased" is. We anchor
    it where the sources are unbiased on average -- each source counted once, weighted by
    n_s/(n_s + λ) so that a source with a handful of claims counts little, and a rated
    source's bias measured from its prior bias (a track record). EM would drift along
    this flat ridge for many iterations, pulled by whichever precise sources are biased.

    The shift is δ = Σ_s w_s (β_s − β̄_s) / Σ_s w_s with w_s = n_s/(n_s + λ) / σ_s²; β_s
    becomes β_s − δ, and the caller moves every μ_q by +δ. The 1/σ_s² is the bias prior's
    precision (β_s ~ N(β̄_s, σ_s²/λ)): without it the loose sources' biases set the anchor,
    which precise sources' narrow intervals then missed (``bench/batch_spread_range.py``).

    Parameters
    ----------
    n_eff : (S,) float
        n_s (:attr:`SourceSums.n_eff`).
    p : Params
    prior : SourcePrior
    hyper : Hyper

    Returns
    -------
    Params
        With the shifted biases (``p`` itself when biases are not learned).
    float
        δ.
    """
    if not hyper.learn_bias:
        return p, 0.0
    weight = n_eff / (n_eff + hyper.bias_strength) / (p.sigma * p.sigma)
    total_w = float(weight.sum())
    if total_w <= 0:
        return p, 0.0
    shift = float(weight @ (p.beta - prior.beta0) / total_w)
    return replace(p, beta=p.beta - shift), shift


def source_change(claims: FloatArray, old: Params, new: Params, spreads: bool) -> float:
    """How far the sources moved in one iteration, averaged over the claims.

    The largest of |Δc_s| and (with ``spreads``) |Δ log σ_s| per source, weighted by the
    source's number of claims.

    Parameters
    ----------
    claims : (S,) float
        Claims per source (:attr:`SourceSums.claims`).
    old, new : Params
    spreads : bool

    Returns
    -------
    float
    """
    moves = np.abs(new.c - old.c)
    if spreads:
        moves = np.maximum(moves, np.abs(np.log(new.sigma / old.sigma)))
    return float(claims @ moves / claims.sum())


def settled(moved: FloatArray) -> bool:
    """Whether 99 % of the questions' centres moved by less than a quarter of their τ_q.

    ``moved`` holds |Δμ_q|/τ_q of every question of the archive, in any order (a quantile
    does not depend on it), so partitions' vectors may simply be concatenated.
    """
    return float(np.quantile(moved, 0.99)) < 0.25
