"""The sources' spreads under a hierarchical log-normal prior whose width the archive learns.

Until session 12 the M-step drew σ_s² towards its prior centre σ̄_s² with ν = 4 pseudo-claims
of a scaled-inverse-χ² prior, σ_s² = (Σ r e² + ν σ̄²)/(Σ r + ν). The pull is additive in σ²,
so a source far *below* the centre is moved by ν σ̄² / Σ r σ_s², the square of its distance: a
source of spread 0.003 among sources whose centre is 0.03 gets 100 ν/Σ r times its own
evidence from the prior, and with 10-40 right claims was shown at 3-11 times its true spread
(review finding 13; ``bench/batch_spread_range.py``: 2.4-3.8 times on archives of 300-400
questions). Its claims then weighed about a tenth of what they should.

Now w_s = log σ_s ~ N(log σ̄_s, v): the pull is linear in the *log* distance and its strength,
1/v, is learned from how far the sources' spreads actually lie from their centres (empirical
Bayes, as for the centre itself). Where the sources agree, v̂ falls to its floor 1/(2ν), the
log-scale variance of the old prior (the information of ν pseudo-claims on log σ is 2ν), so
the pull is as before; where spreads span decades, v̂ ≈ their variance and each source is
left near its own evidence. The M-step maximises, per source, with R = Σ r and
SS = Σ r E[(y − θ − β)²]/h² (the variance components' sums, :func:`models.batch.sums.
update_sources`),

    ℓ(w) = −R w − SS e^{−2w}/2 − (w − m)²/(2v),          m = log σ̄_s,

a concave function of w whose root of ℓ'(w) = −R + SS e^{−2w} − (w − m)/v lies between
m and ½ log(SS/R) and above m − R v; ℓ' is decreasing and convex, so Newton's method from
the larger of the two lower bounds climbs to it monotonically (:func:`spread_map`).
Because ℓ'(w) ≥ −R − (w − m)/v, the root is above m − R v: a source seen once (R ≤ 1) keeps a
spread of at least e^{−v} σ̄ ≥ e^{−v_max} σ̄ (0.14 σ̄ at the default v_max = 2), and
e^{−1/(2ν)} σ̄ = 0.88 σ̄ where the sources agree (the old prior's √(ν/(1 + ν)) σ̄ = 0.89 σ̄).
In general a source of R right claims keeps at least e^{−R v} σ̄ from the prior alone: the
more claims, the more the data decide (and no spread falls below ``MIN_SPREAD``).

v is estimated by maximum likelihood of the normal-normal model (:func:`spread_dispersion`):
a source's raw log-spread ŵ_s = ½ log(SS_s/R_s) scatters about its true w_s with the
sampling variance of the log of a χ²_R/R variable, V_s = ψ'(R/2)/4 (its bias ½(ψ(R/2) −
log(R/2)) removed), and w_s about m_s with variance v; so ŵ_s − m_s ~ N(0, v + V_s) and
v̂ solves Σ (d_s² − V_s − v)/(v + V_s)² = 0, the fixed point v ← Σ ω² (d² − V)/Σ ω²,
ω = 1/(v + V) (Morris 1983), over sources with R ≥ 2 (a single right claim's log-χ²₁ is too
skewed for the normal approximation), then clipped to [1/(2ν), v_max]. v_max caps the
self-reinforcing case where a few collapsed spreads would widen v̂ and so let more collapse.

References
----------
Morris, C. N. (1983). Parametric empirical Bayes inference: theory and applications. JASA
78(381), 47-55. doi:10.1080/01621459.1983.10477920.
Cui, X., Hwang, J. T. G., Qiu, J., Blades, N. J. & Churchill, G. A. (2005). Improved
statistical tests for differential gene expression by shrinking variance components estimates.
Biostatistics 6(1), 59-75. doi:10.1093/biostatistics/kxh018 (shrinking log variances).
Smyth, G. K. (2004). Linear models and empirical Bayes methods for assessing differential
expression in microarray experiments. Stat. Appl. Genet. Mol. Biol. 3(1), Article 3.
doi:10.2202/1544-6115.1027 (the inverse-χ² alternative with an empirical-Bayes ν; its pull is
still additive in σ², which is what failed here).
"""

from __future__ import annotations

import numpy as np

from models.batch.common import MIN_SPREAD, FloatArray

#: Least expected right claims for a source's raw spread to inform v̂: below two, the log of a
#: χ²_R variable is too skewed for the normal-normal model (ψ'(1/2)/4 = 1.2 for R = 1).
LEAST_RIGHT = 2.0
#: Least number of such sources for v̂; with fewer, v stays at its floor (the old pull).
LEAST_SOURCES = 3


def dispersion_floor(spread_strength: float) -> float:
    """1/(2ν), the variance of log σ that ν pseudo-claims of the old prior implied."""
    return 1.0 / (2.0 * spread_strength)


def spread_dispersion(
    ss: FloatArray, rp: FloatArray, centre: FloatArray, floor: float, cap: float
) -> float:
    """v̂, the variance of the sources' log-spreads about their prior centres.

    Parameters
    ----------
    ss, rp : (S,) float
        SS_s and R_s of the M-step (:class:`models.batch.sums.SourceSums` ``ss`` and ``rp``).
    centre : (S,) float
        m_s = log σ̄_s.
    floor, cap : float
        1/(2ν) and v_max; the result lies in [floor, max(floor, cap)].

    Returns
    -------
    float
    """
    use = (rp >= LEAST_RIGHT) & (ss > 0)
    top = max(floor, cap)
    if int(use.sum()) < LEAST_SOURCES:
        return floor
    # Imported here: importing models.batch must not load scipy (test_batch_package).
    from scipy.special import digamma, polygamma

    r = rp[use]
    half = 0.5 * r
    # E[log(χ²_R/R)] = ψ(R/2) − log(R/2), Var = ψ'(R/2); halved and quartered for log σ.
    raw = 0.5 * np.log(ss[use] / r) - 0.5 * (digamma(half) - np.log(half))
    d2 = (raw - centre[use]) ** 2
    samp = polygamma(1, half) / 4.0
    v = float(np.clip(np.mean(d2 - samp), floor, top))
    for _ in range(100):
        omega2 = 1.0 / (v + samp) ** 2
        new = float(np.clip((omega2 @ (d2 - samp)) / omega2.sum(), floor, top))
        if abs(new - v) < 1e-9 * (1.0 + v):
            return new
        v = new
    return v


def spread_map(ss: FloatArray, rp: FloatArray, centre: FloatArray, v: float) -> FloatArray:
    """Each source's σ_s = e^w maximising ℓ(w) of the module docstring, (S,).

    Parameters
    ----------
    ss, rp : (S,) float
        SS_s and R_s (non-negative).
    centre : (S,) float
        m_s = log σ̄_s.
    v : float
        The prior variance of w about m_s.

    Returns
    -------
    (S,) float
        At least MIN_SPREAD.
    """
    ss = np.maximum(ss, 0.0)
    r = np.maximum(rp, 0.0)
    with np.errstate(divide="ignore"):
        own = np.where((ss > 0) & (r > 0), 0.5 * np.log(ss / np.maximum(r, 1e-300)), -np.inf)
    # Both are at most the root (module docstring); the larger is the closer start, and
    # ss e^{−2w} there is at most max(ss e^{−2m}, R), so nothing overflows.
    w = np.maximum(centre - r * v, np.minimum(centre, own))
    for _ in range(100):
        e = ss * np.exp(-2.0 * w)
        step = (-r + e - (w - centre) / v) / (2.0 * e + 1.0 / v)
        w = w + step
        if float(np.max(np.abs(step))) < 1e-12:
            break
    return np.asarray(np.maximum(np.exp(w), MIN_SPREAD), dtype=np.float64)


def predictive_spread(
    sigma: FloatArray, spread_info: FloatArray, spread_missing: FloatArray, rp: FloatArray,
    v: float, bias_strength: float | None, centre: FloatArray,
) -> FloatArray:
    """Each source's spread for the questions' intervals: σ̂_s widened by what is not known
    of σ_s and β_s, (S,).

    A right claim's error about θ is β_s + σ_s ε. Integrating β_s ~ N(β̂_s, σ_s²/(R_s + λ))
    (the bias prior's λ pseudo-claims and R_s right claims) and w_s = log σ_s over their
    posteriors, its variance is

        σ̃_s² = E[σ_s²] + E[Var β_s] ≈ σ̂_s² (E[e^{2(w_s − ŵ_s)}] + 1/(R_s + λ)),

    and the final E-step, whose posterior gives the intervals, uses σ̃_s
    (:meth:`models.batch.BatchEstimator.predictive`). w_s's posterior is its prior
    N(m_s, v) times the likelihood of an equivalent χ² experiment, ℓ(w) = −R̃ w − S̃ e^{−2w}/2
    (what R̃ right claims of sum of squares S̃ say of σ), whose R̃ and S̃ give the MAP ŵ_s
    and the observed information I_s there:

        I_s = max(2 Σ t r ē − Σ t [r(1 − r)(ē − 1)² + r Var e], 0),
        S̃ e^{−2ŵ} = I_s/2,        R̃ = max(I_s/2 − (ŵ − m_s)/v, 0),

    by Louis' identity the complete-data information less the missing one
    (:class:`models.batch.sums.SourceSums` ``spread_info``, ``spread_missing``); E[e^{2(w −
    ŵ)}] is then a sum over a grid of w. Two things made plug-in spreads too narrow. First,
    the complete-data 2 Σ r counts a question that the source dominates, where E[(y − θ)²] ≈
    σ_s² whatever σ_s is, as a full right claim's worth; there the missing information
    cancels it, so a source that is its own reference keeps the prior's uncertainty. Second,
    the posterior of log σ is skewed upward (σ² ~ S̃/χ²_R̃), so E[σ²] exceeds the log-normal
    approximation's e^{2/I}: with e^{2 se²} in its place 2-10-claim questions covered 0.82-0.92
    (``bench/batch_spread_range.py``, four seeds), with plug-in spreads 0.78-0.87.

    Parameters
    ----------
    sigma : (S,) float
        σ̂_s, the M-step's spreads.
    spread_info, spread_missing, rp : (S,) float
        The last E-step's sums (:class:`models.batch.sums.SourceSums`).
    v : float
        The spread prior's variance of log σ_s.
    bias_strength : float or None
        λ, when the biases are learned; None when they are held at their priors.
    centre : (S,) float
        m_s = log σ̄_s, the spread prior's centres.

    Returns
    -------
    (S,) float

    References
    ----------
    Louis, T. A. (1982). Finding the observed information matrix when using the EM
    algorithm. JRSS B 44(2), 226-233. doi:10.1111/j.2517-6161.1982.tb01203.x.
    """
    observed = np.maximum(2.0 * spread_info - spread_missing, 0.0)
    extra = (0.0 if bias_strength is None
             else 1.0 / (np.maximum(rp, 0.0) + bias_strength))
    return np.asarray(sigma * np.sqrt(_mean_square(observed, v, centre, np.log(sigma)) + extra),
                      dtype=np.float64)


def _mean_square(observed: FloatArray, v: float, centre: FloatArray, mode: FloatArray
                 ) -> FloatArray:
    """E[e^{2(w − ŵ)}] under the posterior of :func:`predictive_spread`, (S,).

    On a grid of w − ŵ from −8 to +16 standard errors (1/√(I + 1/v)): the right tail is the
    long one, and the integrand e^{2d} p(d) has decayed well before +16 where I ≥ 4 (where
    I < 4 the standard error is at least √(v/(1 + 4v)), about the prior's). Sources are
    taken a few thousand at a time, so the grid holds a few million floats at the most.
    """
    x = np.linspace(-8.0, 16.0, 193)
    out = np.empty(observed.shape[0])
    for a in range(0, observed.shape[0], 4096):
        sl = slice(a, a + 4096)
        obs = observed[sl][:, None]
        m = centre[sl][:, None]
        w0 = mode[sl][:, None]
        se = 1.0 / np.sqrt(obs + 1.0 / v)
        r_eff = np.maximum(0.5 * obs - (w0 - m) / v, 0.0)
        d = se * x[None, :]
        loglik = -r_eff * d - 0.25 * obs * np.exp(-2.0 * d) - (w0 + d - m) ** 2 / (2.0 * v)
        loglik -= loglik.max(axis=1, keepdims=True)
        weight = np.exp(loglik)
        out[sl] = (weight * np.exp(2.0 * d)).sum(axis=1) / weight.sum(axis=1)
    return out
