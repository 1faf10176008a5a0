"""SQUAREM with one step length per source, and a stopping rule in each source's own half-widths.

EM for the batch model moves most sources to their fixed point in a few iterations, but some
creep along a ridge of their own: a source whose spread σ_s starts too small counts its wider
right claims as wrong, so its credibility c_s stays low, and the M-step then learns σ_s from
the few claims it still counts right; each iteration widens σ_s and raises c_s a little. On the
100,000-claim bench (bench/batch_refine.py) a 28-claim source went from (0.30, 0.12) to its fixed
point (0.95, 0.73) over some 50 E-steps, at a contraction 1.0-1.2 a step (accelerating) and
then 0.7-0.9, while every question had settled. Averaged over the claims, its move of ~0.02 a
step hid behind a thousand settled sources and the fit stopped with it shown at 0.46 [0.28,
0.69], 2.4 of its half-widths from where EM was going.

Global SQUAREM (:mod:`models.batch.squarem`, Varadhan & Roland 2008, scheme S3) takes one step
length α for all the sources, which the fast ones (and the questions' μ_q that the Gaussian path
carries from one E-step to the next) set; it was therefore only used where no question carries
μ_q. Here each source s takes its own:

    r_s = x₁,s − x₀,s,    v_s = x₂,s − 2x₁,s + x₀,s,    α_s = clip(‖r_s‖/‖v_s‖, 1, cap_s),
    x'_s = x₀,s + 2α_s r_s + α_s² v_s,

over the source's own unconstrained parameters (logit c_s, logit η_s, log σ_s, β_s), the
scheme applied coordinate-block-wise. A source that has settled has α_s = 1, x'_s = x₂,s: it
is not moved, and neither are the μ_q of the questions that only settled sources answer. The
monitor is per source too: the step from x' back out, ‖F(x')_s − x'_s‖, must not exceed the
‖r_s‖ it started from, unless it points the jump's way (cosine > ``FORWARD``) and is at most
``GROWTH`` ‖r_s‖ (a ridge EM climbs at a growing pace, where every jump forward lands where EM
moves faster); a source whose jump fails it is put back at x₂,s (one E-step lost for it,
none for the others), and its cap shrinks; a kept jump at the cap grows it fourfold
(Varadhan & Roland's step.max0 = 1, mstep = 4). A cycle costs three E-steps (at x₁, x', and
the x₀ of the next cycle), as plain EM's three iterations.

Burn-in. No source is extrapolated until run_em's averaged move is under ``BURN_IN`` × tol;
until then each cycle is a plain EM step. On archives of 1-3 claims a question EM has several
fixed points: a source seen a few times reads as precise and often wrong (small σ_s, low c_s)
or as loose and right. Early per-source jumps crossed from the fixed point plain EM reaches to
another one, and the fit said ``converged`` there (0.58-1.85 of a credibility half-width off on
three simulated archives; an independent review found 13 of 39; docs/batch.md). The burn-in
makes acceleration a pure speed-up: the fit ends where plain EM from the same start does (13 of
the review's 14). That point usually, not always, has the higher objective (the sum over
questions of log Z_q with its atoms, :mod:`models.batch.em`, plus the sources' log-priors):
on two of the review's archives the accelerated point was higher (+4.6 and +1.9), and the
objective is no sure arbiter, since its spread prior rewards a learned dispersion of the
log-spreads at its floor. Against the truth plain EM's point was the better one for the
sources' credibility on 11 of 13. Varadhan & Roland's objective-based monotonicity control
(reject a jump whose objective is below its start's) was tried and kept one of the first three
archives from crossing: there the jumps that crossed raised the objective.

Stopping. :func:`~models.batch.loop.run_em`'s test averages one step's move over the claims.
Here, in addition, every source's estimated remaining distance must be small against what the
editor sees of it: with m_s the larger of |Δ logit c_s| over the half-width of the displayed
90 % interval of logit c_s (:func:`~models.batch.summary.logit_half_width`) and |Δ log σ_s|
over 1.645/√(2 (Σ r + ν)), the complete-data half-width of log σ_s, and λ_s the source's
contraction over the last two plain steps (m_s of the second over the first), the distance
left is at most m_s/(1 − λ_s) when λ_s < 1 (the geometric tail of a linear iteration,
Aitken's estimate plus the step itself); we require m_s/(1 − min(λ_s, 0.99)) < ``GAP`` for
every source. Only (S,) sums and parameters enter, so a distributed engine takes the same
decisions. The rule has a budget: once run_em's averaged test first holds, at E-step k, the
loop runs at most ``BUDGET`` × k E-steps in all, and then stops and reports that it has not
converged (the fit's ``not_converged`` warning) rather than spend without bound where sources
travel steadily (a million claims: 316 E-steps and still moving).

The tail. SQUAREM's step lengths are each source's own, and a slow direction shared by several
sources escapes them: where two precise sources answer the same questions the claims pin the
sum of their squared spreads, hardly the split, and plain EM trades spread between them at
0.985 an E-step (docs/batch.md). Once run_em's averaged test has held, the loop therefore goes
on with Anderson acceleration of the whole parameter vector (:mod:`models.batch.anderson`,
Walker & Ni 2011), which removes such a direction once its last few steps span it. The stopping
rule is the same; EM's own contraction λ_s is measured there only over two consecutive plain
steps (after an extrapolated one it is taken as ``RATE_MAX``). Two limits keep the tail from
ending worse than where it began. It runs only while no question is on the Gaussian path
(``Step.carried`` = 0): there the E-step moves each μ_q by one IRLS step from where the
previous one left it, so an E-step is not a function of the sources' parameters alone, and
Anderson's secant differences see a moving map (an independent review measured 41 → 85 E-steps
and `converged` lost on 6-10-claim archives; with every question exact the tail won). And it
keeps its best iterate (least residual ‖G(u) − u‖): after ``GIVE_UP`` consecutive restarts (the
residual grew at every push) or a residual over ``WORSE`` times the least, it goes back to that
iterate (one E-step) and the per-source SQUAREM loop runs the rest of the fit (the review's
1-10-claim archive with every question exact: 42 restarts in 57 steps, the residual rising for
35, and the fit 0.8 of a half-width off where the SQUAREM loop converged). Where the budget (or
``max_iter``) stops the fit inside the tail, it is reported, not converged, at that best
iterate too (one E-step there), not at the tail's last extrapolation.

References
----------
Walker, H. F. & Ni, P. (2011). Anderson acceleration for fixed-point iterations. SIAM Journal
on Numerical Analysis 49(4), 1715-1735. doi:10.1137/10079638X.
Varadhan, R. & Roland, C. (2008). Simple and globally convergent methods for accelerating the
convergence of any EM algorithm. Scandinavian Journal of Statistics 35(2), 335-353.
doi:10.1111/j.1467-9469.2007.00585.x.
Meng, X.-L. & Rubin, D. B. (1991). Using EM to obtain asymptotic variance-covariance matrices:
the SEM algorithm. JASA 86(416), 899-909. doi:10.1080/01621459.1991.10475130 (the rate of EM
along a parameter as its fraction of missing information).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from models.batch.anderson import Anderson
from models.batch.common import FloatArray
from models.batch.loop import (
    Outcome,
    QuestionSet,
    Step,
    averaged_settled,
    hop_due,
    without_atoms,
)
from models.batch.squarem import MSTEP, STEP_MAX0, pack, unpack
from models.batch.state import Hyper, Params, SourcePrior
from models.batch.summary import logit_half_width
from models.batch.sums import (
    SourceSums,
    recentre_sources,
    source_change,
    update_sources,
)

#: Largest estimated remaining distance of any source, in its own displayed 90 % half-widths,
#: at which the loop may stop (a quarter is what an editor could notice; the rate estimate is
#: crude, so a margin of 2.5).
GAP = 0.1
#: Contraction assumed before a source's rate has been measured, and the largest used (a
#: source that does not contract must have all but stopped moving).
RATE_MAX = 0.99
#: The monitor's allowance for a jump along a ridge that EM climbs at a growing pace: kept when
#: EM's next step points the jump's way (cosine above FORWARD) and is at most GROWTH times the
#: step the jump extrapolated.
FORWARD = 0.8
GROWTH = 3.0
#: The largest cap on a source's α (4⁵: a settled source's cap grows with every cycle).
CAP_MAX = MSTEP ** 5
#: z of the 90 % interval.
Z90 = 1.6448536269514722
#: Once run_em's own test (every source's move averaged over the claims, the questions
#: settled) first holds at E-step k, the per-source rule gets up to BUDGET × k E-steps in all;
#: past that the loop stops and says it has not converged. Where it converges the rule needed
#: 1.4-4× the E-steps (bench/batch_refine.py, the reviewers' archives); unbounded, a million
#: claims ran 16 + 300 E-steps (672 s of CPU against 46 s) without meeting it.
BUDGET = 4
#: No source is extrapolated until run_em's averaged move (the sources' credibility and
#: log-spread moves averaged over the claims) is under BURN_IN × tol: until then the loop is
#: plain EM. EM has several fixed points on archives of few claims a question, and early jumps
#: crossed to another one than plain EM reaches (docs/batch.md). Measured, not derived: 15 ×
#: tol still crossed on one archive of three; 10 × tol left 1 of the review's 14 apart.
BURN_IN = 10.0
#: The tail gives up after this many consecutive restarts of its history (each a residual
#: above the least since the last restart: the tail has become EM from a worse point) ...
GIVE_UP = 3
#: ... or once a residual exceeds the least it has seen this many times over.
WORSE = 2.0


def _blocks(u: FloatArray, n_s: int) -> FloatArray:
    """Per-source Euclidean norm of a packed vector (four blocks of S)."""
    b = u.reshape(4, n_s)
    return np.asarray(np.sqrt((b * b).sum(axis=0)), dtype=np.float64)


def _blocks_dot(a: FloatArray, b: FloatArray, n_s: int) -> FloatArray:
    """Per-source inner product of two packed vectors."""
    return np.asarray((a * b).reshape(4, n_s).sum(axis=0), dtype=np.float64)


def _scaled_move(sums: SourceSums, old: Params, new: Params, prior: SourcePrior,
                 hyper: Hyper) -> FloatArray:
    """m_s: each source's move in its own 90 % half-widths (credibility and spread)."""
    half_c = logit_half_width(sums, prior, hyper)
    d_c = np.abs(np.log(new.c / (1.0 - new.c)) - np.log(old.c / (1.0 - old.c)))
    half_s = Z90 / np.sqrt(2.0 * np.maximum(sums.rp, 0.0)
                           + 1.0 / prior.population.spread_dispersion)
    d_s = np.abs(np.log(new.sigma / old.sigma))
    return np.asarray(np.maximum(d_c / half_c, d_s / half_s), dtype=np.float64)


@dataclass
class _Clock:
    """The hopping schedule and the convergence test, counted in E-steps."""

    n_questions: int
    max_iter: int
    refine_iter: int
    least: int
    tol: float
    spreads: bool
    rate: FloatArray
    iteration: int = 0
    checked_hop: bool = True
    last_move: FloatArray = field(default_factory=lambda: np.zeros(0))
    # The E-step at which run_em's test first held (0: not yet).
    averaged_at: int = 0
    # Whether the per-source rule held at the last test.
    near: bool = False
    # A second estimate of each source's remaining distance, in its half-widths (the Anderson
    # tail's proposed step); the rule takes the larger.
    ahead: FloatArray | None = None
    # run_em's averaged move at the last test.
    change: float = np.inf

    def hop(self) -> bool:
        """Whether the next E-step looks for rival modes (as in run_em)."""
        return hop_due(self.iteration + 1, self.max_iter, self.refine_iter, self.checked_hop)

    def check(self, sums: SourceSums, old: Params, new: Params, report: Step, hop: bool,
              prior: SourcePrior, hyper: Hyper) -> bool:
        """The test after the E-step at ``new = F(old)``: True when converged."""
        change = source_change(sums.claims, old, new, self.spreads)
        self.change = change
        move = _scaled_move(sums, old, new, prior, hyper)
        self.last_move = move
        left = move / (1.0 - np.minimum(self.rate, RATE_MAX))
        if self.ahead is not None:
            left = np.maximum(left, self.ahead)
        self.near = bool(np.all(left < GAP))
        averaged = averaged_settled(report, change, self.tol, self.n_questions,
                                    self.iteration, self.least)
        if averaged and not self.averaged_at:
            self.averaged_at = self.iteration
        spent = bool(self.averaged_at) and self.iteration >= BUDGET * self.averaged_at
        if averaged and (self.near or spent):
            if hop:
                return True
            self.checked_hop = False
        else:
            self.checked_hop = True
        return False


def run_persource(
    questions: QuestionSet, params: Params, prior: SourcePrior, hyper: Hyper, *,
    done: int, max_iter: int, refine_iter: int, tol: float, spreads: bool = True,
    least: int = 1, progress: Callable[[int, int], None] | None = None,
) -> Outcome:
    """EM with per-source SQUAREM steps, then Anderson-accelerated steps once run_em's
    averaged test has held, until every source is near its fixed point.

    The parameters and the result are :func:`~models.batch.loop.run_em`'s; ``iterations``
    counts E-steps after the first, as there. The convergence test is run_em's plus every
    source's estimated remaining distance below ``GAP`` of its own 90 % half-widths (module
    docstring).

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
    clock = _Clock(questions.n_questions, max_iter, refine_iter, least, tol, spreads,
                   np.full(n_s, RATE_MAX))
    total = done + max_iter
    report = questions.start(params, hyper)
    cap = np.full(n_s, STEP_MAX0)
    converged = False
    # The Anderson tail runs once at most; given up, the SQUAREM loop runs to the end.
    tail = True

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

    def mix(take: FloatArray, a: Params, b: Params) -> Params:
        """``a`` where ``take``, else ``b``, source by source."""
        return Params(*(np.where(take, getattr(a, k), getattr(b, k)) for k in Params.__slots__))

    while clock.iteration < max_iter:
        # x₁ = F(x₀): a plain step, tested for convergence.
        x1, prior, d1 = m_step(report, params, prior)
        report, hop = e_step(x1, d1)
        x0, params = params, x1
        if clock.check(report.sums, x0, x1, report, hop, prior, hyper):
            converged = clock.near
            break
        if (clock.iteration + 2 > max_iter or not clock.checked_hop
                or clock.change >= BURN_IN * tol):
            # No room for a cycle (plain steps to the cap), the test held but for the
            # hopping (a plain step that hops, not a jump that would unsettle the sources), or
            # EM has not yet chosen the fixed point it heads for (BURN_IN).
            continue
        move1 = clock.last_move
        # x₂ = F(x₁), from the E-step at x₁ (no E-step at x₂ itself).
        x2, prior2, d2 = m_step(report, x1, prior)
        move2 = _scaled_move(report.sums, x1, x2, prior2, hyper)
        # The source's contraction over the two plain steps, for the stopping rule.
        with np.errstate(divide="ignore", invalid="ignore"):
            clock.rate = np.where(move1 > 0, move2 / move1, 0.0)
        u0, u1, u2 = pack(x0), pack(x1), pack(x2)
        r = u1 - u0
        v = u2 - 2.0 * u1 + u0
        norm_r, norm_v = _blocks(r, n_s), _blocks(v, n_s)
        with np.errstate(divide="ignore", invalid="ignore"):
            alpha = np.where(norm_v > 0, np.clip(norm_r / norm_v, 1.0, cap), 1.0)
        a4 = np.tile(alpha, 4)
        with np.errstate(over="ignore", invalid="ignore"):
            uj = u0 + 2.0 * a4 * r + a4 * a4 * v
        ok = np.isfinite(uj.reshape(4, n_s)).all(axis=0)
        jumped = ok & (alpha > 1.0)
        jump = unpack(np.where(np.tile(jumped, 4), uj, u2), n_s)
        if jump is None:  # pragma: no cover - non-finite entries were replaced by x₂'s
            jumped = np.zeros(n_s, dtype=bool)
            jump = x2
        # α = 1 at a cap of 1 is a plain step, and kept like a jump at the cap (as in
        # models.batch.squarem); a source whose extrapolation was not finite is not.
        at_cap = ok & (alpha >= cap)
        # Settled sources stay exactly at x₂ (no round trip through logit and log).
        xj = mix(jumped, jump, x2)
        # The jump moved some biases: recentre, and move every μ_q with x₂'s shift and this one.
        xj, extra = recentre_sources(report.sums.n_eff, xj, prior2, hyper)
        report, hop = e_step(xj, d2 + extra)
        stable, prior_s, d_s = m_step(report, xj, prior2)
        res = pack(stable) - pack(xj)
        residual = _blocks(res, n_s)
        # The monitor, per source: a jump that lands where EM moves further than where it
        # started is dropped for that source's plain x₂ -- unless EM still moves on the way
        # the jump went (cosine > FORWARD) and by at most GROWTH times as much: on a ridge
        # that EM climbs at a growing pace (contraction ≥ 1 a step), every jump forward
        # lands where EM moves faster, and the plain monitor kept none of them.
        with np.errstate(divide="ignore", invalid="ignore"):
            cosine = _blocks_dot(res, r, n_s) / (residual * norm_r)
        forward = (cosine > FORWARD) & (residual <= GROWTH * norm_r)
        bad = jumped & ~((residual <= norm_r) | forward)
        cap = np.where(bad, np.maximum(STEP_MAX0, cap / MSTEP),
                       np.where(at_cap & ~bad, np.minimum(cap * MSTEP, CAP_MAX), cap))
        if bad.any():
            stable, back = recentre_sources(report.sums.n_eff, mix(bad, x2, stable), prior_s,
                                            hyper)
            d_s += back
        report, hop = e_step(stable, d_s)
        params, prior = stable, prior_s
        if clock.check(report.sums, xj, stable, report, hop, prior, hyper):
            converged = clock.near
            break
        if tail and clock.averaged_at and report.carried == 0:
            # Every source's own jump has done what it can: what remains is the tail, where
            # EM is nearly linear and its slow directions are shared by sources. Only where
            # no question carries μ_q (nor reports whether it does) is EM a map of u alone.
            tail = False
            params, prior, report, stopped = _anderson_tail(
                report, params, prior, hop, clock, hyper, m_step, e_step)
            if stopped is not None:
                converged = stopped
                break
            # Given up, at its best iterate: SQUAREM's cycles from there, with EM's own
            # contraction unmeasured again.
            clock.ahead = None
            clock.rate = np.full(n_s, RATE_MAX)
    return Outcome(params, prior, report.sums, done + clock.iteration, converged)


def _anderson_tail(
    report: Step, x: Params, prior: SourcePrior, hop: bool, clock: _Clock, hyper: Hyper,
    m_step: Callable[[Step, Params, SourcePrior], tuple[Params, SourcePrior, float]],
    e_step: Callable[[Params, float], tuple[Step, bool]],
) -> tuple[Params, SourcePrior, Step, bool | None]:
    """Anderson-accelerated EM (:class:`~models.batch.anderson.Anderson`) from the E-step at
    ``x`` until ``clock`` stops it or the tail gives up; the parameters, prior and report of
    the last E-step, and whether it converged (None: given up, back at its best iterate).

    Each E-step at u_k gives G(u_k) by the M-step, tested as a plain step u_k → G(u_k); the
    next E-step is at Anderson's u_{k+1}, or at G(u_k) where the history is too short or a hop
    is due. EM's own contraction λ_s, which the stopping rule divides by, is measured only
    over two consecutive plain steps; after an extrapolated step it is taken as ``RATE_MAX``.
    The iterate of least residual ‖G(u_k) − u_k‖₂ is kept; after ``GIVE_UP`` consecutive
    restarts, a residual over ``WORSE`` times the least, or a question on the Gaussian path,
    the tail runs one E-step there and returns None (module docstring).
    """
    n_s = x.c.shape[0]
    history = Anderson()
    plain, last_plain = True, False
    last_move: FloatArray | None = None
    best, best_prior, least = x, prior, np.inf
    in_row = 0
    while True:
        start_prior = prior
        g, prior, shift = m_step(report, x, prior)
        move = _scaled_move(report.sums, x, g, prior, hyper)
        clock.rate = np.full(n_s, RATE_MAX)
        if plain and last_plain and last_move is not None:
            with np.errstate(divide="ignore", invalid="ignore"):
                clock.rate = np.where(last_move > 0, move / last_move, 0.0)
        last_move, last_plain = move, plain
        if report.hops:
            # Questions moved to rival modes: G itself changed, and so did its differences.
            history.restart()
        u, gu = pack(x), pack(g)
        in_row = 0 if history.push(u, gu) else in_row + 1
        residual = float(np.sqrt((gu - u) @ (gu - u)))
        if residual < least:
            best, best_prior, least = x, start_prior, residual
        extrapolated = history.step()
        jump = None if extrapolated is None else unpack(extrapolated, n_s)
        # Anderson's step is a multisecant Newton step, its length an estimate of the distance
        # left that sees rates above RATE_MAX too (the spreads' shared drift of 1-3-claim
        # archives, 0.994 a step): the rule takes the larger of the two where there is one.
        # Waiting for it (two E-steps after a restart) cost 3 E-steps of 74 on the 100,000-claim
        # bench and moved no measured answer.
        clock.ahead = None if jump is None else _scaled_move(report.sums, x, jump, prior, hyper)
        stop = clock.check(report.sums, x, g, report, hop, prior, hyper)
        if stop and clock.near:
            return x, prior, report, True
        if stop or clock.iteration >= clock.max_iter:
            # Out of budget: the fit is reported not converged, at the tail's best iterate
            # rather than wherever its last extrapolation had taken it (one E-step there).
            if best is not x:
                report, _ = e_step(best, 0.0)
            return best, best_prior, report, False
        if in_row >= GIVE_UP or residual > WORSE * least or report.carried != 0:
            # Walking away (or G no longer a map of u alone): back to the best iterate, whose
            # biases were recentred when it was taken (no shift of μ_q to add).
            report, _ = e_step(best, 0.0)
            return best, best_prior, report, None
        nxt, plain = g, True
        if jump is not None and clock.checked_hop:
            nxt, plain = jump, False
        # The combination of recentred images is recentred only nearly (the anchor weighs
        # each bias by 1/σ_s²); every μ_q moves with G's shift and this one.
        nxt, extra = recentre_sources(report.sums.n_eff, nxt, prior, hyper)
        report, hop = e_step(nxt, shift + extra)
        x = nxt
