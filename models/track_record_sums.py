"""The track-record EM as additive reductions: per-group sums over resolved claims.

Every quantity the EM of :mod:`models.track_record` takes from the claims, in each of its steps,
is a sum over rows grouped by source, by source type or by hypothesis (the symbols are those of
that module's docstring):

========================  =====================================================================
step                      per-group sums
========================  =====================================================================
:func:`totals_sums`       n = Σ w_i, Σ |log f_i| (whether any hedge changes the odds)
:func:`e_step_sums`       Σ w_i g_ik (target of c), Σ w_i g_ik ρ_ik r_i, Σ w_i g_ik ρ_ik (β)
:func:`hedge_sums`        Σ w_i c'_ik, Σ w_i c'_ik (1 − c'_ik) (Newton steps on logit c; the
                          first two are taken with the E-step's and the EM σ step's sums)
:func:`sigma_em_sums`     Σ γ_i E[e_i²], Σ γ_i (the EM σ step), γ_i = w_i g_ik on point claims
:func:`sigma_q_sums`      Σ γ_i [−½ log v_i − ½ d_i²/v_i], Σ γ_i a_i (z_i − 1),
                          Σ γ_i [2 a_i (1 − a_i)(z_i − 1) − 2 a_i² z_i] at a trial log σ
                          (the ECME objective Q and its derivatives Q′, Q″ without the prior's
                          terms, which the driver adds: :func:`models.track_record.em.update_sigma`)
:func:`evidence_sums`     Σ w_i log p_k(r_i) (the posterior over hypotheses)
:func:`count_sums`        claims, questions, intervals, hits, points, near misses per source
========================  =====================================================================

Each step function takes one set of whole questions (a :class:`Residuals`, regrouped by
:func:`regroup`), the number of groups and the parameters of the current iteration, and
returns a (k, groups) array; sums over disjoint sets of questions add. The weights w_i count a
source's claims on one question once, so a set must hold whole questions. The responsibilities
g_ik are recomputed from the iteration's parameters inside each step, so that a part keeps no
state between steps. :class:`LocalRows` takes the sums in this process; a distributed engine
(:mod:`service.batch.dask_records`) maps the same functions over partitions on workers and adds
their results, so both run the same EM, differing only in the order of the additions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from models.credibility import HIT_TOLERANCE
from models.encode import WRONG_SPREAD
from models.likelihood import (
    FloatArray,
    IntArray,
    log_cauchy_interval,
    log_cauchy_point,
    log_normal_interval,
    log_normal_point,
)

__all__ = ["Grouping", "LocalRows", "Residuals", "RowSums", "count_sums", "e_step_sums",
           "evidence_sums", "hedge_sums", "hedged_log_c", "regroup", "sigma_em_sums",
           "sigma_q_sums", "totals_sums"]

#: A step function: (rows, number of groups, *parameters) -> (k, groups) sums.
Step = Callable[..., FloatArray]


@dataclass(frozen=True, slots=True)
class Residuals:
    """Resolved claims as arrays on the working scale (one row per claim, or per claim and
    hypothesis once expanded)."""

    group: IntArray  # source (type, or hypothesis) index per row
    weight: FloatArray  # w_i: 1 / claims of the source on the question
    point: NDArray[np.bool_]  # True for point claims
    r: FloatArray  # residual of point claims (0 elsewhere)
    lo: FloatArray  # for bounds/ranges: stated interval minus truth (±inf open)
    hi: FloatArray
    h: FloatArray  # hedge spread factor h_i
    log_f: FloatArray  # log of the hedge's factor on the odds of being wrong
    s2: FloatArray  # the claim's own variance s_i² on the working scale
    contains: NDArray[np.bool_]  # stated interval (bound, range, CI) contains the truth
    has_interval: NDArray[np.bool_]

    def take(self, rows: IntArray, group: IntArray) -> Residuals:
        """The rows ``rows`` (repeated as needed), regrouped by ``group``."""
        return Residuals(group, self.weight[rows], self.point[rows], self.r[rows],
                         self.lo[rows], self.hi[rows], self.h[rows], self.log_f[rows],
                         self.s2[rows], self.contains[rows], self.has_interval[rows])


@dataclass(frozen=True, slots=True, eq=False)
class Grouping:
    """How rows grouped by source are regrouped for one EM fit (compared by identity).

    Attributes
    ----------
    kind : {"source", "type", "hypothesis"}
    size : int
        Number of groups.
    type_of : (S,) int, optional
        ``"type"``: the type index of each source.
    start, count : (S,) int, optional
        ``"hypothesis"``: each source's first hypothesis and number of hypotheses.
    """

    kind: str
    size: int
    type_of: IntArray | None = None
    start: IntArray | None = None
    count: IntArray | None = None


def regroup(res: Residuals, grouping: Grouping) -> Residuals:
    """``res`` (grouped by source) regrouped: by type, or one row per (claim, hypothesis)."""
    if grouping.kind == "type" and grouping.type_of is not None:
        return replace(res, group=grouping.type_of[res.group])
    if grouping.kind == "hypothesis" and grouping.start is not None \
            and grouping.count is not None:
        per_claim = grouping.count[res.group]
        rows = np.repeat(np.arange(res.group.shape[0], dtype=np.int64), per_claim)
        first = np.repeat(np.cumsum(per_claim) - per_claim, per_claim)
        hyp = grouping.start[res.group[rows]] + (np.arange(rows.shape[0], dtype=np.int64)
                                                 - first)
        return res.take(rows, hyp.astype(np.int64))
    return res


class RowSums(Protocol):
    """Sums of a step function over every part of the rows, regrouped by ``grouping``."""

    def __call__(self, grouping: Grouping, step: Step, *args: Any) -> FloatArray:
        """``Σ_parts step(regroup(part, grouping), grouping.size, *args)``."""
        ...


class LocalRows:
    """:class:`RowSums` over parts held in this process (each regrouping built once)."""

    def __init__(self, parts: Sequence[Residuals]) -> None:
        self._parts = tuple(parts)
        self._views: dict[Grouping, list[Residuals]] = {}

    def __call__(self, grouping: Grouping, step: Step, *args: Any) -> FloatArray:
        views = self._views.get(grouping)
        if views is None:
            views = self._views[grouping] = [regroup(p, grouping) for p in self._parts]
        total = step(views[0], grouping.size, *args)
        for view in views[1:]:
            total = total + step(view, grouping.size, *args)
        return total


def hedged_log_c(c: FloatArray, log_f: FloatArray) -> tuple[FloatArray, FloatArray]:
    """log c' and log(1 − c') with odds of being wrong multiplied by f (as models.encode)."""
    log_odds = log_f + np.log1p(-c) - np.log(c)
    log_1p_odds = np.logaddexp(0.0, log_odds)
    return -log_1p_odds, log_odds - log_1p_odds


def log_right_wrong(
    res: Residuals, c: FloatArray, beta: FloatArray, sigma: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """log c' f_right, log (1 − c') f_wrong and v per row, as in models.likelihood."""
    g = res.group
    v = (sigma[g] * res.h) ** 2 + res.s2
    s = np.sqrt(v)
    s_w = np.maximum(WRONG_SPREAD, 2.0 * s)
    right = log_normal_point((res.r - beta[g]) / s, s)
    wrong = log_cauchy_point(res.r / s_w, s_w)
    iv = np.flatnonzero(~res.point)
    if iv.size:
        # Interval claims: the source's perceived offset β + e must fall in [lo, hi].
        b_iv, s_iv, w_iv = beta[g[iv]], s[iv], s_w[iv]
        with np.errstate(invalid="ignore", divide="ignore"):
            right[iv] = log_normal_interval((res.lo[iv] - b_iv) / s_iv,
                                            (res.hi[iv] - b_iv) / s_iv)
            wrong[iv] = log_cauchy_interval(res.lo[iv] / w_iv, res.hi[iv] / w_iv)
    log_c, log_1mc = hedged_log_c(c[g], res.log_f)
    return log_c + right, log_1mc + wrong, v


def _sum(res: Residuals, n_groups: int, *rows: FloatArray) -> FloatArray:
    return np.stack([np.bincount(res.group, weights=x, minlength=n_groups).astype(np.float64)
                     for x in rows])


def _responsibilities(
    res: Residuals, c: FloatArray, sigma: FloatArray, beta: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """γ_i = w_i g_ik on point claims (0 elsewhere), g_ik, and v_ik at the iteration's start."""
    log_r, log_w, v = log_right_wrong(res, c, beta, sigma)
    g = np.exp(log_r - np.logaddexp(log_r, log_w))
    return g * (res.point.astype(np.float64) * res.weight), g, v


def totals_sums(res: Residuals, n_groups: int) -> FloatArray:
    """(2, G): n = Σ w_i and Σ |log f_i| (positive when a hedge changes the odds)."""
    return _sum(res, n_groups, res.weight, np.abs(res.log_f))


def e_step_sums(res: Residuals, n_groups: int, c: FloatArray, sigma: FloatArray,
                beta: FloatArray, hedge_c: FloatArray | None = None) -> FloatArray:
    """(3, G): Σ w g, Σ γ ρ r and Σ γ ρ at the iteration's (c, σ, β), ρ = σ² / v; then, when
    ``hedge_c`` is given, the two rows of :func:`hedge_sums` at it (5, G)."""
    gp, g, v = _responsibilities(res, c, sigma, beta)
    rho = sigma[res.group] ** 2 / v
    out = _sum(res, n_groups, res.weight * g, gp * rho * res.r, gp * rho)
    return out if hedge_c is None else np.vstack([out, hedge_sums(res, n_groups, hedge_c)])


def hedge_sums(res: Residuals, n_groups: int, c: FloatArray) -> FloatArray:
    """(2, G): Σ w c' and Σ w c'(1 − c') at c (the hedged probabilities of being right)."""
    ch = np.exp(hedged_log_c(c[res.group], res.log_f)[0])
    return _sum(res, n_groups, res.weight * ch, res.weight * ch * (1.0 - ch))


def sigma_em_sums(res: Residuals, n_groups: int, c: FloatArray, sigma: FloatArray,
                  beta: FloatArray, beta_new: FloatArray,
                  hedge_c: FloatArray | None = None) -> FloatArray:
    """(2, G): Σ γ E[e²] and Σ γ, E[e²] = (σ² h d / v)² + σ² s² / v with d = r − β_new; then,
    when ``hedge_c`` is given, the two rows of :func:`hedge_sums` at it (4, G)."""
    gp, _, v = _responsibilities(res, c, sigma, beta)
    s2 = sigma[res.group] ** 2
    dev = res.r - beta_new[res.group]
    e2 = (s2 * res.h * dev / v) ** 2 + s2 * res.s2 / v
    out = _sum(res, n_groups, gp * e2, gp)
    return out if hedge_c is None else np.vstack([out, hedge_sums(res, n_groups, hedge_c)])


def sigma_q_sums(res: Residuals, n_groups: int, c: FloatArray, sigma: FloatArray,
                 beta: FloatArray, beta_new: FloatArray, u: FloatArray) -> FloatArray:
    """(3, G): the claims' part of Q(u), Q′(u) and Q″(u) at log σ = u (see
    :func:`models.track_record.em.update_sigma`), with γ and d from the iteration's start."""
    gp, _, _ = _responsibilities(res, c, sigma, beta)
    dev2 = np.where(res.point, res.r - beta_new[res.group], 0.0) ** 2
    s2 = np.exp(2.0 * u)
    v = s2[res.group] * res.h**2 + res.s2
    a = s2[res.group] * res.h**2 / v
    z = dev2 / v
    return _sum(res, n_groups, gp * (-0.5 * np.log(v) - 0.5 * dev2 / v), gp * a * (z - 1.0),
                gp * (2.0 * a * (1.0 - a) * (z - 1.0) - 2.0 * a**2 * z))


def evidence_sums(res: Residuals, n_groups: int, c: FloatArray, sigma: FloatArray,
                  beta: FloatArray) -> FloatArray:
    """(1, G): Σ w log p(r) at the given parameters."""
    log_r, log_w, _ = log_right_wrong(res, c, beta, sigma)
    return _sum(res, n_groups, res.weight * np.logaddexp(log_r, log_w))


def count_sums(res: Residuals, n_groups: int) -> FloatArray:
    """(6, G): claims, questions (Σ w), stated intervals, intervals containing the truth,
    point claims, and point claims within HIT_TOLERANCE of the truth."""
    ones = np.ones(res.group.shape[0])
    return _sum(res, n_groups, ones, res.weight, res.has_interval.astype(float),
                (res.contains & res.has_interval).astype(float), res.point.astype(float),
                (res.point & (np.abs(res.r) < HIT_TOLERANCE)).astype(float))
