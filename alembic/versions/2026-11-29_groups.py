"""groups: self-managed groups, members, coverage, exemplary models

Revision ID: f9ac7635a8cd
Revises: e545da606c36
Create Date: 2026-11-29 07:41:48.608285+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.db
from alembic import op

revision: str = "f9ac7635a8cd"
down_revision: str | Sequence[str] | None = "e545da606c36"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "self_managed_groups",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("neighbourhood_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("search_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("households_covered", sa.Integer(), nullable=True),
        sa.Column("founded_on", sa.Date(), nullable=True),
        sa.Column(
            "founding_decision_no", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
        ),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("charter_notes", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("households_linked", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["neighbourhoods.id"],
            name=op.f("fk_self_managed_groups_neighbourhood_id_neighbourhoods"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_self_managed_groups_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_self_managed_groups_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_self_managed_groups")),
    )
    with op.batch_alter_table("self_managed_groups", schema=None) as batch_op:
        batch_op.create_index(
            "ix_self_managed_groups_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_self_managed_groups_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_self_managed_groups_neighbourhood_id"),
            ["neighbourhood_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_self_managed_groups_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_self_managed_groups_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_self_managed_groups_ward_code"), ["ward_code"], unique=False
        )
        batch_op.create_index(
            "ix_self_managed_groups_ward_code_created_at_id",
            ["ward_code", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "exemplary_models",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("decision_no", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("citation", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["self_managed_groups.id"],
            name=op.f("fk_exemplary_models_group_id_self_managed_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_exemplary_models_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_exemplary_models_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exemplary_models")),
    )
    with op.batch_alter_table("exemplary_models", schema=None) as batch_op:
        batch_op.create_index(
            "ix_exemplary_models_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exemplary_models_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exemplary_models_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_exemplary_models_ward_code"), ["ward_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_exemplary_models_year"), ["year"], unique=False)
        batch_op.create_index(
            "uq_exemplary_models_group_id_year",
            ["group_id", "year"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "group_members",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("full_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("position", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("resident_since", sa.Date(), nullable=True),
        sa.Column("elected_on", sa.Date(), nullable=True),
        sa.Column(
            "exception_approved_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True
        ),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["self_managed_groups.id"],
            name=op.f("fk_group_members_group_id_self_managed_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_group_members_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_group_members_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_group_members_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_members")),
    )
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.create_index(
            "ix_group_members_group_id_created_at_id",
            ["group_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_group_members_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_group_members_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_group_members_ward_code"), ["ward_code"], unique=False)
        batch_op.create_index(
            "uq_group_members_group_id_user_id",
            ["group_id", "user_id"],
            unique=True,
            sqlite_where=sa.text("user_id IS NOT NULL AND deleted_at IS NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL AND deleted_at IS NULL"),
        )
        batch_op.create_index(
            "uq_group_members_one_active_leader",
            ["group_id"],
            unique=True,
            sqlite_where=sa.text("position = 'leader' AND left_on IS NULL AND deleted_at IS NULL"),
            postgresql_where=sa.text(
                "position = 'leader' AND left_on IS NULL AND deleted_at IS NULL"
            ),
        )

    op.create_table(
        "group_residential_groups",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("residential_group_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["self_managed_groups.id"],
            name=op.f("fk_group_residential_groups_group_id_self_managed_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["residential_group_id"],
            ["residential_groups.id"],
            name=op.f("fk_group_residential_groups_residential_group_id_residential_groups"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_residential_groups")),
    )
    with op.batch_alter_table("group_residential_groups", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_group_residential_groups_group_id"), ["group_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_group_residential_groups_residential_group_id"),
            ["residential_group_id"],
            unique=False,
        )
        batch_op.create_index(
            "uq_group_residential_groups_group_id_residential_group_id",
            ["group_id", "residential_group_id"],
            unique=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("group_residential_groups", schema=None) as batch_op:
        batch_op.drop_index("uq_group_residential_groups_group_id_residential_group_id")
        batch_op.drop_index(batch_op.f("ix_group_residential_groups_residential_group_id"))
        batch_op.drop_index(batch_op.f("ix_group_residential_groups_group_id"))

    op.drop_table("group_residential_groups")
    with op.batch_alter_table("group_members", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_group_members_one_active_leader",
            sqlite_where=sa.text("position = 'leader' AND left_on IS NULL AND deleted_at IS NULL"),
            postgresql_where=sa.text(
                "position = 'leader' AND left_on IS NULL AND deleted_at IS NULL"
            ),
        )
        batch_op.drop_index(
            "uq_group_members_group_id_user_id",
            sqlite_where=sa.text("user_id IS NOT NULL AND deleted_at IS NULL"),
            postgresql_where=sa.text("user_id IS NOT NULL AND deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_group_members_ward_code"))
        batch_op.drop_index(batch_op.f("ix_group_members_user_id"))
        batch_op.drop_index(batch_op.f("ix_group_members_province_code"))
        batch_op.drop_index("ix_group_members_group_id_created_at_id")

    op.drop_table("group_members")
    with op.batch_alter_table("exemplary_models", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_exemplary_models_group_id_year",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_exemplary_models_year"))
        batch_op.drop_index(batch_op.f("ix_exemplary_models_ward_code"))
        batch_op.drop_index(batch_op.f("ix_exemplary_models_province_code"))
        batch_op.drop_index(batch_op.f("ix_exemplary_models_group_id"))
        batch_op.drop_index("ix_exemplary_models_created_at_id")

    op.drop_table("exemplary_models")
    with op.batch_alter_table("self_managed_groups", schema=None) as batch_op:
        batch_op.drop_index("ix_self_managed_groups_ward_code_created_at_id")
        batch_op.drop_index(batch_op.f("ix_self_managed_groups_ward_code"))
        batch_op.drop_index(batch_op.f("ix_self_managed_groups_status"))
        batch_op.drop_index(batch_op.f("ix_self_managed_groups_province_code"))
        batch_op.drop_index(batch_op.f("ix_self_managed_groups_neighbourhood_id"))
        batch_op.drop_index(batch_op.f("ix_self_managed_groups_kind"))
        batch_op.drop_index("ix_self_managed_groups_created_at_id")

    op.drop_table("self_managed_groups")
