"""SQUAREM: the EM loop of :mod:`models.batch.loop` with squared extrapolation of the sources.

One EM iteration is a map of the sources' parameters, x ↦ F(x): an E-step over every question at
x, then the M-step (:func:`~models.batch.sums.update_sources`) and the bias recentring. EM
converges linearly, slowly where the sources and the questions' truths trade along flat
directions; SQUAREM (Varadhan & Roland 2008, scheme S3) takes two EM steps, x₁ = F(x₀) and
x₂ = F(x₁), and jumps along them:

    r = x₁ − x₀,    v = x₂ − 2x₁ + x₀,    α = −‖r‖/‖v‖,
    x' = x₀ − 2α r + α² v,

then one stabilising EM step, x₀ ← F(x'). α = −1 gives x' = x₂, two plain EM steps, so α is
clipped to ≤ −1; its magnitude is capped, the cap growing fourfold after a jump with α at
the cap is kept and shrinking back when a step fails (the defaults of the authors' SQUAREM
package: step.max0 = 1, mstep = 4). The parameters are extrapolated on an unconstrained scale:
logit c_s and logit η_s, log σ_s and β_s.
An extrapolation that leaves them non-finite steps back halfway towards α = −1; one whose EM
residual ‖F(x') − x'‖ exceeds the residual ‖r‖ it started from (the monitor: the model's
marginal likelihood is not available over the mixed exact and Laplace posteriors) is dropped for
the plain x₂. A cycle costs three E-steps (at x₁, x', F(x')); plain EM's convergence test
(:func:`~models.batch.loop.run_em`) is applied after every E-step that follows a plain M-step,
so the loop stops at the same criterion as EM and returns the posterior of the E-step at its
parameters.

The norms are weighted by each source's claims, as the convergence test's move is, so that a
source with a handful of claims near c = 1 (where logit c moves much) does not set α.

F is a map of the sources alone only where the E-step recomputes every question's posterior
from them: the exact path (questions of at most ``exact_claims`` claims). A question on the
Gaussian path carries μ_q from one E-step to the next (one IRLS step each); an extrapolated x'
meets μ_q that lag it, and the steps after the jump undo its gain. Extrapolating μ_q with the
sources, or a second E-step at x' to settle them, did not help either (docs/benchmarks.md,
batch section, session 10). So a cycle extrapolates only when at most ``CARRIED_SHARE`` of the
questions took the Gaussian path in the E-step at x₁ (:func:`stateless`); otherwise the loop
takes plain EM steps and is :func:`~models.batch.loop.run_em` step for step. The μ_q it does
carry follow the sources: the E-step at x' starts from x₁'s, shifted by the extrapolated
recentring.

Since session 11 the estimator runs :func:`models.batch.persource.run_persource` instead, which
takes this scheme's jump with one step length per source (an independent review found this
loop's global α parking a source at another point than plain EM's fixed point on some 1-3-claim
archives); :func:`run_squarem` stays as the global-α variant, and :func:`pack` and
:func:`unpack` serve both.

References
----------
Varadhan, R. & Roland, C. (2008). Simple and globally convergent methods for accelerating the
convergence of any EM algorithm. Scandinavian Journal of Statistics 35(2), 335-353.
doi:10.1111/j.1467-9469.2007.00585.x.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from models.batch.common import EPS, MIN_SPREAD, FloatArray
from models.batch.loop import Outcome, QuestionSet, Step, without_atoms
from models.batch.state import Hyper, Params, SourcePrior
from models.batch.sums import recentre_sources, settled, source_change, update_sources

#: SQUAREM's cap on |α|: it starts at 1 (two plain EM steps), grows by MSTEP when a jump with α
#: at the cap is kept and falls back by MSTEP after a failed step (Varadhan & Roland's defaults).
STEP_MAX0 = 1.0
MSTEP = 4.0
#: Largest share of the questions on the Gaussian path at which SQUAREM still extrapolates
#: (:func:`stateless`). Measured only at the two ends: none (two or three claims a question,
#: 1.3-2.4x fewer E-steps) and nearly all (ten claims, about twice as many). 1 %, a choice
#: not measured in between, leaves too few lagging μ_q to move the sources' sums much.
CARRIED_SHARE = 0.01


def pack(p: Params) -> FloatArray:
    """The sources' parameters on the unconstrained scale: logit c, logit η, log σ, β."""
    return np.concatenate([np.log(p.c / (1.0 - p.c)), np.log(p.eta / (1.0 - p.eta)),
                           np.log(p.sigma), p.beta])


def stateless(report: Step, n_questions: int) -> bool:
    """Whether the E-step behind ``report`` was (nearly) a function of the sources alone.

    A question on the Gaussian path carries its μ_q from one E-step to the next (one IRLS step
    each), so EM there is a map of the sources *and* the μ_q; an extrapolated x' meets μ_q
    that lag it, and the steps after the jump undo what it gained (the 100,000-claim
    archive's ten-claim questions: 25 E-steps to plain EM's 13). The exact path's
    posterior is recomputed from the sources every E-step.
    """
    return report.carried is not None and report.carried <= CARRIED_SHARE * n_questions


def unpack(u: FloatArray, n_sources: int) -> Params | None:
    """The inverse of :func:`pack`, within the M-step's own bounds; None when not finite."""
    if not np.isfinite(u).all():
        return None
    c, eta, log_sigma, beta = (u[k * n_sources:(k + 1) * n_sources] for k in range(4))
    with np.errstate(over="ignore"):
        # exp(−logit) overflows to inf for a logit below −709: the probability is then 0,
        # clipped to EPS like the M-step's.
        c_p = np.clip(1.0 / (1.0 + np.exp(-c)), EPS, 1.0 - EPS)
        eta_p = np.clip(1.0 / (1.0 + np.exp(-eta)), EPS, 1.0 - EPS)
        sigma = np.maximum(np.exp(log_sigma), MIN_SPREAD)
    if not np.isfinite(sigma).all():
        return None
    return Params(c_p, eta_p, sigma, beta.copy())


@dataclass
class _Clock:
    """Plain EM's schedule of mode hopping and its convergence test, counted in E-steps."""

    n_questions: int
    max_iter: int
    refine_iter: int
    least: int
    tol: float
    spreads: bool
    iteration: int = 0
    checked_hop: bool = True

    def hop(self) -> bool:
        """Whether the next E-step looks for rival modes (as in run_em)."""
        it = self.iteration + 1
        power = (it & (it - 1)) == 0 and self.max_iter > self.refine_iter
        return power or it == self.max_iter or not self.checked_hop

    def check(self, claims: FloatArray, old: Params, new: Params, report: Step,
              hop: bool) -> bool:
        """Run_em's test after the E-step at ``new = F(old)``: True when converged."""
        change = source_change(claims, old, new, self.spreads)
        if (settled(report.moved) and change < self.tol
                and report.hops <= self.n_questions // 1000 and self.iteration >= self.least):
            if hop:
                return True
            self.checked_hop = False
        else:
            self.checked_hop = True
        return False


def run_squarem(
    questions: QuestionSet, params: Params, prior: SourcePrior, hyper: Hyper, *,
    done: int, max_iter: int, refine_iter: int, tol: float, spreads: bool = True,
    least: int = 1, progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """EM accelerated by SQUAREM (S3) from ``params`` until convergence or ``max_iter`` E-steps.

    The parameters and the result are :func:`~models.batch.loop.run_em`'s; ``iterations``
    counts E-steps after the first, as there.

    Parameters
    ----------
    questions : QuestionSet
    params : Params
    prior : SourcePrior
    hyper : Hyper
    done : int
    max_iter, refine_iter : int
    tol : float
    spreads : bool
    least : int
    progress : callable(iteration, total), optional

    Returns
    -------
    Outcome
    """
    params, prior = without_atoms(questions, params, prior)
    n_s = params.c.shape[0]
    clock = _Clock(questions.n_questions, max_iter, refine_iter, least, tol, spreads)
    total = done + max_iter
    report = questions.start(params, hyper)
    step_max = STEP_MAX0
    converged = False

    def m_step(rep: Step, p: Params, pr: SourcePrior) -> tuple[Params, SourcePrior, float]:
        new, population = update_sources(rep.sums, p, pr, hyper)
        pr = replace(pr, population=population)
        new, shift = recentre_sources(rep.sums.n_eff, new, pr, hyper)
        return new, pr, shift

    def e_step(p: Params, shift: float) -> tuple[Step, bool]:
        hop = clock.hop()
        rep = questions.step(p, shift, hop, hyper)
        clock.iteration += 1
        if progress is not None:
            progress(done + clock.iteration, total)
        return rep, hop

    while clock.iteration < max_iter:
        claims = report.sums.claims
        # x₁ = F(x₀): a plain EM step, tested for convergence like run_em's.
        x1, prior, d1 = m_step(report, params, prior)
        report, hop = e_step(x1, d1)
        x0, params = params, x1
        if clock.check(claims, x0, x1, report, hop):
            converged = True
            break
        if clock.iteration + 2 > max_iter or not stateless(report, questions.n_questions):
            # No room for a cycle (plain steps to the cap), or the E-step is not a map of the
            # sources alone: plain steps.
            continue
        # x₂ = F(x₁) costs no E-step; its E-step is needed only if the jump is dropped.
        x2, prior2, d2 = m_step(report, x1, prior)
        u0, u1 = pack(x0), pack(x1)
        r = u1 - u0
        v = pack(x2) - 2.0 * u1 + u0
        weight = np.tile(claims, 4) / claims.sum()
        norm_r = float(np.sqrt(weight @ (r * r)))
        norm_v = float(np.sqrt(weight @ (v * v)))
        alpha = min(max(norm_r / norm_v, 1.0), step_max) if norm_v > 0 else 1.0
        jump = unpack(u0 + 2.0 * alpha * r + alpha * alpha * v, n_s)
        while jump is None and alpha > 1.0:
            # Not a valid parameter: step back halfway towards α = −1 (which is x₂).
            alpha = max(1.0, (alpha + 1.0) / 2.0)
            jump = unpack(u0 + 2.0 * alpha * r + alpha * alpha * v, n_s)
        # The cap grows only after a jump at the cap is kept (Varadhan & Roland's package):
        # grown before the monitor, a rejection shrank it back and the same too-long α was
        # tried again (an independent review counted 14 rejections in a row at α = 4).
        at_cap = alpha >= step_max
        if jump is not None and alpha > 1.0:
            # The questions' centres follow the recentring, extrapolated like the biases
            # (cumulative shifts 0, d₁, d₁ + d₂ at x₀, x₁, x₂); they sit at x₁'s now.
            shift = 2.0 * alpha * d1 + alpha * alpha * (d2 - d1) - d1
            report, hop = e_step(jump, shift)
            stable, prior_s, d_s = m_step(report, jump, prior2)
            residual = pack(stable) - pack(jump)
            if float(np.sqrt(weight @ (residual * residual))) <= norm_r:
                # The stabilising step: x₀ ← F(x'), tested like a plain step.
                if at_cap:
                    step_max *= MSTEP
                report, hop = e_step(stable, d_s)
                params, prior = stable, prior_s
                if clock.check(claims, jump, stable, report, hop):
                    converged = True
                    break
                continue
            # The monitor: the jump landed where EM moves further than where it started;
            # drop it for the plain x₂ (the loop left room for its E-step).
            step_max = max(STEP_MAX0, step_max / MSTEP)
            back = d2 - shift
        else:
            # α = −1: x' is x₂, a plain EM step (at a cap of 1, the jump itself, kept).
            if at_cap:
                step_max *= MSTEP
            back = d2
        report, hop = e_step(x2, back)
        params, prior = x2, prior2
        if clock.check(claims, x1, x2, report, hop):
            converged = True
            break
    return Outcome(params, prior, report.sums, done + clock.iteration, converged)
