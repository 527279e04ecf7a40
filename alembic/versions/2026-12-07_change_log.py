"""change log: one row per write of a record, in commit order, for the sync feed

Every audit event from now on comes with a change row in the same
transaction (app/data/writes.py). So that a ward system syncing from zero
receives every record that already exists, each live record of every domain
gets one ``upsert`` row here, written by this migration's transaction.

Revision ID: 30b7ba19f554
Revises: f27915cf9195
Create Date: 2026-12-07 23:30:00+00:00
"""

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

import app.db
from alembic import op
from app.models.changes import current_txid

revision: str = "30b7ba19f554"
down_revision: str | Sequence[str] | None = "f27915cf9195"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each domain table and the record type its unit of write names (as of this revision).
RECORD_TYPES = {
    "neighbourhoods": "neighbourhood",
    "residential_groups": "residential_group",
    "self_managed_groups": "group",
    "group_members": "group_member",
    "exemplary_models": "exemplary_model",
    "certification_criteria_sets": "certification_criteria_set",
    "certifications": "certification",
    "cameras": "camera",
    "footage_requests": "footage_request",
    "footage_request_items": "footage_request_item",
    "custody_events": "custody_event",
    "fire_teams": "fire_team",
    "fire_equipment": "fire_equipment",
    "drills": "drill",
    "competitions": "competition",
    "competition_entries": "competition_entry",
    "reports": "report",
    "report_updates": "report_update",
    "broadcasts": "broadcast",
    "broadcast_acknowledgements": "broadcast_acknowledgement",
    "users": "user",
    "clients": "client",
}
BATCH = 5_000


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("txid", sa.BigInteger(), server_default=current_txid(), nullable=False),
        sa.Column("record_type", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("ward_code", sa.String(length=5), nullable=True),
        sa.Column("was_province_code", sa.String(length=2), nullable=True),
        sa.Column("was_ward_code", sa.String(length=5), nullable=True),
        sa.Column("changed_at", app.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_changes_txid_id", "changes", ["txid", "id"])
    op.create_index("ix_changes_ward_txid_id", "changes", ["ward_code", "txid", "id"])
    op.create_index("ix_changes_province_txid_id", "changes", ["province_code", "txid", "id"])
    op.create_index("ix_changes_record", "changes", ["record_type", "record_id", "txid", "id"])
    for unit in ("ward", "province"):
        moved = sa.text(f"was_{unit}_code IS NOT NULL")
        op.create_index(
            f"ix_changes_was_{unit}_txid_id",
            "changes",
            [f"was_{unit}_code", "txid", "id"],
            postgresql_where=moved,
            sqlite_where=moved,
        )
    _backfill()


def _backfill() -> None:
    """One ``upsert`` change for each live record, so that a sync from zero finds it."""
    bind = op.get_bind()
    metadata = sa.MetaData()
    changes = sa.Table("changes", metadata, autoload_with=bind)
    for table_name, record_type in RECORD_TYPES.items():
        table = sa.Table(table_name, metadata, autoload_with=bind)
        columns = [table.c.id, table.c.version, table.c.updated_at]
        place = [table.c[name] for name in ("province_code", "ward_code") if name in table.c]
        statement = sa.select(*columns, *place).order_by(table.c.id)
        if "deleted_at" in table.c:
            statement = statement.where(table.c.deleted_at.is_(None))
        rows: list[dict[str, Any]] = []
        for row in bind.execute(statement).mappings():
            rows.append(
                {
                    "record_type": record_type,
                    # As the unit of write names it: the UUID's canonical text.
                    "record_id": str(uuid.UUID(str(row["id"]))),
                    "op": "upsert",
                    "version": row["version"],
                    "province_code": row.get("province_code"),
                    "ward_code": row.get("ward_code"),
                    "changed_at": row["updated_at"],
                }
            )
            if len(rows) == BATCH:
                bind.execute(changes.insert(), rows)
                rows = []
        if rows:
            bind.execute(changes.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_changes_was_province_txid_id", table_name="changes")
    op.drop_index("ix_changes_was_ward_txid_id", table_name="changes")
    op.drop_index("ix_changes_record", table_name="changes")
    op.drop_index("ix_changes_province_txid_id", table_name="changes")
    op.drop_index("ix_changes_ward_txid_id", table_name="changes")
    op.drop_index("ix_changes_txid_id", table_name="changes")
    op.drop_table("changes")
