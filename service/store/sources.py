"""Stored sources: create, read, list, edit, and their history."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from service.store.errors import Conflict
from service.store.inputs import (
    Page,
    SourceInput,
    _reliability_columns,
)
from service.store.learning import LearningStore
from service.store.orm import (
    SOURCE_FIELDS,
    Source,
    SourceRevision,
)
from service.store.versions import Precondition

__all__ = ["SourceStore"]


class SourceStore(LearningStore):
    """Stored sources and their history."""

    # --- Sources ----------------------------------------------------------------------------

    def get_source(self, source_id: str) -> Source:
        """The source ``source_id``; 404 when there is none."""
        return self._get(Source, source_id, f"There is no source with id {source_id!r}.")

    def list_sources(
        self, *, type: str | None = None, grade: str | None = None, page: int = 1,
        page_size: int = 50,
    ) -> Page[Source]:
        """Sources ordered by id, optionally of one type or grade (``F`` includes ungraded)."""
        query = select(Source).order_by(Source.id)
        if type is not None:
            query = query.where(Source.type == type)
        if grade == "F":
            # F and "not given" mean the same: reliability cannot be judged.
            query = query.where(
                (Source.grade == "F")
                | (Source.grade.is_(None) & Source.reliability_number.is_(None))
            )
        elif grade is not None:
            query = query.where(Source.grade == grade)
        return self._paginate(query, page, page_size)

    def create_source(self, new: SourceInput, actor: str) -> Source:
        """Store a new source; 409 when its id is taken."""
        with self._write() as now:
            if self.session.get(Source, new.id) is not None:
                raise Conflict(f"A source with id {new.id!r} already exists.")
            source = Source(
                id=new.id, name=new.name, type=new.type, **_reliability_columns(new.reliability),
                created_at=now, created_by=actor, updated_at=now, updated_by=actor,
            )
            self.session.add(source)
            try:
                self.session.flush()
            except IntegrityError:
                # Created by a concurrent request between the check and the insert.
                raise Conflict(f"A source with id {new.id!r} already exists.") from None
            self._record_source(source, "create", now, actor)
        return source

    def update_source(
        self, source_id: str, changes: Mapping[str, Any], precondition: Precondition, actor: str
    ) -> Source:
        """Change a source's name, type or reliability (keys of ``changes``)."""
        with self._write() as now:
            source = self.get_source(source_id)
            precondition.check(f"source {source_id!r}", source.version)
            values = dict(changes)
            if "reliability" in values:
                values.update(_reliability_columns(values.pop("reliability")))
            changed = self._differing(source, values)
            if not changed:
                return source
            self._save_change(source, now, actor, **changed)
            self._record_source(source, "edit", now, actor)
            if changed.keys() & {"type", "grade", "reliability_number"}:
                # The prior and the type's pooled record enter the learned credibility.
                self._learning_changed_if_resolved(now)
        return source

    def source_history(self, source_id: str, page: int, page_size: int) -> Page[SourceRevision]:
        """The revisions of a source, oldest first."""
        self.get_source(source_id)
        return self._history(
            SourceRevision, SourceRevision.source_id == source_id, page, page_size
        )

    def _record_source(self, source: Source, action: str, now: datetime, actor: str) -> None:
        self._revise(SourceRevision, source, SOURCE_FIELDS, action, now, actor,
                     source_id=source.id)
