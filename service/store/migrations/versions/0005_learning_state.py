"""Learning outside the write: the state of the track records (current or pending).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learning_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("learned_generation", sa.Integer(), nullable=False),
        sa.Column("learned_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_state")),
    )
    # Until now every write relearned in its own transaction: whatever is stored is current.
    op.execute(
        "INSERT INTO learning_state (id, generation, changed_at, learned_generation, "
        "learned_as_of, learned_at) SELECT 1, 0, MAX(updated_at), 0, MAX(updated_at), "
        "MAX(updated_at) FROM track_records"
    )


def downgrade() -> None:
    op.drop_table("learning_state")
