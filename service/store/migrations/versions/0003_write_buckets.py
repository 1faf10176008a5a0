"""Write-rate token buckets in the database, shared by every worker (was: per process).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "write_buckets",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("tokens", sa.Double(), nullable=False),
        sa.Column("refilled_at", sa.Double(), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.key_id"], name=op.f("fk_write_buckets_key_id_api_keys"),
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_write_buckets")),
    )


def downgrade() -> None:
    op.drop_table("write_buckets")
