"""The EM loop, written against whole questions held anywhere: one process or many.

Every decision the loop takes -- the M-step, the bias recentring, when to look for rival
modes, when EM has converged -- reads only (S,) sums over the sources (:mod:`models.batch.sums`)
and each question's move |Δμ_q|/τ_q. :func:`run_em` therefore drives any
:class:`QuestionSet`: :class:`LocalQuestions` keeps one encoded table in this process (the
local estimator), and a distributed engine keeps partitions of whole questions on workers,
each running :func:`start_part` and :func:`step_part`, and hands the loop the added sums and the
concatenated moves. Both take the same decisions from the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np

from models.batch.common import EPS, FloatArray
from models.batch.em import e_step
from models.batch.mode import initial_centre
from models.batch.state import Encoded, Hyper, Params, Posterior, SourcePrior
from models.batch.sums import (
    SourceSums,
    recentre_sources,
    settled,
    source_change,
    source_sums,
    update_sources,
)


@dataclass(frozen=True, slots=True)
class Step:
    """What one E-step reports to the loop.

    Attributes
    ----------
    sums : SourceSums
        Of the new posterior, at the parameters of that E-step.
    moved : (Q,) float
        |Δμ_q| / max(τ_q, 1e-12) of every question (empty after the first E-step).
    hops : int
        Questions that moved to a rival mode.
    carried : int or None
        Questions on the Gaussian path, whose μ_q the E-step moves by one IRLS step from
        where the previous one left it (state beyond the sources' parameters); None when not
        reported.
    """

    sums: SourceSums
    moved: FloatArray
    hops: int
    carried: int | None = None


class QuestionSet(Protocol):
    """Whole questions that the EM loop can run E-steps on, wherever they are held."""

    @property
    def n_questions(self) -> int:
        """Q, the number of questions."""

    @property
    def has_atoms(self) -> bool:
        """Whether any question has an atom (an agreed figure)."""

    def start(self, params: Params, hyper: Hyper) -> Step:
        """Start every μ_q at its weighted median and run the first E-step (with hopping)."""

    def step(self, params: Params, shift: float, hop: bool, hyper: Hyper) -> Step:
        """Move every μ_q by ``shift``, then run one E-step at ``params``."""

    def probe(self, params: Params, hyper: Hyper) -> Step:
        """One E-step at ``params`` from the stored posterior, which it leaves as it was.

        The sensitivity check's E-steps (:mod:`models.batch.sensitivity`) use it: had they
        stored their posterior, the intervals' E-step would start from their modes and the
        questions' answers would depend on whether the check ran.
        """


def start_part(
    enc: Encoded, params: Params, hyper: Hyper, keep_panels: bool = False
) -> tuple[Posterior, Step]:
    """The first E-step of some whole questions, from their weighted medians.

    Parameters
    ----------
    enc : Encoded
    params : Params
    hyper : Hyper
    keep_panels : bool
        Whether the posterior keeps its exact questions' panels (:func:`~models.batch.em.e_step`).

    Returns
    -------
    Posterior
    Step
    """
    mu = initial_centre(enc, params)
    post, hops = e_step(enc, params, mu, True, hyper, keep_panels)
    return post, Step(source_sums(enc, post, params, hyper), np.zeros(0), hops, _carried(post))


def step_part(
    enc: Encoded, post: Posterior, params: Params, shift: float, hop: bool, hyper: Hyper,
    keep_panels: bool = False,
) -> tuple[Posterior, Step]:
    """One E-step of some whole questions after the recentring's shift of every μ_q.

    Parameters
    ----------
    enc : Encoded
    post : Posterior
        The previous E-step's.
    params : Params
        The new source parameters.
    shift : float
        δ from :func:`~models.batch.sums.recentre_sources`.
    hop : bool
    hyper : Hyper
    keep_panels : bool
        Whether the new posterior keeps its exact questions' panels.

    Returns
    -------
    Posterior
    Step
    """
    new_post, hops = e_step(enc, params, post.mu + shift, hop, hyper, keep_panels)
    # A question has settled when its answer stops moving from one E-step to the next. The
    # recentring's shift is not such a move: where the sources have settled the E-step takes
    # it back, and counted as a move a steady shift kept questions "unsettled" for ever (a
    # Gaussian-path question at 0.34 τ a step, an exact one pinned at an agreed figure).
    moved = np.abs(new_post.mu - post.mu) / np.maximum(new_post.tau, 1e-12)
    return new_post, Step(source_sums(enc, new_post, params, hyper), moved, hops,
                          _carried(new_post))


def _carried(post: Posterior) -> int:
    """Questions whose posterior is the Gaussian path's (not recomputed from the sources)."""
    return int(post.exact.shape[0] - np.count_nonzero(post.exact))


class LocalQuestions:
    """One encoded table in this process; keeps its latest posterior in :attr:`post`.

    The posterior keeps its exact questions' panels, so that the fit's quantiles need not
    rebuild the last E-step's (:class:`~models.batch.panels.Panels`); a step drops the
    previous posterior's before building its own, so one set is held at a time.
    """

    def __init__(self, enc: Encoded) -> None:
        self.enc = enc
        self.post: Posterior | None = None

    @property
    def n_questions(self) -> int:
        return self.enc.n_questions

    @property
    def has_atoms(self) -> bool:
        return bool(self.enc.atom_q.shape[0] > 0)

    def start(self, params: Params, hyper: Hyper) -> Step:
        self.post = None
        self.post, report = start_part(self.enc, params, hyper, keep_panels=True)
        return report

    def step(self, params: Params, shift: float, hop: bool, hyper: Hyper) -> Step:
        if self.post is None:
            raise RuntimeError("step() before start()")
        self.post = replace(self.post, panels=None)
        self.post, report = step_part(self.enc, self.post, params, shift, hop, hyper,
                                      keep_panels=True)
        return report

    def probe(self, params: Params, hyper: Hyper) -> Step:
        if self.post is None:
            raise RuntimeError("probe() before start()")
        _, report = step_part(self.enc, replace(self.post, panels=None), params, 0.0, False,
                              hyper)
        return report


@dataclass(frozen=True, slots=True)
class Outcome:
    """Where :func:`run_em` stopped: parameters, prior, last sums, iterations, convergence."""

    params: Params
    prior: SourcePrior
    sums: SourceSums
    iterations: int
    converged: bool


def without_atoms(
    questions: QuestionSet, params: Params, prior: SourcePrior
) -> tuple[Params, SourcePrior]:
    """The starting parameters and prior, with η = 0 when no question has an atom."""
    if questions.has_atoms:
        return params, prior
    # No agreed figure anywhere: no exact copying to learn (η = 0).
    params = Params(params.c, np.full(params.c.shape[0], EPS), params.sigma, params.beta)
    return params, replace(prior, population=replace(prior.population, exact_share=EPS))


def hop_due(iteration: int, max_iter: int, refine_iter: int, checked_hop: bool) -> bool:
    """Whether E-step ``iteration`` looks for rival modes.

    Mode hopping costs a pass over pairs of claims; look at iterations 1, 2, 4, 8, … (a short
    refining run: only at its end) and once more whenever EM seems to have converged
    (``checked_hop`` false).
    """
    power = (iteration & (iteration - 1)) == 0 and max_iter > refine_iter
    return power or iteration == max_iter or not checked_hop


def averaged_settled(report: Step, change: float, tol: float, n_questions: int,
                     iteration: int, least: int) -> bool:
    """run_em's convergence test: the sources' claim-averaged move under ``tol``, 99 % of the
    questions settled, at most one question in a thousand hopped, after ``least`` iterations."""
    return (settled(report.moved) and change < tol and report.hops <= n_questions // 1000
            and iteration >= least)


def run_em(
    questions: QuestionSet, params: Params, prior: SourcePrior, hyper: Hyper, *,
    done: int, max_iter: int, refine_iter: int, tol: float, spreads: bool = True,
    least: int = 1, progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """EM from ``params`` until convergence or ``max_iter`` iterations.

    Each iteration is an M-step (:func:`~models.batch.sums.update_sources` on the sums of
    the last E-step), the bias recentring (which moves every μ_q by the same shift) and an
    E-step; mode hopping runs on iterations 1, 2, 4, 8, … (a short refining run of at most
    ``refine_iter`` iterations: only at its end) and whenever EM looks converged, which it is
    once the sources' credibility (and, with ``spreads``, log-spread) moves by less than
    ``tol`` (averaged over the claims), 99 % of the μ_q move by less than τ_q/4 and at most
    one question in a thousand hopped.

    Parameters
    ----------
    questions : QuestionSet
    params : Params
        Starting source parameters.
    prior : SourcePrior
    hyper : Hyper
    done : int
        Iterations already run (of a warm start), for ``progress``.
    max_iter, refine_iter : int
    tol : float
    spreads : bool
        Whether the spreads must settle too (not on a warm start's sample, where most
        sources have a handful of claims and the full data soon move their σ_s).
    least : int
        Fewest iterations before the convergence test may stop the loop (a warm start's
        full table: ``refine_iter``).
    progress : callable(iteration, total), optional

    Returns
    -------
    Outcome
        With the last E-step's sums, ``done`` plus the iterations run here.
    """
    params, prior = without_atoms(questions, params, prior)
    report = questions.start(params, hyper)
    checked_hop = True
    converged = False
    iteration = 0
    total = done + max_iter
    for iteration in range(1, max_iter + 1):
        new_params, population = update_sources(report.sums, params, prior, hyper)
        prior = replace(prior, population=population)
        new_params, shift = recentre_sources(report.sums.n_eff, new_params, prior, hyper)
        hop = hop_due(iteration, max_iter, refine_iter, checked_hop)
        claims = report.sums.claims
        report = questions.step(new_params, shift, hop, hyper)
        # Converged when the sources' credibility and log-spread move by less than tol on
        # average over the claims, and 99 % of the questions' centres by less than a
        # quarter of their own uncertainty. EM then creeps along flat ridges (all biases
        # against all θ_q, which only the bias prior pins): waiting for them costs many
        # iterations and moves no estimate visibly. The spreads count: with two claims per
        # question θ is pinned loosely, EM moves σ_s slowly, and stopping on c alone left
        # them ~5 % high (50 % intervals covered 52 %; bench/batch_sparse.py).
        change = source_change(claims, params, new_params, spreads)
        params = new_params
        if progress is not None:
            progress(done + iteration, total)
        # A few questions may keep trading two near-equal modes; they count as settled.
        if averaged_settled(report, change, tol, questions.n_questions, iteration, least):
            if hop:
                converged = True
                break
            checked_hop = False
        else:
            checked_hop = True
    return Outcome(params, prior, report.sums, done + iteration, converged)
