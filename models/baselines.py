"""Published truth-discovery baselines for numeric claims, for comparison with the batch model.

Each function takes point claims as columns -- question codes q (n,), source codes s (n,) and
figures y (n,) on the working scale (logs for positive counts) -- and returns one estimate per
question on the same scale. They are written from the papers, vectorised like
:mod:`models.batch`, and used by ``bench/batch_population.py`` and the tests.

Symbols: θ_q the estimate of question q, w_s the weight of source s, n_s its number of claims.

References
----------
Li, Q., Li, Y., Gao, J., Su, L., Zhao, B., Demirbas, M., Fan, W. & Han, J. (2015). A
confidence-aware approach for truth discovery on long-tail data. PVLDB 8(4), 425-436.
doi:10.14778/2735496.2735505 (CATD).
Zhao, B. & Han, J. (2012). A probabilistic model for estimating real-valued truth from
conflicting sources. QDB workshop at VLDB 2012 (GTM).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import ndtri
from scipy.stats import chi2

from models.batch.encode import segment_median
from models.errors import InvalidParameterError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

__all__ = ["GTMFit", "catd", "gtm", "median_per_question"]


def _sizes(q: IntArray, s: IntArray) -> tuple[int, int]:
    if q.shape != s.shape or q.ndim != 1 or q.size == 0:
        raise InvalidParameterError("q and s must be non-empty arrays of equal length.")
    return int(q.max()) + 1, int(s.max()) + 1


def median_per_question(q: IntArray, y: FloatArray, n_questions: int | None = None) -> FloatArray:
    """The median of each question's figures (the midpoint of the middle two when even).

    On the log scale this is the *geometric median* of the figures (in one dimension the
    geometric median is the median).

    Parameters
    ----------
    q : (n,) int
    y : (n,) float
    n_questions : int, optional
        Defaults to max(q) + 1.

    Returns
    -------
    (Q,) float
        NaN for a question without claims.
    """
    n_q = int(q.max()) + 1 if n_questions is None else n_questions
    return segment_median(y, q, n_q)


def catd(
    q: IntArray, s: IntArray, y: FloatArray, *, alpha: float = 0.05, iterations: int = 20,
    normalise: bool = True,
) -> FloatArray:
    """CATD: weighted means with source weights from a χ² confidence bound.

    Parameters
    ----------
    q, s : (n,) int
        Question and source codes.
    y : (n,) float
        Figures on the working scale.
    alpha : float
        Significance level of the bound, in (0, 1).
    iterations : int
        Alternations between weights and estimates.
    normalise : bool
        Divide each squared error by the spread (standard deviation) of its question's
        claims, the paper's loss for continuous data, so that questions of different
        dispersion count alike; a question whose claims all agree uses 1.

    Returns
    -------
    (Q,) float

    Notes
    -----
    Starting from each question's median, alternate (Li et al. 2015, eqs. 8 and 10)::

        w_s = χ²_{α/2}(n_s) / Σ_{i ∈ s} d(y_i, θ_{q(i)}),   d = (y − θ)² [/ std_q],
        θ_q = Σ_{i ∈ q} w_{s(i)} y_i / Σ_{i ∈ q} w_{s(i)},

    where χ²_{α/2}(n_s) is the lower α/2 quantile with n_s degrees of freedom: the upper end of
    the (1 − α) confidence interval of the source's precision, which shrinks the weight of
    a source with few claims. A source whose claims all equal the estimates would get an
    infinite weight; its error sum is floored at 1e-12 (log units²).
    """
    if not 0.0 < alpha < 1.0:
        raise InvalidParameterError(f"Invalid alpha {alpha!r}; must lie in (0, 1).")
    n_q, n_s = _sizes(q, s)
    counts = np.bincount(s, minlength=n_s)
    bound = chi2.ppf(alpha / 2.0, np.maximum(counts, 1))
    theta = median_per_question(q, y, n_q)
    scale = np.ones(n_q)
    if normalise:
        counts_q = np.bincount(q, minlength=n_q).astype(np.float64)
        mean = np.bincount(q, weights=y, minlength=n_q) / np.maximum(counts_q, 1.0)
        sd = np.sqrt(np.bincount(q, weights=(y - mean[q]) ** 2, minlength=n_q)
                     / np.maximum(counts_q, 1.0))
        scale = np.where(sd > 0, sd, 1.0)
    for _ in range(iterations):
        err = np.bincount(s, weights=(y - theta[q]) ** 2 / scale[q], minlength=n_s)
        w = bound / np.maximum(err, 1e-12)
        wi = w[s]
        theta = np.bincount(q, weights=wi * y, minlength=n_q) / np.bincount(
            q, weights=wi, minlength=n_q
        )
    return np.asarray(theta, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class GTMFit:
    """Result of :func:`gtm`, on the working scale.

    Attributes
    ----------
    value : (Q,) float
        Posterior mean of each question's truth.
    sd : (Q,) float
        Its posterior standard deviation.
    source_variance : (S,) float
        σ_s², each source's learned variance (in units of the questions' spreads).
    """

    value: FloatArray
    sd: FloatArray
    source_variance: FloatArray

    def interval(self, level: float) -> tuple[FloatArray, FloatArray]:
        """Central posterior interval at ``level``."""
        z = float(ndtri(0.5 + level / 2.0))
        return self.value - z * self.sd, self.value + z * self.sd


def gtm(
    q: IntArray, s: IntArray, y: FloatArray, *, alpha: float = 10.0, beta: float = 10.0,
    prior_mean: float = 0.0, prior_var: float = 1.0, iterations: int = 20,
) -> GTMFit:
    """GTM, the Gaussian truth model of Zhao & Han (2012), fitted by EM (MAP).

    Parameters
    ----------
    q, s : (n,) int
    y : (n,) float
    alpha, beta : float
        Inverse-gamma prior of each source's variance, σ_s² ~ IG(α, β) (the paper's 10, 10).
    prior_mean, prior_var : float
        Normal prior of a truth on the standardised scale (the paper's 0, 1).
    iterations : int

    Returns
    -------
    GTMFit

    Notes
    -----
    Figures are standardised per question, z_i = (y_i − m_q)/d_q with m_q the question's mean
    and d_q its standard deviation (1 when zero), as in the paper. Then alternate::

        μ_q  = (μ₀/σ₀² + Σ_{i ∈ q} z_i/σ_{s(i)}²) / (1/σ₀² + Σ_{i ∈ q} 1/σ_{s(i)}²),
        σ_s² = (2β + Σ_{i ∈ s} (z_i − μ_{q(i)})²) / (2(α + 1) + n_s),

    starting from σ_s² = 1. The posterior of μ_q is Normal with variance
    1/(1/σ₀² + Σ 1/σ_s²), mapped back as θ_q = m_q + d_q μ_q.
    """
    n_q, n_s = _sizes(q, s)
    counts_q = np.bincount(q, minlength=n_q).astype(np.float64)
    mean = np.bincount(q, weights=y, minlength=n_q) / np.maximum(counts_q, 1.0)
    var = np.bincount(q, weights=(y - mean[q]) ** 2, minlength=n_q) / np.maximum(counts_q, 1.0)
    scale = np.where(var > 0, np.sqrt(var), 1.0)
    z = (y - mean[q]) / scale[q]
    counts_s = np.bincount(s, minlength=n_s).astype(np.float64)
    sigma2: FloatArray = np.ones(n_s)
    mu: FloatArray = np.zeros(n_q)
    precision: FloatArray = np.ones(n_q)
    for _ in range(iterations):
        inv = 1.0 / sigma2[s]
        precision = np.asarray(1.0 / prior_var + np.bincount(q, weights=inv, minlength=n_q),
                               dtype=np.float64)
        mu = (prior_mean / prior_var + np.bincount(q, weights=inv * z, minlength=n_q)) / precision
        resid = np.bincount(s, weights=(z - mu[q]) ** 2, minlength=n_s)
        sigma2 = (2.0 * beta + resid) / (2.0 * (alpha + 1.0) + counts_s)
    return GTMFit(
        value=np.asarray(mean + scale * mu, dtype=np.float64),
        sd=np.asarray(scale / np.sqrt(precision), dtype=np.float64),
        source_variance=np.asarray(sigma2, dtype=np.float64),
    )
