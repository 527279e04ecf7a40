"""reports, open311 and broadcasts: community reports, their updates, broadcasts, client api keys

Revision ID: 3c5609a770bb
Revises: 4118edb2825b
Create Date: 2026-11-29 07:45:57.645577+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

import app.db
from alembic import op

revision: str = "3c5609a770bb"
down_revision: str | Sequence[str] | None = "4118edb2825b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("target_unit_codes", sa.JSON(), nullable=False),
        sa.Column("publish_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_broadcasts_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_broadcasts_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_broadcasts_author_id"), ["author_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_broadcasts_kind"), ["kind"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_broadcasts_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(
            "ix_broadcasts_province_code_publish_at_id",
            ["province_code", "publish_at", "id"],
            unique=False,
        )
        batch_op.create_index("ix_broadcasts_publish_at_id", ["publish_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_broadcasts_ward_code"), ["ward_code"], unique=False)

    op.create_table(
        "broadcast_acknowledgements",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("broadcast_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True),
        sa.Column("neighbourhood_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_acknowledgements_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_broadcast_acknowledgements_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_acknowledgements")),
    )
    with op.batch_alter_table("broadcast_acknowledgements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcast_acknowledgements_broadcast_id"), ["broadcast_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_broadcast_acknowledgements_neighbourhood_id"),
            ["neighbourhood_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_broadcast_acknowledgements_province_code"),
            ["province_code"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_broadcast_acknowledgements_user_id"), ["user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_broadcast_acknowledgements_ward_code"), ["ward_code"], unique=False
        )
        batch_op.create_index(
            "uq_broadcast_acknowledgements_broadcast_id_user_id",
            ["broadcast_id", "user_id"],
            unique=True,
        )

    op.create_table(
        "broadcast_targets",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("broadcast_id", sa.Uuid(), nullable=False),
        sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("unit_code", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("neighbourhood_id", sa.Uuid(), nullable=True),
        sa.Column("residential_group_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_targets_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["neighbourhoods.id"],
            name=op.f("fk_broadcast_targets_neighbourhood_id_neighbourhoods"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_broadcast_targets_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["residential_group_id"],
            ["residential_groups.id"],
            name=op.f("fk_broadcast_targets_residential_group_id_residential_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_broadcast_targets_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_targets")),
    )
    with op.batch_alter_table("broadcast_targets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_broadcast_targets_broadcast_id"), ["broadcast_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_broadcast_targets_neighbourhood_id"), ["neighbourhood_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_broadcast_targets_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_broadcast_targets_residential_group_id"),
            ["residential_group_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_broadcast_targets_ward_code"), ["ward_code"], unique=False
        )

    op.create_table(
        "reports",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("neighbourhood_id", sa.Uuid(), nullable=True),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("media_refs", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("reporter_id", sa.Uuid(), nullable=True),
        sa.Column("tracking_code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("assigned_to", sa.Uuid(), nullable=True),
        sa.Column("duplicate_of", sa.Uuid(), nullable=True),
        sa.Column("acknowledged_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_to"], ["users.id"], name=op.f("fk_reports_assigned_to_users")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["clients.id"], name=op.f("fk_reports_client_id_clients")
        ),
        sa.ForeignKeyConstraint(
            ["duplicate_of"], ["reports.id"], name=op.f("fk_reports_duplicate_of_reports")
        ),
        sa.ForeignKeyConstraint(
            ["neighbourhood_id"],
            ["neighbourhoods.id"],
            name=op.f("fk_reports_neighbourhood_id_neighbourhoods"),
        ),
        sa.ForeignKeyConstraint(
            ["province_code"], ["provinces.code"], name=op.f("fk_reports_province_code_provinces")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["users.id"], name=op.f("fk_reports_reporter_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_reports_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("tracking_code_hash", name=op.f("uq_reports_tracking_code_hash")),
    )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reports_assigned_to"), ["assigned_to"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_category"), ["category"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_client_id"), ["client_id"], unique=False)
        batch_op.create_index("ix_reports_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_duplicate_of"), ["duplicate_of"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_reports_neighbourhood_id"), ["neighbourhood_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_reports_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(
            "ix_reports_reporter_id_created_at_id",
            ["reporter_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_reports_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_reports_ward_code"), ["ward_code"], unique=False)
        batch_op.create_index(
            "ix_reports_ward_code_created_at_id", ["ward_code", "created_at", "id"], unique=False
        )

    op.create_table(
        "report_updates",
        sa.Column("created_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("deleted_at", app.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("province_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("ward_code", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("from_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("to_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=True),
        sa.Column("assigned_to", sa.Uuid(), nullable=True),
        sa.Column("priority", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True),
        sa.ForeignKeyConstraint(
            ["assigned_to"], ["users.id"], name=op.f("fk_report_updates_assigned_to_users")
        ),
        sa.ForeignKeyConstraint(
            ["province_code"],
            ["provinces.code"],
            name=op.f("fk_report_updates_province_code_provinces"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_updates_report_id_reports")
        ),
        sa.ForeignKeyConstraint(
            ["ward_code"], ["wards.code"], name=op.f("fk_report_updates_ward_code_wards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_updates")),
    )
    with op.batch_alter_table("report_updates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_report_updates_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_updates_province_code"), ["province_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_report_updates_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(
            "ix_report_updates_report_id_created_at_id",
            ["report_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_report_updates_ward_code"), ["ward_code"], unique=False
        )
        batch_op.create_index(
            "ix_report_updates_ward_code_created_at_id",
            ["ward_code", "created_at", "id"],
            unique=False,
        )

    # The Open311 api_key of machine clients: only its SHA-256, unique.
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("api_key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_clients_api_key_hash"), ["api_key_hash"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("report_updates", schema=None) as batch_op:
        batch_op.drop_index("ix_report_updates_ward_code_created_at_id")
        batch_op.drop_index(batch_op.f("ix_report_updates_ward_code"))
        batch_op.drop_index("ix_report_updates_report_id_created_at_id")
        batch_op.drop_index(batch_op.f("ix_report_updates_report_id"))
        batch_op.drop_index(batch_op.f("ix_report_updates_province_code"))
        batch_op.drop_index(batch_op.f("ix_report_updates_author_id"))

    op.drop_table("report_updates")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_ward_code_created_at_id")
        batch_op.drop_index(batch_op.f("ix_reports_ward_code"))
        batch_op.drop_index(batch_op.f("ix_reports_status"))
        batch_op.drop_index("ix_reports_reporter_id_created_at_id")
        batch_op.drop_index(batch_op.f("ix_reports_province_code"))
        batch_op.drop_index(batch_op.f("ix_reports_neighbourhood_id"))
        batch_op.drop_index(batch_op.f("ix_reports_duplicate_of"))
        batch_op.drop_index("ix_reports_created_at_id")
        batch_op.drop_index(batch_op.f("ix_reports_client_id"))
        batch_op.drop_index(batch_op.f("ix_reports_category"))
        batch_op.drop_index(batch_op.f("ix_reports_assigned_to"))

    op.drop_table("reports")
    with op.batch_alter_table("broadcast_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcast_targets_ward_code"))
        batch_op.drop_index(batch_op.f("ix_broadcast_targets_residential_group_id"))
        batch_op.drop_index(batch_op.f("ix_broadcast_targets_province_code"))
        batch_op.drop_index(batch_op.f("ix_broadcast_targets_neighbourhood_id"))
        batch_op.drop_index(batch_op.f("ix_broadcast_targets_broadcast_id"))

    op.drop_table("broadcast_targets")
    with op.batch_alter_table("broadcast_acknowledgements", schema=None) as batch_op:
        batch_op.drop_index("uq_broadcast_acknowledgements_broadcast_id_user_id")
        batch_op.drop_index(batch_op.f("ix_broadcast_acknowledgements_ward_code"))
        batch_op.drop_index(batch_op.f("ix_broadcast_acknowledgements_user_id"))
        batch_op.drop_index(batch_op.f("ix_broadcast_acknowledgements_province_code"))
        batch_op.drop_index(batch_op.f("ix_broadcast_acknowledgements_neighbourhood_id"))
        batch_op.drop_index(batch_op.f("ix_broadcast_acknowledgements_broadcast_id"))

    op.drop_table("broadcast_acknowledgements")
    with op.batch_alter_table("broadcasts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_broadcasts_ward_code"))
        batch_op.drop_index("ix_broadcasts_publish_at_id")
        batch_op.drop_index("ix_broadcasts_province_code_publish_at_id")
        batch_op.drop_index(batch_op.f("ix_broadcasts_province_code"))
        batch_op.drop_index(batch_op.f("ix_broadcasts_kind"))
        batch_op.drop_index(batch_op.f("ix_broadcasts_author_id"))

    op.drop_table("broadcasts")
    # Last: SQLite rebuilds the clients table to drop a column, and reports
    # (which refer to clients) must be gone by then.
    with op.batch_alter_table("clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_clients_api_key_hash"))
        batch_op.drop_column("api_key_hash")
