"""The per-request sessions: routes that only read run without a transaction on PostgreSQL."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import (
    connection_slots,
    create_engine,
    create_sessionmaker,
    get_read_session,
    get_session,
)


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


async def test_sessions_queue_for_the_pools_connections_in_order(settings: Settings) -> None:
    engine = create_engine(settings.model_copy(update={"db_pool_size": 1}))
    try:
        slots = connection_slots(engine)
        if engine.dialect.name != "postgresql":
            assert slots is None  # SQLite: BEGIN IMMEDIATE queues writers already
            return
        assert slots is not None
        request: Any = SimpleNamespace(
            app=SimpleNamespace(
                state=SimpleNamespace(
                    sessionmaker=create_sessionmaker(engine), connection_slots=slots
                )
            )
        )
        # A pool of 1 + 1 overflow: two sessions hold both slots.
        first, second = get_read_session(request), get_read_session(request)
        await anext(first)
        await anext(second)
        order: list[str] = []

        async def third_and_fourth(name: str) -> None:
            sessions = get_read_session(request)
            await anext(sessions)
            order.append(name)
            await sessions.aclose()

        waiting = [asyncio.create_task(third_and_fourth(name)) for name in ("third", "fourth")]
        await asyncio.sleep(0.05)
        assert order == []  # no slot free: they wait, the pool has no waiter
        await first.aclose()
        await asyncio.wait_for(asyncio.gather(*waiting), timeout=5)
        assert order == ["third", "fourth"]  # first come, first served
        await second.aclose()
    finally:
        await engine.dispose()
