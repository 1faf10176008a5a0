"""Classic inverse-variance pooling: fixed-effect and random-effects meta-analysis.

Every number follows R's metafor (``rma.uni`` for an intercept-only model) so that a result can
be checked against it digit for digit: Cochran's Q, the DerSimonian–Laird, Paule–Mandel and REML
estimators of the between-claim variance τ², Wald-type (``z``) and Knapp–Hartung (``knha``)
intervals, metafor's I²/H², its prediction interval and its externally studentized residuals.
The parity tests in ``tests/models/test_pooling_metafor.py`` hold the published reference values.

Conventions that differ from metafor's *presentation* (not its numbers):

* ``i2`` is a fraction in [0, 1], where metafor prints a percentage;
* ``weights`` sum to 1, where metafor's ``weights()`` sum to 100.

References
----------
.. [1] DerSimonian, R., & Laird, N. (1986). Meta-analysis in clinical trials. *Controlled
   Clinical Trials*, 7(3), 177–188. doi:10.1016/0197-2456(86)90046-2
.. [2] Paule, R. C., & Mandel, J. (1982). Consensus values and weighting factors. *Journal of
   Research of the National Bureau of Standards*, 87(5), 377–385.
.. [3] Viechtbauer, W. (2005). Bias and efficiency of meta-analytic variance estimators in the
   random-effects model. *Journal of Educational and Behavioral Statistics*, 30(3), 261–293.
   doi:10.3102/10769986030003261
.. [4] Knapp, G., & Hartung, J. (2003). Improved tests for a random effects meta-regression with
   a single covariate. *Statistics in Medicine*, 22(17), 2693–2710. doi:10.1002/sim.1482
.. [5] Higgins, J. P. T., & Thompson, S. G. (2002). Quantifying heterogeneity in a
   meta-analysis. *Statistics in Medicine*, 21(11), 1539–1558. doi:10.1002/sim.1186
.. [6] Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package. *Journal
   of Statistical Software*, 36(3), 1–48. doi:10.18637/jss.v036.i03
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
from scipy import stats

from models.errors import InvalidParameterError, NumericalRangeError
from models.tau2 import (
    TAU2_METHODS,
    PoolingData,
    as_data,
    generalized_q,
    tau2_dl,
    tau2_pm,
    tau2_reml,
    tr_p_fixed,
    weighted_mean,
)

__all__ = [
    "CI_METHODS",
    "TAU2_METHODS",
    "Estimator",
    "FixedEffect",
    "PoolingFit",
    "RandomEffects",
    "leave_one_out",
    "studentized_residuals",
]

FloatArray = npt.NDArray[np.float64]

#: Ways to turn the pooled mean's standard error into an interval.
CI_METHODS: Final[tuple[str, ...]] = ("z", "knha")

# metafor sets the Knapp–Hartung scale to 0 when the weighted residual sum of squares is at or
# below machine epsilon (all claims equal); copying that keeps identical inputs identical.
_KNHA_RSS_FLOOR: Final[float] = float(np.finfo(np.float64).eps)


def _check_level(level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, int | float) or not 0.0 < level < 1.0:
        raise InvalidParameterError(f"Invalid level {level!r}; must lie in (0, 1).", field="level")
    return float(level)


def _check_ci_method(ci_method: str) -> None:
    if ci_method not in CI_METHODS:
        raise InvalidParameterError(
            f"Invalid ci_method {ci_method!r}; must be one of {', '.join(CI_METHODS)}.",
            field="ci_method",
        )


@dataclass(frozen=True, slots=True)
class PoolingFit:
    """The result of one pooling fit.

    Attributes
    ----------
    method : {"fixed_effect", "random_effects"}
        Which model was fitted.
    tau2_method : str or None
        ``"DL"``, ``"PM"`` or ``"REML"`` for random effects, ``None`` for the fixed-effect model.
    ci_method : {"z", "knha"}
        How :meth:`interval` and :meth:`prediction_interval` get their critical value.
    k : int
        Number of claims pooled.
    mu : float
        Pooled mean, ``Σ w_i y_i / Σ w_i`` with ``w_i = 1 / (v_i + τ²)``.
    se : float
        Standard error of ``mu`` as metafor reports it: ``sqrt(1 / Σ w_i)`` for ``z``, and that
        times the Knapp–Hartung scale ``sqrt(knha_scale)`` for ``knha``.
    tau2 : float
        Estimated between-claim variance τ² (0 for the fixed-effect model), never negative.
    q : float
        Cochran's Q with fixed-effect weights ``1 / v_i`` (metafor's ``QE``), whatever the model.
    q_df : int
        ``k - 1``.
    q_pvalue : float
        Upper tail of χ²(k − 1) at ``q`` (1 when ``k == 1``).
    i2 : float
        Share of the total variability due to heterogeneity, as a **fraction** in [0, 1]
        (metafor prints a percentage). See Notes.
    h2 : float
        Ratio of total to sampling variability (metafor's H²). See Notes.
    weights : tuple of float
        Each claim's share of the pooled mean, ``w_i / Σ w_j``; they sum to 1 (metafor's
        ``weights()`` divided by 100).
    df : int or None
        Degrees of freedom of the t distribution for ``knha`` (``k - 1``), ``None`` for ``z``.
    s2 : float
        The "typical" within-claim variance of Higgins & Thompson (2002),
        ``(k − 1) Σw / ((Σw)² − Σw²)`` with ``w = 1/v`` (NaN when ``k == 1``).
    knha_scale : float
        Knapp–Hartung variance scale ``Σ w_i (y_i − mu)² / (k − 1)`` (not truncated at 1, as in
        metafor's ``test="knha"``); 1 for ``z``.
    iterations : int
        Fisher-scoring steps (REML) or root-finder iterations (PM) used; 0 otherwise.
    y, v : tuple of float
        The effect sizes and sampling variances this fit was computed from, kept so that
        :meth:`leave_one_out` and :meth:`studentized_residuals` can refit without each claim.
    estimator : FixedEffect or RandomEffects or None
        The estimator that produced this fit (``None`` only for a hand-built instance).

    Notes
    -----
    I² and H² follow metafor. For random effects they are τ²-based,

    .. math:: I^2 = \\frac{\\hat\\tau^2}{\\hat\\tau^2 + s^2}, \\qquad
              H^2 = \\frac{\\hat\\tau^2 + s^2}{s^2},

    so they depend on the τ² estimator (for DL they equal the Q-based values whenever τ² > 0).
    For the fixed-effect model, which has no τ², they are Q-based:
    ``I² = max(0, (Q − (k−1)) / Q)`` and ``H² = Q / (k − 1)`` (not floored at 1). With a single
    claim metafor's conventions ``Q = 0``, ``p = 1``, ``I² = 0``, ``H² = 1`` apply.
    """

    method: Literal["fixed_effect", "random_effects"]
    tau2_method: str | None
    ci_method: str
    k: int
    mu: float
    se: float
    tau2: float
    q: float
    q_df: int
    q_pvalue: float
    i2: float
    h2: float
    weights: tuple[float, ...]
    df: int | None
    s2: float
    knha_scale: float
    iterations: int = 0
    y: tuple[float, ...] = field(default=(), repr=False)
    v: tuple[float, ...] = field(default=(), repr=False)
    estimator: Estimator | None = field(default=None, repr=False, compare=False)

    def critical_value(self, level: float) -> float:
        """Two-sided critical value at ``level``: a normal quantile for ``z``, else t(k − 1).

        Parameters
        ----------
        level : float
            Coverage in (0, 1), e.g. 0.95.

        Returns
        -------
        float
            ``q`` such that ``P(|T| <= q) = level``.

        Raises
        ------
        InvalidParameterError
            If ``level`` is not in (0, 1).
        """
        alpha = 1.0 - _check_level(level)
        if self.df is None:
            return float(stats.norm.isf(alpha / 2.0))
        return float(stats.t.isf(alpha / 2.0, self.df))

    def interval(self, level: float) -> tuple[float, float]:
        """Confidence interval ``(low, high)`` for ``mu``: ``mu ± crit · se`` (metafor's
        ``ci.lb``/``ci.ub``), with ``crit`` the :meth:`critical_value` at ``level``, a coverage in
        (0, 1); :class:`InvalidParameterError` for any other ``level``.
        """
        crit = self.critical_value(level)
        return (self.mu - crit * self.se, self.mu + crit * self.se)

    def prediction_interval(self, level: float) -> tuple[float, float]:
        """Interval ``(low, high)`` for the true value behind a new, similar claim (metafor's
        ``pi.lb``/``pi.ub``) at ``level``, a coverage in (0, 1); :class:`InvalidParameterError`
        for any other ``level``, as for :meth:`interval`.

        Notes
        -----
        metafor's ``predict.rma`` convention:
        ``mu ± crit · sqrt(se² + τ²)`` with ``crit`` the normal quantile for ``z`` and the
        t(k − 1) quantile for ``knha`` (``se`` already carrying the Knapp–Hartung scale). For the
        fixed-effect model τ² = 0 and the interval equals :meth:`interval`.
        """
        crit = self.critical_value(level)
        half = crit * math.sqrt(self.se**2 + self.tau2)
        return (self.mu - half, self.mu + half)

    def _refit_inputs(self) -> tuple[Estimator, tuple[float, ...], tuple[float, ...]]:
        if self.estimator is None or len(self.y) != self.k:
            raise ValueError(
                "This PoolingFit does not carry the estimator and inputs it came from; use the "
                "module functions leave_one_out / studentized_residuals instead."
            )
        return self.estimator, self.y, self.v

    def leave_one_out(self) -> tuple[FloatArray, FloatArray]:
        """``(mu_without_i, se_without_i)`` for every claim; see :func:`leave_one_out`."""
        return _leave_one_out(*self._refit_inputs())

    def studentized_residuals(self) -> FloatArray:
        """Externally studentized residuals; see :func:`studentized_residuals`."""
        return _studentized_residuals(*self._refit_inputs())


def _finish(
    data: PoolingData,
    *,
    tau2: float,
    method: Literal["fixed_effect", "random_effects"],
    tau2_method: str | None,
    ci_method: str,
    iterations: int,
    estimator: Estimator,
) -> PoolingFit:
    k = data.k
    w = 1.0 / (data.v + tau2)
    sw = float(np.sum(w))
    mu_c = weighted_mean(data.yc, w)
    mu = mu_c + data.centre
    se = math.sqrt(1.0 / sw)

    if k > 1:
        q = max(0.0, generalized_q(data, 0.0))
        q_pvalue = float(stats.chi2.sf(q, k - 1))
        s2 = (k - 1) / tr_p_fixed(data.v)
        if method == "fixed_effect":
            # metafor has no τ² here, so it falls back to the Q-based pair.
            i2 = max(0.0, (q - (k - 1)) / q) if q > 0.0 else 0.0
            h2 = q / (k - 1)
        else:
            i2 = tau2 / (tau2 + s2)
            h2 = tau2 / s2 + 1.0
    else:
        q, q_pvalue, i2, h2, s2 = 0.0, 1.0, 0.0, 1.0, math.nan

    df: int | None = None
    knha_scale = 1.0
    if ci_method == "knha":
        if k < 2:
            raise InvalidParameterError(
                "Knapp–Hartung intervals need at least 2 claims (t with k − 1 degrees of "
                "freedom); got 1. Use ci_method 'z'.",
                field="ci_method",
            )
        rss = float(np.sum(w * (data.yc - mu_c) ** 2))
        knha_scale = 0.0 if rss <= _KNHA_RSS_FLOOR else rss / (k - 1)
        se *= math.sqrt(knha_scale)
        df = k - 1

    values = (mu, se, q, i2, h2)
    if not all(math.isfinite(x) for x in values):
        raise NumericalRangeError("The pooled result is not representable in floating point.")
    return PoolingFit(
        method=method,
        tau2_method=tau2_method,
        ci_method=ci_method,
        k=k,
        mu=mu,
        se=se,
        tau2=tau2,
        q=q,
        q_df=k - 1,
        q_pvalue=q_pvalue,
        i2=i2,
        h2=h2,
        weights=tuple(float(x) for x in w / sw),
        df=df,
        s2=s2,
        knha_scale=knha_scale,
        iterations=iterations,
        y=tuple(float(x) for x in data.y),
        v=tuple(float(x) for x in data.v),
        estimator=estimator,
    )


@dataclass(frozen=True, slots=True)
class FixedEffect:
    """Fixed-effect (common-effect) inverse-variance pooling, metafor's ``method="FE"``.

    Parameters
    ----------
    ci_method : {"z", "knha"}
        ``"z"``: normal intervals. ``"knha"``: Knapp–Hartung scaled standard error with
        t(k − 1) intervals (metafor allows it for FE models with a warning; it is offered here
        because it is the same arithmetic with τ² = 0).

    Raises
    ------
    InvalidParameterError
        If ``ci_method`` is not one of :data:`CI_METHODS`.

    Notes
    -----
    With ``w_i = 1 / v_i``,

    .. math:: \\hat\\mu = \\frac{\\sum w_i y_i}{\\sum w_i}, \\qquad
              \\mathrm{SE}(\\hat\\mu) = \\Big(\\sum w_i\\Big)^{-1/2}, \\qquad
              Q = \\sum w_i (y_i - \\hat\\mu)^2 .

    For ``knha`` the variance is multiplied by ``Q / (k − 1)`` (Knapp & Hartung 2003).

    References
    ----------
    .. [1] Viechtbauer, W. (2010). Conducting meta-analyses in R with the metafor package.
       *Journal of Statistical Software*, 36(3). doi:10.18637/jss.v036.i03
    .. [2] Knapp, G., & Hartung, J. (2003). doi:10.1002/sim.1482
    """

    ci_method: str = "z"

    def __post_init__(self) -> None:
        _check_ci_method(self.ci_method)

    def fit(self, y: npt.ArrayLike, v: npt.ArrayLike) -> PoolingFit:
        """Pool effect sizes ``y`` with sampling variances ``v``.

        Parameters
        ----------
        y : array_like, shape (k,)
            Effect sizes (claims' values on the working scale), finite.
        v : array_like, shape (k,)
            Their sampling variances, finite and > 0.

        Returns
        -------
        PoolingFit
            With ``tau2 == 0`` and ``tau2_method is None``.

        Raises
        ------
        InvalidClaimError
            Empty, mis-shaped, non-finite ``y`` or non-positive ``v``.
        InvalidParameterError
            ``ci_method="knha"`` with a single claim.
        NumericalRangeError
            Variances too small (or values too large) for floating point.
        """
        data = as_data(y, v)
        return _finish(
            data,
            tau2=0.0,
            method="fixed_effect",
            tau2_method=None,
            ci_method=self.ci_method,
            iterations=0,
            estimator=self,
        )


@dataclass(frozen=True, slots=True)
class RandomEffects:
    """Random-effects inverse-variance pooling with an estimated τ², metafor's ``rma.uni``.

    Parameters
    ----------
    tau2_method : {"DL", "PM", "REML"}
        Estimator of the between-claim variance τ²: DerSimonian–Laird, Paule–Mandel or
        restricted maximum likelihood.
    ci_method : {"z", "knha"}
        ``"z"``: normal intervals. ``"knha"``: Knapp–Hartung, i.e. the variance of ``mu`` times
        ``Σ w_i (y_i − mu)² / (k − 1)`` with t(k − 1) quantiles; like metafor's ``test="knha"``
        the scale is *not* truncated at 1.
    tol : float
        Convergence tolerance on τ²: REML stops when a Fisher-scoring step changes τ² by at most
        ``tol`` (metafor's ``threshold``, whose default there is 1e-5); PM's root finder stops
        within ``tol`` of the root. Must be finite and > 0.
    max_iter : int
        Iteration cap for REML and PM, >= 1.

    Raises
    ------
    InvalidParameterError
        For a hyper-parameter outside its domain.

    Notes
    -----
    With ``w_i(τ²) = 1 / (v_i + τ²)``, ``μ̂(τ²) = Σ w_i y_i / Σ w_i`` and ``SE = (Σ w_i)^{-1/2}``.
    All estimators are truncated at 0.

    * **DL** (DerSimonian & Laird 1986): with fixed-effect weights ``w_i = 1/v_i``,
      ``τ² = max(0, (Q − (k − 1)) / (Σw − Σw²/Σw))``.
    * **PM** (Paule & Mandel 1982): the root of the generalized Q,
      ``Σ w_i(τ²) (y_i − μ̂(τ²))² = k − 1`` (``scipy.optimize.brentq``); 0 when Q(0) <= k − 1.
    * **REML** (Viechtbauer 2005): Fisher scoring as in metafor, started from the Hedges
      estimate, ``τ² ← τ² + (YᵀPPY − tr P) / tr(PP)`` with ``P = W − w wᵀ / Σw``, halving a
      step that would leave [0, ∞).

    With ``k == 1`` τ² cannot be estimated: ``tau2`` is 0 and the fit equals the fixed-effect
    one (metafor does the same), and ``knha`` is refused (no degrees of freedom).

    References
    ----------
    .. [1] DerSimonian, R., & Laird, N. (1986). doi:10.1016/0197-2456(86)90046-2
    .. [2] Paule, R. C., & Mandel, J. (1982). Consensus values and weighting factors. *J. Res.
       Natl. Bur. Stand.*, 87(5), 377–385.
    .. [3] Viechtbauer, W. (2005). doi:10.3102/10769986030003261
    .. [4] Knapp, G., & Hartung, J. (2003). doi:10.1002/sim.1482
    .. [5] Higgins, J. P. T., & Thompson, S. G. (2002). doi:10.1002/sim.1186
    .. [6] Viechtbauer, W. (2010). doi:10.18637/jss.v036.i03
    """

    tau2_method: str = "REML"
    ci_method: str = "z"
    tol: float = 1e-10
    max_iter: int = 1000

    def __post_init__(self) -> None:
        if self.tau2_method not in TAU2_METHODS:
            raise InvalidParameterError(
                f"Invalid tau2_method {self.tau2_method!r}; must be one of "
                f"{', '.join(TAU2_METHODS)}.",
                field="tau2_method",
            )
        _check_ci_method(self.ci_method)
        tol = self.tol
        if (
            isinstance(tol, bool)
            or not isinstance(tol, int | float)
            or not (math.isfinite(tol) and tol > 0.0)
        ):
            raise InvalidParameterError(
                f"Invalid tol {tol!r}; must be a finite number > 0.", field="tol"
            )
        if (
            isinstance(self.max_iter, bool)
            or not isinstance(self.max_iter, int)
            or self.max_iter < 1
        ):
            raise InvalidParameterError(
                f"Invalid max_iter {self.max_iter!r}; must be an integer >= 1.", field="max_iter"
            )

    def fit(self, y: npt.ArrayLike, v: npt.ArrayLike) -> PoolingFit:
        """Pool effect sizes ``y`` with sampling variances ``v`` under random effects.

        The parameters and errors are those of :meth:`FixedEffect.fit`; besides,
        :class:`NumericalRangeError` when REML or PM does not converge in ``max_iter``.

        Returns
        -------
        PoolingFit
            ``tau2`` >= 0; with ``k == 1``, ``tau2 == 0`` (see Notes of the class).
        """
        data = as_data(y, v)
        iterations = 0
        if data.k == 1:
            tau2 = 0.0
        elif self.tau2_method == "DL":
            tau2 = tau2_dl(data)
        elif self.tau2_method == "PM":
            tau2, iterations = tau2_pm(data, self.tol, self.max_iter)
        else:
            tau2, iterations = tau2_reml(data, self.tol, self.max_iter)
        return _finish(
            data,
            tau2=tau2,
            method="random_effects",
            tau2_method=self.tau2_method,
            ci_method=self.ci_method,
            iterations=iterations,
            estimator=self,
        )


Estimator = FixedEffect | RandomEffects


def _deleted_fits(
    estimator: Estimator, y: npt.ArrayLike, v: npt.ArrayLike
) -> tuple[PoolingData, list[PoolingFit | None]]:
    data = as_data(y, v)
    k = data.k
    if k == 1:
        return data, [None]
    # A single remaining claim has no Knapp–Hartung scale (0 degrees of freedom); its own
    # standard error sqrt(v_j) is used instead. metafor would report se = 0 there.
    single = dataclasses.replace(estimator, ci_method="z") if k == 2 else estimator
    fits: list[PoolingFit | None] = []
    for i in range(k):
        keep = np.arange(k) != i
        try:
            fits.append(single.fit(data.y[keep], data.v[keep]))
        except NumericalRangeError:
            fits.append(None)  # as metafor: a case whose deletion cannot be fitted gets NaN
    return data, fits


def leave_one_out(
    estimator: Estimator, y: npt.ArrayLike, v: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """Refit without each claim in turn (metafor's ``leave1out``).

    Parameters
    ----------
    estimator : FixedEffect or RandomEffects
        The estimator to refit (τ² is re-estimated for every deletion).
    y, v : array_like, shape (k,)
        Effect sizes and sampling variances, as for ``fit``.

    Returns
    -------
    mu_without : ndarray, shape (k,)
        ``mu`` of the fit without claim ``i``.
    se_without : ndarray, shape (k,)
        ``se`` of that fit (Knapp–Hartung scaled for ``knha``).

    Notes
    -----
    With ``k == 1`` nothing is left after the deletion and both arrays are ``[nan]``. With
    ``k == 2`` each deletion leaves one claim, whose fit uses its own ``sqrt(v_j)`` even under
    ``knha`` (metafor reports a zero standard error there). A deletion whose refit fails
    numerically yields NaN for that claim.
    """
    return _leave_one_out(estimator, y, v)


def _leave_one_out(
    estimator: Estimator, y: npt.ArrayLike, v: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    _, fits = _deleted_fits(estimator, y, v)
    mu = np.array([f.mu if f is not None else math.nan for f in fits], dtype=np.float64)
    se = np.array([f.se if f is not None else math.nan for f in fits], dtype=np.float64)
    return mu, se


def studentized_residuals(estimator: Estimator, y: npt.ArrayLike, v: npt.ArrayLike) -> FloatArray:
    """Externally studentized residuals, metafor's ``rstudent()`` ``z`` column.

    Parameters
    ----------
    estimator : FixedEffect or RandomEffects
        The estimator to refit without each claim.
    y, v : array_like, shape (k,)
        Effect sizes and sampling variances, as for ``fit``.

    Returns
    -------
    ndarray, shape (k,)
        ``(y_i − mu_{−i}) / sqrt(v_i + τ²_{−i} + se²_{−i})``, where the ``−i`` quantities come
        from the fit without claim ``i``; NaN for ``k == 1`` (see :func:`leave_one_out`).

    Notes
    -----
    A claim consistent with the others is approximately standard normal, so ``|z| > 1.96`` is
    the usual flag (Viechtbauer & Cheung 2010, doi:10.1002/jrsm.11).
    """
    return _studentized_residuals(estimator, y, v)


def _studentized_residuals(estimator: Estimator, y: npt.ArrayLike, v: npt.ArrayLike) -> FloatArray:
    data, fits = _deleted_fits(estimator, y, v)
    out = np.full(data.k, math.nan, dtype=np.float64)
    for i, f in enumerate(fits):
        if f is not None:
            out[i] = (data.y[i] - f.mu) / math.sqrt(data.v[i] + f.tau2 + f.se**2)
    return out
