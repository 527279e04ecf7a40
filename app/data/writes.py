"""The unit of write: a domain's record inserted, changed or soft-deleted together with
its audit event, in the request's transaction, and nowhere else.

A repository that declares its ``record_type`` writes through here
(``Repository.insert``, ``update``, ``delete``); its derived columns are
computed here on every path (``derive``). What the unit wrote is marked
(``writing``), so the test suite can fail any write to such a table that did
not pass through it (tests/conftest.py). Every audit event comes with its change
row (``changes``), what the sync feed reads, in the same transaction: no domain
can write a record without the feed learning of it (docs/sync.md)."""

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
from app.models.changes import Change
from app.security import Principal

# Columns a domain derives from others (a camera's unit vector from its place):
# given the record and the values being written, the derived values to add.
Derive = Callable[[Any, dict[str, Any]], dict[str, Any]]

_WRITING: ContextVar[bool] = ContextVar("wardsafe_unit_of_write", default=False)

EVENTS = NewRows(AuditEvent)
# The change log's id and transaction id are the database's (commit order).
CHANGES = NewRows(Change, server_side=("id", "txid"))


# Every table with the writer declared for it: a repository's unit of write (and the
# tables of its parts), a ``Bookkeeping``, ``Links``, the audit trail below. A request
# writes a table only through these (the test suite's guard), and every table of the
# schema has one (tests/data/test_writers.py).
GUARDED: set[str] = {AuditEvent.__table__.name, Change.__table__.name}  # type: ignore[attr-defined]


# Every unit of write a repository declared, by record type (the change log's backfill
# walks them: app/data/changelog.py).
UNITS: dict[str, UnitOfWrite] = {}


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
    version: int | None = None,
    was: tuple[str | None, str | None] | None = None,
) -> None:
    """The audit event of one write and its change row, in the session's transaction
    (held for the gate inside ``held_rows``). ``request_id`` None leaves the event
    untied to its request, and ``stamp`` may give the event's id and times (an
    anonymous report's). ``version`` is the record's after the write, when known;
    ``was`` its (province, ward) before it, when the write may have moved it."""
    if request_id is CURRENT_REQUEST:
        request_id = current_request_id()
    changed_at = (stamp or {}).get("created_at") or utcnow()
    before_province, before_ward = was if was is not None else (province_code, ward_code)
    change = CHANGES.values(
        record_type=record_type,
        record_id=str(record_id),
        op="delete" if action == "delete" else "upsert",
        version=version,
        province_code=province_code,
        ward_code=ward_code,
        # The unit it left, if the write moved it (for the readers of that unit).
        was_province_code=before_province if before_province != province_code else None,
        was_ward_code=before_ward if before_ward != ward_code else None,
        changed_at=changed_at,
    )
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
        await CHANGES.insert(session, change)


class UnitOfWrite:
    """The writes of one table's records, each with its audit event."""

    def __init__(
        self,
        record_type: str,
        derive: Derive | None = None,
        *,
        parts: Sequence[type[SQLModel]] = (),
    ) -> None:
        self.record_type = record_type
        self.derive = derive
        # The tables of the rows written as parts of this unit's records (a broadcast's
        # targets, a certification's history), under their record's event.
        self.parts = frozenset(model.__table__.name for model in parts)  # type: ignore[attr-defined]
        GUARDED.update(self.parts)

    table_name: str | None = None

    def _check_parts(self, parts: Sequence[SQLModel]) -> None:
        for part in parts:
            name = part.__table__.name  # type: ignore[attr-defined]
            if name not in self.parts:
                raise TypeError(f"{self.record_type}'s unit declares no parts in {name}")

    def guard(self, table_name: str) -> None:
        """Declare ``table_name`` written only through this unit (its repository does),
        and write it."""
        GUARDED.add(table_name)
        self.table_name = table_name
        UNITS[self.record_type] = self

    async def _audit(
        self,
        session: AsyncSession,
        principal: Principal | None,
        action: str,
        record: Any,
        fields: Iterable[str],
        *,
        version: int | None = None,
        was: tuple[str | None, str | None] | None = None,
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
            version=version,
            was=was,
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
        self._check_parts(parts)
        if self.derive is not None:
            for name, value in self.derive(record, {}).items():
                setattr(record, name, value)
        with writing():
            session.add(record)
            await session.flush()
            if parts:
                session.add_all(parts)
                await session.flush()
        await self._audit(
            session, principal, "create", record, fields, version=getattr(record, "version", None)
        )

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
        self._check_parts(parts)
        if self.derive is not None:
            values = {**values, **self.derive(record, values)}
        was = (getattr(record, "province_code", None), getattr(record, "ward_code", None))
        with writing():
            await compare_and_set(session, record, expected_version, values, where)
            if parts:
                session.add_all(parts)
                await session.flush()
        await self._audit(
            session, principal, action, record, fields, version=expected_version + 1, was=was
        )

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
        await self._audit(session, principal, "delete", record, (), version=expected_version + 1)

    # --- a record changed in steps, and the rows that belong to it ------------------
    # A footage request is one audited record; its items and the events of its chain
    # of custody are rows that belong to it, written as part of the request's write and
    # audited by the request's event (``respond``, ``handover``...), not one event each.

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


class Bookkeeping:
    """The writes of a table that holds no domain's records but the service's own
    bookkeeping (sign-in tokens): its statements run as given, marked as the data
    layer's so the guard covers the table, with no audit event (the trail records what
    people did to records, not the service's housekeeping) and, later, no change row."""

    def __init__(self, model: type[SQLModel]) -> None:
        self.table_name: str = model.__table__.name  # type: ignore[attr-defined]
        GUARDED.add(self.table_name)

    @contextlib.contextmanager
    def changing(self) -> Iterator[None]:
        """Mark the ORM's changes of this table's rows made (and flushed) within as its
        writes (the official units' import)."""
        with writing():
            yield

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


# The change log's own housekeeping (pruning: app/services/changes/pruning.py).
CHANGE_LOG = Bookkeeping(Change)
