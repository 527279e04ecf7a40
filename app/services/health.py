"""Readiness: is the database reachable and migrated to head?"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.migrations import head_revisions


async def readiness_problem(engine: AsyncEngine) -> str | None:
    """Why the service is not ready, or None when it is."""
    try:
        async with engine.connect() as connection:
            result = await connection.execute(text("SELECT version_num FROM alembic_version"))
            current = {row[0] for row in result}
    except (SQLAlchemyError, OSError):
        return "The database is unreachable or has never been migrated."
    if current != head_revisions():
        return "The database is not migrated to the current schema; run `wardsafe migrate`."
    return None
