"""How far a source's credibility rests on the assumed law of wrong claims near the truth.

A claim is right (near the truth with its source's spread σ_s) or wrong (the model's Cauchy
part, centred on the truth with scale σ_w,i = max(σ_wrong, 2σ_i)). For a precise source the
two are told apart by distance alone: the Cauchy part is flat over its right claims' scatter.
For a loose one (σ_s a third of σ_wrong or more) they overlap, and the share of its claims
that are right is identified only through the density that the wrong part puts near the
truth, half its mass within σ_wrong of it. Where wrong claims are in fact unrelated to the
truth (a wrong unit, another quantity), few land inside a loose source's scatter, the Cauchy
part takes its right claims 2-3 σ out, σ_s is learned 0.8-0.87 times the truth and c_s
0.1-0.2 below it, with an interval that excludes it (review finding 12; docs/batch.md,
"Session 13"). A loose source's own claims cannot tell the two laws apart: a grid
maximisation of its likelihood with θ known finds the same bias, so EM is not at fault.

Precise sources can: their claims between 4σ and σ_wrong from the truth are wrong, and the
model expects (1 − c_s) C(that window) of each there. One E-step after EM counts both
(:func:`near_truth_sums`); where far fewer are seen than expected, a wrong part whose density
at the truth is as much lower fits better, a Cauchy part 1/κ times wider (:func:`wrong_factor`,
at most ``MAX_WRONG_FACTOR``). A second E-step at the learned parameters with that wider part
gives each claim's P(i right) = r'_i, so its likelihood ratio of right to wrong under it is
Λ'_i = r'_i (1 − c_s)/((1 − r'_i) c_s), θ integrated and the other claims' labels weighed as
the E-step does; the credibility under that law, the other parameters held, is the fixed point
of the mixture weight's EM,

    c = (Σ_i t_i c Λ'_i / (c Λ'_i + 1 − c) + κ_s c̄_s) / (n_s + κ_s),

found from its sums at a grid of logit offsets (:func:`loose_right`: additive over partitions
of the questions, so every engine computes it alike). Holding σ_s, which would widen too,
makes the shift an underestimate. The interval spans both credibilities
(:func:`models.batch.summary.source_estimates`), an uncertainty region in the sense of
Vansteelandt et al. (2006); the point estimate stays the model's. Where no precise source
speaks, or they agree with the model, nothing changes.

References
----------
Vansteelandt, S., Goetghebeur, E., Kenward, M. G. & Molenberghs, G. (2006). Ignorance and
uncertainty regions as inferential tools in a sensitivity analysis. Statistica Sinica 16(3),
953-979.
Freeman, M. F. & Tukey, J. W. (1950). Transformations related to the angular and the square
root. Annals of Mathematical Statistics 21(4), 607-611. doi:10.1214/aoms/1177729756
Manski, C. F. (2003). Partial Identification of Probability Distributions. Springer.
doi:10.1007/b97478
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

import numpy as np

from models.batch.common import KIND_POINT, FloatArray, logistic, logit
from models.batch.state import Encoded, Hyper, Params, Posterior, SourcePrior

#: The widest alternative wrong part, as a multiple of σ_wrong: ten times σ_wrong (1 on the
#: log scale) is flat over any right claim's scatter below a factor of e.
MAX_WRONG_FACTOR: Final = 10.0
#: Pseudo-claims with which the near-truth check starts at the model's own density.
NEAR_PSEUDO: Final = 2.0
#: The near-truth check widens only where the wrong claims' density near the truth is shown
#: below this share of the model's: under the model's own law the statistic reads 0.85-0.97
#: (mean 0.92 over 12 seeds, review rC), so testing against 1 widened nearly every fit.
NEAR_MARGIN: Final = 0.8
#: The one-sided test's critical value: z of level 0.01 for the Poisson count of the claims
#: seen against NEAR_MARGIN × E, on the square-root scale.
NEAR_Z: Final = 2.326
#: Logit offsets from c_s at which the alternative's fixed-point equation is tabulated; the
#: shift it finds is clipped to [−1, 4] in logit.
LOOSE_OFFSETS: Final = np.array([-1.0, -0.5, 0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5,
                                 3.0, 4.0])
#: Responsibilities are read into likelihood ratios within [LR_CLIP, 1 − LR_CLIP].
LR_CLIP: Final = 1e-12


def wider_wrong(hyper: Hyper, factor: float) -> Hyper:
    """The hyper-parameters of an E-step whose wrong part is ``factor`` times wider.

    The wrong part's scale σ_w,i = max(factor σ_wrong, 2σ_i). At factor 1 (the check) the
    E-step's sums hold the near-truth counts (``Hyper.near_check``), above it the credibility
    grid (``Hyper.loose_grid``): each E-step computes only what is read of it.

    Parameters
    ----------
    hyper : Hyper
        The fit's hyper-parameters.
    factor : float
        1/κ from :func:`wrong_factor` (1 for the check itself).

    Returns
    -------
    Hyper
    """
    check = factor == 1.0
    return replace(hyper, wrong_spread=factor * hyper.wrong_spread, loose_grid=not check,
                   near_check=check)


def near_truth_sums(enc: Encoded, post: Posterior, p: Params, wrong_spread: float) -> FloatArray:
    """Per source, precise claims seen near the truth but off it, and how many the model expects.

    A precise claim (σ_s h_i ≤ σ_wrong/16) lying between l_i = 4 √(σ_i² + τ_q²) and σ_wrong
    of its question's centre μ_q is wrong: its right part cannot reach there. The model's
    wrong part expects (1 − c_s) C(l_i < |d| < σ_wrong) of every such claim to land there,
    C the mass of its Cauchy part, (2/π)(atan(σ_wrong/s_i) − atan(l_i/s_i)). Only questions
    where at least three evidence units speak count (μ_q rests on the others too).

    Parameters
    ----------
    enc : Encoded
    post : Posterior
    p : Params
    wrong_spread : float
        σ_wrong.

    Returns
    -------
    (S, 2) float
        Σ t_i over the claims seen in the window, and Σ t_i of their expected share.
    """
    q, s = enc.q, enc.s
    units = np.bincount(q, weights=enc.t, minlength=enc.n_questions)[q]
    sig = p.sigma[s] * enc.spread_factor
    low = 4.0 * np.sqrt(sig * sig + post.tau[q] ** 2)
    use = ((enc.kind == KIND_POINT) & (units > 2.0 + 1e-9) & (sig <= wrong_spread / 16.0)
           & (low < 0.5 * wrong_spread))
    d = np.abs(np.where(use, enc.y - post.mu[q], 0.0))
    seen = use & (d > low) & (d < wrong_spread)
    scale = np.maximum(wrong_spread, 2.0 * sig)
    mass = (2.0 / np.pi) * (np.arctan(wrong_spread / scale) - np.arctan(low / scale))
    expected = np.where(use, (1.0 - p.c[s]) * mass, 0.0)
    out = np.empty((enc.n_sources, 2))
    out[:, 0] = np.bincount(s, weights=enc.t * seen, minlength=enc.n_sources)
    out[:, 1] = np.bincount(s, weights=enc.t * expected, minlength=enc.n_sources)
    return out


def wrong_factor(near_truth: FloatArray | None) -> float:
    """How much wider a wrong part fits what precise sources show near the truth, in [1, 10].

    With O precise claims seen near the truth but off it and E expected there
    (:func:`near_truth_sums`), the wrong claims' density there is about κ = (O + a)/(E + a)
    times the model's (a = ``NEAR_PSEUDO`` pseudo-claims of agreement with the model, so
    that a handful of precise claims decides nothing); a Cauchy part 1/κ times wider has
    that density at the truth. It is used only where the shortfall is significant: O is a
    count of rare events among many claims, about Poisson, and the check widens only if
    2(√(O + 1) − √(m E)) < −z, the variance-stabilised one-sided test of O against a mean
    m E (Freeman & Tukey 1950, the +1 making it conservative), m = ``NEAR_MARGIN``, z =
    ``NEAR_Z`` (level 0.01). The margin is there
    because κ reads about 8 % low under the model's own law (the window's lower edge grows
    with the question's posterior spread τ_q, which is larger where a wrong precise claim
    sits near the truth: review rC); a test against m = 1 widened nearly every fit. Where no
    precise source speaks, or the shortfall is within chance, 1: the model stands.

    Parameters
    ----------
    near_truth : (S, 2) float or None
        :attr:`~models.batch.sums.SourceSums.near_truth`.

    Returns
    -------
    float
    """
    if near_truth is None:
        return 1.0
    seen, expected = near_truth.sum(axis=0)
    if 2.0 * (np.sqrt(seen + 1.0) - np.sqrt(NEAR_MARGIN * expected)) >= -NEAR_Z:
        return 1.0
    ratio = (seen + NEAR_PSEUDO) / (expected + NEAR_PSEUDO)
    return float(np.clip(1.0 / ratio, 1.0, MAX_WRONG_FACTOR))


def loose_right(enc: Encoded, p: Params, right: FloatArray) -> FloatArray:
    """Σ_i t_i P(i right) per source at a grid of credibilities, from one E-step.

    With the E-step's P(i right) = r_i at c_s, the claim's likelihood ratio of right to wrong
    is Λ_i = r_i (1 − c_s)/((1 − r_i) c_s) (θ integrated over the posterior that the other
    claims give, as the E-step does), so at c = logit⁻¹(logit c_s + δ_g) the claim is right
    with probability logistic(logit c_s + δ_g + log Λ_i) = logistic(logit r_i + δ_g); column
    g holds its sum.

    Parameters
    ----------
    enc : Encoded
    p : Params
        The E-step's parameters.
    right : (n,) float
        P(i right or exact | data).

    Returns
    -------
    (S, G) float
        G = len(``LOOSE_OFFSETS``).
    """
    base = logit(np.clip(right, LR_CLIP, 1.0 - LR_CLIP))
    out = np.empty((enc.n_sources, LOOSE_OFFSETS.shape[0]))
    for g, offset in enumerate(LOOSE_OFFSETS):
        out[:, g] = np.bincount(enc.s, weights=enc.t * logistic(base + offset),
                                minlength=enc.n_sources)
    return out


def loose_credibility(
    loose: FloatArray, c: FloatArray, n_eff: FloatArray, c0: FloatArray, kappa: FloatArray
) -> FloatArray:
    """Each source's credibility under the wider wrong part, from :func:`loose_right`'s sums.

    The root in c of (A(c) + κ_s c̄_s)/(n_s + κ_s) − c, A tabulated at logit c_s + δ_g and
    interpolated linearly in δ; the map is the mixture weight's EM, above c below its fixed
    point and below it above, so the root is where the tabulated difference first turns
    negative. Clipped to the grid's ends.

    Parameters
    ----------
    loose : (S, G) float
    c : (S,) float
        The fitted credibilities at which the grid is centred.
    n_eff, c0, kappa : (S,) float
        n_s, the prior's centre c̄_s and strength κ_s.

    Returns
    -------
    (S,) float
    """
    base = logit(c)
    grid = base[:, None] + LOOSE_OFFSETS[None, :]
    diff = ((loose + (kappa * c0)[:, None]) / (n_eff + kappa)[:, None] - logistic(grid))
    below = diff < 0.0
    first = np.where(below.any(axis=1), np.argmax(below, axis=1), LOOSE_OFFSETS.shape[0])
    last = LOOSE_OFFSETS.shape[0] - 1
    hi = np.clip(first, 1, last)
    lo = hi - 1
    rows = np.arange(c.shape[0])
    d_lo, d_hi = diff[rows, lo], diff[rows, hi]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(d_lo != d_hi, d_lo / (d_lo - d_hi), 0.0)
    offset = LOOSE_OFFSETS[lo] + np.clip(frac, 0.0, 1.0) * (LOOSE_OFFSETS[hi] - LOOSE_OFFSETS[lo])
    offset = np.where(first == 0, LOOSE_OFFSETS[0], offset)
    offset = np.where(first > last, LOOSE_OFFSETS[last], offset)
    return logistic(base + offset)


def other_credibility(
    loose: FloatArray | None, n_eff: FloatArray, p: Params, prior: SourcePrior, hyper: Hyper
) -> FloatArray:
    """Each source's credibility under the wider wrong part (:func:`loose_credibility`).

    Parameters
    ----------
    loose : (S, G) float or None
        :attr:`~models.batch.sums.SourceSums.loose_right` of the E-step at
        :func:`wider_wrong`'s hyper-parameters.
    n_eff : (S,) float
        n_s.
    p : Params
        The learned parameters of that E-step.
    prior : SourcePrior
    hyper : Hyper
        The fit's own hyper-parameters (its prior strengths).

    Returns
    -------
    (S,) float
    """
    if loose is None:
        raise ValueError("the sums hold no credibility grid (Hyper.loose_grid)")
    c0 = np.where(prior.rated, prior.c0, prior.population.credibility)
    kappa = np.where(prior.rated, hyper.graded_strength, hyper.pooled_strength)
    return loose_credibility(loose, p.c, n_eff, c0, kappa)
