"""The per-request sessions: routes that only read run without a transaction on PostgreSQL."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import create_sessionmaker, get_read_session, get_session


def request_for(engine: AsyncEngine) -> Any:
    state = SimpleNamespace(sessionmaker=create_sessionmaker(engine))
    return SimpleNamespace(app=SimpleNamespace(state=state))


async def open_after_a_select(engine: AsyncEngine, dependency: Any) -> bool:
    """Whether the database holds a transaction open after the session's first SELECT."""
    sessions = dependency(request_for(engine))
    session = await anext(sessions)
    try:
        await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
        raw = await (await session.connection()).get_raw_connection()
        driver: Any = raw.driver_connection
        if engine.dialect.name == "postgresql":
            return bool(driver.is_in_transaction())
        return bool(driver.in_transaction)
    finally:
        await sessions.aclose()


async def test_read_session_sends_no_begin_on_postgresql(engine: AsyncEngine) -> None:
    # SQLite keeps its transaction (it costs no round trip there).
    expected = engine.dialect.name != "postgresql"
    assert await open_after_a_select(engine, get_read_session) is expected


async def test_write_session_keeps_its_transaction(engine: AsyncEngine) -> None:
    assert await open_after_a_select(engine, get_session) is True


async def test_pooled_connection_is_transactional_again_after_a_read(engine: AsyncEngine) -> None:
    await open_after_a_select(engine, get_read_session)
    assert await open_after_a_select(engine, get_session) is True
