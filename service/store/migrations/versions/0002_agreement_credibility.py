"""Agreement-based credibility: one row per source, written by ``triangulate learn agreement``."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.store.migrations.ddl import columns, create_row_per

revision: str = "0002"
down_revision: str | None = "0001"


def upgrade() -> None:
    create_row_per(
        "agreement_credibility", "sources", "source_id", sa.String(length=128),
        *columns(sa.Double(), "credibility", "spread", "bias", "hit_rate", nullable=False),
        *columns(sa.Integer(), "n_claims", "n_questions", nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("agreement_credibility")
