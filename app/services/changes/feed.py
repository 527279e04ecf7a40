"""The change feed: the changes of the caller's units in commit order, each record's
latest only, behind a signed cursor that knows where the caller is (docs/sync.md).

Positions are ``(txid, id)`` of the change log (app/models/changes.py). A page
takes only changes below the horizon, whose writers have all finished, so a
transaction that began first and commits last is never stepped over. A change
is served only if no later change of the same record is in the caller's units
(that one is served instead, with the same data: the record as it is now).

Without ``since`` the feed starts at the beginning of the log, where every
record that exists has a change (the change-log migration wrote one each, and
pruning keeps each record's latest): the current state of the scope, then
every change after it. Until the reader passes the position where it began
(``zero``), deletes are left out: it never had those records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    bindparam,
    exists,
    func,
    literal_column,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import aliased
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.prepared import Prepared
from app.db import fetch_row, utcnow
from app.models.changes import Change, snapshot_horizon
from app.pagination import PAGE_LIMIT, CursorCodec, limit_bound
from app.security import Principal
from app.services.changes.cursors import Position, Units, in_units, unit_parts
from app.services.changes.sources import SOURCES

_MAX_ID = 2**63 - 1


_LOG: Any = Change.__table__  # type: ignore[attr-defined]
_LATER: Any = aliased(_LOG, name="later")


# PostgreSQL's horizon and the reading transaction's own id (None unless it wrote).
_HORIZON: Prepared[Any] = Prepared(
    select(
        snapshot_horizon().label("horizon"),
        literal_column("pg_current_xact_id_if_assigned()::text::bigint", BigInteger).label("own"),
    )
)


async def _floor(session: AsyncSession) -> tuple[tuple[int, int], int | None]:
    """The position below which every change is final, and the reading transaction's own
    id if it wrote (then its own changes are read too, as a transaction sees its own
    writes: the test suite's; a GET of the feed never writes).

    On PostgreSQL every transaction older than the snapshot's horizon has ended; on
    SQLite (one writer at a time, ids in commit order) every change there now is final."""
    if session.get_bind().dialect.name == "postgresql":
        found: Any = await _HORIZON.row(session, {})
        return (int(found[0]), -1), (int(found[1]) if found[1] is not None else None)
    # (SQLite has no transaction ids: its own writes are below its floor already.)
    last: Any = await fetch_row(session, select(func.max(_LOG.c.id)))
    return (0, int(last[0]) if last[0] is not None else 0), None


async def read_changes(
    session: AsyncSession,
    principal: Principal,
    codec: CursorCodec,
    *,
    since: str | None,
    limit: int,
    types: Sequence[str] | None,
    retention_days: int,
) -> tuple[list[dict[str, Any]], str]:
    """One page of the feed and the cursor to resume from (never None)."""
    units = Units.of(principal)
    retention = timedelta(days=retention_days)
    floor, own = await _floor(session)
    now = utcnow()
    if since is None:
        # What is below the floor now is the scope's current state (SQLite's floor is
        # its last change, PostgreSQL's the first position still to come).
        zero = floor if floor[1] == -1 else (0, floor[1] + 1)
        if own is not None:
            # The reader's own changes so far are part of the state it starts from.
            last: Any = await fetch_row(session, select(func.max(_LOG.c.id)))
            zero = max(zero, (own, int(last[0] or 0) + 1))
        position = Position(-1, -1, zero, now)
    else:
        position = Position.decode(codec, since, units, retention)
    # The types the caller's GETs would show it at all (their scopes), of those asked for.
    readable = {name for name, source in SOURCES.items() if source.readable_by(principal)}
    wanted = sorted(readable & set(types)) if types else sorted(readable)
    # A page whose every change was left out (records a sync from zero never had) is
    # read past, up to a bound, so that an empty answer means "nothing more for now".
    if not wanted:
        # None of the types asked for is the caller's to read: nothing, now or later.
        return [], _after(position, [], limit, floor, now).encode(codec, units)
    read = 0
    while True:
        statement = _page(units.kind, tuple(wanted), own is not None, position.zero is not None)
        rows = await statement.rows(session, _page_values(position, floor, own, units, limit))
        items = await _items(session, principal, units, rows, position.zero)
        position = _after(position, rows, limit, floor, now)
        read += len(rows)
        if items or len(rows) < limit or read >= _SKIPPED_ROWS:
            return items, position.encode(codec, units)


_SKIPPED_ROWS = 5_000


def _big(name: str) -> Any:
    return bindparam(name, type_=BigInteger)


_PAGES: dict[tuple[Any, ...], Prepared[Any]] = {}


def _page(kind: str, wanted: tuple[str, ...], own: bool, zero: bool) -> Prepared[Any]:
    """The statement of a page: the changes after the reader's position below the floor
    (and the reader's own), of the wanted types and the units, each the latest of its
    record there, in commit order. Built once per shape; prepared on the driver."""
    key = (kind, wanted, own, zero)
    found = _PAGES.get(key)
    if found is not None:
        return found
    log, later = _LOG, _LATER
    # The types are the feed's own names (SOURCES), written into the statement.
    types: list[Any] = [literal_column(f"'{name}'") for name in wanted]
    parts = []
    for part in unit_parts(kind, log):
        final = log.c.txid < _big("horizon_txid")
        where = [
            part,
            tuple_(log.c.txid, log.c.id) > tuple_(_big("after_txid"), _big("after_id")),
            or_(final, log.c.txid == _big("own_txid")) if own else final,
            log.c.id <= _big("horizon_id"),
            log.c.record_type.in_(types),
            ~exists().where(
                later.c.record_type == log.c.record_type,
                later.c.record_id == log.c.record_id,
                tuple_(later.c.txid, later.c.id) > tuple_(log.c.txid, log.c.id),
                in_units(kind, later),
            ),
        ]
        if zero:
            # A sync from zero has none of what was deleted before it began.
            before_zero = tuple_(log.c.txid, log.c.id) < tuple_(_big("zero_txid"), _big("zero_id"))
            where.append(or_(log.c.op != "delete", ~before_zero))
        parts.append(
            select(*_page_columns(log))
            .where(*where)
            .order_by(log.c.txid, log.c.id)
            .limit(limit_bound())
            .subquery()
        )
    if len(parts) == 1:
        statement: Any = select(parts[0]).order_by(parts[0].c.txid, parts[0].c.id)
    else:
        merged = union_all(*(select(part) for part in parts)).subquery()
        statement = select(merged).order_by(merged.c.txid, merged.c.id).limit(limit_bound())
    prepared: Prepared[Any] = Prepared(statement)
    _PAGES[key] = prepared
    return prepared


def _page_values(
    position: Position,
    floor: tuple[int, int],
    own: int | None,
    units: Units,
    limit: int,
) -> dict[str, Any]:
    horizon_txid, horizon_id = (floor[0], _MAX_ID) if floor[1] == -1 else (1, floor[1])
    values: dict[str, Any] = {
        **units.values(),
        "after_txid": position.txid,
        "after_id": position.id,
        "horizon_txid": horizon_txid,
        "horizon_id": horizon_id,
        PAGE_LIMIT: limit,
    }
    if own is not None:
        values["own_txid"] = own
    if position.zero is not None:
        values["zero_txid"], values["zero_id"] = position.zero
    return values


def _page_columns(log: Any) -> tuple[Any, ...]:
    return (
        log.c.id,
        log.c.txid,
        log.c.record_type,
        log.c.record_id,
        log.c.op,
        log.c.version,
        log.c.changed_at,
        log.c.province_code,
        log.c.ward_code,
    )


def _after(
    position: Position, rows: Sequence[Any], limit: int, floor: tuple[int, int], now: datetime
) -> Position:
    """Where the reader is once it has ``rows``."""
    if len(rows) == limit:
        last = rows[-1]
        in_snapshot = position.zero is not None and (last.txid, last.id) < position.zero
        # Never back in time: a change stamped long ago but logged late (a record's
        # first change, written when a bulk load was logged) does not age the cursor.
        complete_at = (
            position.complete_at if in_snapshot else max(position.complete_at, last.changed_at)
        )
        after = Position(last.txid, last.id, position.zero, complete_at)
    else:
        # Every change of the units below the floor has been read: resume there (or after
        # the last one read, if it was the reader's own, above the floor).
        reached = (rows[-1].txid, rows[-1].id) if rows else (position.txid, position.id)
        txid, row_id = max(reached, floor)
        after = Position(txid, row_id, position.zero, now)
    if after.zero is not None and (after.txid, after.id) >= after.zero:
        after = Position(after.txid, after.id, None, after.complete_at)
    return after


async def _items(
    session: AsyncSession,
    principal: Principal,
    units: Units,
    rows: Sequence[Any],
    zero: tuple[int, int] | None,
) -> list[dict[str, Any]]:
    # The page's columns by position (``_page_columns``), read once a row.
    changes = [
        (change_id, txid, record_type, uuid.UUID(text_id), text_id, version, at, province, ward)
        for change_id, txid, record_type, text_id, _op, version, at, province, ward in rows
    ]
    ids: dict[str, list[uuid.UUID]] = {}
    for change in changes:
        ids.setdefault(change[2], []).append(change[3])
    current: dict[str, dict[uuid.UUID, Any]] = {}
    for record_type, wanted in ids.items():
        current[record_type] = await SOURCES[record_type].read(session, principal, wanted)
    items = []
    for change_id, txid, record_type, record_id, text_id, version, at, province, ward in changes:
        data = current[record_type].get(record_id)
        if data is not None and not units.contains(data):
            data = None  # it left the caller's units
        if data is None and zero is not None and (txid, change_id) < zero:
            continue  # a sync from zero never had it
        if data is not None:
            version = data.get("version")
            province = data.get("province_code", province)
            ward = data.get("ward_code", ward)
        items.append(
            {
                "type": record_type,
                "id": text_id,
                "op": "delete" if data is None else "upsert",
                "version": version,
                "changed_at": at,
                "province_code": province,
                "ward_code": ward,
                "data": data,
            }
        )
    return items


async def lag_seconds(session: AsyncSession) -> float | None:
    """How long the feed has been held back: the age of the oldest running transaction
    that writes (it holds a transaction id), anywhere in the cluster, since no change
    committed after it began is served until it ends; 0 on SQLite. None when the
    database does not answer (the metrics still are)."""
    if session.get_bind().dialect.name != "postgresql":
        return 0.0
    statement: Any = select(
        text(
            "coalesce(extract(epoch FROM clock_timestamp() - min(xact_start)), 0) "
            "FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
        )
    )
    try:
        # The activity view is read once a transaction; read it as it is now.
        await fetch_row(session, select(func.pg_stat_clear_snapshot()))
        found: Any = await fetch_row(session, statement)
    except (SQLAlchemyError, OSError, TimeoutError):
        return None
    return float(found[0])
