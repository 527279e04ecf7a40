"""fire safety: teams, equipment, drills, competitions and entries

Revision ID: 4118edb2825b
Revises: adb9641cbe37
Create Date: 2026-11-29 07:43:35.271869+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.db
from alembic import op

revision: str = "4118edb2825b"
down_revision: str | Sequence[str] | None = "adb9641cbe37"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "competitions",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("unit_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_competitions_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_competitions_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competitions")),
    )
    with op.batch_alter_table("competitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_competitions_level"), ["level"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_competitions_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_competitions_unit_code"), ["unit_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_competitions_ward_code"), ["ward_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_competitions_year"), ["year"], unique=False)
        batch_op.create_index(
            "ix_competitions_year_created_at_id", ["year", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            "uq_competitions_unit_code_year_name",
            ["unit_code", "year", "name"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "fire_teams",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("neighbourhood_id", sa.Uuid(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("leader_user_id", sa.Uuid(), nullable=True),
        sa.Column("leader_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("leader_phone", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("households", sa.JSON(), nullable=False),
        sa.Column("household_count", sa.Integer(), nullable=False),
        sa.Column("public_fire_points", sa.JSON(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["leader_user_id"], ["users.id"], name=op.f("fk_fire_teams_leader_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["neighbourhoods.id"],
            name=op.f("fk_fire_teams_neighbourhood_id_neighbourhoods"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_fire_teams_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_fire_teams_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fire_teams")),
    )
    with op.batch_alter_table("fire_teams", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_fire_teams_leader_user_id"), ["leader_user_id"], unique=False
        )
        batch_op.create_index("ix_fire_teams_name_id", ["name", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fire_teams_neighbourhood_id"), ["neighbourhood_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fire_teams_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fire_teams_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_fire_teams_ward_code"), ["ward_code"], unique=False)
        batch_op.create_index(
            "ix_fire_teams_ward_code_name_id", ["ward_code", "name", "id"], unique=False
        )
        batch_op.create_index(
            "uq_fire_teams_neighbourhood_id_name",
            ["neighbourhood_id", "name"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "competition_entries",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("competition_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("theory_score", sa.Integer(), nullable=True),
        sa.Column("practical_score", sa.Integer(), nullable=True),
        sa.Column("practical_seconds", sa.Float(), nullable=True),
        sa.Column("total_score", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["competition_id"],
            ["competitions.id"],
            name=op.f("fk_competition_entries_competition_id_competitions"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_competition_entries_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["fire_teams.id"], name=op.f("fk_competition_entries_team_id_fire_teams")
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_competition_entries_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competition_entries")),
    )
    with op.batch_alter_table("competition_entries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_competition_entries_competition_id"), ["competition_id"], unique=False
        )
        batch_op.create_index(
            "ix_competition_entries_competition_id_created_at_id",
            ["competition_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_competition_entries_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_competition_entries_team_id"), ["team_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_competition_entries_ward_code"), ["ward_code"], unique=False
        )
        batch_op.create_index(
            "uq_competition_entries_competition_id_team_id",
            ["competition_id", "team_id"],
            unique=True,
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "drills",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("neighbourhood_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("scenario", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("planned_for", sa.Date(), nullable=False),
        sa.Column("held_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("occurs_on", sa.Date(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=True),
        sa.Column("households_present", sa.Integer(), nullable=True),
        sa.Column("response_seconds", sa.Integer(), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("notes", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["neighbourhoods.id"],
            name=op.f("fk_drills_neighbourhood_id_neighbourhoods"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_drills_province_code_provinces")
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["fire_teams.id"], name=op.f("fk_drills_team_id_fire_teams")
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_drills_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_drills")),
    )
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_drills_held_at"), ["held_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_drills_neighbourhood_id"), ["neighbourhood_id"], unique=False
        )
        batch_op.create_index("ix_drills_occurs_on_id", ["occurs_on", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_drills_outcome"), ["outcome"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_drills_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_drills_team_id"), ["team_id"], unique=False)
        batch_op.create_index(
            "ix_drills_team_id_occurs_on_id", ["team_id", "occurs_on", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_drills_ward_code"), ["ward_code"], unique=False)
        batch_op.create_index(
            "ix_drills_ward_code_occurs_on_id", ["ward_code", "occurs_on", "id"], unique=False
        )

    op.create_table(
        "fire_equipment",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("neighbourhood_id", sa.Uuid(), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("household", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("public_point", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("last_inspected_on", sa.Date(), nullable=True),
        sa.Column("inspection_interval_months", sa.Integer(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("next_inspection_on", sa.Date(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["neighbourhoods.id"],
            name=op.f("fk_fire_equipment_neighbourhood_id_neighbourhoods"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_fire_equipment_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["fire_teams.id"], name=op.f("fk_fire_equipment_team_id_fire_teams")
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_fire_equipment_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fire_equipment")),
    )
    with op.batch_alter_table("fire_equipment", schema=None) as batch_op:
        batch_op.create_index("ix_fire_equipment_due_on_id", ["due_on", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_fire_equipment_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_fire_equipment_neighbourhood_id"), ["neighbourhood_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fire_equipment_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_fire_equipment_team_id"), ["team_id"], unique=False)
        batch_op.create_index(
            "ix_fire_equipment_team_id_created_at_id", ["team_id", "created_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_fire_equipment_ward_code"), ["ward_code"], unique=False
        )
        batch_op.create_index(
            "ix_fire_equipment_ward_code_due_on_id", ["ward_code", "due_on", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("fire_equipment", schema=None) as batch_op:
        batch_op.drop_index("ix_fire_equipment_ward_code_due_on_id")
        batch_op.drop_index(batch_op.f("ix_fire_equipment_ward_code"))
        batch_op.drop_index("ix_fire_equipment_team_id_created_at_id")
        batch_op.drop_index(batch_op.f("ix_fire_equipment_team_id"))
        batch_op.drop_index(batch_op.f("ix_fire_equipment_province_code"))
        batch_op.drop_index(batch_op.f("ix_fire_equipment_neighbourhood_id"))
        batch_op.drop_index(batch_op.f("ix_fire_equipment_kind"))
        batch_op.drop_index("ix_fire_equipment_due_on_id")

    op.drop_table("fire_equipment")
    with op.batch_alter_table("drills", schema=None) as batch_op:
        batch_op.drop_index("ix_drills_ward_code_occurs_on_id")
        batch_op.drop_index(batch_op.f("ix_drills_ward_code"))
        batch_op.drop_index("ix_drills_team_id_occurs_on_id")
        batch_op.drop_index(batch_op.f("ix_drills_team_id"))
        batch_op.drop_index(batch_op.f("ix_drills_province_code"))
        batch_op.drop_index(batch_op.f("ix_drills_outcome"))
        batch_op.drop_index("ix_drills_occurs_on_id")
        batch_op.drop_index(batch_op.f("ix_drills_neighbourhood_id"))
        batch_op.drop_index(batch_op.f("ix_drills_held_at"))

    op.drop_table("drills")
    with op.batch_alter_table("competition_entries", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_competition_entries_competition_id_team_id",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_competition_entries_ward_code"))
        batch_op.drop_index(batch_op.f("ix_competition_entries_team_id"))
        batch_op.drop_index(batch_op.f("ix_competition_entries_province_code"))
        batch_op.drop_index("ix_competition_entries_competition_id_created_at_id")
        batch_op.drop_index(batch_op.f("ix_competition_entries_competition_id"))

    op.drop_table("competition_entries")
    with op.batch_alter_table("fire_teams", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_fire_teams_neighbourhood_id_name",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index("ix_fire_teams_ward_code_name_id")
        batch_op.drop_index(batch_op.f("ix_fire_teams_ward_code"))
        batch_op.drop_index(batch_op.f("ix_fire_teams_status"))
        batch_op.drop_index(batch_op.f("ix_fire_teams_province_code"))
        batch_op.drop_index(batch_op.f("ix_fire_teams_neighbourhood_id"))
        batch_op.drop_index("ix_fire_teams_name_id")
        batch_op.drop_index(batch_op.f("ix_fire_teams_leader_user_id"))

    op.drop_table("fire_teams")
    with op.batch_alter_table("competitions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_competitions_unit_code_year_name",
            sqlite_where=sa.text("deleted_at IS NULL"),
            postgresql_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index("ix_competitions_year_created_at_id")
        batch_op.drop_index(batch_op.f("ix_competitions_year"))
        batch_op.drop_index(batch_op.f("ix_competitions_ward_code"))
        batch_op.drop_index(batch_op.f("ix_competitions_unit_code"))
        batch_op.drop_index(batch_op.f("ix_competitions_province_code"))
        batch_op.drop_index(batch_op.f("ix_competitions_level"))

    op.drop_table("competitions")
