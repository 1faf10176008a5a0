"""Agreement-based credibility: one row per source, written by ``triangulate learn agreement``.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agreement_credibility",
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("credibility", sa.Double(), nullable=False),
        sa.Column("spread", sa.Double(), nullable=False),
        sa.Column("bias", sa.Double(), nullable=False),
        sa.Column("hit_rate", sa.Double(), nullable=False),
        sa.Column("n_claims", sa.Integer(), nullable=False),
        sa.Column("n_questions", sa.Integer(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"],
            name=op.f("fk_agreement_credibility_source_id_sources"),
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_agreement_credibility")),
    )


def downgrade() -> None:
    op.drop_table("agreement_credibility")
