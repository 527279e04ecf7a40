"""The change feed under concurrent writers, with real commits: a transaction that began
first and commits last is still read, once, by a reader that polled in between."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.writes import audit_event
from app.models.audit import AuditEvent
from app.models.changes import Change
from app.pagination import CursorCodec
from app.security import ROLE_SCOPES, Principal, Role
from app.services.changes.feed import read_changes

# A ward of its own, so that only this test's changes are in the reader's units.
WARD, PROVINCE = "99990", "99"
READER = Principal(
    subject=uuid.uuid4(),
    kind="user",
    role=Role.WARD_OFFICER,
    unit_code=WARD,
    province_code=PROVINCE,
    ward_code=WARD,
    neighbourhood_id=None,
    scopes=ROLE_SCOPES[Role.WARD_OFFICER],
)
CODEC = CursorCodec("concurrency-test-secret-0123456789abcdef")


@pytest.fixture
async def written(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """The record ids the test writes changes for; their rows removed afterwards."""
    ids: list[str] = []
    yield ids
    async with AsyncSession(engine) as session:
        await session.exec(delete(Change).where(Change.record_id.in_(ids)))  # type: ignore[attr-defined]
        await session.exec(delete(AuditEvent).where(AuditEvent.record_id.in_(ids)))  # type: ignore[attr-defined]
        await session.commit()


async def change(session: AsyncSession, ids: list[str]) -> str:
    """One camera change in ``session``'s transaction (not committed)."""
    record_id = str(uuid.uuid4())
    ids.append(record_id)
    await audit_event(
        session, None, "update", "camera", record_id, province_code=PROVINCE, ward_code=WARD
    )
    return record_id


async def poll(engine: AsyncEngine, since: str | None) -> tuple[list[str], str]:
    async with AsyncSession(engine) as session:
        items, cursor = await read_changes(
            session, READER, CODEC, since=since, limit=100, types=None, retention_days=90
        )
    return [item["id"] for item in items], cursor


async def drain(engine: AsyncEngine, since: str | None) -> tuple[list[str], str]:
    seen: list[str] = []
    for _ in range(50):
        ids, since = await poll(engine, since)
        if not ids:
            return seen, since
        seen.extend(ids)
    raise AssertionError("the feed never ran dry")


async def settle(engine: AsyncEngine, since: str, count: int) -> tuple[list[str], str]:
    """Drain until ``count`` changes have come (or 10 s): a transaction elsewhere on the
    cluster (autovacuum's ANALYZE writes statistics) holds the horizon for a moment."""
    seen: list[str] = []
    for _ in range(100):
        ids, since = await drain(engine, since)
        seen.extend(ids)
        if len(seen) >= count:
            break
        await asyncio.sleep(0.1)
    return seen, since


async def test_a_transaction_that_began_first_and_commits_last_is_read_once(
    engine: AsyncEngine, written: list[str]
) -> None:
    _, cursor = await drain(engine, None)
    early: Any = AsyncSession(engine)
    late: Any = AsyncSession(engine)
    try:
        first = await change(early, written)  # began first: the smaller transaction id
        if engine.dialect.name == "sqlite":
            # One writer at a time: the first must commit before the second may write.
            await early.commit()
        second = await change(late, written)
        await late.commit()
        between, cursor = await (
            drain(engine, cursor)
            if engine.dialect.name == "postgresql"
            else settle(engine, cursor, 2)
        )
        if engine.dialect.name == "postgresql":
            # The early transaction still runs: nothing past it is final, so nothing is read
            # (the late change would be read past the early one, which would then be lost).
            assert between == []
            await early.commit()
        after, cursor = await settle(engine, cursor, 2 - len(between))
        seen = between + after
        assert seen == [first, second], "both, in commit order, exactly once"
        again, _ = await drain(engine, cursor)
        assert again == []
    finally:
        await early.close()
        await late.close()


async def test_a_rolled_back_transaction_leaves_no_change(
    engine: AsyncEngine, written: list[str]
) -> None:
    _, cursor = await drain(engine, None)
    async with AsyncSession(engine) as session:
        await change(session, written)
        await session.rollback()
    async with AsyncSession(engine) as session:
        kept = await change(session, written)
        await session.commit()
    seen, cursor = await settle(engine, cursor, 1)
    assert seen == [kept]
    again, _ = await drain(engine, cursor)
    assert again == []
