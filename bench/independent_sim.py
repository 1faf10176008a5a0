"""A simulated newsroom archive with known truth, written independently of the model's code.

Project issue 13, point 6: the coverage of Triangulate's ranges was checked only against
:mod:`models.simulate`, which then imported the model's own grade table, so the check could not
fail on the model's assumptions (it now keeps its own copy of the documented table). This
module imports nothing from ``models`` (a test parses it and checks); it uses numpy and the
standard library only. What it knows about the model comes from the *documentation*,
re-declared below with a pointer to where each number is written:

* the meaning of the grades A–E (docs/model.md, "Grade table": the share of a source's figures
  that are valid and their spread on the log scale), and of F ("cannot be judged": the equal
  mixture of A–E, same page);
* the vocabulary of claim kinds and hedges (docs/api.md, "Request fields").

Everything else is the simulator's own, and shaped differently from the model on purpose.

Symbols
-------
θ_q   : log of question q's true value.
δ_q   : the question's *shared* error: every source of q sees θ_q + δ_q, as all polls of one
        race miss together or all reports of a march start from one official count.
q_s   : source s's latent quality on [0, 4] (0 = A ... 4 = E); its true credibility c_s and
        spread σ_s are the documented grade meaning interpolated at q_s (log σ linearly), σ_s
        then jittered per source. The grade a noisy newsroom *declares* is q_s plus noise,
        rounded; some sources are declared F.
β_s   : source s's systematic bias (log units).
h     : a claim's hedge; it changes the claim's true spread and odds of being wrong by the
        simulator's own factors (:data:`TRUE_HEDGE_EFFECT`), not the model's.

A claim of source s about q, unless it is an echo:

* right with probability c_s (lowered by the hedge's odds): the source perceives
  θ_q + δ_q + β_s + σ_s f_h e, where e is Student t with ``tails_dof`` degrees of freedom,
  scaled to the interquartile range of N(0, 1) (same body as the documented Normal spread,
  heavier tails), f_h the hedge's spread factor;
* otherwise wrong: a *blunder* relative to θ_q + δ_q: a slip by a power of ten (×10 or ×1000
  either way), else an exaggeration whose log factor is lognormal, inflating more often than
  deflating (one-sided, unlike the model's symmetric Cauchy);
* stated as a point, or as a conservative bound ("at least" a figure below the perceived one,
  "at most" one above), or a range around the perceived value;
* rounded to 2 or 1 significant digits, or given to the unit.

An *echo* copies an earlier claim of the same question verbatim (kind, figures, hedge) under
another outlet's name; only some echoes name their origin (then the origin claim and its copy
share an ``origin`` label), the rest look like independent evidence.

Every parameter lives in :class:`NewsWorld`; :data:`CLEAN` switches every misspecification off
(sources exactly as their declared grade documents, Normal errors, Cauchy(0, 1) wrong claims as
docs/model.md describes them, point claims given to the unit, no echoes), and
:data:`COMPONENTS` names the fields that each misspecification turns on, so a bench can add
them one at a time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Final, NamedTuple

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class GradeMeaning(NamedTuple):
    """What a grade documents about a source's figures."""

    #: c: the share of its figures that are valid.
    c: float
    #: σ: the log-scale spread of a valid figure.
    sigma: float


class HedgeEffect(NamedTuple):
    """What a hedge does to a claim's true error, in this simulator."""

    #: Factor on the spread of a right claim.
    spread: float
    #: Factor on the odds of being wrong.
    odds: float


#: The documented meaning of the grades (docs/model.md, "Grade table"; the same numbers are in
#: the Admiralty reading of docs/model.md's list). Re-declared here, not imported, so that this
#: simulator stays independent of the model's code.
DOCUMENTED_GRADES: Final[dict[str, GradeMeaning]] = {
    "A": GradeMeaning(c=0.95, sigma=0.10),
    "B": GradeMeaning(c=0.85, sigma=0.20),
    "C": GradeMeaning(c=0.70, sigma=0.35),
    "D": GradeMeaning(c=0.50, sigma=0.55),
    "E": GradeMeaning(c=0.30, sigma=0.80),
}
GRADE_LETTERS: Final[tuple[str, ...]] = tuple(DOCUMENTED_GRADES)
#: "Cannot be judged" (docs/api.md, ``reliability``).
UNKNOWN: Final = "F"
#: Claim kinds and hedges as the API names them (docs/api.md, "Request fields").
KINDS: Final[tuple[str, ...]] = ("point", "at_least", "at_most", "range")
HEDGE_WORDS: Final[tuple[str, ...]] = ("exact", "none", "about", "could_be", "rumour")

#: The simulator's own reading of what a hedge does to a claim's *true* error. Deliberately not
#: the model's table (docs/api.md says ×0.5, ×1, ×1.5, ×2 with 2× odds, ×2.5 with 3× odds): an
#: "exact" official figure is rarely twice as precise as a plain one, and rumours are wrong more
#: often than three times the odds.
TRUE_HEDGE_EFFECT: Final[dict[str, HedgeEffect]] = {
    "exact": HedgeEffect(spread=0.8, odds=1.0),
    "none": HedgeEffect(spread=1.0, odds=1.0),
    "about": HedgeEffect(spread=1.3, odds=1.0),
    "could_be": HedgeEffect(spread=1.6, odds=2.0),
    "rumour": HedgeEffect(spread=2.0, odds=4.0),
}


@dataclass(frozen=True)
class NewsWorld:
    """Every parameter of the simulated newsroom (defaults: the full, misspecified world).

    Attributes
    ----------
    n_sources : int
        Outlets in the pool.
    activity_zipf : float
        Activity of the outlet of rank k is ∝ k^−activity_zipf (a few outlets make most claims).
    log_truth : (float, float)
        θ_q is uniform on this interval (counts from 50 to 5 million).
    claims_geometric : float
        Claims per question are 1 + Geometric(p) − 1, capped at ``max_claims``: with p = 0.42,
        42 % of questions have one claim, 24 % two, 14 % three, 12 % five or more.
    max_claims : int
        Most claims on one question.
    tails_dof : float or None
        Degrees of freedom of the Student t error of a right claim; None: Normal.
    shared_scale : float
        Scale (log units) of the shared error δ_q, Student t with ``shared_dof`` d.o.f.; 0: none.
    shared_dof : float
        Degrees of freedom of δ_q.
    bias_scale : float
        β_s ~ N(0, (bias_scale σ_s)²).
    quality_beta : (float, float)
        A rated outlet's q_s / 4 is Beta(a, b) (mean 0.4: between B and C); an outlet declared
        F has q_s ~ U(0, 4).
    quality_continuous : bool
        True: q_s lies anywhere between the documented grades. False: q_s is rounded to a
        documented grade (an F outlet's is one of A–E with equal chance).
    grade_noise : float
        Standard deviation of the newsroom's error on the quality scale when it declares a
        grade (declared = round(q_s + N(0, grade_noise)), clipped to A–E); 0: declared exactly.
    spread_jitter : float
        σ_s is multiplied by exp(N(0, spread_jitter²)); 0: the documented spread.
    unknown_share : float
        Share of outlets declared F; their true quality is drawn as everyone else's (so F means
        "any of A–E", as documented).
    blunders : bool
        Wrong claims are blunders (slips by powers of ten, one-sided exaggerations); False:
        θ_q + δ_q + Cauchy(0, 1) squashed into ±30 (the documented wrong part).
    slip_share : float
        Share of blunders that are slips by a power of ten.
    inflate_share : float
        Share of exaggerations that inflate.
    exaggeration_log : (float, float)
        Median and log-sd of the lognormal |log factor| of an exaggeration (median e^0.6 ≈ 1.8×).
    echo_share : float
        Chance that a claim after a question's first copies an earlier claim of the question.
    origin_named : float
        Chance that an echo names its origin.
    rounding : (float, float, float)
        Shares of figures given to the unit, to 2 and to 1 significant digit(s); "exact" claims
        are always given to the unit.
    hedge_share : dict of str to float or None
        Shares of the hedges (keys in :data:`HEDGE_WORDS`); None: every claim is plain.
    bound_share : (float, float, float)
        Shares of ``at_least``, ``at_most`` and ``range`` claims (the rest are points).
    bound_slack : (float, float)
        A bound lies U(slack) log units beyond the perceived value (on the safe side); a range
        extends U(slack) either side of it.
    """

    n_sources: int = 80
    activity_zipf: float = 1.0
    log_truth: tuple[float, float] = (math.log(50.0), math.log(5e6))
    claims_geometric: float = 0.42
    max_claims: int = 20
    tails_dof: float | None = 3.0
    shared_scale: float = 0.08
    shared_dof: float = 4.0
    bias_scale: float = 0.5
    quality_beta: tuple[float, float] = (2.0, 3.0)
    quality_continuous: bool = True
    grade_noise: float = 0.7
    spread_jitter: float = 0.3
    unknown_share: float = 0.15
    blunders: bool = True
    slip_share: float = 0.15
    inflate_share: float = 0.65
    exaggeration_log: tuple[float, float] = (0.6, 0.6)
    echo_share: float = 0.25
    origin_named: float = 0.4
    rounding: tuple[float, float, float] = (0.35, 0.50, 0.15)
    hedge_share: dict[str, float] | None = field(default_factory=lambda: {
        "exact": 0.08, "none": 0.47, "about": 0.28, "could_be": 0.10, "rumour": 0.07})
    bound_share: tuple[float, float, float] = (0.08, 0.03, 0.06)
    bound_slack: tuple[float, float] = (0.05, 0.40)


#: The full world with every misspecification switched off: sources behave as their declared
#: grade documents (F: a grade drawn from A–E), Normal errors, the documented Cauchy(0, 1) wrong
#: part, plain point claims given to the unit, no echoes, no shared error, no bias.
CLEAN: Final = replace(
    NewsWorld(), tails_dof=None, shared_scale=0.0, bias_scale=0.0, quality_continuous=False,
    grade_noise=0.0, spread_jitter=0.0, blunders=False, echo_share=0.0,
    rounding=(1.0, 0.0, 0.0), hedge_share=None, bound_share=(0.0, 0.0, 0.0),
)

#: Each misspecification and the :class:`NewsWorld` fields that switch it on (from :data:`CLEAN`
#: towards the full world).
COMPONENTS: Final[dict[str, tuple[str, ...]]] = {
    "t tails": ("tails_dof",),
    "shared error": ("shared_scale",),
    "source bias": ("bias_scale",),
    "misgraded": ("quality_continuous", "grade_noise", "spread_jitter"),
    "blunders": ("blunders",),
    "echoes": ("echo_share",),
    "rounding": ("rounding",),
    "hedges": ("hedge_share",),
    "bounds": ("bound_share",),
}


def with_only(component: str, full: NewsWorld | None = None) -> NewsWorld:
    """:data:`CLEAN` with one misspecification of ``full`` (default :class:`NewsWorld`) on."""
    source = full or NewsWorld()
    return replace(CLEAN, **{name: getattr(source, name) for name in COMPONENTS[component]})


@dataclass(frozen=True)
class Archive:
    """Questions with known truth and the claims made about them, one entry per claim.

    Claims are ordered by question. Figures not stated by a claim are NaN; ``origin`` is ""
    when the claim names none.

    Attributes
    ----------
    truth : (Q,) float
        True value of each question (e^θ_q).
    question, source : (n,) int
        Each claim's question and source codes.
    kind, hedge : (n,) str
        In :data:`KINDS` and :data:`HEDGE_WORDS`.
    value, low, high : (n,) float
        Point figure or bound (``value``); ends of a range (``low``, ``high``).
    origin : (n,) str
        Shared-origin label ("" when none is named).
    echo, wrong : (n,) bool
        Whether the claim copies another one; whether its figure is a blunder (for diagnosis).
    declared : (S,) str
        Each source's declared grade, A–F.
    quality, credibility, spread, bias : (S,) float
        Each source's true q_s, c_s, σ_s, β_s.
    shared : (Q,) float
        δ_q.
    """

    truth: FloatArray
    question: IntArray
    source: IntArray
    kind: NDArray[np.str_]
    hedge: NDArray[np.str_]
    value: FloatArray
    low: FloatArray
    high: FloatArray
    origin: NDArray[np.str_]
    echo: NDArray[np.bool_]
    wrong: NDArray[np.bool_]
    declared: NDArray[np.str_]
    quality: FloatArray
    credibility: FloatArray
    spread: FloatArray
    bias: FloatArray
    shared: FloatArray

    @property
    def n_claims(self) -> IntArray:
        """(Q,) claims per question."""
        return np.bincount(self.question, minlength=self.truth.size).astype(np.int64)


def t_quartile(dof: float) -> float:
    """Upper quartile of Student's t with ``dof`` degrees of freedom (numerical, numpy only).

    Integrates the density by the trapezoid rule on [0, 10] (the quartile of t with ν ≥ 1 is at
    most 1) and interpolates the cumulative to 0.25.
    """
    x = np.linspace(0.0, 10.0, 200_001)
    log_norm = math.lgamma((dof + 1) / 2) - math.lgamma(dof / 2) - 0.5 * math.log(dof * math.pi)
    pdf = np.exp(log_norm - (dof + 1) / 2 * np.log1p(x * x / dof))
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (pdf[1:] + pdf[:-1]) * np.diff(x))])
    return float(np.interp(0.25, cdf, x))


#: Upper quartile of N(0, 1).
NORMAL_QUARTILE: Final = 0.6744897501960817


def round_significant(x: FloatArray, digits: IntArray) -> FloatArray:
    """``x`` rounded to ``digits`` significant digits (0: to the unit), element-wise."""
    x = np.asarray(x, dtype=float)
    out = np.round(x)
    keep = (digits > 0) & np.isfinite(x) & (x > 0)
    if keep.any():
        magnitude = np.floor(np.log10(x[keep]))
        step = 10.0 ** (magnitude - digits[keep] + 1)
        out[keep] = np.round(x[keep] / step) * step
    # A count is at least 1 once rounded (rounding never turns a figure into 0).
    return np.maximum(out, 1.0)


def _quality_params(world: NewsWorld, quality: FloatArray) -> tuple[FloatArray, FloatArray]:
    """True (c_s, σ_s) at quality q_s: the documented table interpolated (log σ linearly)."""
    grid = np.arange(len(GRADE_LETTERS), dtype=float)
    cs = np.array([DOCUMENTED_GRADES[g].c for g in GRADE_LETTERS])
    log_sigmas = np.log([DOCUMENTED_GRADES[g].sigma for g in GRADE_LETTERS])
    return np.interp(quality, grid, cs), np.exp(np.interp(quality, grid, log_sigmas))


def simulate(rng: np.random.Generator, world: NewsWorld, n_questions: int) -> Archive:
    """Draw an archive of ``n_questions`` questions (see the module docstring).

    Parameters
    ----------
    rng : numpy.random.Generator
        The only source of randomness.
    world : NewsWorld
        The parameters.
    n_questions : int
        Q, at least 1.

    Returns
    -------
    Archive
    """
    w = world
    n_s = w.n_sources
    # Outlets: latent quality, declared grade, true parameters.
    top = len(GRADE_LETTERS) - 1.0
    unknown = rng.random(n_s) < w.unknown_share
    # Rated outlets lean good (a newsroom quotes more B and C than E); unknown ones are any of
    # A–E with equal chance, as F is documented.
    quality = np.where(unknown, rng.uniform(0.0, top, n_s), top * rng.beta(*w.quality_beta, n_s))
    if not w.quality_continuous:
        quality = np.where(unknown, rng.integers(0, len(GRADE_LETTERS), n_s), np.rint(quality))
    credibility, spread = _quality_params(w, quality)
    spread = spread * np.exp(w.spread_jitter * rng.standard_normal(n_s))
    bias = w.bias_scale * spread * rng.standard_normal(n_s)
    declared_index = np.clip(np.rint(quality + w.grade_noise * rng.standard_normal(n_s)),
                             0, top).astype(np.int64)
    declared = np.array([GRADE_LETTERS[i] for i in declared_index])
    declared[unknown] = UNKNOWN
    activity = 1.0 / np.arange(1, n_s + 1) ** w.activity_zipf
    activity = rng.permutation(activity / activity.sum())

    theta = rng.uniform(*w.log_truth, n_questions)
    shared = w.shared_scale * rng.standard_t(w.shared_dof, n_questions)
    k = np.minimum(rng.geometric(w.claims_geometric, n_questions), min(w.max_claims, n_s))
    n = int(k.sum())
    question = np.repeat(np.arange(n_questions, dtype=np.int64), k)
    source = np.concatenate([rng.choice(n_s, size=int(kq), replace=False, p=activity)
                             for kq in k]).astype(np.int64)

    # Hedges and their true effect.
    if w.hedge_share is None:
        hedge = np.full(n, "none")
    else:
        words = list(w.hedge_share)
        shares = np.array([w.hedge_share[h] for h in words])
        hedge = np.array(words)[rng.choice(len(words), n, p=shares / shares.sum())]
    spread_factor = np.array([TRUE_HEDGE_EFFECT[str(h)].spread for h in hedge])
    odds_factor = np.array([TRUE_HEDGE_EFFECT[str(h)].odds for h in hedge])

    # What each source perceives (before kind, rounding and echoes).
    c = credibility[source]
    odds_wrong = (1.0 - c) / c * odds_factor
    wrong = rng.random(n) < odds_wrong / (1.0 + odds_wrong)
    if w.tails_dof is None:
        e = rng.standard_normal(n)
    else:
        e = rng.standard_t(w.tails_dof, n) * (NORMAL_QUARTILE / t_quartile(w.tails_dof))
    right_off = bias[source] + spread[source] * spread_factor * e
    if w.blunders:
        slip = rng.random(n) < w.slip_share
        power = np.where(rng.random(n) < 0.8, 1.0, 3.0) * rng.choice([-1.0, 1.0], n)
        sign = np.where(rng.random(n) < w.inflate_share, 1.0, -1.0)
        size = np.exp(math.log(w.exaggeration_log[0]) + w.exaggeration_log[1]
                      * rng.standard_normal(n))
        wrong_off = np.where(slip, power * math.log(10.0), sign * size)
    else:
        wrong_off = 30.0 * np.tanh(rng.standard_cauchy(n) / 30.0)
    perceived = theta[question] + shared[question] + np.where(wrong, wrong_off, right_off)

    # How it is stated: kind, conservative bounds, rounding.
    p_least, p_most, p_range = w.bound_share
    u = rng.random(n)
    kind_index = np.select([u < p_least, u < p_least + p_most, u < p_least + p_most + p_range],
                           [1, 2, 3], 0)
    slack = rng.uniform(*w.bound_slack, (2, n))
    figure = np.exp(perceived)
    value = np.where(kind_index == 1, np.exp(perceived - slack[0]),
                     np.where(kind_index == 2, np.exp(perceived + slack[0]), figure))
    value[kind_index == 3] = np.nan
    low = np.where(kind_index == 3, np.exp(perceived - slack[0]), np.nan)
    high = np.where(kind_index == 3, np.exp(perceived + slack[1]), np.nan)
    digits = rng.choice(3, n, p=np.array(w.rounding) / sum(w.rounding)).astype(np.int64)
    digits = np.where(hedge == "exact", 0, digits)
    low, high = round_significant(low, digits), round_significant(high, digits)
    # A range whose ends round to one figure is printed as that figure (a point).
    kind_index = np.where((kind_index == 3) & (low >= high), 0, kind_index)
    kind = np.array(KINDS)[kind_index]
    value = np.where(kind_index == 3, np.nan, round_significant(
        np.where(np.isnan(value), low, value), digits))
    low = np.where(kind_index == 3, low, np.nan)
    high = np.where(kind_index == 3, high, np.nan)

    # Echoes: a later claim copies an earlier one of its question verbatim under its own name.
    origin = np.full(n, "", dtype=object)
    echo = np.zeros(n, dtype=bool)
    copied_from = np.arange(n)
    start = np.concatenate([[0], np.cumsum(k)[:-1]])
    if w.echo_share > 0:
        for q in np.flatnonzero(k > 1):
            first = int(start[q])
            for j in range(first + 1, first + int(k[q])):
                if rng.random() >= w.echo_share:
                    continue
                # An echo of an echo copies the same origin claim.
                i = int(copied_from[int(rng.integers(first, j))])
                echo[j] = True
                copied_from[j] = i
                kind[j], hedge[j] = kind[i], hedge[i]
                value[j], low[j], high[j] = value[i], low[i], high[i]
                wrong[j] = wrong[i]
                if rng.random() < w.origin_named:
                    label = f"q{q}-c{i - first}"
                    origin[i] = origin[j] = label
    return Archive(
        truth=np.exp(theta), question=question, source=source, kind=kind, hedge=hedge,
        value=value, low=low, high=high, origin=origin.astype(str), echo=echo, wrong=wrong,
        declared=declared, quality=quality, credibility=credibility, spread=spread, bias=bias,
        shared=shared,
    )
