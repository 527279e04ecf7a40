"""token epochs: users and clients carry the epoch their access tokens must be issued at

An account's epoch goes up when its access tokens must stop working at once
(deactivated, deleted, its role, unit or password changed); each process
reads the epochs that changed lately (app/revocations.py). Existing rows
start at 0, which tokens issued before this revision carry implicitly.

Revision ID: f27915cf9195
Revises: 37d5792e1d86
Create Date: 2026-12-04 18:23:23.326023+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import app.db
from alembic import op

revision: str = "f27915cf9195"
down_revision: str | Sequence[str] | None = "37d5792e1d86"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("clients", "users")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("token_epoch", sa.Integer(), server_default="0", nullable=False)
            )
            batch_op.add_column(
                sa.Column(
                    "token_epoch_changed_at", app.db.UTCDateTime(timezone=True), nullable=True
                )
            )
            batch_op.create_index(
                batch_op.f(f"ix_{table}_token_epoch_changed_at"),
                ["token_epoch_changed_at"],
                unique=False,
            )


def downgrade() -> None:
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_token_epoch_changed_at"))
            batch_op.drop_column("token_epoch_changed_at")
            batch_op.drop_column("token_epoch")
