"""safe-zone certification: criteria sets, certifications, their history, certificate counters

Revision ID: d2210ea99382
Revises: f9ac7635a8cd
Create Date: 2026-11-29 07:47:30.958985+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.db
from alembic import op

revision: str = "d2210ea99382"
down_revision: str | Sequence[str] | None = "f9ac7635a8cd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certification_criteria_sets",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("set_version", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("legal_basis", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("criteria", sa.JSON(), nullable=False),
        sa.Column("pass_rule", sa.JSON(), nullable=False),
        sa.Column("in_use", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_criteria_sets")),
    )
    with op.batch_alter_table("certification_criteria_sets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_certification_criteria_sets_year"), ["year"], unique=False
        )
        batch_op.create_index(
            "uq_certification_criteria_sets_year_set_version",
            ["year", "set_version"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "certificate_counters",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_no", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_certificate_counters_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificate_counters")),
        sa.UniqueConstraint(
            "ward_code", "year", name=op.f("uq_certificate_counters_ward_code_year")
        ),
    )
    op.create_table(
        "certifications",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("neighbourhood_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("criteria_set_id", sa.Uuid(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("resolution_no", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("households_committed", sa.Integer(), nullable=False),
        sa.Column("households_total", sa.Integer(), nullable=False),
        sa.Column("self_assessment", sa.JSON(), nullable=False),
        sa.Column("submitted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_criteria", sa.JSON(), nullable=True),
        sa.Column("review_total_score", sa.Integer(), nullable=True),
        sa.Column("review_passed", sa.Boolean(), nullable=True),
        sa.Column("review_unmet", sa.JSON(), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("certificate_no", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("decision_no", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_reasons", sa.JSON(), nullable=True),
        sa.Column("override_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column(
            "revocation_reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
        ),
        sa.Column("revoked_on", sa.Date(), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.Column("revoked_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'submitted', 'under_review', 'certified', 'rejected', 'revoked')",
            name=op.f("ck_certifications_status"),
        ),
        sa.CheckConstraint(
            "households_committed >= 0 AND households_committed <= households_total",
            name=op.f("ck_certifications_households"),
        ),
        sa.ForeignKeyConstraint(
            ["criteria_set_id"],
            ["certification_criteria_sets.id"],
            name=op.f("fk_certifications_criteria_set_id_certification_criteria_sets"),
        ),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["neighbourhoods.id"],
            name=op.f("fk_certifications_neighbourhood_id_neighbourhoods"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_certifications_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_certifications_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certifications")),
    )
    with op.batch_alter_table("certifications", schema=None) as batch_op:
        batch_op.create_index("ix_certifications_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_certifications_criteria_set_id"), ["criteria_set_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_certifications_neighbourhood_id"), ["neighbourhood_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_certifications_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index("ix_certifications_status_year", ["status", "year"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_certifications_ward_code"), ["ward_code"], unique=False
        )
        batch_op.create_index(
            "ix_certifications_ward_code_created_at_id",
            ["ward_code", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_certifications_year"), ["year"], unique=False)
        batch_op.create_index("uq_certifications_certificate_no", ["certificate_no"], unique=True)
        batch_op.create_index(
            "uq_certifications_neighbourhood_id_year",
            ["neighbourhood_id", "year"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "certification_events",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("certification_id", sa.Uuid(), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["certifications.id"],
            name=op.f("fk_certification_events_certification_id_certifications"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_certification_events_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_certification_events_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certification_events")),
    )
    with op.batch_alter_table("certification_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_certification_events_certification_id_created_at_id",
            ["certification_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_certification_events_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_certification_events_ward_code"), ["ward_code"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("certification_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certification_events_ward_code"))
        batch_op.drop_index(batch_op.f("ix_certification_events_province_code"))
        batch_op.drop_index("ix_certification_events_certification_id_created_at_id")

    op.drop_table("certification_events")
    with op.batch_alter_table("certifications", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_certifications_neighbourhood_id_year",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index("uq_certifications_certificate_no")
        batch_op.drop_index(batch_op.f("ix_certifications_year"))
        batch_op.drop_index("ix_certifications_ward_code_created_at_id")
        batch_op.drop_index(batch_op.f("ix_certifications_ward_code"))
        batch_op.drop_index("ix_certifications_status_year")
        batch_op.drop_index(batch_op.f("ix_certifications_province_code"))
        batch_op.drop_index(batch_op.f("ix_certifications_neighbourhood_id"))
        batch_op.drop_index(batch_op.f("ix_certifications_criteria_set_id"))
        batch_op.drop_index("ix_certifications_created_at_id")

    op.drop_table("certifications")
    op.drop_table("certificate_counters")
    with op.batch_alter_table("certification_criteria_sets", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_certification_criteria_sets_year_set_version",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_certification_criteria_sets_year"))

    op.drop_table("certification_criteria_sets")
