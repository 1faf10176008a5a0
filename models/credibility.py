"""From a source's reliability grade to the parameters of its claims' likelihood.

Symbols
-------
c_s : credibility, the probability that a claim of source s is *right* -- drawn from the
      truth with the source's ordinary spread -- rather than *wrong* (unrelated to the truth).
σ_s : spread of a right claim on the working scale (log units on the log scale, so 0.2 means
      "typically within about ±20 %"; a fraction of the claims' typical magnitude on the linear
      scale).
β_s : systematic bias on the working scale (0 for a grade; learned from track records later).

The Admiralty/NATO grades (STANAG 2022 / AJP-2.1) are qualitative: A completely reliable,
B usually reliable, C fairly reliable, D not usually reliable, E unreliable, F reliability cannot
be judged. We read "usually", "fairly", "not usually" as the share of a source's figures that turn
out valid (c_s) and give each grade the spread of a figure that is valid:

=====  =====  =====  ===========================================
grade  c_s    σ_s    reading
=====  =====  =====  ===========================================
A      0.95   0.10   valid 19 times in 20, within about ±10 %
B      0.85   0.20   valid most of the time, within about ±20 %
C      0.70   0.35   valid more often than not, within about ±35 %
D      0.50   0.55   valid half the time, within about a factor 1.7
E      0.30   0.80   mostly invalid, within about a factor 2.2
=====  =====  =====  ===========================================

``F`` (and an omitted reliability) means the grade is unknown, which is *more* uncertainty than
an average source: its likelihood is the equal mixture of the A–E likelihoods, so the claim may
turn out to be as good as an A or as bad as an E, and its tails are heavier than C's. A number
r in (0, 1) is read as c_s = r, with σ_s interpolated log-linearly in the table (held constant
beyond A and E). ``bench/calibrate_grades.py`` checks by simulation that intervals built with
this table cover the truth at their nominal rate when sources behave as their grades say,
including unknown-grade sources drawn at random from A–E.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Final, Literal

from scipy.special import ndtr

from models.errors import InvalidSourceError

GRADE_TABLE: Final[dict[str, tuple[float, float]]] = {
    "A": (0.95, 0.10),
    "B": (0.85, 0.20),
    "C": (0.70, 0.35),
    "D": (0.50, 0.55),
    "E": (0.30, 0.80),
}
UNKNOWN_GRADE: Final = "F"
#: Tolerance of :meth:`SourceProfile.hit_rate`: ±0.25 on the log scale, about ±25 %.
HIT_TOLERANCE: Final = 0.25
#: Cap of :meth:`SourceProfile.expected_miss`, in working units: one unit is the smallest
#: spread of a wrong figure's Cauchy part (a factor e on the log scale), so a miss beyond it is
#: a blunder whatever its size, and the cap keeps the mean finite under the Cauchy tails.
MISS_CAP: Final = 1.0
GRADES: Final[tuple[str, ...]] = (*GRADE_TABLE, UNKNOWN_GRADE)

ProfileOrigin = Literal["grade", "number", "unknown", "learned"]


@dataclass(frozen=True, slots=True)
class CredibilityComponent:
    """One hypothesis about how good a source is.

    Attributes
    ----------
    weight : float
        Prior probability π_k of this hypothesis (the components of a profile sum to 1).
    c : float
        Probability that a claim is right under this hypothesis, in (0, 1).
    sigma : float
        Spread σ of a right claim on the working scale, > 0.
    bias : float
        Systematic offset β of the source's figures on the working scale.
    """

    weight: float
    c: float
    sigma: float
    bias: float = 0.0


@dataclass(frozen=True, slots=True)
class SourceProfile:
    """Everything the likelihood needs to know about a source.

    Attributes
    ----------
    components : tuple of CredibilityComponent
        A finite mixture over hypotheses; one component for a graded source.
    origin : {"grade", "number", "unknown", "learned"}
        Where the profile came from.
    grade : str or None
        The grade it was built from, if any.
    learned_spread : float or None
        For a batch fit's learned profile (:func:`models.batch.learned_profiles`): the
        learned spread σ̂_s, where the component's ``sigma`` is the wider σ̃_s that a claim of
        the source has once the uncertainty of σ_s and β_s is integrated out (what a question
        reconciled alone needs). A batch fit that takes the profile as a prior centres the
        source's spread prior on σ̂_s: centred on σ̃_s, every relearn widened a poorly
        measured source's spread again (docs/batch.md, ``bench/batch_relearn.py``). None
        elsewhere (the component's spread is the estimate).
    """

    components: tuple[CredibilityComponent, ...]
    origin: ProfileOrigin
    grade: str | None = None
    learned_spread: float | None = None

    @property
    def credibility(self) -> float:
        """Prior probability that a claim is right, Σ_k π_k c_k."""
        return float(sum(k.weight * k.c for k in self.components))

    def hit_rate(self, tolerance: float = HIT_TOLERANCE) -> float:
        """Probability that a claim lands within ±``tolerance`` (working units) of the truth.

        Σ_k π_k [c_k P(|N(β_k, σ_k²)| < d) + (1 − c_k) P(|Cauchy(0, σ_w)| < d)], with
        σ_w = max(1, 2σ_k). Unlike c_k alone it folds spread and bias into one number that a
        track record measures directly (the share of figures within ±d), so a prior and a
        learned profile are comparable. On the log scale d = 0.25 means "within about 25 %".
        """
        d = tolerance
        total = 0.0
        for k in self.components:
            right = float(ndtr((d - k.bias) / k.sigma) - ndtr((-d - k.bias) / k.sigma))
            wrong = 2.0 * math.atan(d / max(1.0, 2.0 * k.sigma)) / math.pi
            total += k.weight * (k.c * right + (1.0 - k.c) * wrong)
        return total

    def expected_miss(self, cap: float = MISS_CAP) -> float:
        """Expected size of a figure's miss, E[min(|e|, d)] with d = ``cap`` (working units).

        Σ_k π_k [c_k E min(|N(β_k, σ_k²)|, d) + (1 − c_k) E min(|Cauchy(0, σ_w)|, d)], with
        σ_w = max(1, 2σ_k). One number for "how far off are this source's figures", in which a
        low credibility, a wide spread and a bias all count; smaller is better. In closed form:
        E min(|X|, d) = E[|X| 1{|X| < d}] + d P(|X| ≥ d), with for X ~ N(μ, σ²) and
        a = (−d − μ)/σ, z₀ = −μ/σ, b = (d − μ)/σ
        E[X 1{l < X < u}] = μ (Φ(u') − Φ(l')) + σ (φ(l') − φ(u')), and for X ~ Cauchy(0, s)
        E[|X| 1{|X| < d}] = (s/π) log(1 + d²/s²), P(|X| ≥ d) = 1 − (2/π) arctan(d/s).
        """
        return float(sum(k.weight * _component_miss(k.c, k.sigma, k.bias, cap)
                         for k in self.components))

    def equivalent_credibility(self) -> float:
        """The credibility of a rated source whose figures miss by as much as this profile's.

        The c in (0, 1) at which :func:`graded_miss` (the grade table's source, σ
        interpolated, extended beyond A and E) equals :meth:`expected_miss`: one number on the
        grade scale for "how good is this source" (0.95 is as good as an A source, 0.30 as an
        E), for any mixture, spread and bias. It equals c for a profile built from a grade, or
        from a number within the table's span [0.30, 0.95]. :func:`graded_miss` falls strictly
        as c rises, from MISS_CAP at c → 0 to 0 at c → 1, so bisection on logit c in [−30, 30]
        finds it.
        """
        target = self.expected_miss()
        lo, hi = -30.0, 30.0
        for _ in range(64):
            mid = 0.5 * (lo + hi)
            c = 1.0 / (1.0 + math.exp(-mid))
            if graded_miss(c) > target:
                lo = mid
            else:
                hi = mid
        return 1.0 / (1.0 + math.exp(-0.5 * (lo + hi)))

    @property
    def spread(self) -> float:
        """Typical spread of a right claim, exp(Σ_k π_k log σ_k)."""
        if len(self.components) == 1:
            return self.components[0].sigma
        return float(math.exp(sum(k.weight * math.log(k.sigma) for k in self.components)))


def _spread_for(c: float) -> float:
    # Interpolate log σ against c through the grade table, held constant beyond its ends (as
    # np.interp, in plain floats: equivalent_credibility calls this in a bisection loop).
    points = sorted(GRADE_TABLE.values())
    if c <= points[0][0]:
        return points[0][1]
    for (c0, s0), (c1, s1) in zip(points[:-1], points[1:], strict=True):
        if c <= c1:
            u = (c - c0) / (c1 - c0)
            return math.exp((1.0 - u) * math.log(s0) + u * math.log(s1))
    return points[-1][1]


def _graded_spread(c: float) -> float:
    """σ of the graded source at credibility c that quality compares with: the grade table's
    (:func:`_spread_for`) inside [c_E, c_A], and beyond its ends log σ extended along the end
    segment's slope in logit c, so that σ → 0 as c → 1 and σ → ∞ as c → 0."""
    points = sorted(GRADE_TABLE.values())
    if points[0][0] < c < points[-1][0]:
        return _spread_for(c)
    (c0, s0), (c1, s1) = points[:2] if c <= points[0][0] else points[-2:]
    slope = (math.log(s1) - math.log(s0)) / (_logit(c1) - _logit(c0))
    end_c, end_s = (c0, s0) if c <= points[0][0] else (c1, s1)
    return math.exp(math.log(end_s) + slope * (_logit(c) - _logit(end_c)))


def graded_miss(c: float) -> float:
    """Expected miss E min(|e|, MISS_CAP) of the graded source at credibility c in (0, 1).

    The curve :meth:`SourceProfile.equivalent_credibility` inverts: inside the grade table's
    span it is the miss of :func:`profile_from_number`'s source; beyond A and E the table is
    extended (:func:`_graded_spread`), so that the curve falls strictly from MISS_CAP at
    c → 0 to 0 at c → 1 and every profile, better than an A or worse than an E, has a
    quality. (:func:`profile_from_number` itself holds σ at A's and E's beyond the table: a
    stated credibility of 0.99 says how often a source is right, not how precise it is.)
    """
    return _component_miss(c, _graded_spread(c), 0.0, MISS_CAP)


def _logit(c: float) -> float:
    return math.log(c) - math.log1p(-c)


def _component_miss(c: float, sigma: float, bias: float, d: float) -> float:
    """E min(|e|, d) for one hypothesis (see :meth:`SourceProfile.expected_miss`)."""
    mu, sd = bias, sigma
    a, z0, b = (-d - mu) / sd, -mu / sd, (d - mu) / sd
    phi_a, phi_0, phi_b = (math.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi) for z in (a, z0, b))
    cdf_a, cdf_0, cdf_b = (0.5 * math.erfc(-z / math.sqrt(2.0)) for z in (a, z0, b))
    upper = mu * (cdf_b - cdf_0) + sd * (phi_0 - phi_b)  # E[X 1{0 < X < d}]
    lower = mu * (cdf_0 - cdf_a) + sd * (phi_a - phi_0)  # E[X 1{−d < X < 0}]
    right = upper - lower + d * (1.0 - (cdf_b - cdf_a))
    s_w = max(1.0, 2.0 * sigma)
    wrong = (s_w / math.pi * math.log1p((d / s_w) ** 2)
             + d * (1.0 - 2.0 * math.atan(d / s_w) / math.pi))
    return c * right + (1.0 - c) * wrong


def _table_profile(c: float) -> SourceProfile:
    return SourceProfile((CredibilityComponent(1.0, c, _spread_for(c)),), "number")


def profile_from_grade(grade: str) -> SourceProfile:
    """Profile of a source graded ``A``–``F`` (``F``: the A–E mixture)."""
    key = grade.upper()
    if key in GRADE_TABLE:
        c, sigma = GRADE_TABLE[key]
        return _graded_profile(key, c, sigma)
    if key == UNKNOWN_GRADE:
        return unknown_profile()
    raise InvalidSourceError(
        f"Invalid reliability {grade!r}; must be a grade A-F or a number in (0, 1)."
    )


def unknown_profile() -> SourceProfile:
    """Profile of a source whose reliability cannot be judged: the A–E mixture."""
    return _mixture_profile(tuple(GRADE_TABLE.values()))


# Profiles are frozen: each is built once per table entry (a request names a grade per source),
# keyed by the table's values so that a changed table gives new profiles.
@functools.lru_cache(maxsize=64)
def _graded_profile(key: str, c: float, sigma: float) -> SourceProfile:
    return SourceProfile((CredibilityComponent(1.0, c, sigma),), "grade", key)


@functools.lru_cache(maxsize=8)
def _mixture_profile(table: tuple[tuple[float, float], ...]) -> SourceProfile:
    share = 1.0 / len(table)
    components = tuple(CredibilityComponent(share, c, s) for c, s in table)
    return SourceProfile(components, "unknown", UNKNOWN_GRADE)


def profile_from_number(c: float) -> SourceProfile:
    """Profile of a source with a numeric credibility c in (0, 1)."""
    if isinstance(c, bool) or not (math.isfinite(c) and 0.0 < c < 1.0):
        raise InvalidSourceError(
            f"Invalid reliability {c!r}; must be a grade A-F or a number in (0, 1)."
        )
    return _table_profile(float(c))


def profile_for(reliability: str | float | None) -> SourceProfile:
    """Profile for a reliability given as a grade, a number, or ``None`` (unknown).

    Raises
    ------
    InvalidSourceError
        For anything else.
    """
    if reliability is None:
        return unknown_profile()
    if isinstance(reliability, str):
        return profile_from_grade(reliability)
    if isinstance(reliability, int | float) and not isinstance(reliability, bool):
        return profile_from_number(float(reliability))
    raise InvalidSourceError(
        f"Invalid reliability {reliability!r}; must be a grade A-F or a number in (0, 1)."
    )


def learned_profile(c: float, sigma: float, bias: float = 0.0,
                    learned_spread: float | None = None) -> SourceProfile:
    """Profile from a learned track record (credibility, spread and bias).

    ``learned_spread``, when given, is the learned σ̂ behind a predictive ``sigma``
    (:attr:`SourceProfile.learned_spread`).

    Raises
    ------
    InvalidSourceError
        When c is outside (0, 1) or sigma is not positive.
    """
    if not (math.isfinite(c) and 0.0 < c < 1.0):
        raise InvalidSourceError(f"Invalid learned credibility {c!r}; must lie in (0, 1).")
    if not (math.isfinite(sigma) and sigma > 0.0):
        raise InvalidSourceError(f"Invalid learned spread {sigma!r}; must be positive.")
    if not math.isfinite(bias):
        raise InvalidSourceError(f"Invalid learned bias {bias!r}; must be finite.")
    if learned_spread is not None and not (math.isfinite(learned_spread)
                                           and learned_spread > 0.0):
        raise InvalidSourceError(
            f"Invalid learned spread {learned_spread!r}; must be positive."
        )
    return SourceProfile((CredibilityComponent(1.0, c, sigma, bias),), "learned",
                         learned_spread=learned_spread)
