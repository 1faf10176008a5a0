"""What learning reads and writes: a claim on a resolved question, the values a source's resolved
claims teach about it, and its track record (those values with the profile they come from).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Final

from models.claims import Claim
from models.credibility import SourceProfile


@dataclass(frozen=True, slots=True)
class ResolvedClaim:
    """One claim on a resolved question: the claim as made, and what the resolution adds.

    Attributes
    ----------
    claim : Claim
        The claim, as :class:`models.claims.Claim` declares it (its source, kind, numbers and
        hedge; learning ignores its origin, date and horizon).
    truth : float
        The question's resolved value.
    scale : {"log", "linear"}
        The question's scale.
    question : str
        Id of the question (claims of one question by one source are one record).
    precision : float or None
        Linear scale: the absolute unit P_i of a claim without its own sd or interval (the
        reconciler's fallback, the question's typical magnitude). None: |truth|, which a truth
        of 0 cannot use.
    shared : float
        The question's shared error s_q (log units on the log scale, the quantity's units on
        the linear; :mod:`models.shared_error`): part of the residual's variance that every
        claim of the question has, so it is not charged to the source's spread. 0: none.
    """

    claim: Claim
    truth: float
    scale: str
    question: str
    precision: float | None = None
    shared: float = 0.0


@dataclass(frozen=True, slots=True)
class LearnedValues:
    """The numbers a source's resolved claims teach about it: what is stored of a track record
    and what ``GET /v1/sources/{id}`` reports of it.

    Attributes
    ----------
    n_resolved : int
        Resolved claims used.
    credibility : float or None
        Learned probability that a claim is right, Σ_k π_k c_k, in (0, 1); None before any
        resolution.
    spread : float or None
        Learned spread of right claims on the working scale (geometric mean over hypotheses).
    bias : float or None
        Learned systematic offset on the working scale (log units: +0.1 ≈ inflates by 10 %).
    hit_rate : float or None
        Learned probability that a figure lands within about ±25 % of the truth
        (:meth:`models.credibility.SourceProfile.hit_rate`), comparable with the prior's.
    observed_hit_rate : float or None
        The raw share of the source's resolved point figures within that tolerance.
    calibration : float or None
        Share of the source's stated intervals (bounds, ranges, CIs) that contained the truth.
    n_calibration : int
        Number of stated intervals behind ``calibration``.
    """

    n_resolved: int
    credibility: float | None
    spread: float | None
    bias: float | None
    hit_rate: float | None
    observed_hit_rate: float | None
    calibration: float | None
    n_calibration: int


#: The values of a source none of whose claims was resolved yet.
NOTHING_LEARNED: Final = LearnedValues(
    n_resolved=0, credibility=None, spread=None, bias=None, hit_rate=None,
    observed_hit_rate=None, calibration=None, n_calibration=0,
)


@dataclass(frozen=True, slots=True)
class TrackRecord(LearnedValues):
    """What a source's resolved claims say about it: the :class:`LearnedValues`, the profile
    they come from and how the learning run went.

    Attributes
    ----------
    source : str
    profile : SourceProfile
        The profile to reconcile with: learned when n_resolved > 0, else the prior.
    quality : float or None
        How good the source is on the grade scale: the credibility of a rated source whose
        figures miss by as much (:meth:`SourceProfile.equivalent_credibility`).
    n_questions : int
        Resolved questions its claims are about (the evidence counts once per question).
    iterations : int
        EM iterations of the learning run (the larger of the type and the source fits).
    converged : bool
        Whether both EM fits of the learning run met their tolerance.
    """

    source: str
    profile: SourceProfile
    quality: float | None = None
    n_questions: int = 0
    iterations: int = 0
    converged: bool = True


def unlearned(source: str, prior: SourceProfile) -> TrackRecord:
    """The record of a source none of whose claims was resolved: its prior, nothing learned."""
    return TrackRecord(**learned_fields(NOTHING_LEARNED), source=source, profile=prior)


def learned_fields(values: object) -> dict[str, Any]:
    """The :class:`LearnedValues` fields of ``values`` (a record, a stored row) by name."""
    return {f.name: getattr(values, f.name) for f in fields(LearnedValues)}
