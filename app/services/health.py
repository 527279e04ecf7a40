"""Readiness: is the database reachable and migrated to head?"""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.migrations import head_revisions

# A load balancer's probe gets its answer within this, whatever the database
# does (a frozen server would otherwise hold the probe as long as it is frozen).
READINESS_SECONDS = 2.0


async def readiness_problem(engine: AsyncEngine) -> str | None:
    """Why the service is not ready, or None when it is."""
    try:
        async with asyncio.timeout(READINESS_SECONDS):
            async with engine.connect() as connection:
                result = await connection.execute(text("SELECT version_num FROM alembic_version"))
                current = {row[0] for row in result}
    except TimeoutError:
        return f"The database did not answer within {READINESS_SECONDS:g} seconds."
    except (SQLAlchemyError, OSError):
        return "The database is unreachable or has never been migrated."
    if current != head_revisions():
        return "The database is not migrated to the current schema; run `wardsafe migrate`."
    return None
