"""The shared error per category: learned from resolved questions, read for estimates.

A question's ``category`` names the kind of question it is (a Senate race, a city's
population). The learning job (:mod:`service.store.learning`) reconciles every resolved,
static question that has a category, with the credibility it has just learned and no shared
error, and fits the maximum-likelihood s of each category on each working scale from those
posteriors and the true values (:func:`models.shared_error.fit_shared_error`, the exact grid
form), plus one pooled over every category of the scale (stored as category ``""``).

An estimate uses, in order: its category's s when at least ``MIN_QUESTIONS`` resolved
questions stand behind it; else the pooled s of its scale; else
:data:`models.shared_error.DEFAULT_SHARED_ERROR` (0, see there). A question without a
category uses the default. The track records the fit reads are learned with each claim's
shared error as a known part of its residual's variance, alternating with this fit
(:meth:`service.store.learning.LearningStore._learn_jointly`): learned without it, the
sources' spreads absorb the shared error and s comes out small (about s·√(1 − 1/n) for n
claims a question; see docs/model.md, Shared error).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np
from sqlalchemy import delete, select

from models.claims import Claim as CoreClaim
from models.claims import Source as CoreSource
from models.credibility import SourceProfile
from models.encode import working_scale
from models.errors import ReconcileError
from models.reconcile import reconcile
from models.result import ReconcileResult, SharedErrorUse
from models.shared_error import (
    DEFAULT_SHARED_ERROR,
    MIN_QUESTIONS,
    SharedErrorFit,
    fit_shared_error,
)
from models.track_record import TrackRecord
from service.store.base import RepositoryBase
from service.store.inputs import _core_claim, _core_source, _first_seen, _learning_scale
from service.store.orm import Claim, Question, SharedErrorRow, Source

__all__ = ["POOLED", "SharedErrorQuestion", "SharedErrorStore", "fit_shared_errors",
           "fitted_shared_error", "learned_profiles_of", "linear_precision",
           "shared_error_entries"]

#: The category under which the pooled s of a scale is stored.
POOLED: Final = ""
#: Points of the Gaussian grid built for a pooled (inverse-variance) answer, over ±8 se.
_GAUSS_POINTS: Final = 401


def linear_precision(claims: list[Claim]) -> float | None:
    """The absolute precision a linear-scale question's claims without an sd are read with
    (their typical magnitude; :mod:`models.encode`), or None when it cannot be computed."""
    try:
        return working_scale(tuple(_core_claim(c) for c in claims), "linear").unit
    except ReconcileError:
        return None


def _natural_posterior(result: ReconcileResult) -> tuple[np.ndarray, np.ndarray] | None:
    """The posterior of φ on the scale s is measured on: log units (log), the quantity's
    units (linear). A pooled answer's is its Gaussian N(value, se²)."""
    log = result.scale == "log"
    if result.posterior is not None and len(result.posterior.values) >= 2:
        values = np.array(result.posterior.values)
        density = np.array(result.posterior.density)
        return (np.log(values) if log else values), density
    value, se = result.estimate.value, result.estimate.se
    if value is None or se is None or not se > 0:
        return None
    centre = math.log(value) if log else value
    grid = np.linspace(centre - 8 * se, centre + 8 * se, _GAUSS_POINTS)
    return grid, np.exp(-0.5 * ((grid - centre) / se) ** 2)


def fitted_shared_error(fits: Mapping[tuple[str, str], SharedErrorFit], category: str | None,
                        scale: str) -> float:
    """The s a question of ``category`` on ``scale`` gets from ``fits``, by the rule of
    :meth:`SharedErrorStore.shared_error_for` (its category's with at least MIN_QUESTIONS
    questions, else the pooled one, else the default)."""
    if category is not None:
        for key in (category, POOLED):
            fit = fits.get((key, scale))
            if fit is not None and fit.n_questions >= MIN_QUESTIONS:
                return float(fit.s)
    return DEFAULT_SHARED_ERROR.get(scale, 0.0)


@dataclass(frozen=True, slots=True)
class SharedErrorQuestion:
    """What the shared-error fit reads of one resolved, static question with a category."""

    category: str
    scale: str
    truth: float
    claims: tuple[CoreClaim, ...]


def learned_profiles_of(learned: Mapping[str, TrackRecord]) -> dict[str, SourceProfile]:
    """The learned profile of every source with a resolved claim."""
    return {sid: r.profile for sid, r in learned.items() if r.n_resolved > 0}


def shared_error_entries(
    questions: Sequence[SharedErrorQuestion], sources: Mapping[str, CoreSource],
    profiles: Mapping[str, SourceProfile],
) -> list[tuple[tuple[str, str], tuple[np.ndarray, np.ndarray, float]]]:
    """Each question's posterior (reconciled with ``profiles`` and no shared error) and truth,
    under its (category, scale) and under the pooled category of its scale, in order.

    Pure (no database): the learning job runs it over every question, the Dask engine over
    each partition of questions on its worker (:mod:`service.batch.dask_records`).
    """
    out: list[tuple[tuple[str, str], tuple[np.ndarray, np.ndarray, float]]] = []
    for question in questions:
        ids = _first_seen(c.source for c in question.claims)
        try:
            result = reconcile(
                question.claims, [sources[sid] for sid in ids], scale=question.scale,
                profiles={sid: profiles[sid] for sid in ids if sid in profiles},
                shared_error=0.0, levels=(0.5,))
        except ReconcileError:
            continue  # a question the core refuses says nothing about s
        posterior = _natural_posterior(result)
        if posterior is None:
            continue
        t = math.log(question.truth) if result.scale == "log" else question.truth
        entry = (posterior[0], posterior[1], t)
        out.append(((question.category, result.scale), entry))
        out.append(((POOLED, result.scale), entry))
    return out


def fit_shared_errors(
    entries: Iterable[tuple[tuple[str, str], tuple[np.ndarray, np.ndarray, float]]],
) -> dict[tuple[str, str], SharedErrorFit]:
    """The maximum-likelihood s of every key of ``entries`` (in order of first appearance)."""
    grids: dict[tuple[str, str], list[tuple[np.ndarray, np.ndarray, float]]] = {}
    for key, entry in entries:
        grids.setdefault(key, []).append(entry)
    return {key: fit_shared_error(items) for key, items in grids.items()}


class SharedErrorStore(RepositoryBase):
    """Learn, store and read the shared error of each category."""

    def shared_error_for(self, category: str | None, scale: str) -> SharedErrorUse:
        """The shared error an estimate of a question of ``category`` on ``scale`` uses."""
        default = SharedErrorUse(DEFAULT_SHARED_ERROR.get(scale, 0.0), "default", category)
        if category is None:
            return default
        rows = {
            r.category: r for r in self.session.scalars(
                select(SharedErrorRow).where(SharedErrorRow.scale == scale,
                                             SharedErrorRow.category.in_((category, POOLED))))
        }
        own = rows.get(category)
        if own is not None and own.n_questions >= MIN_QUESTIONS:
            return SharedErrorUse(own.value, "category", category, own.n_questions)
        pooled = rows.get(POOLED)
        if pooled is not None and pooled.n_questions >= MIN_QUESTIONS:
            return SharedErrorUse(pooled.value, "pooled", category, pooled.n_questions)
        return default

    def _learn_shared_errors(
        self, learned: Mapping[str, TrackRecord]
    ) -> dict[tuple[str, str], SharedErrorFit]:
        """Fit s per (category, scale) and pooled per scale (reads only)."""
        questions = self._shared_error_questions(None)
        if not questions:
            return {}
        entries = shared_error_entries(questions, self.core_sources(),
                                       learned_profiles_of(learned))
        return fit_shared_errors(entries)

    def core_sources(self) -> dict[str, CoreSource]:
        """Every source as the core reads it."""
        return {s.id: _core_source(s.id, s) for s in self.session.scalars(
            select(Source).order_by(Source.id))}

    def _shared_error_questions(
        self, question_ids: Sequence[int] | None
    ) -> list[SharedErrorQuestion]:
        """The resolved, static questions with a category among ``question_ids`` (None: all)
        and their current claims, in order of question id."""
        query = (select(Question).where(Question.status == "resolved",
                                        Question.category.is_not(None),
                                        Question.dynamics == "static")
                 .order_by(Question.id))
        if question_ids is not None:
            query = query.where(Question.id.in_(question_ids))
        questions = list(self.session.scalars(query))
        if not questions:
            return []
        claims_of: dict[int, list[Claim]] = {}
        for claim in self.session.scalars(
            select(Claim).where(Claim.question_id.in_([q.id for q in questions]),
                                Claim.retracted.is_(False)).order_by(Claim.id)
        ):
            claims_of.setdefault(claim.question_id, []).append(claim)
        out: list[SharedErrorQuestion] = []
        for question in questions:
            claims = claims_of.get(question.id)
            truth = question.resolution_value
            if not claims or truth is None or question.category is None:
                continue
            out.append(SharedErrorQuestion(
                question.category, _learning_scale(question.scale, truth, claims), truth,
                tuple(_core_claim(c) for c in claims)))
        return out

    def _store_shared_errors(
        self, fits: Mapping[tuple[str, str], SharedErrorFit], now: datetime
    ) -> None:
        """Replace the stored shared errors with ``fits`` (inside the caller's write)."""
        self.session.execute(delete(SharedErrorRow))
        for (category, scale), fit in fits.items():
            self.session.add(SharedErrorRow(
                category=category, scale=scale, value=float(fit.s),
                n_questions=int(fit.n_questions),
                log_likelihood_gain=float(fit.log_likelihood - fit.log_likelihood_zero),
                updated_at=now))
        self.session.flush()
