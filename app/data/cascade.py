"""A parent's children going with it: every live record of a table that belongs to the
parent soft-deleted in one statement, each with its ``delete`` event, through the unit of
write (a fire team's equipment when the team is deleted).

Unlike ``Repository.delete`` this checks no version: the caller changed the parent at
its version, and the children go whatever theirs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.repository import Repository
from app.data.writes import audit_event, writing
from app.db import fetch_rows, utcnow
from app.security import Principal

# The columns an audit event places a record by, when its table has them.
_PLACE = ("province_code", "ward_code")


async def delete_all(
    repository: Repository[Any],
    session: AsyncSession,
    principal: Principal | None,
    **equal: Any,
) -> list[Any]:
    """Soft-delete every live record of ``repository`` whose columns equal these values
    (each bumped a version), with one ``delete`` event each; the ids of those that went."""
    if repository.writes is None:
        raise TypeError(f"{repository.model.__name__}'s repository declares no writes")
    if not equal:
        raise TypeError("delete_all needs the columns that name the parent")
    table = repository.table
    where = [table.c[name] == value for name, value in equal.items()]
    if "deleted_at" in table.c:
        where.append(table.c.deleted_at.is_(None))
    place = [name for name in _PLACE if name in table.c]
    rows = await fetch_rows(
        session,
        select(table.c.id, *(table.c[name] for name in place)).where(*where).order_by(table.c.id),
    )
    if not rows:
        return []
    now = utcnow()
    with writing():
        await session.exec(
            update(repository.model)
            .where(table.c.id.in_([row.id for row in rows]))
            .values(deleted_at=now, updated_at=now, version=table.c.version + 1)
        )
    for row in rows:
        found = row._mapping
        await audit_event(
            session,
            principal,
            "delete",
            repository.writes.record_type,
            row.id,
            province_code=found.get("province_code"),
            ward_code=found.get("ward_code"),
        )
    return [row.id for row in rows]
