"""The batch estimator: EM over every claim of an archive at once.

:class:`BatchEstimator` checks its hyper-parameters, encodes the table
(:mod:`models.batch.encode`), runs expectation-maximisation (:mod:`models.batch.loop`) from the
sources' priors -- on a sample of the questions first when the table is large -- and assembles
the :class:`~models.batch.BatchFit` (:mod:`models.batch.summary`). It keeps no state between
calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from models.batch.common import EPS, KIND_POINT, BoolArray, FloatArray, Scale
from models.batch.em import e_step
from models.batch.encode import collapse_ranges, encode, resolve_scale
from models.batch.loop import LocalQuestions, Outcome, QuestionSet, run_em
from models.batch.mode import initial_centre
from models.batch.persource import run_persource
from models.batch.result import BatchFit, PopulationPrior, QuestionEstimates, SourceParameters
from models.batch.sensitivity import other_credibility, wider_wrong, wrong_factor
from models.batch.spread import dispersion_floor, predictive_spread
from models.batch.state import Hyper, Params, SourcePrior
from models.batch.summary import assemble_fit
from models.batch.sums import settled
from models.batch.table import ClaimTable, infer_resolution
from models.checks import check_levels
from models.errors import InvalidParameterError, InvalidSourceError

if TYPE_CHECKING:  # models.credibility imports scipy; the batch path needs it only for priors
    from models.credibility import SourceProfile


class BatchEstimator:
    """Joint truth discovery over many questions: credibility, spread and bias per source.

    Parameters
    ----------
    max_iter : int
        Most EM iterations (≥ 1); with a warm start, of each of its two phases. 300: the
        per-source stopping rule (``accelerate``) needs up to about 190 E-steps on archives
        of 1-3 claims a question where EM creeps (100 left them ``converged=False`` and up to
        2.8 half-widths off; an independent review, session 11).
    tol : float
        Convergence when the sources' credibility and log-spread move by less than ``tol`` in
        one iteration (the larger of the two, averaged over the claims; on a warm start's
        sample the credibility alone) and 99 % of the questions' μ_q move by less than a
        quarter of their τ_q.
    warm_start_claims : int
        Least sample of a warm start. With s = max(warm_start_claims, 20 × sources), tables of
        more than 2s claims are first fitted on every k-th question (about s claims) until
        convergence; the full table's EM then starts from there and runs until the same test
        holds on it. EM spends most of its iterations settling the sources, which a sample
        that shows every source at work pins down nearly as well as all the questions, where
        an iteration costs k times less.
    refine_iter : int
        Least EM iterations on the full table after a warm start (≥ 1); it then iterates
        until convergence, at most ``max(max_iter, refine_iter)`` iterations.
    pooled_strength : float
        κ_pooled: pseudo-claims of the population prior of an unrated source (> 0).
    graded_strength : float
        κ_graded: pseudo-claims of a graded source's prior (> 0).
    spread_strength : float
        ν (> 0): the spread prior's strength where the sources' spreads agree. log σ_s has a
        Normal prior about its centre (the source's rated spread, else the population's) of
        variance v, learned from the sources' scatter about their centres but never below
        1/(2ν), the log-scale variance of ν pseudo-claims (:mod:`models.batch.spread`).
    spread_dispersion_max : float
        v_max (> 0): the most that v may become when the spreads span decades. It bounds how
        far a source seen once can fall below its centre: to e^{−v} σ̄ ≥ e^{−v_max} σ̄. The
        default 2 is the variance of log-spreads spread evenly over two decades (1.77); a
        larger cap lets one claim set a spread far below the others' (e^{−4} σ̄ = 0.018 σ̄ at 4),
        and values below 1/(2ν) leave v at that floor.
    bias_strength : float
        λ: pseudo-claims of the bias prior (> 0).
    wrong_spread : float
        σ_wrong, the least spread of a wrong claim's Cauchy part, in working units (> 0).
    prior_scale : float
        τ₀, the least standard deviation of the prior of θ_q (> 0).
    exact_share : float
        η₀, the prior mean of the archive's exact share η̄ (the share of right claims that
        copy the true figure to its rounding), in (0, 1).
    exact_strength : float
        κ_η, the weight of that prior in tested right claims (> 0): η̄ is the MAP under
        Beta(1 + κ_η η₀, 1 + κ_η (1 − η₀)), (E + κ_η η₀)/(T + κ_η) with E exact among T
        tested right claims, so a handful of coincident figures cannot make every source a
        copier (:func:`models.batch.sums.update_sources`).
    rounding : {"infer", "none"}
        ``infer`` reads each figure's rounding window from its digits (or the table's
        ``resolution`` column); ``none`` gives every figure a window of relative width 1e-12,
        so only identical figures agree exactly.
    learn_bias : bool
        Whether to learn β_s (else it stays at the prior's bias).
    exact_claims : int
        Questions with at most this many claims get their exact posterior by quadrature over
        θ (:mod:`models.batch.exact`): responsibilities, M-step sums, estimate and intervals;
        larger ones the Gaussian (Laplace) posterior with leave-one-out responsibilities,
        which is accurate there. 0 puts every question on the Gaussian path (the behaviour
        before issue 13). At least 0.
    accelerate : bool
        Whether EM on the full table is accelerated by SQUAREM (Varadhan & Roland 2008, scheme
        S3) with one step length per source (:mod:`models.batch.persource`): two EM steps
        x₁ = F(x₀), x₂ = F(x₁) of each source's parameters (logit c, logit η, log σ, β), then
        x'_s = x₀ + 2α_s r_s + α_s² v_s with r = x₁ − x₀, v = x₂ − 2x₁ + x₀,
        α_s = ‖r_s‖/‖v_s‖ ≥ 1 (capped), a per-source monitor, and a stabilising EM step; it
        also stops only when every source's estimated remaining distance is under a tenth of its
        own displayed 90 % half-width (on top of ``tol``). Settled sources are not moved, so
        the questions' μ_q that the Gaussian path carries follow. No source is extrapolated
        before the sources' averaged move is under 10 ``tol`` (earlier jumps reached another
        fixed point than plain EM's on archives of 1-3 claims a question).
        ``False``: plain EM with the ``tol`` test alone (as the warm start's sample always is).

    Notes
    -----
    The estimator keeps no state: :meth:`fit` returns a new :class:`BatchFit`, so one instance
    can serve concurrent requests. Defaults were fixed from the model's meaning before any
    comparison with gold values: κ_pooled = 4 (a new source counts as four claims' worth of the
    typical source), κ_graded = 12 (a grade is worth about a dozen claims), ν = λ = 4,
    v_max = 2 (log σ uniform over two decades has variance (ln 100)²/12 = 1.77),
    σ_wrong = 1 and τ₀ = 2.5 as in :mod:`models.robust`; η₀ = 0.01 and κ_η = 100 (exact copying
    is believed once it is seen among a hundred right claims that could have shown it: one
    pair of coincident figures moves η̄ to about 0.03, not to 1, while an archive of copies
    such as the city populations, T in the thousands, keeps its share of 0.98).
    """

    def __init__(
        self,
        *,
        max_iter: int = 300,
        tol: float = 1e-3,
        warm_start_claims: int = 20_000,
        refine_iter: int = 2,
        pooled_strength: float = 4.0,
        graded_strength: float = 12.0,
        spread_strength: float = 4.0,
        spread_dispersion_max: float = 2.0,
        bias_strength: float = 4.0,
        wrong_spread: float = 1.0,
        prior_scale: float = 2.5,
        exact_share: float = 0.01,
        exact_strength: float = 100.0,
        rounding: str = "infer",
        learn_bias: bool = True,
        exact_claims: int = 8,
        accelerate: bool = True,
    ) -> None:
        for name, count, least in (("max_iter", max_iter, 1),
                                   ("warm_start_claims", warm_start_claims, 1),
                                   ("refine_iter", refine_iter, 1),
                                   ("exact_claims", exact_claims, 0)):
            if isinstance(count, bool) or not isinstance(count, int) or count < least:
                raise InvalidParameterError(
                    f"Invalid {name} {count!r}; must be at least {least}."
                )
        for name, value in (("tol", tol), ("pooled_strength", pooled_strength),
                            ("graded_strength", graded_strength),
                            ("spread_strength", spread_strength),
                            ("spread_dispersion_max", spread_dispersion_max),
                            ("bias_strength", bias_strength), ("wrong_spread", wrong_spread),
                            ("prior_scale", prior_scale), ("exact_strength", exact_strength)):
            if isinstance(value, bool) or not (math.isfinite(value) and value > 0):
                raise InvalidParameterError(f"Invalid {name} {value!r}; must be positive.")
        if isinstance(exact_share, bool) or not 0.0 < exact_share < 1.0:
            raise InvalidParameterError(
                f"Invalid exact_share {exact_share!r}; must lie in (0, 1)."
            )
        if not isinstance(accelerate, bool):
            raise InvalidParameterError(
                f"Invalid accelerate {accelerate!r}; must be true or false."
            )
        if rounding not in ("infer", "none"):
            raise InvalidParameterError(
                f"Invalid rounding {rounding!r}; must be one of infer, none."
            )
        self.max_iter = max_iter
        self.warm_start_claims = warm_start_claims
        self.refine_iter = refine_iter
        self.tol = tol
        self.rounding = rounding
        self.accelerate = accelerate
        #: The hyper-parameters the EM steps read, kept in one place (the estimator is
        #: immutable, so they are built once).
        self.hyper = Hyper(
            wrong_spread=wrong_spread, prior_scale=prior_scale,
            pooled_strength=pooled_strength, graded_strength=graded_strength,
            spread_strength=spread_strength, bias_strength=bias_strength,
            learn_bias=learn_bias, exact_claims=exact_claims,
            exact_share=exact_share, exact_strength=exact_strength,
            spread_dispersion_max=spread_dispersion_max,
        )

    # -- fit ------------------------------------------------------------------------------------

    def fit(
        self,
        table: ClaimTable,
        *,
        priors: Mapping[str, SourceProfile] | None = None,
        levels: Sequence[float] = (0.5, 0.9),
        scale: str = "auto",
        progress: Callable[[int, int], None] | None = None,
    ) -> BatchFit:
        """Learn every source's credibility and every question's value from the claims.

        Parameters
        ----------
        table : ClaimTable
            n claims about Q questions by S sources.
        priors : mapping of source id to SourceProfile, optional
            Prior credibility of rated sources (from a grade, a number or a track record).
            Sources that are missing, or whose profile is "unknown" (grade F), are shrunk
            towards the population.
        levels : sequence of float
            Interval levels in (0, 1).
        scale : {"auto", "log", "linear"}
            ``auto``: log when every figure is positive.
        progress : callable(iteration, max_iter), optional
            Called after each EM iteration (for a progress bar); must not raise.

        Returns
        -------
        BatchFit

        Raises
        ------
        ReconcileError
            Invalid levels, scale or priors, or figures that the scale cannot represent.
        """
        checked = check_levels(levels)
        resolved: Scale = resolve_scale(table, scale)
        table = self.prepare(table, resolved)
        params, prior = self.initial(table.source_ids, priors)
        stride = self.warm_stride(table.n, table.n_sources)
        sample = None
        if stride:
            sub = table.take_questions(np.arange(0, table.n_questions, stride))
            sample = LocalQuestions(encode(sub, resolved, self.rounding, self.hyper.prior_scale))
        held: list[LocalQuestions] = []

        def full() -> LocalQuestions:
            # Encoded only once the sample is done with: the two need not coexist.
            held.append(LocalQuestions(encode(table, resolved, self.rounding,
                                              self.hyper.prior_scale)))
            return held[0]

        outcome = self.learn(full, sample, params, prior, progress)
        local = held[0]
        other = self.other_credibility(local, outcome)
        final = self.predictive(local, outcome)
        if local.post is None:  # pragma: no cover - learn always runs an E-step
            raise RuntimeError("EM ran no E-step")
        return assemble_fit(table, local.enc, final, local.post, outcome.prior,
                            checked, outcome.iterations, outcome.converged, self.hyper,
                            self.tol, learned=(outcome.sums, outcome.params), other=other)

    # -- the pieces of fit, shared with distributed engines ---------------------------------

    def prepare(self, table: ClaimTable, scale: Scale) -> ClaimTable:
        """Zero-width ranges as points, and rounding steps read from the digits.

        Both act claim by claim (the linear scale's frame per question), so the table may be
        one partition of whole questions; ``scale`` must be the whole archive's
        (:func:`~models.batch.encode.resolve_scale`: log unless some partition says linear).
        """
        # A zero-width range is the point it states (models.batch.encode.collapse_ranges).
        table = collapse_ranges(table, scale)
        if self.rounding == "infer" and np.isnan(table.resolution).any():
            # Read the rounding from the digits once; a warm start's sample then reuses it.
            inferred = infer_resolution(np.where(table.kind == KIND_POINT, table.value, 1.0))
            table = replace(table, resolution=np.where(np.isnan(table.resolution), inferred,
                                                       table.resolution))
        return table

    def initial(
        self, source_ids: Sequence[str], priors: Mapping[str, SourceProfile] | None
    ) -> tuple[Params, SourcePrior]:
        """The sources' starting parameters and their prior, (S,) arrays in ``source_ids`` order.

        Rated sources start at their prior, the others at the population's centre
        (credibility 0.7, spread 0.35) and every source at the prior exact share η₀.
        """
        c0, sigma0, beta0, rated = source_priors(source_ids, priors)
        population = PopulationPrior(0.7, self.hyper.exact_share, 0.35,
                                     dispersion_floor(self.hyper.spread_strength))
        params = Params(c=np.where(rated, c0, population.credibility),
                        eta=np.full(len(source_ids), self.hyper.exact_share),
                        sigma=np.where(rated, sigma0, population.spread), beta=beta0.copy())
        return params, SourcePrior(c0, sigma0, beta0, rated, population)

    def warm_stride(self, n: int, n_sources: int) -> int:
        """k when a table of ``n`` claims is first fitted on every k-th question, else 0.

        With s = max(``warm_start_claims``, 20 × sources), a table of more than 2s claims
        takes a warm start on the questions whose index (order of first appearance in the
        archive) is a multiple of k = ⌈n/s⌉, about s claims.
        """
        # The sample must still show every source at work: at least 20 claims per source on
        # average, else the warm start would learn little more than the priors.
        sample = max(self.warm_start_claims, 20 * n_sources)
        return int(math.ceil(n / sample)) if n > 2 * sample else 0

    def learn(
        self, full: Callable[[], QuestionSet], sample: QuestionSet | None, params: Params,
        prior: SourcePrior, progress: Callable[[int, int], None] | None = None,
    ) -> Outcome:
        """EM on the warm start's ``sample`` (if any), then on all questions.

        Parameters
        ----------
        full : callable returning QuestionSet
            All questions, built once the sample is done with.
        sample : QuestionSet, optional
            Every k-th question (:meth:`warm_stride`).
        params : Params
        prior : SourcePrior
        progress : callable(iteration, total), optional

        Returns
        -------
        Outcome
            The full table's run; ``iterations`` counts the warm start's too, ``converged`` is
            the full table's own.
        """
        hyper = self.hyper
        loop = run_persource if self.accelerate else run_em
        if sample is None:
            return loop(full(), params, prior, hyper, done=0, max_iter=self.max_iter,
                          refine_iter=self.refine_iter, tol=self.tol, progress=progress)
        # Warm start: learn the sources on every k-th question first, where an EM iteration
        # is k times cheaper, then refine on all claims. EM needs most of its iterations to
        # settle σ_s and c_s, not θ_q. The sample only teaches the sources: its contested
        # questions keep the Gaussian path with leave-one-out responsibilities and mode
        # hopping, which halves the fit (a third of a 10-claim archive's questions are
        # contested, each ~100 times a Gaussian one) and moves answers by under 1 %
        # (issue 15); the full table's iterations, estimates and intervals take them exactly.
        warm = run_em(sample, params, prior, replace(hyper, exact_contested=False), done=0,
                      max_iter=self.max_iter, refine_iter=self.refine_iter, tol=self.tol,
                      spreads=False, progress=progress)
        # The sources have settled on the sample; the full table then iterates from there
        # until the same convergence test holds on it (at least refine_iter iterations, at
        # most max_iter of its own: a sample that did not settle must not cut it short). A
        # fixed number of iterations stopped short of its fixed point: after two, 18 % of the
        # 100,000-claim bench's estimates sat more than a tenth of their 90 % half-width from
        # it and the intervals were 7 % too wide (bench/batch_refine.py; docs/benchmarks.md).
        # The answer is the full table's, so is its convergence: the sample only chose where
        # the full table's EM starts.
        return loop(full(), warm.params, warm.prior, hyper, done=warm.iterations,
                      max_iter=max(self.max_iter, self.refine_iter),
                      refine_iter=self.refine_iter, tol=self.tol,
                      least=self.refine_iter, progress=progress)

    def other_credibility(
        self, questions: QuestionSet, outcome: Outcome
    ) -> FloatArray | None:
        """Each source's credibility had wrong claims avoided the truth as precise sources show.

        One E-step at the learned parameters counts the precise sources' claims near the
        truth but off it against what the model's wrong part expects there
        (:func:`~models.batch.sensitivity.wrong_factor`); where far fewer are seen, a second
        E-step with a wrong part as much wider and the fixed point of each source's
        credibility given its claims' likelihood ratios there (:mod:`models.batch.
        sensitivity`) give the credibility that the interval spans too. Both E-steps are
        probes (:meth:`~models.batch.loop.QuestionSet.probe`): ``questions`` keeps EM's last
        posterior, so :meth:`predictive` and the questions' answers do not depend on them.

        Parameters
        ----------
        questions : QuestionSet
            The questions EM ran on.
        outcome : Outcome
            Where EM stopped.

        Returns
        -------
        (S,) float or None
            None where the precise sources agree with the model's wrong part (or none speak).
        """
        p = outcome.params
        check = questions.probe(p, wider_wrong(self.hyper, 1.0)).sums
        factor = wrong_factor(check.near_truth)
        if factor <= 1.0:
            return None
        sums = questions.probe(p, wider_wrong(self.hyper, factor)).sums
        return other_credibility(sums.loose_right, sums.n_eff, p, outcome.prior, self.hyper)

    def predictive(self, questions: QuestionSet, outcome: Outcome) -> Params:
        """The parameters of the E-step whose posterior gives the questions' intervals.

        The learned spreads widened by what the archive leaves unknown of each source's
        spread and bias (:func:`~models.batch.spread.predictive_spread`), then E-steps at
        them from EM's last modes until 99 % of the questions move by under a quarter of
        their τ_q (at most ``max(refine_iter, 2)``): ``questions`` then holds that
        posterior. The sources' reported parameters stay the learned ones.

        Parameters
        ----------
        questions : QuestionSet
            The questions EM ran on, holding its last posterior.
        outcome : Outcome
            Where EM stopped.

        Returns
        -------
        Params
        """
        hyper = self.hyper
        p = outcome.params
        sums = outcome.sums
        sigma = predictive_spread(p.sigma, sums.spread_info, sums.spread_missing, sums.rp,
                                  outcome.prior.population.spread_dispersion,
                                  hyper.bias_strength if hyper.learn_bias else None,
                                  np.log(np.where(outcome.prior.rated, outcome.prior.sigma0,
                                                  outcome.prior.population.spread)))
        final = Params(p.c, p.eta, sigma, p.beta)
        for _ in range(max(self.refine_iter, 2)):
            if settled(questions.step(final, 0.0, False, hyper).moved):
                break
        return final

    def posterior(
        self,
        table: ClaimTable,
        sources: SourceParameters,
        *,
        levels: Sequence[float] = (0.5, 0.9),
        scale: str = "auto",
        steps: int = 50,
    ) -> QuestionEstimates:
        """Each question's posterior with the sources' parameters held fixed (the E-step).

        Parameters
        ----------
        table : ClaimTable
        sources : SourceParameters
            One entry per source of ``table``.
        levels : sequence of float
        scale : {"auto", "log", "linear"}
        steps : int
            Most IRLS steps per question (mode hopping included); stops earlier once no μ_q
            moves by more than 1e-12.

        Returns
        -------
        QuestionEstimates
        """
        checked = check_levels(levels)
        resolved: Scale = resolve_scale(table, scale)
        # A zero-width range is the point it states (models.batch.encode.collapse_ranges).
        table = collapse_ranges(table, resolved)
        hyper = self.hyper
        enc = encode(table, resolved, self.rounding, hyper.prior_scale)
        arrays = (sources.credibility, sources.exact_share, sources.spread, sources.bias)
        if any(np.shape(a) != (table.n_sources,) for a in arrays):
            raise InvalidParameterError(
                f"Source parameters need one entry per source ({table.n_sources}).", "sources"
            )
        params = Params(
            c=np.clip(np.asarray(sources.credibility, dtype=np.float64), EPS, 1 - EPS),
            eta=np.clip(np.asarray(sources.exact_share, dtype=np.float64), EPS, 1 - EPS),
            sigma=np.asarray(sources.spread, dtype=np.float64),
            beta=np.asarray(sources.bias, dtype=np.float64),
        )
        mu = initial_centre(enc, params)
        post, _ = e_step(enc, params, mu, True, hyper)
        for _ in range(steps):
            # The last one's panels serve the quantiles (models.batch.panels.Panels).
            new_post, hops = e_step(enc, params, post.mu, True, hyper, keep_panels=True)
            moved = float(np.max(np.abs(new_post.mu - post.mu)))
            post = new_post
            if moved < 1e-12 and hops == 0:
                break
        zero = np.zeros(table.n_sources)
        prior = SourcePrior(params.c, params.sigma, params.beta, zero > 1,
                             PopulationPrior(0.7, float(params.eta.mean()), 0.35,
                                             dispersion_floor(hyper.spread_strength)))
        return assemble_fit(table, enc, params, post, prior, checked, 0, True, hyper,
                            self.tol).questions


def source_priors(
    source_ids: Sequence[str], priors: Mapping[str, SourceProfile] | None
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray]:
    """Prior credibility, spread, bias and whether the source is rated, (S,) each.

    A source's prior spread is its profile's learned spread where it has one (a batch fit's
    learned profile), else its typical spread. A source's prior bias is its profile's
    component-weighted bias Σ_k w_k β_k. A source
    without a profile, or with an "unknown" one (grade F), is unrated: NaN, NaN, 0, False.

    Parameters
    ----------
    source_ids : sequence of str
        The archive's sources, (S,) (every partition's table shares them).
    priors : mapping of source id to SourceProfile, optional

    Returns
    -------
    c0, sigma0, beta0 : (S,) float
    rated : (S,) bool

    Raises
    ------
    InvalidSourceError
        When a prior is not a SourceProfile.
    """
    n_s = len(source_ids)
    c0 = np.full(n_s, np.nan)
    sigma0 = np.full(n_s, np.nan)
    beta0 = np.zeros(n_s)
    rated = np.zeros(n_s, dtype=bool)
    for k, sid in enumerate(source_ids):
        profile = (priors or {}).get(sid)
        if profile is None or profile.origin == "unknown":
            continue
        from models.credibility import SourceProfile

        if not isinstance(profile, SourceProfile):
            raise InvalidSourceError(
                f"Invalid prior for source {sid!r}; expected a SourceProfile.", "sources"
            )
        c0[k] = profile.credibility
        # A batch fit's learned profile carries its σ̂ beside the predictive σ̃ it reconciles
        # single questions with; the prior centres on the estimate.
        sigma0[k] = profile.spread if profile.learned_spread is None else profile.learned_spread
        beta0[k] = sum(comp.weight * comp.bias for comp in profile.components)
        rated[k] = True
    return c0, sigma0, beta0, rated
