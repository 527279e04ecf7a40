"""Pruning the change log: what no sync needs goes, each record's latest upsert stays,
recent changes stay, in batches of the size asked."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.writes import CHANGES, writing
from app.db import utcnow
from app.models.changes import Change
from app.services.changes import pruning

OLD = utcnow() - timedelta(days=200)
RECENT = utcnow() - timedelta(days=2)


async def logged(session: AsyncSession, record_id: str, op: str, changed_at: Any) -> None:
    with writing():
        await CHANGES.insert(
            session,
            CHANGES.values(
                record_type="camera",
                record_id=record_id,
                op=op,
                province_code="22",
                ward_code="06688",
                changed_at=changed_at,
            ),
        )


async def left(session: AsyncSession, record_id: str) -> list[tuple[str, Any]]:
    found = await session.exec(
        select(Change).where(col(Change.record_id) == record_id).order_by(col(Change.id))
    )
    return [(c.op, c.changed_at == OLD) for c in found.all()]


async def test_old_superseded_changes_and_old_deletes_go_the_latest_upsert_stays(
    session: AsyncSession,
) -> None:
    kept, deleted, touched = (str(uuid.uuid4()) for _ in range(3))
    await logged(session, kept, "upsert", OLD)
    await logged(session, kept, "upsert", OLD)  # the latest: a sync from zero needs it
    await logged(session, deleted, "upsert", OLD)
    await logged(session, deleted, "delete", OLD)
    await logged(session, touched, "upsert", OLD)
    await logged(session, touched, "upsert", RECENT)
    before = pruning.cutoff(90)
    removed = 0
    while (went := await pruning.prune_batch(session, before, 1000)) > 0:
        removed += went
    assert await left(session, kept) == [("upsert", True)]
    assert await left(session, deleted) == []
    assert await left(session, touched) == [("upsert", False)]
    assert removed >= 4


async def test_changes_inside_the_window_stay_whatever_they_are(session: AsyncSession) -> None:
    record = str(uuid.uuid4())
    await logged(session, record, "upsert", RECENT)
    await logged(session, record, "delete", RECENT)
    while await pruning.prune_batch(session, pruning.cutoff(90), 1000):
        pass
    assert [op for op, _ in await left(session, record)] == ["upsert", "delete"]


async def test_a_batch_removes_no_more_than_asked(session: AsyncSession) -> None:
    records = [str(uuid.uuid4()) for _ in range(3)]
    for record in records:
        await logged(session, record, "delete", OLD)
    assert await pruning.prune_batch(session, pruning.cutoff(90), 2) == 2
    assert sum([len(await left(session, record)) for record in records]) == 1


def test_the_cutoff_is_the_window_and_a_day() -> None:
    now = utcnow()
    assert pruning.cutoff(90, now) == now - timedelta(days=91)
