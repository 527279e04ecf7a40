"""statistics indexes: each unit's keyset index covers the figures; single-column unit indexes go

The province, ward and neighbourhood indexes become (unit, created_at, id)
INCLUDE (status, category, acknowledged_at, deleted_at): the lists' keyset,
the foreign key's index, and on PostgreSQL an index-only scan for
GET /reports/statistics (the neighbourhood's leaves out reports in no
neighbourhood). The single-column indexes on the three units are
their prefixes, so they go. SQLite has no INCLUDE: there the ward index is
rebuilt unchanged.

Revision ID: 37d5792e1d86
Revises: 3c5609a770bb
Create Date: 2026-11-29 10:27:48.034173+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "37d5792e1d86"
down_revision: str | Sequence[str] | None = "3c5609a770bb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNITS = ("province_code", "ward_code", "neighbourhood_id")
INCLUDE = ["status", "category", "acknowledged_at", "deleted_at"]


def upgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_ward_code_created_at_id")
        for unit in UNITS:
            # A report outside any neighbourhood is not looked up by neighbourhood.
            present = sa.text(f"{unit} IS NOT NULL") if unit == "neighbourhood_id" else None
            batch_op.create_index(
                f"ix_reports_{unit}_created_at_id",
                [unit, "created_at", "id"],
                unique=False,
                postgresql_include=INCLUDE,
                postgresql_where=present,
                sqlite_where=present,
            )
        for unit in UNITS:
            batch_op.drop_index(f"ix_reports_{unit}")


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        for unit in UNITS:
            batch_op.create_index(f"ix_reports_{unit}", [unit], unique=False)
        for unit in UNITS:
            batch_op.drop_index(f"ix_reports_{unit}_created_at_id")
        batch_op.create_index(
            "ix_reports_ward_code_created_at_id", ["ward_code", "created_at", "id"], unique=False
        )
