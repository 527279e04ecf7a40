"""Change rows for records written outside the unit of write: the demo seeders' ORM
rows, a database restored or loaded in bulk. A sync from zero reads the log, so each
live record must have a change there."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.writes import CHANGES, UNITS, writing
from app.db import fetch_rows
from app.models.changes import Change

_LOG: Any = Change.__table__  # type: ignore[attr-defined]


async def record_existing(session: AsyncSession) -> int:
    """One ``upsert`` change for each live record of every declared unit of write that has
    none yet; how many were written. Every domain's repository must be declared (import
    ``app.main`` first)."""
    written = 0
    for record_type, unit in sorted(UNITS.items()):
        if unit.table_name is None:
            continue
        table = SQLModel.metadata.tables[unit.table_name]
        logged = {
            row[0]
            for row in await fetch_rows(
                session,
                select(_LOG.c.record_id).where(_LOG.c.record_type == record_type),
            )
        }
        place = [table.c[name] for name in ("province_code", "ward_code") if name in table.c]
        statement = select(table.c.id, table.c.version, table.c.updated_at, *place)
        if "deleted_at" in table.c:
            statement = statement.where(table.c.deleted_at.is_(None))
        for row in await fetch_rows(session, statement.order_by(table.c.id)):
            record_id = str(uuid.UUID(str(row.id)))
            if record_id in logged:
                continue
            values = row._mapping
            with writing():
                await CHANGES.insert(
                    session,
                    CHANGES.values(
                        record_type=record_type,
                        record_id=record_id,
                        op="upsert",
                        version=row.version,
                        province_code=values.get("province_code"),
                        ward_code=values.get("ward_code"),
                        changed_at=row.updated_at,
                    ),
                )
            written += 1
    return written
