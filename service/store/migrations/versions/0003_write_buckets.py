"""Write-rate token buckets in the database, shared by every worker (was: per process)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from service.store.migrations.ddl import columns, create_row_per

revision: str = "0003"
down_revision: str | None = "0002"


def upgrade() -> None:
    create_row_per(
        "write_buckets", "api_keys", "key_id", sa.String(length=32),
        *columns(sa.Double(), "tokens", "refilled_at", nullable=False), referred_column="key_id",
    )


def downgrade() -> None:
    op.drop_table("write_buckets")
