"""The repository's transactions: one write transaction per change, committed or rolled back
whole, and paging of list queries."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.store.engine import WRITE_OPTION
from service.store.errors import NotFound, StaleVersion
from service.store.inputs import Page, T, _copy, utcnow
from service.store.orm import ClaimRevision, QuestionRevision, SourceRevision, Versioned

__all__ = ["LearnMode", "RepositoryBase"]

#: Where the track records are relearned after a write they depend on: inside the write's
#: transaction (``in_write``, cost grows with the archive), or by the learning job after it
#: (``deferred``: the write only marks the records pending, see :mod:`service.store.learning`).
LearnMode = Literal["in_write", "deferred"]

#: The row type of a revision table.
Revision = TypeVar("Revision", SourceRevision, QuestionRevision, ClaimRevision)
#: The row type of a table read by its primary key.
Row = TypeVar("Row")


class RepositoryBase:
    """Transactions and paging shared by every part of the repository.

    Parameters
    ----------
    session : sqlalchemy.orm.Session
        Used for every query; the repository commits or rolls back its own writes.
    clock : callable, optional
        Returns the current aware datetime; tests may pin it.
    learn : {"in_write", "deferred"}, optional
        How a write that track records depend on relearns them (see :data:`LearnMode`).
        ``in_write`` (the default, for scripts) leaves them current when the write returns.
    on_learning_pending : callable, optional
        Called after a ``deferred`` write committed a change the records depend on (and
        by :meth:`~service.store.learning.LearningStore.learning_state` when it finds them
        pending), e.g. :meth:`service.store.learner.Learner.notify`.
    """

    def __init__(
        self, session: Session, *, clock: Callable[[], datetime] = utcnow,
        learn: LearnMode = "in_write", on_learning_pending: Callable[[], None] | None = None,
    ) -> None:
        self.session = session
        self.clock = clock
        self.learn: LearnMode = learn
        self.on_learning_pending = on_learning_pending
        self._notify_after_commit = False

    # --- Transactions -----------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[datetime]:
        """A write transaction: committed on success, rolled back on any error.

        Yields the time to stamp the changes with, read once the write lock is held.
        """
        if self.session.in_transaction():
            # End a read transaction first, so this one begins as a write (SQLite: BEGIN
            # IMMEDIATE, which queues behind another writer instead of failing later).
            self.session.rollback()
        self.session.connection(execution_options={WRITE_OPTION: True})
        self._notify_after_commit = False
        try:
            yield self.clock()
            self.session.commit()
        except StaleDataError:
            self._notify_after_commit = False
            self.session.rollback()
            raise StaleVersion(
                "Someone else changed this resource at the same moment; fetch it again and "
                "re-apply your change."
            ) from None
        except BaseException:
            self._notify_after_commit = False
            self.session.rollback()
            raise
        if self._notify_after_commit:
            self._notify_after_commit = False
            if self.on_learning_pending is not None:
                self.on_learning_pending()

    # --- Reads -----------------------------------------------------------------------------

    def _get(self, table: type[Row], key: object, missing: str) -> Row:
        """The row of ``table`` whose primary key is ``key``; :class:`NotFound` saying
        ``missing`` (the 404's detail) when there is none."""
        row = self.session.get(table, key)
        if row is None:
            raise NotFound(missing)
        return row

    # --- Changes and revisions --------------------------------------------------------------

    @staticmethod
    def _differing(row: Versioned, values: Mapping[str, Any]) -> dict[str, Any]:
        """The entries of ``values`` that differ from ``row``'s attributes of the same names."""
        return {name: value for name, value in values.items() if getattr(row, name) != value}

    def _save_change(self, row: Versioned, now: datetime, actor: str, **values: Any) -> None:
        """Set ``values`` on ``row``, stamp it as changed by ``actor`` at ``now`` and write it:
        the UPDATE checks and bumps its version (:class:`StaleVersion` when someone else's
        change came first)."""
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at, row.updated_by = now, actor
        self.session.flush()

    def _revise(
        self, revision: type[Revision], row: Versioned, fields: Sequence[str], action: str,
        now: datetime, actor: str, **owner: Any,
    ) -> None:
        """Append a ``revision`` holding ``row``'s ``fields`` as they are after ``action``;
        ``owner`` names the record's id column (and, for a claim, the reason)."""
        self.session.add(revision(
            version=row.version, action=action, recorded_at=now, recorded_by=actor, **owner,
            **_copy(row, fields),
        ))

    def _history(
        self, revision: type[Revision], owner: Any, page: int, page_size: int
    ) -> Page[Revision]:
        """The ``revision`` rows meeting ``owner`` (a record's id condition), oldest first."""
        query = select(revision).where(owner).order_by(revision.version)
        return self._paginate(query, page, page_size)

    def _is_postgresql(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _paginate(self, query: Select[T], page: int, page_size: int) -> Page[T]:
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        items = list(self.session.scalars(query.limit(page_size).offset((page - 1) * page_size)))
        return Page(items, int(total), page, page_size)
