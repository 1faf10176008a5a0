"""``triangulate learn agreement``: learn credibility from agreement over the stored database.

    triangulate learn agreement

Loads every current (non-retracted) claim of every stored question, open or resolved, through
the repository (:meth:`service.store.repository.Repository.agreement_input`), fits
:class:`models.batch.BatchEstimator` over all of them with each source's current profile as its
prior (its learned track record once it has resolved claims, else its grade's prior), and
stores per source the agreement-based credibility, spread, bias and hit rate
(:meth:`~service.store.repository.Repository.store_agreement`), replacing the previous run's. The
resolution-based track records are left as they are, and estimates keep using them (or the
grade's prior): agreement-based credibility is shown on ``GET /v1/sources/{id}``, not used.

The batch model learns on the log scale, so questions with a zero or negative figure are left
out; the summary says how many. The command uses the same settings as the server
(``DATABASE_URL``, else ``DATA_DIR``) and brings the schema up to date first.

Exit status: 0 on success (an empty database included); 1 when the model refused the stored
claims; 2 for invalid settings (reported by :mod:`service.cli.main`).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from service.cli.exit_codes import EXIT_OK, EXIT_REFUSED

if TYPE_CHECKING:
    from models.batch import BatchEstimator
    from service.store.repository import Repository

__all__ = ["AgreementRun", "add_parser", "learn_agreement", "run"]


@dataclass(frozen=True, slots=True)
class AgreementRun:
    """What one run learned and stored.

    Attributes
    ----------
    n_sources : int
        Sources whose agreement-based credibility was stored.
    n_claims, n_questions : int
        Claims and questions the model learned from.
    n_skipped : int
        Questions left out because a figure is zero or negative (no log scale).
    seconds : float
        Wall-clock time of the whole run (reading, fitting, storing).
    warnings : tuple of str
        The model's warnings about the claims.
    """

    n_sources: int
    n_claims: int
    n_questions: int
    n_skipped: int
    seconds: float
    warnings: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for the terminal."""
        skipped = f"; {self.n_skipped} question(s) skipped (zero or negative figures)" if (
            self.n_skipped
        ) else ""
        return (
            f"Agreement-based credibility: {self.n_sources} source(s) updated from "
            f"{self.n_claims} claim(s) on {self.n_questions} question(s){skipped}, "
            f"in {self.seconds:.2f} s."
        )


def learn_agreement(
    repository: Repository, *, estimator: BatchEstimator | None = None
) -> AgreementRun:
    """Learn agreement-based credibility from every stored claim and store it.

    Parameters
    ----------
    repository : Repository
        Reads the claims and priors, then replaces the stored results in one transaction.
    estimator : BatchEstimator, optional
        Defaults to ``BatchEstimator()`` with its documented hyper-parameters.

    Returns
    -------
    AgreementRun

    Raises
    ------
    models.errors.ReconcileError
        When the model refuses the stored claims (they were checked when entered, so this
        means data written around the API).
    """
    import numpy as np

    from models.batch import BatchEstimator, ClaimTable, learned_profiles
    from service.store.inputs import AgreementValues

    start = time.perf_counter()
    data = repository.agreement_input()
    if not data.records:
        # Nothing to learn from: every stored result would be stale, so none is kept.
        repository.store_agreement({})
        return AgreementRun(0, 0, 0, data.n_skipped, time.perf_counter() - start)
    table = ClaimTable.from_records(data.records)
    fit = (estimator or BatchEstimator()).fit(table, priors=data.priors, scale="log")
    profiles = learned_profiles(fit)
    # Questions per source: distinct (question, source) pairs, counted by source.
    pairs = np.unique(table.question * table.n_sources + table.source)
    n_questions = np.bincount(pairs % table.n_sources, minlength=table.n_sources)
    src = fit.sources
    code = {sid: k for k, sid in enumerate(table.source_ids)}
    values = {
        sid: AgreementValues(
            credibility=profiles[sid].credibility,
            spread=float(src.spread[k]),
            bias=float(src.bias[k]),
            hit_rate=profiles[sid].hit_rate(),
            n_claims=int(src.n_claims[k]),
            n_questions=int(n_questions[code[sid]]),
        )
        for k, sid in enumerate(src.ids)
    }
    repository.store_agreement(values)
    return AgreementRun(
        n_sources=len(values), n_claims=table.n, n_questions=table.n_questions,
        n_skipped=data.n_skipped, seconds=time.perf_counter() - start,
        warnings=tuple(w.message for w in fit.warnings),
    )


def add_parser(commands: Any) -> None:
    """Register ``learn`` on the ``triangulate`` sub-command parser."""
    learn = commands.add_parser(
        "learn", help="learn source credibility over the stored database: agreement"
    )
    actions = learn.add_subparsers(dest="learn_command", required=True, metavar="WHAT")
    actions.add_parser(
        "agreement",
        help="learn each source's credibility from agreement across every stored question "
             "and store it next to the resolution-based track record",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``triangulate learn agreement``; returns the exit status.

    Raises
    ------
    service.config.ConfigError
        On an invalid setting (the caller reports it).
    """
    from models.errors import ReconcileError
    from service.config import load_settings
    from service.store.engine import Database
    from service.store.repository import Repository

    database = Database.from_settings(load_settings(os.environ))
    try:
        database.upgrade()
        with database.session() as session:
            try:
                outcome = learn_agreement(Repository(session))
            except ReconcileError as exc:
                print(f"triangulate: the stored claims were refused: {exc}", file=sys.stderr)
                return EXIT_REFUSED
    finally:
        database.dispose()
    for warning in outcome.warnings:
        print(f"triangulate: warning: {warning}", file=sys.stderr)
    print(outcome.summary())
    return EXIT_OK
