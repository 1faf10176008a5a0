"""Initial schema: sources, questions, claims, their revisions, track records, API keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-24 23:35:39
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("kdf", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=32), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_keys_key_id")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
    )
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("scale", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("resolution_value", sa.Double(), nullable=True),
        sa.Column("resolution_date", sa.Date(), nullable=True),
        sa.Column("resolution_reference", sa.String(length=2000), nullable=True),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_questions_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questions")),
    )
    op.create_index(op.f("ix_questions_status"), "questions", ["status"])

    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("reliability_number", sa.Double(), nullable=True),
        sa.CheckConstraint(
            "grade IS NULL OR reliability_number IS NULL", name=op.f("ck_sources_one_reliability")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
    )
    op.create_index(op.f("ix_sources_type"), "sources", ["type"])

    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("low", sa.Double(), nullable=True),
        sa.Column("high", sa.Double(), nullable=True),
        sa.Column("sd", sa.Double(), nullable=True),
        sa.Column("ci_low", sa.Double(), nullable=True),
        sa.Column("ci_high", sa.Double(), nullable=True),
        sa.Column("ci_level", sa.Double(), nullable=False),
        sa.Column("hedge", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=128), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("quote", sa.String(length=2000), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["question_id"], ["questions.id"], name=op.f("fk_claims_question_id_questions")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_claims_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
    )
    op.create_index(op.f("ix_claims_question_id"), "claims", ["question_id"])
    op.create_index(op.f("ix_claims_source_id"), "claims", ["source_id"])

    op.create_table(
        "question_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        sa.Column("scale", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("resolution_value", sa.Double(), nullable=True),
        sa.Column("resolution_date", sa.Date(), nullable=True),
        sa.Column("resolution_reference", sa.String(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["questions.id"],
            name=op.f("fk_question_revisions_question_id_questions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_question_revisions")),
        sa.UniqueConstraint(
            "question_id", "version", name=op.f("uq_question_revisions_question_id_version")
        ),
    )
    op.create_table(
        "source_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("reliability_number", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_source_revisions_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_source_revisions")),
        sa.UniqueConstraint(
            "source_id", "version", name=op.f("uq_source_revisions_source_id_version")
        ),
    )
    op.create_table(
        "track_record_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_resolved", sa.Integer(), nullable=False),
        sa.Column("credibility", sa.Double(), nullable=True),
        sa.Column("spread", sa.Double(), nullable=True),
        sa.Column("bias", sa.Double(), nullable=True),
        sa.Column("hit_rate", sa.Double(), nullable=True),
        sa.Column("observed_hit_rate", sa.Double(), nullable=True),
        sa.Column("calibration", sa.Double(), nullable=True),
        sa.Column("n_calibration", sa.Integer(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_track_record_history_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_record_history")),
    )
    op.create_index(
        op.f("ix_track_record_history_source_id_recorded_at"),
        "track_record_history",
        ["source_id", "recorded_at"],
    )

    op.create_table(
        "track_records",
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_resolved", sa.Integer(), nullable=False),
        sa.Column("credibility", sa.Double(), nullable=True),
        sa.Column("spread", sa.Double(), nullable=True),
        sa.Column("bias", sa.Double(), nullable=True),
        sa.Column("hit_rate", sa.Double(), nullable=True),
        sa.Column("observed_hit_rate", sa.Double(), nullable=True),
        sa.Column("calibration", sa.Double(), nullable=True),
        sa.Column("n_calibration", sa.Integer(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_track_records_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("source_id", name=op.f("pk_track_records")),
    )
    op.create_table(
        "claim_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Double(), nullable=True),
        sa.Column("low", sa.Double(), nullable=True),
        sa.Column("high", sa.Double(), nullable=True),
        sa.Column("sd", sa.Double(), nullable=True),
        sa.Column("ci_low", sa.Double(), nullable=True),
        sa.Column("ci_high", sa.Double(), nullable=True),
        sa.Column("ci_level", sa.Double(), nullable=False),
        sa.Column("hedge", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=128), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("quote", sa.String(length=2000), nullable=True),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_revisions_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["source_id"], ["sources.id"], name=op.f("fk_claim_revisions_source_id_sources")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_revisions")),
        sa.UniqueConstraint(
            "claim_id", "version", name=op.f("uq_claim_revisions_claim_id_version")
        ),
    )
    op.create_index(
        op.f("ix_claim_revisions_claim_id_recorded_at"),
        "claim_revisions",
        ["claim_id", "recorded_at"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_claim_revisions_claim_id_recorded_at"), table_name="claim_revisions")

    op.drop_table("claim_revisions")
    op.drop_table("track_records")
    op.drop_index(
        op.f("ix_track_record_history_source_id_recorded_at"), table_name="track_record_history"
    )

    op.drop_table("track_record_history")
    op.drop_table("source_revisions")
    op.drop_table("question_revisions")
    op.drop_index(op.f("ix_claims_source_id"), table_name="claims")
    op.drop_index(op.f("ix_claims_question_id"), table_name="claims")

    op.drop_table("claims")
    op.drop_index(op.f("ix_sources_type"), table_name="sources")

    op.drop_table("sources")
    op.drop_index(op.f("ix_questions_status"), table_name="questions")

    op.drop_table("questions")
    op.drop_table("api_keys")
