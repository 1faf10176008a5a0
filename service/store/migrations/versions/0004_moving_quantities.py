"""Quantities that move: a question's dynamics and a claim's horizon in time."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"

#: Every stored question and claim so far is static and speaks of the level on its date.
_COLUMNS = (
    ("questions", "dynamics", 16, "static"),
    ("question_revisions", "dynamics", 16, "static"),
    ("claims", "horizon", 8, "level"),
    ("claim_revisions", "horizon", 8, "level"),
)


def upgrade() -> None:
    for table, column, length, default in _COLUMNS:
        op.add_column(table, sa.Column(column, sa.String(length=length), nullable=False,
                                       server_default=default))


def downgrade() -> None:
    for table, column, _, _ in reversed(_COLUMNS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
