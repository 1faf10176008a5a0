"""Learning outside the write: the state of the track records (current or pending)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.store.migrations.ddl import primary_key

revision: str = "0005"
down_revision: str | None = "0004"


def upgrade() -> None:
    op.create_table(
        "learning_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("learned_generation", sa.Integer(), nullable=False),
        sa.Column("learned_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=True),
        primary_key("learning_state", "id"),
    )
    # Until now every write relearned in its own transaction: whatever is stored is current.
    op.execute(
        "INSERT INTO learning_state (id, generation, changed_at, learned_generation, "
        "learned_as_of, learned_at) SELECT 1, 0, MAX(updated_at), 0, MAX(updated_at), "
        "MAX(updated_at) FROM track_records"
    )


def downgrade() -> None:
    op.drop_table("learning_state")
