"""Initial schema: sources, questions, claims, their revisions, track records, API keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from service.store.migrations.ddl import columns, create_row_per, foreign_key, primary_key

revision: str = "0001"
down_revision: str | None = None


# Each table's columns in the order the tables were first created. A record's editable fields
# stand in its current table and in its revision table alike (as the mixins of
# service/store/orm.py), so each list is built by one function; every call makes new Column
# objects, which a table takes ownership of.


def _stamp(verb: str, nullable: bool = False) -> list[sa.Column[Any]]:
    """``<verb>_at`` and ``<verb>_by``: when, and under which API key's name."""
    return [
        sa.Column(f"{verb}_at", sa.DateTime(timezone=True), nullable=nullable),
        sa.Column(f"{verb}_by", sa.String(length=64), nullable=nullable),
    ]


def _current(made: str) -> list[sa.Column[Any]]:
    """The version and the stamps of a current row, made (``created``/``entered``) and updated."""
    return [sa.Column("version", sa.Integer(), nullable=False), *_stamp(made), *_stamp("updated")]


def _question_fields() -> list[sa.Column[Any]]:
    return [
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("unit", sa.String(length=64), nullable=True),
        *columns(sa.String(length=8), "scale", "status", nullable=False),
        sa.Column("resolution_value", sa.Double(), nullable=True),
        sa.Column("resolution_date", sa.Date(), nullable=True),
        sa.Column("resolution_reference", sa.String(length=2000), nullable=True),
    ]


def _source_fields() -> list[sa.Column[Any]]:
    return [
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("grade", sa.String(length=1), nullable=True),
        sa.Column("reliability_number", sa.Double(), nullable=True),
    ]


def _claim_fields() -> list[sa.Column[Any]]:
    return [
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        *columns(sa.Double(), "value", "low", "high", "sd", "ci_low", "ci_high", nullable=True),
        sa.Column("ci_level", sa.Double(), nullable=False),
        sa.Column("hedge", sa.String(length=16), nullable=False),
        sa.Column("origin", sa.String(length=128), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=True),
        *columns(sa.String(length=2000), "quote", "url", nullable=True),
        sa.Column("retracted", sa.Boolean(), nullable=False),
    ]


def _track_record_fields() -> list[sa.Column[Any]]:
    return [
        sa.Column("n_resolved", sa.Integer(), nullable=False),
        *columns(sa.Double(), "credibility", "spread", "bias", "hit_rate", "observed_hit_rate",
                 "calibration", nullable=True),
        sa.Column("n_calibration", sa.Integer(), nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
    ]


def _create_revision_table(
    table: str,
    owner: sa.Column[Any],
    referred: str,
    fields: list[sa.Column[Any]],
    *,
    between: Sequence[sa.Column[Any]] = (),
    references: Sequence[tuple[str, str]] = (),
) -> None:
    """A record's revision table: its own id, the record's id (``owner``, a key of ``referred``),
    the revision's version, action and stamp (``between`` after the action), and the record's
    editable ``fields``; one revision per version of a record. ``references`` are further
    (column, referred table) foreign keys."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        owner,
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        *between,
        *_stamp("recorded"),
        *fields,
        foreign_key(table, owner.name, referred),
        *(foreign_key(table, column, other) for column, other in references),
        primary_key(table, "id"),
        sa.UniqueConstraint(owner.name, "version", name=op.f(f"uq_{table}_{owner.name}_version")),
    )


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
        primary_key("api_keys", "id"),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_keys_key_id")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
    )
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer(), nullable=False),
        *_current("created"),
        *_stamp("resolved", nullable=True),
        *_question_fields(),
        sa.CheckConstraint("status IN ('open', 'resolved')", name=op.f("ck_questions_status")),
        primary_key("questions", "id"),
    )
    op.create_index(op.f("ix_questions_status"), "questions", ["status"])

    op.create_table(
        "sources",
        sa.Column("id", sa.String(length=128), nullable=False),
        *_current("created"),
        *_source_fields(),
        sa.CheckConstraint(
            "grade IS NULL OR reliability_number IS NULL", name=op.f("ck_sources_one_reliability")
        ),
        primary_key("sources", "id"),
    )
    op.create_index(op.f("ix_sources_type"), "sources", ["type"])

    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=False),
        *_current("entered"),
        *_claim_fields(),
        foreign_key("claims", "question_id", "questions"),
        foreign_key("claims", "source_id", "sources"),
        primary_key("claims", "id"),
    )
    op.create_index(op.f("ix_claims_question_id"), "claims", ["question_id"])
    op.create_index(op.f("ix_claims_source_id"), "claims", ["source_id"])

    _create_revision_table(
        "question_revisions",
        sa.Column("question_id", sa.Integer(), nullable=False),
        "questions",
        _question_fields(),
    )
    _create_revision_table(
        "source_revisions",
        sa.Column("source_id", sa.String(length=128), nullable=False),
        "sources",
        _source_fields(),
    )
    op.create_table(
        "track_record_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        *_track_record_fields(),
        foreign_key("track_record_history", "source_id", "sources"),
        primary_key("track_record_history", "id"),
    )
    op.create_index(
        op.f("ix_track_record_history_source_id_recorded_at"),
        "track_record_history",
        ["source_id", "recorded_at"],
    )

    create_row_per(
        "track_records", "sources", "source_id", sa.String(length=128),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        *_track_record_fields(),
    )
    _create_revision_table(
        "claim_revisions",
        sa.Column("claim_id", sa.Integer(), nullable=False),
        "claims",
        _claim_fields(),
        between=[sa.Column("reason", sa.String(length=2000), nullable=True)],
        references=[("source_id", "sources")],
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
