"""Link rows: a record's links to others (the residential groups a self-managed group
covers), written only as part of that record's write.

A link has no audit event of its own: the write of the record it belongs to
names it among its changed fields (``covered_residential_group_ids``), as
the owner's event always did. Its table is guarded like a repository's
(``writes.GUARDED``): a request writes it only through here, inside the
unit of write."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.writes import GUARDED, writing
from app.db import fetch_rows


class Links:
    """The link rows of one table: ``owner`` the column naming the record they belong
    to, ``target`` the column naming what each links it to."""

    def __init__(self, model: type[SQLModel], *, owner: Any, target: Any) -> None:
        self.model = model
        self.table: Any = model.__table__  # type: ignore[attr-defined]
        self.owner: Any = col(owner)
        self.target: Any = col(target)
        GUARDED.add(self.table.name)

    def _row(self, owner_id: uuid.UUID, target_id: uuid.UUID) -> SQLModel:
        return self.model(**{self.owner.key: owner_id, self.target.key: target_id})

    async def add(
        self, session: AsyncSession, owner_id: uuid.UUID, target_ids: Sequence[uuid.UUID]
    ) -> None:
        """Link a new record to each of ``target_ids`` (distinct)."""
        with writing():
            session.add_all(self._row(owner_id, target_id) for target_id in target_ids)
            await session.flush()

    async def replace(
        self, session: AsyncSession, owner_id: uuid.UUID, target_ids: Sequence[uuid.UUID]
    ) -> None:
        """Make ``target_ids`` (distinct) the record's links: the others removed (a hard
        delete: a link is there or not), the missing ones added, the kept ones untouched."""
        with writing():
            await session.exec(
                delete(self.model).where(self.owner == owner_id, self.target.not_in(target_ids))
            )
            linked = await fetch_rows(session, select(self.target).where(self.owner == owner_id))
            kept = {row[0] for row in linked}
            session.add_all(
                self._row(owner_id, target_id) for target_id in target_ids if target_id not in kept
            )
            await session.flush()
