"""The unit of write: a domain's record inserted, changed or soft-deleted together with
its audit event, in the request's transaction, and nowhere else.

A repository that declares its ``record_type`` writes through here
(``Repository.insert``, ``update``, ``delete``); its derived columns are
computed here on every path (``derive``). What the unit wrote is marked
(``writing``), so the test suite can fail any write to such a table that did
not pass through it (tests/conftest.py). The change row the sync feed reads
(issue 18) joins the audit event here."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from sqlalchemy import ColumnElement, Executable, update
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from app.context import current_request_id
from app.data.prepared import NewRows
from app.db import compare_and_set, utcnow
from app.models.audit import AuditEvent
from app.security import Principal

# Columns a domain derives from others (a camera's unit vector from its place):
# given the record and the values being written, the derived values to add.
Derive = Callable[[Any, dict[str, Any]], dict[str, Any]]

_WRITING: ContextVar[bool] = ContextVar("wardsafe_unit_of_write", default=False)

EVENTS = NewRows(AuditEvent)


# The tables whose records are written only through a unit of write (each
# declared with a repository's ``writes``): what the test suite's guard checks.
GUARDED: set[str] = set()


def is_writing() -> bool:
    """Whether the statement running now was issued by the unit of write."""
    return _WRITING.get()


@contextlib.contextmanager
def writing() -> Iterator[None]:
    """Mark the statements issued within as the unit of write's."""
    token = _WRITING.set(True)
    try:
        yield
    finally:
        _WRITING.reset(token)


def event_fields(
    principal: Principal | None,
    action: str,
    record_type: str,
    record_id: uuid.UUID | str,
    province_code: str | None,
    ward_code: str | None,
    changed_fields: Iterable[str],
    request_id: str | None,
) -> dict[str, Any]:
    """An audit event's columns: who (never what values: the fields by name only),
    which record, where, in which request."""
    return {
        "actor_id": principal.subject if principal else None,
        "actor_kind": principal.kind if principal else "anonymous",
        "actor_role": principal.role.value if principal else None,
        "action": action,
        "record_type": record_type,
        "record_id": str(record_id),
        "province_code": province_code,
        "ward_code": ward_code,
        "request_id": request_id,
        "changed_fields": sorted(set(changed_fields)),
    }


# ``audit_event``'s default request id: the current request's.
CURRENT_REQUEST: Any = object()


async def audit_event(
    session: AsyncSession,
    principal: Principal | None,
    action: str,
    record_type: str,
    record_id: uuid.UUID | str,
    *,
    province_code: str | None,
    ward_code: str | None,
    changed_fields: Iterable[str] = (),
    request_id: str | None = CURRENT_REQUEST,
    stamp: Mapping[str, Any] | None = None,
) -> None:
    """The audit event of one write, as a row in the session's transaction (held for
    the gate inside ``held_rows``). ``request_id`` None leaves the event untied to its
    request, and ``stamp`` may give the event's id and times (an anonymous report's)."""
    if request_id is CURRENT_REQUEST:
        request_id = current_request_id()
    row = EVENTS.values(
        **(stamp or {}),
        **event_fields(
            principal,
            action,
            record_type,
            record_id,
            province_code,
            ward_code,
            changed_fields,
            request_id,
        ),
    )
    with writing():
        await EVENTS.insert(session, row)


class UnitOfWrite:
    """The writes of one table's records, each with its audit event."""

    def __init__(self, record_type: str, derive: Derive | None = None) -> None:
        self.record_type = record_type
        self.derive = derive

    def guard(self, table_name: str) -> None:
        """Declare ``table_name`` written only through this unit (its repository does)."""
        GUARDED.add(table_name)

    async def _audit(
        self,
        session: AsyncSession,
        principal: Principal | None,
        action: str,
        record: Any,
        fields: Iterable[str],
    ) -> None:
        await audit_event(
            session,
            principal,
            action,
            self.record_type,
            record.id,
            province_code=getattr(record, "province_code", None),
            ward_code=getattr(record, "ward_code", None),
            changed_fields=fields,
        )

    async def insert(
        self,
        session: AsyncSession,
        principal: Principal | None,
        record: SQLModel,
        *,
        fields: Iterable[str],
        parts: Sequence[SQLModel] = (),
    ) -> None:
        """Write a new ``record`` (its derived columns filled) and its ``create`` event;
        ``parts``, rows of other tables that belong to it (a broadcast's targets), are
        written after it, under its one event."""
        if self.derive is not None:
            for name, value in self.derive(record, {}).items():
                setattr(record, name, value)
        with writing():
            session.add(record)
            await session.flush()
            if parts:
                session.add_all(parts)
                await session.flush()
        await self._audit(session, principal, "create", record, fields)

    async def update(
        self,
        session: AsyncSession,
        principal: Principal | None,
        record: Any,
        expected_version: int,
        values: dict[str, Any],
        *,
        fields: Iterable[str],
        action: str = "update",
        where: ColumnElement[bool] | None = None,
        parts: Sequence[SQLModel] = (),
    ) -> None:
        """Write ``values`` to ``record`` if it is still at ``expected_version`` (and meets
        ``where``, when given; 412 otherwise), its derived columns with them, ``parts``
        (rows that belong to it: a step of its history) after it, and the ``action``
        event."""
        if self.derive is not None:
            values = {**values, **self.derive(record, values)}
        with writing():
            await compare_and_set(session, record, expected_version, values, where)
            if parts:
                session.add_all(parts)
                await session.flush()
        await self._audit(session, principal, action, record, fields)

    async def delete(
        self,
        session: AsyncSession,
        principal: Principal | None,
        record: Any,
        expected_version: int,
    ) -> None:
        """Soft-delete ``record`` (its ``deleted_at`` set) if it is still at
        ``expected_version``, and its ``delete`` event."""
        with writing():
            await compare_and_set(session, record, expected_version, {"deleted_at": utcnow()})
        await self._audit(session, principal, "delete", record, ())

    async def update_where(
        self, session: AsyncSession, model: type[SQLModel], where: Any, values: dict[str, Any]
    ) -> int:
        """Change every record of ``model`` that ``where`` selects, each one's version
        moving on, with no event of its own and no version check: a consequence of
        another write, which that write's own event records (a criteria set frozen when
        a certification first uses it). How many changed."""
        table: Any = model.__table__  # type: ignore[attr-defined]
        with writing():
            result = await session.exec(
                update(model)
                .where(where)
                .values(**values, version=table.c.version + 1, updated_at=utcnow())
            )
        changed: int = result.rowcount
        return changed


class Bookkeeping:
    """The writes of a table that holds no domain's records but the service's own
    bookkeeping (sign-in tokens): its statements run as given, marked as the data
    layer's so the guard covers the table, with no audit event (the trail records what
    people did to records, not the service's housekeeping) and, later, no change row."""

    def __init__(self, model: type[SQLModel]) -> None:
        self.table_name: str = model.__table__.name  # type: ignore[attr-defined]
        GUARDED.add(self.table_name)

    async def add(self, session: AsyncSession, row: SQLModel) -> None:
        """Insert ``row`` (flushed, so its defaults are filled)."""
        with writing():
            session.add(row)
            await session.flush()

    async def execute(self, session: AsyncSession, statement: Executable) -> Any:
        """Run an INSERT, UPDATE or DELETE of this table; its result (``rowcount``)."""
        table = getattr(statement, "table", None)
        if getattr(table, "name", None) != self.table_name:
            raise TypeError(f"{self.table_name}'s bookkeeping runs only its own statements")
        with writing():
            return await session.exec(statement)  # type: ignore[call-overload]
