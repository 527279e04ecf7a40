"""Keeping the change log bounded: what no live cursor needs goes, in small batches.

A cursor that has not come back for the retention window gets 410 (it syncs again
from zero), so a change older than that (and a day more, for the transactions that
were writing as the window's edge passed) is needed only if a sync from zero needs
it: each record's latest change, unless it is a delete. Everything else older
goes: deletes, and changes a later change of the same record supersedes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, or_, select, tuple_
from sqlalchemy.orm import aliased
from sqlmodel.ext.asyncio.session import AsyncSession

from app.data.writes import CHANGE_LOG
from app.db import fetch_rows, utcnow
from app.models.changes import Change

# A day past the window: a change stamped before its transaction committed is still
# inside it for every cursor issued after the commit.
MARGIN = timedelta(days=1)

_LOG: Any = Change.__table__  # type: ignore[attr-defined]
_LATER: Any = aliased(_LOG, name="later")


def cutoff(retention_days: int, now: datetime | None = None) -> datetime:
    """Changes made before this may go."""
    return (now or utcnow()) - timedelta(days=retention_days) - MARGIN


async def prune_batch(session: AsyncSession, before: datetime, batch: int) -> int:
    """Remove up to ``batch`` changes made before ``before`` that no sync needs; how many
    went (fewer than ``batch``: nothing is left to remove)."""
    log, later = _LOG, _LATER
    superseded = exists().where(
        later.c.record_type == log.c.record_type,
        later.c.record_id == log.c.record_id,
        tuple_(later.c.txid, later.c.id) > tuple_(log.c.txid, log.c.id),
    )
    rows = await fetch_rows(
        session,
        select(log.c.id)
        .where(log.c.changed_at < before, or_(log.c.op == "delete", superseded))
        .order_by(log.c.id)
        .limit(batch),
    )
    if not rows:
        return 0
    await CHANGE_LOG.execute(session, delete(log).where(log.c.id.in_([row.id for row in rows])))
    return len(rows)
