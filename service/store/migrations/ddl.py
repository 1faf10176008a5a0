"""What the migrations build their tables from, so that each says only what its tables hold.

Columns of one type given by their names, and keys named as the ORM's naming convention names
them (:data:`service.store.orm.NAMING_CONVENTION`): ``pk_<table>``,
``fk_<table>_<column>_<referred table>``.

Every migration runs these, the old ones included: change one only in a way that leaves what
they create unchanged (``tests/store/test_migrations.py`` builds the schema from nothing on
SQLite and PostgreSQL and compares it with the ORM).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

__all__ = ["columns", "create_row_per", "foreign_key", "primary_key"]


def columns(
    type_: sa.types.TypeEngine[Any], *names: str, nullable: bool
) -> list[sa.Column[Any]]:
    """Columns ``names`` of one type, in that order (a type holds no state of its own column)."""
    return [sa.Column(name, type_, nullable=nullable) for name in names]


def primary_key(table: str, *names: str) -> sa.PrimaryKeyConstraint:
    """The primary key of ``table`` on columns ``names``."""
    return sa.PrimaryKeyConstraint(*names, name=op.f(f"pk_{table}"))


def foreign_key(
    table: str, column: str, referred: str, referred_column: str = "id"
) -> sa.ForeignKeyConstraint:
    """``table.column`` → ``referred.referred_column``."""
    return sa.ForeignKeyConstraint(
        [column], [f"{referred}.{referred_column}"], name=op.f(f"fk_{table}_{column}_{referred}")
    )


def create_row_per(
    table: str, referred: str, key: str, key_type: sa.types.TypeEngine[Any], *more: sa.Column[Any],
    referred_column: str = "id",
) -> None:
    """Create ``table``, which holds at most one row per row of ``referred``: its primary key,
    column ``key``, refers to ``referred.referred_column``; ``more`` are its other columns."""
    op.create_table(
        table,
        sa.Column(key, key_type, nullable=False),
        *more,
        foreign_key(table, key, referred, referred_column),
        primary_key(table, key),
    )
