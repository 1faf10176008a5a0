"""Running a learning command on the stored database, in this process or on a Dask cluster.

``triangulate learn agreement`` and ``triangulate learn records`` share everything but the
learning itself: the settings, bringing the schema up to date, the cluster when ``--engine
dask``, the exit status of refused claims, the warnings and the one-line summary.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from service.cli.batch import open_cluster
from service.cli.exit_codes import EXIT_OK, EXIT_REFUSED

if TYPE_CHECKING:
    from distributed import Client

    from service.store.repository import Repository

__all__ = ["LearningOutcome", "run_on_store"]


class LearningOutcome(Protocol):
    """What a learning command prints: the model's warnings, then one summary line."""

    @property
    def warnings(self) -> tuple[str, ...]: ...

    def summary(self) -> str: ...


def run_on_store(args: argparse.Namespace, command: str,
                 learn: Callable[[Repository, Client | None], LearningOutcome]) -> int:
    """Open the configured database, run ``learn`` on it and report; returns the exit status.

    ``learn`` gets the repository and, with ``--engine dask``, the cluster's client (None
    otherwise). Refused claims exit 1 with the model's message; an unreachable scheduler or
    missing dask exits as :func:`service.cli.batch.open_cluster` says.

    Raises
    ------
    service.config.ConfigError
        On an invalid setting (the caller reports it).
    """
    from models.errors import ReconcileError
    from service.cli.batch_files import InputError
    from service.config import load_settings
    from service.store.engine import Database
    from service.store.repository import Repository

    database = Database.from_settings(load_settings(os.environ))
    close: Any = None
    try:
        database.upgrade()
        client = None
        if getattr(args, "engine", "local") == "dask":
            opened = open_cluster(args.scheduler, command)
            if isinstance(opened, int):
                return opened
            client, close = opened
        with database.session() as session:
            try:
                outcome = learn(Repository(session), client)
            except (ReconcileError, InputError) as exc:
                print(f"triangulate: the stored claims were refused: {exc}", file=sys.stderr)
                return EXIT_REFUSED
    finally:
        if close is not None:
            close()
        database.dispose()
    for warning in outcome.warnings:
        print(f"triangulate: warning: {warning}", file=sys.stderr)
    print(outcome.summary())
    return EXIT_OK
