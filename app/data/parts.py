"""The unit of write of a record changed in steps, and of the rows that belong to it.

A footage request is one audited record; its items (one per camera) and the
events of its chain of custody are rows that belong to it, written as part
of the request's write and audited by the request's event (``respond``,
``handover``...), not one event each. ``UnitOfParts`` is a ``UnitOfWrite``
(its repository's inserts, updates and deletes are as every domain's) with
the writes such a record needs besides:

- ``append``: new rows, no event of their own (the event is their record's);
- ``bump``: an update without a version check (the version still moves on),
  e.g. to take a record's row lock before reading its parts;
- ``move``: a compare-and-set on columns other than ``version`` (an item's
  status), telling whether the row was still as expected;
- ``event``: the audit event alone, of a write made of the writes above.

Every statement is marked as the unit's (``writing``), so the test suite's
guard covers the tables declared with it."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import update
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.writes import UnitOfWrite, writing
from app.db import utcnow
from app.security import Principal


class UnitOfParts(UnitOfWrite):
    """The writes of one table's records or parts, beyond insert, update and delete."""

    table_name: str | None = None

    def guard(self, table_name: str) -> None:
        """Declare ``table_name`` written only through this unit, and write it."""
        super().guard(table_name)
        self.table_name = table_name

    def _table(self) -> Any:
        if self.table_name is None:
            raise TypeError(f"the unit of {self.record_type} is declared by no repository")
        return SQLModel.metadata.tables[self.table_name]

    async def append(self, session: AsyncSession, records: Sequence[SQLModel]) -> None:
        """Write new ``records`` (rows of this table), no event of their own: the event
        of the record they belong to covers them."""
        with writing():
            session.add_all(records)
            await session.flush()

    async def _changed(
        self,
        session: AsyncSession,
        record_id: uuid.UUID | str,
        expected: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> int:
        table = self._table()
        statement = (
            update(table)
            .where(table.c.id == record_id, *(table.c[name] == v for name, v in expected.items()))
            .values(
                **{"updated_at": utcnow(), **values},
                version=table.c.version + 1,
            )
        )
        with writing():
            result: Any = await session.exec(statement)
        return int(result.rowcount)

    async def bump(
        self,
        session: AsyncSession,
        record_id: uuid.UUID | str,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Move the record's version on (and write ``values``) whatever version it is at:
        the row's lock (PostgreSQL) or the write lock (SQLite) is the transaction's."""
        await self._changed(session, record_id, {}, values or {})

    async def move(
        self,
        session: AsyncSession,
        record_id: uuid.UUID | str,
        expected: Mapping[str, Any],
        values: Mapping[str, Any],
    ) -> bool:
        """Write ``values`` (its version moved on) only if each column in ``expected``
        still holds its value (``{"status": "pending"}``); whether it did."""
        return await self._changed(session, record_id, expected, values) == 1

    async def set(
        self, session: AsyncSession, record_id: uuid.UUID | str, values: Mapping[str, Any]
    ) -> None:
        """Write ``values`` as they are (not the version, nor ``updated_at``): a column the
        record keeps about its parts (a chain's head), under the lock its step took."""
        table = self._table()
        with writing():
            await session.exec(update(table).where(table.c.id == record_id).values(**values))

    async def event(
        self,
        session: AsyncSession,
        principal: Principal | None,
        action: str,
        record: Any,
        fields: Iterable[str],
    ) -> None:
        """The ``action`` event of ``record`` (its ``id``, ``province_code``,
        ``ward_code`` read as attributes: a model or a repository's row) alone, for a
        write made of the writes above."""
        await self._audit(session, principal, action, record, fields)
