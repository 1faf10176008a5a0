"""A shared error per question: a question's category, and the shared error learned for each
category from its resolved questions (see models.shared_error).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 02:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Length of a category's name (service.store.orm.CATEGORY_LENGTH).
_CATEGORY_LENGTH = 64


def upgrade() -> None:
    # Questions stored so far have no category: their shared error stays the default.
    for table in ("questions", "question_revisions"):
        op.add_column(table, sa.Column("category", sa.String(length=_CATEGORY_LENGTH),
                                       nullable=True))
    op.create_table(
        "shared_errors",
        sa.Column("category", sa.String(length=_CATEGORY_LENGTH), nullable=False),
        sa.Column("scale", sa.String(length=8), nullable=False),
        sa.Column("value", sa.Double(), nullable=False),
        sa.Column("n_questions", sa.Integer(), nullable=False),
        sa.Column("log_likelihood_gain", sa.Double(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("category", "scale", name=op.f("pk_shared_errors")),
    )


def downgrade() -> None:
    op.drop_table("shared_errors")
    for table in ("question_revisions", "questions"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("category")
